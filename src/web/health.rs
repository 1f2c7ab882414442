//! `GET /healthz` and `GET /metrics`.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use rocket::http::{ContentType, Status};
use rocket::serde::json::Json;
use rocket::{get, State};
use serde_json::{json, Value};

use crate::app::App;
use crate::jobs::outbox;
use crate::store::Store;

static PROMETHEUS: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide metrics recorder once; later calls return the same handle.
pub fn prometheus() -> Option<&'static PrometheusHandle> {
    PROMETHEUS
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ])
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            ::metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .as_ref()
}

#[get("/healthz")]
pub async fn healthz(app: &State<App>) -> (Status, Json<Value>) {
    let database = app
        .store
        .call(|c| Ok(Store::healthy(c)))
        .await
        .unwrap_or(false);
    let body = json!({
        "status": if database { "ok" } else { "error" },
        "database": if database { "ok" } else { "unavailable" },
        "mode": app.config.mode,
        "version": env!("CARGO_PKG_VERSION"),
    });
    let status = if database {
        Status::Ok
    } else {
        Status::ServiceUnavailable
    };
    (status, Json(body))
}

const STATES: [&str; 4] = ["pending", "running", "done", "failed"];

#[get("/metrics")]
pub async fn prometheus_metrics(app: &State<App>) -> (ContentType, String) {
    if let Ok(depth) = app.store.call(|c| outbox::depth(c)).await {
        let mut kinds: Vec<&str> = depth.iter().map(|(k, _, _)| k.as_str()).collect();
        kinds.dedup();
        for kind in kinds {
            for state in STATES {
                let n = depth
                    .iter()
                    .find(|(k, s, _)| k == kind && s == state)
                    .map_or(0, |(_, _, n)| *n);
                ::metrics::gauge!("gosdom_outbox_jobs", "kind" => kind.to_string(), "state" => state)
                    .set(n as f64);
            }
        }
    }
    let text = prometheus().map(|h| h.render()).unwrap_or_default();
    (
        ContentType::new("text", "plain").with_params(("version", "0.0.4")),
        text,
    )
}
