//! The MAX Bot API: the [`MaxApi`] trait the bot talks through, the bodies it sends, and
//! [`HttpMaxApi`], the real client.
//!
//! Every call is blocking (ureq): make it from a job or the CLI, never on the async
//! runtime. Failures are [`MaxError`]; [`MaxError::to_job_error`] says whether the outbox
//! should try again.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::Secret;
use crate::jobs::JobError;

/// Default wait before retrying a send whose attachment MAX is still processing.
const ATTACHMENT_RETRY: Duration = Duration::from_secs(1);
/// Time allowed for an ordinary call.
const CALL_TIMEOUT: Duration = Duration::from_secs(20);

/// Who a message goes to: a user (their dialog with the bot) or a chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    User(i64),
    Chat(i64),
}

impl Recipient {
    /// The key that serialises and paces messages to one chat: `user:<id>` for a dialog,
    /// `chat:<id>` for a group chat.
    pub fn lane(&self) -> String {
        match self {
            Recipient::User(id) => format!("user:{id}"),
            Recipient::Chat(id) => format!("chat:{id}"),
        }
    }
}

/// How MAX renders `text`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TextFormat {
    Markdown,
    Html,
}

/// `NewMessageBody` of the Bot API schema. `text`, `attachments` and `link` are required
/// there (nullable), so they are always written, as `null` when absent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewMessage {
    pub text: Option<String>,
    pub attachments: Option<Vec<Attachment>>,
    pub link: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<TextFormat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<bool>,
}

impl NewMessage {
    pub fn text(text: impl Into<String>, format: Option<TextFormat>) -> Self {
        NewMessage {
            text: Some(text.into()),
            attachments: None,
            link: None,
            format,
            notify: None,
        }
    }

    pub fn with_keyboard(mut self, rows: Vec<Vec<Button>>) -> Self {
        self.attachments = Some(vec![Attachment::InlineKeyboard {
            payload: Keyboard { buttons: rows },
        }]);
        self
    }
}

/// An attachment the bot sends (only keyboards so far).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Attachment {
    InlineKeyboard { payload: Keyboard },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Keyboard {
    pub buttons: Vec<Vec<Button>>,
}

/// A keyboard button.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Button {
    /// Opens the bot's mini-app; `contact_id` is the bot's user id.
    OpenApp {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        contact_id: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        web_app: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        payload: Option<String>,
    },
    Link {
        text: String,
        url: String,
    },
    Callback {
        text: String,
        payload: String,
    },
}

/// `CallbackAnswer`: a one-off notification, or a replacement for the pressed message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallbackAnswer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<NewMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<String>,
}

/// The bot itself, from `GET /me`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotInfo {
    pub user_id: i64,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
}

/// A webhook subscription.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub url: String,
    #[serde(default)]
    pub time: i64,
    #[serde(default)]
    pub update_types: Option<Vec<String>>,
}

/// One page of `GET /updates`: raw updates (parsed leniently by the bot) and the marker
/// to ask for the next page with.
#[derive(Clone, Debug, Default)]
pub struct UpdateBatch {
    pub updates: Vec<Value>,
    pub marker: Option<i64>,
}

/// A sent message, as far as the bot cares.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SentMessage {
    pub mid: Option<String>,
}

/// One message of `GET /messages` (the `Message` schema), as far as reconciling an
/// interrupted send needs it. Read leniently: a field MAX leaves out is empty.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListedMessage {
    /// `sender.user_id`.
    pub sender: Option<i64>,
    /// `sender.is_bot`.
    pub sender_is_bot: bool,
    /// `timestamp`: Unix time in milliseconds.
    pub timestamp_ms: i64,
    /// `body.text`.
    pub text: Option<String>,
    /// `body.attachments`, as MAX returns them.
    pub attachments: Vec<Value>,
}

impl ListedMessage {
    /// Reads one element of `MessageList.messages`; `None` when it is not an object.
    pub fn from_value(value: &Value) -> Option<Self> {
        let message = value.as_object()?;
        let sender = message.get("sender");
        let body = message.get("body");
        Some(ListedMessage {
            sender: sender
                .and_then(|s| s.get("user_id"))
                .and_then(Value::as_i64),
            sender_is_bot: sender
                .and_then(|s| s.get("is_bot"))
                .and_then(Value::as_bool)
                .unwrap_or(false),
            timestamp_ms: message
                .get("timestamp")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            text: body
                .and_then(|b| b.get("text"))
                .and_then(Value::as_str)
                .map(str::to_string),
            attachments: body
                .and_then(|b| b.get("attachments"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        })
    }
}

/// Why a call to MAX failed. Display never carries the token or message text.
#[derive(Debug, thiserror::Error)]
pub enum MaxError {
    #[error("MAX is unreachable: {0}")]
    Network(String),
    #[error("MAX answered HTTP {status} ({code})")]
    Status {
        status: u16,
        /// MAX's error code (`attachment.not.ready`, `verify.token`), or empty.
        code: String,
        retry_after: Option<Duration>,
    },
    #[error("MAX refused the call: {0}")]
    Refused(String),
    #[error("unexpected answer from MAX: {0}")]
    Decode(String),
    #[error("MAX client not configured: {0}")]
    Config(String),
}

impl MaxError {
    /// Worth another try later: network trouble, 429, 5xx, an attachment not ready yet.
    pub fn is_transient(&self) -> bool {
        match self {
            MaxError::Network(_) => true,
            MaxError::Status { status, code, .. } => {
                *status == 429 || *status == 408 || *status >= 500 || code == ATTACHMENT_NOT_READY
            }
            MaxError::Refused(code) => code == ATTACHMENT_NOT_READY,
            MaxError::Decode(_) | MaxError::Config(_) => false,
        }
    }

    /// How long MAX asked us to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            MaxError::Status {
                retry_after: Some(after),
                ..
            } => Some(*after),
            MaxError::Status { code, .. } | MaxError::Refused(code)
                if code == ATTACHMENT_NOT_READY =>
            {
                Some(ATTACHMENT_RETRY)
            }
            _ => None,
        }
    }

    /// The outbox's view: retry transient failures (after MAX's `Retry-After`), give up
    /// on the others.
    pub fn to_job_error(&self) -> JobError {
        if self.is_transient() {
            JobError::Retry {
                message: self.to_string(),
                after: self.retry_after(),
            }
        } else {
            JobError::Fatal(self.to_string())
        }
    }
}

/// MAX's code for "the uploaded file is still being processed, send again shortly".
pub const ATTACHMENT_NOT_READY: &str = "attachment.not.ready";

/// What the bot needs from MAX. [`HttpMaxApi`] talks to the real Bot API; the sandbox
/// simulator ([`super::sim::SimMax`]) records instead.
pub trait MaxApi: Send + Sync {
    fn me(&self) -> Result<BotInfo, MaxError>;
    fn send_message(&self, to: Recipient, message: &NewMessage) -> Result<SentMessage, MaxError>;
    fn edit_message(&self, message_id: &str, message: &NewMessage) -> Result<(), MaxError>;
    fn answer_callback(&self, callback_id: &str, answer: &CallbackAnswer) -> Result<(), MaxError>;
    /// `GET /messages?chat_id=..&count=..`: the chat's latest `count` messages (at most
    /// 100), the bot's own included, newest first.
    fn recent_messages(&self, chat_id: i64, count: u32) -> Result<Vec<ListedMessage>, MaxError>;
    /// `GET /chats/{id}` as MAX returns it (`link` is the invite link).
    fn chat(&self, chat_id: i64) -> Result<Value, MaxError>;
    fn subscriptions(&self) -> Result<Vec<Subscription>, MaxError>;
    fn subscribe(&self, url: &str, secret: &str, update_types: &[&str]) -> Result<(), MaxError>;
    fn unsubscribe(&self, url: &str) -> Result<(), MaxError>;
    /// Long polling: waits up to `timeout` for updates after `marker`.
    fn updates(
        &self,
        marker: Option<i64>,
        timeout: Duration,
        update_types: &[&str],
    ) -> Result<UpdateBatch, MaxError>;
}

/// The real Bot API client: `Authorization: <token>` on every call, never the token in
/// the URL.
pub struct HttpMaxApi {
    agent: ureq::Agent,
    base: String,
    token: Secret,
}

enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl HttpMaxApi {
    /// A client for `base_url`; `ca_file` (PEM) adds roots to the Mozilla set, for an API
    /// whose chain ends at the Минцифры root.
    pub fn new(base_url: &str, token: Secret, ca_file: Option<&Path>) -> Result<Self, MaxError> {
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(CALL_TIMEOUT))
            .user_agent(concat!("gosdom/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = ca_file {
            config = config.tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(roots_with(path)?)
                    .build(),
            );
        }
        Ok(HttpMaxApi {
            agent: config.build().into(),
            base: base_url.trim_end_matches('/').to_string(),
            token,
        })
    }

    fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        timeout: Duration,
    ) -> Result<Value, MaxError> {
        let url = format!("{}{}", self.base, path);
        let token = self.token.expose();
        let query = query.iter().map(|(k, v)| (*k, v.as_str()));
        let sent = match method {
            Method::Get | Method::Delete => {
                let request = if matches!(method, Method::Get) {
                    self.agent.get(&url)
                } else {
                    self.agent.delete(&url)
                };
                request
                    .header("Authorization", token)
                    .query_pairs(query)
                    .config()
                    .timeout_global(Some(timeout))
                    .build()
                    .call()
            }
            Method::Post | Method::Put => {
                let request = if matches!(method, Method::Post) {
                    self.agent.post(&url)
                } else {
                    self.agent.put(&url)
                };
                request
                    .header("Authorization", token)
                    .query_pairs(query)
                    .config()
                    .timeout_global(Some(timeout))
                    .build()
                    .send_json(body.unwrap_or(&Value::Null))
            }
        };
        let mut response = sent.map_err(|e| MaxError::Network(e.to_string()))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| MaxError::Network(e.to_string()))?;
        let value: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(_) if !(200..300).contains(&status) => Value::Null,
                Err(e) => return Err(MaxError::Decode(e.to_string())),
            }
        };
        if !(200..300).contains(&status) {
            let code = value
                .get("code")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            return Err(MaxError::Status {
                status,
                code,
                retry_after,
            });
        }
        if value.get("success").and_then(Value::as_bool) == Some(false) {
            let reason = value
                .get("message")
                .and_then(Value::as_str)
                .filter(|m| !m.is_empty())
                .unwrap_or("success: false");
            return Err(MaxError::Refused(reason.to_string()));
        }
        Ok(value)
    }

    fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, MaxError> {
        self.call(Method::Get, path, query, None, CALL_TIMEOUT)
    }
}

/// Mozilla's roots plus every certificate in the PEM file at `path`.
fn roots_with(path: &Path) -> Result<ureq::tls::RootCerts, MaxError> {
    let pem = std::fs::read(path).map_err(|e| {
        MaxError::Config(format!("cannot read max.ca_file {}: {e}", path.display()))
    })?;
    let mut roots: Vec<ureq::tls::Certificate<'static>> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .map(|der| ureq::tls::Certificate::from_der(der.as_ref()).to_owned())
        .collect();
    let mut extra = 0;
    for item in ureq::tls::parse_pem(&pem) {
        if let Ok(ureq::tls::PemItem::Certificate(cert)) = item {
            roots.push(cert);
            extra += 1;
        }
    }
    if extra == 0 {
        return Err(MaxError::Config(format!(
            "max.ca_file {} holds no PEM certificate",
            path.display()
        )));
    }
    Ok(ureq::tls::RootCerts::new_with_certs(&roots))
}

fn decode<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, MaxError> {
    serde_json::from_value(value).map_err(|e| MaxError::Decode(e.to_string()))
}

fn to_value<T: Serialize>(body: &T) -> Result<Value, MaxError> {
    serde_json::to_value(body).map_err(|e| MaxError::Decode(e.to_string()))
}

impl MaxApi for HttpMaxApi {
    fn me(&self) -> Result<BotInfo, MaxError> {
        decode(self.get("/me", &[])?)
    }

    fn send_message(&self, to: Recipient, message: &NewMessage) -> Result<SentMessage, MaxError> {
        let query = match to {
            Recipient::User(id) => [("user_id", id.to_string())],
            Recipient::Chat(id) => [("chat_id", id.to_string())],
        };
        let body = to_value(message)?;
        let answer = match self.call(Method::Post, "/messages", &query, Some(&body), CALL_TIMEOUT) {
            // MAX took the message (2xx) but its answer is unreadable: sending it again
            // would deliver it twice, giving up would record a delivered message as failed.
            Err(MaxError::Decode(e)) => {
                tracing::warn!(error = %e, "MAX accepted a message with an unreadable answer");
                Value::Null
            }
            answer => answer?,
        };
        Ok(SentMessage {
            mid: answer
                .pointer("/message/body/mid")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
    }

    fn edit_message(&self, message_id: &str, message: &NewMessage) -> Result<(), MaxError> {
        let body = to_value(message)?;
        let query = [("message_id", message_id.to_string())];
        self.call(Method::Put, "/messages", &query, Some(&body), CALL_TIMEOUT)
            .map(|_| ())
    }

    fn answer_callback(&self, callback_id: &str, answer: &CallbackAnswer) -> Result<(), MaxError> {
        let body = to_value(answer)?;
        let query = [("callback_id", callback_id.to_string())];
        self.call(Method::Post, "/answers", &query, Some(&body), CALL_TIMEOUT)
            .map(|_| ())
    }

    fn recent_messages(&self, chat_id: i64, count: u32) -> Result<Vec<ListedMessage>, MaxError> {
        let query = [
            ("chat_id", chat_id.to_string()),
            ("count", count.clamp(1, 100).to_string()),
        ];
        let value = self.get("/messages", &query)?;
        match value.get("messages") {
            Some(Value::Array(list)) => {
                Ok(list.iter().filter_map(ListedMessage::from_value).collect())
            }
            _ => Err(MaxError::Decode("GET /messages without `messages`".into())),
        }
    }

    fn chat(&self, chat_id: i64) -> Result<Value, MaxError> {
        self.get(&format!("/chats/{chat_id}"), &[])
    }

    fn subscriptions(&self) -> Result<Vec<Subscription>, MaxError> {
        let value = self.get("/subscriptions", &[])?;
        let list = value.get("subscriptions").cloned().unwrap_or(Value::Null);
        if list.is_null() {
            return Ok(Vec::new());
        }
        decode(list)
    }

    fn subscribe(&self, url: &str, secret: &str, update_types: &[&str]) -> Result<(), MaxError> {
        let mut body = serde_json::json!({ "url": url, "update_types": update_types });
        if !secret.is_empty() {
            body["secret"] = Value::from(secret);
        }
        self.call(
            Method::Post,
            "/subscriptions",
            &[],
            Some(&body),
            CALL_TIMEOUT,
        )
        .map(|_| ())
    }

    fn unsubscribe(&self, url: &str) -> Result<(), MaxError> {
        let query = [("url", url.to_string())];
        self.call(Method::Delete, "/subscriptions", &query, None, CALL_TIMEOUT)
            .map(|_| ())
    }

    fn updates(
        &self,
        marker: Option<i64>,
        timeout: Duration,
        update_types: &[&str],
    ) -> Result<UpdateBatch, MaxError> {
        let mut query = vec![
            ("timeout", timeout.as_secs().min(90).to_string()),
            ("limit", "100".to_string()),
        ];
        if let Some(marker) = marker {
            query.push(("marker", marker.to_string()));
        }
        if !update_types.is_empty() {
            query.push(("types", update_types.join(",")));
        }
        let value = self.call(
            Method::Get,
            "/updates",
            &query,
            None,
            timeout + Duration::from_secs(10),
        )?;
        let updates = match value.get("updates") {
            Some(Value::Array(list)) => list.clone(),
            _ => Vec::new(),
        };
        Ok(UpdateBatch {
            updates,
            marker: value.get("marker").and_then(Value::as_i64),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_keeps_the_required_nullable_fields() {
        let message = NewMessage::text("Привет", None).with_keyboard(vec![vec![Button::OpenApp {
            text: "Открыть".into(),
            contact_id: Some(7),
            web_app: None,
            payload: None,
        }]]);
        let value = serde_json::to_value(&message).unwrap();
        assert_eq!(value["link"], Value::Null);
        assert!(value.get("format").is_none());
        assert_eq!(value["attachments"][0]["type"], "inline_keyboard");
        let button = &value["attachments"][0]["payload"]["buttons"][0][0];
        assert_eq!(button["type"], "open_app");
        assert_eq!(button["contact_id"], 7);
        let back: NewMessage = serde_json::from_value(value).unwrap();
        assert_eq!(back, message);
    }

    #[test]
    fn transient_failures_are_retried_and_others_are_not() {
        let status = |status, code: &str| MaxError::Status {
            status,
            code: code.into(),
            retry_after: None,
        };
        assert!(MaxError::Network("refused".into()).is_transient());
        assert!(status(429, "").is_transient());
        assert!(status(503, "").is_transient());
        assert!(status(400, ATTACHMENT_NOT_READY).is_transient());
        assert_eq!(
            status(400, ATTACHMENT_NOT_READY).retry_after(),
            Some(ATTACHMENT_RETRY)
        );
        assert!(!status(401, "verify.token").is_transient());
        assert!(!MaxError::Refused("chat.denied".into()).is_transient());
        assert!(matches!(
            status(401, "verify.token").to_job_error(),
            JobError::Fatal(_)
        ));
    }
}
