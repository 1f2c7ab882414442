//! Where ownership comes from. Every source answers the same question — which premises
//! does this person own — through the [`Registry`] trait:
//! - [`local::LocalRegister`]: the УО's owners register in the database (imported from CSV
//!   with `gosdom import`, or loaded from ГИС ЖКХ);
//! - [`http::HttpGateway`]: an operator's ЕГРН gateway (`registry.kind = "http"`);
//! - the sandbox gateway (`crate::sandbox::registry`), for `kind = "http"` without a `url`
//!   in sandbox mode.
//!
//! Errors are [`RegistryError`]; the caller decides whether a failed source stops sign-in
//! (it does not: the local register still answers).

pub mod http;
pub mod import;
pub mod local;

use std::sync::Arc;

use rusqlite::Connection;

use crate::config::Config;

/// What a source may use to find a person. Hashes are keyed with `registry.snils_key`;
/// the plain values are only handed to an outside gateway, never stored.
#[derive(Clone, Debug, Default)]
pub struct PersonKeys {
    pub snils_hash: Option<String>,
    pub name_birth_hash: Option<String>,
    pub snils: Option<String>,
    pub full_name: String,
    /// `YYYY-MM-DD`.
    pub birth_date: Option<String>,
}

/// How a source names a premise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PremiseRef {
    Id(i64),
    Cadastral(String),
    HouseAndNumber { house_guid: String, number: String },
}

/// One premise the person owns, per a source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ownership {
    pub premise: PremiseRef,
    /// Share as written in the register: `1`, `1/2`, `0.25`.
    pub share: String,
    /// `property_links.proof`: `owners_register` or `registry`.
    pub proof: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("database: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("registry gateway: {0}")]
    Gateway(String),
}

impl From<rusqlite::Error> for RegistryError {
    fn from(e: rusqlite::Error) -> Self {
        RegistryError::Store(e.into())
    }
}

/// A source of ownership.
pub trait Registry: Send + Sync {
    /// A short name for logs.
    fn name(&self) -> &'static str;

    /// Premises `person` owns. Blocking: call it off the async runtime.
    fn owned_premises(
        &self,
        conn: &Connection,
        person: &PersonKeys,
    ) -> Result<Vec<Ownership>, RegistryError>;
}

/// The configured sources, the local register first.
pub fn sources(config: &Config) -> Vec<Arc<dyn Registry>> {
    let mut out: Vec<Arc<dyn Registry>> = vec![Arc::new(local::LocalRegister)];
    if config.registry.kind == "http" {
        if !config.registry.url.is_empty() {
            out.push(Arc::new(http::HttpGateway::new(&config.registry.url)));
        } else if config.is_sandbox() {
            out.push(Arc::new(crate::sandbox::registry::SandboxGateway));
        }
    }
    out
}
