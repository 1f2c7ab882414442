//! Issue #7's deadline rules through the APIs: deferring a request until a date does not
//! move its legal deadline, and a request the resident reopens keeps its number (and its
//! deadline).

mod common;
#[path = "common/gisflow.rs"]
mod gisflow;

use common::{multipart, signed_in};
use gosdom::domain::console::Role;
use rocket::http::Status;
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

#[rocket::async_test]
async fn deferring_keeps_the_legal_deadline_and_reopening_keeps_the_number() {
    let live = gisflow::start(common::now(), |_| {}).await;
    let token = signed_in(&live.h, 11, "1000000001").await;
    let (_, list) = live.h.get("/api/v1/properties", &token).await;
    let premise = list["items"][0]["id"].as_i64().unwrap();
    let body = multipart(
        "request",
        &json!({"place": "flat", "problem": "intercom.broken",
                "text": "Домофон не открывает дверь подъезда", "premise_id": premise}),
        &[],
    );
    let (status, filed) = live.h.post_form("/api/v1/requests", &token, body).await;
    assert_eq!(status, Status::Created, "{filed}");
    let id = filed["id"].as_i64().unwrap();
    let number = filed["number"].as_str().unwrap().to_string();
    let deadline = filed["deadline_at"].as_str().unwrap().to_string();
    let due = OffsetDateTime::parse(&deadline, &Rfc3339).unwrap();

    // Deferred until well after the deadline: the legal deadline stays where it was.
    let csrf = live.staff("dispatcher", Role::Operator).await;
    let until = (due + time::Duration::days(20)).date();
    let (status, card) = live
        .staff_post(
            &format!("/requests/{id}/status"),
            &csrf,
            json!({"status": "deferred", "reason": "Ждём мастера по домофонам",
                   "deferred_until": until.to_string()}),
        )
        .await;
    assert_eq!(status, Status::Ok, "{card}");
    assert_eq!(card["status"], "deferred");
    assert_eq!(card["deadline_at"], deadline.as_str(), "{card}");
    let (_, mine) = live.h.get(&format!("/api/v1/requests/{id}"), &token).await;
    assert_eq!(mine["deadline_at"], deadline.as_str(), "{mine}");

    // Worked and done; the resident reopens it: the same number, the same deadline.
    for step in [json!({"status": "in_work"}), json!({"status": "done"})] {
        let (status, card) = live
            .staff_post(&format!("/requests/{id}/status"), &csrf, step)
            .await;
        assert_eq!(status, Status::Ok, "{card}");
    }
    let (status, reopened) = live
        .h
        .post(
            &format!("/api/v1/requests/{id}/reopen"),
            &token,
            json!({"reason": "Домофон снова не работает"}),
        )
        .await;
    assert_eq!(status, Status::Ok, "{reopened}");
    assert_eq!(reopened["status"], "reopened");
    assert_eq!(reopened["number"], number.as_str());
    assert_eq!(reopened["deadline_at"], deadline.as_str());
    let (_, queue) = live.staff_get("/requests").await;
    let row = queue["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .cloned()
        .unwrap();
    assert_eq!(row["number"], number.as_str());
    assert_eq!(
        live.count("SELECT COUNT(*) FROM requests"),
        1,
        "reopening files no new request"
    );
}
