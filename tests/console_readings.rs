//! The console's «Показания» and «Реестр собственников» as staff see them: a house's
//! meters in a month (submitted, missing, rejected with the reason), the billing CSV as a
//! download, bad periods and houses, tenancy, register figures and CSV imports with their
//! wrong lines.

use std::net::SocketAddr;
use std::sync::Arc;

use gosdom::clock::ManualClock;
use gosdom::domain::console::staff::{self, NewAccount};
use gosdom::domain::console::Role;
use gosdom::sandbox::demo::{house_fias, DEMO_PEOPLE};
use gosdom::server::Service;
use gosdom::store::{ts, Store};
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::Client;
use rusqlite::params;
use serde_json::{json, Value};
use time::macros::datetime;
use time::OffsetDateTime;

const PASSWORD: &str = "верный пароль 123";
const START: OffsetDateTime = datetime!(2026-12-03 09:00 UTC);

struct Console {
    client: Client,
    store: Store,
    /// The demo УО.
    org_a: i64,
    /// A second УО with one house.
    org_b: i64,
    /// The first demo house (УО A).
    house_a: i64,
    /// УО B's house.
    house_b: i64,
    _dir: tempfile::TempDir,
}

async fn console() -> Console {
    let dir = tempfile::tempdir().unwrap();
    let mut config = gosdom::config::Config::default();
    config.storage.data_dir = dir.path().to_path_buf();
    let clock = ManualClock::new(START);
    let service = Service::prepare_with_clock(config, Arc::new(clock)).unwrap();
    let store = service.app.store.clone();
    let (org_a, org_b, house_a, house_b) = store
        .write_blocking(|tx| {
            let a: i64 = tx.query_row("SELECT MIN(id) FROM organisations", [], |r| r.get(0))?;
            let house_a: i64 = tx.query_row(
                "SELECT id FROM houses WHERE fias_guid = ?1",
                [house_fias(0).unwrap()],
                |r| r.get(0),
            )?;
            let now = ts(START);
            tx.execute(
                "INSERT INTO organisations (name, inn, ogrn, created_at, updated_at) \
                 VALUES ('УО Второй район', '7700000002', '1027700000002', ?1, ?1)",
                [&now],
            )?;
            let b = tx.last_insert_rowid();
            tx.execute(
                "INSERT INTO houses (organisation_id, fias_guid, address, created_at, updated_at) \
                 VALUES (?1, '11111111-2222-3333-4444-555555555555', 'г. Другой, ул. Чужая, д. 99', \
                 ?2, ?2)",
                params![b, now],
            )?;
            Ok((a, b, house_a, tx.last_insert_rowid()))
        })
        .unwrap();
    let client = Client::tracked(service.rocket()).await.unwrap();
    Console {
        client,
        store,
        org_a,
        org_b,
        house_a,
        house_b,
        _dir: dir,
    }
}

impl Console {
    fn add_user(&self, login: &str, role: Role, organisation_id: Option<i64>) {
        let hash = staff::hash_password(PASSWORD).unwrap();
        let account = NewAccount {
            login: login.into(),
            role,
            organisation_id,
        };
        self.store
            .write_blocking(|tx| Ok(staff::add(tx, None, &account, &hash, START)))
            .unwrap()
            .unwrap();
    }

    /// Signs in (the cookie stays with the client) and returns the CSRF token.
    async fn sign_in(&self, login: &str) -> String {
        let remote: SocketAddr = "192.0.2.10:40000".parse().unwrap();
        let res = self
            .client
            .post("/api/console/v1/session")
            .remote(remote)
            .header(ContentType::JSON)
            .body(json!({ "login": login, "password": PASSWORD }).to_string())
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::Ok);
        let me: Value = res.into_json().await.unwrap();
        me["csrf_token"].as_str().unwrap().to_string()
    }

    async fn get(&self, path: &str) -> (Status, Value) {
        let res = self.client.get(path).dispatch().await;
        let status = res.status();
        (status, res.into_json().await.unwrap_or(Value::Null))
    }

    async fn upload(&self, csrf: Option<&str>, query: &str, csv: &str) -> (Status, Value) {
        let mut req = self
            .client
            .post(format!("/api/console/v1/register/imports?{query}"))
            .header(ContentType::new("text", "csv"))
            .body(csv);
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

    /// A meter of the house's premise `number`, with its serial.
    fn meter(&self, house: i64, number: &str, resource: &str) -> (i64, String) {
        self.store
            .conn()
            .unwrap()
            .query_row(
                "SELECT m.id, m.serial FROM meters m JOIN premises p ON p.id = m.premise_id \
                 WHERE p.house_id = ?1 AND p.number = ?2 AND m.resource = ?3",
                params![house, number, resource],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    }

    fn reading(
        &self,
        meter: i64,
        values: &[&str],
        taken_on: &str,
        status: &str,
        error: Option<&str>,
    ) {
        let v = |i: usize| values.get(i).copied();
        self.store
            .conn()
            .unwrap()
            .execute(
                "INSERT INTO readings (meter_id, t1, t2, t3, taken_on, source, status, error, \
                 created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 'resident', ?6, ?7, ?8, ?8)",
                params![meter, v(0), v(1), v(2), taken_on, status, error, ts(START)],
            )
            .unwrap();
    }
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no error shape>")
}

fn meter_line(body: &Value, id: i64) -> &Value {
    body["meters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .unwrap_or_else(|| panic!("meter {id} is listed"))
}

#[rocket::async_test]
async fn a_house_month_shows_each_meter_submitted_missing_or_rejected_with_the_reason() {
    let c = console().await;
    c.add_user("dispatcher", Role::Operator, Some(c.org_a));
    c.sign_in("dispatcher").await;
    let (water, _) = c.meter(c.house_a, "1", "cold_water");
    let (power, _) = c.meter(c.house_a, "2", "electricity");
    c.reading(water, &["130.5"], "2026-12-02", "accepted", None);
    c.reading(
        power,
        &["5000", "2000"],
        "2026-12-02",
        "rejected",
        Some("Показания меньше ранее переданных (SRV006010)"),
    );

    let path = format!(
        "/api/console/v1/readings?period=2026-12&house_id={}",
        c.house_a
    );
    let (status, body) = c.get(&path).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["period"], "2026-12");
    let meters = body["meters"].as_array().unwrap().len() as i64;
    let expected = c.count(&format!(
        "SELECT COUNT(*) FROM meters m JOIN premises p ON p.id = m.premise_id \
         WHERE p.house_id = {}",
        c.house_a
    ));
    assert_eq!(meters, expected, "every meter of the house is listed");
    assert_eq!(
        body["counts"],
        json!({"meters": meters, "submitted": 1, "rejected": 1, "missing": meters - 2})
    );
    let w = meter_line(&body, water);
    assert_eq!(w["state"], "submitted");
    assert_eq!(w["premise_number"], "1");
    assert_eq!(w["readings"][0]["values"], json!(["130.5"]));
    assert_eq!(w["readings"][0]["status"], "accepted");
    let p = meter_line(&body, power);
    assert_eq!(p["state"], "rejected");
    assert_eq!(p["rejected"][0]["values"], json!(["5000", "2000"]));
    assert_eq!(
        p["rejected"][0]["reason"],
        "Показания меньше ранее переданных (SRV006010)"
    );

    // November: the demo's confirmed readings of the 22nd, for every meter.
    let path = format!(
        "/api/console/v1/readings?period=2026-11&house_id={}",
        c.house_a
    );
    let (_, november) = c.get(&path).await;
    assert_eq!(november["counts"]["submitted"], meters);
    assert_eq!(november["counts"]["missing"], 0);
    assert_eq!(
        meter_line(&november, water)["readings"][0]["taken_on"],
        "2026-11-22"
    );
    assert_eq!(
        meter_line(&november, water)["readings"][0]["status"],
        "confirmed"
    );

    // No names of owners or residents, no СНИЛС: premise numbers, serials and values.
    let text = body.to_string().to_lowercase();
    for forbidden in ["snils", "name", "person", "owner", "account"] {
        assert!(!text.contains(forbidden), "{forbidden}");
    }
}

#[rocket::async_test]
async fn a_bad_period_or_house_is_a_russian_4xx_and_another_organisations_house_is_not_found() {
    let c = console().await;
    c.add_user("dispatcher", Role::Operator, Some(c.org_a));

    let (status, body) = c
        .get(&format!(
            "/api/console/v1/readings?period=2026-11&house_id={}",
            c.house_a
        ))
        .await;
    assert_eq!(status, Status::Unauthorized, "no session");
    assert_eq!(error_code(&body), "session_required");
    let (status, _) = c
        .get("/api/console/v1/readings/export?period=2026-11")
        .await;
    assert_eq!(status, Status::Unauthorized);
    let (status, _) = c.get("/api/console/v1/register").await;
    assert_eq!(status, Status::Unauthorized);
    let (status, _) = c.upload(None, "kind=owners", "x").await;
    assert_eq!(status, Status::Unauthorized);

    c.sign_in("dispatcher").await;
    let house = c.house_a;
    let cases = [
        (
            format!("period=2026-13&house_id={house}"),
            Status::UnprocessableEntity,
            "invalid_period",
        ),
        (
            format!("period=%D0%BD%D0%BE%D1%8F%D0%B1%D1%80%D1%8C&house_id={house}"),
            Status::UnprocessableEntity,
            "invalid_period",
        ),
        (
            format!("period=2026-1&house_id={house}"),
            Status::UnprocessableEntity,
            "invalid_period",
        ),
        (
            "period=2026-11".to_string(),
            Status::UnprocessableEntity,
            "house_required",
        ),
        (
            "period=2026-11&house_id=abc".to_string(),
            Status::UnprocessableEntity,
            "invalid_house",
        ),
        (
            "period=2026-11&house_id=999999".to_string(),
            Status::NotFound,
            "house_not_found",
        ),
        (
            format!("period=2026-11&house_id={}", c.house_b),
            Status::NotFound,
            "house_not_found",
        ),
    ];
    for (query, expected, code) in cases {
        let (status, body) = c.get(&format!("/api/console/v1/readings?{query}")).await;
        assert_eq!(status, expected, "{query}: {body}");
        assert_eq!(error_code(&body), code, "{query}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message
                .chars()
                .any(|ch| ('а'..='я').contains(&ch.to_lowercase().next().unwrap())),
            "{query}: a Russian message, got {message}"
        );
    }
    let (status, body) = c
        .get("/api/console/v1/readings/export?period=11.2026")
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert_eq!(error_code(&body), "invalid_period");
    let (status, body) = c
        .get(&format!(
            "/api/console/v1/readings/export?period=2026-11&organisation_id={}",
            c.org_b
        ))
        .await;
    assert_eq!(
        status,
        Status::NotFound,
        "an operator cannot export another УО"
    );
    assert_eq!(error_code(&body), "organisation_not_found");

    // Without a period: the current month.
    let (status, body) = c
        .get(&format!("/api/console/v1/readings?house_id={house}"))
        .await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body["period"], "2026-12");
}

#[rocket::async_test]
async fn the_billing_csv_downloads_as_a_utf8_file_of_the_staff_members_organisation() {
    let c = console().await;
    c.add_user("dispatcher", Role::Operator, Some(c.org_a));
    c.add_user("other", Role::Operator, Some(c.org_b));
    c.add_user("regional", Role::Admin, None);
    let (water, serial) = c.meter(c.house_a, "1", "cold_water");

    c.sign_in("dispatcher").await;
    let res = c
        .client
        .get("/api/console/v1/readings/export?period=2026-11")
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(
        res.headers().get_one("Content-Type"),
        Some("text/csv; charset=utf-8")
    );
    let disposition = res.headers().get_one("Content-Disposition").unwrap();
    assert!(
        disposition.starts_with("attachment;") && disposition.contains("readings-2026-11"),
        "{disposition}"
    );
    let bytes = res.into_bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a UTF-8 BOM for Excel");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("organisation_inn,house_fias_guid,house_address,premise,"));
    assert!(header.contains(",serial,") && header.contains(",t1,t2,t3,taken_on,"));
    let meters_a = c.count(&format!(
        "SELECT COUNT(*) FROM meters m JOIN premises p ON p.id = m.premise_id \
         JOIN houses h ON h.id = p.house_id WHERE h.organisation_id = {}",
        c.org_a
    ));
    assert_eq!(
        lines.clone().count() as i64,
        meters_a,
        "one November reading per meter"
    );
    let row = lines
        .find(|l| l.contains(&format!(",{water},")) && l.contains(&serial))
        .expect("the known meter's row");
    assert!(
        row.contains("ул. Баумана") && row.contains(",2026-11-22,confirmed,"),
        "{row}"
    );
    assert!(!text.contains("г. Другой"), "no other УО's house");
    let audited = c.count("SELECT COUNT(*) FROM audit_log WHERE action = 'readings.export'");
    assert_eq!(audited, 1, "the export is in the audit log");

    // УО B has no readings; the regional admin gets both УО, or the one asked for.
    c.sign_in("other").await;
    let res = c
        .client
        .get("/api/console/v1/readings/export?period=2026-11")
        .dispatch()
        .await;
    let text = res.into_string().await.unwrap();
    assert_eq!(text.lines().count(), 1, "the header alone: {text}");

    c.sign_in("regional").await;
    let path = format!(
        "/api/console/v1/readings/export?period=2026-11&organisation_id={}",
        c.org_a
    );
    let res = c.client.get(path).dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    let text = res.into_string().await.unwrap();
    assert_eq!(text.lines().count() as i64, meters_a + 1);
}

#[rocket::async_test]
async fn admins_see_register_figures_and_import_a_csv_all_or_nothing_with_line_numbers() {
    let c = console().await;
    c.add_user("dispatcher", Role::Operator, Some(c.org_a));
    c.add_user("admin.a", Role::Admin, Some(c.org_a));
    let fias = house_fias(0).unwrap();

    let csrf = c.sign_in("dispatcher").await;
    let (status, _) = c.get("/api/console/v1/register").await;
    assert_eq!(
        status,
        Status::Forbidden,
        "operators do not see the register"
    );
    let (status, _) = c.upload(Some(&csrf), "kind=owners", "x").await;
    assert_eq!(status, Status::Forbidden);

    let csrf = c.sign_in("admin.a").await;
    let (status, body) = c.get("/api/console/v1/register").await;
    assert_eq!(status, Status::Ok);
    let houses = body["houses"].as_array().unwrap();
    assert_eq!(houses.len(), 3, "the demo УО's houses only");
    let first = houses.iter().find(|h| h["id"] == c.house_a).unwrap();
    let premises = c.count(&format!(
        "SELECT COUNT(*) FROM premises WHERE house_id = {}",
        c.house_a
    ));
    assert_eq!(first["premises"], premises);
    assert_eq!(
        first["with_owners"], premises,
        "the demo register covers every flat"
    );
    assert_eq!(first["linked"], 0);
    let text = body.to_string();
    for person in DEMO_PEOPLE {
        assert!(!text.contains(person.name) && !text.contains(person.snils));
    }
    assert!(!text.to_lowercase().contains("snils") && !text.contains("display_name"));

    // Without the CSRF token nothing is imported.
    let good = format!(
        "house_fias_guid,premise_number,full_name,birth_date,snils,share\n\
         {fias},1,Новая Собственница Ивановна,1980-01-02,,1/2\n\
         {fias},1,Новый Собственник Иванович,1981-03-04,,1/2\n"
    );
    let (status, _) = c
        .upload(None, "kind=owners&file_name=owners.csv", &good)
        .await;
    assert_eq!(status, Status::Forbidden);

    // A wrong line, another УО's house: each reported with its line, nothing written.
    let owners_before = c.count("SELECT COUNT(*) FROM owners");
    let bad = format!(
        "house_fias_guid,premise_number,full_name,birth_date,snils,share\n\
         {fias},1,Новая Собственница Ивановна,1980-01-02,,1/2\n\
         {fias},1,Без Документов,,,1\n\
         11111111-2222-3333-4444-555555555555,1,Чужой Дом,1980-01-02,,1\n\
         {fias},2,Неверный Снилс,,123-456-789 00,1\n"
    );
    let (status, body) = c
        .upload(Some(&csrf), "kind=owners&file_name=owners.csv", &bad)
        .await;
    assert_eq!(status, Status::UnprocessableEntity, "{body}");
    assert_eq!(error_code(&body), "import_rejected");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Ничего не загружено"));
    let lines: Vec<u64> = body["import"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [3, 4, 5]);
    assert_eq!(body["import"]["lines"], 4);
    assert!(!body.to_string().contains("123-456-789"), "no СНИЛС echoed");
    assert_eq!(c.count("SELECT COUNT(*) FROM owners"), owners_before);

    let (status, body) = c
        .upload(Some(&csrf), "kind=owners&file_name=owners.csv", &good)
        .await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["import"]["outcome"], "done");
    assert_eq!(body["import"]["created"], 2);
    let on_flat_1 = c.count(&format!(
        "SELECT COUNT(*) FROM owners o JOIN premises p ON p.id = o.premise_id \
         WHERE p.house_id = {} AND p.number = '1' AND o.source = 'import'",
        c.house_a
    ));
    assert_eq!(on_flat_1, 2);

    let (status, body) = c
        .upload(
            Some(&csrf),
            "kind=owners",
            "full_name,premise_number\nИван,1\n",
        )
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert_eq!(
        body["import"]["errors"][0]["line"], 1,
        "a header problem is line 1"
    );
    let (status, body) = c.upload(Some(&csrf), "kind=people", &good).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert_eq!(error_code(&body), "invalid_kind");

    // The imports, newest first, with their wrong lines; recorded in the audit log.
    let (_, body) = c.get("/api/console/v1/register").await;
    let imports = body["imports"].as_array().unwrap();
    assert_eq!(imports.len(), 3);
    assert_eq!(imports[1]["outcome"], "done");
    assert_eq!(imports[1]["file_name"], "owners.csv");
    assert_eq!(imports[2]["outcome"], "failed");
    assert_eq!(imports[2]["errors"].as_array().unwrap().len(), 3);
    assert!(imports[2]["errors"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("birth_date"));
    assert_eq!(
        c.count("SELECT COUNT(*) FROM audit_log WHERE action = 'register.import'"),
        3
    );

    // УО B's admin sees none of УО A's imports.
    c.add_user("admin.b", Role::Admin, Some(c.org_b));
    c.sign_in("admin.b").await;
    let (_, body) = c.get("/api/console/v1/register").await;
    assert_eq!(body["imports"].as_array().unwrap().len(), 0);
    assert_eq!(body["houses"].as_array().unwrap().len(), 1);
}

#[rocket::async_test]
async fn imports_made_with_gosdom_import_are_listed_too() {
    let c = console().await;
    c.add_user("regional", Role::Admin, None);
    c.add_user("admin.a", Role::Admin, Some(c.org_a));
    let file = c._dir.path().join("owners.csv");
    std::fs::write(
        &file,
        format!(
            "house_fias_guid,premise_number,full_name,birth_date\n{},1,Без Даты,\n",
            house_fias(0).unwrap()
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gosdom"))
        .arg("--data-dir")
        .arg(c._dir.path())
        .args(["import", "owners"])
        .arg(&file)
        .env("GOSDOM_LOG__LEVEL", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success(), "the row has no birth date or СНИЛС");
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2:"));

    c.sign_in("regional").await;
    let (_, body) = c.get("/api/console/v1/register").await;
    let imports = body["imports"].as_array().unwrap();
    assert_eq!(imports.len(), 1);
    assert_eq!(imports[0]["file_name"], "owners.csv");
    assert_eq!(imports[0]["outcome"], "failed");
    assert_eq!(imports[0]["errors"][0]["line"], 2);

    // Limited to no УО: a УО's admin sees it only where the appliance serves that УО alone.
    c.sign_in("admin.a").await;
    let (_, body) = c.get("/api/console/v1/register").await;
    assert_eq!(body["imports"].as_array().unwrap().len(), 0);
    c.store
        .write_blocking(|tx| {
            tx.execute("DELETE FROM houses WHERE id = ?1", [c.house_b])?;
            tx.execute("DELETE FROM organisations WHERE id = ?1", [c.org_b])?;
            Ok(())
        })
        .unwrap();
    let (_, body) = c.get("/api/console/v1/register").await;
    assert_eq!(body["imports"].as_array().unwrap().len(), 1);
}
