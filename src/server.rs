//! Start-up of the running service, shared by `main` and the tests: open the store, create
//! the demo data in sandbox mode, start the jobs, build the web server.

use std::sync::Arc;

use anyhow::Context;

use crate::app::App;
use crate::clock::{SharedClock, SystemClock};
use crate::config::Config;
use crate::jobs::{self, close_requests, Jobs};
use crate::store::{self, Store};
use crate::{bot, keys, sandbox, web};

/// Everything a running service is made of.
pub struct Service {
    pub app: App,
    pub jobs: Jobs,
    secret_key: String,
}

pub fn store_options(config: &Config) -> store::Options {
    store::Options {
        data_dir: config.storage.data_dir.clone(),
        synchronous: config.storage.synchronous,
        pool_size: config.storage.pool_size,
    }
}

impl Service {
    /// Opens the store (migrating it) and prepares the app; starts nothing yet.
    pub fn prepare(config: Config) -> anyhow::Result<Service> {
        Self::prepare_with_clock(config, Arc::new(SystemClock))
    }

    pub fn prepare_with_clock(config: Config, clock: SharedClock) -> anyhow::Result<Service> {
        let store = Store::open(&store_options(&config))?;
        let data_dir = &config.storage.data_dir;
        let secret_key = keys::load_or_create(&config.server.secret_key, data_dir, "secret_key")
            .with_context(|| format!("cannot keep the cookie key in {}", data_dir.display()))?;
        let snils_key = keys::load_or_create(&config.registry.snils_key, data_dir, "snils_key")
            .with_context(|| format!("cannot keep the СНИЛС key in {}", data_dir.display()))?;
        let bot_token = if config.is_sandbox() && config.max.token.is_empty() {
            keys::load_or_create(&config.max.token, data_dir, "sandbox_bot_token").with_context(
                || {
                    format!(
                        "cannot keep the sandbox bot token in {}",
                        data_dir.display()
                    )
                },
            )?
        } else {
            config.max.token.clone()
        };
        let mut config = config;
        config.registry.snils_key = snils_key.clone();

        if config.is_sandbox() {
            let now = clock.now();
            if store.write_blocking(|tx| sandbox::demo::seed(tx, &snils_key, now))? {
                tracing::info!("sandbox: demo data created");
            }
        }

        let requests = crate::domain::requests::Settings::new(&config);
        store.write_blocking(|tx| jobs::enqueue(tx, &close_requests::job(), clock.now()))?;

        let app = App::new(config, store.clone(), clock.clone(), bot_token);
        let mut jobs = Jobs::new(store.clone(), clock.clone()).with_waker(app.outbox_wake.clone());
        bot::register(&mut jobs, &app).context("cannot set up the MAX connector")?;
        bot::request_notice::register(&mut jobs, &app);
        if let Err(e) =
            crate::connectors::gis::schedule::register(&mut jobs, &app.config, &store, &clock)
        {
            tracing::warn!("ГИС ЖКХ exchange is off: {e}");
        }
        register_readings(&mut jobs, &app).context("cannot set up readings delivery")?;
        store.write_blocking(|tx| crate::domain::chats::schedule_daily_refresh(tx, clock.now()))?;
        jobs.register(
            close_requests::KIND,
            Arc::new(close_requests::CloseDoneRequests {
                store,
                settings: requests,
                clock,
            }),
        );
        Ok(Service {
            app,
            jobs,
            secret_key: secret_key.expose().to_string(),
        })
    }

    /// Starts the jobs and serves HTTP until a shutdown signal.
    pub async fn run(self) -> anyhow::Result<()> {
        let worker = self.jobs.spawn();
        let storage = &self.app.config.storage;
        let nightly = crate::jobs::backup::spawn(
            self.app.store.clone(),
            storage.data_dir.clone(),
            storage.backup_keep,
            self.app.clock.clone(),
        );
        let _poller = bot::start(&self.app).await?;
        let rocket = web::build(self.app.clone(), &self.secret_key)
            .ignite()
            .await
            .context("cannot start the web server")?;
        let config = rocket.config();
        tracing::info!(
            address = %config.address, port = config.port, mode = ?self.app.config.mode,
            "listening on http://{}:{}", config.address, config.port
        );
        let result = rocket.launch().await;
        worker.abort();
        if let Some(task) = nightly {
            task.abort();
        }
        result
            .map(|_| ())
            .map_err(|e| anyhow::anyhow!("web server stopped: {e}"))
    }

    /// The web server alone, for in-process tests.
    pub fn rocket(&self) -> rocket::Rocket<rocket::Build> {
        web::build(self.app.clone(), &self.secret_key)
    }
}

/// Readings: delivery to ГИС ЖКХ through the connector, reminders and rejections through
/// the bot. Without a usable ГИС ЖКХ client the delivery jobs wait, pending, in the outbox.
fn register_readings(jobs: &mut Jobs, app: &App) -> anyhow::Result<()> {
    use crate::domain::readings::{ImportReadings, RemindJob, IMPORT_READINGS, REMIND};

    let sender = bot::readings::BotReminders::new(app.config.clone());
    match crate::connectors::gis::client_from_config(&app.config) {
        Ok(client) => {
            let export = crate::connectors::gis::readings::GisReadings::new(
                client,
                app.store.clone(),
                app.clock.clone(),
            );
            jobs.register(
                IMPORT_READINGS,
                Arc::new(
                    ImportReadings::new(app.store.clone(), app.clock.clone(), export)
                        .with_notifier(sender.clone()),
                ),
            );
        }
        Err(e) => tracing::warn!("readings will not reach ГИС ЖКХ: {e}"),
    }
    jobs.register(
        REMIND,
        Arc::new(RemindJob::new(
            app.store.clone(),
            app.clock.clone(),
            app.config.readings.clone(),
            sender,
        )),
    );
    let now = app.now();
    app.store
        .write_blocking(|tx| RemindJob::schedule(tx, now))?;
    Ok(())
}
