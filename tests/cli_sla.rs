//! SLA mode through the binary (docs/assertions.md, docs/suites.md#samples-and-sla): samples, availability compared unrounded,
//! per-sample `latency` counting against availability, percentile limits, `--samples` skipping
//! non-idempotent checks, per-check `concurrency`, and the JSON figures.
//!
//! Functional, never timed: failing patterns come from an atomic request counter on an in-process
//! server on 127.0.0.1 (request k % 20 == 0 fails, ...), never from randomness or wall-clock
//! targets. The only durations used are deliberate, large server-side delays.

mod support;

use std::path::PathBuf;
use std::time::Duration;
use support::process::Running;
use support::server::{Reply, TestServer};
use support::workspace::Workspace;

/// Starts the SLA server on 127.0.0.1:0 (two worker threads); returns its base URL and the
/// server, which counts what it has seen. Request k (1-based) of a route decides its answer:
///
/// - `/ok`: 200 `ok`;
/// - `/fail-last-of-50`: the 50th request fails (503): exactly 1 of 50 samples;
/// - `/fail-1-in-20`: every 20th request fails: 5%;
/// - `/slow-1-in-10`: every 10th request answers after 300 ms;
/// - `/slow-all`: every request answers after 60 ms;
/// - `/counted`: GET 200 `ok`, POST 201 `created`;
/// - `/in-flight`: holds each request 40 ms (the server records the most in flight at once).
fn server() -> (String, TestServer) {
    let down_every = |n: usize| {
        move |_: &support::server::Recorded, k: usize| {
            if k.is_multiple_of(n) {
                Reply::text("down").with_status(503)
            } else {
                Reply::text("ok")
            }
        }
    };
    let server = TestServer::builder()
        .route("/ok", Reply::text("ok"))
        .route_fn("/fail-last-of-50", down_every(50))
        .route_fn("/fail-1-in-20", down_every(20))
        .route_fn("/slow-1-in-10", |_, k| {
            let ok = Reply::text("ok");
            if k.is_multiple_of(10) {
                ok.delay(Duration::from_millis(300))
            } else {
                ok
            }
        })
        .route("/slow-all", Reply::text("ok").delay(Duration::from_millis(60)))
        .route_fn("/counted", |r, _| {
            if r.method == "POST" {
                Reply::text("created").with_status(201)
            } else {
                Reply::text("ok")
            }
        })
        .route("/in-flight", Reply::text("ok").delay(Duration::from_millis(40)))
        .workers(2)
        .start();
    (server.url(), server)
}

/// Requests with this method received on `/counted`.
fn counted(server: &TestServer, method: &str) -> usize {
    server
        .recorded_on("/counted")
        .iter()
        .filter(|r| r.method == method)
        .count()
}

/// A suites folder holding one suite; the suite file's path.
fn suite(yaml: &str) -> (Workspace, PathBuf) {
    let ws = Workspace::new(&[("sla.yaml", yaml)]);
    let path = ws.suites().join("sla.yaml");
    (ws, path)
}

/// The binary against `base`, with nothing of the caller's environment that could change it.
fn run(base: &str, suite: &PathBuf, extra: &[&str]) -> (i32, String, String) {
    let mut cmd = support::bin::endpoint_check();
    cmd.arg("localhost")
        .arg("--suites")
        .arg(suite)
        .args(["--base-url", base, "--color", "never", "--yes"])
        .args(extra)
        .timeout(Duration::from_secs(60));
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The summary line of check `name`, e.g. `✓ name (50 samples, 100.0% ok, p50 …)`.
fn line_of<'a>(stdout: &'a str, name: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.contains(&format!(" {name} (")))
        .unwrap_or_else(|| panic!("no line for {name:?} in:\n{stdout}"))
}

fn figures_re() -> regex::Regex {
    regex::Regex::new(r"\((\d+) samples, (\d+\.\d)% ok, p50 (<1|\d+) ms, p95 (<1|\d+) ms, p99 (<1|\d+) ms\)")
        .unwrap()
}

#[test]
fn summary_line_carries_samples_availability_and_percentiles() {
    let (base, seen) = server();
    let (_dir, path) = suite(
        r#"
customer: sla
checks:
  - name: healthy
    request: { path: /ok }
    samples: 50
    expect: { status: 200, availability: 99.9 }
"#,
    );
    let (code, stdout, stderr) = run(&base, &path, &[]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let line = line_of(&stdout, "healthy");
    assert!(line.contains('✓'), "{line}");
    let caps = figures_re()
        .captures(line)
        .unwrap_or_else(|| panic!("no SLA figures in {line:?}"));
    assert_eq!(&caps[1], "50");
    assert_eq!(&caps[2], "100.0");
    assert_eq!(seen.hits("/ok"), 50);
}

#[test]
fn one_failure_in_50_is_98_percent_compared_unrounded() {
    let (base, seen) = server();
    let (_dir, path) = suite(
        r#"
customer: sla
checks:
  - name: nearly
    request: { path: /fail-last-of-50 }
    samples: 50
    expect: { status: 200, availability: 99.9 }
"#,
    );
    let (code, stdout, stderr) = run(&base, &path, &[]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert_eq!(seen.hits("/fail-last-of-50"), 50);
    let line = line_of(&stdout, "nearly");
    assert!(line.contains('✗'), "{line}");
    assert!(line.contains("(50 samples, 98.0% ok,"), "{line}");
    assert!(
        stdout.contains("availability 98.0% < 99.9% (1 of 50 samples failed: expected status 200, got 503)"),
        "{stdout}"
    );
}

#[test]
fn one_in_20_failing_passes_95_and_fails_99_9() {
    let yaml = |availability: &str| {
        format!(
            r#"
customer: sla
checks:
  - name: flaky
    request: {{ path: /fail-1-in-20 }}
    samples: 100
    expect: {{ status: 200, availability: {availability} }}
"#
        )
    };
    let (base, _server) = server();
    let (_dir, path) = suite(&yaml("95"));
    let (code, stdout, stderr) = run(&base, &path, &[]);
    assert_eq!(code, 0, "95% of 95% must pass:\n{stdout}\n{stderr}");
    assert!(
        line_of(&stdout, "flaky").contains("(100 samples, 95.0% ok,"),
        "{stdout}"
    );

    let (base, _server) = server();
    let (_dir, path) = suite(&yaml("99.9"));
    let (code, stdout, stderr) = run(&base, &path, &[]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "availability 95.0% < 99.9% (5 of 100 samples failed: expected status 200, got 503 ×5)"
        ),
        "{stdout}"
    );
}

#[test]
fn plain_latency_fails_slow_samples_and_counts_against_availability() {
    let yaml = |availability: &str| {
        format!(
            r#"
customer: sla
checks:
  - name: mostly fast
    request: {{ path: /slow-1-in-10 }}
    samples: 20
    expect: {{ latency: 150ms, availability: {availability} }}
"#
        )
    };
    let (base, _server) = server();
    let (_dir, path) = suite(&yaml("80"));
    let (code, stdout, stderr) = run(&base, &path, &[]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        line_of(&stdout, "mostly fast").contains("(20 samples, 90.0% ok,"),
        "{stdout}"
    );

    let (base, seen) = server();
    let (_dir, path) = suite(&yaml("100"));
    let (code, stdout, stderr) = run(&base, &path, &[]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert_eq!(seen.hits("/slow-1-in-10"), 20);
    let re = regex::Regex::new(
        r"availability 90\.0% < 100% \(2 of 20 samples failed: expected latency <= 150 ms, took [^)]+\)",
    )
    .unwrap();
    assert!(re.is_match(&stdout), "{stdout}");
}

#[test]
fn a_broken_percentile_limit_says_which_and_by_how_much() {
    let (base, _server) = server();
    let (_dir, path) = suite(
        r#"
customer: sla
checks:
  - name: slow tail
    request: { path: /slow-all }
    samples: 10
    expect: { latency: { p50: 5s, p95: 20ms } }
"#,
    );
    let (code, stdout, stderr) = run(&base, &path, &[]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let line = line_of(&stdout, "slow tail");
    assert!(
        line.contains("(10 samples, 100.0% ok,"),
        "every sample answered: {line}"
    );
    let re = regex::Regex::new(r"(?m)^\s+p95 (\d+) ms > 20 ms$").unwrap();
    let caps = re.captures(&stdout).unwrap_or_else(|| panic!("{stdout}"));
    assert!(caps[1].parse::<u64>().unwrap() >= 60, "{stdout}");
    let p50_broken = regex::Regex::new(r"p50 \S+ ms >").unwrap();
    assert!(
        !p50_broken.is_match(&stdout),
        "p50 holds, so only p95 is reported:\n{stdout}"
    );
}

#[test]
fn samples_flag_skips_non_idempotent_checks() {
    let (base, seen) = server();
    let (_dir, path) = suite(
        r#"
customer: sla
checks:
  - name: write
    request: { method: POST, path: /counted, json: { a: 1 } }
    expect: { status: 201 }
  - name: read
    request: { path: /counted }
    expect: { status: 200 }
"#,
    );
    let (code, stdout, stderr) = run(&base, &path, &["--samples", "5"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(counted(&seen, "POST"), 1, "POST is not idempotent: sent once");
    assert_eq!(counted(&seen, "GET"), 5);
    assert!(
        line_of(&stdout, "read").contains("(5 samples, 100.0% ok,"),
        "{stdout}"
    );
    assert!(!line_of(&stdout, "write").contains("samples"), "{stdout}");
}

#[test]
fn per_check_concurrency_bounds_samples_in_flight() {
    let (base, seen) = server();
    let (_dir, path) = suite(
        r#"
customer: sla
checks:
  - name: gentle
    request: { path: /in-flight }
    samples: 12
    concurrency: 2
"#,
    );
    let (code, stdout, stderr) = run(&base, &path, &["-j", "32"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let max = seen.max_in_flight();
    assert!((1..=2).contains(&max), "{max} samples in flight at once");
}

#[test]
fn global_limit_bounds_samples_in_flight() {
    let (base, seen) = server();
    let (_dir, path) = suite(
        r#"
customer: sla
checks:
  - name: one
    request: { path: /in-flight }
    samples: 12
  - name: two
    request: { path: /in-flight }
    samples: 12
"#,
    );
    let (code, stdout, stderr) = run(&base, &path, &["-j", "3"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let max = seen.max_in_flight();
    assert!(
        (1..=3).contains(&max),
        "{max} requests in flight at once with -j 3"
    );
}

#[test]
fn json_report_carries_samples_availability_and_latency_figures() {
    let (base, _server) = server();
    let (_dir, path) = suite(
        r#"
customer: sla
checks:
  - name: flaky
    request: { path: /fail-1-in-20 }
    samples: 40
    expect: { status: 200, availability: 90 }
  - name: single
    request: { path: /ok }
"#,
    );
    let (code, stdout, stderr) = run(&base, &path, &["--format", "json"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let checks = &doc["suites"][0]["checks"];
    let flaky = &checks[0];
    assert_eq!(flaky["name"], "flaky");
    assert_eq!(flaky["status"], "passed");
    assert_eq!(flaky["samples"], 40);
    assert_eq!(flaky["availability"].as_f64(), Some(95.0));
    let l = &flaky["latency_ms"];
    let figure = |k: &str| {
        l[k].as_f64()
            .unwrap_or_else(|| panic!("latency_ms.{k} missing: {l}"))
    };
    let order = ["min", "p50", "p90", "p95", "p99", "max"].map(figure);
    assert!(order.windows(2).all(|w| w[0] <= w[1]), "{l}");
    assert!(order[0] > 0.0, "{l}");
    let single = &checks[1];
    assert_eq!(single["samples"], 1);
    assert_eq!(single["availability"].as_f64(), Some(100.0));
    assert!(single["latency_ms"]["p99"].is_number(), "{single}");
}

/// Ctrl-C while a check is sampling: the samples in flight are dropped, the check reports the
/// ones that finished, and the run exits 130 with its report.
#[cfg(unix)]
#[test]
fn an_interrupted_sampling_check_reports_the_samples_that_ran() {
    let (base, seen) = server();
    let (_dir, path) = suite(
        r#"
customer: sla
checks:
  - name: long
    request: { path: /in-flight }
    samples: 1000
    concurrency: 2
"#,
    );
    let mut cmd = support::bin::endpoint_check_std();
    cmd.arg("localhost")
        .arg("--suites")
        .arg(&path)
        .args(["--base-url", &base, "--yes", "--format", "json"]);
    let running = Running::spawn(cmd);
    // 1000 samples two at a time take 20 s; interrupt once a few have been answered.
    seen.wait_until(Duration::from_secs(10), "six samples answered", |s| {
        s.answered("/in-flight") >= 6
    });
    running.signal(libc::SIGINT);
    let sent = std::time::Instant::now();
    let out = running.wait(Duration::from_secs(60));
    assert!(
        sent.elapsed() < Duration::from_secs(10),
        "still running 10 s after SIGINT"
    );
    let (code, stdout) = (out.code, out.stdout);
    assert_eq!(code, Some(130), "{stdout}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let check = &doc["suites"][0]["checks"][0];
    let ran = check["samples"].as_u64().unwrap();
    assert!((1..1000).contains(&ran), "{check}");
    let failures = check["failures"].to_string();
    assert!(
        failures.contains(&format!(
            "only {ran} of 1000 samples ran before the run was stopped"
        )),
        "{check}"
    );
}
