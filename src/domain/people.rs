//! People and the keys that match them to the owners register. СНИЛС is never stored:
//! only a keyed hash of its digits, so a leaked database does not reveal it.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::Secret;

type HmacSha256 = Hmac<Sha256>;

fn keyed(key: &Secret, label: &str, value: &str) -> String {
    // HMAC accepts keys of any length.
    let mut mac = HmacSha256::new_from_slice(key.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(label.as_bytes());
    mac.update(b"\0");
    mac.update(value.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The 11 digits of a СНИЛС written any way (`123-456-789 01`), if it has 11 digits.
pub fn normalise_snils(text: &str) -> Option<String> {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    (digits.len() == 11).then_some(digits)
}

/// Whether the СНИЛС check number is right.
pub fn snils_checksum_ok(digits: &str) -> bool {
    if digits.len() != 11 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    let sum: u32 = (0..9).map(|i| d[i] * (9 - i as u32)).sum();
    let check = match sum {
        s if s < 100 => s,
        100 | 101 => 0,
        s => match s % 101 {
            100 => 0,
            r => r,
        },
    };
    check == d[9] * 10 + d[10]
}

/// Keyed hash of a СНИЛС for matching; `None` when it is not 11 digits.
pub fn snils_hash(key: &Secret, snils: &str) -> Option<String> {
    normalise_snils(snils).map(|digits| keyed(key, "snils", &digits))
}

/// Keyed hash of full name and birth date (`YYYY-MM-DD`): the fallback match key.
/// Case, `ё`/`е` and spacing do not matter.
pub fn name_birth_hash(key: &Secret, full_name: &str, birth_date: &str) -> String {
    let name = full_name
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .replace('ё', "е");
    keyed(key, "name_birth", &format!("{name}|{birth_date}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snils_is_matched_however_it_is_written() {
        let key = Secret::new("k");
        assert_eq!(
            snils_hash(&key, "112-233-445 95"),
            snils_hash(&key, "11223344595")
        );
        assert_eq!(snils_hash(&key, "123"), None);
        assert_ne!(
            snils_hash(&key, "11223344595"),
            snils_hash(&Secret::new("other"), "11223344595")
        );
    }

    #[test]
    fn snils_checksum() {
        assert!(snils_checksum_ok("11223344595"));
        assert!(!snils_checksum_ok("11223344596"));
    }

    #[test]
    fn name_and_birth_ignore_case_and_yo() {
        let key = Secret::new("k");
        assert_eq!(
            name_birth_hash(&key, "Фёдоров  Иван Петрович", "1980-01-02"),
            name_birth_hash(&key, "федоров иван петрович", "1980-01-02")
        );
        assert_ne!(
            name_birth_hash(&key, "Фёдоров Иван Петрович", "1980-01-02"),
            name_birth_hash(&key, "Фёдоров Иван Петрович", "1980-01-03")
        );
    }
}
