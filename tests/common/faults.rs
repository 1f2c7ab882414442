//! A misbehaving peer on 127.0.0.1 for the fault-injection tests: a raw TCP server, one
//! thread per connection, that answers each request as a script says: a normal HTTP
//! answer, a stall past the client's timeout, a connection closed without an answer,
//! or bytes that are not HTTP at all.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// One request as the peer read it.
#[derive(Clone, Debug)]
pub struct Req {
    pub method: String,
    /// Path with the query.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Req {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    pub fn query(&self, key: &str) -> Option<String> {
        let query = self.target.split_once('?')?.1;
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What the peer does with a request.
#[derive(Clone, Debug)]
pub enum Act {
    Reply {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Keeps the connection open, silent, this long, then closes it.
    Stall(Duration),
    /// Closes the connection without a word.
    Close,
    /// Writes bytes that are not HTTP, then closes.
    Garbage,
}

impl Act {
    pub fn json(status: u16, body: &str) -> Act {
        Act::Reply {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.into(),
        }
    }
}

pub struct FaultServer {
    pub url: String,
    stop: Arc<AtomicBool>,
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
    }
}

impl FaultServer {
    pub fn start(script: impl Fn(&Req) -> Act + Send + Sync + 'static) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let script: Arc<dyn Fn(&Req) -> Act + Send + Sync> = Arc::new(script);
        {
            let stop = stop.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let script = script.clone();
                    std::thread::spawn(move || serve(stream, &*script));
                }
            });
        }
        FaultServer { url, stop }
    }
}

fn serve(mut stream: TcpStream, script: &dyn Fn(&Req) -> Act) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    // One request per connection: every answer says `Connection: close`.
    let Some(req) = read_request(&mut stream) else {
        return;
    };
    match script(&req) {
        Act::Reply {
            status,
            headers,
            body,
        } => {
            let mut head = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\n", body.len());
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("Connection: close\r\n\r\n");
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body.as_bytes());
        }
        Act::Stall(time) => {
            std::thread::sleep(time);
        }
        Act::Close => {}
        Act::Garbage => {
            let _ = stream.write_all(b"\x00\xff\xfe SOAP? no: \x1b[31m garbage \r\n\r\n\x00");
        }
    }
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

fn read_request(stream: &mut TcpStream) -> Option<Req> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = data[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    Some(Req {
        method,
        target,
        headers,
        body,
    })
}
