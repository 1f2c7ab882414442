//! MAX messenger: mini-app launch data (and, with the bot, the Bot API client).

pub mod launch;
