//! A mock ГИС ЖКХ on 127.0.0.1 (tiny_http) that records what it receives and answers with
//! a script; and helpers shared by the gis_* tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use gosdom::connectors::gis::xml;

/// One request the mock received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub action: String,
    pub body: String,
}

impl Seen {
    /// Our MessageGUID from the header.
    pub fn message_guid(&self) -> String {
        let env = xml::parse(self.body.as_bytes()).unwrap();
        env.find("Header")
            .unwrap()
            .find("MessageGUID")
            .unwrap()
            .text
            .clone()
    }

    /// For getState: the MessageGUID asked about.
    pub fn polled_guid(&self) -> String {
        let env = xml::parse(self.body.as_bytes()).unwrap();
        env.find("getStateRequest")
            .unwrap()
            .text_of("MessageGUID")
            .unwrap()
    }
}

/// (status, body) for a request; the script sees everything received so far.
pub type Script = dyn Fn(&Seen, &[Seen]) -> (u16, String) + Send + Sync;

pub struct Mock {
    pub url: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Mock {
    pub fn start(script: Arc<Script>) -> Mock {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let url = format!("http://{}", server.server_addr().to_ip().unwrap());
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let log = seen.clone();
        thread::spawn(move || {
            for mut request in server.incoming_requests() {
                let mut body = String::new();
                let _ = request.as_reader().read_to_string(&mut body);
                let action = request
                    .headers()
                    .iter()
                    .find(|h| h.field.equiv("SOAPAction"))
                    .map(|h| {
                        h.value
                            .as_str()
                            .trim_matches('"')
                            .trim_start_matches("urn:")
                            .to_string()
                    })
                    .unwrap_or_default();
                let item = Seen {
                    path: request.url().to_string(),
                    action,
                    body,
                };
                let (status, answer) = {
                    let mut all = log.lock().unwrap();
                    all.push(item.clone());
                    script(&item, &all)
                };
                let response = tiny_http::Response::from_string(answer)
                    .with_status_code(status)
                    .with_header(
                        "Content-Type: text/xml; charset=utf-8"
                            .parse::<tiny_http::Header>()
                            .unwrap(),
                    );
                let _ = request.respond(response);
            }
        });
        Mock { url, seen }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn count(&self, action: &str) -> usize {
        self.seen().iter().filter(|s| s.action == action).count()
    }
}

/// Waits for `cond` with a deadline.
pub fn wait_gis(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if cond() {
            return;
        }
        thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}");
}

pub fn xsd_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/gis-zhkh/xsd-14.4.0.1")
}

/// Runs `xmllint --noout --schema <types.xsd>` on `element`; Err carries xmllint's words.
pub fn xmllint_validate(types_xsd: &str, element: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("request.xml");
    std::fs::write(&file, element).unwrap();
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(xsd_root().join(types_xsd))
        .arg(&file)
        .output()
        .expect("xmllint must be installed (Debian package libxml2-utils)");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).to_string())
    }
}
