//! The reading rules in force for one house: `[readings]` from the config, overridden by
//! the УО's and then the house's `settings` JSON, and the reading window they define.

use rusqlite::{Connection, OptionalExtension};
use serde::Deserialize;
use time::{Date, Duration, Month, OffsetDateTime, UtcOffset};

use crate::config;
use crate::store;

/// Settings of one house, after overrides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rules {
    pub window_from_day: u8,
    pub window_to_day: u8,
    pub any_day: bool,
    pub strict_window: bool,
    pub allow_lower: bool,
    pub jump_factor: u32,
    pub utc_offset_hours: i8,
}

/// One reading window: the days readings are taken, both included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub opens_on: Date,
    pub closes_on: Date,
}

/// What `settings` may say under `"readings"`; invalid values are ignored.
#[derive(Debug, Default, Deserialize)]
struct Overrides {
    window_from_day: Option<u8>,
    window_to_day: Option<u8>,
    any_day: Option<bool>,
    strict_window: Option<bool>,
    allow_lower: Option<bool>,
    jump_factor: Option<u32>,
    utc_offset_hours: Option<i8>,
}

#[derive(Debug, Default, Deserialize)]
struct Settings {
    #[serde(default)]
    readings: Option<serde_json::Value>,
}

impl Rules {
    pub fn from_config(c: &config::Readings) -> Rules {
        Rules {
            window_from_day: c.window_from_day,
            window_to_day: c.window_to_day,
            any_day: c.any_day,
            strict_window: c.strict_window,
            allow_lower: c.allow_lower,
            jump_factor: c.jump_factor,
            utc_offset_hours: c.utc_offset_hours,
        }
    }

    /// The rules of a house, and its УО's id; `None` for an unknown house.
    pub fn for_house(
        conn: &Connection,
        defaults: &config::Readings,
        house_id: i64,
    ) -> store::Result<Option<(Rules, i64)>> {
        let row: Option<(i64, String, String)> = conn
            .query_row(
                "SELECT o.id, o.settings, h.settings FROM houses h \
                 JOIN organisations o ON o.id = h.organisation_id WHERE h.id = ?1",
                [house_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        Ok(row.map(|(organisation, org_settings, house_settings)| {
            let mut rules = Rules::from_config(defaults);
            rules.overlay(&org_settings);
            rules.overlay(&house_settings);
            (rules, organisation)
        }))
    }

    /// Applies the `"readings"` object of a settings JSON.
    pub fn overlay(&mut self, settings: &str) {
        let Some(readings) = serde_json::from_str::<Settings>(settings)
            .ok()
            .and_then(|s| s.readings)
        else {
            return;
        };
        let Ok(o) = serde_json::from_value::<Overrides>(readings) else {
            return;
        };
        let day = |d: Option<u8>| d.filter(|d| (1..=31).contains(d));
        if let Some(d) = day(o.window_from_day) {
            self.window_from_day = d;
        }
        if let Some(d) = day(o.window_to_day) {
            self.window_to_day = d;
        }
        self.any_day = o.any_day.unwrap_or(self.any_day);
        self.strict_window = o.strict_window.unwrap_or(self.strict_window);
        self.allow_lower = o.allow_lower.unwrap_or(self.allow_lower);
        self.jump_factor = o.jump_factor.unwrap_or(self.jump_factor);
        if let Some(h) = o.utc_offset_hours.filter(|h| (-12..=14).contains(h)) {
            self.utc_offset_hours = h;
        }
    }

    /// Now in the house's local time.
    pub fn local(&self, now: OffsetDateTime) -> OffsetDateTime {
        let offset = UtcOffset::from_hms(self.utc_offset_hours, 0, 0).unwrap_or(UtcOffset::UTC);
        now.to_offset(offset)
    }

    /// Today in the house's local time.
    pub fn local_date(&self, now: OffsetDateTime) -> Date {
        self.local(now).date()
    }

    /// Whether readings are taken on `date` (always, with `any_day`).
    pub fn is_open(&self, date: Date) -> bool {
        self.any_day || self.window_containing(date).is_some()
    }

    /// The window `date` falls in, if any (ignores `any_day`).
    pub fn window_containing(&self, date: Date) -> Option<Window> {
        let window = self.window_opening_in(self.period_start(date));
        (date <= window.closes_on).then_some(window)
    }

    /// The window containing `date`, or else the next one.
    pub fn current_or_next_window(&self, date: Date) -> Window {
        self.window_containing(date).unwrap_or_else(|| {
            let next = self.period_start(date) + Duration::days(31);
            self.window_opening_in(self.period_start(next))
        })
    }

    /// The start of the reading period `date` belongs to: the last window opening day on or
    /// before it. A correction replaces an earlier reading of the same period, and
    /// reminders look for a reading since this day.
    pub fn period_start(&self, date: Date) -> Date {
        let this_month = day_in(date.year(), date.month(), self.window_from_day);
        if this_month <= date {
            this_month
        } else {
            let (year, month) = previous_month(date.year(), date.month());
            day_in(year, month, self.window_from_day)
        }
    }

    /// The window that opens on `opens_on` (a window opening day).
    fn window_opening_in(&self, opens_on: Date) -> Window {
        let (year, month) = if self.window_to_day >= self.window_from_day {
            (opens_on.year(), opens_on.month())
        } else {
            next_month(opens_on.year(), opens_on.month())
        };
        let closes_on = day_in(year, month, self.window_to_day).max(opens_on);
        Window {
            opens_on,
            closes_on,
        }
    }
}

/// The `day` of a month, or its last day when the month is shorter.
pub(crate) fn day_in(year: i32, month: Month, day: u8) -> Date {
    let last = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, day.clamp(1, last)).unwrap_or(Date::MIN)
}

fn previous_month(year: i32, month: Month) -> (i32, Month) {
    match month {
        Month::January => (year - 1, Month::December),
        m => (year, m.previous()),
    }
}

fn next_month(year: i32, month: Month) -> (i32, Month) {
    match month {
        Month::December => (year + 1, Month::January),
        m => (year, m.next()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn rules(from: u8, to: u8) -> Rules {
        Rules {
            window_from_day: from,
            window_to_day: to,
            ..Rules::from_config(&config::Readings::default())
        }
    }

    #[test]
    fn window_of_the_month() {
        let r = rules(20, 25);
        let table = [
            (date!(2026 - 11 - 19), false),
            (date!(2026 - 11 - 20), true),
            (date!(2026 - 11 - 25), true),
            (date!(2026 - 11 - 26), false),
        ];
        for (day, open) in table {
            assert_eq!(r.is_open(day), open, "{day}");
        }
        assert_eq!(
            r.current_or_next_window(date!(2026 - 11 - 26)),
            Window {
                opens_on: date!(2026 - 12 - 20),
                closes_on: date!(2026 - 12 - 25)
            }
        );
        assert!(Rules { any_day: true, ..r }.is_open(date!(2026 - 11 - 02)));
    }

    #[test]
    fn window_across_the_month_end_and_short_months() {
        let r = rules(28, 3);
        assert!(r.is_open(date!(2026 - 11 - 29)));
        assert!(r.is_open(date!(2026 - 12 - 02)));
        assert!(!r.is_open(date!(2026 - 12 - 04)));
        assert_eq!(
            r.window_containing(date!(2026 - 12 - 02)),
            Some(Window {
                opens_on: date!(2026 - 11 - 28),
                closes_on: date!(2026 - 12 - 03)
            })
        );
        let late = rules(31, 31);
        assert!(
            late.is_open(date!(2026 - 02 - 28)),
            "the 31st is the last day"
        );
    }

    #[test]
    fn local_date_decides_the_day() {
        let r = rules(20, 25);
        let late_evening_utc = datetime!(2026-11-19 22:30 UTC);
        assert_eq!(r.local_date(late_evening_utc), date!(2026 - 11 - 20));
        assert!(r.is_open(r.local_date(late_evening_utc)));
    }

    #[test]
    fn settings_override_in_order_and_bad_values_are_ignored() {
        let mut r = rules(20, 25);
        r.overlay(r#"{"readings": {"window_from_day": 15, "strict_window": false}}"#);
        r.overlay(r#"{"readings": {"window_to_day": 40, "any_day": true, "jump_factor": 3}}"#);
        r.overlay("not json");
        r.overlay(r#"{"requests": {"max_per_day": 1}}"#);
        assert_eq!(
            (
                r.window_from_day,
                r.window_to_day,
                r.strict_window,
                r.any_day
            ),
            (15, 25, false, true)
        );
        assert_eq!(r.jump_factor, 3);
    }
}
