//! Group commit of webhook updates, from the outside: many updates posted at once by many
//! clients (MAX delivers in parallel and may deliver an update twice) are all answered
//! 200, each stored exactly once and handled once, and a malformed post among them fails
//! alone.

mod common;
#[path = "common/load.rs"]
mod load;
#[path = "common/robust.rs"]
mod robust;

use std::sync::{Arc, Barrier};
use std::time::Duration;

use common::{ok_reply, wait_until, MockMax, Server};
use robust::{agent, open_db};
use serde_json::json;

const THREADS: usize = 16;
const POSTS: usize = 200;
/// Posts 0..2 × PAIRS go out in pairs with the same update, from two threads at once.
const PAIRS: usize = 50;

/// The MAX user of post `i`: posts 2k and 2k+1 below 2 × PAIRS carry the same update.
fn user_of(i: usize) -> i64 {
    let n = if i < 2 * PAIRS { i / 2 } else { i - PAIRS };
    load::FIRST_USER + n as i64
}

fn bot_started(user: i64) -> String {
    json!({
        "update_type": "bot_started",
        "timestamp": 1_775_025_604_499i64 + user,
        "chat_id": user,
        "user": {"user_id": user, "first_name": "Тест", "is_bot": false},
        "user_locale": "ru",
    })
    .to_string()
}

fn post(http: &ureq::Agent, url: &str, body: String) -> u16 {
    let request = ureq::http::Request::builder()
        .method("POST")
        .uri(url)
        .header("Content-Type", "application/json")
        .header("X-Max-Bot-Api-Secret", common::SECRET)
        .body(body.into_bytes())
        .unwrap();
    match http.run(request) {
        Ok(res) => res.status().as_u16(),
        Err(e) => panic!("no answer to a webhook post: {e}"),
    }
}

#[test]
fn concurrent_updates_are_all_acknowledged_stored_once_and_handled_once() {
    let max = MockMax::start(|req, _| ok_reply(req));
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &load::config(&max.url, ""));
    let url = server.url("/bot/webhook");

    let start = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (url, start) = (url.clone(), start.clone());
            std::thread::spawn(move || {
                let http = agent(Duration::from_secs(30));
                let mut answers = Vec::new();
                start.wait();
                for i in (t..POSTS).step_by(THREADS) {
                    answers.push(("update", post(&http, &url, bot_started(user_of(i)))));
                    if i / THREADS == 3 {
                        // Among the updates: one that is not JSON, one that is not an update.
                        answers.push(("not json", post(&http, &url, "{\"update_type".into())));
                        answers.push(("no type", post(&http, &url, json!({"t": t}).to_string())));
                    }
                }
                answers
            })
        })
        .collect();
    let answers: Vec<(&str, u16)> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("a client thread ended normally"))
        .collect();

    let updates: Vec<u16> = answers
        .iter()
        .filter(|(kind, _)| *kind == "update")
        .map(|(_, status)| *status)
        .collect();
    assert_eq!(updates.len(), POSTS);
    assert!(
        updates.iter().all(|s| *s == 200),
        "every update, duplicates too, is answered 200: {answers:?}"
    );
    for (kind, status) in &answers {
        match *kind {
            "not json" => assert_eq!(*status, 400, "a malformed post fails alone"),
            "no type" => assert_eq!(*status, 200, "a body without update_type is ignored"),
            _ => {}
        }
    }

    // Each distinct update is stored once, with one job.
    let distinct = POSTS - PAIRS;
    let conn = open_db(&server.data_dir);
    let stored: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM max_updates WHERE update_type = 'bot_started'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored as usize, distinct, "each update stored exactly once");
    let jobs: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'max.update'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(jobs as usize, distinct, "one job per stored update");
    drop(conn);

    // Each is handled once: every user gets exactly one welcome.
    let users: Vec<i64> = (0..POSTS).map(user_of).collect();
    let delivered = wait_until(Duration::from_secs(60), || {
        let counts = load::messages_per_user(&max);
        users.iter().all(|u| counts.contains_key(u))
    });
    let counts = load::messages_per_user(&max);
    assert!(
        delivered,
        "welcomes missing for {} users",
        users.iter().filter(|u| !counts.contains_key(u)).count()
    );
    assert_eq!(counts.len(), distinct);
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "welcomed more than once: {twice:?}");
}
