use std::sync::Mutex;

use time::macros::date;
use time::Date;

use super::*;
use crate::domain::readings::testkit::{at, kit, Kit};

#[derive(Default)]
struct Outbox(Mutex<Vec<Reminder>>);

impl ReminderSender for Outbox {
    fn enqueue(
        &self,
        _tx: &Transaction<'_>,
        reminder: &Reminder,
        _now: OffsetDateTime,
    ) -> store::Result<()> {
        self.0.lock().unwrap().push(reminder.clone());
        Ok(())
    }
}

fn run(kit: &Kit, day: Date) -> (RemindReport, Vec<Reminder>) {
    let outbox = Outbox::default();
    let report = kit
        .store
        .write_blocking(|tx| remind_due(tx, &kit.defaults, at(day), &outbox))
        .unwrap();
    (report, outbox.0.into_inner().unwrap())
}

#[test]
fn the_window_opening_reminds_once_those_without_a_reading() {
    let kit = kit();
    kit.meter(1, 5);
    let (report, sent) = run(&kit, date!(2026 - 12 - 20));
    assert_eq!(report.window_open, 1);
    let reminder = &sent[0];
    assert_eq!(
        (
            reminder.kind,
            reminder.max_user_id,
            reminder.user_id,
            reminder.dialog_chat_id
        ),
        (ReminderKind::WindowOpen, kit.max_user, 555, Some(777))
    );
    assert!(
        reminder.text.contains("до 25 декабря 2026"),
        "{}",
        reminder.text
    );
    assert!(
        run(&kit, date!(2026 - 12 - 20)).1.is_empty(),
        "once per period"
    );

    let night = crate::domain::readings::testkit::kit();
    night.meter(1, 5);
    let midnight = date!(2026 - 12 - 19)
        .with_hms(21, 30, 0)
        .unwrap()
        .assume_utc();
    let outbox = Outbox::default();
    night
        .store
        .write_blocking(|tx| remind_due(tx, &night.defaults, midnight, &outbox))
        .unwrap();
    assert!(
        outbox.0.lock().unwrap().is_empty(),
        "not at half past midnight"
    );
    assert!(
        run(&kit, date!(2026 - 12 - 21)).1.is_empty(),
        "not on other days"
    );
}

#[test]
fn two_days_before_the_close_only_those_still_missing() {
    let kit = kit();
    kit.meter(1, 5);
    let (report, sent) = run(&kit, date!(2026 - 12 - 23));
    assert_eq!(report.window_closing, 1);
    assert_eq!(sent[0].kind, ReminderKind::WindowClosing);

    let kit = crate::domain::readings::testkit::kit();
    let meter_b = kit.meter(1, 5);
    assert!(kit
        .one(at(date!(2026 - 12 - 21)), meter_b, &["5"])
        .is_accepted());
    assert!(run(&kit, date!(2026 - 12 - 23)).1.is_empty());
}

#[test]
fn opted_out_and_stopped_users_get_nothing() {
    let kit = kit();
    kit.meter(1, 5);
    kit.sql("UPDATE max_users SET notify = 0", []);
    assert!(run(&kit, date!(2026 - 12 - 20)).1.is_empty());
    // Reading reminders off in «Уведомления», the rest on.
    kit.sql("UPDATE max_users SET notify = 1, notify_readings = 0", []);
    assert!(run(&kit, date!(2026 - 12 - 20)).1.is_empty());
    kit.sql("UPDATE max_users SET notify_readings = 1", []);
    kit.sql(
        "UPDATE max_users SET notify = 1, stopped_at = '2026-12-01T00:00:00Z'",
        [],
    );
    assert!(run(&kit, date!(2026 - 12 - 20)).1.is_empty());
}

#[test]
fn a_premise_without_meters_gets_no_reading_reminder() {
    let kit = kit();
    assert!(run(&kit, date!(2026 - 12 - 20)).1.is_empty());
}

#[test]
fn a_month_before_verification() {
    let kit = kit();
    let soon = kit.meter(1, 5);
    let later = kit.meter(1, 5);
    kit.sql(
        "UPDATE meters SET next_verification = '2027-01-10' WHERE id = ?1",
        [soon],
    );
    kit.sql(
        "UPDATE meters SET next_verification = '2027-02-10' WHERE id = ?1",
        [later],
    );
    // Both meters have a reading this period: only the verification reminder is due.
    for meter in [soon, later] {
        assert!(kit
            .one(at(date!(2026 - 12 - 20)), meter, &["1"])
            .is_accepted());
    }
    let (report, sent) = run(&kit, date!(2026 - 12 - 20));
    assert_eq!(report.verification, 1);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].subject, format!("{soon}:2027-01-10"));
    assert!(sent[0].text.contains("10 января 2027"), "{}", sent[0].text);
    assert!(
        run(&kit, date!(2026 - 12 - 21)).1.is_empty(),
        "once per meter and date"
    );
}
