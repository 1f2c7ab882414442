//! `gosdom export readings`: the billing CSV from the real binary, on the sandbox demo data.

use std::process::Command;
use std::sync::Arc;

use gosdom::clock::ManualClock;
use gosdom::config::Config;
use gosdom::server::Service;
use time::macros::datetime;

#[test]
fn exports_a_month_of_demo_readings_as_csv() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.storage.data_dir = dir.path().to_path_buf();
    let clock = ManualClock::new(datetime!(2026-12-03 10:00 UTC));
    drop(Service::prepare_with_clock(config, Arc::new(clock)).unwrap());

    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_gosdom"))
            .args([
                "--data-dir",
                dir.path().to_str().unwrap(),
                "export",
                "readings",
            ])
            .args(args)
            .env_remove("GOSDOM_CONFIG")
            .current_dir(dir.path())
            .output()
            .unwrap()
    };

    let out = run(&["--period", "2026-11"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let header = reader.headers().unwrap().clone();
    assert_eq!(&header[0], "organisation_inn");
    let taken_on = header.iter().position(|h| h == "taken_on").unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r[taken_on].starts_with("2026-11-")));

    let other = run(&["--period", "2026-11", "--organisation", "999"]);
    assert!(other.status.success());
    assert_eq!(
        String::from_utf8_lossy(&other.stdout).lines().count(),
        1,
        "header only"
    );

    let bad = run(&["--period", "2026-13"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("YYYY-MM"));
}
