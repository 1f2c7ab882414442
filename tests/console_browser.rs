//! The console in headless Chromium against the real server: sign in, every screen, a
//! retry, a new account, sign out. Driven by `tests/browser/console.mjs` (playwright-core
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

    let mut add = Command::new(common::bin())
        .args(["--config", &server.config.to_string_lossy()])
        .args(["user", "add", "chief", "--role", "admin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(add.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let added = add.wait_with_output().unwrap();
    assert!(added.status.success(), "{}", text(&added.stderr));

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

    let out = Command::new("node")
        .arg(root.join("tests/browser/console.mjs"))
        .env("GOSDOM_URL", server.url(""))
        .env("CONSOLE_LOGIN", "chief")
        .env("CONSOLE_PASSWORD", PASSWORD)
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
}
