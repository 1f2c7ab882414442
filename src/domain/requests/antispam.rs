//! Limits on filing: `max_per_day` requests per person per local day, and at most
//! `max_same_text` of them with the same text (compared after normalising case,
//! punctuation and spaces).

use rusqlite::{params, Connection};
use time::OffsetDateTime;

use super::calendar::{local_day_start, local_offset};
use super::{RequestError, Result};
use crate::config;
use crate::store::ts;

/// Lower case, `ё` as `е`, letters and digits only, single spaces: «Течёт  кран!!» and
/// «течет кран» are the same text.
pub fn normalise(text: &str) -> String {
    text.to_lowercase()
        .replace('ё', "е")
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Refuses a new request from `person_id` when today's limits are reached.
pub fn check(
    conn: &Connection,
    config: &config::Requests,
    person_id: i64,
    text: &str,
    now: OffsetDateTime,
) -> Result<()> {
    let since = local_day_start(now, local_offset(config));
    let mut stmt = conn.prepare(
        "SELECT text FROM requests WHERE person_id = ?1 AND source = 'app' AND created_at >= ?2",
    )?;
    let today: Vec<String> = stmt
        .query_map(params![person_id, ts(since)], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;

    if today.len() >= config.max_per_day as usize {
        return Err(RequestError::Limited {
            code: "daily_limit",
            message: format!(
                "Сегодня вы уже подали {} заявок — это наибольшее число за день. Завтра \
                 можно будет подать новые. При аварии звоните в аварийно-диспетчерскую \
                 службу.",
                today.len()
            ),
        });
    }
    let wanted = normalise(text);
    let same = today.iter().filter(|t| normalise(t) == wanted).count();
    if same >= config.max_same_text as usize {
        return Err(RequestError::Limited {
            code: "duplicate_request",
            message: "Заявку с таким текстом вы сегодня уже подавали. Она принята — её \
                      статус виден в разделе «Заявки»."
                .into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalising_ignores_case_punctuation_and_spaces() {
        assert_eq!(normalise("  Течёт   КРАН!!! "), "течет кран");
        assert_eq!(normalise("Течет кран"), normalise("течёт, кран."));
        assert_ne!(normalise("течёт кран"), normalise("течёт батарея"));
    }
}
