//! (d) A ГИС ЖКХ sync of a region-sized УО — by default 500 houses × 200 flats: 100 000
//! premises, 100 000 accounts and 200 000 meters (cold water and a two-tariff electricity
//! meter per flat) — from a mock ГИС ЖКХ on 127.0.0.1 that answers the way the real service
//! does: every export asynchronous (Ack, then `getState`), and the accounts and meters
//! exported per house (`FIASHouseGuid`), the real service's unit of export for them.
//!
//! The sync runs as the real binary (`gosdom gis sync`) in a child process, so that its
//! peak memory (`ru_maxrss` from `wait4`, the same figure as `VmHWM`) is its own. The
//! ceiling is raw SQLite inserts of the same rows (one transaction per house,
//! `synchronous = full`) in this process, in the same run.
//!
//! `cargo bench --bench gis_sync`; `BENCH_HOUSES` and `BENCH_FLATS` change the size.

#[path = "support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gosdom::config::Synchronous;
use gosdom::connectors::gis::{xml, Service};
use gosdom::sandbox::gis_xml::{self, AccountRow, MeterRow};
use gosdom::store::{Options, Store};
use rusqlite::params;
use support::{result, Target};

const ORG: &str = "5b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e";

fn fias(house: usize) -> String {
    format!("f1a50000-{house:04x}-4000-8000-000000000000")
}

fn guid(kind: u32, house: usize, n: usize) -> String {
    format!("{kind:08x}-{house:04x}-4000-8000-{n:012x}")
}

/// The mock УО's data for one house and one export operation.
fn answer(operation: &str, house: usize, flats: usize) -> String {
    let flats = 1..=flats;
    match operation {
        "exportHouseData" => gis_xml::house_result(
            &fias(house),
            "",
            &flats
                .map(|n| (guid(1, house, n), n.to_string()))
                .collect::<Vec<_>>(),
        ),
        "exportAccountData" => gis_xml::accounts_result(
            &flats
                .map(|n| AccountRow {
                    guid: guid(2, house, n),
                    number: format!("{house:04}{n:05}"),
                    unified_number: format!("12АБ{house:04}{n:05}"),
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
                            serial: format!("CW{house}-{n}"),
                            premise_guid: guid(1, house, n),
                            resource_code: Some("1".into()),
                            tariffs: 1,
                        },
                        MeterRow {
                            root_guid: guid(4, house, n),
                            serial: format!("EL{house}-{n}"),
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

/// What an Ack stands for until its `getState`: (service, the answer's content).
type Pending = Arc<Mutex<HashMap<String, (Service, String)>>>;

/// Starts the mock ГИС ЖКХ; returns its base URL. A plain HTTP/1.1 keep-alive server on
/// std's TCP with `TCP_NODELAY` and each answer written at once, so that the mock adds no
/// Nagle/delayed-ACK stalls of its own to the sync's time.
fn start_mock(houses: usize, flats: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("mock ГИС ЖКХ");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let pending: Pending = Arc::default();
    let index: Arc<HashMap<String, usize>> = Arc::new((0..houses).map(|h| (fias(h), h)).collect());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (pending, index) = (pending.clone(), index.clone());
            std::thread::spawn(move || serve(stream, &pending, &index, flats));
        }
    });
    url
}

/// One connection: requests one after another until the client closes it.
fn serve(stream: TcpStream, pending: &Pending, index: &HashMap<String, usize>, flats: usize) {
    let _ = stream.set_nodelay(true);
    let mut reader = BufReader::new(stream.try_clone().expect("stream"));
    let mut writer = stream;
    loop {
        let mut action = String::new();
        let mut length = 0usize;
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.parse().unwrap_or(0);
                } else if name.eq_ignore_ascii_case("soapaction") {
                    action = value
                        .trim_matches('"')
                        .trim_start_matches("urn:")
                        .to_string();
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let answer = respond(
            &action,
            &String::from_utf8_lossy(&body),
            pending,
            index,
            flats,
        );
        let mut response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\n\
             Content-Length: {}\r\n\r\n",
            answer.len()
        )
        .into_bytes();
        response.extend_from_slice(answer.as_bytes());
        if writer.write_all(&response).is_err() {
            return;
        }
    }
}

fn respond(
    action: &str,
    body: &str,
    pending: &Pending,
    index: &HashMap<String, usize>,
    flats: usize,
) -> String {
    let envelope = xml::parse(body.as_bytes()).expect("a SOAP envelope");
    let request = envelope
        .find("Body")
        .and_then(|b| b.children.first().cloned())
        .expect("a request element");
    if action == "getState" {
        let asked = request.text_of("MessageGUID").expect("MessageGUID");
        let (service, content) = pending
            .lock()
            .expect("pending")
            .remove(&asked)
            .expect("a getState for a known Ack");
        return gis_xml::state(service, &asked, 3, &content);
    }
    let ours = envelope
        .find("Header")
        .and_then(|h| h.find("MessageGUID"))
        .map(|n| n.text.clone())
        .expect("MessageGUID in the header");
    let content = match action {
        "exportNsiItem" => {
            let resources = request.text_of("RegistryNumber").as_deref() == Some("2");
            let content = if resources {
                gis_xml::nsi_item(2, &gis_xml::NSI_RESOURCES)
            } else {
                gis_xml::nsi_item(27, &gis_xml::NSI_METER_TYPES)
            };
            (Service::NsiCommon, content)
        }
        op => {
            let fias = request.text_of("FIASHouseGuid").expect("FIASHouseGuid");
            let house = index[&fias];
            (Service::HouseManagement, answer(op, house, flats))
        }
    };
    let ack = uuid::Uuid::new_v4().to_string();
    pending
        .lock()
        .expect("pending")
        .insert(ack.clone(), content);
    gis_xml::ack(&ack, &ours)
}

/// The УО and its houses (with ФИАС GUIDs), as an import of houses would leave them.
fn seed_houses(store: &Store, houses: usize) {
    store
        .write_blocking(|tx| {
            let t = "2026-01-01T00:00:00Z";
            tx.execute(
                "INSERT INTO organisations (name, inn, ogrn, org_ppa_guid, created_at, \
                 updated_at) VALUES ('bench', '7700000002', '1027700000002', ?1, ?2, ?2)",
                params![ORG, t],
            )?;
            let org = tx.last_insert_rowid();
            for h in 0..houses {
                tx.execute(
                    "INSERT INTO houses (organisation_id, fias_guid, address, created_at, \
                     updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
                    params![org, fias(h), format!("bench house {h}"), t],
                )?;
            }
            Ok(())
        })
        .expect("seed houses");
}

fn open(dir: &std::path::Path) -> Store {
    Store::open(&Options {
        data_dir: dir.to_path_buf(),
        synchronous: Synchronous::Full,
        pool_size: 2,
    })
    .expect("store")
}

fn main() {
    let houses = support::env_number("BENCH_HOUSES", 500);
    let flats = support::env_number("BENCH_FLATS", 200);
    let accounts = houses * flats;
    let meters = accounts * 2;
    println!(
        "ГИС ЖКХ sync: {houses} houses × {flats} flats = {accounts} accounts, {meters} meters"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(dir.path());
    seed_houses(&store, houses);
    drop(store);
    let mock = start_mock(houses, flats);

    let started = Instant::now();
    // Reaped by wait4 below, which also gives its peak memory; std's wait cannot.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(support::binary())
        .args(["gis", "sync", "--data-dir"])
        .arg(dir.path())
        .env_remove("GOSDOM_CONFIG")
        .env("GOSDOM_GIS__BASE_URL", &mock)
        .env("GOSDOM_GIS__ORG_PPA_GUID", ORG)
        .env("GOSDOM_GIS__POLL_SECONDS", "[0]")
        .env("GOSDOM_LOG__LEVEL", "warn")
        .current_dir(dir.path())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start gosdom gis sync");
    let (status, peak_kb, cpu) = wait_with_peak(child.id());
    let took = started.elapsed();
    assert_eq!(status, 0, "gosdom gis sync failed");

    let store = open(dir.path());
    let conn = store.conn().expect("connection");
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect("count") };
    let synced_accounts = count("SELECT count(*) FROM accounts WHERE gis_guid IS NOT NULL");
    let synced_meters = count("SELECT count(*) FROM meters WHERE root_guid IS NOT NULL");
    assert_eq!(synced_accounts as usize, accounts, "every account synced");
    assert_eq!(synced_meters as usize, meters, "every meter synced");
    drop(conn);
    drop(store);

    let raw = raw_inserts(houses, flats);
    println!(
        "sync: {:.1} s (the sync process used {:.1} s of CPU), peak RSS {:.1} MB; \
         raw SQLite inserts of the same rows {:.1} s",
        took.as_secs_f64(),
        cpu.as_secs_f64(),
        peak_kb as f64 / 1024.0,
        raw.as_secs_f64()
    );
    result(
        &format!("(d) ГИС ЖКХ sync, {accounts} accounts + {meters} meters: time"),
        took.as_secs_f64(),
        "s",
        Some(("raw SQLite inserts", raw.as_secs_f64())),
        Target::Below(60.0),
    );
    result(
        &format!("(d) ГИС ЖКХ sync, {accounts} accounts: peak memory (VmHWM)"),
        peak_kb as f64 / 1024.0,
        "MB",
        None,
        Target::Below(300.0),
    );
}

/// Waits for the child with `wait4`: its exit code, its peak RSS in kB and its CPU time.
fn wait_with_peak(pid: u32) -> (i32, u64, Duration) {
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value that wait4 overwrites.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, the pointers live for the call.
    let waited = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid as libc::pid_t, "wait4");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    let cpu = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (
        code,
        usage.ru_maxrss as u64,
        cpu(usage.ru_utime) + cpu(usage.ru_stime),
    )
}

/// The same premises, accounts and meters inserted directly, one transaction per house.
fn raw_inserts(houses: usize, flats: usize) -> Duration {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(dir.path());
    seed_houses(&store, houses);
    let t = "2026-12-03T00:00:00Z";
    let started = Instant::now();
    for h in 0..houses {
        store
            .write_blocking(|tx| {
                let house = (h + 1) as i64;
                let mut premise = tx.prepare_cached(
                    "INSERT INTO premises (house_id, number, kind, premises_guid, created_at, \
                     updated_at) VALUES (?1, ?2, 'flat', ?3, ?4, ?4)",
                )?;
                let mut account = tx.prepare_cached(
                    "INSERT INTO accounts (premise_id, number, unified_number, gis_guid, \
                     created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                )?;
                let mut meter = tx.prepare_cached(
                    "INSERT INTO meters (premise_id, root_guid, serial, resource, tariffs, unit, \
                     created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                )?;
                for n in 1..=flats {
                    premise.execute(params![house, n.to_string(), guid(1, h, n), t])?;
                    let id = tx.last_insert_rowid();
                    account.execute(params![
                        id,
                        format!("{h:04}{n:05}"),
                        format!("12АБ{h:04}{n:05}"),
                        guid(2, h, n),
                        t
                    ])?;
                    meter.execute(params![
                        id,
                        guid(3, h, n),
                        format!("CW{h}-{n}"),
                        "cold_water",
                        1,
                        "m3",
                        t
                    ])?;
                    meter.execute(params![
                        id,
                        guid(4, h, n),
                        format!("EL{h}-{n}"),
                        "electricity",
                        2,
                        "kWh",
                        t
                    ])?;
                }
                Ok(())
            })
            .expect("raw inserts");
    }
    started.elapsed()
}
