//! The nightly sync as an outbox job: one `gis.sync` job per day at `gis.sync_hour` (UTC),
//! each adding the next one when it is done.

use std::sync::Arc;

use time::{Duration, OffsetDateTime, Time};

use super::client::Client;
use super::sync::Sync;
use crate::clock::SharedClock;
use crate::jobs::{self, Handler, Job, JobError, NewJob, Outcome};
use crate::store::{self, Store};

pub const JOB_KIND: &str = "gis.sync";

/// The next time the clock shows `hour`:00 UTC after `now`.
pub fn next_run(now: OffsetDateTime, hour: u8) -> OffsetDateTime {
    let at = Time::from_hms(hour.min(23), 0, 0).unwrap_or(Time::MIDNIGHT);
    let today = now.to_offset(time::UtcOffset::UTC).replace_time(at);
    if today > now {
        today
    } else {
        today + Duration::days(1)
    }
}

/// Adds the job for the next nightly sync (once: the key is the date).
pub fn plan_next(tx: &rusqlite::Connection, now: OffsetDateTime, hour: u8) -> store::Result<bool> {
    let at = next_run(now, hour);
    jobs::enqueue(
        tx,
        &NewJob::new(
            JOB_KIND,
            format!("gis.sync:{}", at.date()),
            serde_json::json!({}),
        )
        .at(at)
        .max_attempts(3),
        now,
    )
}

pub struct NightlySync {
    pub store: Store,
    pub client: Client,
    pub clock: SharedClock,
    pub schedule: Vec<u64>,
    pub org_ppa_guid: String,
    pub hour: u8,
}

impl Handler for NightlySync {
    fn run(&self, _job: &Job) -> Result<Outcome, JobError> {
        let sleep = |d: std::time::Duration| std::thread::sleep(d);
        let report = Sync {
            store: &self.store,
            client: &self.client,
            clock: &self.clock,
            schedule: &self.schedule,
            org_ppa_guid: &self.org_ppa_guid,
            sleep: &sleep,
        }
        .run()
        .map_err(|e| JobError::retry(e.operator_message()))?;
        tracing::info!(
            houses = report.houses,
            added = report.added,
            updated = report.updated,
            removed = report.removed,
            "ГИС ЖКХ: nightly sync done"
        );
        Ok(Outcome::Done)
    }

    fn on_done(&self, tx: &rusqlite::Transaction<'_>, _job: &Job) -> store::Result<()> {
        plan_next(tx, self.clock.now(), self.hour).map(|_| ())
    }

    fn on_failed(&self, tx: &rusqlite::Transaction<'_>, _job: &Job, _e: &str) -> store::Result<()> {
        plan_next(tx, self.clock.now(), self.hour).map(|_| ())
    }
}

/// Registers the exchange, the nightly sync, the appeals pull and the answers with the
/// worker, when ГИС ЖКХ is usable; queues the НСИ registries that are not cached yet.
pub fn register(
    jobs: &mut jobs::Jobs,
    config: &crate::config::Config,
    store: &Store,
    clock: &SharedClock,
) -> Result<(), super::GisError> {
    use super::{answers, appeals_pull, nsi_load};

    let client = super::client_from_config(config)?;
    let requests = crate::domain::requests::Settings::new(config);
    let engine = super::engine::Engine::new(
        store.clone(),
        client.clone(),
        clock.clone(),
        config.gis.poll_seconds.clone(),
    )
    .with_consumer(
        appeals_pull::CONSUMER,
        appeals_pull::consumer(requests, clock.clone()),
    )
    .with_consumer(nsi_load::CONSUMER, nsi_load::consumer(clock.clone()));
    jobs.register(super::engine::JOB_KIND, Arc::new(engine));
    jobs.register(
        JOB_KIND,
        Arc::new(NightlySync {
            store: store.clone(),
            client,
            clock: clock.clone(),
            schedule: config.gis.poll_seconds.clone(),
            org_ppa_guid: super::org_ppa_guid(config),
            hour: config.gis.sync_hour,
        }),
    );
    jobs.register(
        appeals_pull::JOB_KIND,
        Arc::new(appeals_pull::PullAppeals {
            store: store.clone(),
            clock: clock.clone(),
            org_ppa_guid: super::org_ppa_guid(config),
            every: Duration::minutes(i64::from(config.gis.appeals_minutes.max(1))),
        }),
    );
    jobs.register(
        answers::JOB_KIND,
        Arc::new(answers::ImportAnswers {
            store: store.clone(),
            clock: clock.clone(),
            answerer_guid: super::answerer_guid(config),
            schedule: config.gis.poll_seconds.clone(),
        }),
    );
    let now = clock.now();
    let hour = config.gis.sync_hour;
    store.write_blocking(|tx| {
        plan_next(tx, now, hour)?;
        appeals_pull::plan(tx, now)?;
        nsi_load::load_missing(tx, now)?;
        Ok(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_nightly_sync_runs_at_the_next_sync_hour() {
        assert_eq!(
            next_run(datetime!(2026-12-03 01:30 UTC), 3),
            datetime!(2026-12-03 03:00 UTC)
        );
        assert_eq!(
            next_run(datetime!(2026-12-03 03:00 UTC), 3),
            datetime!(2026-12-04 03:00 UTC)
        );
        assert_eq!(
            next_run(datetime!(2026-12-03 22:00 UTC), 3),
            datetime!(2026-12-04 03:00 UTC)
        );
    }
}
