//! Syncing a mock УО (3 houses, 300 premises, 300 accounts, 600 meters) from a mock ГИС ЖКХ
//! fills the store; a second sync changes nothing; what disappears is marked, not deleted.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Mock, Seen};
use gosdom::clock::{SharedClock, SystemClock};
use gosdom::config::Synchronous;
use gosdom::connectors::gis::sync::Sync;
use gosdom::connectors::gis::{xml, Client, ClientConfig, Service};
use gosdom::sandbox::gis_xml::{self, AccountRow, MeterRow};
use gosdom::store::{self, Store};

const ORG: &str = "5b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e";
const HOUSES: [&str; 3] = [
    "6f0ae8b5-3d1c-4b8e-9c2a-1d5f7e9a0b11",
    "a3c9d2e1-7b4f-4e6a-8d1c-2f9b0e3a5c22",
    "c7e1f4a2-9d3b-4c5e-a6f8-3b2d1e0f7a33",
];

fn guid(kind: u32, house: usize, n: u32) -> String {
    format!("{kind:08x}-{house:04x}-4000-8000-{n:012x}")
}

/// The mock УО: 100 premises per house, one account each, two meters each (cold water and
/// a two-tariff electricity meter). `gone` premises (house 0) are no longer listed.
struct Uo {
    gone: Mutex<u32>,
}

impl Uo {
    fn answer(&self, operation: &str, fias: &str) -> String {
        let house = HOUSES.iter().position(|h| *h == fias).unwrap();
        let gone = if house == 0 {
            *self.gone.lock().unwrap()
        } else {
            0
        };
        let flats = gone + 1..=100;
        match operation {
            "exportHouseData" => gis_xml::house_result(
                fias,
                "",
                &flats
                    .map(|n| (guid(1, house, n), n.to_string()))
                    .collect::<Vec<_>>(),
            ),
            "exportAccountData" => gis_xml::accounts_result(
                &flats
                    .map(|n| AccountRow {
                        guid: guid(2, house, n),
                        number: format!("{house}{n:05}"),
                        unified_number: format!("12АБ{house}{n:05}"),
                        service_id: String::new(),
                        premise_guid: guid(1, house, n),
                    })
                    .collect::<Vec<_>>(),
            ),
            _ => gis_xml::meters_result(
                &flats
                    .flat_map(|n| {
                        [
                            MeterRow {
                                root_guid: guid(3, house, n),
                                serial: format!("CW{house}{n}"),
                                premise_guid: guid(1, house, n),
                                resource_code: Some("1".into()),
                                tariffs: 1,
                            },
                            MeterRow {
                                root_guid: guid(4, house, n),
                                serial: format!("EL{house}{n}"),
                                premise_guid: guid(1, house, n),
                                resource_code: None,
                                tariffs: 2,
                            },
                        ]
                    })
                    .collect::<Vec<_>>(),
            ),
        }
    }
}

fn mock(uo: Arc<Uo>) -> Mock {
    Mock::start(Arc::new(move |req: &Seen, all: &[Seen]| {
        if req.action != "getState" {
            return (
                200,
                gis_xml::ack(&uuid::Uuid::new_v4().to_string(), &req.message_guid()),
            );
        }
        // Find the request this Ack belonged to: the send just before the first poll.
        let asked = req.polled_guid();
        let index = all
            .iter()
            .position(|s| s.action == "getState" && s.polled_guid() == asked)
            .unwrap();
        let send = &all[index - 1];
        let element = xml::parse(send.body.as_bytes()).unwrap();
        let body = element.find("Body").unwrap().children[0].clone();
        let (service, content) = match send.action.as_str() {
            "exportNsiItem" => (
                Service::NsiCommon,
                if body.text_of("RegistryNumber").as_deref() == Some("2") {
                    gis_xml::nsi_item(2, &gis_xml::NSI_RESOURCES)
                } else {
                    gis_xml::nsi_item(27, &gis_xml::NSI_METER_TYPES)
                },
            ),
            op => (
                Service::HouseManagement,
                uo.answer(op, &body.text_of("FIASHouseGuid").unwrap()),
            ),
        };
        (200, gis_xml::state(service, &asked, 3, &content))
    }))
}

fn setup(dir: &std::path::Path) -> Store {
    let store = Store::open(&store::Options {
        data_dir: dir.to_path_buf(),
        synchronous: Synchronous::Normal,
        pool_size: 4,
    })
    .unwrap();
    store
        .write_blocking(|tx| {
            tx.execute(
                "INSERT INTO organisations (name, inn, ogrn, org_ppa_guid, created_at, updated_at) \
                 VALUES ('УО', '1655000001', '1021602800001', ?1, 'now', 'now')",
                [ORG],
            )?;
            for (i, fias) in HOUSES.iter().enumerate() {
                tx.execute(
                    "INSERT INTO houses (organisation_id, fias_guid, address, created_at, updated_at) \
                     VALUES (1, ?1, ?2, 'now', 'now')",
                    rusqlite::params![fias, format!("Дом {i}")],
                )?;
            }
            Ok(())
        })
        .unwrap();
    store
}

fn sync(store: &Store, url: &str) -> gosdom::connectors::gis::sync::Report {
    let client = Client::new(
        ClientConfig {
            base_url: url.into(),
            org_ppa_guid: ORG.into(),
            operator_signature: false,
            timeout: Duration::from_secs(10),
        },
        None,
    );
    let clock: SharedClock = Arc::new(SystemClock);
    let sleep = |_d: Duration| {};
    Sync {
        store,
        client: &client,
        clock: &clock,
        schedule: &[0],
        org_ppa_guid: ORG,
        sleep: &sleep,
    }
    .run()
    .unwrap()
}

fn count(store: &Store, sql: &str) -> i64 {
    store
        .conn()
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

fn snapshot(store: &Store) -> String {
    let conn = store.conn().unwrap();
    let mut out = String::new();
    for sql in [
        "SELECT group_concat(id || premises_guid || number || updated_at || ifnull(removed_at,''), ';') FROM premises",
        "SELECT group_concat(id || gis_guid || number || updated_at || ifnull(removed_at,''), ';') FROM accounts",
        "SELECT group_concat(id || root_guid || resource || tariffs || updated_at || ifnull(archived_at,''), ';') FROM meters",
    ] {
        let s: Option<String> = conn.query_row(sql, [], |r| r.get(0)).unwrap();
        out.push_str(&s.unwrap_or_default());
    }
    out
}

#[test]
fn a_sync_fills_the_store_and_a_second_changes_nothing() {
    let uo = Arc::new(Uo {
        gone: Mutex::new(0),
    });
    let server = mock(uo.clone());
    let dir = tempfile::tempdir().unwrap();
    let store = setup(dir.path());

    let first = sync(&store, &server.url);
    assert_eq!(first.houses, 3);
    assert_eq!(first.added, 1200, "{first:?}");
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM premises WHERE premises_guid IS NOT NULL"
        ),
        300
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM accounts WHERE gis_guid IS NOT NULL"
        ),
        300
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM meters WHERE root_guid IS NOT NULL"
        ),
        600
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM meters WHERE resource = 'cold_water'"
        ),
        300
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM meters WHERE resource = 'electricity' AND tariffs = 2"
        ),
        300
    );
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM gis_nsi WHERE registry = 2"),
        5
    );

    let before = snapshot(&store);
    let second = sync(&store, &server.url);
    assert_eq!(second.changed(), 0, "{second:?}");
    assert_eq!(snapshot(&store), before);
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM gis_syncs WHERE state = 'done'"
        ),
        2
    );

    // Two flats of the first house are gone from ГИС ЖКХ: marked, never deleted.
    *uo.gone.lock().unwrap() = 2;
    let third = sync(&store, &server.url);
    assert_eq!(third.removed, 2 + 2 + 4, "{third:?}");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM premises"), 300);
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM premises WHERE removed_at IS NOT NULL"
        ),
        2
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM accounts WHERE removed_at IS NOT NULL"
        ),
        2
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM meters WHERE archived_at IS NOT NULL"
        ),
        4
    );
    assert!(server
        .seen()
        .iter()
        .all(|s| s.path.starts_with("/ext-bus-")));
}

#[test]
fn gosdom_gis_sync_runs_a_sync_from_the_command_line() {
    let server = mock(Arc::new(Uo {
        gone: Mutex::new(0),
    }));
    let dir = tempfile::tempdir().unwrap();
    drop(setup(dir.path()));
    std::fs::write(dir.path().join("gosdom.toml"), "mode = \"sandbox\"\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gosdom"))
        .args(["gis", "sync", "--data-dir"])
        .arg(dir.path())
        .env("GOSDOM_CONFIG", dir.path().join("gosdom.toml"))
        .env("GOSDOM_GIS__BASE_URL", &server.url)
        .env("GOSDOM_GIS__ORG_PPA_GUID", ORG)
        .env("GOSDOM_GIS__POLL_SECONDS", "[0]")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("3 houses, 1200 added"), "{stdout}");
    let store = Store::open(&store::Options {
        data_dir: dir.path().to_path_buf(),
        synchronous: Synchronous::Normal,
        pool_size: 2,
    })
    .unwrap();
    assert_eq!(count(&store, "SELECT COUNT(*) FROM meters"), 600);
}
