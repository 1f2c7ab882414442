//! The screen «Показания» through the HTTP API, in sandbox mode (demo data, sandbox ЕСИА):
//! a signed-in owner sees their meters and the window, submits several meters in one call,
//! reads a meter's history; someone else's premise or meter is 404.

mod common;

use common::*;
use rocket::http::{ContentType, Status};
use serde_json::{json, Value};
use time::macros::datetime;
use time::OffsetDateTime;

/// 21 January 2027, 13:00 in Moscow: inside the default window (20th–25th).
fn in_window() -> OffsetDateTime {
    datetime!(2027-01-21 10:00 UTC)
}

/// A session signed in through the sandbox ЕСИА as the demo person `oid`.
async fn signed_in(h: &Harness, user: i64, oid: &str) -> String {
    let token = h.session(user).await;
    let start = h.esia_start_link(&token).await;
    let login = location(&h.client.get(start).dispatch().await);
    let state = query_value(&login, "state").unwrap();
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("state", &state)
        .append_pair("oid", oid)
        .append_pair("decision", "allow")
        .finish();
    let res = h
        .client
        .post("/dev/esia/login")
        .header(ContentType::Form)
        .body(form)
        .dispatch()
        .await;
    let callback = location(&res);
    let back = location(&h.client.get(callback).dispatch().await);
    let code = query_value(&back, "esia").unwrap();
    let (status, me) = h
        .post(
            "/api/v1/session/esia/complete",
            &token,
            json!({ "code": code }),
        )
        .await;
    assert_eq!(status, Status::Ok, "{me}");
    token
}

async fn first_property(h: &Harness, token: &str) -> i64 {
    let (status, list) = h.get("/api/v1/properties", token).await;
    assert_eq!(status, Status::Ok, "{list}");
    list["items"][0]["id"].as_i64().unwrap()
}

/// `value + step`, three decimals, with a comma as a Russian keypad types it.
fn plus(value: &Value, step: f64) -> String {
    let v: f64 = value.as_str().unwrap().parse().unwrap();
    format!("{:.3}", v + step).replace('.', ",")
}

fn canonical(typed: &str) -> String {
    let text = typed.replace(',', ".");
    let text = text.trim_end_matches('0');
    text.trim_end_matches('.').to_string()
}

#[rocket::async_test]
async fn an_owner_submits_several_meters_and_sees_each_result() {
    let h = harness_with(|_| {}, in_window()).await;
    let token = signed_in(&h, 41, "1000000001").await;
    let premise = first_property(&h, &token).await;

    let (status, body) = h
        .get(&format!("/api/v1/properties/{premise}/meters"), &token)
        .await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["window"]["open"], true);
    assert_eq!(body["window"]["closes_on"], "2027-01-25");
    let meters: Vec<Value> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["locked"] == false)
        .cloned()
        .collect();
    assert!(meters.len() >= 3, "{body}");
    for m in &meters {
        assert_eq!(m["last"]["status"], "confirmed", "{m}");
        assert_eq!(m["last"]["taken_on"], "2026-12-22");
        assert_eq!(m["submitted_this_period"], false);
    }

    // Every meter but the last one gets a slightly higher value typed with a comma; the
    // last one gets a lower value.
    let (lower, higher) = meters.split_last().unwrap();
    let mut readings: Vec<Value> = higher
        .iter()
        .map(|m| {
            let values: Vec<String> = m["last"]["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| plus(v, 0.1))
                .collect();
            json!({"meter_id": m["id"], "values": values})
        })
        .collect();
    let lower_values: Vec<String> = lower["last"]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| plus(v, -1.0))
        .collect();
    readings.push(json!({"meter_id": lower["id"], "values": lower_values}));

    let (status, body) = h
        .post(
            &format!("/api/v1/properties/{premise}/readings"),
            &token,
            json!({ "readings": readings }),
        )
        .await;
    assert_eq!(status, Status::Ok, "{body}");
    let results = body["meters"].as_array().unwrap();
    assert_eq!(results.len(), meters.len());
    assert_eq!(body["accepted"], higher.len());
    for (sent, result) in readings.iter().zip(results) {
        assert_eq!(result["meter_id"], sent["meter_id"]);
    }
    for result in &results[..higher.len()] {
        assert_eq!(result["result"], "accepted", "{result}");
    }
    let refused = results.last().unwrap();
    assert_eq!(refused["result"], "refused");
    assert_eq!(refused["problem"]["code"], "lower_than_previous");
    assert!(refused["problem"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Значение меньше предыдущего"));

    // The screen now shows the new value, and the history keeps the old one.
    let (_, body) = h
        .get(&format!("/api/v1/properties/{premise}/meters"), &token)
        .await;
    let first = &body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == higher[0]["id"])
        .unwrap()
        .clone();
    assert_eq!(first["submitted_this_period"], true);
    assert_eq!(first["last"]["taken_on"], "2027-01-21");
    let typed = readings[0]["values"][0].as_str().unwrap();
    assert_eq!(first["last"]["values"][0], canonical(typed));

    let (status, history) = h
        .get(
            &format!("/api/v1/meters/{}/readings", higher[0]["id"]),
            &token,
        )
        .await;
    assert_eq!(status, Status::Ok, "{history}");
    let items = history["items"].as_array().unwrap();
    assert_eq!(items[0]["status"], "accepted");
    assert_eq!(items[0]["source"], "resident");
    assert_eq!(items[1]["taken_on"], "2026-12-22");
    assert_eq!(items.len(), 13, "twelve demo months and the new one");
    let (_, short) = h
        .get(
            &format!("/api/v1/meters/{}/readings?limit=2", higher[0]["id"]),
            &token,
        )
        .await;
    assert_eq!(short["items"].as_array().unwrap().len(), 2);
}

#[rocket::async_test]
async fn bad_input_is_answered_in_russian_per_meter_or_for_the_call() {
    let h = harness_with(|_| {}, in_window()).await;
    let token = signed_in(&h, 42, "1000000001").await;
    let premise = first_property(&h, &token).await;
    let (_, body) = h
        .get(&format!("/api/v1/properties/{premise}/meters"), &token)
        .await;
    let meter = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["locked"] == false && m["tariffs"] == 1)
        .unwrap()
        .clone();
    let path = format!("/api/v1/properties/{premise}/readings");

    let cases = [
        (json!(["12a"]), "invalid_value"),
        (json!(["1,2,3"]), "invalid_value"),
        (json!(["1", "2"]), "wrong_tariff_count"),
        (json!(["123456789"]), "too_many_digits"),
    ];
    for (values, code) in cases {
        let (status, body) = h
            .post(
                &path,
                &token,
                json!({"readings": [{"meter_id": meter["id"], "values": values}]}),
            )
            .await;
        assert_eq!(status, Status::Ok, "{body}");
        let result = &body["meters"][0];
        assert_eq!(result["result"], "refused", "{values}: {result}");
        assert_eq!(result["problem"]["code"], code, "{values}");
        assert!(result["problem"]["message"]
            .as_str()
            .unwrap()
            .chars()
            .any(|c| ('а'..='я').contains(&c)));
    }

    let (status, body) = h
        .post(
            &path,
            &token,
            json!({"readings": [{"meter_id": 999_999, "values": ["1"]}]}),
        )
        .await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body["meters"][0]["problem"]["code"], "meter_not_found");

    let (status, body) = h.post(&path, &token, json!({"readings": []})).await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(body["error"]["code"], "no_readings");
    let (status, body) = h.post(&path, &token, json!({"values": "1"})).await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(body["error"]["code"], "invalid_body");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("показания"));
}

#[rocket::async_test]
async fn someone_elses_premise_and_meter_answer_404() {
    let h = harness_with(|_| {}, in_window()).await;
    let anna = signed_in(&h, 43, "1000000001").await;
    let petr = signed_in(&h, 44, "1000000002").await;
    let petr_premise = first_property(&h, &petr).await;
    let (_, body) = h
        .get(&format!("/api/v1/properties/{petr_premise}/meters"), &petr)
        .await;
    let petr_meter = body["items"][0].clone();

    for premise in [petr_premise, 999_999] {
        let (status, body) = h
            .get(&format!("/api/v1/properties/{premise}/meters"), &anna)
            .await;
        assert_eq!(status, Status::NotFound, "{body}");
        assert_eq!(body["error"]["code"], "not_found");
        let (status, body) = h
            .post(
                &format!("/api/v1/properties/{premise}/readings"),
                &anna,
                json!({"readings": [{"meter_id": petr_meter["id"], "values": ["1"]}]}),
            )
            .await;
        assert_eq!(status, Status::NotFound, "{body}");
    }
    let (status, _) = h
        .get(
            &format!("/api/v1/meters/{}/readings", petr_meter["id"]),
            &anna,
        )
        .await;
    assert_eq!(status, Status::NotFound);

    // Petr's meter cannot be slipped into Anna's own premise either.
    let anna_premise = first_property(&h, &anna).await;
    let (status, body) = h
        .post(
            &format!("/api/v1/properties/{anna_premise}/readings"),
            &anna,
            json!({"readings": [{"meter_id": petr_meter["id"], "values": ["99999"]}]}),
        )
        .await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body["meters"][0]["problem"]["code"], "meter_not_found");
    let (_, history) = h
        .get(
            &format!("/api/v1/meters/{}/readings", petr_meter["id"]),
            &petr,
        )
        .await;
    assert_eq!(history["items"][0]["source"], "demo");

    // Not signed in via ЕСИА yet: told to sign in.
    let fresh = h.session(45).await;
    let (status, body) = h
        .get(&format!("/api/v1/properties/{anna_premise}/meters"), &fresh)
        .await;
    assert_eq!(status, Status::Forbidden);
    assert_eq!(body["error"]["code"], "sign_in_required");
}

/// In the sandbox the demo УО takes readings on any day: on 5 January, far outside the
/// default window (20th–25th), a demo owner still submits; production's default is unchanged.
#[rocket::async_test]
async fn the_sandbox_demo_uo_takes_readings_on_any_day() {
    assert!(!gosdom::config::Config::default().readings.any_day);
    let h = harness_with(|_| {}, datetime!(2027-01-05 10:00 UTC)).await;
    let token = signed_in(&h, 42, "1000000001").await;
    let premise = first_property(&h, &token).await;
    let (status, body) = h
        .get(&format!("/api/v1/properties/{premise}/meters"), &token)
        .await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["window"]["open"], true, "{body}");
}
