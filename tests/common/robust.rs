//! Helpers of the reliability tests (schemathesis, crash, faults): plain HTTP to the real
//! binary without following redirects, a resident signed in through the sandbox ЕСИА, a
//! multipart request body, the child's RSS and SQLite's integrity check.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use gosdom::connectors::max::launch;
use serde_json::{json, Value};

/// A demo person of the sandbox who owns a flat with meters.
pub const DEMO_OID: &str = "1000000001";

pub fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

/// An answer: status, body as JSON (Null when it is not JSON), `Location` if any.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub location: Option<String>,
}

/// One call to `base` + `path`; `Err` only when no answer came (refused, reset, timeout).
pub fn call(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<(&str, Vec<u8>)>,
) -> Result<Answer, ureq::Error> {
    let request = ureq::http::Request::builder().method(method).uri(url);
    let request = match token {
        Some(t) => request.header("Authorization", format!("Bearer {t}")),
        None => request,
    };
    let request = match &body {
        Some((content_type, _)) => request.header("Content-Type", *content_type),
        None => request,
    };
    let request = request
        .body(body.map(|(_, b)| b).unwrap_or_default())
        .expect("a well-formed request");
    let mut res = agent.run(request)?;
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("Location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let text = res.body_mut().read_to_string()?;
    Ok(Answer {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        location,
    })
}

pub fn json_body(value: &Value) -> Option<(&'static str, Vec<u8>)> {
    Some(("application/json", value.to_string().into_bytes()))
}

/// A multipart form with one JSON part `name` and no photos.
pub fn multipart_json(name: &str, value: &Value) -> Option<(String, Vec<u8>)> {
    let boundary = format!("gosdom{:016x}", rand::random::<u64>());
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\
         Content-Type: application/json\r\n\r\n{value}\r\n--{boundary}--\r\n"
    );
    Some((
        format!("multipart/form-data; boundary={boundary}"),
        body.into_bytes(),
    ))
}

/// Launch data for MAX user `user_id`, signed with `bot_token` now.
pub fn launch_data_now(user_id: i64, bot_token: &str) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    launch::sign(
        &[
            ("auth_date", now.to_string()),
            ("query_id", format!("q-{user_id}")),
            (
                "user",
                json!({"id": user_id, "first_name": "Тест", "language_code": "ru"}).to_string(),
            ),
        ],
        bot_token,
    )
}

/// The sandbox bot token the server generated in its data dir (no `max.token` set).
pub fn sandbox_bot_token(data_dir: &Path) -> String {
    std::fs::read_to_string(data_dir.join("sandbox_bot_token"))
        .expect("the sandbox keeps its bot token in the data dir")
        .trim()
        .to_string()
}

/// A session of MAX user `user_id` signed in through the sandbox ЕСИА as demo person `oid`,
/// the way the mini-app does it: launch data → session → ЕСИА start → the sandbox login
/// page's form → callback → completion code.
pub fn signed_in_session(base: &str, bot_token: &str, user_id: i64, oid: &str) -> String {
    let http = agent(Duration::from_secs(20));
    let init = json!({ "init_data": launch_data_now(user_id, bot_token) });
    let opened = call(
        &http,
        "POST",
        &format!("{base}/api/v1/session"),
        None,
        json_body(&init),
    )
    .expect("session answered");
    assert_eq!(opened.status, 200, "{:?}", opened.body);
    let token = opened.body["token"].as_str().expect("a token").to_string();

    let started = call(
        &http,
        "POST",
        &format!("{base}/api/v1/session/esia"),
        Some(&token),
        None,
    )
    .expect("esia start answered");
    assert_eq!(started.status, 200, "{:?}", started.body);
    let start_url = format!("{base}{}", started.body["url"].as_str().expect("a url"));
    let redirect = call(&http, "GET", &start_url, None, None).expect("start redirects");
    let login = redirect.location.expect("to the sandbox login page");
    let state = login
        .split_once("state=")
        .map(|(_, s)| s.split('&').next().unwrap_or(s).to_string())
        .expect("a state");
    let state = form_urlencoded::parse(format!("s={state}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("state", &state)
        .append_pair("oid", oid)
        .append_pair("decision", "allow")
        .finish();
    let chosen = call(
        &http,
        "POST",
        &format!("{base}/dev/esia/login"),
        None,
        Some(("application/x-www-form-urlencoded", form.into_bytes())),
    )
    .expect("login answered");
    let callback = chosen.location.expect("back to the callback");
    let back = call(&http, "GET", &format!("{base}{callback}"), None, None).expect("callback");
    let app = back.location.expect("to the app with a completion code");
    let code = app
        .split_once("esia=")
        .expect("a completion code")
        .1
        .to_string();
    let done = call(
        &http,
        "POST",
        &format!("{base}/api/v1/session/esia/complete"),
        Some(&token),
        json_body(&json!({ "code": code })),
    )
    .expect("complete answered");
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert_eq!(done.body["signed_in"], true, "{:?}", done.body);
    token
}

/// Resident set size of process `pid` in KiB (Linux).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Opens the database in `data_dir` for assertions.
pub fn open_db(data_dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(data_dir.join(gosdom::store::DB_FILE)).unwrap()
}

/// `PRAGMA integrity_check` of the database in `data_dir` (the server must be stopped).
pub fn integrity_check(data_dir: &Path) -> String {
    open_db(data_dir)
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}
