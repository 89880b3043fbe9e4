//! Reports that combine (docs/merge.md): what a report carries, `merge`, and baselines — the
//! built binary against loopback servers.

mod support;

use endpoint_check::stats::LatencyHistogram;
use serde_json::Value;
use std::path::{Path, PathBuf};
use support::process::Run;
use support::server::{Reply, TestServer};
use support::workspace::Workspace;
use support::{check, failures};

const SLA_SUITE: &str = "\
customer: acme
checks:
  - name: GET /sla
    request: { path: /sla }
    samples: 100
    expect: { status: 200, availability: 99.9, latency: { p95: 2s } }
";

/// A run of `ws` against `server` from `region`, its JSON report written to `DIR/<region>.json`.
fn run_region(ws: &Workspace, server: &TestServer, region: &str, extra: &[&str]) -> (Run, PathBuf) {
    let path = ws.path().join(format!("{region}.json"));
    let p = path.display().to_string();
    let mut args = vec!["--region", region, "--json", &p];
    args.extend_from_slice(extra);
    (ws.run(server, &args), path)
}

fn merge(ws: &Workspace, args: &[&str]) -> Run {
    let mut cmd = ws.cmd();
    cmd.args(["merge", "--color", "never"]).args(args);
    Run::of(&mut cmd)
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("report written")).expect("report parses")
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn a_report_carries_region_run_id_histogram_and_sla() {
    let server = TestServer::answering(200);
    let ws = Workspace::suite(SLA_SUITE);
    let (run, path) = run_region(&ws, &server, "eu-west", &[]);
    run.code(0);
    let report = json(&path);
    assert_eq!(report["version"], 1);
    assert_eq!(report["region"], "eu-west");
    assert!(report["run_id"].as_str().unwrap().starts_with("run-"));
    let started = report["started_at"].as_str().unwrap();
    assert!(started.ends_with('Z') && started.contains('T'), "{started}");
    let c = check(&report, "GET /sla");
    assert_eq!(c["passed_samples"], 100);
    assert_eq!(c["histogram"]["encoding"], "hdr-v2-deflate-base64");
    assert_eq!(c["histogram"]["unit"], "us");
    assert_eq!(
        c["sla"],
        serde_json::json!({"availability": 99.9, "latency_ms": {"p95": 2000.0}})
    );
    // Without --region the field is there, null.
    let plain = ws.path().join("plain.json");
    ws.run(&server, &["--json", &s(&plain)]).code(0);
    assert!(json(&plain)["region"].is_null());
}

#[test]
fn a_histogram_round_trips_bit_for_bit() {
    let server = TestServer::answering(200);
    let ws = Workspace::suite(SLA_SUITE);
    let (run, path) = run_region(&ws, &server, "a", &[]);
    run.code(0);
    let data = check(&json(&path), "GET /sla")["histogram"]["data"]
        .as_str()
        .unwrap()
        .to_string();
    let h = LatencyHistogram::decode(&data).expect("any HdrHistogram reader reads it");
    assert_eq!(h.len(), 100);
    assert_eq!(h.encode(), data);
    // A merge of one report writes the same histogram back.
    let merged = ws.path().join("merged.json");
    merge(&ws, &[&s(&path), "--json", &s(&merged)]).code(0);
    assert_eq!(
        check(&json(&merged), "GET /sla")["histogram"]["data"],
        data.as_str()
    );
}

#[test]
fn merging_copies_of_one_report_leaves_every_percentile_unchanged() {
    let server = TestServer::builder()
        .route_fn("/sla", |_, n| {
            Reply::status(200).delay(std::time::Duration::from_millis((n % 7) as u64 * 3))
        })
        .start();
    let ws = Workspace::suite(SLA_SUITE);
    let (run, path) = run_region(&ws, &server, "a", &[]);
    run.code(0);
    let (one, three) = (ws.path().join("one.json"), ws.path().join("three.json"));
    merge(&ws, &[&s(&path), "--json", &s(&one)]).code(0);
    let p = s(&path);
    merge(&ws, &[&p, &p, &p, "--json", &s(&three)]).code(0);
    let (one, three) = (json(&one), json(&three));
    let (a, b) = (check(&one, "GET /sla"), check(&three, "GET /sla"));
    assert_eq!(a["latency_ms"], b["latency_ms"]);
    assert_eq!(b["samples"], 300);
    assert_eq!(b["passed_samples"], 300);
    // And they are the report's own percentiles to the histogram's 3 significant digits.
    let own = check(&json(&path), "GET /sla")["latency_ms"].clone();
    for k in ["p50", "p90", "p95", "p99", "max"] {
        let (x, y) = (own[k].as_f64().unwrap(), b["latency_ms"][k].as_f64().unwrap());
        assert!((x - y).abs() <= x * 0.001 + 0.1, "{k}: {x} vs {y}");
    }
}

#[test]
fn a_99_and_a_100_percent_region_fail_a_99_9_sla_naming_the_region() {
    let flaky = TestServer::builder()
        .route_fn("/sla", |_, n| Reply::status(if n == 50 { 503 } else { 200 }))
        .start();
    let healthy = TestServer::answering(200);
    let ws = Workspace::suite(SLA_SUITE);
    let (run, us) = run_region(&ws, &flaky, "us-east", &[]);
    run.code(1);
    let (run, eu) = run_region(&ws, &healthy, "eu-west", &[]);
    run.code(0);
    let out = ws.path().join("merged.json");
    let run = merge(&ws, &[&s(&eu), &s(&us), "--json", &s(&out)]);
    run.code(1)
        .stdout_has("Merged: 2 reports (regions eu-west, us-east)")
        .stdout_has("eu-west 100.0%, us-east 99.0% (1 of 100 failed: expected status 200, got 503)");
    let line = run.check_line("GET /sla");
    assert!(
        line.starts_with('✗') && line.contains("200 samples, 99.5% ok"),
        "{line}"
    );
    let merged = json(&out);
    assert!(merged["region"].is_null());
    assert_eq!(merged["regions"], serde_json::json!(["eu-west", "us-east"]));
    let c = check(&merged, "GET /sla");
    assert_eq!(c["status"], "failed");
    assert_eq!(c["samples"], 200);
    assert_eq!(c["passed_samples"], 199);
    assert!(
        failures(c).contains("availability 99.5% < 99.9%"),
        "{}",
        failures(c)
    );
    // TAP and JUnit come from the same merged report.
    merge(&ws, &[&s(&eu), &s(&us), "--format", "tap"])
        .code(1)
        .stdout_has("not ok 1");
}

#[test]
fn a_check_in_only_some_reports_says_in_how_many() {
    let server = TestServer::answering(200);
    let ws = Workspace::suite(SLA_SUITE);
    let (_, a) = run_region(&ws, &server, "a", &[]);
    let (_, b) = run_region(&ws, &server, "b", &[]);
    ws.write(
        "api.yaml",
        &format!("{SLA_SUITE}  - name: GET /extra\n    request: {{ path: /extra }}\n    samples: 10\n"),
    );
    let (_, c) = run_region(&ws, &server, "c", &[]);
    let run = merge(&ws, &[&s(&a), &s(&b), &s(&c)]);
    run.code(0);
    assert!(
        run.check_line("GET /extra").contains("1 of 3 reports"),
        "{}",
        run.stdout
    );
    assert!(!run.check_line("GET /sla").contains("reports"), "{}", run.stdout);
}

#[test]
fn merge_refuses_what_is_not_a_report_of_one_environment() {
    let server = TestServer::answering(200);
    let ws = Workspace::suite(SLA_SUITE);
    let (_, a) = run_region(&ws, &server, "a", &[]);
    merge(&ws, &["missing.json"])
        .code(2)
        .stderr_has("cannot read report missing.json");
    let junk = ws.write_file("junk.json", "[1, 2]");
    merge(&ws, &[&s(&junk)])
        .code(2)
        .stderr_has("not an endpoint-check JSON report");
    let text = std::fs::read_to_string(&a).unwrap();
    let v2 = ws.write_file("v2.json", &text.replacen("\"version\": 1", "\"version\": 2", 1));
    merge(&ws, &[&s(&v2)]).code(2).stderr_has("a report of version 2");
    let staging = ws.write_file(
        "staging.json",
        &text.replacen(
            "\"environment\": \"localhost\"",
            "\"environment\": \"staging\"",
            1,
        ),
    );
    merge(&ws, &[&s(&a), &s(&staging)])
        .code(2)
        .stderr_has("the reports name different environments");
}

const BASELINE_SUITE: &str = "\
customer: acme
checks:
  - name: GET /api
    request: { path: /api }
    samples: 20
    expect: { status: 200, regression: { p95: 20% } }
";

#[test]
fn a_baseline_shows_the_change_and_gates_on_regression() {
    let fast = TestServer::answering(200);
    let slow = TestServer::builder()
        .route(
            "/api",
            Reply::status(200).delay(std::time::Duration::from_millis(150)),
        )
        .start();
    let ws = Workspace::suite(BASELINE_SUITE);
    let (run, base) = run_region(&ws, &fast, "prod", &[]);
    run.code(0)
        .stdout_has("regression limits not judged: no --baseline");
    let (run, now) = run_region(&ws, &slow, "preview", &["--baseline", &s(&base)]);
    run.code(1).stdout_has("vs baseline)");
    let now_report = json(&now);
    let c = check(&now_report, "GET /api");
    assert!(failures(c).contains("p95"), "{}", failures(c));
    assert!(failures(c).contains("above the baseline's"), "{}", failures(c));
    assert!(c["baseline"]["p95"].as_f64().is_some(), "{c}");
    // The same as a gate on a merge; and a baseline that is faster passes.
    merge(&ws, &[&s(&now), "--baseline", &s(&base)]).code(1);
    merge(&ws, &[&s(&base), "--baseline", &s(&now)])
        .code(0)
        .stdout_has("vs baseline)");
}

#[test]
fn a_bad_baseline_exits_2_before_any_request() {
    let server = TestServer::answering(200);
    let ws = Workspace::suite(BASELINE_SUITE);
    ws.run(&server, &["--baseline", "nope.json"])
        .code(2)
        .stderr_has("--baseline: cannot read report nope.json");
    let junk = ws.write_file("junk.json", "{}");
    ws.run(&server, &["--baseline", &s(&junk)]).code(2);
    assert_eq!(server.requests(), 0);
}

#[test]
fn max_regression_applies_to_checks_without_their_own() {
    let fast = TestServer::answering(200);
    let slow = TestServer::builder()
        .route(
            "/api",
            Reply::status(200).delay(std::time::Duration::from_millis(150)),
        )
        .start();
    // 150 ms against a loopback baseline of a few: a regression even on a loaded machine.
    let ws = Workspace::suite(&BASELINE_SUITE.replace(", regression: { p95: 20% }", ""));
    let (_, base) = run_region(&ws, &fast, "prod", &[]);
    let (run, _) = run_region(&ws, &slow, "preview", &["--baseline", &s(&base)]);
    run.code(0).stdout_lacks("regression limits not judged");
    let (run, _) = run_region(
        &ws,
        &slow,
        "preview",
        &["--baseline", &s(&base), "--max-regression", "50%"],
    );
    run.code(1);
}
