//! Request statuses and who may move a request from one to another.
//!
//! ```text
//! new ──► in_work ──► done ──► closed
//!  │  ╲      │  ▲       │
//!  │   ╲     ▼  │       └──► reopened (resident, within reopen_days) ──► in_work …
//!  │    ╲► deferred (until a date)
//!  └──────► declined
//! ```

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    New,
    InWork,
    Deferred,
    Done,
    Reopened,
    Declined,
    Closed,
}

/// Who makes a change: written to `request_events.author`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    Resident(i64),
    Staff(i64),
    System,
    Gis,
}

impl Actor {
    pub fn author(&self) -> String {
        match self {
            Actor::Resident(id) => format!("resident:{id}"),
            Actor::Staff(id) => format!("staff:{id}"),
            Actor::System => "system".into(),
            Actor::Gis => "gis".into(),
        }
    }
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::New,
        Status::InWork,
        Status::Deferred,
        Status::Done,
        Status::Reopened,
        Status::Declined,
        Status::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::InWork => "in_work",
            Status::Deferred => "deferred",
            Status::Done => "done",
            Status::Reopened => "reopened",
            Status::Declined => "declined",
            Status::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// What the resident reads.
    pub fn label(self) -> &'static str {
        match self {
            Status::New => "Принята",
            Status::InWork => "В работе",
            Status::Deferred => "Отложена",
            Status::Done => "Выполнена",
            Status::Reopened => "Возобновлена",
            Status::Declined => "Отклонена",
            Status::Closed => "Закрыта",
        }
    }

    /// Still waiting for the УО: counts towards the deadline and the «overdue» filter.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Status::New | Status::InWork | Status::Deferred | Status::Reopened
        )
    }

    /// Where staff may move a request from here.
    pub fn staff_targets(self) -> &'static [Status] {
        use Status::*;
        match self {
            New => &[InWork, Deferred, Done, Declined],
            InWork => &[Deferred, Done, Declined],
            Deferred => &[InWork, Done, Declined],
            Reopened => &[InWork, Deferred, Done, Declined],
            Done => &[Closed],
            Declined | Closed => &[],
        }
    }
}

/// Why a change was refused; the web layer shows `code` and `message`.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

/// Checks a staff change. `reason` must be given to defer or decline; `deferred_until`
/// only and always with `deferred`.
pub fn check_staff_change(
    from: Status,
    to: Status,
    reason: Option<&str>,
    has_until: bool,
) -> Result<(), Refusal> {
    if !from.staff_targets().contains(&to) {
        return Err(Refusal {
            code: "illegal_transition",
            message: format!(
                "Нельзя перевести заявку из статуса «{}» в «{}».",
                from.label(),
                to.label()
            ),
        });
    }
    let reason_given = reason.is_some_and(|r| !r.trim().is_empty());
    if matches!(to, Status::Declined | Status::Deferred) && !reason_given {
        return Err(Refusal {
            code: "reason_required",
            message: "Укажите причину: её увидит житель.".into(),
        });
    }
    if (to == Status::Deferred) != has_until {
        return Err(Refusal {
            code: if has_until {
                "deferred_until_unexpected"
            } else {
                "deferred_until_required"
            },
            message: if has_until {
                "Дата переноса указывается только для статуса «Отложена».".into()
            } else {
                "Укажите, до какой даты заявка отложена.".into()
            },
        });
    }
    Ok(())
}

/// Checks the resident's reopening: only a done request, within the window.
pub fn check_reopen(
    from: Status,
    done_at: Option<time::OffsetDateTime>,
    now: time::OffsetDateTime,
    reopen_days: u32,
) -> Result<(), Refusal> {
    if from != Status::Done {
        return Err(Refusal {
            code: "illegal_transition",
            message: "Возобновить можно только выполненную заявку.".into(),
        });
    }
    let open_until = done_at.map(|at| at + time::Duration::days(i64::from(reopen_days)));
    if open_until.is_none_or(|until| now > until) {
        return Err(Refusal {
            code: "reopen_window_passed",
            message: format!(
                "Возобновить заявку можно в течение {reopen_days} дней после выполнения. \
                 Подайте новую заявку."
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn every_status_round_trips() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("deleted"), None);
    }

    #[test]
    fn the_happy_path_is_allowed() {
        use Status::*;
        for (from, to) in [
            (New, InWork),
            (InWork, Done),
            (Done, Closed),
            (Reopened, InWork),
        ] {
            assert_eq!(
                check_staff_change(from, to, None, false),
                Ok(()),
                "{from:?}→{to:?}"
            );
        }
    }

    #[test]
    fn illegal_moves_are_refused_with_a_code() {
        use Status::*;
        for (from, to) in [
            (New, Closed),
            (Closed, InWork),
            (Declined, InWork),
            (Done, InWork),
            (New, Reopened),
            (InWork, New),
        ] {
            let e = check_staff_change(from, to, Some("x"), false).unwrap_err();
            assert_eq!(e.code, "illegal_transition", "{from:?}→{to:?}");
        }
    }

    #[test]
    fn declining_and_deferring_need_a_reason_and_a_date() {
        use Status::*;
        let e = check_staff_change(New, Declined, Some("  "), false).unwrap_err();
        assert_eq!(e.code, "reason_required");
        let e = check_staff_change(New, Deferred, Some("ждём поставку"), false).unwrap_err();
        assert_eq!(e.code, "deferred_until_required");
        assert!(check_staff_change(New, Deferred, Some("ждём поставку"), true).is_ok());
        let e = check_staff_change(New, InWork, None, true).unwrap_err();
        assert_eq!(e.code, "deferred_until_unexpected");
    }

    #[test]
    fn reopen_window() {
        let done = datetime!(2026-12-01 10:00 UTC);
        let inside = datetime!(2026-12-15 10:00 UTC);
        let outside = datetime!(2026-12-15 10:01 UTC);
        assert!(check_reopen(Status::Done, Some(done), inside, 14).is_ok());
        let e = check_reopen(Status::Done, Some(done), outside, 14).unwrap_err();
        assert_eq!(e.code, "reopen_window_passed");
        let e = check_reopen(Status::InWork, Some(done), inside, 14).unwrap_err();
        assert_eq!(e.code, "illegal_transition");
    }
}
