//! «Дома и чаты», «Объявления» and the mini-app's «Домовой чат» and «Уведомления» in
//! headless Chromium against the real server (sandbox MAX). Driven by
//! `tests/browser/chats.mjs` (playwright-core with Debian's chromium; `scripts/test`
//! installs both). Without them the test fails and says how to install them.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{text, Server};

const PASSWORD: &str = "пароль администратора";

#[test]
fn chats_and_announcements_work_in_a_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ready = root
        .join("tests/browser/node_modules/playwright-core")
        .is_dir()
        && Path::new("/usr/bin/chromium").exists();
    // Never a silent pass: scripts/test installs what this needs.
    assert!(
        ready,
        "browser test cannot run: run scripts/test (or sh tests/browser/setup.sh and \
         apt-get install chromium)"
    );
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

    // The bot was added to a chat no house has yet.
    let db = rusqlite::Connection::open(server.data_dir.join("gosdom.db")).unwrap();
    db.execute(
        "INSERT INTO max_chats (chat_id, title, status, created_at, updated_at) \
         VALUES (-4242, 'Чат соседей', 'active', '2026-12-01T09:00:00Z', '2026-12-01T09:00:00Z')",
        [],
    )
    .unwrap();
    let token = std::fs::read_to_string(server.data_dir.join("sandbox_bot_token")).unwrap();
    let launch = gosdom::connectors::max::launch::sign(
        &[
            (
                "auth_date",
                time::OffsetDateTime::now_utc().unix_timestamp().to_string(),
            ),
            ("query_id", "chats-browser".into()),
            (
                "user",
                r#"{"id":5006,"first_name":"Анна","language_code":"ru"}"#.into(),
            ),
        ],
        token.trim(),
    );
    let app_url = format!(
        "{}#WebAppData={}",
        server.url("/app/"),
        form_urlencoded::byte_serialize(launch.as_bytes()).collect::<String>()
    );

    let out = Command::new("node")
        .arg(root.join("tests/browser/chats.mjs"))
        .current_dir(root.join("tests/browser"))
        .env("GOSDOM_URL", server.url(""))
        .env("CONSOLE_LOGIN", "chief")
        .env("CONSOLE_PASSWORD", PASSWORD)
        .env("APP_URL", app_url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}\nserver log:\n{}",
        text(&out.stdout),
        text(&out.stderr),
        server.log()
    );
    let setting: i64 = db
        .query_row(
            "SELECT notify_readings FROM max_users WHERE user_id = 5006",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(setting, 0);
    let wishes: i64 = db
        .query_row("SELECT COUNT(*) FROM house_chat_wishes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(wishes, 1);
}
