//! Request log and metrics, and security headers, for every response.

use std::time::Instant;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::{Data, Request, Response};

/// One log line and metrics per request: method, route template, status, latency.
/// Never the query string or the body: they carry personal data and launch data.
pub struct RequestLog;

struct Started(Instant);

#[rocket::async_trait]
impl Fairing for RequestLog {
    fn info(&self) -> Info {
        Info {
            name: "request log",
            kind: Kind::Request | Kind::Response,
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        req.local_cache(|| Started(Instant::now()));
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let elapsed = req.local_cache(|| Started(Instant::now())).0.elapsed();
        let route = route_template(req);
        let status = res.status().code;
        let method = req.method().as_str();
        metrics::counter!(
            "gosdom_http_requests_total",
            "method" => method, "route" => route.clone(), "status" => status.to_string()
        )
        .increment(1);
        metrics::histogram!("gosdom_http_request_duration_seconds", "route" => route.clone())
            .record(elapsed.as_secs_f64());
        let latency_ms = elapsed.as_secs_f64() * 1000.0;
        if quiet(&route) {
            tracing::debug!(method, route, status, latency_ms, "request");
        } else {
            tracing::info!(method, route, status, latency_ms, "request");
        }
    }
}

/// Routes polled all the time — health checks, metrics scrapes, the MAX simulator page's
/// one-second poll — are logged at DEBUG so that they do not flood the log.
fn quiet(route: &str) -> bool {
    matches!(
        route,
        "/healthz" | "/metrics" | "/dev/max/api/messages" | "/dev/max/api/group/messages"
    )
}

/// The route's template (`/api/v1/requests/<id>`), never the concrete path with its ids.
fn route_template(req: &Request<'_>) -> String {
    match req.route() {
        Some(route) => route.uri.path().to_string(),
        None => "unmatched".into(),
    }
}

/// Security headers. The mini-app must be embeddable by MAX's web client; everything
/// else may not be framed at all — except, in sandbox mode, the pages the mini-app's
/// sign-in goes through (the sandbox ЕСИА and the `/auth/` redirects), which the MAX
/// simulator shows inside its frame on the same origin.
pub struct SecurityHeaders {
    /// Origins allowed to frame the mini-app.
    pub frame_ancestors: String,
    /// Sandbox mode: the sign-in pages may be framed by the same origin.
    pub sandbox: bool,
}

impl SecurityHeaders {
    pub fn new() -> Self {
        SecurityHeaders {
            frame_ancestors: "'self' https://max.ru https://*.max.ru https://*.oneme.ru".into(),
            sandbox: false,
        }
    }

    /// The headers for a server in sandbox (`true`) or production mode.
    pub fn for_mode(sandbox: bool) -> Self {
        SecurityHeaders {
            sandbox,
            ..Self::new()
        }
    }
}

/// The sign-in pages the mini-app passes through inside the MAX simulator's frame.
fn sandbox_sign_in(path: &str) -> bool {
    path.starts_with("/dev/esia/") || path.starts_with("/auth/")
}

impl Default for SecurityHeaders {
    fn default() -> Self {
        Self::new()
    }
}

#[rocket::async_trait]
impl Fairing for SecurityHeaders {
    fn info(&self) -> Info {
        Info {
            name: "security headers",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        res.set_header(Header::new("X-Content-Type-Options", "nosniff"));
        res.set_header(Header::new("Referrer-Policy", "no-referrer"));
        res.set_header(Header::new(
            "Permissions-Policy",
            "geolocation=(), microphone=(), interest-cohort=()",
        ));
        let path = req.uri().path();
        let in_app = path == "/app" || path.starts_with("/app/");
        let csp = if in_app {
            format!(
                "default-src 'self'; script-src 'self' https://st.max.ru; \
                 img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; \
                 connect-src 'self'; frame-ancestors {}",
                self.frame_ancestors
            )
        } else if self.sandbox && sandbox_sign_in(path.as_str()) {
            res.set_header(Header::new("X-Frame-Options", "SAMEORIGIN"));
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; \
             frame-src 'self'; frame-ancestors 'self'"
                .to_string()
        } else {
            res.set_header(Header::new("X-Frame-Options", "DENY"));
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; \
             frame-src 'self'; frame-ancestors 'none'"
                .to_string()
        };
        res.set_header(Header::new("Content-Security-Policy", csp));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_are_quiet_and_actions_are_not() {
        for route in [
            "/healthz",
            "/metrics",
            "/dev/max/api/messages",
            "/dev/max/api/group/messages",
        ] {
            assert!(quiet(route), "{route}");
        }
        for route in ["/dev/max/api/send", "/api/v1/me", "unmatched"] {
            assert!(!quiet(route), "{route}");
        }
    }
}
