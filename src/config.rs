//! Configuration: defaults → TOML file → `GOSDOM_<SECTION>__<KEY>` env → CLI flags.
//!
//! Every field's doc comment is the operator's manual for that key; `config.toml` at the
//! repository root repeats them and a test proves its values equal these defaults.
//! Errors from this module are [`ConfigError`]: they name the TOML key, the env variable
//! and the fix, and make the process exit with code 2.

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

/// Prefix of every environment variable that sets a config key.
pub const ENV_PREFIX: &str = "GOSDOM_";

/// A secret value: its `Debug` and `Display` print `***`, so it never reaches a log line.
#[derive(Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Secret(String);

impl<'de> Deserialize<'de> for Secret {
    /// Accepts numbers too: an all-digit token set through the environment arrives as one.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Int(i128),
            Float(f64),
        }
        Ok(Secret(match Raw::deserialize(d)? {
            Raw::Text(s) => s,
            Raw::Int(n) => n.to_string(),
            Raw::Float(n) => n.to_string(),
        }))
    }
}

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that needs it (a header, an HMAC key).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Whether the appliance talks to the real outside world.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Demo data, simulated MAX, ЕСИА and ГИС ЖКХ, and the `/dev/` pages.
    Sandbox,
    /// Real connectors only; refuses to start when one is not configured.
    Production,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `sandbox` (default: demo data, simulated outside systems) or `production`.
    pub mode: Mode,
    pub server: Server,
    pub storage: Storage,
    pub max: Max,
    pub esia: Esia,
    pub gis: Gis,
    pub registry: Registry,
    pub readings: Readings,
    pub requests: Requests,
    pub console: Console,
    pub log: Log,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Server {
    /// Address to listen on. Behind a reverse proxy keep 127.0.0.1.
    pub address: IpAddr,
    /// TCP port to listen on.
    pub port: u16,
    /// The public HTTPS address MAX and residents reach, e.g. `https://dom.example.ru`.
    /// Empty in sandbox mode means `http://<address>:<port>`.
    pub public_url: String,
    /// Key for signed cookies (console sessions), 64+ random bytes in base64.
    /// Empty: generated once and kept in `<data_dir>/secret_key`.
    pub secret_key: Secret,
    /// Read `secret_key` from this file instead.
    pub secret_key_file: Option<PathBuf>,
    /// Proxies whose `X-Forwarded-For` / `X-Real-IP` headers are trusted.
    pub trusted_proxies: Vec<IpAddr>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Storage {
    /// Directory for the database, attachments and backups; created with mode 0700.
    pub data_dir: PathBuf,
    /// SQLite `synchronous`: `full` (default: an acknowledged write survives a power cut)
    /// or `normal` (faster; the last writes may be lost on power loss, never on a crash).
    pub synchronous: Synchronous,
    /// Connections in the database pool.
    pub pool_size: u32,
    /// Nightly backups kept in `<data_dir>/backups`; 0 turns nightly backups off.
    pub backup_keep: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    Full,
    Normal,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Max {
    /// MAX Bot API address.
    pub api_url: String,
    /// Bot token from the MAX business cabinet. In sandbox mode an empty token keeps MAX
    /// simulated; a token makes the real client talk to `api_url`.
    pub token: Secret,
    /// Read `token` from this file instead.
    pub token_file: Option<PathBuf>,
    /// Secret MAX sends in `X-Max-Bot-Api-Secret` with every webhook call (5–256 of
    /// `A-Z a-z 0-9 _ -`).
    pub webhook_secret: Secret,
    /// Read `webhook_secret` from this file instead.
    pub webhook_secret_file: Option<PathBuf>,
    /// The bot's username, used in `https://max.ru/<bot_username>?startapp` links.
    pub bot_username: String,
    /// The bot's numeric user id (the `open_app` button's `contact_id`).
    pub bot_id: i64,
    /// `webhook` (MAX posts to `<public_url>/bot/webhook`) or `polling` (for servers
    /// without public HTTPS).
    pub mode: MaxMode,
    /// Extra CA certificate (PEM) to trust for the Bot API, e.g. the Минцифры root.
    pub ca_file: Option<PathBuf>,
    /// Seconds a mini-app's launch data stays valid for opening a session.
    pub launch_max_age_seconds: u64,
    /// Hours a mini-app session lasts.
    pub session_hours: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MaxMode {
    Webhook,
    Polling,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Esia {
    /// ЕСИА address, e.g. `https://esia.gosuslugi.ru`. Empty: simulated in sandbox mode.
    pub base_url: String,
    /// The information system's mnemonic registered in ЕСИА.
    pub client_id: String,
    /// Scopes asked for at sign-in.
    pub scopes: String,
    /// Seconds allowed for clock skew when checking token times.
    pub leeway_seconds: u64,
    /// PEM public keys (RSA for RS256, EC for ES256) that may sign ЕСИА's tokens; list
    /// the old and the new key while ЕСИА rotates them.
    pub token_key_files: Vec<PathBuf>,
    /// The `iss` ЕСИА writes in its tokens. Empty: `http://<host of base_url>/`.
    pub token_issuer: String,
    /// How `client_secret` is signed.
    pub signer: Signer,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Gis {
    /// ГИС ЖКХ API address, e.g. `https://api.dom.gosuslugi.ru` or a local GOST TLS
    /// tunnel. Empty: the sandbox ГИС ЖКХ in sandbox mode.
    pub base_url: String,
    /// The УО's orgPPAGUID in ГИС ЖКХ.
    pub org_ppa_guid: String,
    /// Hour of the day (server time, 0–23) when the nightly sync runs.
    pub sync_hour: u8,
    /// Send `IsOperatorSignature` in the header: messages are signed with the information
    /// system operator's key rather than the УО's own.
    pub operator_signature: bool,
    /// Seconds to wait for one HTTP answer from ГИС ЖКХ.
    pub timeout_seconds: u64,
    /// Seconds between `getState` polls: the first after the first value, and so on; the
    /// last value repeats. The official schedule; shorten it only for tests.
    pub poll_seconds: Vec<u64>,
    /// Minutes between two pulls of new appeals (`exportAppeal`) from ГИС ЖКХ.
    pub appeals_minutes: u32,
    /// AnswererGUID: the УО employee registered in ГИС ЖКХ as the one who answers appeals;
    /// answers and status changes of appeals go out in their name. Empty in sandbox mode:
    /// the sandbox's own.
    pub answerer_guid: String,
    /// How messages are signed.
    pub signer: Signer,
}

/// A signer for ЕСИА and ГИС ЖКХ messages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Signer {
    /// `none` (sandbox only), `openssl` (key_file, cert_file; OpenSSL with the gost
    /// engine), `command` (argv) or `http` (url).
    pub kind: SignerKind,
    /// PEM private key (kind = "openssl").
    pub key_file: Option<PathBuf>,
    /// PEM certificate (kind = "openssl", and "command" when the tool does not give it).
    pub cert_file: Option<PathBuf>,
    /// Program and arguments; data on stdin, signature on stdout (kind = "command").
    pub command: Vec<String>,
    /// Signing service address (kind = "http").
    pub url: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignerKind {
    None,
    Openssl,
    Command,
    Http,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Registry {
    /// Where ownership comes from: `local` (the УО's owners register, CSV or ГИС ЖКХ) or
    /// `http` (an ЕГРН gateway at `url`).
    pub kind: String,
    /// Gateway address (kind = "http").
    pub url: String,
    /// Key for the keyed hash of СНИЛС (32+ random bytes). Empty: generated once and kept
    /// in `<data_dir>/snils_key`.
    pub snils_key: Secret,
    /// Read `snils_key` from this file instead.
    pub snils_key_file: Option<PathBuf>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Readings {
    /// First day of the month readings are taken (1–31).
    pub window_from_day: u8,
    /// Last day of the month readings are taken (1–31).
    pub window_to_day: u8,
    /// Accept readings on any day of the month.
    pub any_day: bool,
    /// Outside the window: refuse (`true`) or accept with a notice (`false`).
    pub strict_window: bool,
    /// Accept a value lower than the previous one (meter replaced or rolled over).
    pub allow_lower: bool,
    /// Ask the resident to confirm when consumption exceeds this many average months
    /// (0 turns the check off).
    pub jump_factor: u32,
    /// Hours east of UTC of the houses' local time, which decides the day of the month
    /// (3 for Moscow). A УО or house may override it in its settings.
    pub utc_offset_hours: i8,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Requests {
    /// Requests one person may file per day.
    pub max_per_day: u32,
    /// Requests with the same text one person may file per day.
    pub max_same_text: u32,
    /// Photos per request or comment.
    pub max_photos: u32,
    /// Largest photo in bytes.
    pub max_photo_bytes: u64,
    /// Working days to fulfil an ordinary request.
    pub deadline_days: u32,
    /// Minutes to localise an emergency.
    pub emergency_minutes: u32,
    /// Days after completion when the resident may reopen a request.
    pub reopen_days: u32,
    /// Working days to answer an owner's written query (documents, accruals).
    pub query_days: u32,
    /// Hours east of UTC of the local time that working days and the daily limits follow
    /// (Moscow: 3).
    pub utc_offset_hours: i8,
    /// Extra non-working days (`YYYY-MM-DD`) on top of the built-in Russian calendar, e.g.
    /// a regional holiday or a transfer the government announced after this release.
    pub extra_holidays: Vec<String>,
    /// Days (`YYYY-MM-DD`) that are working days although the built-in calendar says
    /// otherwise, e.g. a working Saturday announced after this release.
    pub extra_working_days: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Console {
    /// Hours a console session lasts without activity.
    pub session_hours: u32,
    /// Wrong passwords for one login or from one address before sign-in attempts are
    /// slowed (a delay from 30 s, doubling with each further wrong password, up to 15 min).
    pub login_attempts: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Log {
    /// `error`, `warn`, `info`, `debug` or `trace`, or a tracing filter such as
    /// `info,gosdom::jobs=debug`.
    pub level: String,
    /// `text` (one line per event) or `json`.
    pub format: LogFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mode: Mode::Sandbox,
            server: Server::default(),
            storage: Storage::default(),
            max: Max::default(),
            esia: Esia::default(),
            gis: Gis::default(),
            registry: Registry::default(),
            readings: Readings::default(),
            requests: Requests::default(),
            console: Console::default(),
            log: Log::default(),
        }
    }
}

impl Default for Server {
    fn default() -> Self {
        Server {
            address: IpAddr::from([127, 0, 0, 1]),
            port: 8080,
            public_url: String::new(),
            secret_key: Secret::default(),
            secret_key_file: None,
            trusted_proxies: Vec::new(),
        }
    }
}

impl Default for Storage {
    fn default() -> Self {
        Storage {
            data_dir: PathBuf::from("data"),
            synchronous: Synchronous::Full,
            pool_size: 8,
            backup_keep: 7,
        }
    }
}

impl Default for Max {
    fn default() -> Self {
        Max {
            api_url: "https://platform-api2.max.ru".into(),
            token: Secret::default(),
            token_file: None,
            webhook_secret: Secret::default(),
            webhook_secret_file: None,
            bot_username: "gosdom_bot".into(),
            bot_id: 0,
            mode: MaxMode::Webhook,
            ca_file: None,
            launch_max_age_seconds: 3600,
            session_hours: 12,
        }
    }
}

impl Default for Esia {
    fn default() -> Self {
        Esia {
            base_url: String::new(),
            client_id: String::new(),
            scopes: "openid fullname birthdate snils addresses".into(),
            leeway_seconds: 60,
            token_key_files: Vec::new(),
            token_issuer: String::new(),
            signer: Signer::default(),
        }
    }
}

impl Default for Gis {
    fn default() -> Self {
        Gis {
            base_url: String::new(),
            org_ppa_guid: String::new(),
            sync_hour: 3,
            operator_signature: false,
            timeout_seconds: 60,
            poll_seconds: vec![10, 60, 300, 900, 1800],
            appeals_minutes: 15,
            answerer_guid: String::new(),
            signer: Signer::default(),
        }
    }
}

impl Default for Signer {
    fn default() -> Self {
        Signer {
            kind: SignerKind::None,
            key_file: None,
            cert_file: None,
            command: Vec::new(),
            url: String::new(),
        }
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            kind: "local".into(),
            url: String::new(),
            snils_key: Secret::default(),
            snils_key_file: None,
        }
    }
}

impl Default for Readings {
    fn default() -> Self {
        Readings {
            window_from_day: 20,
            window_to_day: 25,
            any_day: false,
            strict_window: true,
            allow_lower: false,
            jump_factor: 10,
            utc_offset_hours: 3,
        }
    }
}

impl Default for Requests {
    fn default() -> Self {
        Requests {
            max_per_day: 10,
            max_same_text: 2,
            max_photos: 5,
            max_photo_bytes: 10 * 1024 * 1024,
            deadline_days: 8,
            emergency_minutes: 30,
            reopen_days: 14,
            query_days: 10,
            utc_offset_hours: 3,
            extra_holidays: Vec::new(),
            extra_working_days: Vec::new(),
        }
    }
}

impl Default for Console {
    fn default() -> Self {
        Console {
            session_hours: 12,
            login_attempts: 10,
        }
    }
}

impl Default for Log {
    fn default() -> Self {
        Log {
            level: "info".into(),
            format: LogFormat::Text,
        }
    }
}

/// A configuration problem an operator must fix before the service starts.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("invalid value for `{key}` (env {env}): {reason}; fix: {fix}")]
    Invalid {
        key: String,
        env: String,
        reason: String,
        fix: String,
    },
    #[error("config: {0}")]
    Other(String),
}

/// The config and the warnings met while loading it (unknown keys).
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<String>,
    /// The file that was read, if any.
    pub file: Option<PathBuf>,
}

/// The env variable that sets a dotted key: `server.port` → `GOSDOM_SERVER__PORT`.
pub fn env_name(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.replace('.', "__").to_uppercase())
}

/// Which file to read: `--config`/`GOSDOM_CONFIG`, else `./config.toml` when present.
pub fn resolve_path(explicit: Option<&Path>) -> Option<PathBuf> {
    match explicit {
        Some(path) => Some(path.to_path_buf()),
        None => {
            let local = PathBuf::from("config.toml");
            local.is_file().then_some(local)
        }
    }
}

fn env_provider() -> Env {
    // GOSDOM_CONFIG names the file, it is not a key.
    Env::prefixed(ENV_PREFIX).ignore(&["config"]).split("__")
}

/// Loads the config: defaults, then the file, then the environment, then `overrides`
/// (already-dotted keys from CLI flags).
pub fn load(file: Option<&Path>, overrides: &[(&str, String)]) -> Result<Loaded, ConfigError> {
    let mut figment = Figment::from(Serialized::defaults(Config::default()));
    let mut warnings = Vec::new();

    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let table: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::File {
            path: path.to_path_buf(),
            reason: e.message().to_string(),
        })?;
        for key in unknown_keys(&toml::Value::Table(table)) {
            warnings.push(format!(
                "unknown key `{key}` in {} is ignored; check its spelling",
                path.display()
            ));
        }
        figment = figment.merge(Toml::string(&text));
    }

    let env = env_provider();
    let mut env_keys = toml::Table::new();
    for (key, _) in env.iter() {
        insert_dotted(&mut env_keys, key.as_str());
    }
    for key in unknown_keys(&toml::Value::Table(env_keys)) {
        warnings.push(format!(
            "unknown environment variable {} is ignored; check its spelling",
            env_name(&key)
        ));
    }
    figment = figment.merge(env);

    for (key, value) in overrides {
        // Parsed the way env values are: "8081" is a number, "true" a bool.
        let parsed: figment::value::Value = value
            .parse()
            .unwrap_or_else(|_| figment::value::Value::from(value.clone()));
        figment = figment.merge((*key, parsed));
    }

    // Unknown keys were warned about above; extract into a lenient copy of the schema.
    let stripped = strip_unknown(&figment)?;
    let mut config: Config = stripped.extract().map_err(from_figment)?;
    read_secret_files(&mut config)?;
    validate(&config)?;
    Ok(Loaded {
        config,
        warnings,
        file: file.map(Path::to_path_buf),
    })
}

fn insert_dotted(table: &mut toml::Table, key: &str) {
    let mut parts = key.split('.').peekable();
    let mut current = table;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            current.insert(part.to_string(), toml::Value::Boolean(true));
            return;
        }
        let entry = current
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        match entry {
            toml::Value::Table(next) => current = next,
            _ => return,
        }
    }
}

/// Dotted keys present in `value` that the schema does not know; an unknown section is
/// named once, not with each of its keys.
fn unknown_keys(value: &toml::Value) -> Vec<String> {
    let known = known_keys();
    let mut out = Vec::new();
    collect_unknown(value, "", &known, &mut out);
    out
}

fn collect_unknown(
    value: &toml::Value,
    prefix: &str,
    known: &BTreeSet<String>,
    out: &mut Vec<String>,
) {
    let toml::Value::Table(table) = value else {
        return;
    };
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        if !known.contains(&key) {
            out.push(key);
        } else if !is_list_or_map(&key) {
            collect_unknown(v, &key, known, out);
        }
    }
}

fn is_list_or_map(key: &str) -> bool {
    matches!(
        key,
        "server.trusted_proxies"
            | "esia.signer.command"
            | "gis.signer.command"
            | "esia.token_key_files"
            | "gis.poll_seconds"
            | "requests.extra_holidays"
            | "requests.extra_working_days"
    )
}

/// Every dotted key the schema knows, from the serialised defaults (optional keys included).
fn known_keys() -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let defaults = serde_json::to_value(Config::default()).unwrap_or_default();
    collect_json(&defaults, "", &mut keys);
    keys
}

fn collect_json(value: &serde_json::Value, prefix: &str, keys: &mut BTreeSet<String>) {
    if let serde_json::Value::Object(map) = value {
        for (k, v) in map {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            keys.insert(key.clone());
            collect_json(v, &key, keys);
        }
    }
}

/// A figment with only the known keys, so `deny_unknown_fields` only guards the schema.
fn strip_unknown(figment: &Figment) -> Result<Figment, ConfigError> {
    let value: serde_json::Value = figment.extract().map_err(from_figment)?;
    let known = known_keys();
    let kept = retain_known(value, "", &known);
    Ok(Figment::from(Serialized::defaults(kept)))
}

fn retain_known(
    value: serde_json::Value,
    prefix: &str,
    known: &BTreeSet<String>,
) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                if known.contains(&key) {
                    let v = if is_list_or_map(&key) {
                        v
                    } else {
                        retain_known(v, &key, known)
                    };
                    out.insert(k, v);
                }
            }
            serde_json::Value::Object(out)
        }
        other => other,
    }
}

fn from_figment(error: figment::Error) -> ConfigError {
    let key = error.path.join(".");
    if key.is_empty() {
        return ConfigError::Other(error.to_string());
    }
    let reason = match &error.kind {
        figment::error::Kind::InvalidType(actual, expected) => {
            format!("found {actual}, expected {expected}")
        }
        figment::error::Kind::InvalidValue(actual, expected) => {
            format!("found {actual}, expected {expected}")
        }
        figment::error::Kind::UnknownVariant(found, expected) => {
            format!("`{found}` is not one of {}", expected.join(", "))
        }
        other => other.to_string(),
    };
    ConfigError::Invalid {
        env: env_name(&key),
        fix: fix_for(&key),
        key,
        reason,
    }
}

fn fix_for(key: &str) -> String {
    let default = serde_json::to_value(Config::default())
        .ok()
        .and_then(|v| {
            let mut cur = &v;
            for part in key.split('.') {
                cur = cur.get(part)?;
            }
            Some(cur.clone())
        })
        .filter(|v| !v.is_null());
    match default {
        Some(v) => format!("set a value like the default {v}, or remove the key"),
        None => "set a valid value, or remove the key".into(),
    }
}

fn invalid(key: &str, reason: impl Into<String>, fix: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        env: env_name(key),
        reason: reason.into(),
        fix: fix.into(),
    }
}

fn read_secret_files(config: &mut Config) -> Result<(), ConfigError> {
    let slots: [(&str, &Option<PathBuf>, &mut Secret); 4] = [
        (
            "server.secret_key_file",
            &config.server.secret_key_file,
            &mut config.server.secret_key,
        ),
        (
            "max.token_file",
            &config.max.token_file,
            &mut config.max.token,
        ),
        (
            "max.webhook_secret_file",
            &config.max.webhook_secret_file,
            &mut config.max.webhook_secret,
        ),
        (
            "registry.snils_key_file",
            &config.registry.snils_key_file,
            &mut config.registry.snils_key,
        ),
    ];
    for (key, path, secret) in slots {
        if let Some(path) = path {
            let text = std::fs::read_to_string(path).map_err(|e| {
                invalid(
                    key,
                    format!("cannot read {}: {e}", path.display()),
                    "point it at a readable file holding the secret",
                )
            })?;
            *secret = Secret::new(text.trim());
        }
    }
    Ok(())
}

fn validate(config: &Config) -> Result<(), ConfigError> {
    let r = &config.readings;
    for (key, day) in [
        ("readings.window_from_day", r.window_from_day),
        ("readings.window_to_day", r.window_to_day),
    ] {
        if !(1..=31).contains(&day) {
            return Err(invalid(
                key,
                format!("{day} is not a day of the month"),
                "use 1–31",
            ));
        }
    }
    if !(-12..=14).contains(&r.utc_offset_hours) {
        return Err(invalid(
            "readings.utc_offset_hours",
            format!("{} is not a time zone offset", r.utc_offset_hours),
            "use -12–14, e.g. 3 for Moscow",
        ));
    }
    validate_requests(&config.requests)?;
    if config.gis.sync_hour > 23 {
        return Err(invalid(
            "gis.sync_hour",
            format!("{} is not an hour", config.gis.sync_hour),
            "use 0–23",
        ));
    }
    if config.max.launch_max_age_seconds == 0 || config.max.session_hours == 0 {
        return Err(invalid(
            "max.launch_max_age_seconds",
            "launch data and sessions must live longer than 0",
            "use the defaults 3600 and 12 (max.session_hours)",
        ));
    }
    if config.storage.pool_size == 0 {
        return Err(invalid(
            "storage.pool_size",
            "0 connections",
            "use 2 or more",
        ));
    }
    let secret = config.max.webhook_secret.expose();
    if !secret.is_empty()
        && (secret.len() < 5
            || secret.len() > 256
            || !secret
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    {
        return Err(invalid(
            "max.webhook_secret",
            "MAX accepts 5–256 characters of A-Z a-z 0-9 _ -",
            "generate one with `openssl rand -hex 32`",
        ));
    }
    let url = &config.server.public_url;
    if !(url.is_empty() || url.starts_with("https://") || url.starts_with("http://")) {
        return Err(invalid(
            "server.public_url",
            "not an http(s) address",
            "use the address residents reach, e.g. https://dom.example.ru",
        ));
    }
    if !valid_log_filter(&config.log.level) {
        return Err(invalid(
            "log.level",
            format!("`{}` is not a log level or filter", config.log.level),
            "use error, warn, info, debug or trace, or e.g. info,gosdom::jobs=debug",
        ));
    }
    if config.mode == Mode::Production {
        validate_production(config)?;
    }
    Ok(())
}

fn validate_requests(r: &Requests) -> Result<(), ConfigError> {
    if !(-12..=14).contains(&r.utc_offset_hours) {
        return Err(invalid(
            "requests.utc_offset_hours",
            format!("{} is not a UTC offset", r.utc_offset_hours),
            "use -12…14, e.g. 3 for Moscow",
        ));
    }
    let date = time::macros::format_description!("[year]-[month]-[day]");
    for (key, days) in [
        ("requests.extra_holidays", &r.extra_holidays),
        ("requests.extra_working_days", &r.extra_working_days),
    ] {
        if let Some(bad) = days.iter().find(|d| time::Date::parse(d, &date).is_err()) {
            return Err(invalid(
                key,
                format!("`{bad}` is not a date"),
                "write dates as \"YYYY-MM-DD\", e.g. [\"2027-11-05\"]",
            ));
        }
    }
    Ok(())
}

/// A level, or comma-separated `target=level` directives.
fn valid_log_filter(filter: &str) -> bool {
    const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
    !filter.trim().is_empty()
        && filter.split(',').all(|directive| {
            let level = directive.rsplit('=').next().unwrap_or("").trim();
            let target_ok = match directive.split_once('=') {
                Some((target, _)) => !target.trim().is_empty(),
                None => true,
            };
            target_ok && LEVELS.contains(&level.to_ascii_lowercase().as_str())
        })
        && tracing_subscriber::EnvFilter::try_new(filter).is_ok()
}

/// Production needs every connector configured: nothing may silently stay simulated.
fn validate_production(config: &Config) -> Result<(), ConfigError> {
    let required: [(&str, bool, &str); 6] = [
        (
            "server.public_url",
            config.server.public_url.starts_with("https://"),
            "set the public https:// address MAX reaches",
        ),
        (
            "max.token",
            !config.max.token.is_empty(),
            "paste the bot token from the MAX business cabinet, or use max.token_file",
        ),
        (
            "max.webhook_secret",
            !config.max.webhook_secret.is_empty() || config.max.mode == MaxMode::Polling,
            "generate one with `openssl rand -hex 32`",
        ),
        (
            "esia.base_url",
            !config.esia.base_url.is_empty() && !config.esia.client_id.is_empty(),
            "set esia.base_url and esia.client_id from your ЕСИА registration",
        ),
        (
            "gis.base_url",
            !config.gis.base_url.is_empty() && !config.gis.org_ppa_guid.is_empty(),
            "set gis.base_url and gis.org_ppa_guid from your ГИС ЖКХ registration",
        ),
        (
            "gis.signer.kind",
            config.gis.signer.kind != SignerKind::None
                && config.esia.signer.kind != SignerKind::None,
            "configure [gis.signer] and [esia.signer] (openssl, command or http)",
        ),
    ];
    for (key, ok, fix) in required {
        if !ok {
            return Err(invalid(key, "required in production mode", fix));
        }
    }
    Ok(())
}

impl Config {
    /// The address residents and MAX reach, without a trailing slash.
    pub fn public_url(&self) -> String {
        if self.server.public_url.is_empty() {
            format!("http://{}:{}", self.server.address, self.server.port)
        } else {
            self.server.public_url.trim_end_matches('/').to_string()
        }
    }

    pub fn is_sandbox(&self) -> bool {
        self.mode == Mode::Sandbox
    }

    /// The effective configuration as TOML, every non-empty secret shown as `***`.
    pub fn masked_toml(&self) -> String {
        let mut copy = self.clone();
        for secret in [
            &mut copy.server.secret_key,
            &mut copy.max.token,
            &mut copy.max.webhook_secret,
            &mut copy.registry.snils_key,
        ] {
            if !secret.is_empty() {
                *secret = Secret::new("***");
            }
        }
        toml::to_string(&copy).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_follow_the_section_and_key() {
        assert_eq!(env_name("server.port"), "GOSDOM_SERVER__PORT");
        assert_eq!(env_name("gis.signer.kind"), "GOSDOM_GIS__SIGNER__KIND");
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("token-123");
        assert_eq!(format!("{s:?} {s}"), "*** ***");
    }

    #[test]
    fn unknown_keys_are_found_at_any_depth() {
        let value: toml::Value = toml::from_str(
            "mode = 'sandbox'\nprot = 1\n[server]\nport = 1\nprot = 2\n[gis.signer]\nkind='none'\nkey = 'x'\n[nope]\na = 1",
        )
        .unwrap();
        let mut found = unknown_keys(&value);
        found.sort();
        assert_eq!(found, ["gis.signer.key", "nope", "prot", "server.prot"]);
    }
}
