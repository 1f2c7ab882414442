use std::sync::{Arc, Barrier};

use time::macros::date;
use time::Date;

use super::*;
use crate::domain::readings::testkit::{at, code, entry, kit, Kit};

const TODAY: Date = date!(2026 - 12 - 22);

/// A one-tariff meter with five digits and six months of 5 m³ each: 100 … 125.
fn plain(kit: &Kit) -> i64 {
    let meter = kit.meter(1, 5);
    kit.history(
        meter,
        &[
            (date!(2026 - 06 - 22), "100"),
            (date!(2026 - 07 - 22), "105"),
            (date!(2026 - 08 - 22), "110"),
            (date!(2026 - 09 - 22), "115"),
            (date!(2026 - 10 - 22), "120"),
            (date!(2026 - 11 - 22), "125"),
        ],
    );
    meter
}

fn archived(kit: &Kit) -> i64 {
    let meter = plain(kit);
    kit.sql(
        "UPDATE meters SET archived_at = '2026-12-01T00:00:00Z' WHERE id = ?1",
        [meter],
    );
    meter
}

fn automatic(kit: &Kit) -> i64 {
    let meter = plain(kit);
    kit.sql("UPDATE meters SET automatic = 1 WHERE id = ?1", [meter]);
    meter
}

fn expired(kit: &Kit) -> i64 {
    let meter = plain(kit);
    kit.sql(
        "UPDATE meters SET next_verification = '2026-12-21' WHERE id = ?1",
        [meter],
    );
    meter
}

fn two_tariffs(kit: &Kit) -> i64 {
    kit.meter(2, 6)
}

fn elsewhere(kit: &Kit) -> i64 {
    kit.sql(
        "INSERT INTO premises (house_id, number, created_at, updated_at) \
         VALUES (?1, '2', 'x', 'x')",
        [kit.house],
    );
    let other = kit.count("SELECT MAX(id) FROM premises");
    kit.meter_in(other, 1, 5)
}

fn missing(_: &Kit) -> i64 {
    9999
}

struct Case {
    name: &'static str,
    meter: fn(&Kit) -> i64,
    values: &'static [&'static str],
    taken_on: Option<Date>,
    today: Date,
    expect: &'static str,
    /// What is stored when accepted.
    stored: &'static str,
}

const fn case(
    name: &'static str,
    meter: fn(&Kit) -> i64,
    values: &'static [&'static str],
    expect: &'static str,
) -> Case {
    Case {
        name,
        meter,
        values,
        taken_on: None,
        today: TODAY,
        expect,
        stored: "",
    }
}

#[test]
fn every_rule_with_its_bad_input() {
    let cases = [
        Case {
            stored: "130",
            ..case("a plain value", plain, &["130"], "accepted")
        },
        Case {
            stored: "125",
            ..case("equal to the previous", plain, &["125"], "accepted")
        },
        Case {
            stored: "130.5",
            ..case("a comma", plain, &["130,5"], "accepted")
        },
        Case {
            stored: "130",
            ..case(
                "leading zeros fit the digits",
                plain,
                &["000130"],
                "accepted",
            )
        },
        case("lower", plain, &["124.9999999"], "lower_than_previous"),
        case("too many digits", plain, &["123456"], "too_many_digits"),
        case("letters", plain, &["12a"], "invalid_value"),
        case("eight decimals", plain, &["130.12345678"], "invalid_value"),
        case("empty", plain, &[""], "invalid_value"),
        case("negative", plain, &["-130"], "invalid_value"),
        Case {
            taken_on: Some(date!(2026 - 12 - 23)),
            ..case("future date", plain, &["130"], "future_date")
        },
        Case {
            taken_on: Some(date!(2026 - 11 - 01)),
            ..case(
                "before the last reading",
                plain,
                &["130"],
                "before_last_reading",
            )
        },
        case("archived meter", archived, &["130"], "meter_archived"),
        case("automatic meter", automatic, &["130"], "meter_automatic"),
        case(
            "expired verification",
            expired,
            &["130"],
            "verification_expired",
        ),
        case(
            "two values for one tariff",
            plain,
            &["130", "1"],
            "wrong_tariff_count",
        ),
        case(
            "one value for two tariffs",
            two_tariffs,
            &["130"],
            "wrong_tariff_count",
        ),
        case("no values", plain, &[], "wrong_tariff_count"),
        Case {
            stored: "130",
            ..case("two tariffs", two_tariffs, &["130", "50,5"], "accepted")
        },
        Case {
            today: date!(2026 - 12 - 10),
            ..case(
                "outside the window, strict",
                plain,
                &["130"],
                "outside_window",
            )
        },
        case("implausible jump", plain, &["200"], "implausible_jump"),
        case("unknown meter", missing, &["130"], "meter_not_found"),
        case(
            "someone else's meter",
            elsewhere,
            &["130"],
            "meter_not_found",
        ),
    ];
    for c in cases {
        let kit = kit();
        let meter = (c.meter)(&kit);
        let rows = kit.count("SELECT COUNT(*) FROM readings");
        let mut item = entry(meter, c.values);
        item.taken_on = c.taken_on;
        let outcome = kit.submit(at(c.today), &[item]).meters.remove(0);
        assert_eq!(code(&outcome), c.expect, "{}: {outcome:?}", c.name);
        let added = kit.count("SELECT COUNT(*) FROM readings") - rows;
        if let MeterOutcome::Accepted { values, .. } = &outcome {
            assert_eq!(values[0], c.stored, "{}", c.name);
            assert_eq!(added, 1, "{}", c.name);
        } else {
            assert_eq!(added, 0, "{}: nothing stored", c.name);
            let (MeterOutcome::Refused { problem, .. }
            | MeterOutcome::ConfirmNeeded { problem, .. }) = &outcome
            else {
                unreachable!()
            };
            assert!(!problem.message.is_empty());
        }
    }
}

#[test]
fn a_bad_value_points_at_its_tariff() {
    let kit = kit();
    let meter = two_tariffs(&kit);
    let MeterOutcome::Refused { problem, .. } = kit.one(at(TODAY), meter, &["1", "1.2.3"]) else {
        panic!("refused expected");
    };
    assert_eq!((problem.code, problem.tariff), ("invalid_value", Some(2)));
}

#[test]
fn lenient_mode_accepts_outside_the_window_with_a_notice() {
    let mut kit = kit();
    kit.defaults.strict_window = false;
    let meter = plain(&kit);
    let MeterOutcome::Accepted { notice, .. } = kit.one(at(date!(2026 - 12 - 10)), meter, &["130"])
    else {
        panic!("accepted expected");
    };
    let notice = notice.unwrap();
    assert_eq!(notice.code, "outside_window");
    assert_eq!(
        notice.message,
        "Показания принимаются с 20 по 25 число месяца"
    );
    assert_eq!(
        kit.count("SELECT COUNT(*) FROM readings WHERE notice = 'outside_window'"),
        1
    );
}

#[test]
fn the_house_and_the_organisation_may_change_the_rules() {
    let kit = kit();
    let meter = plain(&kit);
    kit.sql(
        "UPDATE organisations SET settings = '{\"readings\": {\"allow_lower\": true}}'",
        [],
    );
    kit.sql(
        "UPDATE houses SET settings = '{\"readings\": {\"any_day\": true}}'",
        [],
    );
    let outcome = kit.one(at(date!(2026 - 12 - 10)), meter, &["90"]);
    assert!(
        matches!(outcome, MeterOutcome::Accepted { notice: None, .. }),
        "{outcome:?}"
    );
}

#[test]
fn a_confirmed_jump_is_accepted() {
    let kit = kit();
    let meter = plain(&kit);
    let MeterOutcome::ConfirmNeeded { problem, .. } = kit.one(at(TODAY), meter, &["200"]) else {
        panic!("confirmation expected");
    };
    assert!(problem.message.contains("75"), "{}", problem.message);
    let mut again = entry(meter, &["200"]);
    again.confirm = true;
    let outcome = kit.submit(at(TODAY), &[again]).meters.remove(0);
    assert!(outcome.is_accepted(), "{outcome:?}");
    assert_eq!(
        kit.count("SELECT COUNT(*) FROM readings WHERE jump_confirmed = 1 AND t1 = '200'"),
        1
    );
}

#[test]
fn no_jump_check_without_history_or_after_a_long_gap() {
    let kit = kit();
    let fresh = kit.meter(1, 5);
    assert!(kit.one(at(TODAY), fresh, &["99999"]).is_accepted());

    // Six months without readings: 6 × the usual use is no jump.
    let meter = plain(&kit);
    let later = date!(2027 - 05 - 22);
    assert!(kit.one(at(later), meter, &["160"]).is_accepted());
}

#[test]
fn the_same_value_on_the_same_day_is_stored_once() {
    let kit = kit();
    let meter = plain(&kit);
    let MeterOutcome::Accepted { reading_id, .. } = kit.one(at(TODAY), meter, &["130"]) else {
        panic!("accepted expected");
    };
    let jobs = kit.count("SELECT COUNT(*) FROM outbox");
    for again in ["130", "130,0", "0130.000"] {
        let outcome = kit.one(at(TODAY), meter, &[again]);
        assert!(
            matches!(outcome, MeterOutcome::Accepted { duplicate: true, reading_id: id, .. } if id == reading_id),
            "{again}: {outcome:?}"
        );
    }
    assert_eq!(
        kit.count("SELECT COUNT(*) FROM readings WHERE source = 'resident'"),
        1
    );
    assert_eq!(
        kit.count("SELECT COUNT(*) FROM outbox"),
        jobs,
        "nothing new to send"
    );
}

#[test]
fn a_correction_in_the_window_replaces_and_keeps_history() {
    let kit = kit();
    let meter = plain(&kit);
    let MeterOutcome::Accepted {
        reading_id: first, ..
    } = kit.one(at(TODAY), meter, &["140"])
    else {
        panic!("accepted expected");
    };
    // Lower than the mistaken 140 but not lower than last month's 125: a correction.
    let next_day = at(date!(2026 - 12 - 23));
    let MeterOutcome::Accepted {
        reading_id: second,
        replaced,
        ..
    } = kit.one(next_day, meter, &["128"])
    else {
        panic!("accepted expected");
    };
    assert_eq!(replaced, Some(first));
    let conn = kit.store.conn().unwrap();
    let (status, by): (String, i64) = conn
        .query_row(
            "SELECT status, replaced_by FROM readings WHERE id = ?1",
            [first],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((status.as_str(), by), ("replaced", second));
    assert_eq!(
        kit.count("SELECT COUNT(*) FROM readings WHERE source = 'resident'"),
        2,
        "history kept"
    );

    // Still lower than the previous period's value is refused.
    assert_eq!(
        code(&kit.one(next_day, meter, &["124"])),
        "lower_than_previous"
    );
}

#[test]
fn several_meters_each_all_or_nothing() {
    let kit = kit();
    let good = plain(&kit);
    let bad = two_tariffs(&kit);
    let result = kit.submit(
        at(TODAY),
        &[
            entry(good, &["130"]),
            entry(bad, &["1", "x"]),
            entry(good, &["131"]),
        ],
    );
    let codes: Vec<_> = result.meters.iter().map(code).collect();
    assert_eq!(codes, ["accepted", "invalid_value", "meter_repeated"]);
    assert!(result.enqueued);
    assert_eq!(
        kit.count(&format!(
            "SELECT COUNT(*) FROM readings WHERE meter_id = {bad}"
        )),
        0,
        "the good first tariff of the bad meter is not stored"
    );
}

#[test]
fn only_a_linked_resident_may_submit() {
    let kit = kit();
    let meter = plain(&kit);
    let result = submit_blocking(
        &kit.store,
        &kit.defaults,
        at(TODAY),
        Actor::Resident(kit.person + 1),
        kit.premise,
        &[entry(meter, &["130"])],
    );
    assert!(matches!(result, Err(SubmitError::PremiseNotFound)));
    let staff = submit_blocking(
        &kit.store,
        &kit.defaults,
        at(TODAY),
        Actor::Operator,
        kit.premise,
        &[entry(meter, &["130"])],
    )
    .unwrap();
    assert!(staff.meters[0].is_accepted());
}

#[test]
fn an_accepted_reading_queues_delivery_for_its_organisation() {
    let kit = kit();
    let a = plain(&kit);
    let b = kit.meter(1, 5);
    assert!(
        kit.submit(at(TODAY), &[entry(a, &["130"]), entry(b, &["1"])])
            .enqueued
    );
    assert_eq!(
        kit.count("SELECT COUNT(*) FROM outbox WHERE kind = 'gis.import_readings'"),
        1,
        "one job per УО per minute"
    );
    let refused = kit.submit(at(TODAY), &[entry(a, &["1"])]);
    assert!(!refused.enqueued);
}

/// Two residents' phones submit for one meter at the same moment: one consistent result.
#[test]
fn racing_submissions_leave_one_value() {
    let kit = Arc::new(kit());
    for round in 0..10 {
        let meter = plain(&kit);
        let values: [&'static str; 2] = if round % 2 == 0 {
            ["130", "131"]
        } else {
            ["130", "130"]
        };
        let barrier = Arc::new(Barrier::new(2));
        let threads: Vec<_> = values
            .into_iter()
            .map(|value| {
                let (kit, barrier) = (kit.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    kit.one(at(TODAY), meter, &[value])
                })
            })
            .collect();
        let outcomes: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(
            outcomes.iter().all(MeterOutcome::is_accepted),
            "{outcomes:?}"
        );

        let valid = kit.count(&format!(
            "SELECT COUNT(*) FROM readings WHERE meter_id = {meter} AND status = 'accepted'"
        ));
        let all = kit.count(&format!(
            "SELECT COUNT(*) FROM readings WHERE meter_id = {meter} AND source = 'resident'"
        ));
        assert_eq!(valid, 1, "round {round}: one value counts");
        if values[0] == values[1] {
            assert_eq!(all, 1, "round {round}: the same value is stored once");
        } else {
            assert_eq!(
                kit.count(&format!(
                    "SELECT COUNT(*) FROM readings WHERE meter_id = {meter} \
                     AND status = 'replaced' AND replaced_by IS NOT NULL"
                )),
                1,
                "round {round}: the other is kept as replaced"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_entry_point_uses_the_apps_clock_and_wakes_the_outbox() {
    let kit = kit();
    let meter = plain(&kit);
    let clock = crate::clock::ManualClock::new(at(TODAY));
    let app = App::new(
        crate::config::Config::default(),
        kit.store.clone(),
        Arc::new(clock),
        crate::config::Secret::new("token"),
    );
    let woken = app.outbox_wake.clone();
    let items = vec![entry(meter, &["130,5"]), entry(meter + 1000, &["1"])];
    let result = submit_readings(&app, Actor::Resident(kit.person), kit.premise, items)
        .await
        .unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), woken.notified())
        .await
        .expect("the outbox is woken after commit");

    let json = serde_json::to_value(&result).unwrap();
    let accepted = &json["meters"][0];
    assert_eq!(accepted["result"], "accepted");
    assert_eq!(accepted["values"], serde_json::json!(["130.5"]));
    assert_eq!(accepted["taken_on"], "2026-12-22");
    assert_eq!(accepted["duplicate"], false);
    let refused = &json["meters"][1];
    assert_eq!(refused["result"], "refused");
    assert_eq!(refused["problem"]["code"], "meter_not_found");
    assert_eq!(refused["problem"]["message"], "Счётчик не найден");

    let request: Submission = serde_json::from_value(serde_json::json!({
        "meter_id": 1, "values": ["1"], "taken_on": "2026-12-21", "confirm": true
    }))
    .unwrap();
    assert_eq!(request.taken_on, Some(date!(2026 - 12 - 21)));
}
