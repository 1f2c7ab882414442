//! The asynchronous exchange against a mock ГИС ЖКХ on 127.0.0.1: Ack → getState → result,
//! EXP001000 → a rebuilt message, AUT011003 → a clear operator error, per-item errors back
//! to the right reading, and a restart between Ack and result.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{wait_gis, Mock, Seen};
use gosdom::clock::{SharedClock, SystemClock};
use gosdom::config::Synchronous;
use gosdom::connectors::gis::engine::{self, Engine, Operation};
use gosdom::connectors::gis::ops::metering::{ItemResult, MeterValue, ValueKind};
use gosdom::connectors::gis::{Client, ClientConfig, Service};
use gosdom::jobs::{Backoff, Jobs};
use gosdom::sandbox::gis_xml::{self, Item};
use gosdom::store::{self, Store};
use time::macros::date;
use uuid::Uuid;

fn open(dir: &std::path::Path) -> Store {
    Store::open(&store::Options {
        data_dir: dir.to_path_buf(),
        synchronous: Synchronous::Full,
        pool_size: 4,
    })
    .unwrap()
}

fn client(url: &str) -> Client {
    Client::new(
        ClientConfig {
            base_url: url.into(),
            org_ppa_guid: "5b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e".into(),
            operator_signature: false,
            timeout: Duration::from_secs(5),
        },
        None,
    )
}

/// Starts a worker that runs the engine; drop the runtime to kill it.
fn worker(store: &Store, url: &str) -> tokio::runtime::Runtime {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let clock: SharedClock = Arc::new(SystemClock);
    let mut jobs = Jobs::new(store.clone(), clock.clone()).with_backoff(Backoff {
        base: Duration::from_millis(50),
        cap: Duration::from_millis(200),
    });
    jobs.register(
        engine::JOB_KIND,
        Arc::new(Engine::new(store.clone(), client(url), clock, vec![0])),
    );
    rt.spawn(async move { jobs.spawn().await });
    rt
}

fn reading(electric: bool) -> MeterValue {
    MeterValue {
        transport_guid: Uuid::new_v4(),
        meter_root_guid: Uuid::new_v4().to_string(),
        kind: if electric {
            ValueKind::Electric
        } else {
            ValueKind::OneRate {
                resource: gosdom::connectors::gis::ops::NsiRef {
                    code: "1".into(),
                    guid: "a3c9d2e1-0000-4000-8000-000000000001".into(),
                    name: None,
                },
            }
        },
        t1: "100.5".into(),
        t2: None,
        t3: None,
        taken_on: date!(2026 - 11 - 23),
    }
}

fn submit(store: &Store, values: Vec<MeterValue>) -> i64 {
    store
        .write_blocking(|tx| {
            engine::submit(
                tx,
                &Operation::ImportMeteringDeviceValues { values },
                None,
                time::OffsetDateTime::now_utc(),
            )
        })
        .unwrap()
}

fn state(store: &Store, id: i64) -> engine::Message {
    engine::load(&store.conn().unwrap(), id).unwrap().unwrap()
}

fn finished(store: &Store, id: i64) -> bool {
    matches!(state(store, id).state.as_str(), "done" | "failed")
}

/// Per-item results for every TransportGUID in an import: the first rejected, others ok.
fn results_for(import: &Seen, reject_first: bool) -> String {
    let node = gosdom::connectors::gis::xml::parse(import.body.as_bytes()).unwrap();
    let mut guids = Vec::new();
    fn walk(n: &gosdom::connectors::gis::xml::Node, out: &mut Vec<String>) {
        for c in &n.children {
            if c.name == "TransportGUID" {
                out.push(c.text.clone());
            }
            walk(c, out);
        }
    }
    walk(&node, &mut guids);
    let items: Vec<Item<'_>> = guids
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if i == 0 && reject_first {
                Item::Err {
                    transport: t,
                    code: "SRV008001",
                    description: "Показания меньше предыдущих",
                }
            } else {
                Item::Ok {
                    transport: t,
                    guid: "00000000-0000-4000-8000-00000000000a",
                }
            }
        })
        .collect();
    gis_xml::import_results(&items)
}

#[test]
fn ack_then_get_state_then_per_item_results_keyed_by_transport_guid() {
    let mock = Mock::start(Arc::new(|req: &Seen, all: &[Seen]| {
        match req.action.as_str() {
            "importMeteringDeviceValues" => (
                200,
                gis_xml::ack("11111111-1111-4111-8111-111111111111", &req.message_guid()),
            ),
            "getState" => {
                let polls = all.iter().filter(|s| s.action == "getState").count();
                if polls < 3 {
                    (
                        200,
                        gis_xml::state(Service::DeviceMetering, &req.polled_guid(), 2, ""),
                    )
                } else {
                    let import = all
                        .iter()
                        .find(|s| s.action == "importMeteringDeviceValues")
                        .unwrap();
                    (
                        200,
                        gis_xml::state(
                            Service::DeviceMetering,
                            &req.polled_guid(),
                            3,
                            &results_for(import, true),
                        ),
                    )
                }
            }
            _ => (500, gis_xml::fault("INT000000", "unexpected")),
        }
    }));
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let first = reading(false);
    let second = reading(true);
    let id = submit(&store, vec![first.clone(), second.clone()]);
    let _rt = worker(&store, &mock.url);
    wait_gis("the result", 20, || finished(&store, id));

    let m = state(&store, id);
    assert_eq!(m.state, "done", "{:?}", m.error);
    assert_eq!(
        m.ack_guid.as_deref(),
        Some("11111111-1111-4111-8111-111111111111")
    );
    let items: std::collections::BTreeMap<String, ItemResult> =
        serde_json::from_str(m.result.as_deref().unwrap()).unwrap();
    assert_eq!(
        items[&first.transport_guid.to_string()],
        ItemResult::Rejected {
            code: "SRV008001".into(),
            message: "Показания меньше предыдущих".into()
        }
    );
    assert!(matches!(
        items[&second.transport_guid.to_string()],
        ItemResult::Accepted { .. }
    ));
    assert_eq!(mock.count("importMeteringDeviceValues"), 1);
    assert!(mock
        .seen()
        .iter()
        .filter(|s| s.action == "getState")
        .all(|s| s.polled_guid() == "11111111-1111-4111-8111-111111111111"));
    assert!(mock
        .seen()
        .iter()
        .all(|s| s.path == Service::DeviceMetering.path()));
}

#[test]
fn an_expired_message_is_rebuilt_with_a_new_message_guid() {
    let mock = Mock::start(Arc::new(|req: &Seen, all: &[Seen]| {
        match req.action.as_str() {
            "importMeteringDeviceValues" => {
                if all.iter().filter(|s| s.action == req.action).count() == 1 {
                    (
                        500,
                        gis_xml::fault("EXP001000", "Истек срок действия сообщения"),
                    )
                } else {
                    (
                        200,
                        gis_xml::ack("22222222-2222-4222-8222-222222222222", &req.message_guid()),
                    )
                }
            }
            _ => {
                let import = all
                    .iter()
                    .rev()
                    .find(|s| s.action == "importMeteringDeviceValues")
                    .unwrap();
                (
                    200,
                    gis_xml::state(
                        Service::DeviceMetering,
                        &req.polled_guid(),
                        3,
                        &results_for(import, false),
                    ),
                )
            }
        }
    }));
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = submit(&store, vec![reading(false)]);
    let _rt = worker(&store, &mock.url);
    wait_gis("the result", 20, || finished(&store, id));

    assert_eq!(state(&store, id).state, "done");
    let sends: Vec<Seen> = mock
        .seen()
        .into_iter()
        .filter(|s| s.action == "importMeteringDeviceValues")
        .collect();
    assert_eq!(sends.len(), 2);
    assert_ne!(
        sends[0].message_guid(),
        sends[1].message_guid(),
        "a rebuilt message has a new MessageGUID"
    );
    assert_eq!(
        state(&store, id).message_guid.unwrap(),
        sends[1].message_guid()
    );
}

#[test]
fn an_access_fault_stops_with_a_clear_operator_error() {
    let mock = Mock::start(Arc::new(|_req: &Seen, _all: &[Seen]| {
        (
            500,
            gis_xml::fault("AUT011003", "Доступ запрещен: нет прав для операции"),
        )
    }));
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = submit(&store, vec![reading(false)]);
    let _rt = worker(&store, &mock.url);
    wait_gis("the stop", 20, || finished(&store, id));

    let m = state(&store, id);
    assert_eq!(m.state, "failed");
    assert_eq!(m.error_code.as_deref(), Some("AUT011003"));
    let error = m.error.unwrap();
    assert!(
        error.contains("AUT011003") && error.contains("gis.org_ppa_guid"),
        "{error}"
    );
    assert!(error.contains("will not be retried"), "{error}");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        mock.count("importMeteringDeviceValues"),
        1,
        "a refused message is not sent again"
    );
    let outbox: String = store
        .conn()
        .unwrap()
        .query_row(
            "SELECT state FROM outbox WHERE idempotency_key = ?1",
            [format!("gis.message:{id}")],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(outbox, "failed");
}

#[test]
fn nothing_to_export_is_an_empty_result() {
    let mock = Mock::start(Arc::new(|req: &Seen, _all: &[Seen]| {
        match req.action.as_str() {
            "exportAccountData" => (
                200,
                gis_xml::ack("33333333-3333-4333-8333-333333333333", &req.message_guid()),
            ),
            _ => (
                200,
                gis_xml::state(
                    Service::HouseManagement,
                    &req.polled_guid(),
                    3,
                    &gis_xml::error_message("INT002012", "Нет объектов для экспорта"),
                ),
            ),
        }
    }));
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = store
        .write_blocking(|tx| {
            engine::submit(
                tx,
                &Operation::ExportAccountData {
                    fias_house_guid: "6f0ae8b5-3d1c-4b8e-9c2a-1d5f7e9a0b11".into(),
                },
                None,
                time::OffsetDateTime::now_utc(),
            )
        })
        .unwrap();
    let _rt = worker(&store, &mock.url);
    wait_gis("the result", 20, || finished(&store, id));
    let m = state(&store, id);
    assert_eq!(m.state, "done");
    assert_eq!(m.result.as_deref(), Some("{\"empty\":true}"));
}

#[test]
fn after_a_restart_between_ack_and_result_the_same_message_is_polled_and_not_sent_again() {
    let ready = Arc::new(AtomicBool::new(false));
    let flag = ready.clone();
    let mock = Mock::start(Arc::new(move |req: &Seen, all: &[Seen]| {
        match req.action.as_str() {
            "importMeteringDeviceValues" => (
                200,
                gis_xml::ack("44444444-4444-4444-8444-444444444444", &req.message_guid()),
            ),
            _ => {
                if flag.load(Ordering::SeqCst) {
                    let import = all
                        .iter()
                        .find(|s| s.action == "importMeteringDeviceValues")
                        .unwrap();
                    (
                        200,
                        gis_xml::state(
                            Service::DeviceMetering,
                            &req.polled_guid(),
                            3,
                            &results_for(import, false),
                        ),
                    )
                } else {
                    (
                        200,
                        gis_xml::state(Service::DeviceMetering, &req.polled_guid(), 2, ""),
                    )
                }
            }
        }
    }));
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let store = open(dir.path());
        let id = submit(&store, vec![reading(false), reading(true)]);
        let rt = worker(&store, &mock.url);
        wait_gis("the Ack and a poll", 20, || {
            state(&store, id).state == "acked" && mock.count("getState") >= 2
        });
        // The process dies here: the worker and every connection go away.
        rt.shutdown_background();
        id
    };
    assert_eq!(mock.count("importMeteringDeviceValues"), 1);

    ready.store(true, Ordering::SeqCst);
    let store = open(dir.path());
    let _rt = worker(&store, &mock.url);
    wait_gis("the result after the restart", 20, || finished(&store, id));

    assert_eq!(state(&store, id).state, "done");
    assert_eq!(
        mock.count("importMeteringDeviceValues"),
        1,
        "the import was not sent again"
    );
    assert!(mock
        .seen()
        .iter()
        .filter(|s| s.action == "getState")
        .all(|s| s.polled_guid() == "44444444-4444-4444-8444-444444444444"));
}

/// Stands in for the readings domain: marks each reading by its TransportGUID.
struct Readings;

impl engine::Consumer for Readings {
    fn on_result(
        &self,
        tx: &rusqlite::Transaction<'_>,
        _message_id: i64,
        _reference: &str,
        result: engine::MessageResult<'_>,
    ) -> gosdom::store::Result<()> {
        if let engine::MessageResult::Items(items) = result {
            for (transport, item) in items {
                let (status, error) = match item {
                    ItemResult::Accepted { .. } => ("confirmed", None),
                    ItemResult::Rejected { code, message } => {
                        ("rejected", Some(format!("{code}: {message}")))
                    }
                };
                tx.execute(
                    "UPDATE readings SET status = ?2, error = ?3 WHERE transport_guid = ?1",
                    rusqlite::params![transport, status, error],
                )?;
            }
        }
        Ok(())
    }
}

#[test]
fn per_item_errors_reach_the_right_reading() {
    let mock = Mock::start(Arc::new(|req: &Seen, all: &[Seen]| {
        match req.action.as_str() {
            "importMeteringDeviceValues" => (
                200,
                gis_xml::ack("55555555-5555-4555-8555-555555555555", &req.message_guid()),
            ),
            _ => {
                let import = all
                    .iter()
                    .find(|s| s.action == "importMeteringDeviceValues")
                    .unwrap();
                (
                    200,
                    gis_xml::state(
                        Service::DeviceMetering,
                        &req.polled_guid(),
                        3,
                        &results_for(import, true),
                    ),
                )
            }
        }
    }));
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let values = vec![reading(false), reading(true), reading(false)];
    store
        .write_blocking(|tx| {
            tx.execute_batch(
                "INSERT INTO organisations (name, inn, ogrn, created_at, updated_at) VALUES ('УО', '1', '1', 'n', 'n');
                 INSERT INTO houses (organisation_id, address, created_at, updated_at) VALUES (1, 'Дом', 'n', 'n');
                 INSERT INTO premises (house_id, number, created_at, updated_at) VALUES (1, '1', 'n', 'n');
                 INSERT INTO meters (premise_id, serial, resource, unit, created_at, updated_at) VALUES (1, 's', 'cold_water', 'm3', 'n', 'n');",
            )?;
            for v in &values {
                tx.execute(
                    "INSERT INTO readings (meter_id, t1, taken_on, source, status, transport_guid, created_at, updated_at) \
                     VALUES (1, ?1, '2026-11-23', 'resident', 'sent', ?2, 'n', 'n')",
                    rusqlite::params![v.t1, v.transport_guid.to_string()],
                )?;
            }
            gosdom::connectors::gis::import_metering_device_values(tx, &values, ("readings", "batch-1"), time::OffsetDateTime::now_utc())
        })
        .unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let clock: SharedClock = Arc::new(SystemClock);
    let mut jobs = Jobs::new(store.clone(), clock.clone());
    jobs.register(
        engine::JOB_KIND,
        Arc::new(
            Engine::new(store.clone(), client(&mock.url), clock, vec![0])
                .with_consumer("readings", Arc::new(Readings)),
        ),
    );
    rt.spawn(async move { jobs.spawn().await });
    let status = |i: usize| -> (String, Option<String>) {
        store
            .conn()
            .unwrap()
            .query_row(
                "SELECT status, error FROM readings WHERE transport_guid = ?1",
                [values[i].transport_guid.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    };
    wait_gis("the readings to be marked", 20, || status(0).0 != "sent");
    // The mock rejects the first TransportGUID of the message: the first reading.
    assert_eq!(
        status(0),
        (
            "rejected".into(),
            Some("SRV008001: Показания меньше предыдущих".into())
        )
    );
    assert_eq!(status(1).0, "confirmed");
    assert_eq!(status(2).0, "confirmed");
}
