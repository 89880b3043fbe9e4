//! `rate:` and `--rate` through the binary (docs/suites.md#rate): samples sent open-loop on a
//! schedule, latency counted from each sample's due time (a stalled server is not hidden by the
//! client waiting for it), and the "rate not reached" failure.

mod support;

use std::time::Duration;
use support::server::{Reply, TestServer};
use support::workspace::Workspace;

/// `/stall-closed` and `/stall-open` stall their first request 500 ms; `/slow` takes 50 ms.
fn server() -> TestServer {
    let stall_once = |_: &support::server::Recorded, k: usize| {
        let ok = Reply::text("ok");
        if k == 1 {
            ok.delay(Duration::from_millis(500))
        } else {
            ok
        }
    };
    TestServer::builder()
        .route_fn("/stall-closed", stall_once)
        .route_fn("/stall-open", stall_once)
        .route("/slow", Reply::text("ok").delay(Duration::from_millis(50)))
        .route("/ok", Reply::text("ok"))
        .start()
}

fn p90(report: &serde_json::Value, check: &str) -> f64 {
    support::check(report, check)["latency_ms"]["p90"]
        .as_f64()
        .unwrap_or_else(|| panic!("no p90 for {check}: {report:#}"))
}

#[test]
fn a_stall_under_a_rate_shows_in_the_tail_as_seen_from_the_schedule() {
    let server = server();
    let ws = Workspace::suite(
        r#"
customer: rate
checks:
  - name: closed loop
    request: { path: /stall-closed }
    samples: 50
    concurrency: 1
  - name: open loop
    request: { path: /stall-open }
    samples: 50
    concurrency: 1
    rate: 50/s
"#,
    );
    let run = ws.run(&server, &["--json", "report.json", "-j", "1"]);
    run.code(0);
    let report = ws.report();
    // Closed loop: one slow sample of 50, the rest fast: the p90 does not see the stall.
    assert!(p90(&report, "closed loop") < 200.0, "{report:#}");
    // Open loop: the samples due during the stall waited for it, and their latency says so.
    assert!(p90(&report, "open loop") > 200.0, "{report:#}");
    assert_eq!(server.hits("/stall-open"), 50);
    // Only the check under a rate reports one.
    assert!(
        support::check(&report, "closed loop")["rate"].is_null(),
        "{report:#}"
    );
    assert_eq!(
        support::check(&report, "open loop")["rate"]["asked_per_second"],
        50.0
    );
}

#[test]
fn a_rate_the_server_cannot_carry_is_not_reached() {
    let server = server();
    let ws = Workspace::suite(
        "customer: rate\nchecks:\n  - name: too fast\n    request: { path: /slow }\n    samples: 10\n    concurrency: 1\n    rate: 1000/s\n",
    );
    let run = ws.run(&server, &[]);
    run.code(1).stdout_has("rate 1000/s not reached: ");
}

#[test]
fn the_flag_sets_the_rate_of_every_sampled_check_and_spaces_the_samples() {
    let server = server();
    let ws = Workspace::suite(
        "customer: rate\nchecks:\n  - name: paced\n    request: { path: /ok }\n    samples: 11\n    rate: 1000/s\n",
    );
    let run = ws.run(&server, &["--rate", "20/s", "--json", "report.json"]);
    run.code(0);
    let report = ws.report();
    // 11 samples at 20/s: the last is due 500 ms after the first, so the check cannot be faster.
    let took = support::check(&report, "paced")["duration_ms"].as_f64().unwrap();
    assert!(took >= 500.0, "{took} ms: {report:#}");
    assert_eq!(server.hits("/ok"), 11);
    // The flag's rate is the one asked, and the achieved rate is reported beside it.
    let rate = &support::check(&report, "paced")["rate"];
    assert_eq!(rate["asked_per_second"], 20.0, "{report:#}");
    let achieved = rate["achieved_per_second"].as_f64().unwrap();
    // The achieved rate is the samples sent over the span from the first due time to the last
    // send: 11 samples over 500 ms is 22/s (docs/suites.md#rate).
    assert!((18.0..=22.5).contains(&achieved), "{achieved}/s: {report:#}");
    run.stdout_has("/s sent");
}

#[test]
fn a_bad_rate_is_a_usage_or_suite_error_before_any_request() {
    let server = server();
    let ws = Workspace::suite(
        "customer: rate\nchecks:\n  - name: paced\n    request: { path: /ok }\n    samples: 5\n    rate: fast\n",
    );
    ws.run(&server, &[]).code(2).stderr_has("invalid rate \"fast\"");
    let ws = Workspace::ping();
    ws.run(&server, &["--rate", "0/s"])
        .code(2)
        .stderr_has("invalid rate");
    assert_eq!(server.requests(), 0);
}
