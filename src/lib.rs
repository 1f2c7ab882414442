//! gosdom: the «Госуслуги Дом» service for the MAX messenger, as one self-hosted binary.

pub mod app;
pub mod bot;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod connectors;
pub mod domain;
pub mod jobs;
pub mod keys;
pub mod logging;
pub mod output;
pub mod sandbox;
pub mod server;
pub mod staff_cli;
pub mod store;
pub mod web;
