//! Working days in Russia and the deadlines that count them.
//!
//! The built-in table holds the public holidays of the Labour Code (art. 112) and the
//! government's transfer days for 2025 (decree of 04.10.2024 № 1335) and 2026 (decree of
//! September 2025). For 2027 it holds the statutory holidays with the Labour Code's
//! automatic moves (May 3, May 10, June 14) and the transfers of the Минтруд draft
//! (Jan 2 → Nov 5, Jan 3 → Dec 31); check them against the published decree and put what
//! differs in `requests.extra_holidays` / `requests.extra_working_days`. Years outside
//! the table count Saturdays and Sundays as days off and the fixed holidays as holidays.

use std::collections::BTreeSet;

use time::macros::{date, format_description};
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset, Weekday};

use super::categories::Kind;
use crate::config;

/// Non-working days that fall on a weekday (or would be off anyway), per year.
const HOLIDAYS: &[Date] = &[
    // 2025
    date!(2025 - 01 - 01),
    date!(2025 - 01 - 02),
    date!(2025 - 01 - 03),
    date!(2025 - 01 - 06),
    date!(2025 - 01 - 07),
    date!(2025 - 01 - 08),
    date!(2025 - 05 - 01),
    date!(2025 - 05 - 02),
    date!(2025 - 05 - 08),
    date!(2025 - 05 - 09),
    date!(2025 - 06 - 12),
    date!(2025 - 06 - 13),
    date!(2025 - 11 - 03),
    date!(2025 - 11 - 04),
    date!(2025 - 12 - 31),
    // 2026
    date!(2026 - 01 - 01),
    date!(2026 - 01 - 02),
    date!(2026 - 01 - 05),
    date!(2026 - 01 - 06),
    date!(2026 - 01 - 07),
    date!(2026 - 01 - 08),
    date!(2026 - 01 - 09),
    date!(2026 - 02 - 23),
    date!(2026 - 03 - 09),
    date!(2026 - 05 - 01),
    date!(2026 - 05 - 11),
    date!(2026 - 06 - 12),
    date!(2026 - 11 - 04),
    date!(2026 - 12 - 31),
    // 2027
    date!(2027 - 01 - 01),
    date!(2027 - 01 - 04),
    date!(2027 - 01 - 05),
    date!(2027 - 01 - 06),
    date!(2027 - 01 - 07),
    date!(2027 - 01 - 08),
    date!(2027 - 02 - 23),
    date!(2027 - 03 - 08),
    date!(2027 - 05 - 03),
    date!(2027 - 05 - 10),
    date!(2027 - 06 - 14),
    date!(2027 - 11 - 04),
    date!(2027 - 11 - 05),
    date!(2027 - 12 - 31),
];

/// Saturdays and Sundays that are working days by a transfer.
const WORKING_WEEKENDS: &[Date] = &[date!(2025 - 11 - 01)];

/// Years the built-in table covers in full.
const KNOWN_YEARS: std::ops::RangeInclusive<i32> = 2025..=2027;

/// Fixed public holidays (month, day) used for years outside the table.
const FIXED: &[(u8, u8)] = &[
    (1, 1),
    (1, 2),
    (1, 3),
    (1, 4),
    (1, 5),
    (1, 6),
    (1, 7),
    (1, 8),
    (2, 23),
    (3, 8),
    (5, 1),
    (5, 9),
    (6, 12),
    (11, 4),
];

/// The working-day calendar: the built-in table plus the configured extra days.
#[derive(Clone, Debug, Default)]
pub struct Calendar {
    extra_holidays: BTreeSet<Date>,
    extra_working: BTreeSet<Date>,
}

fn parse_days(days: &[String]) -> BTreeSet<Date> {
    let format = format_description!("[year]-[month]-[day]");
    // Checked when the config was loaded; a bad one cannot get here.
    days.iter()
        .filter_map(|d| Date::parse(d, &format).ok())
        .collect()
}

impl Calendar {
    pub fn new(config: &config::Requests) -> Self {
        Calendar {
            extra_holidays: parse_days(&config.extra_holidays),
            extra_working: parse_days(&config.extra_working_days),
        }
    }

    pub fn is_working_day(&self, day: Date) -> bool {
        if self.extra_working.contains(&day) {
            return true;
        }
        if self.extra_holidays.contains(&day) {
            return false;
        }
        if WORKING_WEEKENDS.contains(&day) {
            return true;
        }
        if matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday) {
            return false;
        }
        if KNOWN_YEARS.contains(&day.year()) {
            !HOLIDAYS.contains(&day)
        } else {
            !FIXED.contains(&(u8::from(day.month()), day.day()))
        }
    }

    /// The `n`-th working day after `from` (`from` itself never counts).
    pub fn add_working_days(&self, from: Date, n: u32) -> Date {
        let mut day = from;
        let mut left = n;
        while left > 0 {
            match day.next_day() {
                Some(next) => day = next,
                None => return day,
            }
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }
}

/// The local time the calendar follows.
pub fn local_offset(config: &config::Requests) -> UtcOffset {
    UtcOffset::from_hms(config.utc_offset_hours, 0, 0).unwrap_or(UtcOffset::UTC)
}

/// Start of the local day that `at` falls in.
pub fn local_day_start(at: OffsetDateTime, offset: UtcOffset) -> OffsetDateTime {
    let local = at.to_offset(offset);
    PrimitiveDateTime::new(local.date(), Time::MIDNIGHT).assume_offset(offset)
}

/// When a request of `kind` filed at `filed` is due: an emergency `emergency_minutes`
/// later; other requests at the end of the local day that is the `deadline_days`-th (or
/// `query_days`-th) working day after the day of filing.
pub fn deadline(
    kind: Kind,
    filed: OffsetDateTime,
    config: &config::Requests,
    calendar: &Calendar,
) -> OffsetDateTime {
    let days = match kind {
        Kind::Emergency => return filed + Duration::minutes(i64::from(config.emergency_minutes)),
        Kind::Ordinary => config.deadline_days,
        Kind::Query => config.query_days,
    };
    let offset = local_offset(config);
    let day = calendar.add_working_days(filed.to_offset(offset).date(), days);
    PrimitiveDateTime::new(day, Time::MIDNIGHT).assume_offset(offset) + Duration::DAY
        - Duration::SECOND
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn cal() -> Calendar {
        Calendar::default()
    }

    #[test]
    fn weekends_holidays_and_transfers() {
        let c = cal();
        assert!(c.is_working_day(date!(2026 - 12 - 30)));
        assert!(
            !c.is_working_day(date!(2026 - 12 - 31)),
            "transfer from Jan 4"
        );
        assert!(
            !c.is_working_day(date!(2026 - 01 - 09)),
            "transfer from Jan 3"
        );
        assert!(c.is_working_day(date!(2026 - 01 - 12)));
        assert!(
            !c.is_working_day(date!(2025 - 05 - 08)),
            "transfer from Feb 23"
        );
        assert!(c.is_working_day(date!(2025 - 11 - 01)), "working Saturday");
        assert!(!c.is_working_day(date!(2025 - 11 - 03)));
        assert!(
            !c.is_working_day(date!(2026 - 03 - 09)),
            "Mar 8 fell on Sunday"
        );
        assert!(
            !c.is_working_day(date!(2027 - 05 - 03)),
            "May 1 fell on Saturday"
        );
        assert!(
            !c.is_working_day(date!(2030 - 02 - 23)),
            "fixed holiday outside table"
        );
    }

    #[test]
    fn configured_days_win_over_the_table() {
        let config = config::Requests {
            extra_holidays: vec!["2026-12-30".into()],
            extra_working_days: vec!["2026-12-31".into()],
            ..config::Requests::default()
        };
        let c = Calendar::new(&config);
        assert!(!c.is_working_day(date!(2026 - 12 - 30)));
        assert!(c.is_working_day(date!(2026 - 12 - 31)));
    }

    #[test]
    fn ordinary_deadline_skips_new_year_holidays() {
        let config = config::Requests::default();
        // Tuesday 29 Dec 2026, 15:00 Moscow. Working days after: Dec 30, then Jan 11…
        let filed = datetime!(2026-12-29 12:00 UTC);
        let due = deadline(Kind::Ordinary, filed, &config, &cal());
        // Dec 30, Jan 11, 12, 13, 14, 15, 18, 19 → the 8th is Tuesday 19 Jan 2027.
        assert_eq!(due, datetime!(2027-01-19 23:59:59 +3));
    }

    #[test]
    fn ordinary_deadline_across_may_holidays_and_weekends() {
        let config = config::Requests::default();
        // Wednesday 30 Apr 2025 → May 5, 6, 7, 12, 13, 14, 15, 16.
        let filed = datetime!(2025-04-30 09:00 +3);
        let due = deadline(Kind::Ordinary, filed, &config, &cal());
        assert_eq!(due, datetime!(2025-05-16 23:59:59 +3));
    }

    #[test]
    fn a_late_evening_in_moscow_is_already_the_next_day() {
        let config = config::Requests::default();
        // Friday 22:30 UTC is Saturday 01:30 in Moscow: counting starts after Saturday.
        let filed = datetime!(2026-12-04 22:30 UTC);
        let due = deadline(Kind::Ordinary, filed, &config, &cal());
        // Dec 7..11 (5), 14, 15, 16 → Wednesday 16 Dec.
        assert_eq!(due, datetime!(2026-12-16 23:59:59 +3));
    }

    #[test]
    fn query_and_emergency_deadlines() {
        let config = config::Requests::default();
        let filed = datetime!(2026-12-03 10:00 UTC);
        let due = deadline(Kind::Query, filed, &config, &cal());
        // Dec 4, 7–11, 14–17 → the 10th is Thursday 17 Dec.
        assert_eq!(due, datetime!(2026-12-17 23:59:59 +3));
        let due = deadline(Kind::Emergency, filed, &config, &cal());
        assert_eq!(due, datetime!(2026-12-03 10:30 UTC));
    }
}
