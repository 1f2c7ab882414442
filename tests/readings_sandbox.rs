//! Readings end to end in sandbox mode (issue #6): a resident signs in, submits four meters
//! (cold and hot water, two-tariff electricity, heat) in one call; the service's own
//! ГИС ЖКХ client sends ONE importMeteringDeviceValues with four values to the sandbox
//! ГИС ЖКХ, which validates it against the XSD; the statuses become confirmed and the
//! resident sees it. The НСИ 2 references water and heat need are loaded at start-up;
//! without them a batch waits and the exchange screen says why.

mod common;
#[path = "common/gisflow.rs"]
mod gisflow;

use common::{signed_in, xmllint_validate};
use gosdom::domain::console::Role;
use rocket::http::Status;
use serde_json::{json, Value};
use time::Duration;

const METERING_XSD: &str = "device-metering/hcs-device-metering-types.xsd";
/// A demo owner of flat 31 in the second demo house: water, heat, two-tariff electricity.
const OID: &str = "1000000002";

/// 21 January 2027, 13:00 in Moscow: inside the default window (20th–25th).
fn in_window() -> time::OffsetDateTime {
    time::macros::datetime!(2027-01-21 10:00 UTC)
}

/// The four meters, one reading each a little above the last one.
async fn four_meters(live: &gisflow::Live, token: &str) -> (i64, Vec<Value>, Value) {
    let h = &live.h;
    let (_, list) = h.get("/api/v1/properties", token).await;
    let premise = list["items"][0]["id"].as_i64().unwrap();
    let (_, body) = h
        .get(&format!("/api/v1/properties/{premise}/meters"), token)
        .await;
    let meters: Vec<Value> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["locked"] == false)
        .cloned()
        .collect();
    let kinds: Vec<(String, u64)> = meters
        .iter()
        .map(|m| {
            (
                m["resource"].as_str().unwrap().to_string(),
                m["tariffs"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(meters.len(), 4, "{body}");
    for kind in [
        ("cold_water", 1),
        ("hot_water", 1),
        ("electricity", 2),
        ("heat", 1),
    ] {
        assert!(
            kinds.contains(&(kind.0.to_string(), kind.1)),
            "{kind:?} in {kinds:?}"
        );
    }
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
    (premise, meters, json!({ "readings": readings }))
}

async fn statuses(live: &gisflow::Live, token: &str, meters: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for m in meters {
        let (_, history) = live
            .h
            .get(&format!("/api/v1/meters/{}/readings", m["id"]), token)
            .await;
        assert_eq!(history["items"][0]["source"], "resident", "{history}");
        out.push(history["items"][0]["status"].as_str().unwrap().to_string());
    }
    out
}

#[rocket::async_test]
async fn four_meters_reach_the_sandbox_gis_in_one_valid_import_and_come_back_confirmed() {
    let live = gisflow::start(in_window(), |_| {}).await;

    // The first start loads НСИ 2 (and 27) from the sandbox ГИС ЖКХ.
    live.advance_until("the НСИ cache", Duration::seconds(30), 60, || async {
        live.count("SELECT COUNT(*) FROM gis_nsi WHERE registry = 2") > 0
    })
    .await;

    let token = signed_in(&live.h, 52, OID).await;
    let (premise, meters, readings) = four_meters(&live, &token).await;
    let (status, body) = live
        .h
        .post(
            &format!("/api/v1/properties/{premise}/readings"),
            &token,
            readings,
        )
        .await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["accepted"], 4, "{body}");

    live.advance_until(
        "four confirmed readings",
        Duration::seconds(30),
        60,
        || async { statuses(&live, &token, &meters).await == ["confirmed"; 4] },
    )
    .await;

    let imports = live.received("importMeteringDeviceValues").await;
    assert_eq!(imports.len(), 1, "one message for the four meters");
    assert_eq!(imports[0]["valid"], true, "{}", imports[0]);
    let body = imports[0]["body"].as_str().unwrap();
    xmllint_validate(METERING_XSD, body).unwrap();
    assert_eq!(body.matches("<base:TransportGUID>").count(), 4, "{body}");
    assert!(body.contains("MeteringValueT2"), "two tariffs: {body}");
    let resource_guid = |code: &str| -> String {
        live.store
            .conn()
            .unwrap()
            .query_row(
                "SELECT guid FROM gis_nsi WHERE registry = 2 AND code = ?1",
                [code],
                |r| r.get(0),
            )
            .unwrap()
    };
    for code in ["1", "2", "5"] {
        assert!(body.contains(&resource_guid(code)), "НСИ 2 {code}: {body}");
    }

    // The resident's screen shows the confirmation.
    let (_, view) = live
        .h
        .get(&format!("/api/v1/properties/{premise}/meters"), &token)
        .await;
    let text = view.to_string();
    assert_eq!(text.matches("\"confirmed\"").count(), 4, "{view}");
}

#[rocket::async_test]
async fn without_the_nsi_cache_delivery_waits_and_the_exchange_says_why() {
    let live = gisflow::start(in_window(), |_| {}).await;
    live.advance_until("the НСИ cache", Duration::seconds(30), 60, || async {
        live.count("SELECT COUNT(*) FROM gis_nsi WHERE registry = 2") > 0
    })
    .await;
    // As on a server whose registry has not come yet.
    live.store
        .write_blocking(|tx| {
            tx.execute("DELETE FROM gis_nsi", [])?;
            Ok(())
        })
        .unwrap();

    let token = signed_in(&live.h, 53, OID).await;
    let (premise, meters, readings) = four_meters(&live, &token).await;
    let (status, body) = live
        .h
        .post(
            &format!("/api/v1/properties/{premise}/readings"),
            &token,
            readings,
        )
        .await;
    assert_eq!(status, Status::Ok, "{body}");

    live.staff("admin", Role::Admin).await;
    let waiting = || async {
        let (_, exchange) = live.staff_get("/exchange").await;
        exchange["waiting"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["kind"] == "gis.import_readings")
            .cloned()
    };
    live.advance_until("the waiting batch", Duration::seconds(30), 60, || async {
        waiting().await.is_some()
    })
    .await;
    let job = waiting().await.unwrap();
    assert!(job["reason"].as_str().unwrap().contains("НСИ 2"), "{job}");
    assert_eq!(
        live.count(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'gis.import_readings' AND state = 'failed'"
        ),
        0
    );
    assert!(statuses(&live, &token, &meters)
        .await
        .iter()
        .all(|s| s == "accepted"));
    assert!(live.received("importMeteringDeviceValues").await.is_empty());

    // The registry arrives (the nightly sync): the batch goes and is confirmed.
    live.store
        .write_blocking(|tx| {
            let at = gosdom::store::ts(in_window());
            for (code, guid, name) in gosdom::sandbox::gis_xml::NSI_RESOURCES {
                tx.execute(
                    "INSERT INTO gis_nsi (registry, code, guid, name, actual, updated_at) \
                     VALUES (2, ?1, ?2, ?3, 1, ?4)",
                    rusqlite::params![code, guid, name, at],
                )?;
            }
            Ok(())
        })
        .unwrap();
    live.advance_until(
        "four confirmed readings",
        Duration::seconds(30),
        60,
        || async { statuses(&live, &token, &meters).await == ["confirmed"; 4] },
    )
    .await;
    assert_eq!(live.received("importMeteringDeviceValues").await.len(), 1);
}
