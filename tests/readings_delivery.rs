//! Readings delivery through the ГИС ЖКХ connector against a mock ГИС ЖКХ on 127.0.0.1:
//! a batch of four meters travels as one importMeteringDeviceValues under the batch's own
//! MessageGUID, and getState's per-item results come back keyed by TransportGUID.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Mock, Seen};
use gosdom::clock::{SharedClock, SystemClock};
use gosdom::config::Synchronous;
use gosdom::connectors::gis::readings::GisReadings;
use gosdom::connectors::gis::{xml, Client, ClientConfig, Service};
use gosdom::domain::readings::{ExportBatch, ExportItem, ReadingsExport};
use gosdom::sandbox::gis_xml::{self, Item};
use gosdom::store::{self, Store};
use time::macros::date;
use uuid::Uuid;

fn transport_guids(seen: &Seen) -> Vec<String> {
    fn walk(n: &xml::Node, out: &mut Vec<String>) {
        for c in &n.children {
            if c.name == "TransportGUID" {
                out.push(c.text.clone());
            }
            walk(c, out);
        }
    }
    let mut out = Vec::new();
    walk(&xml::parse(seen.body.as_bytes()).unwrap(), &mut out);
    out
}

#[test]
fn four_meters_travel_in_one_import_and_come_back_per_item() {
    let mock = Mock::start(Arc::new(|req: &Seen, all: &[Seen]| {
        match req.action.as_str() {
            "importMeteringDeviceValues" => (
                200,
                gis_xml::ack("11111111-1111-4111-8111-111111111111", &req.message_guid()),
            ),
            "getState" => {
                let import = all
                    .iter()
                    .find(|s| s.action == "importMeteringDeviceValues")
                    .unwrap();
                let guids = transport_guids(import);
                let items: Vec<Item<'_>> = guids
                    .iter()
                    .enumerate()
                    .map(|(i, t)| {
                        if i == 3 {
                            Item::Err {
                                transport: t,
                                code: "SRV008001",
                                description: "Показания меньше предыдущих",
                            }
                        } else {
                            Item::Ok {
                                transport: t,
                                guid: "22222222-2222-4222-8222-222222222222",
                            }
                        }
                    })
                    .collect();
                let result = gis_xml::import_results(&items);
                (
                    200,
                    gis_xml::state(Service::DeviceMetering, &req.polled_guid(), 3, &result),
                )
            }
            _ => (500, gis_xml::fault("INT000000", "unexpected")),
        }
    }));
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&store::Options {
        data_dir: dir.path().to_path_buf(),
        synchronous: Synchronous::Normal,
        pool_size: 2,
    })
    .unwrap();
    let client = Client::new(
        ClientConfig {
            base_url: mock.url.clone(),
            org_ppa_guid: "5b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e".into(),
            operator_signature: false,
            timeout: Duration::from_secs(5),
        },
        None,
    );
    let clock: SharedClock = Arc::new(SystemClock);
    let export = GisReadings::new(client, store, clock);

    let items: Vec<ExportItem> = (0..4)
        .map(|i| ExportItem {
            reading_id: i,
            transport_guid: Uuid::new_v4().to_string(),
            meter_root_guid: Uuid::new_v4().to_string(),
            resource: "electricity".into(),
            fias_house_guid: None,
            values: if i == 0 {
                vec!["1200.5".into(), "800".into()]
            } else {
                vec![format!("{}", 100 + i)]
            },
            taken_on: date!(2026 - 12 - 21),
        })
        .collect();
    let batch = ExportBatch {
        organisation_id: 1,
        org_ppa_guid: None,
        message_guid: Uuid::new_v4().to_string(),
        items,
    };

    let ack = export.submit(&batch).unwrap();
    assert_eq!(ack, "11111111-1111-4111-8111-111111111111");
    let seen = mock.seen();
    assert_eq!(mock.count("importMeteringDeviceValues"), 1);
    assert_eq!(seen[0].message_guid(), batch.message_guid);
    let sent = transport_guids(&seen[0]);
    let expected: Vec<String> = batch
        .items
        .iter()
        .map(|i| i.transport_guid.clone())
        .collect();
    assert_eq!(sent, expected);

    let results = export.poll(&batch, &ack).unwrap().unwrap();
    assert_eq!(results.len(), 4);
    assert!(results[..3].iter().all(|r| r.error.is_none()));
    assert_eq!(
        results[3].error,
        Some(("SRV008001".into(), "Показания меньше предыдущих".into()))
    );
}

/// 21 January 2027, 13:00 in Moscow: inside the default window (20th–25th).
fn in_window() -> time::OffsetDateTime {
    time::macros::datetime!(2027-01-21 10:00 UTC)
}

#[rocket::async_test]
async fn a_resident_submits_four_meters_and_sees_them_confirmed_by_gis() {
    use common::{location, query_value, sandbox_config, Harness};
    use gosdom::clock::ManualClock;
    use rocket::http::{ContentType, Status};
    use serde_json::{json, Value};

    let mock = Mock::start(Arc::new(|req: &Seen, all: &[Seen]| {
        match req.action.as_str() {
            "importMeteringDeviceValues" => (
                200,
                gis_xml::ack("33333333-3333-4333-8333-333333333333", &req.message_guid()),
            ),
            "getState" => {
                let import = all
                    .iter()
                    .find(|s| s.action == "importMeteringDeviceValues")
                    .unwrap();
                let guids = transport_guids(import);
                let items: Vec<Item<'_>> = guids
                    .iter()
                    .map(|t| Item::Ok {
                        transport: t,
                        guid: "44444444-4444-4444-8444-444444444444",
                    })
                    .collect();
                let result = gis_xml::import_results(&items);
                (
                    200,
                    gis_xml::state(Service::DeviceMetering, &req.polled_guid(), 3, &result),
                )
            }
            _ => (500, gis_xml::fault("INT000000", "unexpected")),
        }
    }));
    let dir = tempfile::tempdir().unwrap();
    let mut config = sandbox_config(dir.path());
    config.gis.base_url = mock.url.clone();
    let clock = ManualClock::new(in_window());
    let service =
        gosdom::server::Service::prepare_with_clock(config, Arc::new(clock.clone())).unwrap();
    // НСИ 2 as the nightly sync caches it.
    service
        .app
        .store
        .write_blocking(|tx| {
            for (code, name) in [
                ("1", "Холодная вода"),
                ("2", "Горячая вода"),
                ("3", "Электрическая энергия"),
                ("4", "Газ"),
                ("5", "Тепловая энергия"),
            ] {
                tx.execute(
                    "INSERT INTO gis_nsi (registry, code, guid, name, actual, updated_at) \
                     VALUES (2, ?1, ?2, ?3, 1, '2027-01-01T00:00:00Z')",
                    rusqlite::params![code, Uuid::new_v4().to_string(), name],
                )?;
            }
            Ok(())
        })
        .unwrap();
    let client = rocket::local::asynchronous::Client::tracked(service.rocket())
        .await
        .unwrap();
    let _worker = service.jobs.spawn();
    let h = Harness {
        client,
        clock: clock.clone(),
        dir,
    };

    // Sign in as a demo owner through the sandbox ЕСИА.
    let token = h.session(51).await;
    let start = h.esia_start_link(&token).await;
    let login = location(&h.client.get(start).dispatch().await);
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("state", &query_value(&login, "state").unwrap())
        .append_pair("oid", "1000000001")
        .append_pair("decision", "allow")
        .finish();
    let res = h
        .client
        .post("/dev/esia/login")
        .header(ContentType::Form)
        .body(form)
        .dispatch()
        .await;
    let back = location(&h.client.get(location(&res)).dispatch().await);
    let code = query_value(&back, "esia").unwrap();
    let (status, _) = h
        .post(
            "/api/v1/session/esia/complete",
            &token,
            json!({ "code": code }),
        )
        .await;
    assert_eq!(status, Status::Ok);
    let (_, list) = h.get("/api/v1/properties", &token).await;
    let premise = list["items"][0]["id"].as_i64().unwrap();

    let (_, body) = h
        .get(&format!("/api/v1/properties/{premise}/meters"), &token)
        .await;
    let meters: Vec<Value> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["locked"] == false)
        .take(4)
        .cloned()
        .collect();
    assert_eq!(meters.len(), 4, "{body}");
    let readings: Vec<Value> = meters
        .iter()
        .map(|m| {
            let values: Vec<String> = m["last"]["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| {
                    let v: f64 = v.as_str().unwrap().parse().unwrap();
                    format!("{:.3}", v + 0.1).replace('.', ",")
                })
                .collect();
            json!({"meter_id": m["id"], "values": values})
        })
        .collect();
    let (status, body) = h
        .post(
            &format!("/api/v1/properties/{premise}/readings"),
            &token,
            json!({ "readings": readings }),
        )
        .await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["accepted"], 4, "{body}");

    // The clock moves past the batching minute and the polls; the worker follows it.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut confirmed = 0;
    while std::time::Instant::now() < deadline {
        clock.advance(time::Duration::seconds(30));
        tokio::time::sleep(Duration::from_millis(100)).await;
        confirmed = 0;
        for m in &meters {
            let (_, history) = h
                .get(&format!("/api/v1/meters/{}/readings", m["id"]), &token)
                .await;
            if history["items"][0]["status"] == "confirmed"
                && history["items"][0]["source"] == "resident"
            {
                confirmed += 1;
            }
        }
        if confirmed == 4 {
            break;
        }
    }
    assert_eq!(confirmed, 4);
    assert_eq!(mock.count("importMeteringDeviceValues"), 1);
    let import = mock
        .seen()
        .into_iter()
        .find(|s| s.action == "importMeteringDeviceValues")
        .unwrap();
    assert_eq!(transport_guids(&import).len(), 4);
}
