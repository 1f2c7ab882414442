//! The rules of the service, over the store, with no HTTP in sight.

pub mod announcements;
pub mod chats;
pub mod console;
pub mod notifications;
pub mod people;
pub mod properties;
pub mod readings;
pub mod requests;
pub mod sessions;
pub mod signin;
