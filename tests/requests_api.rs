//! «Заявки» through the resident API, in sandbox mode (demo data, sandbox ЕСИА): filing
//! with photos, reading, commenting, and everything someone else must not reach.

mod common;

use common::*;
use rocket::http::Status;
use serde_json::{json, Value};

/// The first premise of the signed-in resident.
async fn premise_of(h: &Harness, token: &str) -> i64 {
    let (status, list) = h.get("/api/v1/properties", token).await;
    assert_eq!(status, Status::Ok, "{list}");
    list["items"][0]["id"].as_i64().unwrap()
}

fn leak(premise: i64) -> Value {
    json!({
        "place": "flat",
        "problem": "water.leak",
        "text": "Течёт кран на кухне, вода капает на пол",
        "premise_id": premise,
    })
}

#[rocket::async_test]
async fn a_resident_files_a_request_with_two_photos_and_sees_it() {
    let h = harness().await;
    let token = signed_in(&h, 11, "1000000001").await;
    let premise = premise_of(&h, &token).await;

    let q: String = form_urlencoded::byte_serialize("кран".as_bytes()).collect();
    let (status, cats) = h.get(&format!("/api/v1/categories?q={q}"), &token).await;
    assert_eq!(status, Status::Ok, "{cats}");
    assert!(cats.to_string().contains("water"), "{cats}");

    let body = multipart(
        "request",
        &leak(premise),
        &[("kitchen.jpg", jpeg(1)), ("floor.jpg", jpeg(2))],
    );
    let (status, card) = h.post_form("/api/v1/requests", &token, body).await;
    assert_eq!(status, Status::Created, "{card}");
    let id = card["id"].as_i64().unwrap();
    assert_eq!(card["status"], "new");
    let photos = card["photos"].as_array().unwrap();
    assert_eq!(photos.len(), 2, "{card}");

    let (status, list) = h.get("/api/v1/requests", &token).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(list["requests"][0]["id"], id);

    // The photo comes back without its location data.
    let photo = photos[0]["id"].as_i64().unwrap();
    let (status, ct, bytes) = h
        .get_bytes(&format!("/api/v1/requests/{id}/photos/{photo}"), &token)
        .await;
    assert_eq!(status, Status::Ok);
    assert_eq!(ct.as_deref(), Some("image/jpeg"));
    assert!(!String::from_utf8_lossy(&bytes).contains("GPSLatitude"));

    let body = multipart(
        "comment",
        &json!({"text": "Вода уже у соседей снизу"}),
        &[("more.jpg", jpeg(3))],
    );
    let (status, card) = h
        .post_form(&format!("/api/v1/requests/{id}/comments"), &token, body)
        .await;
    assert_eq!(status, Status::Ok, "{card}");
    let events = card["events"].as_array().unwrap();
    let comment = events.iter().find(|e| e["kind"] == "comment").unwrap();
    assert_eq!(comment["photos"].as_array().unwrap().len(), 1);

    let (status, again) = h.get(&format!("/api/v1/requests/{id}"), &token).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(again["number"], card["number"]);
}

#[rocket::async_test]
async fn another_resident_gets_404_on_read_comment_and_photo() {
    let h = harness().await;
    let owner = signed_in(&h, 11, "1000000001").await;
    let premise = premise_of(&h, &owner).await;
    let body = multipart("request", &leak(premise), &[("a.jpg", jpeg(1))]);
    let (status, card) = h.post_form("/api/v1/requests", &owner, body).await;
    assert_eq!(status, Status::Created, "{card}");
    let id = card["id"].as_i64().unwrap();
    let photo = card["photos"][0]["id"].as_i64().unwrap();

    let other = signed_in(&h, 22, "1000000002").await;
    let (status, body) = h.get(&format!("/api/v1/requests/{id}"), &other).await;
    assert_eq!(status, Status::NotFound);
    assert_eq!(body["error"]["code"], "not_found");

    let form = multipart("comment", &json!({"text": "чужая заявка"}), &[]);
    let (status, body) = h
        .post_form(&format!("/api/v1/requests/{id}/comments"), &other, form)
        .await;
    assert_eq!(status, Status::NotFound, "{body}");
    assert_eq!(body["error"]["code"], "not_found");

    let (status, _, bytes) = h
        .get_bytes(&format!("/api/v1/requests/{id}/photos/{photo}"), &other)
        .await;
    assert_eq!(status, Status::NotFound);
    assert!(String::from_utf8_lossy(&bytes).contains("not_found"));

    // Their own list does not show it, and the owner's comment count is unchanged.
    let (_, list) = h.get("/api/v1/requests", &other).await;
    assert_eq!(list["requests"].as_array().unwrap().len(), 0);
    let (_, card) = h.get(&format!("/api/v1/requests/{id}"), &owner).await;
    assert!(card["events"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["kind"] != "comment"));
}

/// Files of one form: (name, bytes).
type Files = Vec<(&'static str, Vec<u8>)>;

#[rocket::async_test]
async fn bad_uploads_are_refused_with_the_json_error_shape() {
    let h = harness_with(|c| c.requests.max_photo_bytes = 64 * 1024, now()).await;
    let token = signed_in(&h, 11, "1000000001").await;
    let premise = premise_of(&h, &token).await;

    let cases: Vec<(Files, &str)> = vec![
        (
            vec![("notes.jpg", b"just some text".to_vec())],
            "unsupported_photo_type",
        ),
        (vec![("big.jpg", vec![0xFF; 70 * 1024])], "photo_too_large"),
        (
            (0..6).map(|i| ("p.jpg", jpeg(i))).collect(),
            "too_many_photos",
        ),
        (vec![("cut.jpg", jpeg(1)[..40].to_vec())], "photo_truncated"),
    ];
    for (files, code) in cases {
        let body = multipart("request", &leak(premise), &files);
        let (status, body) = h.post_form("/api/v1/requests", &token, body).await;
        assert!(status.class().is_client_error(), "{code}: {status} {body}");
        assert_eq!(body["error"]["code"], code, "{body}");
        assert!(body["error"]["message"].as_str().unwrap().len() > 10);
    }

    // A form without the request part.
    let res = h
        .client
        .post("/api/v1/requests")
        .header(bearer(&token))
        .header(form_type())
        .body(format!("--{BOUNDARY}--\r\n"))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    let body: Value = res.into_json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_form");

    // Nothing was filed.
    let (_, list) = h.get("/api/v1/requests", &token).await;
    assert_eq!(list["requests"].as_array().unwrap().len(), 0);
}
