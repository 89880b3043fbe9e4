//! The one harness every integration test shares (`mod support;`):
//!
//! - [`server`]: loopback servers — the recording [`server::TestServer`], a refusing port, a
//!   silent server, hostile raw servers and a TLS server;
//! - [`bin`]: the built binary with one scrubbed environment;
//! - [`workspace`]: a temporary suites folder to run it in;
//! - [`process`]: running it to the end, or spawned, signalled and reaped under a deadline;
//! - [`browser`]: headless Chromium on a local page: its DOM and screenshots.
//! - [`prometheus`]: real Prometheus and Pushgateway on free loopback ports, and `promtool`.
//! - [`tls`]: HTTPS servers with a certificate for a name (`example.test`) from a test CA,
//!   optionally asking for a client certificate.
//!
//! Every server listens on 127.0.0.1 only, and every command gets `NO_PROXY` for loopback, so no
//! test sends a packet off the machine. Nothing waits on a fixed sleep: each wait is for an event
//! (a request arriving, a line on stderr, the process ending) under a generous deadline.

// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

pub mod bin;
pub mod browser;
pub mod process;
pub mod prometheus;
pub mod server;
pub mod tls;
pub mod workspace;

use serde_json::Value;

/// The check named `name` in a JSON report.
#[track_caller]
pub fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["suites"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["checks"].as_array().into_iter().flatten())
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name:?} in the report: {report:#}"))
}

/// A check's failure messages, joined.
pub fn failures(check: &Value) -> String {
    check["failures"]
        .as_array()
        .map(|f| f.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" | "))
        .unwrap_or_default()
}
