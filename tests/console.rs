//! The operator console as staff and an attacker see it: sign-in, sessions, CSRF, roles,
//! throttling, tenancy, what the answers carry, and `gosdom user`.

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;

use gosdom::clock::ManualClock;
use gosdom::domain::console::staff::{self, NewAccount};
use gosdom::domain::console::Role;
use gosdom::sandbox::demo::DEMO_PEOPLE;
use gosdom::server::Service;
use gosdom::store::{ts, Store};
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use rusqlite::params;
use serde_json::{json, Value};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const PASSWORD: &str = "верный пароль 123";
const START: OffsetDateTime = datetime!(2026-12-01 09:00 UTC);

struct Console {
    client: Client,
    clock: ManualClock,
    store: Store,
    /// The demo УО.
    org_a: i64,
    /// A second УО with one house.
    org_b: i64,
    _dir: tempfile::TempDir,
}

async fn console_with(edit: impl FnOnce(&mut gosdom::config::Config)) -> Console {
    let dir = tempfile::tempdir().unwrap();
    let mut config = gosdom::config::Config::default();
    config.storage.data_dir = dir.path().to_path_buf();
    edit(&mut config);
    let clock = ManualClock::new(START);
    let service = Service::prepare_with_clock(config, Arc::new(clock.clone())).unwrap();
    let store = service.app.store.clone();
    let (org_a, org_b) = store
        .write_blocking(|tx| {
            let a: i64 = tx.query_row("SELECT MIN(id) FROM organisations", [], |r| r.get(0))?;
            let now = ts(START);
            tx.execute(
                "INSERT INTO organisations (name, inn, ogrn, created_at, updated_at) \
                 VALUES ('УО Второй район', '7700000002', '1027700000002', ?1, ?1)",
                [&now],
            )?;
            let b = tx.last_insert_rowid();
            tx.execute(
                "INSERT INTO houses (organisation_id, address, max_chat_id, created_at, updated_at) \
                 VALUES (?1, 'г. Другой, ул. Чужая, д. 99', -555, ?2, ?2)",
                params![b, now],
            )?;
            Ok((a, b))
        })
        .unwrap();
    let client = Client::tracked(service.rocket()).await.unwrap();
    Console {
        client,
        clock,
        store,
        org_a,
        org_b,
        _dir: dir,
    }
}

async fn console() -> Console {
    console_with(|_| {}).await
}

impl Console {
    fn add_user(&self, login: &str, role: Role, organisation_id: Option<i64>) -> i64 {
        let hash = staff::hash_password(PASSWORD).unwrap();
        let account = NewAccount {
            login: login.into(),
            role,
            organisation_id,
        };
        self.store
            .write_blocking(|tx| Ok(staff::add(tx, None, &account, &hash, START)))
            .unwrap()
            .unwrap()
    }

    async fn sign_in_from(&self, login: &str, password: &str, from: &str) -> LocalResponse<'_> {
        let remote: SocketAddr = format!("{from}:40000").parse().unwrap();
        self.client
            .post("/api/console/v1/session")
            .remote(remote)
            .header(ContentType::JSON)
            .body(json!({ "login": login, "password": password }).to_string())
            .dispatch()
            .await
    }

    /// Signs in and returns the CSRF token.
    async fn sign_in(&self, login: &str) -> String {
        let res = self.sign_in_from(login, PASSWORD, "192.0.2.10").await;
        assert_eq!(res.status(), Status::Ok);
        let me: Value = res.into_json().await.unwrap();
        me["csrf_token"].as_str().unwrap().to_string()
    }

    async fn get(&self, path: &str) -> (Status, Value) {
        let res = self.client.get(path).dispatch().await;
        let status = res.status();
        (status, res.into_json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, csrf: Option<&str>, body: Value) -> (Status, Value) {
        let mut req = self
            .client
            .post(path)
            .header(ContentType::JSON)
            .body(body.to_string());
        if let Some(token) = csrf {
            req = req.header(Header::new("X-CSRF-Token", token.to_string()));
        }
        let res = req.dispatch().await;
        let status = res.status();
        (status, res.into_json().await.unwrap_or(Value::Null))
    }

    fn count(&self, sql: &str) -> i64 {
        self.store
            .conn()
            .unwrap()
            .query_row(sql, [], |r| r.get(0))
            .unwrap()
    }
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no error shape>")
}

/// Every route of the console API as a concrete request (ids set to 1).
fn every_console_api() -> Vec<(rocket::http::Method, String)> {
    gosdom::web::console::api_routes()
        .into_iter()
        .map(|route| {
            let path = route.uri.path().to_string().replace("<id>", "1");
            (route.method, format!("/api/console/v1{path}"))
        })
        .collect()
}

#[rocket::async_test]
async fn without_a_session_every_console_api_answers_401() {
    let c = console().await;
    let routes = every_console_api();
    assert!(routes.len() >= 10, "{routes:?}");
    for (method, path) in routes {
        if method == rocket::http::Method::Post && path.ends_with("/session") {
            continue;
        }
        let res = c
            .client
            .req(method, path.as_str())
            .header(ContentType::JSON)
            .body("{}")
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::Unauthorized, "{method} {path}");
        let body: Value = res.into_json().await.unwrap();
        assert_eq!(error_code(&body), "session_required", "{method} {path}");
    }

    // A made-up cookie is no session either.
    let res = c
        .client
        .get("/api/console/v1/houses")
        .cookie(rocket::http::Cookie::new("gosdom_console", "forged"))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Unauthorized);
    let body: Value = res.into_json().await.unwrap();
    assert_eq!(error_code(&body), "session_expired");
}

#[rocket::async_test]
async fn an_operator_cannot_reach_admin_actions() {
    let c = console().await;
    c.add_user("dispatcher", Role::Operator, Some(c.org_a));
    let csrf = c.sign_in("dispatcher").await;

    let (status, body) = c.get("/api/console/v1/users").await;
    assert_eq!(status, Status::Forbidden);
    assert_eq!(error_code(&body), "forbidden");
    let new_user = json!({"login": "intruder", "role": "admin", "password": "0123456789ab"});
    let (status, _) = c.post("/api/console/v1/users", Some(&csrf), new_user).await;
    assert_eq!(status, Status::Forbidden);
    let (status, _) = c
        .post(
            "/api/console/v1/exchange/jobs/1/retry",
            Some(&csrf),
            json!({}),
        )
        .await;
    assert_eq!(status, Status::Forbidden);
    assert_eq!(
        c.count("SELECT COUNT(*) FROM console_users WHERE login = 'intruder'"),
        0
    );

    // What an operator may do still works.
    let (status, me) = c.get("/api/console/v1/me").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(me["role"], "operator");
    assert_eq!(me["organisation"]["id"], c.org_a);
    let (status, exchange) = c.get("/api/console/v1/exchange").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(exchange["can_retry"], false);
}

#[rocket::async_test]
async fn a_change_without_the_csrf_token_is_refused() {
    let c = console().await;
    c.add_user("chief", Role::Admin, Some(c.org_a));
    let csrf = c.sign_in("chief").await;
    let body = json!({"login": "new.operator", "role": "operator", "password": "длинный пароль"});

    let (status, refused) = c.post("/api/console/v1/users", None, body.clone()).await;
    assert_eq!(status, Status::Forbidden);
    assert_eq!(error_code(&refused), "csrf_invalid");
    let (status, _) = c
        .post("/api/console/v1/users", Some("wrong-token"), body.clone())
        .await;
    assert_eq!(status, Status::Forbidden);
    assert_eq!(
        c.count("SELECT COUNT(*) FROM console_users WHERE login = 'new.operator'"),
        0
    );

    // Sign-out is a change too.
    let res = c.client.delete("/api/console/v1/session").dispatch().await;
    assert_eq!(res.status(), Status::Forbidden);
    assert_eq!(c.get("/api/console/v1/me").await.0, Status::Ok);

    let (status, added) = c.post("/api/console/v1/users", Some(&csrf), body).await;
    assert_eq!(status, Status::Created, "{added}");
    let (_, users) = c.get("/api/console/v1/users").await;
    let operator = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["login"] == "new.operator")
        .unwrap();
    assert_eq!(operator["organisation_id"], c.org_a, "the admin's own УО");

    let audit: (String, String, String) = c
        .store
        .conn()
        .unwrap()
        .query_row(
            "SELECT actor, object, detail FROM audit_log WHERE action = 'user.add'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert!(audit.0.starts_with("staff:"), "{audit:?}");
    assert_eq!(audit.1, format!("console_user:{}", added["id"]));
    assert!(
        !audit.2.contains("new.operator") && !audit.2.contains("пароль"),
        "{audit:?}"
    );

    let res = c
        .client
        .delete("/api/console/v1/session")
        .header(Header::new("X-CSRF-Token", csrf))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::NoContent);
    assert_eq!(c.get("/api/console/v1/me").await.0, Status::Unauthorized);
}

#[rocket::async_test]
async fn after_ten_wrong_passwords_sign_in_is_slowed_even_for_the_right_one() {
    let c = console().await;
    c.add_user("dispatcher", Role::Operator, Some(c.org_a));
    for attempt in 1..=10 {
        let res = c
            .sign_in_from("dispatcher", "угадываю", "198.51.100.1")
            .await;
        assert_eq!(res.status(), Status::Unauthorized, "attempt {attempt}");
        c.clock.advance(Duration::seconds(1));
    }

    let res = c
        .sign_in_from("dispatcher", "угадываю", "198.51.100.1")
        .await;
    assert_eq!(res.status(), Status::TooManyRequests);
    let wait: i64 = res
        .headers()
        .get_one("Retry-After")
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
    let body: Value = res.into_json().await.unwrap();
    assert_eq!(error_code(&body), "too_many_requests");

    // The right password from another address is refused as well while the delay runs.
    let res = c.sign_in_from("dispatcher", PASSWORD, "203.0.113.7").await;
    assert_eq!(res.status(), Status::TooManyRequests);

    c.clock.advance(Duration::seconds(wait));
    let res = c.sign_in_from("dispatcher", PASSWORD, "203.0.113.7").await;
    assert_eq!(res.status(), Status::Ok);

    // The delay grows: after the next run of ten, a wrong password costs a minute.
    let res = c.sign_in_from("dispatcher", "снова", "198.51.100.1").await;
    assert_eq!(res.status(), Status::Unauthorized);
    let res = c.sign_in_from("dispatcher", PASSWORD, "198.51.100.1").await;
    assert_eq!(res.status(), Status::TooManyRequests);
    let wait: i64 = res
        .headers()
        .get_one("Retry-After")
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 30 && wait <= 60, "{wait}");
}

#[rocket::async_test]
async fn wrong_passwords_from_one_address_slow_every_login_from_it() {
    let c = console().await;
    c.add_user("dispatcher", Role::Operator, Some(c.org_a));
    for n in 0..10 {
        let res = c
            .sign_in_from(&format!("guess{n}"), "пароль", "198.51.100.2")
            .await;
        assert_eq!(res.status(), Status::Unauthorized);
    }
    let res = c.sign_in_from("dispatcher", PASSWORD, "198.51.100.2").await;
    assert_eq!(res.status(), Status::TooManyRequests);
    let res = c.sign_in_from("dispatcher", PASSWORD, "198.51.100.3").await;
    assert_eq!(res.status(), Status::Ok, "other addresses are not slowed");
}

#[rocket::async_test]
async fn sign_in_takes_json_only() {
    let c = console().await;
    c.add_user("dispatcher", Role::Operator, Some(c.org_a));
    let res = c
        .client
        .post("/api/console/v1/session")
        .header(ContentType::Plain)
        .body(json!({ "login": "dispatcher", "password": PASSWORD }).to_string())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::UnsupportedMediaType);
    assert!(res.headers().get_one("Set-Cookie").is_none());
}

#[rocket::async_test]
async fn the_session_cookie_is_locked_down_and_ends_after_idle_hours() {
    let c = console_with(|config| {
        config.server.public_url = "https://dom.example.ru".into();
        config.console.session_hours = 2;
    })
    .await;
    c.add_user("dispatcher", Role::Operator, Some(c.org_a));
    let res = c.sign_in_from("dispatcher", PASSWORD, "192.0.2.1").await;
    let cookie = res
        .headers()
        .get("Set-Cookie")
        .find(|v| v.starts_with("gosdom_console="))
        .unwrap()
        .to_string();
    for attribute in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/api/console"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let token = cookie
        .trim_start_matches("gosdom_console=")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert!(token.len() >= 40);
    assert_eq!(
        c.count(&format!(
            "SELECT COUNT(*) FROM console_sessions WHERE token_hash = '{token}'"
        )),
        0,
        "only a hash of the token is stored"
    );

    c.clock.advance(Duration::minutes(90));
    assert_eq!(c.get("/api/console/v1/me").await.0, Status::Ok);
    c.clock.advance(Duration::minutes(90));
    assert_eq!(
        c.get("/api/console/v1/me").await.0,
        Status::Ok,
        "use keeps it alive"
    );
    c.clock.advance(Duration::hours(2));
    let (status, body) = c.get("/api/console/v1/me").await;
    assert_eq!(status, Status::Unauthorized);
    assert_eq!(error_code(&body), "session_expired");
}

#[rocket::async_test]
async fn a_disabled_account_loses_its_session_and_cannot_sign_in() {
    let c = console().await;
    c.add_user("regional", Role::Admin, None);
    let victim = c.add_user("leaver", Role::Operator, Some(c.org_a));
    let res = c.sign_in_from("leaver", PASSWORD, "192.0.2.3").await;
    assert_eq!(res.status(), Status::Ok);
    let leaver_cookie = c.client.cookies().get("gosdom_console").unwrap().clone();

    let csrf = c.sign_in("regional").await;
    let (status, _) = c
        .post(
            &format!("/api/console/v1/users/{victim}/disable"),
            Some(&csrf),
            json!({}),
        )
        .await;
    assert_eq!(status, Status::Ok);
    let me = c.client.get("/api/console/v1/me").cookie(leaver_cookie);
    assert_eq!(me.dispatch().await.status(), Status::Unauthorized);
    let res = c.sign_in_from("leaver", PASSWORD, "192.0.2.3").await;
    assert_eq!(res.status(), Status::Unauthorized);
}

#[rocket::async_test]
async fn an_operator_of_one_organisation_sees_none_of_another() {
    let c = console().await;
    c.add_user("op.a", Role::Operator, Some(c.org_a));
    let admin_a = c.add_user("admin.a", Role::Admin, Some(c.org_a));
    let user_b = c.add_user("op.b", Role::Operator, Some(c.org_b));
    c.add_user("regional", Role::Admin, None);
    // A failed job of УО B.
    c.store
        .write_blocking(|tx| {
            tx.execute(
                "INSERT INTO outbox (kind, idempotency_key, payload, state, max_attempts, \
                 run_at, last_error, created_at, updated_at) VALUES ('gis.readings', 'k-b', \
                 ?1, 'failed', 3, ?2, 'ГИС ЖКХ: SRV006000', ?2, ?2)",
                params![json!({"organisation_id": c.org_b}).to_string(), ts(START)],
            )?;
            Ok(())
        })
        .unwrap();
    let job_b = c.count("SELECT id FROM outbox WHERE idempotency_key = 'k-b'");

    c.sign_in("op.a").await;
    let (_, houses) = c.get("/api/console/v1/houses").await;
    let houses = houses["houses"].as_array().unwrap();
    assert_eq!(houses.len(), 3, "the demo УО's houses");
    assert!(houses.iter().all(|h| h["organisation_id"] == c.org_a));
    assert!(!houses
        .iter()
        .any(|h| h["address"].as_str().unwrap().contains("Чужая")));
    let (_, orgs) = c.get("/api/console/v1/organisations").await;
    assert_eq!(orgs["organisations"].as_array().unwrap().len(), 1);

    let csrf = c.sign_in("admin.a").await;
    let (_, users) = c.get("/api/console/v1/users").await;
    let logins: Vec<&str> = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["login"].as_str().unwrap())
        .collect();
    assert_eq!(logins, ["admin.a", "op.a"]);
    let (status, _) = c
        .post(
            &format!("/api/console/v1/users/{user_b}/disable"),
            Some(&csrf),
            json!({}),
        )
        .await;
    assert_eq!(status, Status::NotFound);
    let (status, _) = c
        .post(
            "/api/console/v1/users",
            Some(&csrf),
            json!({"login": "spy", "role": "operator", "organisation_id": c.org_b,
                   "password": "0123456789ab"}),
        )
        .await;
    assert_eq!(status, Status::Forbidden);
    let (status, _) = c
        .post(
            "/api/console/v1/users",
            Some(&csrf),
            json!({"login": "own-boss", "role": "admin", "organisation_id": null,
                   "password": "0123456789ab"}),
        )
        .await;
    assert_eq!(status, Status::Created, "defaults to the admin's own УО");
    assert_eq!(
        c.count("SELECT organisation_id FROM console_users WHERE login = 'own-boss'"),
        c.org_a
    );
    let (_, exchange) = c.get("/api/console/v1/exchange").await;
    assert_eq!(exchange["failed"].as_array().unwrap().len(), 0);
    let (status, _) = c
        .post(
            &format!("/api/console/v1/exchange/jobs/{job_b}/retry"),
            Some(&csrf),
            json!({}),
        )
        .await;
    assert_eq!(status, Status::NotFound);
    let (status, _) = c
        .post(
            &format!("/api/console/v1/users/{admin_a}/disable"),
            Some(&csrf),
            json!({}),
        )
        .await;
    assert_eq!(status, Status::UnprocessableEntity, "not oneself");

    let csrf = c.sign_in("regional").await;
    let (_, houses) = c.get("/api/console/v1/houses").await;
    assert_eq!(houses["houses"].as_array().unwrap().len(), 4);
    let (_, exchange) = c.get("/api/console/v1/exchange").await;
    let failed = exchange["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["reason"], "ГИС ЖКХ: SRV006000");
    let (status, _) = c
        .post(
            &format!("/api/console/v1/exchange/jobs/{job_b}/retry"),
            Some(&csrf),
            json!({}),
        )
        .await;
    assert_eq!(status, Status::Ok);
    assert_eq!(
        c.count("SELECT COUNT(*) FROM outbox WHERE idempotency_key = 'k-b' AND state = 'pending'"),
        1
    );
    assert_eq!(
        c.count("SELECT COUNT(*) FROM audit_log WHERE action = 'outbox.retry'"),
        1
    );
    let (_, audit) = c.get("/api/console/v1/audit").await;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions[0], "outbox.retry", "{audit}");
    assert!(
        actions.contains(&"user.add"),
        "УО A's admin added one: {audit}"
    );

    // УО A's admin sees what УО A's staff did, not the regional admin's retry.
    c.sign_in("admin.a").await;
    let (_, audit) = c.get("/api/console/v1/audit").await;
    let entries = audit["entries"].as_array().unwrap();
    assert!(entries.iter().all(|e| e["actor"] != "cli"));
    assert!(!entries.iter().any(|e| e["action"] == "outbox.retry"));
    assert!(entries.iter().any(|e| e["action"] == "user.add"));
}

#[rocket::async_test]
async fn console_answers_carry_no_snils_and_no_more_personal_data_than_needed() {
    let c = console().await;
    c.add_user("regional", Role::Admin, None);
    // People who used the service, linked to demo premises, and a failed job about one.
    c.store
        .write_blocking(|tx| {
            let now = ts(START);
            for (i, person) in DEMO_PEOPLE.iter().enumerate() {
                tx.execute(
                    "INSERT INTO people (esia_oid, trusted, name, created_at, updated_at) \
                     VALUES (?1, 1, ?2, ?3, ?3)",
                    params![person.oid, person.name, now],
                )?;
                let id = tx.last_insert_rowid();
                tx.execute(
                    "INSERT INTO property_links (person_id, premise_id, proof, created_at, \
                     updated_at) VALUES (?1, (SELECT MIN(id) + ?2 FROM premises), \
                     'owners_register', ?3, ?3)",
                    params![id, i as i64, now],
                )?;
                for kind in ["dialog_started", "signed_in", "reading_submitted"] {
                    tx.execute(
                        "INSERT INTO usage_events (kind, person_id, day, created_at) \
                         VALUES (?1, ?2, '2026-11-30', ?3)",
                        params![kind, id, now],
                    )?;
                }
            }
            tx.execute(
                "INSERT INTO outbox (kind, idempotency_key, payload, state, max_attempts, \
                 run_at, last_error, created_at, updated_at) VALUES ('max.send', 'k-1', ?1, \
                 'failed', 3, ?2, 'MAX answered 403', ?2, ?2)",
                params![
                    json!({"text": DEMO_PEOPLE[0].name, "snils": DEMO_PEOPLE[0].snils}).to_string(),
                    now
                ],
            )?;
            Ok(())
        })
        .unwrap();
    c.sign_in("regional").await;

    let mut seen = String::new();
    for path in [
        "/api/console/v1/me",
        "/api/console/v1/houses",
        "/api/console/v1/exchange",
        "/api/console/v1/usage?from=2026-11-01&to=2026-11-30",
        "/api/console/v1/users",
        "/api/console/v1/organisations",
    ] {
        let (status, body) = c.get(path).await;
        assert_eq!(status, Status::Ok, "{path}");
        seen.push_str(&body.to_string());
    }
    for person in DEMO_PEOPLE {
        let digits: String = person.snils.chars().filter(char::is_ascii_digit).collect();
        assert!(!seen.contains(person.snils) && !seen.contains(&digits));
        assert!(!seen.contains(person.name), "{}", person.name);
        assert!(!seen.contains(person.oid));
    }
    let lower = seen.to_lowercase();
    for forbidden in ["snils", "password", "$argon2", "token_hash", "display_name"] {
        assert!(!lower.contains(forbidden), "{forbidden}");
    }
    assert!(seen.contains("MAX answered 403"), "the reason is shown");

    // The figures themselves: three people each did three things on 30 November.
    let (_, usage) = c
        .get("/api/console/v1/usage?from=2026-11-29&to=2026-11-30")
        .await;
    assert_eq!(usage["days"].as_array().unwrap().len(), 2);
    assert_eq!(usage["days"][1]["figures"]["signed_in"], 3);
    assert_eq!(usage["days"][0]["figures"]["signed_in"], 0);
    assert_eq!(usage["period"]["reading_submitted"], 3);
    assert_eq!(usage["all_time"]["dialog_started"], 3);
    assert_eq!(usage["period"]["request_filed"], 0);
}

#[rocket::async_test]
async fn the_console_ui_is_served_under_console() {
    let c = console().await;
    for path in ["/console", "/console/", "/console/houses", "/console/usage"] {
        let res = c.client.get(path).dispatch().await;
        assert_eq!(res.status(), Status::Ok, "{path}");
        assert_eq!(res.content_type(), Some(ContentType::HTML));
        let html = res.into_string().await.unwrap();
        assert!(html.contains("/console/main.js"), "{path}");
    }
    let res = c.client.get("/console/main.js").dispatch().await;
    assert_eq!(res.content_type(), Some(ContentType::JavaScript));
    let main = res.into_string().await.unwrap();
    for screen in [
        "Заявки",
        "Показания",
        "Дома и чаты",
        "Объявления",
        "Обмен с ГИС ЖКХ",
        "Статистика",
        "Пользователи",
    ] {
        assert!(main.contains(screen), "{screen}");
    }
    let res = c.client.get("/console/views/nothing.js").dispatch().await;
    assert_eq!(res.status(), Status::NotFound);
}

fn gosdom_user(dir: &std::path::Path, args: &[&str], stdin: &str) -> std::process::Output {
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!("[storage]\ndata_dir = \"{}\"\n", dir.join("data").display()),
    )
    .unwrap();
    let mut child = Command::new(common::bin())
        .arg("--config")
        .arg(&config)
        .arg("user")
        .args(args)
        .env_remove("GOSDOM_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn user_add_reads_the_password_from_stdin_and_hashes_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // The demo УО exists once the store has been opened in sandbox mode.
    let mut config = gosdom::config::Config::default();
    config.storage.data_dir = data.clone();
    drop(Service::prepare(config).unwrap());

    let out = gosdom_user(
        dir.path(),
        &["add", "Boss", "--role", "admin"],
        "секретный пароль\n",
    );
    assert!(out.status.success(), "{}", common::text(&out.stderr));
    assert!(common::text(&out.stdout).contains("regional admin"));

    let out = gosdom_user(
        dir.path(),
        &["add", "op", "--role", "operator"],
        "секретный пароль\n",
    );
    assert!(!out.status.success());
    assert!(
        common::text(&out.stderr).contains("organisation"),
        "{}",
        common::text(&out.stderr)
    );
    let out = gosdom_user(
        dir.path(),
        &["add", "op", "--role", "operator", "--organisation", "1"],
        "short\n",
    );
    assert!(!out.status.success());
    assert!(common::text(&out.stderr).contains("at least 10"));
    let file = dir.path().join("password");
    std::fs::write(&file, "пароль из файла!\n").unwrap();
    let out = gosdom_user(
        dir.path(),
        &[
            "add",
            "op",
            "--role",
            "operator",
            "--organisation",
            "1",
            "--password-file",
        ]
        .into_iter()
        .chain([file.to_str().unwrap()])
        .collect::<Vec<_>>(),
        "",
    );
    assert!(out.status.success(), "{}", common::text(&out.stderr));

    let out = gosdom_user(dir.path(), &["list"], "");
    let list = common::text(&out.stdout);
    assert!(
        list.contains("boss") && list.contains("op") && list.contains("regional"),
        "{list}"
    );

    let db = rusqlite::Connection::open(data.join("gosdom.db")).unwrap();
    let hash: String = db
        .query_row(
            "SELECT password_hash FROM console_users WHERE login = 'boss'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(hash.starts_with("$argon2id$"));
    assert!(staff::password_matches("секретный пароль", &hash));

    let out = gosdom_user(dir.path(), &["disable", "op"], "");
    assert!(out.status.success(), "{}", common::text(&out.stderr));
    let disabled: Option<String> = db
        .query_row(
            "SELECT disabled_at FROM console_users WHERE login = 'op'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(disabled.is_some());
}

#[rocket::async_test]
async fn where_several_organisations_share_the_appliance_usage_counts_only_their_residents() {
    let c = console().await;
    c.add_user("op.a", Role::Operator, Some(c.org_a));
    c.add_user("regional", Role::Admin, None);
    c.store
        .write_blocking(|tx| {
            let now = ts(START);
            tx.execute(
                "INSERT INTO people (esia_oid, trusted, created_at, updated_at) \
                 VALUES ('1', 1, ?1, ?1), ('2', 1, ?1, ?1)",
                [&now],
            )?;
            // Person 1 lives in a demo house of УО A; person 2 is linked nowhere.
            tx.execute(
                "INSERT INTO property_links (person_id, premise_id, proof, created_at, \
                 updated_at) VALUES ((SELECT id FROM people WHERE esia_oid = '1'), \
                 (SELECT MIN(id) FROM premises), 'account', ?1, ?1)",
                [&now],
            )?;
            tx.execute(
                "INSERT INTO usage_events (kind, person_id, max_user_id, day, created_at) VALUES \
                 ('signed_in', (SELECT id FROM people WHERE esia_oid = '1'), NULL, '2026-11-30', ?1), \
                 ('signed_in', (SELECT id FROM people WHERE esia_oid = '2'), NULL, '2026-11-30', ?1), \
                 ('dialog_started', NULL, 77, '2026-11-30', ?1)",
                [&now],
            )?;
            Ok(())
        })
        .unwrap();
    let path = "/api/console/v1/usage?from=2026-11-30&to=2026-11-30";

    c.sign_in("op.a").await;
    let (_, usage) = c.get(path).await;
    assert_eq!(usage["linked_people_only"], true);
    assert_eq!(usage["period"]["signed_in"], 1);
    assert_eq!(usage["period"]["dialog_started"], 0);

    c.sign_in("regional").await;
    let (_, usage) = c.get(path).await;
    assert_eq!(usage["linked_people_only"], false);
    assert_eq!(usage["period"]["signed_in"], 2);
    assert_eq!(usage["period"]["dialog_started"], 1);

    let (status, body) = c
        .get("/api/console/v1/usage?from=2026-12-01&to=2026-11-01")
        .await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(error_code(&body), "invalid_period");
}
