//! Checking ЕСИА's access token: signature against the configured key set, issuer,
//! `client_id` and expiry (with leeway, by the injected clock), then the subject's oid.

use std::path::PathBuf;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use time::OffsetDateTime;

use super::EsiaError;

/// Public keys that may sign ЕСИА tokens (RS256 and ES256; a key rotation means two).
pub struct KeySet {
    keys: Vec<(Algorithm, DecodingKey)>,
}

impl KeySet {
    /// Reads PEM public keys (RSA or EC) from files.
    pub fn from_files(files: &[PathBuf]) -> Result<KeySet, EsiaError> {
        let mut keys = Vec::new();
        for file in files {
            let pem = std::fs::read(file).map_err(|e| {
                EsiaError::NotConfigured(format!("esia.token_key_files: {}: {e}", file.display()))
            })?;
            keys.push(Self::parse(&pem).ok_or_else(|| {
                EsiaError::NotConfigured(format!(
                    "esia.token_key_files: {} is not an RSA or EC public key in PEM",
                    file.display()
                ))
            })?);
        }
        Ok(KeySet { keys })
    }

    fn parse(pem: &[u8]) -> Option<(Algorithm, DecodingKey)> {
        if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
            return Some((Algorithm::RS256, key));
        }
        DecodingKey::from_ec_pem(pem)
            .ok()
            .map(|key| (Algorithm::ES256, key))
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// What the checks expect.
pub struct Expect<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub leeway: time::Duration,
    pub now: OffsetDateTime,
}

fn number(claims: &Value, name: &str) -> Option<i64> {
    claims.get(name).and_then(|v| {
        v.as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    })
}

/// Checks `token` and returns the person's oid (`urn:esia:sbj_id`).
pub fn subject(token: &str, keys: &KeySet, expect: &Expect<'_>) -> Result<String, EsiaError> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| EsiaError::Token(e.to_string()))?;
    let mut claims = None;
    let mut last_error = String::from("no key for the token's algorithm");
    for (alg, key) in keys.keys.iter().filter(|(alg, _)| *alg == header.alg) {
        let mut validation = Validation::new(*alg);
        // Times are checked below against the injected clock.
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        match jsonwebtoken::decode::<Value>(token, key, &validation) {
            Ok(data) => {
                claims = Some(data.claims);
                break;
            }
            Err(e) => last_error = e.to_string(),
        }
    }
    let claims = claims.ok_or(EsiaError::Token(last_error))?;

    let issuer = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    if issuer.trim_end_matches('/') != expect.issuer.trim_end_matches('/') {
        return Err(EsiaError::Token(format!("issuer {issuer:?}")));
    }
    let client = claims
        .get("client_id")
        .and_then(Value::as_str)
        .unwrap_or("");
    if client != expect.client_id {
        return Err(EsiaError::Token("client_id is not ours".into()));
    }
    let now = expect.now.unix_timestamp();
    let leeway = expect.leeway.whole_seconds();
    let exp = number(&claims, "exp").ok_or(EsiaError::Token("no exp".into()))?;
    if exp + leeway < now {
        return Err(EsiaError::Token("expired".into()));
    }
    if let Some(nbf) = number(&claims, "nbf") {
        if nbf - leeway > now {
            return Err(EsiaError::Token("not yet valid".into()));
        }
    }
    let oid = match claims.get("urn:esia:sbj_id") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err(EsiaError::Token("no urn:esia:sbj_id".into())),
    };
    Ok(oid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;
    use std::process::Command;

    fn rsa_pair(dir: &std::path::Path, name: &str) -> (Vec<u8>, PathBuf) {
        let private = dir.join(format!("{name}.key"));
        let public = dir.join(format!("{name}.pub"));
        let ok = Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
            ])
            .arg(&private)
            // genpkey draws its progress dots on stderr.
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap()
            .success()
            && Command::new("openssl")
                .args(["pkey", "-pubout", "-in"])
                .arg(&private)
                .arg("-out")
                .arg(&public)
                .status()
                .unwrap()
                .success();
        assert!(ok);
        (std::fs::read(private).unwrap(), public)
    }

    fn sign(private: &[u8], claims: &Value) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::RS256),
            claims,
            &EncodingKey::from_rsa_pem(private).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn tokens_are_checked_for_key_issuer_client_and_time() {
        let dir = tempfile::tempdir().unwrap();
        let (ours, ours_pub) = rsa_pair(dir.path(), "ours");
        let (other, _) = rsa_pair(dir.path(), "other");
        let keys = KeySet::from_files(&[ours_pub]).unwrap();
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let expect = Expect {
            issuer: "http://esia.gosuslugi.ru/",
            client_id: "GOSDOM",
            leeway: time::Duration::seconds(60),
            now,
        };
        let claims = |exp: i64, iss: &str, client: &str| json!({"iss": iss, "client_id": client, "exp": exp, "urn:esia:sbj_id": 1000000001_i64});
        let t = 1_800_000_000;
        let good = sign(
            &ours,
            &claims(t + 3600, "http://esia.gosuslugi.ru/", "GOSDOM"),
        );
        assert_eq!(subject(&good, &keys, &expect).unwrap(), "1000000001");

        let within_leeway = sign(
            &ours,
            &claims(t - 30, "http://esia.gosuslugi.ru/", "GOSDOM"),
        );
        assert!(subject(&within_leeway, &keys, &expect).is_ok());

        let refused = [
            sign(
                &ours,
                &claims(t - 120, "http://esia.gosuslugi.ru/", "GOSDOM"),
            ),
            sign(&ours, &claims(t + 3600, "http://evil.example/", "GOSDOM")),
            sign(
                &ours,
                &claims(t + 3600, "http://esia.gosuslugi.ru/", "OTHER"),
            ),
            sign(
                &other,
                &claims(t + 3600, "http://esia.gosuslugi.ru/", "GOSDOM"),
            ),
            sign(
                &ours,
                &json!({"iss": "http://esia.gosuslugi.ru/", "client_id": "GOSDOM", "exp": t + 3600}),
            ),
            jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &claims(t + 3600, "http://esia.gosuslugi.ru/", "GOSDOM"),
                &EncodingKey::from_secret(b"guess"),
            )
            .unwrap(),
        ];
        for (i, token) in refused.iter().enumerate() {
            let err = subject(token, &keys, &expect).unwrap_err();
            assert_eq!(err.code(), "esia_bad_answer", "case {i}: {err}");
        }
    }
}
