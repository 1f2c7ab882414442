//! Configuration as an operator meets it: the shipped file, layering, and clear errors.

mod common;

use std::path::Path;

use common::{run, text};
use gosdom::config::{self, Config};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn shipped_config_values_equal_the_defaults() {
    let text = std::fs::read_to_string(repo().join("config.toml")).unwrap();
    let parsed: Config = toml::from_str(&text).expect("config.toml matches the schema");
    assert_eq!(parsed, Config::default());
}

#[test]
fn every_key_of_the_schema_is_in_the_shipped_config() {
    let shipped = std::fs::read_to_string(repo().join("config.toml")).unwrap();
    let defaults = toml::to_string(&Config::default()).unwrap();
    let mut section = String::new();
    for line in defaults.lines() {
        if line.starts_with('[') {
            section = line.to_string();
            assert!(shipped.contains(line), "config.toml lacks {line}");
            continue;
        }
        if let Some((key, _)) = line.split_once(" = ") {
            // Optional keys appear commented out, as `# key = ...`.
            let present = shipped
                .lines()
                .any(|l| l.trim_start_matches("# ").starts_with(&format!("{key} = ")));
            assert!(present, "config.toml lacks {key} in {section}");
        }
    }
}

#[test]
fn check_config_accepts_the_shipped_file() {
    let out = run(&["check-config"], &[], repo());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("config OK"));
}

#[test]
fn a_bad_port_in_the_environment_names_the_key_and_the_variable() {
    let out = run(&["check-config"], &[("GOSDOM_SERVER__PORT", "abc")], repo());
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("server.port"), "{err}");
    assert!(err.contains("GOSDOM_SERVER__PORT"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
}

#[test]
fn bad_values_in_the_file_name_the_key_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("mode = \"prod\"", "`mode`", "GOSDOM_MODE"),
        (
            "[readings]\nwindow_from_day = 40",
            "readings.window_from_day",
            "use 1–31",
        ),
        (
            "[storage]\nsynchronous = \"off\"",
            "storage.synchronous",
            "full",
        ),
        (
            "[max]\nwebhook_secret = \"a b\"",
            "max.webhook_secret",
            "openssl rand",
        ),
        (
            "[server]\npublic_url = \"dom.example.ru\"",
            "server.public_url",
            "https://",
        ),
        ("[log]\nlevel = \"loud=\"", "log.level", "GOSDOM_LOG__LEVEL"),
    ];
    for (body, key, hint) in cases {
        let file = dir.path().join("c.toml");
        std::fs::write(&file, body).unwrap();
        let out = run(
            &["--config", file.to_str().unwrap(), "check-config"],
            &[],
            dir.path(),
        );
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{body}: {err}");
        assert!(err.contains(key) && err.contains(hint), "{body}: {err}");
    }
}

#[test]
fn production_without_connectors_refuses_and_says_what_to_set() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "mode = \"production\"\n").unwrap();
    let out = run(
        &["--config", file.to_str().unwrap(), "check-config"],
        &[],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("server.public_url") && err.contains("production"),
        "{err}"
    );
}

#[test]
fn unknown_keys_are_warned_about_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "[server]\nprot = 1\n[nope]\nx = 1\n").unwrap();
    let out = run(
        &["--config", file.to_str().unwrap(), "check-config"],
        &[("GOSDOM_MAX__TOKN", "x")],
        dir.path(),
    );
    assert!(out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("unknown key `server.prot`"), "{err}");
    assert!(err.contains("unknown key `nope`"), "{err}");
    assert!(err.contains("GOSDOM_MAX__TOKN"), "{err}");
}

#[test]
fn layers_apply_in_order_file_env_flag() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(
        &file,
        "[server]\nport = 9001\n[readings]\njump_factor = 5\n",
    )
    .unwrap();
    let cfg = file.to_str().unwrap();
    let show = |args: &[&str], env: &[(&str, &str)]| {
        let out = run(args, env, dir.path());
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let from_file = show(&["--config", cfg, "check-config", "--show"], &[]);
    assert!(from_file.contains("port = 9001") && from_file.contains("jump_factor = 5"));
    let from_env = show(
        &["--config", cfg, "check-config", "--show"],
        &[("GOSDOM_SERVER__PORT", "9002")],
    );
    assert!(from_env.contains("port = 9002") && from_env.contains("jump_factor = 5"));
    let from_flag = show(
        &["--config", cfg, "--port", "9003", "check-config", "--show"],
        &[("GOSDOM_SERVER__PORT", "9002")],
    );
    assert!(from_flag.contains("port = 9003"), "{from_flag}");
    let via_env_path = show(&["check-config", "--show"], &[("GOSDOM_CONFIG", cfg)]);
    assert!(via_env_path.contains("port = 9001"));
}

#[test]
fn secrets_come_from_files_and_are_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cr3t-token\n").unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(
        &file,
        format!("[max]\ntoken_file = \"{}\"\n", token.display()),
    )
    .unwrap();
    let loaded = config::load(Some(&file), &[]).unwrap();
    assert_eq!(loaded.config.max.token.expose(), "s3cr3t-token");
    let out = run(
        &["--config", file.to_str().unwrap(), "check-config", "--show"],
        &[],
        dir.path(),
    );
    let shown = text(&out.stdout);
    assert!(
        !shown.contains("s3cr3t") && shown.contains("token = \"***\""),
        "{shown}"
    );

    std::fs::write(&file, "[max]\ntoken_file = \"/nonexistent/token\"\n").unwrap();
    let out = run(
        &["--config", file.to_str().unwrap(), "check-config"],
        &[],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("max.token_file") && err.contains("/nonexistent/token"),
        "{err}"
    );
}

#[test]
fn without_a_file_the_defaults_apply() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["check-config", "--show"], &[], dir.path());
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("built-in defaults"));
    assert!(text(&out.stdout).contains("port = 8080"));
}

#[test]
fn a_broken_toml_file_is_reported_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "[server\nport = 1").unwrap();
    let out = run(
        &["--config", file.to_str().unwrap(), "check-config"],
        &[],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("c.toml"));
}
