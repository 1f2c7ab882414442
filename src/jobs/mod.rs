//! Background work: the durable outbox worker and the job kinds registered with it.
//!
//! A handler does one outbound thing (a MAX send, a ГИС ЖКХ call) and says how it went
//! with [`Outcome`] or [`JobError`]. Local consequences of a success are written by
//! [`Handler::on_done`] in the same transaction that marks the job done, so they happen
//! exactly once even if the process dies at any moment.

pub mod backup;
pub mod close_requests;
pub mod outbox;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use time::{Duration, OffsetDateTime};
use tokio::sync::Notify;

use crate::clock::SharedClock;
use crate::store::{self, Store};

pub use outbox::{Interrupted, Job, NewJob};

/// How a run ended well.
#[derive(Debug)]
pub enum Outcome {
    Done,
    /// Not finished, nothing failed: come back at this time (e.g. polling for a result).
    /// Does not use up an attempt.
    Later(OffsetDateTime),
    /// Not finished and cannot go on yet, for a reason an operator should see (the
    /// exchange screen shows it): come back at `at`. Does not use up an attempt.
    Waiting {
        at: OffsetDateTime,
        reason: String,
    },
}

/// How a run ended badly.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth another try after back-off (network errors, 5xx, 429).
    #[error("{message}")]
    Retry {
        message: String,
        /// Wait at least this long (e.g. from `Retry-After`).
        after: Option<StdDuration>,
    },
    /// Trying again cannot help (a refused format, a revoked token).
    #[error("{0}")]
    Fatal(String),
}

impl JobError {
    pub fn retry(message: impl Into<String>) -> Self {
        JobError::Retry {
            message: message.into(),
            after: None,
        }
    }
}

impl From<store::StoreError> for JobError {
    fn from(e: store::StoreError) -> Self {
        JobError::retry(e.to_string())
    }
}

/// One job kind. Runs on a blocking thread: blocking I/O (ureq) is fine here.
pub trait Handler: Send + Sync {
    fn run(&self, job: &Job) -> Result<Outcome, JobError>;

    /// Local writes that belong to a success; committed with the `done` mark.
    fn on_done(&self, _tx: &rusqlite::Transaction<'_>, _job: &Job) -> store::Result<()> {
        Ok(())
    }

    /// Local writes after the job failed for good (e.g. mark a reading rejected).
    fn on_failed(
        &self,
        _tx: &rusqlite::Transaction<'_>,
        _job: &Job,
        _error: &str,
    ) -> store::Result<()> {
        Ok(())
    }
}

/// Back-off between attempts: `base · 2^(attempt-1)`, capped, with up to 20 % jitter.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub base: StdDuration,
    pub cap: StdDuration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: StdDuration::from_secs(5),
            cap: StdDuration::from_secs(3600),
        }
    }
}

impl Backoff {
    pub fn delay(&self, attempt: u32) -> StdDuration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(20));
        let plain = self.base.saturating_mul(factor).min(self.cap);
        let jitter = plain.mul_f64(rand::random::<f64>() * 0.2);
        plain + jitter
    }
}

/// The job kinds this process runs, and the worker's settings.
#[derive(Clone)]
pub struct Jobs {
    store: Store,
    clock: SharedClock,
    handlers: HashMap<&'static str, Arc<dyn Handler>>,
    wake: Arc<Notify>,
    backoff: Backoff,
    concurrency: usize,
    lease: Duration,
}

impl Jobs {
    pub fn new(store: Store, clock: SharedClock) -> Self {
        Jobs {
            store,
            clock,
            handlers: HashMap::new(),
            wake: Arc::new(Notify::new()),
            backoff: Backoff::default(),
            concurrency: 8,
            lease: Duration::minutes(10),
        }
    }

    pub fn register(&mut self, kind: &'static str, handler: Arc<dyn Handler>) {
        self.handlers.insert(kind, handler);
    }

    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Shares the wake-up handle that [`crate::app::App`] hands to enqueuers.
    pub fn with_waker(mut self, wake: Arc<Notify>) -> Self {
        self.wake = wake;
        self
    }

    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Tells the worker that new work was added, so it need not wait for its next poll.
    pub fn notify(&self) {
        self.wake.notify_one();
    }

    /// A handle that enqueuers keep to wake the worker.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Recovers jobs of a dead process, then runs the worker until the task is dropped.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move { self.run().await })
    }

    async fn run(self) {
        let recovered = {
            let store = self.store.clone();
            let now = self.clock.now();
            store.call(move |c| outbox::recover(c, now)).await
        };
        match recovered {
            Ok(0) => {}
            Ok(n) => tracing::info!(jobs = n, "outbox: resumed jobs of the previous run"),
            Err(e) => tracing::error!(error = %e, "outbox: recovery failed"),
        }
        let limit = Arc::new(tokio::sync::Semaphore::new(self.concurrency));
        loop {
            let free = limit.available_permits();
            let claimed = if free == 0 {
                Ok(Vec::new())
            } else {
                self.claim(free).await
            };
            match claimed {
                Ok(jobs) => {
                    for job in jobs {
                        let Ok(permit) = limit.clone().acquire_owned().await else {
                            return;
                        };
                        let worker = self.clone();
                        tokio::task::spawn_blocking(move || {
                            worker.execute(job);
                            drop(permit);
                            worker.wake.notify_one();
                        });
                    }
                }
                Err(e) => tracing::error!(error = %e, "outbox: cannot claim jobs"),
            }
            let wait = self.idle_wait().await;
            let _ = tokio::time::timeout(wait, self.wake.notified()).await;
        }
    }

    async fn claim(&self, limit: usize) -> store::Result<Vec<Job>> {
        let kinds: Vec<&'static str> = self.handlers.keys().copied().collect();
        let now = self.clock.now();
        let lease = self.lease;
        self.store
            .call(move |c| outbox::claim(c, &kinds, now, lease, limit))
            .await
    }

    /// Sleep until the next due job, at most a second (a clock in a test may jump).
    async fn idle_wait(&self) -> StdDuration {
        let now = self.clock.now();
        let next = self
            .store
            .call(|c| outbox::next_due(c))
            .await
            .ok()
            .flatten();
        let ceiling = StdDuration::from_secs(1);
        match next {
            Some(at) if at <= now => StdDuration::from_millis(5),
            Some(at) => StdDuration::try_from(at - now)
                .unwrap_or(ceiling)
                .min(ceiling),
            None => ceiling,
        }
    }

    /// Runs one claimed job and records how it went.
    fn execute(&self, job: Job) {
        let Some(handler) = self.handlers.get(job.kind.as_str()).cloned() else {
            return;
        };
        let started = std::time::Instant::now();
        // A handler that panics is a bug, but it must not leave its job `running` (and its
        // lane blocked) until the next restart: it counts as a failed attempt.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler.run(&job)))
            .unwrap_or_else(|_| Err(JobError::retry("the job's handler panicked")));
        metrics::histogram!("gosdom_job_duration_seconds", "kind" => job.kind.clone())
            .record(started.elapsed().as_secs_f64());
        let now = self.clock.now();
        let recorded = match result {
            Ok(Outcome::Done) => self.record(&job, |tx| {
                handler.on_done(tx, &job)?;
                outbox::complete(tx, job.id, now)
            }),
            Ok(Outcome::Later(at)) => self.record(&job, |tx| {
                outbox::reschedule(tx, job.id, at, None, false, now)
            }),
            Ok(Outcome::Waiting { at, reason }) => self.record(&job, |tx| {
                outbox::reschedule(tx, job.id, at, Some(&reason), false, now)
            }),
            Err(JobError::Retry { message, after }) if job.attempt < job.max_attempts => {
                let delay = self
                    .backoff
                    .delay(job.attempt)
                    .max(after.unwrap_or_default());
                let at = now + Duration::try_from(delay).unwrap_or(Duration::HOUR);
                tracing::warn!(
                    job = job.id, kind = %job.kind, attempt = job.attempt,
                    retry_in_s = delay.as_secs(), error = %message,
                    "outbox: job failed, will retry"
                );
                self.record(&job, |tx| {
                    outbox::reschedule(tx, job.id, at, Some(&message), true, now)
                })
            }
            Err(error) => {
                let message = error.to_string();
                tracing::error!(
                    job = job.id, kind = %job.kind, attempts = job.attempt, error = %message,
                    "outbox: job gave up"
                );
                metrics::counter!("gosdom_outbox_failed_total", "kind" => job.kind.clone())
                    .increment(1);
                self.record(&job, |tx| {
                    handler.on_failed(tx, &job, &message)?;
                    outbox::fail(tx, job.id, &message, now)
                })
            }
        };
        if let Err(e) = recorded {
            // The lease runs out and a restart picks the job up again.
            tracing::error!(job = job.id, error = %e, "outbox: cannot record job result");
        }
    }
}

impl Jobs {
    /// Records a run's result, unless the run was superseded meanwhile: its lease ran out
    /// and the job was claimed again, or a restart recovered it, so that a late result can
    /// neither undo a newer run's outcome nor commit its local effects twice.
    fn record(
        &self,
        job: &Job,
        apply: impl FnOnce(&rusqlite::Transaction) -> store::Result<()>,
    ) -> store::Result<()> {
        self.store.write_blocking(|tx| {
            if outbox::is_claimed(tx, job.id, job.attempt)? {
                apply(tx)
            } else {
                tracing::warn!(job = job.id, kind = %job.kind, "outbox: late result of a superseded run ignored");
                Ok(())
            }
        })
    }
}

/// Adds a job inside the caller's transaction; wake the worker after commit.
pub fn enqueue(
    tx: &rusqlite::Connection,
    job: &NewJob,
    now: OffsetDateTime,
) -> store::Result<bool> {
    outbox::enqueue(tx, job, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let b = Backoff {
            base: StdDuration::from_secs(5),
            cap: StdDuration::from_secs(60),
        };
        let first = b.delay(1);
        assert!(first >= StdDuration::from_secs(5) && first <= StdDuration::from_secs(6));
        let third = b.delay(3);
        assert!(third >= StdDuration::from_secs(20) && third <= StdDuration::from_secs(24));
        let late = b.delay(30);
        assert!(late >= StdDuration::from_secs(60) && late <= StdDuration::from_secs(72));
    }
}
