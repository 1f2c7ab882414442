//! Helpers of the requests tests: a signed-in resident, multipart forms, test photos.
#![allow(dead_code)]

use rocket::http::{ContentType, Status};
use serde_json::{json, Value};

use super::resident::{bearer, location, query_value, Harness};

/// Runs the sandbox ЕСИА for `oid` and binds the session of MAX user `user` to them.
pub async fn signed_in(h: &Harness, user: i64, oid: &str) -> String {
    let token = h.session(user).await;
    let start = h.esia_start_link(&token).await;
    let res = h.client.get(start).dispatch().await;
    let login = location(&res);
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
    let res = h.client.get(callback).dispatch().await;
    let back = location(&res);
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

/// A small JPEG; `seed` makes each one different.
pub fn jpeg(seed: u8) -> Vec<u8> {
    let seg = |marker: u8, body: &[u8]| {
        let mut s = vec![0xFF, marker];
        s.extend_from_slice(&u16::try_from(body.len() + 2).unwrap().to_be_bytes());
        s.extend_from_slice(body);
        s
    };
    let mut b = vec![0xFF, 0xD8];
    b.extend(seg(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
    b.extend(seg(0xE1, b"Exif\0\0GPSLatitude=55.7558"));
    b.extend(seg(0xDB, &[seed; 65]));
    b.extend(seg(0xDA, &[1, 1, 0, 0, 63, 0]));
    b.extend_from_slice(&[0x12, seed, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD9]);
    b
}

pub const BOUNDARY: &str = "gosdom-test-boundary";

/// A multipart body: one JSON part named `json_name`, then each file as `photos`.
pub fn multipart(json_name: &str, json: &Value, files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{json_name}\"\r\n\
             Content-Type: application/json\r\n\r\n{json}\r\n"
        )
        .as_bytes(),
    );
    for (name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"photos\"; \
                 filename=\"{name}\"\r\nContent-Type: image/jpeg\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub fn form_type() -> ContentType {
    ContentType::new("multipart", "form-data").with_params(("boundary", BOUNDARY))
}

impl Harness {
    /// POSTs a multipart form; (status, JSON body).
    pub async fn post_form(&self, path: &str, token: &str, body: Vec<u8>) -> (Status, Value) {
        let res = self
            .client
            .post(path.to_string())
            .header(bearer(token))
            .header(form_type())
            .body(body)
            .dispatch()
            .await;
        let status = res.status();
        (status, res.into_json().await.unwrap_or(Value::Null))
    }

    /// GETs raw bytes; (status, content type, bytes).
    pub async fn get_bytes(&self, path: &str, token: &str) -> (Status, Option<String>, Vec<u8>) {
        let res = self
            .client
            .get(path.to_string())
            .header(bearer(token))
            .dispatch()
            .await;
        let status = res.status();
        let ct = res.content_type().map(|c| c.to_string());
        (status, ct, res.into_bytes().await.unwrap_or_default())
    }
}
