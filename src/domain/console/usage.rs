//! «Статистика»: how many people did each thing, per day and over a period, from
//! `usage_events`.
//!
//! Some events (a started dialog, an opened mini-app before sign-in) carry no person and
//! so belong to no УО. On an appliance that serves one УО they are all its own; where
//! several УО share one, a УО's staff see only events of people linked to its houses.

use std::collections::BTreeMap;

use rusqlite::{params, Connection};
use serde::Serialize;
use time::Date;

use super::Scope;
use crate::store::StoreError;

/// The figures shown, in order: the resident's path from the first message on.
pub const KINDS: &[&str] = &[
    "dialog_started",
    "app_opened",
    "signed_in",
    "property_linked",
    "reading_submitted",
    "request_filed",
];

/// Distinct people per kind.
pub type Figures = BTreeMap<String, i64>;

#[derive(Clone, Debug, Serialize)]
pub struct Day {
    pub day: String,
    pub figures: Figures,
}

#[derive(Clone, Debug, Serialize)]
pub struct Usage {
    pub from: String,
    pub to: String,
    pub kinds: Vec<&'static str>,
    /// Every day of the period, also those without events.
    pub days: Vec<Day>,
    /// Distinct people over the period.
    pub period: Figures,
    /// Distinct people since the start.
    pub all_time: Figures,
    /// True when only events of people linked to the УО's houses are counted.
    pub linked_people_only: bool,
}

/// Who did it: the person, else the MAX user, else the event alone.
const WHO: &str = "COALESCE('p' || e.person_id, 'm' || e.max_user_id, 'e' || e.id)";

/// The figures for `from..=to` inside `scope`.
pub fn figures(scope: Scope, conn: &Connection, from: Date, to: Date) -> Result<Usage, StoreError> {
    let attribute_to = match scope {
        Scope::Region => None,
        Scope::Organisation(id) => {
            let others: i64 = conn.query_row(
                "SELECT COUNT(*) FROM organisations WHERE id <> ?1",
                [id],
                |r| r.get(0),
            )?;
            (others > 0).then_some(id)
        }
    };
    let kinds = serde_json::to_string(KINDS).unwrap_or_else(|_| "[]".into());
    let filter = "e.kind IN (SELECT value FROM json_each(?1)) \
         AND (?2 IS NULL OR e.person_id IN ( \
           SELECT l.person_id FROM property_links l JOIN premises p ON p.id = l.premise_id \
           JOIN houses h ON h.id = p.house_id WHERE h.organisation_id = ?2))";
    let (from_text, to_text) = (from.to_string(), to.to_string());

    let mut per_day: BTreeMap<String, Figures> = BTreeMap::new();
    {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT e.day, e.kind, COUNT(DISTINCT {WHO}) FROM usage_events e \
             WHERE {filter} AND e.day BETWEEN ?3 AND ?4 GROUP BY e.day, e.kind"
        ))?;
        let rows = stmt.query_map(params![kinds, attribute_to, from_text, to_text], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?))
        })?;
        for row in rows {
            let (day, kind, n) = row?;
            per_day.entry(day).or_default().insert(kind, n);
        }
    }
    let totals = |range: Option<(&str, &str)>| -> Result<Figures, StoreError> {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT e.kind, COUNT(DISTINCT {WHO}) FROM usage_events e \
             WHERE {filter} AND (?3 IS NULL OR e.day BETWEEN ?3 AND ?4) GROUP BY e.kind"
        ))?;
        let (a, b) = range.unzip();
        let rows = stmt.query_map(params![kinds, attribute_to, a, b], |r| {
            Ok((r.get::<_, String>(0)?, r.get(1)?))
        })?;
        let mut out = empty();
        for row in rows {
            let (kind, n) = row?;
            out.insert(kind, n);
        }
        Ok(out)
    };
    let period = totals(Some((&from_text, &to_text)))?;
    let all_time = totals(None)?;

    let mut days = Vec::new();
    let mut day = from;
    while day <= to {
        let key = day.to_string();
        let mut figures = empty();
        if let Some(found) = per_day.remove(&key) {
            figures.extend(found);
        }
        days.push(Day { day: key, figures });
        match day.next_day() {
            Some(next) => day = next,
            None => break,
        }
    }
    Ok(Usage {
        from: from_text,
        to: to_text,
        kinds: KINDS.to_vec(),
        days,
        period,
        all_time,
        linked_people_only: attribute_to.is_some(),
    })
}

fn empty() -> Figures {
    KINDS.iter().map(|k| (k.to_string(), 0)).collect()
}
