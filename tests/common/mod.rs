//! Helpers shared by the integration tests: the real binary on a free port, waiting for
//! a condition with a deadline, temporary config files.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_gosdom")
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Polls `check` until it is true or `limit` passes; returns whether it became true.
pub fn wait_until(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    check()
}

/// Runs `gosdom <args>` with `env` and no inherited GOSDOM_* variables.
pub fn run(args: &[&str], env: &[(&str, &str)], cwd: &Path) -> Output {
    let mut cmd = Command::new(bin());
    cmd.args(args).current_dir(cwd);
    for (k, _) in std::env::vars() {
        if k.starts_with("GOSDOM_") {
            cmd.env_remove(k);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("gosdom runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The real server as a child process; killed when dropped.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub data_dir: PathBuf,
    pub config: PathBuf,
}

impl Server {
    /// Starts `gosdom serve` with `extra` appended to a config that points at `dir`.
    pub fn start(dir: &Path, extra: &str) -> Server {
        let port = free_port();
        let data_dir = dir.join("data");
        let config = dir.join("config.toml");
        let body = format!(
            "{extra}\n[server]\nport = {port}\n[storage]\ndata_dir = \"{}\"\n",
            data_dir.display()
        );
        std::fs::write(&config, body).expect("config written");
        Self::spawn(port, data_dir, config)
    }

    /// Starts again on the same port, data and config (after a kill).
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let again = Self::spawn(self.port, self.data_dir.clone(), self.config.clone());
        *self = again;
    }

    fn spawn(port: u16, data_dir: PathBuf, config: PathBuf) -> Server {
        let log = std::fs::File::create(data_dir.with_extension("log")).expect("log file");
        let child = Command::new(bin())
            .args(["--config", &config.to_string_lossy(), "serve"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("server starts");
        let server = Server {
            child,
            port,
            data_dir,
            config,
        };
        let up = wait_until(Duration::from_secs(30), || {
            server
                .get("/healthz")
                .map(|(s, _)| s == 200)
                .unwrap_or(false)
        });
        assert!(up, "server did not come up: {}", server.log());
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data_dir.with_extension("log")).unwrap_or_default()
    }

    /// GET returning (status, body) whatever the status.
    pub fn get(&self, path: &str) -> Result<(u16, String), ureq::Error> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        let mut res = agent.get(&self.url(path)).call()?;
        let status = res.status().as_u16();
        let body = res.body_mut().read_to_string()?;
        Ok((status, body))
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

mod max;
#[allow(unused_imports)]
pub use max::*;
mod resident;
#[allow(unused_imports)]
pub use resident::*;
mod gis;
#[allow(unused_imports)]
pub use gis::*;
mod requests;
#[allow(unused_imports)]
pub use requests::*;
