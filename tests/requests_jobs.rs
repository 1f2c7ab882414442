//! The running service closes done requests once their reopen window has passed: the
//! `requests.close_done` job is enqueued at start-up and comes back every hour.

mod common;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use common::wait_until;
use gosdom::clock::ManualClock;
use gosdom::config::{Config, Mode};
use gosdom::domain::requests::api::{self, NewRequestBody};
use gosdom::domain::requests::staff::{self, StaffMember, StatusBody};
use gosdom::domain::requests::{Settings, Status};
use gosdom::server::Service;
use gosdom::store::ts;
use rusqlite::params;
use time::macros::datetime;
use time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_closes_done_requests_after_the_reopen_window() {
    let dir = tempfile::tempdir().unwrap();
    // No demo data: this test brings its own.
    let mut config = Config {
        mode: Mode::Production,
        ..Config::default()
    };
    config.storage.data_dir = dir.path().join("data");
    let start = datetime!(2026-12-03 10:00 UTC);
    let clock = ManualClock::new(start);
    let service = Service::prepare_with_clock(config.clone(), Arc::new(clock.clone())).unwrap();
    let store = service.app.store.clone();
    let settings = Settings::new(&config);

    let (org, request) = tokio::task::spawn_blocking(move || {
        let mut conn = store.conn().unwrap();
        let t = ts(start);
        conn.execute_batch(&format!(
            "INSERT INTO organisations (id, name, inn, ogrn, created_at, updated_at) \
             VALUES (1, 'УК', '1655000001', '1', '{t}', '{t}');
             INSERT INTO houses (id, organisation_id, address, created_at, updated_at) \
             VALUES (1, 1, 'ул. Баумана, 44', '{t}', '{t}');
             INSERT INTO premises (id, house_id, number, created_at, updated_at) \
             VALUES (1, 1, '12', '{t}', '{t}');
             INSERT INTO people (id, created_at, updated_at) VALUES (1, '{t}', '{t}');
             INSERT INTO property_links (person_id, premise_id, proof, created_at, updated_at) \
             VALUES (1, 1, 'owners_register', '{t}', '{t}');"
        ))
        .unwrap();
        let body = NewRequestBody {
            place: "flat".into(),
            problem: "intercom.key".into(),
            text: "Нужен ключ от домофона".into(),
            premise_id: Some(1),
            house_id: None,
        };
        let card = api::file(&mut conn, &settings, 1, &body, &[], start).unwrap();
        let who = StaffMember {
            user_id: 1,
            organisation_id: 1,
        };
        let done = StatusBody {
            status: Status::Done,
            reason: None,
            deferred_until: None,
        };
        staff::change_status(&mut conn, &settings, who, card.id, &done, start).unwrap();
        (1i64, card.id)
    })
    .await
    .unwrap();

    let store = service.app.store.clone();
    let status_of = move || -> String {
        store
            .conn()
            .unwrap()
            .query_row(
                "SELECT status FROM requests WHERE id = ?1 AND organisation_id = ?2",
                params![request, org],
                |r| r.get(0),
            )
            .unwrap()
    };
    let store = service.app.store.clone();
    let next_run = move || -> String {
        store
            .conn()
            .unwrap()
            .query_row(
                "SELECT run_at FROM outbox WHERE kind = 'requests.close_done'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    let worker = service.jobs.clone().spawn();

    // Within the window the hourly run leaves it alone; after it, the next run closes it.
    let within = start + Duration::days(13);
    clock.set(within);
    let expected = ts(within + Duration::HOUR);
    let check = status_of.clone();
    let ran = tokio::task::spawn_blocking(move || {
        wait_until(StdDuration::from_secs(10), || next_run() == expected)
    })
    .await
    .unwrap();
    assert!(ran, "the job ran and asked to come back in an hour");
    assert_eq!(check(), "done");
    clock.set(start + Duration::days(15));
    let closed = tokio::task::spawn_blocking(move || {
        wait_until(StdDuration::from_secs(10), || status_of() == "closed")
    })
    .await
    .unwrap();
    worker.abort();
    assert!(closed, "the done request was closed by the worker");
}
