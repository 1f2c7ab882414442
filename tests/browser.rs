//! The mini-app in a real browser: runs gosdom (sandbox mode) on a free port and drives
//! Debian's headless chromium with playwright-core (`tests/browser/app.test.mjs`).
//! Needs `chromium` (see .ci/packages-signin.txt) and `sh tests/browser/setup.sh`; without
//! them the test is refused with a message saying how to install them (scripts/test does).

use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const STAFF_PASSWORD: &str = "пароль диспетчера";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn ready(root: &Path) -> Result<(), String> {
    if !Path::new("/usr/bin/chromium").exists() {
        return Err("no /usr/bin/chromium: apt-get install chromium".into());
    }
    if !root
        .join("tests/browser/node_modules/playwright-core")
        .exists()
    {
        return Err("no playwright-core: run sh tests/browser/setup.sh".into());
    }
    Ok(())
}

#[test]
fn the_mini_app_signs_in_shows_my_properties_takes_readings_and_requests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Err(missing) = ready(root) {
        // Never a silent pass: scripts/test installs what this needs.
        panic!(
            "browser test cannot run: {missing}; run scripts/test (or sh tests/browser/setup.sh)"
        );
    }
    let data = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_gosdom"))
            .args(["--data-dir", data.path().to_str().unwrap()])
            .args(["--port", &port.to_string(), "--address", "127.0.0.1"])
            .current_dir(root)
            .env("GOSDOM_LOG__LEVEL", "warn")
            // Readings are taken whatever today's date is.
            .env("GOSDOM_READINGS__ANY_DAY", "true")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let up = ureq::get(&format!("{base}/healthz")).call().is_ok();
        if up {
            break;
        }
        assert!(Instant::now() < deadline, "gosdom did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    // A dispatcher of the demo УО, who marks the test's request done through the staff API.
    let mut add = Command::new(env!("CARGO_BIN_EXE_gosdom"))
        .args(["--data-dir", data.path().to_str().unwrap()])
        .args([
            "user",
            "add",
            "dispatcher",
            "--role",
            "operator",
            "--organisation",
            "1",
        ])
        .current_dir(root)
        .env("GOSDOM_LOG__LEVEL", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    writeln!(add.stdin.take().unwrap(), "{STAFF_PASSWORD}").unwrap();
    assert!(add.wait().unwrap().success(), "gosdom user add");
    let token = std::fs::read_to_string(data.path().join("sandbox_bot_token")).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp().to_string();
    let launch = gosdom::connectors::max::launch::sign(
        &[
            ("auth_date", now),
            ("query_id", "browser-test".into()),
            (
                "user",
                r#"{"id":5005,"first_name":"Анна","language_code":"ru"}"#.into(),
            ),
        ],
        token.trim(),
    );
    let shots = std::env::var("BROWSER_SCREENSHOTS").unwrap_or_default();
    let status = Command::new("node")
        .args([
            "--test",
            "--test-reporter=spec",
            "tests/browser/app.test.mjs",
        ])
        .current_dir(root)
        .env("GOSDOM_URL", &base)
        .env("GOSDOM_LAUNCH", &launch)
        .env("BROWSER_SCREENSHOTS", shots)
        .env("STAFF_LOGIN", "dispatcher")
        .env("STAFF_PASSWORD", STAFF_PASSWORD)
        .status()
        .unwrap();
    assert!(status.success(), "the browser test failed");
}
