//! The rules of the service, over the store, with no HTTP in sight.

pub mod console;
pub mod people;
pub mod properties;
pub mod readings;
pub mod requests;
pub mod sessions;
pub mod signin;
