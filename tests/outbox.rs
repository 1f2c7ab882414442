//! The durable outbox: retries with back-off, giving up visibly, order within a lane, and
//! surviving `kill -9` with every job's local effect applied exactly once.

mod common;

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::wait_until;
use gosdom::clock::SystemClock;
use gosdom::config::Synchronous;
use gosdom::jobs::{self, Backoff, Handler, Job, JobError, Jobs, NewJob, Outcome};
use gosdom::store::{self, Options, Store};

fn open(dir: &std::path::Path) -> Store {
    Store::open(&Options {
        data_dir: dir.to_path_buf(),
        synchronous: Synchronous::Full,
        pool_size: 4,
    })
    .unwrap()
}

fn fast() -> Backoff {
    Backoff {
        base: Duration::from_millis(10),
        cap: Duration::from_millis(50),
    }
}

fn add(store: &Store, job: NewJob) -> bool {
    let now = time::OffsetDateTime::now_utc();
    store
        .write_blocking(|tx| jobs::enqueue(tx, &job, now))
        .unwrap()
}

fn state(store: &Store, key: &str) -> Option<String> {
    jobs::outbox::state_of(&store.conn().unwrap(), key).unwrap()
}

/// Fails `failures` times, then succeeds.
struct Flaky {
    failures: u32,
    runs: AtomicU32,
}

impl Handler for Flaky {
    fn run(&self, _: &Job) -> Result<Outcome, JobError> {
        let n = self.runs.fetch_add(1, Ordering::SeqCst);
        if n < self.failures {
            Err(JobError::retry("peer answered 503"))
        } else {
            Ok(Outcome::Done)
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_job_is_retried_then_done_and_a_hopeless_one_ends_failed() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let flaky = Arc::new(Flaky {
        failures: 3,
        runs: AtomicU32::new(0),
    });
    let hopeless = Arc::new(Flaky {
        failures: u32::MAX,
        runs: AtomicU32::new(0),
    });
    let mut worker = Jobs::new(store.clone(), Arc::new(SystemClock)).with_backoff(fast());
    worker.register("flaky", flaky.clone());
    worker.register("hopeless", hopeless.clone());
    assert!(add(
        &store,
        NewJob::new("flaky", "f-1", serde_json::json!({}))
    ));
    assert!(
        !add(&store, NewJob::new("flaky", "f-1", serde_json::json!({}))),
        "same key: no-op"
    );
    add(
        &store,
        NewJob::new("hopeless", "h-1", serde_json::json!({})).max_attempts(4),
    );
    let task = worker.spawn();

    let s = store.clone();
    let done = tokio::task::spawn_blocking(move || {
        wait_until(Duration::from_secs(20), || {
            state(&s, "f-1").as_deref() == Some("done")
                && state(&s, "h-1").as_deref() == Some("failed")
        })
    })
    .await
    .unwrap();
    task.abort();
    assert!(
        done,
        "f-1 {:?}, h-1 {:?}",
        state(&store, "f-1"),
        state(&store, "h-1")
    );
    assert_eq!(flaky.runs.load(Ordering::SeqCst), 4);
    assert_eq!(
        hopeless.runs.load(Ordering::SeqCst),
        4,
        "stops at max_attempts"
    );
    let error: String = store
        .conn()
        .unwrap()
        .query_row(
            "SELECT last_error FROM outbox WHERE idempotency_key = 'h-1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(error, "peer answered 503");
}

/// Records the order in which jobs ran.
struct Recorder(Mutex<Vec<String>>);

impl Handler for Recorder {
    fn run(&self, job: &Job) -> Result<Outcome, JobError> {
        self.0.lock().unwrap().push(job.key.clone());
        Ok(Outcome::Done)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_of_one_lane_run_in_order_one_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    for i in 0..30 {
        add(
            &store,
            NewJob::new("rec", format!("k{i:02}"), serde_json::json!({})).lane("chat:1"),
        );
    }
    let recorder = Arc::new(Recorder(Mutex::new(Vec::new())));
    let mut worker = Jobs::new(store.clone(), Arc::new(SystemClock)).with_concurrency(8);
    worker.register("rec", recorder.clone());
    let task = worker.spawn();
    let r = recorder.clone();
    let finished = tokio::task::spawn_blocking(move || {
        wait_until(Duration::from_secs(20), || r.0.lock().unwrap().len() == 30)
    })
    .await
    .unwrap();
    task.abort();
    assert!(finished);
    let order = recorder.0.lock().unwrap().clone();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
}

// The child process of the kill test: runs a worker over the data dir named in the
// environment until it is killed. Ignored unless run by the parent test.
const CHILD_ENV: &str = "GOSDOM_TEST_OUTBOX_CHILD_DIR";

struct Probe;

impl Handler for Probe {
    fn run(&self, _: &Job) -> Result<Outcome, JobError> {
        // Stands for an outbound call that takes a moment.
        std::thread::sleep(Duration::from_millis(3));
        Ok(Outcome::Done)
    }

    fn on_done(&self, tx: &rusqlite::Transaction<'_>, job: &Job) -> store::Result<()> {
        tx.execute(
            "INSERT INTO kv (key, value, updated_at) VALUES (?1, 'effect', 'now')",
            [format!("effect:{}", job.key)],
        )?;
        Ok(())
    }
}

#[test]
#[ignore = "run by outbox_jobs_survive_kill_9"]
fn outbox_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store = open(std::path::Path::new(&dir));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async move {
        let mut worker = Jobs::new(store, Arc::new(SystemClock)).with_concurrency(4);
        worker.register("probe", Arc::new(Probe));
        let _ = worker.spawn().await;
    });
}

fn effects(store: &Store) -> (i64, i64) {
    store
        .conn()
        .unwrap()
        .query_row(
            "SELECT COUNT(*), (SELECT COUNT(*) FROM outbox WHERE state = 'done') \
             FROM kv WHERE key LIKE 'effect:%'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

#[test]
fn outbox_jobs_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    const JOBS: i64 = 400;
    for i in 0..JOBS {
        add(
            &store,
            NewJob::new("probe", format!("p{i}"), serde_json::json!({ "n": i })),
        );
    }
    let spawn = || {
        Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "outbox_child", "--ignored", "--nocapture"])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut kills = 0;
    let mut last_done = 0;
    while kills < 3 {
        let mut child = spawn();
        let target = last_done + 60;
        let reached = wait_until(Duration::from_secs(30), || effects(&store).0 >= target);
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(reached, "progress stalled at {:?}", effects(&store));
        let (effect_rows, done) = effects(&store);
        assert_eq!(effect_rows, done, "each done job has exactly one effect");
        last_done = done;
        kills += 1;
    }
    let mut child = spawn();
    let finished = wait_until(Duration::from_secs(60), || effects(&store).1 == JOBS);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(finished, "{:?}", effects(&store));
    let (effect_rows, done) = effects(&store);
    assert_eq!(
        (effect_rows, done),
        (JOBS, JOBS),
        "no job's effect applied twice or lost"
    );
    let conn = store.conn().unwrap();
    let distinct: i64 = conn
        .query_row(
            "SELECT COUNT(DISTINCT key) FROM kv WHERE key LIKE 'effect:%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(distinct, JOBS);
    let (rows, versions, latest): (i64, i64, i64) = conn
        .query_row(
            "SELECT COUNT(*), COUNT(DISTINCT version), MAX(version) FROM refinery_schema_history",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(rows, versions, "no migration re-ran");
    assert_eq!(latest, gosdom::store::known_version());
}

#[test]
fn a_job_cut_off_by_a_restart_is_marked_interrupted_from_its_first_cut_off_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let t0 = time::macros::datetime!(2026-12-03 10:00:00 UTC);
    let lease = time::Duration::minutes(10);
    let mut conn = store.conn().unwrap();
    for (key, payload) in [
        ("cut", serde_json::json!({"to": 1})),
        ("odd", serde_json::Value::Null),
    ] {
        jobs::enqueue(&conn, &NewJob::new("send", key, payload), t0).unwrap();
    }

    let first = jobs::outbox::claim(&mut conn, &["send"], t0, lease, 10).unwrap();
    assert_eq!(first.len(), 2);
    assert!(first.iter().all(|j| j.interrupted().is_none()));
    // The process dies; the next start recovers the jobs, and dies again mid-run.
    let t1 = t0 + time::Duration::minutes(1);
    assert_eq!(jobs::outbox::recover(&conn, t1).unwrap(), 2);
    let second = jobs::outbox::claim(&mut conn, &["send"], t1, lease, 10).unwrap();
    let cut = second.iter().find(|j| j.key == "cut").unwrap();
    let mark = cut.interrupted().unwrap();
    assert_eq!((mark.at, mark.attempt, cut.attempt), (t0, 1, 2));
    assert_eq!(cut.payload["to"], 1);
    let odd = second.iter().find(|j| j.key == "odd").unwrap();
    assert_eq!(odd.payload, serde_json::Value::Null);
    assert!(odd.interrupted().is_none());

    let t2 = t1 + time::Duration::minutes(1);
    jobs::outbox::recover(&conn, t2).unwrap();
    let third = jobs::outbox::claim(&mut conn, &["send"], t2, lease, 10).unwrap();
    let cut = third.iter().find(|j| j.key == "cut").unwrap();
    // The window still starts at the first attempt that was cut off.
    assert_eq!(cut.interrupted().unwrap().at, t0);
    assert_eq!(cut.attempt, 3);
}
