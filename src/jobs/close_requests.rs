//! `requests.close_done`: hourly, closes done requests whose reopen window has passed.
//! One job row lives for ever: each run asks to come back an hour later.

use time::Duration;

use super::{Handler, Job, JobError, NewJob, Outcome};
use crate::clock::SharedClock;
use crate::domain::requests::{sweep, Settings};
use crate::store::Store;

pub const KIND: &str = "requests.close_done";

/// The job to enqueue once at start-up (its fixed key makes that idempotent).
pub fn job() -> NewJob {
    NewJob::new(KIND, KIND, serde_json::json!({}))
}

pub struct CloseDoneRequests {
    pub store: Store,
    pub settings: Settings,
    pub clock: SharedClock,
}

impl Handler for CloseDoneRequests {
    fn run(&self, _job: &Job) -> Result<Outcome, JobError> {
        let now = self.clock.now();
        let mut conn = self.store.conn()?;
        let closed = sweep::close_expired(&mut conn, &self.settings, now)
            .map_err(|e| JobError::retry(e.to_string()))?;
        if !closed.is_empty() {
            tracing::info!(
                requests = closed.len(),
                "closed done requests past their reopen window"
            );
        }
        Ok(Outcome::Later(now + Duration::HOUR))
    }
}
