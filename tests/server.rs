//! The service as a server admin and a client see it: start, health, errors, backups.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{run, text, wait_until, Server};
use rocket::http::Status;
use rocket::local::asynchronous::Client;
use rusqlite::Connection;
use serde_json::Value;

#[test]
fn the_server_starts_on_demo_data_and_answers_health_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), "");
    let (status, body) = server.get("/healthz").unwrap();
    assert_eq!(status, 200);
    let health: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["database"], "ok");

    let (status, landing) = server.get("/").unwrap();
    assert_eq!(status, 200);
    assert!(
        landing.contains("/app/"),
        "the landing page links the mini-app"
    );

    let (status, metrics) = server.get("/metrics").unwrap();
    assert_eq!(status, 200);
    assert!(metrics.contains("gosdom_http_requests_total{"), "{metrics}");
    assert!(metrics.contains("route=\"/healthz\""), "{metrics}");

    let db = Connection::open(server.data_dir.join("gosdom.db")).unwrap();
    let houses: i64 = db
        .query_row("SELECT COUNT(*) FROM houses", [], |r| r.get(0))
        .unwrap();
    assert_eq!(houses, 3, "demo data is there in sandbox mode");
}

#[test]
fn unknown_paths_answer_the_json_error_shape_and_logs_carry_no_query() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), "");
    let (status, body) = server.get("/no/such/page?snils=11223344595").unwrap();
    assert_eq!(status, 404);
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["error"]["code"], "not_found");
    assert!(error["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Не найдено"));
    // The request is logged once the response is written; wait for the line.
    assert!(wait_until(Duration::from_secs(5), || server
        .log()
        .contains("status=404")));
    let log = server.log();
    assert!(
        !log.contains("11223344595") && !log.contains("/no/such"),
        "{log}"
    );
}

#[rocket::get("/status/<code>")]
fn status(code: u16) -> Status {
    Status::from_code(code).unwrap_or(Status::InternalServerError)
}

#[rocket::async_test]
async fn every_error_status_has_the_json_shape_and_no_internal_detail() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = gosdom::config::Config::default();
    config.storage.data_dir = dir.path().to_path_buf();
    let service = gosdom::server::Service::prepare(config).unwrap();
    let rocket = service.rocket().mount("/test", rocket::routes![status]);
    let client = Client::tracked(rocket).await.unwrap();
    for (code, expected) in [
        (400, "bad_request"),
        (401, "unauthorized"),
        (403, "forbidden"),
        (404, "not_found"),
        (413, "too_large"),
        (422, "invalid_body"),
        (429, "too_many_requests"),
        (500, "internal_error"),
    ] {
        let res = client.get(format!("/test/status/{code}")).dispatch().await;
        assert_eq!(res.status().code, code);
        assert_eq!(res.content_type(), Some(rocket::http::ContentType::JSON));
        let body: Value = res.into_json().await.unwrap();
        assert_eq!(body["error"]["code"], expected, "{code}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.chars().any(|c| ('а'..='я').contains(&c)),
            "Russian: {message}"
        );
    }
}

#[rocket::async_test]
async fn the_mini_app_may_be_framed_by_max_and_nothing_else_may() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = gosdom::config::Config::default();
    config.storage.data_dir = dir.path().to_path_buf();
    let service = gosdom::server::Service::prepare(config).unwrap();
    let client = Client::tracked(service.rocket()).await.unwrap();

    let app = client.get("/app/").dispatch().await;
    assert_eq!(app.status(), Status::Ok);
    assert!(app.headers().get_one("X-Frame-Options").is_none());
    let csp = app
        .headers()
        .get_one("Content-Security-Policy")
        .unwrap()
        .to_string();
    assert!(
        csp.contains("frame-ancestors") && csp.contains("max.ru"),
        "{csp}"
    );
    assert_eq!(app.headers().get_one("Cache-Control"), Some("no-cache"));
    let etag = app.headers().get_one("ETag").unwrap().to_string();
    let again = client
        .get("/app/")
        .header(rocket::http::Header::new("If-None-Match", etag))
        .dispatch()
        .await;
    assert_eq!(again.status(), Status::NotModified);

    let landing = client.get("/").dispatch().await;
    assert_eq!(landing.headers().get_one("X-Frame-Options"), Some("DENY"));
}

#[test]
fn a_data_dir_that_cannot_be_created_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    for data_dir in [
        "/proc/gosdom-cannot-exist/data".to_string(),
        blocker.display().to_string(),
    ] {
        let out = run(
            &["--data-dir", &data_dir, "--port", "0", "migrate"],
            &[],
            dir.path(),
        );
        assert!(!out.status.success());
        let err = text(&out.stderr);
        let lines: Vec<&str> = err.lines().filter(|l| l.contains("error")).collect();
        assert_eq!(lines.len(), 1, "{err}");
        assert!(
            lines[0].contains(&data_dir) && lines[0].contains("storage.data_dir"),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn migrate_runs_once_on_a_populated_database() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap();
    // First start creates the schema and the demo data.
    let first = run(&["--data-dir", data_arg, "migrate"], &[], dir.path());
    assert!(first.status.success(), "{}", text(&first.stderr));
    let service = {
        let mut config = gosdom::config::Config::default();
        config.storage.data_dir = data.clone();
        gosdom::server::Service::prepare(config).unwrap()
    };
    drop(service);
    let db = Connection::open(data.join("gosdom.db")).unwrap();
    let before: i64 = db
        .query_row("SELECT COUNT(*) FROM readings", [], |r| r.get(0))
        .unwrap();
    assert!(before > 1000);
    let again = run(&["--data-dir", data_arg, "migrate"], &[], dir.path());
    assert!(again.status.success());
    let (rows, versions, latest): (i64, i64, i64) = db
        .query_row(
            "SELECT COUNT(*), COUNT(DISTINCT version), MAX(version) FROM refinery_schema_history",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(rows, versions, "each migration ran once");
    assert_eq!(latest, gosdom::store::known_version());
    let after: i64 = db
        .query_row("SELECT COUNT(*) FROM readings", [], |r| r.get(0))
        .unwrap();
    assert_eq!(before, after, "no data touched");
}

#[test]
fn backup_while_serving_is_a_sound_database() {
    let dir = tempfile::tempdir().unwrap();
    let server = Arc::new(Server::start(dir.path(), ""));
    let stop = Arc::new(AtomicBool::new(false));

    // Requests keep coming, and rows keep being written, during the backup.
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let server = server.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let (status, _) = server.get("/healthz").unwrap();
                    assert_eq!(status, 200);
                    n += 1;
                }
                n
            })
        })
        .collect();
    let writer = {
        let db_path = server.data_dir.join("gosdom.db");
        let stop = stop.clone();
        std::thread::spawn(move || {
            let db = Connection::open(db_path).unwrap();
            db.busy_timeout(Duration::from_secs(10)).unwrap();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) || n < 50 {
                db.execute(
                    "INSERT INTO kv (key, value, updated_at) VALUES (?1, 'x', 'now')",
                    [format!("load-{n}")],
                )
                .unwrap();
                n += 1;
            }
            n
        })
    };

    let copy = dir.path().join("backup.db");
    let cfg = server.config.to_str().unwrap().to_string();
    let out = run(
        &["--config", &cfg, "backup", copy.to_str().unwrap()],
        &[],
        dir.path(),
    );
    stop.store(true, Ordering::Relaxed);
    let served: usize = readers.into_iter().map(|r| r.join().unwrap()).sum();
    let written = writer.join().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(served > 0 && written > 0);

    let backup = Connection::open(&copy).unwrap();
    let check: String = backup
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let premises: i64 = backup
        .query_row("SELECT COUNT(*) FROM premises", [], |r| r.get(0))
        .unwrap();
    assert_eq!(premises, 150);

    let twice = run(
        &["--config", &cfg, "backup", copy.to_str().unwrap()],
        &[],
        dir.path(),
    );
    assert!(
        !twice.status.success(),
        "an existing backup is never overwritten"
    );
}

#[rocket::async_test]
async fn failed_jobs_show_in_metrics_by_kind_and_state() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = gosdom::config::Config::default();
    config.storage.data_dir = dir.path().to_path_buf();
    let service = gosdom::server::Service::prepare(config).unwrap();
    let now = time::OffsetDateTime::now_utc();
    service
        .app
        .store
        .write_blocking(|tx| {
            let job = gosdom::jobs::NewJob::new("max.send", "m-1", serde_json::json!({}));
            gosdom::jobs::enqueue(tx, &job, now)?;
            let id = tx.last_insert_rowid();
            gosdom::jobs::outbox::fail(tx, id, "token revoked", now)
        })
        .unwrap();
    let client = Client::tracked(service.rocket()).await.unwrap();
    let text = client
        .get("/metrics")
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap();
    assert!(
        text.contains(r#"gosdom_outbox_jobs{kind="max.send",state="failed"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"gosdom_outbox_jobs{kind="max.send",state="pending"} 0"#));
}

#[rocket::async_test]
async fn the_sandbox_pages_exist_only_in_sandbox_mode() {
    for (mode, expected) in [
        (gosdom::config::Mode::Sandbox, Status::Ok),
        (gosdom::config::Mode::Production, Status::NotFound),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut config = gosdom::config::Config::default();
        config.storage.data_dir = dir.path().to_path_buf();
        config.mode = mode;
        let service = gosdom::server::Service::prepare(config).unwrap();
        let client = Client::tracked(service.rocket()).await.unwrap();
        let res = client.get("/dev/").dispatch().await;
        assert_eq!(res.status(), expected, "{mode:?}");
    }
}

#[test]
fn a_failing_migration_leaves_the_data_as_it_was_and_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap();
    assert!(run(&["--data-dir", data_arg, "migrate"], &[], dir.path())
        .status
        .success());
    let db = Connection::open(data.join("gosdom.db")).unwrap();
    db.execute(
        "INSERT INTO kv (key, value, updated_at) VALUES ('marker', 'before', 'now')",
        [],
    )
    .unwrap();
    // The latest migration looks unapplied while its tables exist: applying it fails.
    let latest = gosdom::store::known_version();
    db.execute(
        "DELETE FROM refinery_schema_history WHERE version = ?1",
        [latest],
    )
    .unwrap();
    drop(db);

    let out = run(&["--data-dir", data_arg, "migrate"], &[], dir.path());
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("migration failed"), "{err}");
    assert!(err.contains("the database is unchanged"), "{err}");
    assert!(err.contains("previous version"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let db = Connection::open(data.join("gosdom.db")).unwrap();
    let marker: String = db
        .query_row("SELECT value FROM kv WHERE key = 'marker'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(marker, "before");
    let copies: Vec<_> = std::fs::read_dir(data.join("backups"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("pre-migrate-"))
        .collect();
    assert_eq!(copies.len(), 1, "{copies:?}");
    assert!(
        err.contains(&copies[0]),
        "the message names the copy: {err}"
    );
}

#[test]
fn a_body_that_fails_to_parse_never_reaches_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), "");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let res = agent
        .post(&server.url("/api/v1/session"))
        .header("Content-Type", "application/json")
        .send("{init_data: 'user=Смирнова Анна 112-233-445 95'")
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    assert!(wait_until(Duration::from_secs(5), || server
        .log()
        .contains("route=\"/api/v1/session\" status=400")));
    let log = server.log();
    assert!(
        !log.contains("Смирнова") && !log.contains("112-233"),
        "{log}"
    );
}

/// The MAX simulator shows the mini-app in a frame; its «Войти через Госуслуги» goes
/// through the sandbox ЕСИА and `/auth/` inside that frame, so in sandbox mode those pages
/// may be framed by the same origin. In production nothing but the mini-app is framed.
#[rocket::async_test]
async fn the_sandbox_sign_in_pages_may_be_framed_by_the_same_origin_only_in_sandbox() {
    let sign_in = [
        "/dev/esia/login?state=s",
        "/auth/esia/callback?code=c&state=s",
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut config = gosdom::config::Config::default();
    config.storage.data_dir = dir.path().to_path_buf();
    let service = gosdom::server::Service::prepare(config).unwrap();
    let client = Client::tracked(service.rocket()).await.unwrap();
    for path in sign_in {
        let res = client.get(path).dispatch().await;
        let csp = res.headers().get_one("Content-Security-Policy").unwrap();
        assert!(csp.contains("frame-ancestors 'self'"), "{path}: {csp}");
        assert_eq!(res.headers().get_one("X-Frame-Options"), Some("SAMEORIGIN"));
    }
    // Everything else still refuses to be framed.
    let res = client.get("/dev/").dispatch().await;
    let csp = res.headers().get_one("Content-Security-Policy").unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(res.headers().get_one("X-Frame-Options"), Some("DENY"));

    // Production: the same paths may not be framed at all.
    let production = rocket::custom(rocket::Config::default())
        .attach(gosdom::web::fairings::SecurityHeaders::for_mode(false))
        .mount("/", rocket::routes![any_page]);
    let client = Client::tracked(production).await.unwrap();
    for path in sign_in {
        let res = client.get(path).dispatch().await;
        let csp = res.headers().get_one("Content-Security-Policy").unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(res.headers().get_one("X-Frame-Options"), Some("DENY"));
    }
}

#[rocket::get("/<_..>")]
fn any_page() -> &'static str {
    "page"
}

/// A data dir with the sandbox demo data (one УО, a year of readings).
fn demo_data_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut config = gosdom::config::Config::default();
    config.storage.data_dir = dir.path().join("data");
    drop(gosdom::server::Service::prepare(config).unwrap());
    dir
}

/// `gosdom <args> | head -1`: reads one line, closes the pipe, waits for the exit.
fn first_line_then_close(args: &[&str], cwd: &std::path::Path) -> (String, std::process::Output) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(common::bin())
        .args(args)
        .current_dir(cwd)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    std::io::BufReader::with_capacity(64, stdout)
        .read_line(&mut line)
        .unwrap();
    // The reader is dropped here: the pipe is closed with most of the output unread.
    (line, child.wait_with_output().unwrap())
}

#[test]
fn a_reader_that_closes_the_pipe_early_ends_the_command_quietly() {
    let dir = demo_data_dir();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    // A month of the demo year: far more CSV than a pipe holds.
    let month = time::OffsetDateTime::now_utc() - time::Duration::days(35);
    let period = format!("{}-{:02}", month.year(), u8::from(month.month()));
    let (line, out) = first_line_then_close(
        &[
            "--data-dir",
            data,
            "export",
            "readings",
            "--period",
            &period,
        ],
        dir.path(),
    );
    assert!(line.starts_with("organisation_inn,"), "{line}");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // The pipe did break: the export stopped before its closing count.
    assert!(!stderr.contains("readings of"), "{stderr}");
    assert!(!stderr.to_lowercase().contains("broken pipe"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // check-config --show into a pipe already closed: nothing to say, exit 0.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = std::process::Command::new(common::bin())
        .args(["--data-dir", data, "check-config", "--show"])
        .current_dir(dir.path())
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.to_lowercase().contains("broken pipe"), "{stderr}");
}

#[test]
fn a_backup_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("copy.db");
    let out = run(
        &[
            "--data-dir",
            data.to_str().unwrap(),
            "backup",
            file.to_str().unwrap(),
        ],
        &[],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");
}

#[test]
fn organisations_lists_the_id_the_user_add_command_takes() {
    let dir = demo_data_dir();
    let data = dir.path().join("data");
    let out = run(
        &["--data-dir", data.to_str().unwrap(), "organisations"],
        &[],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed = text(&out.stdout);
    let demo = listed
        .lines()
        .find(|l| l.contains("1655000000"))
        .unwrap_or_else(|| panic!("{listed}"));
    let id = demo.split_whitespace().next().unwrap();
    assert!(demo.contains("Демо-Дом"), "{demo}");
    let password = dir.path().join("password");
    std::fs::write(&password, "correct horse battery staple\n").unwrap();
    let out = run(
        &[
            "--data-dir",
            data.to_str().unwrap(),
            "user",
            "add",
            "operator1",
            "--role",
            "operator",
            "--organisation",
            id,
            "--password-file",
            password.to_str().unwrap(),
        ],
        &[],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[rocket::async_test]
async fn the_browser_gets_a_tab_icon() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = gosdom::config::Config::default();
    config.storage.data_dir = dir.path().to_path_buf();
    let service = gosdom::server::Service::prepare(config).unwrap();
    let client = Client::tracked(service.rocket()).await.unwrap();
    let res = client.get("/favicon.ico").dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(res.content_type(), Some(rocket::http::ContentType::Icon));
    let bytes = res.into_bytes().await.unwrap();
    assert_eq!(&bytes[..4], &[0, 0, 1, 0], "an ICO file");
}
