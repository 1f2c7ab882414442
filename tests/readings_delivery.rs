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
