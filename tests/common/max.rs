//! Shared pieces of the MAX bot tests: a mock MAX Bot API on 127.0.0.1, a service wired
//! to it, the Bot API schema as a validator, and waiting for a condition.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gosdom::config::{Config, Secret};
use gosdom::jobs::Backoff;
use gosdom::server::Service;
use serde_json::{json, Map, Value};

pub const TOKEN: &str = "test-token-f00d";
pub const SECRET: &str = "hook_secret-123";
pub const BOT_ID: i64 = 555_000_555;

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/max")
}

pub fn fixture(name: &str) -> Value {
    let path = fixtures().join("updates").join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Every update fixture: (file name, body).
pub fn all_fixtures() -> Vec<(String, String)> {
    let mut files: Vec<_> = std::fs::read_dir(fixtures().join("updates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "fixtures missing: {files:?}");
    files
        .into_iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

/// One request the mock received.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub authorization: Option<String>,
    pub body: Value,
    /// The status the mock answered with.
    pub status: u16,
    /// When it arrived: real time since the mock started, or the test's virtual clock.
    pub at: Duration,
    /// When it arrived, Unix time in milliseconds (MAX's `timestamp`).
    pub unix_ms: i64,
}

impl Received {
    pub fn query(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// How the mock answers: (status, JSON body, headers).
pub type Reply = (u16, Value, Vec<(&'static str, String)>);
type Responder = dyn Fn(&Received, usize) -> Reply + Send + Sync;

/// A mock MAX Bot API on 127.0.0.1.
pub struct MockMax {
    pub url: String,
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    server: Arc<tiny_http::Server>,
    /// Dialog chat id per user (a user without one: the chat id is the user id).
    dialogs: Arc<Mutex<HashMap<i64, i64>>>,
}

impl Drop for MockMax {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

/// The ordinary MAX answer to each call.
pub fn ok_reply(req: &Received) -> Reply {
    let body = match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/messages") => json!({"message": {
            "recipient": {"user_id": req.query("user_id").and_then(|v| v.parse::<i64>().ok())},
            "timestamp": 1775025604499i64,
            "body": {"mid": format!("mid.mock.{}", rand::random::<u32>()), "seq": 1, "text": req.body["text"]}
        }}),
        ("GET", "/me") => {
            serde_json::from_str(&std::fs::read_to_string(fixtures().join("me.json")).unwrap())
                .unwrap()
        }
        ("GET", "/subscriptions") => json!({"subscriptions": []}),
        ("GET", "/updates") => json!({"updates": [], "marker": null}),
        _ => json!({"success": true}),
    };
    (200, body, Vec::new())
}

impl MockMax {
    /// Starts answering on a free port.
    pub fn start(responder: impl Fn(&Received, usize) -> Reply + Send + Sync + 'static) -> Self {
        Self::start_on(0, responder, None)
    }

    /// Starts on `port` (0: any); `clock` stamps arrivals instead of real time.
    pub fn start_on(
        port: u16,
        responder: impl Fn(&Received, usize) -> Reply + Send + Sync + 'static,
        clock: Option<Arc<dyn gosdom::connectors::max::pace::PaceClock>>,
    ) -> Self {
        let server = Arc::new(tiny_http::Server::http(("127.0.0.1", port)).unwrap());
        let port = server.server_addr().to_ip().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let dialogs = Arc::new(Mutex::new(HashMap::new()));
        let responder: Arc<Responder> = Arc::new(responder);
        let started = Instant::now();
        {
            let server = server.clone();
            let received = received.clone();
            let dialogs = dialogs.clone();
            std::thread::spawn(move || {
                for mut request in server.incoming_requests() {
                    let at = match &clock {
                        Some(clock) => clock.now(),
                        None => started.elapsed(),
                    };
                    let mut text = String::new();
                    let _ = request.as_reader().read_to_string(&mut text);
                    let url = request.url().to_string();
                    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
                    let query = form_urlencoded::parse(query.as_bytes())
                        .map(|(k, v)| (k.into_owned(), v.into_owned()))
                        .collect();
                    let authorization = request
                        .headers()
                        .iter()
                        .find(|h| h.field.equiv("Authorization"))
                        .map(|h| h.value.as_str().to_string());
                    let mut seen = Received {
                        method: request.method().as_str().to_uppercase(),
                        path: path.to_string(),
                        query,
                        authorization,
                        body: serde_json::from_str(&text).unwrap_or(Value::Null),
                        status: 0,
                        at,
                        unix_ms: unix_ms_now(),
                    };
                    let index = received.lock().unwrap().len();
                    let (status, mut body, headers) = responder(&seen, index);
                    // `GET /messages?chat_id=` lists what the mock took, unless the
                    // responder makes the call fail.
                    if seen.method == "GET" && seen.path == "/messages" && status == 200 {
                        let dialogs = dialogs.lock().unwrap().clone();
                        body = message_list(&received.lock().unwrap(), &dialogs, &seen);
                    }
                    seen.status = status;
                    received.lock().unwrap().push(seen);
                    let mut response = tiny_http::Response::from_string(body.to_string())
                        .with_status_code(status)
                        .with_header(
                            tiny_http::Header::from_bytes("Content-Type", "application/json")
                                .unwrap(),
                        );
                    for (k, v) in headers {
                        response.add_header(tiny_http::Header::from_bytes(k, v).unwrap());
                    }
                    let _ = request.respond(response);
                }
            });
        }
        MockMax {
            url: format!("http://127.0.0.1:{port}"),
            port,
            received,
            server,
            dialogs,
        }
    }

    /// Says that `user`'s dialog with the bot is chat `chat` (for `GET /messages`).
    pub fn dialog(&self, user: i64, chat: i64) {
        self.dialogs.lock().unwrap().insert(user, chat);
    }

    /// `GET /messages` calls (lookups of what a chat holds).
    pub fn lookups(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.method == "GET" && r.path == "/messages")
            .collect()
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Accepted `POST /messages`.
    pub fn messages(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == "/messages" && r.status == 200)
            .collect()
    }
}

fn unix_ms_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The answer to `GET /messages?chat_id=&from=&to=&count=` in the schema's `MessageList`
/// shape: the bot's messages the mock took (`POST /messages` answered 200) in that chat,
/// newest first. `to` is the earliest and `from` the latest time wanted (Unix ms, as the
/// schema describes them); `count` is 50 by default, at most 100.
pub fn message_list(received: &[Received], dialogs: &HashMap<i64, i64>, call: &Received) -> Value {
    let number = |key: &str| call.query(key).and_then(|v| v.parse::<i64>().ok());
    let Some(chat) = number("chat_id") else {
        return json!({"messages": []});
    };
    let count = number("count").unwrap_or(50).clamp(1, 100) as usize;
    let mut messages: Vec<Value> = received
        .iter()
        .enumerate()
        .filter(|(_, r)| r.method == "POST" && r.path == "/messages" && r.status == 200)
        .filter(|(_, r)| number("to").is_none_or(|to| r.unix_ms >= to))
        .filter(|(_, r)| number("from").is_none_or(|from| r.unix_ms <= from))
        .filter_map(|(i, r)| {
            let parse = |key: &str| r.query(key).and_then(|v| v.parse::<i64>().ok());
            // The schema's `ChatType` has only "chat", for dialogs as well.
            let (to_chat, user) = match (parse("chat_id"), parse("user_id")) {
                (Some(c), _) => (c, None),
                (None, Some(u)) => (*dialogs.get(&u).unwrap_or(&u), Some(u)),
                _ => return None,
            };
            (to_chat == chat).then(|| {
                json!({
                    "sender": {"user_id": BOT_ID, "first_name": "Госуслуги Дом",
                               "username": "dom_bot", "is_bot": true,
                               "last_activity_time": r.unix_ms, "name": null},
                    "recipient": {"chat_id": to_chat, "chat_type": "chat", "user_id": user},
                    "timestamp": r.unix_ms,
                    "link": null,
                    "body": {"mid": format!("mid.mock.{i}"), "seq": i,
                             "text": r.body.get("text").cloned().unwrap_or(Value::Null),
                             "attachments": r.body.get("attachments").cloned().unwrap_or(Value::Null),
                             "link": null},
                })
            })
        })
        .collect();
    messages.reverse();
    messages.truncate(count);
    json!({ "messages": messages })
}

/// A port nothing listens on (yet).
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A sandbox config whose MAX is the real client against `api_url`.
pub fn config(data_dir: &std::path::Path, api_url: &str) -> Config {
    let mut config = Config::default();
    config.storage.data_dir = data_dir.to_path_buf();
    config.storage.synchronous = gosdom::config::Synchronous::Normal;
    config.max.api_url = api_url.to_string();
    config.max.token = Secret::new(TOKEN);
    config.max.webhook_secret = Secret::new(SECRET);
    config.max.bot_id = BOT_ID;
    config.max.bot_username = "dom_bot".into();
    config.server.public_url = "https://dom.example.ru".into();
    config
}

/// A prepared service with short back-offs.
pub fn service(config: Config) -> Service {
    let mut service = Service::prepare(config).unwrap();
    service.jobs = service.jobs.clone().with_backoff(Backoff {
        base: Duration::from_millis(30),
        cap: Duration::from_millis(200),
    });
    service
}

/// Waits for `cond`, failing the test after `limit`.
pub async fn wait_for(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// MAX jobs not finished yet (other kinds, like the nightly ГИС ЖКХ sync, wait for days).
pub fn open_jobs(service: &Service) -> i64 {
    let conn = service.app.store.conn().unwrap();
    conn.query_row(
        "SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'running') AND kind LIKE 'max.%'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

pub fn count(service: &Service, sql: &str) -> i64 {
    let conn = service.app.store.conn().unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// A validator for `component` of the MAX Bot API schema. OpenAPI 3.0 is turned into
/// JSON Schema: `nullable` means "or null", and a `discriminator` makes the mapped schema
/// apply to its `type` value.
pub fn schema_validator(component: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(fixtures().join("bot-api-schema-2026-07-01.json")).unwrap();
    let api: Value = serde_json::from_str(&text).unwrap();
    let schemas = api["components"]["schemas"].as_object().unwrap().clone();

    let discriminated: Vec<(String, Map<String, Value>)> = schemas
        .iter()
        .filter_map(|(name, s)| {
            let mapping = s.pointer("/discriminator/mapping")?.as_object()?.clone();
            Some((name.clone(), mapping))
        })
        .collect();
    let mut converted = Map::new();
    for (name, schema) in &schemas {
        converted.insert(name.clone(), convert(schema, &discriminated, false));
    }
    for (name, mapping) in &discriminated {
        let property = schemas[name]["discriminator"]["propertyName"]
            .as_str()
            .unwrap()
            .to_string();
        let mut all = vec![json!({"$ref": format!("#/components/schemas/{name}")})];
        for (value, target) in mapping {
            let target = target
                .as_str()
                .map(str::to_string)
                .or_else(|| target["$ref"].as_str().map(str::to_string))
                .unwrap();
            all.push(json!({
                "if": {"properties": {&property: {"const": value}}, "required": [&property]},
                "then": {"$ref": target}
            }));
        }
        converted.insert(format!("{name}__dispatch"), json!({ "allOf": all }));
    }
    let root = json!({
        "$ref": format!("#/components/schemas/{component}"),
        "components": {"schemas": converted}
    });
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(false)
        .build(&root)
        .unwrap()
}

fn convert(
    value: &Value,
    discriminated: &[(String, Map<String, Value>)],
    in_all_of: bool,
) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                if k == "discriminator" || k == "nullable" || k == "example" {
                    continue;
                }
                // `"required": false` on a property (MessageBody.attachments) is not JSON
                // Schema; a property is optional unless its object lists it.
                if k == "required" && v.is_boolean() {
                    continue;
                }
                out.insert(k.clone(), convert(v, discriminated, k == "allOf"));
            }
            // A reference to a discriminated schema (not a subtype's own `allOf` base)
            // also checks the subtype its discriminator names.
            if let Some(Value::String(reference)) = out.get("$ref").cloned() {
                let name = reference.trim_start_matches("#/components/schemas/");
                if !in_all_of && discriminated.iter().any(|(n, _)| n == name) {
                    out.insert("$ref".into(), json!(format!("{reference}__dispatch")));
                }
            }
            if map.get("nullable") == Some(&Value::Bool(true)) {
                if let Some(kind) = out.get("type").cloned() {
                    out.insert("type".into(), json!([kind, "null"]));
                    if let Some(Value::Array(values)) = out.get_mut("enum") {
                        values.push(Value::Null);
                    }
                } else {
                    return json!({"anyOf": [{"type": "null"}, Value::Object(out)]});
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| convert(v, discriminated, in_all_of))
                .collect(),
        ),
        other => other.clone(),
    }
}
