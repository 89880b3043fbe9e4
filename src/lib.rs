//! endpoint-check: a command-line endpoint test runner and SLA checker.
//!
//! Data flows one way: suites → plan → results → reports. `main.rs` only parses arguments and
//! maps the outcome to an exit code; everything else lives here so tests can call it directly.

pub mod app;
pub mod assert;
pub mod baseline;
pub mod cli;
pub mod contract;
pub mod duration;
pub mod env;
pub mod error;
pub mod exit;
pub mod fixture;
pub mod http;
pub mod interrupt;
pub mod merge;
pub mod monitor;
pub mod rate;
pub mod redact;
pub mod report;
pub mod run;
pub mod stats;
pub mod suggest;
pub mod suite;
pub mod vars;
pub mod yaml;
