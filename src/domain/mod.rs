//! The rules of the service, over the store, with no HTTP in sight.

pub mod console;
pub mod people;
