//! The real ЕСИА client (methodology v3.x): `GET /aas/oauth2/v2/ac`, `POST /aas/oauth2/v3/te`,
//! `GET /rs/prns/{oid}`.
//!
//! `client_secret` is the GOST R 34.10-2012 signature (raw, base64url) of
//! `client_id + scope + scope_org + timestamp + state + redirect_uri` (+ `code` for the token
//! request); `client_certificate_hash` is the GOST R 34.11-2012-256 hash of the certificate
//! (DER), hex; `timestamp` is `yyyy.MM.dd HH:mm:ss +0300`.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use serde::Deserialize;
use serde_json::Value;
use streebog::{Digest, Streebog256};
use time::OffsetDateTime;

use super::jwt::{self, KeySet};
use super::{error_from, AuthRequest, Esia, EsiaAddress, EsiaError, EsiaPerson};
use crate::config::Esia as EsiaConfig;
use crate::connectors::signer::Signer;

/// Scope of organisation data; empty for people, yet part of the signed string.
const SCOPE_ORG: &str = "";

pub struct EsiaClient {
    base_url: String,
    client_id: String,
    scope: String,
    issuer: String,
    leeway: time::Duration,
    keys: KeySet,
    signer: Arc<dyn Signer>,
    agent: ureq::Agent,
}

/// `yyyy.MM.dd HH:mm:ss +0300`: Moscow time, as ЕСИА wants it.
pub fn timestamp(now: OffsetDateTime) -> String {
    let msk = now.to_offset(time::macros::offset!(+3));
    format!(
        "{:04}.{:02}.{:02} {:02}:{:02}:{:02} +0300",
        msk.year(),
        u8::from(msk.month()),
        msk.day(),
        msk.hour(),
        msk.minute(),
        msk.second()
    )
}

/// GOST R 34.11-2012-256 of the certificate, hex.
pub fn certificate_hash(der: &[u8]) -> String {
    hex::encode_upper(Streebog256::digest(der))
}

/// The issuer ЕСИА writes in its tokens: `http://<host>/` of the base address.
fn default_issuer(base_url: &str) -> String {
    let host = base_url
        .split("://")
        .nth(1)
        .unwrap_or(base_url)
        .split('/')
        .next()
        .unwrap_or("");
    format!("http://{host}/")
}

impl EsiaClient {
    pub fn new(config: &EsiaConfig, signer: Arc<dyn Signer>) -> Result<EsiaClient, EsiaError> {
        if config.client_id.is_empty() {
            return Err(EsiaError::NotConfigured("set esia.client_id".into()));
        }
        let keys = KeySet::from_files(&config.token_key_files)?;
        if keys.is_empty() {
            return Err(EsiaError::NotConfigured(
                "set esia.token_key_files to ЕСИА's token signing keys".into(),
            ));
        }
        let base_url = config.base_url.trim_end_matches('/').to_string();
        let issuer = if config.token_issuer.is_empty() {
            default_issuer(&base_url)
        } else {
            config.token_issuer.clone()
        };
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(20)))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        Ok(EsiaClient {
            base_url,
            client_id: config.client_id.clone(),
            scope: config.scopes.clone(),
            issuer,
            leeway: time::Duration::seconds(config.leeway_seconds.min(3600) as i64),
            keys,
            signer,
            agent,
        })
    }

    /// base64url of the signature of the concatenated parts.
    fn client_secret(&self, parts: &[&str]) -> Result<String, EsiaError> {
        let signature = self.signer.sign(parts.concat().as_bytes())?;
        Ok(base64::engine::general_purpose::URL_SAFE.encode(signature))
    }

    fn certificate_hash(&self) -> Result<String, EsiaError> {
        Ok(certificate_hash(&self.signer.certificate_der()?))
    }

    fn token(
        &self,
        code: &str,
        request: &AuthRequest,
        now: OffsetDateTime,
    ) -> Result<String, EsiaError> {
        let state = uuid::Uuid::new_v4().to_string();
        let stamp = timestamp(now);
        let secret = self.client_secret(&[
            &self.client_id,
            &self.scope,
            SCOPE_ORG,
            &stamp,
            &state,
            &request.redirect_uri,
            code,
        ])?;
        let hash = self.certificate_hash()?;
        let form = [
            ("client_id", self.client_id.as_str()),
            ("code", code),
            ("grant_type", "authorization_code"),
            ("client_secret", &secret),
            ("state", &state),
            ("redirect_uri", &request.redirect_uri),
            ("scope", &self.scope),
            ("timestamp", &stamp),
            ("token_type", "Bearer"),
            ("client_certificate_hash", &hash),
        ];
        let response = self
            .agent
            .post(&format!("{}/aas/oauth2/v3/te", self.base_url))
            .send_form(form)
            .map_err(|e| EsiaError::Unavailable(e.to_string()))?;
        let status = response.status().as_u16();
        let body: Value = response
            .into_body()
            .read_json()
            .map_err(|e| EsiaError::Protocol(format!("token answer {status}: {e}")))?;
        if status != 200 || body.get("error").is_some() {
            let text = |k: &str| {
                body.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            if status >= 500 && text("error_description").is_empty() {
                return Err(EsiaError::Unavailable(format!(
                    "token endpoint answered {status}"
                )));
            }
            return Err(error_from(&text("error"), &text("error_description")));
        }
        if body.get("state").and_then(Value::as_str) != Some(state.as_str()) {
            return Err(EsiaError::Protocol(
                "the token answer has another state".into(),
            ));
        }
        body.get("access_token")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| EsiaError::Protocol("no access_token".into()))
    }

    fn get_json(&self, path: &str, token: &str) -> Result<Value, EsiaError> {
        let response = self
            .agent
            .get(&format!("{}{path}", self.base_url))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .map_err(|e| EsiaError::Unavailable(e.to_string()))?;
        let status = response.status().as_u16();
        if status >= 500 {
            return Err(EsiaError::Unavailable(format!("{path} answered {status}")));
        }
        let body: Value = response
            .into_body()
            .read_json()
            .map_err(|e| EsiaError::Protocol(format!("{status}: {e}")))?;
        if status != 200 {
            let text = |k: &str| {
                body.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            return Err(error_from(&text("error"), &text("error_description")));
        }
        Ok(body)
    }

    /// The person's registration or residence address, if the scope allows reading it.
    fn address(&self, oid: &str, token: &str) -> Option<EsiaAddress> {
        let body = self
            .get_json(&format!("/rs/prns/{oid}/addrs?embed=(elements)"), token)
            .ok()?;
        let elements = body.get("elements")?.as_array()?;
        let pick = |kind: &str| {
            elements
                .iter()
                .find(|e| e.get("type").and_then(Value::as_str) == Some(kind))
        };
        let found = pick("PLV").or_else(|| pick("PRG"))?;
        let text = |k: &str| found.get(k).and_then(Value::as_str).map(str::to_string);
        Some(EsiaAddress {
            house_guid: text("houseGuid").or_else(|| text("fiasCode")),
            flat: text("flat"),
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Prns {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    middle_name: String,
    birth_date: Option<String>,
    snils: Option<String>,
    #[serde(default)]
    trusted: bool,
}

/// `dd.MM.yyyy` → `yyyy-MM-dd`.
fn iso_date(text: &str) -> Option<String> {
    let mut parts = text.trim().split('.');
    let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
    if d.len() != 2 || m.len() != 2 || y.len() != 4 {
        return None;
    }
    Some(format!("{y}-{m}-{d}"))
}

impl Esia for EsiaClient {
    fn authorization_url(
        &self,
        request: &AuthRequest,
        now: OffsetDateTime,
    ) -> Result<String, EsiaError> {
        let stamp = timestamp(now);
        let secret = self.client_secret(&[
            &self.client_id,
            &self.scope,
            SCOPE_ORG,
            &stamp,
            &request.state,
            &request.redirect_uri,
        ])?;
        let hash = self.certificate_hash()?;
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &self.client_id)
            .append_pair("client_secret", &secret)
            .append_pair("redirect_uri", &request.redirect_uri)
            .append_pair("scope", &self.scope)
            .append_pair("response_type", "code")
            .append_pair("state", &request.state)
            .append_pair("timestamp", &stamp)
            .append_pair("access_type", "online")
            .append_pair("client_certificate_hash", &hash)
            .finish();
        Ok(format!("{}/aas/oauth2/v2/ac?{query}", self.base_url))
    }

    fn sign_in(
        &self,
        code: &str,
        request: &AuthRequest,
        now: OffsetDateTime,
    ) -> Result<EsiaPerson, EsiaError> {
        let token = self.token(code, request, now)?;
        let oid = jwt::subject(
            &token,
            &self.keys,
            &jwt::Expect {
                issuer: &self.issuer,
                client_id: &self.client_id,
                leeway: self.leeway,
                now,
            },
        )?;
        if !oid.chars().all(|c| c.is_ascii_digit()) {
            return Err(EsiaError::Token("oid is not a number".into()));
        }
        let prns: Prns = serde_json::from_value(self.get_json(&format!("/rs/prns/{oid}"), &token)?)
            .map_err(|e| EsiaError::Protocol(format!("person: {e}")))?;
        if !prns.trusted {
            return Err(EsiaError::NotTrusted);
        }
        let address = if self.scope.split_whitespace().any(|s| s == "addresses") {
            self.address(&oid, &token)
        } else {
            None
        };
        Ok(EsiaPerson {
            oid,
            trusted: prns.trusted,
            last_name: prns.last_name,
            first_name: prns.first_name,
            middle_name: prns.middle_name,
            birth_date: prns.birth_date.as_deref().and_then(iso_date),
            snils: prns.snils,
            address,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_is_moscow_time() {
        let at = OffsetDateTime::from_unix_timestamp(1_733_485_316).unwrap();
        assert_eq!(timestamp(at), "2024.12.06 14:41:56 +0300");
    }

    #[test]
    fn streebog_matches_the_standard_vector() {
        // GOST R 34.11-2012, example 1 (M1), 256-bit: the digest of the 63-byte message.
        let m1 = b"012345678901234567890123456789012345678901234567890123456789012";
        assert_eq!(
            hex::encode(Streebog256::digest(m1)),
            "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500"
        );
    }

    #[test]
    fn dates_and_issuer() {
        assert_eq!(iso_date("12.04.1985").as_deref(), Some("1985-04-12"));
        assert_eq!(iso_date("1985-04-12"), None);
        assert_eq!(
            default_issuer("https://esia.gosuslugi.ru"),
            "http://esia.gosuslugi.ru/"
        );
    }
}
