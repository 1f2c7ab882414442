//! Helpers of the hostile-input tests: a service with the demo УО and a second УО with one
//! house, staff of both, and raw console requests (any body, any content type).
#![allow(dead_code)]

use gosdom::domain::console::Role;
use gosdom::server::Service;
use gosdom::store::{ts, Store};
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::Client;
use rusqlite::params;
use serde_json::Value;
use time::OffsetDateTime;

use crate::chats_common::{add_staff, sign_in};
use crate::common::{config, service, MockMax};

pub struct Hostile {
    pub service: Service,
    pub client: Client,
    pub store: Store,
    pub mock: MockMax,
    /// The demo УО and its first house.
    pub org_a: i64,
    pub house_a: i64,
    /// A second УО and its only house.
    pub org_b: i64,
    pub house_b: i64,
    _dir: tempfile::TempDir,
}

/// A service (no outbox worker) with admins `admin.a`, `admin.b` and operator `op.a`.
pub async fn hostile() -> Hostile {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockMax::start(|r, _| crate::chats_common::reply_with_chats(r));
    let service = service(config(dir.path(), &mock.url));
    let store = service.app.store.clone();
    let now = ts(OffsetDateTime::now_utc());
    let (org_a, house_a, org_b, house_b) = store
        .write_blocking(|tx| {
            let (org_a, house_a): (i64, i64) = tx.query_row(
                "SELECT organisation_id, id FROM houses ORDER BY id LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            tx.execute(
                "INSERT INTO organisations (name, inn, ogrn, created_at, updated_at) \
                 VALUES ('УО Второй район', '7700000002', '1027700000002', ?1, ?1)",
                [&now],
            )?;
            let org_b = tx.last_insert_rowid();
            tx.execute(
                "INSERT INTO houses (organisation_id, fias_guid, address, created_at, \
                 updated_at) VALUES (?1, '11111111-2222-3333-4444-555555555555', \
                 'г. Другой, ул. Чужая, д. 99', ?2, ?2)",
                params![org_b, now],
            )?;
            Ok((org_a, house_a, org_b, tx.last_insert_rowid()))
        })
        .unwrap();
    add_staff(&store, "admin.a", Role::Admin, Some(org_a));
    add_staff(&store, "op.a", Role::Operator, Some(org_a));
    add_staff(&store, "admin.b", Role::Admin, Some(org_b));
    let client = Client::tracked(service.rocket()).await.unwrap();
    Hostile {
        service,
        client,
        store,
        mock,
        org_a,
        house_a,
        org_b,
        house_b,
        _dir: dir,
    }
}

impl Hostile {
    pub async fn sign_in(&self, login: &str) -> String {
        sign_in(&self.client, login).await
    }

    /// A console POST with a raw body and content type.
    pub async fn raw_post(
        &self,
        path: &str,
        csrf: &str,
        content_type: ContentType,
        body: impl AsRef<[u8]>,
    ) -> (Status, Value) {
        let res = self
            .client
            .post(format!("/api/console/v1{path}"))
            .header(content_type)
            .header(Header::new("X-CSRF-Token", csrf.to_string()))
            .body(body)
            .dispatch()
            .await;
        let status = res.status();
        (status, res.into_json().await.unwrap_or(Value::Null))
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.store
            .conn()
            .unwrap()
            .query_row(sql, [], |r| r.get(0))
            .unwrap()
    }
}

/// Asserts the error shape: a 4xx, a snake_case code and a Russian message.
#[track_caller]
pub fn assert_error(status: Status, body: &Value, code: &str) {
    assert!(
        (400..500).contains(&status.code),
        "expected a 4xx, got {status}: {body}"
    );
    assert_eq!(body["error"]["code"], code, "{status}: {body}");
    let message = body["error"]["message"].as_str().unwrap_or("");
    assert!(
        message
            .chars()
            .any(|c| ('а'..='я').contains(&c.to_lowercase().next().unwrap_or(c))),
        "the message is not Russian: {body}"
    );
}
