//! Mini-app launch data (`window.WebApp.initData`): parsing, checking and, for the
//! sandbox simulator, signing, exactly as MAX specifies.
//!
//! The check string is every `key=value` pair but `hash`, values decoded once, sorted by
//! key and joined with `\n`; the key is `HMAC_SHA256("WebAppData", bot_token)`, and `hash`
//! is the hex HMAC of the check string under that key.

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use time::OffsetDateTime;

type HmacSha256 = Hmac<Sha256>;

/// Why launch data was refused. `code()` is the stable API error code.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum LaunchError {
    #[error("launch data is empty or malformed")]
    Malformed,
    #[error("launch data repeats a key")]
    DuplicateKey,
    #[error("launch data has no hash")]
    MissingHash,
    #[error("launch data signature does not match")]
    BadSignature,
    #[error("launch data is too old")]
    Stale,
    #[error("launch data is dated in the future")]
    Future,
    #[error("launch data names no user")]
    NoUser,
}

impl LaunchError {
    pub fn code(&self) -> &'static str {
        match self {
            LaunchError::Malformed | LaunchError::NoUser => "init_data_malformed",
            LaunchError::DuplicateKey => "init_data_duplicate_key",
            LaunchError::MissingHash | LaunchError::BadSignature => "init_data_bad_signature",
            LaunchError::Stale => "init_data_expired",
            LaunchError::Future => "init_data_from_future",
        }
    }
}

/// The MAX user who opened the mini-app.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct LaunchUser {
    pub id: i64,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub language_code: Option<String>,
}

/// Checked launch data.
#[derive(Clone, Debug)]
pub struct Launch {
    pub user: LaunchUser,
    pub auth_date: OffsetDateTime,
    /// `start_param`: the deep-link payload (`startapp=readings`), if any.
    pub start_param: Option<String>,
    pub query_id: Option<String>,
}

fn secret_key(bot_token: &str) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(b"WebAppData")
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(bot_token.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn check_mac(bot_token: &str, check_string: &str) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(&secret_key(bot_token))
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(check_string.as_bytes());
    mac
}

/// Splits and decodes the pairs; every key must appear once.
fn pairs(raw: &str) -> Result<BTreeMap<String, String>, LaunchError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(LaunchError::Malformed);
    }
    let mut map = BTreeMap::new();
    for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
        if key.is_empty() {
            return Err(LaunchError::Malformed);
        }
        if map.insert(key.into_owned(), value.into_owned()).is_some() {
            return Err(LaunchError::DuplicateKey);
        }
    }
    Ok(map)
}

fn check_string(map: &BTreeMap<String, String>) -> String {
    map.iter()
        .filter(|(k, _)| k.as_str() != "hash")
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `auth_date` in seconds, or in milliseconds as older clients sent it.
fn auth_date(value: &str) -> Result<OffsetDateTime, LaunchError> {
    let n: i64 = value.trim().parse().map_err(|_| LaunchError::Malformed)?;
    let seconds = if n > 100_000_000_000 { n / 1000 } else { n };
    OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| LaunchError::Malformed)
}

/// Checks launch data signed with `bot_token`, fresh within `max_age` of `now`.
pub fn verify(
    raw: &str,
    bot_token: &str,
    now: OffsetDateTime,
    max_age: time::Duration,
) -> Result<Launch, LaunchError> {
    let map = pairs(raw)?;
    let hash = map.get("hash").ok_or(LaunchError::MissingHash)?;
    let expected = hex::decode(hash.trim()).map_err(|_| LaunchError::BadSignature)?;
    check_mac(bot_token, &check_string(&map))
        .verify_slice(&expected)
        .map_err(|_| LaunchError::BadSignature)?;

    let date = auth_date(map.get("auth_date").ok_or(LaunchError::Malformed)?)?;
    // A minute of clock skew between MAX and this server is tolerated.
    if date > now + time::Duration::minutes(1) {
        return Err(LaunchError::Future);
    }
    if now - date > max_age {
        return Err(LaunchError::Stale);
    }
    let user: LaunchUser = map
        .get("user")
        .and_then(|u| serde_json::from_str(u).ok())
        .ok_or(LaunchError::NoUser)?;
    Ok(Launch {
        user,
        auth_date: date,
        start_param: map.get("start_param").cloned(),
        query_id: map.get("query_id").cloned(),
    })
}

/// Signs `pairs` as MAX would and returns the URL-encoded launch data with its `hash`.
/// Used by the sandbox simulator and tests.
pub fn sign(pairs_in: &[(&str, String)], bot_token: &str) -> String {
    let map: BTreeMap<String, String> = pairs_in
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect();
    let hash = hex::encode(
        check_mac(bot_token, &check_string(&map))
            .finalize()
            .into_bytes(),
    );
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &map {
        out.append_pair(k, v);
    }
    out.append_pair("hash", &hash);
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "2Uk3Z_8zAlwhprgOcK3r1B1fDk8uhi2MDv47EvXkcu8";
    const HASH: &str = "f982406d90b118d8e90e26b33c5cec0cadd3fc30354f2955c75ff8e3d14d130d";
    const USER: &str = r#"{"language_code":"ru","first_name":"Вася","last_name":"","photo_url":null,"username":null,"id":400}"#;

    fn raw() -> String {
        format!(
            "auth_date=1733485316394&query_id=158b120b-7aa3-4a0f-a198-52ace06d0658&user={USER}&hash={HASH}"
        )
    }

    fn at_signing() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_733_485_316).unwrap() + time::Duration::minutes(5)
    }

    #[test]
    fn the_published_vector_passes() {
        let launch = verify(&raw(), TOKEN, at_signing(), time::Duration::hours(1)).unwrap();
        assert_eq!(launch.user.id, 400);
        assert_eq!(launch.user.first_name.as_deref(), Some("Вася"));
        assert_eq!(launch.auth_date.unix_timestamp(), 1_733_485_316);
    }

    #[test]
    fn the_fully_url_encoded_vector_passes() {
        let encoded: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("auth_date", "1733485316394")
            .append_pair("query_id", "158b120b-7aa3-4a0f-a198-52ace06d0658")
            .append_pair("user", USER)
            .append_pair("hash", HASH)
            .finish();
        assert!(encoded.contains("%D0%92"), "{encoded}");
        verify(&encoded, TOKEN, at_signing(), time::Duration::hours(1)).unwrap();
    }

    #[test]
    fn signing_reproduces_the_vector() {
        let signed = sign(
            &[
                ("auth_date", "1733485316394".into()),
                ("query_id", "158b120b-7aa3-4a0f-a198-52ace06d0658".into()),
                ("user", USER.into()),
            ],
            TOKEN,
        );
        assert!(signed.ends_with(&format!("hash={HASH}")), "{signed}");
    }

    #[test]
    fn any_changed_character_fails() {
        let good = raw();
        let hash_at = good.find("&hash=").unwrap();
        for i in 0..hash_at {
            let mut bytes = good.clone().into_bytes();
            if !bytes[i].is_ascii_alphanumeric() {
                continue;
            }
            bytes[i] = if bytes[i] == b'1' { b'2' } else { b'1' };
            let tampered = String::from_utf8(bytes).unwrap();
            let result = verify(&tampered, TOKEN, at_signing(), time::Duration::hours(1));
            assert!(result.is_err(), "change at {i} passed: {tampered}");
        }
        let wrong_token = verify(&good, "other", at_signing(), time::Duration::hours(1));
        assert_eq!(wrong_token.unwrap_err(), LaunchError::BadSignature);
    }

    #[test]
    fn duplicated_stale_future_and_unsigned_data_are_refused() {
        let hour = time::Duration::hours(1);
        let dup = format!("{}&auth_date=1733485316394", raw());
        assert_eq!(
            verify(&dup, TOKEN, at_signing(), hour).unwrap_err(),
            LaunchError::DuplicateKey
        );
        let late = at_signing() + time::Duration::hours(2);
        assert_eq!(
            verify(&raw(), TOKEN, late, hour).unwrap_err(),
            LaunchError::Stale
        );
        let early = at_signing() - time::Duration::hours(1);
        assert_eq!(
            verify(&raw(), TOKEN, early, hour).unwrap_err(),
            LaunchError::Future
        );
        let unsigned = raw().replace(&format!("&hash={HASH}"), "");
        assert_eq!(
            verify(&unsigned, TOKEN, at_signing(), hour).unwrap_err(),
            LaunchError::MissingHash
        );
        assert_eq!(
            verify("", TOKEN, at_signing(), hour).unwrap_err(),
            LaunchError::Malformed
        );
    }

    #[test]
    fn seconds_and_milliseconds_are_both_understood() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        for date in ["1800000000", "1800000000000"] {
            let signed = sign(
                &[("auth_date", date.into()), ("user", r#"{"id":7}"#.into())],
                "t",
            );
            let launch = verify(&signed, "t", now, time::Duration::hours(1)).unwrap();
            assert_eq!(launch.auth_date, now);
        }
    }
}
