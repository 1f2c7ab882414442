//! The MAX chat-bot: the front door of the service.
//!
//! An update (from the webhook, long polling or the sandbox simulator) is first stored by
//! [`intake`], deduplicated, together with a `max.update` job; the caller answers MAX at
//! once. The job applies the update ([`dialog`]) in one transaction that also queues the
//! replies as `max.send` jobs ([`outgoing`]), which the outbox delivers within MAX's
//! limits. Errors are [`crate::store::StoreError`] here and [`crate::jobs::JobError`] in
//! job handlers.

pub mod announcements;
pub mod chats;
pub mod cli;
pub mod dialog;
pub mod group;
pub mod outgoing;
pub mod polling;
pub mod readings;
pub mod reconcile;
pub mod request_notice;
pub mod subscription;
pub mod texts;
pub mod update;

use std::sync::Arc;

use rusqlite::{params, OptionalExtension};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::app::App;
use crate::config::{Config, MaxMode};
use crate::connectors::max::api::{BotInfo, MaxApi};
use crate::connectors::max::pace::Pacer;
use crate::connectors::max::{self, sim};
use crate::jobs::{self, Handler, Job, JobError, Jobs, NewJob, Outcome};
use crate::store::{self, ts, Store};

pub use texts::BotIdentity;
pub use update::Update;

/// Job kind: apply one stored update.
pub const UPDATE: &str = "max.update";

/// The updates the bot subscribes to and polls for.
pub const UPDATE_TYPES: &[&str] = &[
    "bot_started",
    "bot_stopped",
    "dialog_removed",
    "message_created",
    "message_callback",
    "bot_added",
    "bot_removed",
    "user_added",
    "user_removed",
    "chat_title_changed",
];

/// How long handled updates are kept to recognise repeats.
const KEEP_UPDATES: time::Duration = time::Duration::days(14);
/// Old updates are pruned once every this many updates.
const PRUNE_EVERY: i64 = 500;

/// `kv` key holding the bot's `/me`, fetched at start.
pub const KV_BOT: &str = "max.bot";

/// What [`intake`] did with an update.
#[derive(Debug, PartialEq, Eq)]
pub enum Intake {
    /// New: stored with a job to handle it.
    Stored,
    /// Seen before: nothing to do.
    Duplicate,
    /// Not an update at all (no `update_type`): nothing stored.
    Ignored,
}

/// Stores a raw update once, with the job that will handle it. Call inside a write
/// transaction, then wake the outbox when it returns [`Intake::Stored`].
pub fn intake(
    tx: &rusqlite::Connection,
    body: &Value,
    now: OffsetDateTime,
) -> store::Result<Intake> {
    let Some(update) = Update::parse(body) else {
        return Ok(Intake::Ignored);
    };
    let added = tx.execute(
        "INSERT INTO max_updates (dedup_key, update_type, body, created_at) \
         VALUES (?1, ?2, ?3, ?4) ON CONFLICT (dedup_key) DO NOTHING",
        params![
            update.dedup_key(),
            update.update_type,
            body.to_string(),
            ts(now)
        ],
    )?;
    if added == 0 {
        return Ok(Intake::Duplicate);
    }
    let id = tx.last_insert_rowid();
    let job =
        NewJob::new(UPDATE, format!("{UPDATE}:{id}"), json!({ "update": id })).max_attempts(5);
    jobs::enqueue(tx, &job, now)?;
    Ok(Intake::Stored)
}

/// The bot's id and name: `max.bot_id` when set, else what `/me` said at start, else (in
/// the sandbox) the simulated bot's id.
pub fn identity(conn: &rusqlite::Connection, config: &Config) -> store::Result<BotIdentity> {
    let username = config.max.bot_username.clone();
    if config.max.bot_id != 0 {
        return Ok(BotIdentity {
            id: Some(config.max.bot_id),
            username,
        });
    }
    let stored: Option<String> = conn
        .query_row("SELECT value FROM kv WHERE key = ?1", [KV_BOT], |r| {
            r.get(0)
        })
        .optional()?;
    let from_me = stored
        .and_then(|s| serde_json::from_str::<BotInfo>(&s).ok())
        .map(|me| me.user_id);
    let id = from_me.or_else(|| (!max::is_real(config)).then_some(sim::SIM_BOT_ID));
    Ok(BotIdentity { id, username })
}

/// Remembers the bot's `/me`.
pub fn remember_me(
    conn: &rusqlite::Connection,
    me: &BotInfo,
    now: OffsetDateTime,
) -> store::Result<()> {
    let value = serde_json::to_string(me).unwrap_or_default();
    kv_set(conn, KV_BOT, &value, now)
}

pub(crate) fn kv_set(
    conn: &rusqlite::Connection,
    key: &str,
    value: &str,
    now: OffsetDateTime,
) -> store::Result<()> {
    conn.execute(
        "INSERT INTO kv (key, value, updated_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        params![key, value, ts(now)],
    )?;
    Ok(())
}

pub(crate) fn kv_get(conn: &rusqlite::Connection, key: &str) -> store::Result<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM kv WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

/// Runs `max.update` jobs: applies a stored update once.
pub struct UpdateHandler {
    store: Store,
    config: Arc<Config>,
    clock: crate::clock::SharedClock,
}

impl Handler for UpdateHandler {
    fn run(&self, job: &Job) -> Result<Outcome, JobError> {
        let Some(id) = job.payload.get("update").and_then(Value::as_i64) else {
            return Err(JobError::Fatal(
                "max.update job without an update id".into(),
            ));
        };
        let now = self.clock.now();
        self.store.write_blocking(|tx| {
            let row: Option<(String, String)> = tx
                .query_row(
                    "SELECT body, state FROM max_updates WHERE id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((body, state)) = row else {
                return Ok(());
            };
            if state != "received" {
                return Ok(());
            }
            let value: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            if let Some(update) = Update::parse(&value) {
                let bot = identity(tx, &self.config)?;
                dialog::handle(tx, &update, &bot, now)?;
            }
            // The body (names, texts) is not kept once handled; the key still deduplicates.
            tx.execute(
                "UPDATE max_updates SET state = 'handled', handled_at = ?2, body = '{}' \
                 WHERE id = ?1",
                params![id, ts(now)],
            )?;
            // MAX repeats an update within hours, not weeks: old keys can go, now and then.
            if id % PRUNE_EVERY == 0 {
                tx.execute(
                    "DELETE FROM max_updates WHERE state = 'handled' AND handled_at < ?1",
                    [ts(now - KEEP_UPDATES)],
                )?;
            }
            Ok(())
        })?;
        Ok(Outcome::Done)
    }
}

/// Registers the bot's job kinds with `api` as the connector and `pacer` for MAX's limits.
/// Tests call it again to swap in a paced virtual clock.
pub fn register_with(jobs: &mut Jobs, app: &App, api: Arc<dyn MaxApi>, pacer: Arc<Pacer>) {
    jobs.register(
        UPDATE,
        Arc::new(UpdateHandler {
            store: app.store.clone(),
            config: app.config.clone(),
            clock: app.clock.clone(),
        }),
    );
    jobs.register(
        outgoing::SEND,
        Arc::new(outgoing::SendHandler::new(
            api.clone(),
            pacer.clone(),
            app.clock.clone(),
            reconcile::Reconciler::new(
                api.clone(),
                pacer.clone(),
                app.store.clone(),
                app.config.max.bot_id,
            ),
        )),
    );
    jobs.register(
        outgoing::ANSWER,
        Arc::new(outgoing::AnswerHandler::new(api.clone(), pacer.clone())),
    );
    let refresh = || chats::RefreshLink {
        api: api.clone(),
        pacer: pacer.clone(),
        store: app.store.clone(),
        clock: app.clock.clone(),
    };
    jobs.register(crate::domain::chats::REFRESH_LINK, Arc::new(refresh()));
    jobs.register(
        crate::domain::chats::REFRESH_LINKS,
        Arc::new(chats::RefreshLinks(refresh())),
    );
    announcements::register(jobs, app);
    jobs.register(
        subscription::ENSURE,
        Arc::new(subscription::EnsureHandler::new(app, api)),
    );
}

/// Registers the bot's job kinds with the configured connector (real or simulated).
pub fn register(jobs: &mut Jobs, app: &App) -> Result<(), max::MaxError> {
    let api = max::connector(&app.config, &app.store, &app.clock)?;
    register_with(jobs, app, api, Arc::new(Pacer::real()));
    Ok(())
}

/// At start: in webhook mode, queue the check of the subscription; in polling mode, start
/// polling. Only with a real MAX; the simulator needs neither.
pub async fn start(app: &App) -> anyhow::Result<Option<std::thread::JoinHandle<()>>> {
    if !max::is_real(&app.config) {
        return Ok(None);
    }
    let now = app.now();
    let key = format!("{}:{}", subscription::ENSURE, ts(now));
    let job = NewJob::new(subscription::ENSURE, key, json!({})).max_attempts(20);
    app.store
        .write(move |tx| jobs::enqueue(tx, &job, now))
        .await?;
    app.wake_outbox();
    if app.config.max.mode == MaxMode::Polling {
        let api = max::connector(&app.config, &app.store, &app.clock)?;
        return Ok(Some(polling::spawn(app.clone(), api)));
    }
    Ok(None)
}
