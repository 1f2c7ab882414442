//! «Заявки» in the operator console: a resident files a request in the mini-app, the
//! УО's operator finds it in the queue and works it; CSRF and tenancy hold.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use gosdom::clock::ManualClock;
use gosdom::domain::console::staff::{self, NewAccount};
use gosdom::domain::console::Role;
use gosdom::server::Service;
use gosdom::store::{ts, Store};
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::Client;
use serde_json::{json, Value};

const PASSWORD: &str = "верный пароль 123";

async fn setup() -> (Harness, Store) {
    let dir = tempfile::tempdir().unwrap();
    let config = sandbox_config(dir.path());
    let clock = ManualClock::new(now());
    let service = Service::prepare_with_clock(config, Arc::new(clock.clone())).unwrap();
    let store = service.app.store.clone();
    let client = Client::tracked(service.rocket()).await.unwrap();
    (Harness { client, clock, dir }, store)
}

fn add_operator(store: &Store, login: &str, organisation_id: i64) {
    let hash = staff::hash_password(PASSWORD).unwrap();
    let account = NewAccount {
        login: login.into(),
        role: Role::Operator,
        organisation_id: Some(organisation_id),
    };
    store
        .write_blocking(|tx| Ok(staff::add(tx, None, &account, &hash, now())))
        .unwrap()
        .unwrap();
}

async fn sign_in(h: &Harness, login: &str) -> String {
    let res = h
        .client
        .post("/api/console/v1/session")
        .header(ContentType::JSON)
        .body(json!({ "login": login, "password": PASSWORD }).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let me: Value = res.into_json().await.unwrap();
    me["csrf_token"].as_str().unwrap().to_string()
}

async fn staff_post(h: &Harness, path: &str, csrf: Option<&str>, body: Value) -> (Status, Value) {
    let mut req = h
        .client
        .post(format!("/api/console/v1{path}"))
        .header(ContentType::JSON)
        .body(body.to_string());
    if let Some(token) = csrf {
        req = req.header(Header::new("X-CSRF-Token", token.to_string()));
    }
    let res = req.dispatch().await;
    let status = res.status();
    (status, res.into_json().await.unwrap_or(Value::Null))
}

async fn staff_get(h: &Harness, path: &str) -> (Status, Value) {
    let res = h
        .client
        .get(format!("/api/console/v1{path}"))
        .dispatch()
        .await;
    let status = res.status();
    (status, res.into_json().await.unwrap_or(Value::Null))
}

/// Files a leak request as the demo resident; returns its id.
async fn filed_request(h: &Harness) -> i64 {
    let token = signed_in(h, 11, "1000000001").await;
    let (_, list) = h.get("/api/v1/properties", &token).await;
    let premise = list["items"][0]["id"].as_i64().unwrap();
    let body = multipart(
        "request",
        &json!({"place": "flat", "problem": "water.leak",
                "text": "Течёт кран на кухне, вода капает на пол", "premise_id": premise}),
        &[("a.jpg", jpeg(1))],
    );
    let (status, card) = h.post_form("/api/v1/requests", &token, body).await;
    assert_eq!(status, Status::Created, "{card}");
    card["id"].as_i64().unwrap()
}

#[rocket::async_test]
async fn an_operator_finds_the_request_in_the_queue_and_works_it() {
    let (h, store) = setup().await;
    let id = filed_request(&h).await;
    let org: i64 = store
        .conn()
        .unwrap()
        .query_row(
            "SELECT organisation_id FROM requests WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    add_operator(&store, "dispatcher", org);
    let csrf = sign_in(&h, "dispatcher").await;

    let (status, queue) = staff_get(&h, "/requests?status=new&category=water").await;
    assert_eq!(status, Status::Ok, "{queue}");
    assert_eq!(queue["requests"][0]["id"], id);
    let (_, queue) = staff_get(&h, "/requests?category=electricity").await;
    assert_eq!(queue["requests"].as_array().unwrap().len(), 0);
    // The category filter offers the categories by their Russian names.
    let (status, tree) = staff_get(&h, "/requests/categories").await;
    assert_eq!(status, Status::Ok, "{tree}");
    assert!(tree["places"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["categories"].as_array().unwrap())
        .any(|c| c["code"] == "water" && c["title"] == "Водоснабжение"));

    // Without the CSRF token nothing changes.
    let (status, body) = staff_post(
        &h,
        &format!("/requests/{id}/status"),
        None,
        json!({"status": "in_work"}),
    )
    .await;
    assert_eq!(status, Status::Forbidden);
    assert_eq!(body["error"]["code"], "csrf_invalid");

    // Declining needs a reason.
    let (status, body) = staff_post(
        &h,
        &format!("/requests/{id}/status"),
        Some(&csrf),
        json!({"status": "declined"}),
    )
    .await;
    assert_eq!(status, Status::UnprocessableEntity, "{body}");

    let (status, card) = staff_post(
        &h,
        &format!("/requests/{id}/status"),
        Some(&csrf),
        json!({"status": "in_work"}),
    )
    .await;
    assert_eq!(status, Status::Ok, "{card}");
    assert_eq!(card["status"], "in_work");
    // Only the moves legal from «В работе» are offered.
    let offered: Vec<&str> = card["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(offered, ["deferred", "done", "declined"]);
    // The history names people as the operator knows them: «Житель», the staff login.
    let names: Vec<&str> = card["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["author_name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Житель"), "{names:?}");
    assert!(names.contains(&"dispatcher"), "{names:?}");

    let (status, card) = staff_post(
        &h,
        &format!("/requests/{id}/assign"),
        Some(&csrf),
        json!({"assignee": "Сантехник Иванов"}),
    )
    .await;
    assert_eq!(status, Status::Ok, "{card}");

    let deadline = ts(now() + time::Duration::days(3));
    let (status, card) = staff_post(
        &h,
        &format!("/requests/{id}/deadline"),
        Some(&csrf),
        json!({"deadline_at": deadline, "reason": "Нужна запчасть"}),
    )
    .await;
    assert_eq!(status, Status::Ok, "{card}");

    let res = h
        .client
        .post(format!("/api/console/v1/requests/{id}/comments"))
        .header(form_type())
        .header(Header::new("X-CSRF-Token", csrf.clone()))
        .body(multipart(
            "comment",
            &json!({"text": "Только для своих", "visible": false}),
            &[],
        ))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);

    let (status, card) = staff_get(&h, &format!("/requests/{id}")).await;
    assert_eq!(status, Status::Ok);
    assert!(card.to_string().contains("Только для своих"));
    let photo = card["photos"][0]["id"].as_i64().unwrap();
    let res = h
        .client
        .get(format!("/api/console/v1/requests/{id}/photos/{photo}"))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
}

#[rocket::async_test]
async fn an_operator_of_another_organisation_sees_nothing() {
    let (h, store) = setup().await;
    let id = filed_request(&h).await;
    let other = store
        .write_blocking(|tx| {
            tx.execute(
                "INSERT INTO organisations (name, inn, ogrn, created_at, updated_at) \
                 VALUES ('УО Второй район', '7700000002', '1027700000002', ?1, ?1)",
                [ts(now())],
            )?;
            Ok(tx.last_insert_rowid())
        })
        .unwrap();
    add_operator(&store, "stranger", other);
    let csrf = sign_in(&h, "stranger").await;

    let (_, queue) = staff_get(&h, "/requests?status=all").await;
    assert_eq!(queue["requests"].as_array().unwrap().len(), 0);
    let (status, _) = staff_get(&h, &format!("/requests/{id}")).await;
    assert_eq!(status, Status::NotFound);
    let (status, body) = staff_post(
        &h,
        &format!("/requests/{id}/status"),
        Some(&csrf),
        json!({"status": "in_work"}),
    )
    .await;
    assert_eq!(status, Status::NotFound);
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_change_reaches_the_resident_in_max_with_a_button_to_the_request() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockMax::start(|r, _| ok_reply(r));
    let mut cfg = config(dir.path(), &mock.url);
    cfg.max.token = gosdom::config::Secret::new(BOT_TOKEN);
    let service = service(cfg);
    let store = service.app.store.clone();
    let client = Client::tracked(service.rocket()).await.unwrap();
    let _worker = service.jobs.clone().spawn();
    let clock = ManualClock::new(time::OffsetDateTime::now_utc());
    let h = Harness {
        client,
        clock,
        dir: tempfile::tempdir().unwrap(),
    };

    let id = filed_request(&h).await;
    let org: i64 = store
        .conn()
        .unwrap()
        .query_row(
            "SELECT organisation_id FROM requests WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    add_operator(&store, "dispatcher", org);
    let csrf = sign_in(&h, "dispatcher").await;
    let (status, card) = staff_post(
        &h,
        &format!("/requests/{id}/status"),
        Some(&csrf),
        json!({"status": "in_work"}),
    )
    .await;
    assert_eq!(status, Status::Ok, "{card}");
    let number = card["number"].as_str().unwrap().to_string();

    let about_it = |m: &Received| m.body["text"].as_str().unwrap_or("").contains(&number);
    wait_for(Duration::from_secs(10), "the notice in MAX", || {
        mock.messages().iter().any(about_it)
    })
    .await;
    let sent = mock.messages().into_iter().find(|m| about_it(m)).unwrap();
    assert_eq!(sent.query("user_id"), Some("11"));
    assert!(
        sent.body["text"].as_str().unwrap().contains("В работе"),
        "{}",
        sent.body
    );
    let button = &sent.body["attachments"][0]["payload"]["buttons"][0][0];
    assert_eq!(button["type"], "open_app", "{}", sent.body);
    assert_eq!(button["payload"], format!("request_{id}"));

    // A resident who turned request notices off in «Уведомления» hears nothing of the next
    // change.
    store
        .write_blocking(|tx| {
            tx.execute(
                "UPDATE max_users SET notify_requests = 0 WHERE user_id = 11",
                [],
            )?;
            Ok(())
        })
        .unwrap();
    let (status, card) = staff_post(
        &h,
        &format!("/requests/{id}/status"),
        Some(&csrf),
        json!({"status": "done"}),
    )
    .await;
    assert_eq!(status, Status::Ok, "{card}");
    wait_for(Duration::from_secs(10), "the notice job", || {
        count(
            &service,
            "SELECT COUNT(*) FROM outbox WHERE kind = 'max.notify_request' AND state = 'done'",
        ) == 2
    })
    .await;
    assert_eq!(open_jobs(&service), 0);
    assert_eq!(mock.messages().iter().filter(|m| about_it(m)).count(), 1);
}
