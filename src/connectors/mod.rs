//! Connectors to outside systems. Each sits behind a trait with a real client (ureq, base
//! URL from config) and an in-process sandbox.

pub mod esia;
pub mod gis;
pub mod max;
pub mod registry;
pub mod signer;
