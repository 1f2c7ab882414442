//! The console in headless Chromium against the real server: sign in, every screen, a
//! retry, a new account, the owners register, sign out; then a dispatcher takes a request
//! from new to done and downloads the month's readings CSV. Driven by `tests/browser/console.mjs` (playwright-core
//! with Debian's chromium; `scripts/test` installs both). Without them the test fails and
//! says how to install them.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{text, Server};

const PASSWORD: &str = "пароль администратора";

fn browser_ready(root: &Path) -> Result<(), String> {
    if !root
        .join("tests/browser/node_modules/playwright-core")
        .is_dir()
    {
        return Err("tests/browser/node_modules is missing (npm ci in tests/browser)".into());
    }
    if !Path::new("/usr/bin/chromium").exists() {
        return Err("/usr/bin/chromium is missing (apt-get install chromium)".into());
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Err("node is missing (apt-get install nodejs)".into());
    }
    Ok(())
}

/// `gosdom user add <login> <args>` with [`PASSWORD`].
fn add_user(server: &Server, login: &str, args: &[&str]) {
    let mut add = Command::new(common::bin())
        .args(["--config", &server.config.to_string_lossy()])
        .args(["user", "add", login])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(add.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let added = add.wait_with_output().unwrap();
    assert!(added.status.success(), "{}", text(&added.stderr));
}

#[test]
fn staff_sign_in_and_work_the_console_in_a_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Err(missing) = browser_ready(root) {
        // Never a silent pass: scripts/test installs what this needs.
        panic!(
            "browser test cannot run: {missing}; run scripts/test (or sh tests/browser/setup.sh)"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), "");

    add_user(&server, "chief", &["--role", "admin"]);

    let db = rusqlite::Connection::open(server.data_dir.join("gosdom.db")).unwrap();
    db.execute(
        "INSERT INTO outbox (kind, idempotency_key, payload, state, max_attempts, run_at, \
         last_error, created_at, updated_at) VALUES ('gis.test', 'browser-1', '{}', 'failed', \
         3, '2026-12-01T09:00:00Z', 'SRV006000 тестовая ошибка', '2026-12-01T09:00:00Z', \
         '2026-12-01T09:00:00Z')",
        [],
    )
    .unwrap();
    db.execute(
        "INSERT INTO usage_events (kind, max_user_id, day, created_at) \
         VALUES ('signed_in', 1, date('now'), '2026-12-01T09:00:00Z')",
        [],
    )
    .unwrap();

    // A dispatcher of the demo УО, a new request in its queue, and a meter whose reading
    // of last month (the demo's, on the 22nd) the CSV must carry.
    let (organisation, house, premise, meter, serial): (i64, i64, i64, i64, String) = db
        .query_row(
            "SELECT h.organisation_id, h.id, p.id, m.id, m.serial FROM meters m \
             JOIN premises p ON p.id = m.premise_id JOIN houses h ON h.id = p.house_id \
             WHERE h.address LIKE '%Баумана%' AND p.number = '1' AND m.resource = 'cold_water'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    add_user(
        &server,
        "dispatcher",
        &[
            "--role",
            "operator",
            "--organisation",
            &organisation.to_string(),
        ],
    );
    db.execute(
        "INSERT INTO requests (organisation_id, number, premise_id, house_id, category, place, \
         kind, text, emergency, deadline_at, status, source, created_at, updated_at) \
         VALUES (?1, '2026-000777', ?2, ?3, 'water.pressure', 'flat', 'ordinary', \
         'Слабый напор воды на кухне', 0, '2026-12-30T15:00:00Z', 'new', 'operator', \
         '2026-12-01T09:00:00Z', '2026-12-01T09:00:00Z')",
        rusqlite::params![organisation, premise, house],
    )
    .unwrap();
    let request = db.last_insert_rowid();
    db.execute(
        "INSERT INTO request_events (request_id, kind, status, visible, author, created_at) \
         VALUES (?1, 'created', 'new', 1, 'system', '2026-12-01T09:00:00Z')",
        [request],
    )
    .unwrap();
    let today = time::OffsetDateTime::now_utc().date();
    let last_month = today.replace_day(1).unwrap() - time::Duration::days(1);
    let period = format!("{}-{:02}", last_month.year(), u8::from(last_month.month()));

    let out = Command::new("node")
        .arg(root.join("tests/browser/console.mjs"))
        .env("GOSDOM_URL", server.url(""))
        .env("CONSOLE_LOGIN", "chief")
        .env("CONSOLE_PASSWORD", PASSWORD)
        .env("DISPATCHER_LOGIN", "dispatcher")
        .env("REQUEST_NUMBER", "2026-000777")
        .env("READINGS_PERIOD", &period)
        .env("METER_ID", meter.to_string())
        .env("METER_SERIAL", &serial)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}\nserver log:\n{}",
        text(&out.stdout),
        text(&out.stderr),
        server.log()
    );
    let retried: String = db
        .query_row(
            "SELECT state FROM outbox WHERE idempotency_key = 'browser-1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_ne!(retried, "failed", "the retry button queued the job again");
    let added: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM console_users WHERE login = 'browser.operator'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(added, 1);

    // The dispatcher took the request from new to done, with the comment on record.
    let status: String = db
        .query_row(
            "SELECT status FROM requests WHERE id = ?1",
            [request],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(status, "done");
    let comment: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM request_events WHERE request_id = ?1 AND status = 'done' \
             AND text = 'Заменили прокладку, напор восстановлен'",
            [request],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(comment, 1);
}
