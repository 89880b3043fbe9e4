//! SLA mode through the binary (spec 2.2, 4.2): samples, availability compared unrounded,
//! per-sample `latency` counting against availability, percentile limits, `--samples` skipping
//! non-idempotent checks, per-check `concurrency`, and the JSON figures.
//!
//! Functional, never timed: failing patterns come from an atomic request counter on an in-process
//! server on 127.0.0.1 (request k % 20 == 0 fails, ...), never from randomness or wall-clock
//! targets. The only durations used are deliberate, large server-side delays.

use assert_cmd::Command;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

/// What the server has seen.
#[derive(Default)]
struct Seen {
    /// Requests per route.
    ok: AtomicUsize,
    fail_last_of_50: AtomicUsize,
    fail_1_in_20: AtomicUsize,
    slow_1_in_10: AtomicUsize,
    gets: AtomicUsize,
    posts: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    in_flight_done: AtomicUsize,
}

type Shared = Arc<Seen>;

/// Request k (1-based) of a route.
fn next(counter: &AtomicUsize) -> usize {
    counter.fetch_add(1, SeqCst) + 1
}

async fn ok(State(s): State<Shared>) -> &'static str {
    next(&s.ok);
    "ok"
}

/// The 50th request fails: exactly 1 of 50 samples.
async fn fail_last_of_50(State(s): State<Shared>) -> (StatusCode, &'static str) {
    if next(&s.fail_last_of_50).is_multiple_of(50) {
        (StatusCode::SERVICE_UNAVAILABLE, "down")
    } else {
        (StatusCode::OK, "ok")
    }
}

/// Every 20th request fails: 5%.
async fn fail_1_in_20(State(s): State<Shared>) -> (StatusCode, &'static str) {
    if next(&s.fail_1_in_20).is_multiple_of(20) {
        (StatusCode::SERVICE_UNAVAILABLE, "down")
    } else {
        (StatusCode::OK, "ok")
    }
}

/// Every 10th request answers after 300 ms.
async fn slow_1_in_10(State(s): State<Shared>) -> &'static str {
    if next(&s.slow_1_in_10).is_multiple_of(10) {
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    "ok"
}

/// Every request answers after 60 ms.
async fn slow_all() -> &'static str {
    tokio::time::sleep(Duration::from_millis(60)).await;
    "ok"
}

async fn counted_get(State(s): State<Shared>) -> &'static str {
    next(&s.gets);
    "ok"
}

async fn counted_post(State(s): State<Shared>) -> (StatusCode, &'static str) {
    next(&s.posts);
    (StatusCode::CREATED, "created")
}

/// Holds each request 40 ms and records the most requests in flight at once.
async fn in_flight(State(s): State<Shared>) -> &'static str {
    let now = s.in_flight.fetch_add(1, SeqCst) + 1;
    s.max_in_flight.fetch_max(now, SeqCst);
    tokio::time::sleep(Duration::from_millis(40)).await;
    s.in_flight.fetch_sub(1, SeqCst);
    s.in_flight_done.fetch_add(1, SeqCst);
    "ok"
}

/// Starts a server on 127.0.0.1:0 on its own runtime thread; returns its base URL and counters.
fn server() -> (String, Shared) {
    let seen: Shared = Arc::default();
    let app = Router::new()
        .route("/ok", get(ok))
        .route("/fail-last-of-50", get(fail_last_of_50))
        .route("/fail-1-in-20", get(fail_1_in_20))
        .route("/slow-1-in-10", get(slow_1_in_10))
        .route("/slow-all", get(slow_all))
        .route("/counted", get(counted_get).post(counted_post))
        .route("/in-flight", get(in_flight))
        .with_state(seen.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    (format!("http://127.0.0.1:{port}"), seen)
}

/// A suites folder holding one suite.
fn suite(yaml: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sla.yaml");
    std::fs::write(&path, yaml).unwrap();
    (dir, path)
}

/// The binary against `base`, with nothing of the caller's environment that could change it.
fn run(base: &str, suite: &PathBuf, extra: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::cargo_bin("endpoint-check").unwrap();
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if name.starts_with("ENDPOINT_CHECK_") || name == "CI" || name == "GITHUB_ACTIONS" {
            cmd.env_remove(&name);
        }
    }
    cmd.env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .arg("localhost")
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
    assert_eq!(seen.ok.load(SeqCst), 50);
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
    assert_eq!(seen.fail_last_of_50.load(SeqCst), 50);
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
    let (base, _) = server();
    let (_dir, path) = suite(&yaml("95"));
    let (code, stdout, stderr) = run(&base, &path, &[]);
    assert_eq!(code, 0, "95% of 95% must pass:\n{stdout}\n{stderr}");
    assert!(
        line_of(&stdout, "flaky").contains("(100 samples, 95.0% ok,"),
        "{stdout}"
    );

    let (base, _) = server();
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
    let (base, _) = server();
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
    assert_eq!(seen.slow_1_in_10.load(SeqCst), 20);
    let re = regex::Regex::new(
        r"availability 90\.0% < 100% \(2 of 20 samples failed: expected latency <= 150 ms, took [^)]+\)",
    )
    .unwrap();
    assert!(re.is_match(&stdout), "{stdout}");
}

#[test]
fn a_broken_percentile_limit_says_which_and_by_how_much() {
    let (base, _) = server();
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
    assert_eq!(seen.posts.load(SeqCst), 1, "POST is not idempotent: sent once");
    assert_eq!(seen.gets.load(SeqCst), 5);
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
    let max = seen.max_in_flight.load(SeqCst);
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
    let max = seen.max_in_flight.load(SeqCst);
    assert!(
        (1..=3).contains(&max),
        "{max} requests in flight at once with -j 3"
    );
}

#[test]
fn json_report_carries_samples_availability_and_latency_figures() {
    let (base, _) = server();
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
    use std::process::Stdio;
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
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_endpoint-check"));
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if name.starts_with("ENDPOINT_CHECK_") || name == "CI" || name == "GITHUB_ACTIONS" {
            cmd.env_remove(&name);
        }
    }
    let mut child = cmd
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .arg("localhost")
        .arg("--suites")
        .arg(&path)
        .args(["--base-url", &base, "--yes", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // 1000 samples two at a time take 20 s; interrupt once a few have been answered.
    for _ in 0..500 {
        if seen.in_flight_done.load(SeqCst) >= 6 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut waited = 0;
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        assert!(waited < 500, "still running 10 s after SIGINT");
        waited += 1;
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
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
