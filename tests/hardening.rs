//! Hardening (docs/behaviour.md, "Guarantees"): the built binary against loopback servers made to misbehave, signals,
//! load, secrets and redirects. It must never hang, panic, lie or leak.
//!
//! Every test talks to 127.0.0.1 only: servers bind 127.0.0.1:0, the binary runs with proxies
//! unset and `NO_PROXY=127.0.0.1,localhost`, and the one host name that is not an address (the
//! over-long label) is refused by the runner before any lookup. Nothing waits on a fixed sleep:
//! each wait is for an event (a request arriving, a line on stderr, the process ending) under a
//! generous deadline.
//!
//! Memory: the binary's peak resident set is its `VmHWM`, polled from `/proc` while it runs (see
//! `support/process.rs`), so "memory stays bounded" is measured, not guessed; the 1 GiB server also
//! counts what it managed to send, which shows the reader stopped at the cap.

// Signals, /proc and rlimits: Linux, as CI is.
#![cfg(target_os = "linux")]

mod support;

use std::ffi::OsStr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use support::process::{Run, Running};
use support::server::{self as servers, RefusingPort, Reply, SilentServer, TestServer};
use support::workspace::Workspace;
use support::{check, failures};

/// The well-behaved server the healthy checks talk to: the kit's built-in routes, with `/ok`
/// answering plain `ok` and `/count` answering `ok` after a few milliseconds (long enough for two
/// overlapping requests to be seen overlapping).
fn app() -> TestServer {
    app_on(0)
}

fn app_on(workers: usize) -> TestServer {
    TestServer::builder()
        .route("/ok", Reply::text("ok"))
        .route("/count", Reply::text("ok").delay(Duration::from_millis(2)))
        .workers(workers)
        .start()
}

/// A suites folder holding `suite.yaml`.
fn suite_dir(yaml: &str) -> Workspace {
    Workspace::new(&[("suite.yaml", yaml)])
}

/// The binary with these arguments, from the suites folder's workspace, no colors.
fn endpoint_check<I, S>(dir: &Workspace, args: I) -> std::process::Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = dir.std_cmd();
    cmd.args(args);
    cmd
}

/// Generous bound for a run whose checks all time out after 1 s.
const QUICK: Duration = Duration::from_secs(20);

/// A suite with one healthy check (`/ok` on the app) and the hostile check given as YAML lines.
fn suite_with(hostile_check: &str) -> String {
    format!(
        r#"customer: hostile
title: Hostile servers
checks:
  - name: healthy
    request: {{ path: /ok }}
    expect: {{ status: 200, body: ok }}
{hostile_check}
"#
    )
}

/// Runs the suite against `app` and checks the contract of a hostile failure: exit 1, the
/// healthy check passed, the hostile check failed with every one of `causes` in its message
/// (in the JSON report and on stdout), no panic, and the run ended within `within`.
fn run_hostile(
    app: &TestServer,
    hostile_check: &str,
    causes: &[&str],
    within: Duration,
) -> (Run, serde_json::Value) {
    let dir = suite_dir(&suite_with(hostile_check));
    let run = Running::spawn(endpoint_check(&dir, dir.report_args(&app.url()))).wait(within);
    assert_eq!(run.code, Some(1), "expected exit 1:\n{run}");
    assert!(
        !run.stderr.contains("panicked") && !run.stderr.contains("crashed"),
        "{run}"
    );
    let report = dir.report();
    assert_eq!(check(&report, "healthy")["status"], "passed", "{run}");
    let hostile = check(&report, "hostile");
    assert_eq!(hostile["status"], "failed", "{run}");
    let message = failures(hostile);
    for cause in causes {
        assert!(
            message.to_lowercase().contains(&cause.to_lowercase()),
            "the failure should name {cause:?}, got {message:?}\n{run}"
        );
        assert!(
            run.stdout.to_lowercase().contains(&cause.to_lowercase()),
            "stdout should name {cause:?}\n{run}"
        );
    }
    eprintln!(
        "hostile check failed as it should, in {:?}: {message}",
        run.elapsed
    );
    (run, report)
}

fn url_check(url: &str, extra: &str) -> String {
    format!("  - name: hostile\n    timeout: 1s\n    request: {{ url: \"{url}\" }}\n{extra}")
}

// ---------------------------------------------------------------------------------------------
// 1. Hostile servers
// ---------------------------------------------------------------------------------------------

#[test]
fn connection_refused_fails_the_check_and_names_it() {
    let app = app();
    let closed = RefusingPort::new();
    run_hostile(
        &app,
        &url_check(&format!("{}/", closed.url()), ""),
        &["connection refused"],
        QUICK,
    );
}

#[test]
fn a_server_that_never_answers_times_out() {
    let app = app();
    let silent = SilentServer::new();
    let addr = silent.addr();
    let (_, report) = run_hostile(
        &app,
        &url_check(&format!("http://{addr}/"), ""),
        &["timed out after 1 s"],
        QUICK,
    );
    let ms = check(&report, "hostile")["duration_ms"].as_f64().unwrap();
    assert!((900.0..10_000.0).contains(&ms), "took {ms} ms");
}

#[test]
fn the_timeout_covers_a_dripping_body() {
    // Headers come at once; the 1000-byte body would take 100 s.
    let app = app();
    let server = servers::dripping();
    let addr = server.addr;
    let (run, _) = run_hostile(
        &app,
        &url_check(&format!("http://{addr}/"), ""),
        &["timed out after 1 s"],
        QUICK,
    );
    assert!(run.elapsed < Duration::from_secs(15), "{run}");
}

#[test]
fn a_reset_in_the_middle_of_the_body_is_named() {
    let app = app();
    let server = servers::resetting();
    let addr = server.addr;
    run_hostile(
        &app,
        &url_check(&format!("http://{addr}/"), ""),
        &["reset", "body"],
        QUICK,
    );
}

#[test]
fn a_1_gib_body_is_cut_at_10_mib_with_bounded_memory() {
    let app = app();
    let (server, written) = servers::huge();
    let addr = server.addr;
    let check_yaml =
        format!("  - name: hostile\n    timeout: 30s\n    request: {{ url: \"http://{addr}/\" }}\n");
    let (run, _) = run_hostile(&app, &check_yaml, &["10 MiB"], Duration::from_secs(60));
    // The reader stopped at the cap: the server got nowhere near 1 GiB out (socket buffers
    // hold a few MiB at most).
    let out = written.load(Ordering::SeqCst);
    assert!(
        out < 128 << 20,
        "the server wrote {out} bytes: the body was drained"
    );
    eprintln!(
        "1 GiB body: the server got {out} bytes out; peak RSS {} KiB",
        run.max_rss_kib
    );
    // Peak memory of the whole process: nowhere near the 1 GiB on offer.
    assert!(
        run.max_rss_kib < 200 * 1024,
        "peak RSS {} KiB for a 1 GiB body\n{run}",
        run.max_rss_kib
    );
}

#[test]
fn a_gzip_bomb_fails_on_its_decoded_size() {
    let app = app();
    let bomb = servers::gzip_zeros(64 << 20);
    assert!(
        bomb.len() < 1 << 20,
        "the bomb is small on the wire: {} bytes",
        bomb.len()
    );
    let server = servers::gzip_server(bomb);
    let addr = server.addr;
    let (run, _) = run_hostile(
        &app,
        &url_check(&format!("http://{addr}/"), ""),
        &["decoded", "10 MiB"],
        QUICK,
    );
    assert!(
        run.max_rss_kib < 200 * 1024,
        "peak RSS {} KiB\n{run}",
        run.max_rss_kib
    );
}

/// A brotli or zstd bomb (README, "Guarantees"): decoded as a stream under the cap, so the check
/// fails naming the decoded limit and memory stays far below what the body would decode to.
fn a_bomb_fails_on_its_decoded_size(encoding: &'static str) {
    let app = app();
    let bomb = servers::zeros_encoded(encoding, 64 << 20);
    assert!(
        bomb.len() < 1 << 20,
        "the {encoding} bomb is small on the wire: {} bytes",
        bomb.len()
    );
    let wire = bomb.len();
    let server = servers::encoded_server(encoding, bomb);
    let addr = server.addr;
    let (run, _) = run_hostile(
        &app,
        &url_check(&format!("http://{addr}/"), ""),
        &["decoded", "10 MiB"],
        QUICK,
    );
    assert!(
        run.max_rss_kib < 200 * 1024,
        "{encoding}: peak RSS {} KiB\n{run}",
        run.max_rss_kib
    );
    eprintln!(
        "{encoding} bomb: 64 MiB of zeros in {wire} bytes; peak RSS {} KiB",
        run.max_rss_kib
    );
}

#[test]
fn a_brotli_bomb_fails_on_its_decoded_size() {
    a_bomb_fails_on_its_decoded_size("br");
}

#[test]
fn a_zstd_bomb_fails_on_its_decoded_size() {
    a_bomb_fails_on_its_decoded_size("zstd");
}

#[test]
fn garbage_instead_of_http_is_named() {
    let app = app();
    let server = servers::garbage();
    let addr = server.addr;
    run_hostile(
        &app,
        &url_check(&format!("http://{addr}/"), ""),
        &["invalid HTTP response"],
        QUICK,
    );
}

#[test]
fn a_redirect_loop_is_cut() {
    let app = app();
    run_hostile(
        &app,
        &url_check(&format!("{}/loop", app.url()), "    follow_redirects: true\n"),
        &["too many redirects"],
        QUICK,
    );
    let hops = app.hits("/loop");
    assert_eq!(hops, 11, "the first request and 10 redirects, no more");
}

#[test]
fn a_self_signed_certificate_fails_unless_insecure() {
    let app = app();
    let server = servers::self_signed_tls();
    let addr = server.addr;
    let tls_check = url_check(&format!("https://{addr}/"), "    expect: { body: secure }\n");
    run_hostile(&app, &tls_check, &["TLS", "certificate"], QUICK);

    let dir = suite_dir(&suite_with(&tls_check));
    let mut args = dir.report_args(&app.url());
    args.push("--insecure".into());
    let run = Running::spawn(endpoint_check(&dir, args)).wait(QUICK);
    assert_eq!(run.code, Some(0), "--insecure accepts the certificate:\n{run}");
    assert_eq!(check(&dir.report(), "hostile")["status"], "passed");
    assert!(
        run.stderr.contains("warning") && run.stderr.contains("--insecure"),
        "--insecure warns on stderr:\n{run}"
    );
}

#[test]
fn an_over_long_host_label_fails_before_any_lookup() {
    // 70 characters: more than DNS allows in one label (63). The runner refuses it itself, so
    // no resolver (nor proxy) is ever asked; the message says so. `.invalid` (RFC 6761) as a
    // second guard.
    let app = app();
    let host = format!("{}.invalid", "a".repeat(70));
    run_hostile(
        &app,
        &url_check(&format!("http://{host}/"), ""),
        &["DNS", "63 characters", "no lookup"],
        QUICK,
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Signals
// ---------------------------------------------------------------------------------------------

/// The notice printed on the first signal; tests wait for it before acting again.
const STOP_NOTICE: &str = "interrupted";

#[test]
fn sigint_stops_new_requests_lets_in_flight_finish_and_reports() {
    // -j 1: `a` and `b` both wait for `fast`, then one holds the only slot while the other waits
    // for it. After SIGINT, the one in flight may finish (it is released within the grace), but
    // the waiting one must never be sent.
    let app = app();
    let arrivals = app.hold_arrivals();
    let dir = suite_dir(
        r#"customer: signals
checks:
  - name: fast
    request: { path: /ok }
  - name: a
    needs: [fast]
    timeout: 60s
    request: { path: /hold/a }
  - name: b
    needs: [fast]
    timeout: 60s
    request: { path: /hold/b }
"#,
    );
    let mut args = dir.report_args(&app.url());
    args.extend(["-j".into(), "1".into()]);
    let running = Running::spawn(endpoint_check(&dir, args));
    let first = arrivals
        .recv_timeout(Duration::from_secs(30))
        .expect("a held request arrives");
    running.signal(libc::SIGINT);
    assert!(
        running.wait_stderr(STOP_NOTICE, Duration::from_secs(10)),
        "the first signal is acknowledged on stderr"
    );
    // The run has stopped starting requests: let the one in flight finish inside the grace.
    app.release_holds();
    let run = running.wait(Duration::from_secs(20));
    assert_eq!(run.code, Some(130), "{run}");
    let held: Vec<String> = app.held();
    assert_eq!(
        held,
        vec![first.clone()],
        "no request was sent after the signal:\n{run}"
    );
    assert!(run.stdout.contains("✓ fast"), "{run}");
    assert!(
        run.stdout.contains("Interrupted by SIGINT"),
        "the summary is printed:\n{run}"
    );
    let report = dir.report();
    assert_eq!(check(&report, "fast")["status"], "passed");
    assert_eq!(check(&report, &first)["status"], "passed", "{run}");
    let other = if first == "a" { "b" } else { "a" };
    assert_eq!(check(&report, other)["status"], "skipped", "{run}");
    assert_eq!(check(&report, other)["skip_reason"], "interrupted", "{run}");
}

#[test]
fn sigterm_cuts_requests_in_flight_after_the_grace() {
    let app = app();
    let arrivals = app.hold_arrivals();
    let dir = suite_dir(
        r#"customer: signals
checks:
  - name: fast
    request: { path: /ok }
  - name: slow
    needs: [fast]
    timeout: 60s
    request: { path: /hold/slow }
"#,
    );
    let running = Running::spawn(endpoint_check(&dir, dir.report_args(&app.url())));
    arrivals
        .recv_timeout(Duration::from_secs(30))
        .expect("the slow request arrives");
    let signalled = Instant::now();
    running.signal(libc::SIGTERM);
    let run = running.wait(Duration::from_secs(30));
    let after = signalled.elapsed();
    assert_eq!(run.code, Some(143), "{run}");
    // The request in flight got its 2 s, and no more than a generous margin over them (it
    // would hold for 30 s).
    assert!(
        after >= Duration::from_millis(1900),
        "cut after {after:?}, before the grace ended"
    );
    assert!(after < Duration::from_secs(10), "cut after {after:?}");
    assert!(run.stdout.contains("✓ fast"), "{run}");
    assert!(run.stdout.contains("Interrupted by SIGTERM"), "{run}");
    let report = dir.report();
    assert_eq!(check(&report, "fast")["status"], "passed");
    assert_eq!(check(&report, "slow")["status"], "skipped");
    assert_eq!(check(&report, "slow")["skip_reason"], "interrupted");
}

#[test]
fn after_a_signal_samples_in_flight_finish_and_no_new_sample_goes_out() {
    let app = app();
    let arrivals = app.hold_arrivals();
    let dir = suite_dir(
        r#"customer: signals
checks:
  - name: sampled
    samples: 6
    timeout: 60s
    request: { path: /hold/sample }
"#,
    );
    let mut args = dir.report_args(&app.url());
    args.extend(["-j".into(), "2".into()]);
    let running = Running::spawn(endpoint_check(&dir, args));
    for _ in 0..2 {
        arrivals
            .recv_timeout(Duration::from_secs(30))
            .expect("two samples in flight");
    }
    running.signal(libc::SIGINT);
    assert!(running.wait_stderr(STOP_NOTICE, Duration::from_secs(10)));
    app.release_holds();
    let run = running.wait(Duration::from_secs(20));
    assert_eq!(run.code, Some(130), "{run}");
    assert_eq!(app.held().len(), 2, "no sample after the signal:\n{run}");
    let sampled = check(&dir.report(), "sampled").clone();
    assert_eq!(sampled["samples"], 2, "both samples in flight counted: {sampled}");
    assert!(
        failures(&sampled).contains("only 2 of 6 samples ran"),
        "{sampled}"
    );
}

#[test]
fn a_signal_during_a_retry_backoff_sends_no_more_attempts() {
    // `retries: 5` waits 200, 400, 800 ms… between attempts. The signal comes 300 ms after the
    // third attempt was answered, well inside the 800 ms backoff that follows it: the fourth
    // attempt must not go out, and the last answer is what the check reports.
    let app = app();
    let (server, answered, count) = servers::failing(Duration::from_millis(300));
    let addr = server.addr;
    let dir = suite_dir(&suite_with(&format!(
        "  - name: hostile\n    retries: 5\n    request: {{ url: \"http://{addr}/flaky\" }}\n"
    )));
    let running = Running::spawn(endpoint_check(&dir, dir.report_args(&app.url())));
    for attempt in 1..=3 {
        answered
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("attempt {attempt} arrives"));
    }
    running.signal(libc::SIGINT);
    let run = running.wait(Duration::from_secs(20));
    assert_eq!(run.code, Some(130), "{run}");
    assert_eq!(
        count.load(Ordering::SeqCst),
        3,
        "no attempt after the signal:\n{run}"
    );
    let report = dir.report();
    assert_eq!(check(&report, "healthy")["status"], "passed");
    let hostile = check(&report, "hostile");
    assert_eq!(hostile["status"], "failed", "{run}");
    assert!(failures(hostile).contains("500"), "{run}");
}

#[test]
fn a_second_signal_exits_at_once() {
    let app = app();
    let arrivals = app.hold_arrivals();
    let dir = suite_dir(
        r#"customer: signals
checks:
  - name: slow
    timeout: 60s
    request: { path: /hold/slow }
"#,
    );
    let running = Running::spawn(endpoint_check(&dir, dir.report_args(&app.url())));
    arrivals
        .recv_timeout(Duration::from_secs(30))
        .expect("the slow request arrives");
    let first = Instant::now();
    running.signal(libc::SIGINT);
    assert!(running.wait_stderr(STOP_NOTICE, Duration::from_secs(10)));
    running.signal(libc::SIGINT);
    let run = running.wait(Duration::from_secs(30));
    let after = first.elapsed();
    assert_eq!(run.code, Some(130), "{run}");
    // Well before the 2 s grace would have ended, and without writing the reports.
    assert!(
        after < Duration::from_millis(1500),
        "exited {after:?} after the first signal"
    );
    assert!(
        !run.stdout.contains("Interrupted by"),
        "no summary after the second signal:\n{run}"
    );
    assert!(!dir.json_path().exists(), "no report after the second signal");
}

#[test]
fn a_signal_during_the_countdown_sends_nothing() {
    let app = app();
    let dir =
        suite_dir("customer: signals\nchecks:\n  - name: never\n    request: { path: /record/never }\n");
    let mut args: Vec<String> = dir
        .report_args(&app.url())
        .into_iter()
        .filter(|a| a != "--yes")
        .collect();
    args.extend(["--delay".into(), "60s".into()]);
    let running = Running::spawn(endpoint_check(&dir, args));
    // The countdown has begun once it has said so.
    assert!(
        running.wait_stderr("Press Ctrl-C", Duration::from_secs(20)),
        "the countdown starts"
    );
    running.signal(libc::SIGINT);
    let run = running.wait(Duration::from_secs(20));
    assert_eq!(run.code, Some(130), "{run}");
    assert!(app.recorded().is_empty(), "no request was sent");
}

// ---------------------------------------------------------------------------------------------
// 4. Load
// ---------------------------------------------------------------------------------------------

/// 100 000 in a release build (`cargo test --release --test hardening`); a debug build spends
/// most of its time in unoptimized HTTP code, so it sends 20 000 to keep this file near a minute.
const LOAD_SAMPLES: usize = if cfg!(debug_assertions) { 20_000 } else { 100_000 };

/// Runs the binary with at most 1024 open files, the usual default soft limit.
fn with_nofile_1024(mut cmd: std::process::Command) -> std::process::Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: setrlimit is async-signal-safe, and the closure touches nothing else.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 1024,
                rlim_max: 1024,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd
}

#[test]
fn many_samples_at_j256_all_succeed_with_bounded_resources() {
    let app = app_on(2);
    let dir = suite_dir(
        r#"customer: load
checks:
  - name: load
    request: { path: /count }
    expect: { status: 200, body: ok }
"#,
    );
    let mut args = dir.report_args(&app.url());
    args.extend([
        "-j".into(),
        "256".into(),
        "--samples".into(),
        LOAD_SAMPLES.to_string(),
    ]);
    let run = Running::spawn(with_nofile_1024(endpoint_check(&dir, args))).wait(Duration::from_secs(120));
    assert_eq!(run.code, Some(0), "{run}");
    let all = run.all_output().to_lowercase();
    assert!(!all.contains("too many open files"), "{run}");
    let report = dir.report();
    let load = check(&report, "load");
    assert_eq!(load["samples"], LOAD_SAMPLES, "{load}");
    assert_eq!(load["availability"], 100.0, "{load}");
    assert_eq!(app.answered("/count"), LOAD_SAMPLES);
    let max = app.max_in_flight();
    assert!(max <= 256, "{max} requests in flight at once with -j 256");
    assert!(run.max_rss_kib < 256 * 1024, "peak RSS {} KiB", run.max_rss_kib);
    eprintln!(
        "load: {LOAD_SAMPLES} samples at -j 256 in {:?}, at most {max} in flight, peak RSS {} KiB",
        run.elapsed, run.max_rss_kib
    );
}

#[test]
fn j1_sends_one_request_at_a_time_across_checks_and_suites() {
    let app = app_on(2);
    let suite = |customer: &str| {
        format!(
            r#"customer: {customer}
checks:
  - name: sampled
    samples: 40
    request: {{ path: /count }}
  - name: single
    request: {{ path: /count }}
  - name: sampled with its own concurrency
    samples: 20
    concurrency: 8
    request: {{ path: /count }}
"#
        )
    };
    let dir = suite_dir(&suite("one"));
    dir.write("two.yaml", &suite("two"));
    let mut args = dir.report_args(&app.url());
    args.extend(["-j".into(), "1".into()]);
    let run = Running::spawn(endpoint_check(&dir, args)).wait(Duration::from_secs(60));
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(app.answered("/count"), 2 * (40 + 1 + 20));
    assert_eq!(app.max_in_flight(), 1, "-j 1 never has two requests in flight");
}

// ---------------------------------------------------------------------------------------------
// 5. Secrets
// ---------------------------------------------------------------------------------------------

const TOKEN: &str = "tok-9f8e7d6c5b4a";

/// Runs with every output switched on (-vv, JSON and JUnit files, GitHub annotations and step
/// summary) and asserts `secrets` appear in none of them.
fn assert_no_leak(
    app: &TestServer,
    suite: &str,
    env: &[(&str, &str)],
    secrets: &[&str],
) -> (Run, serde_json::Value) {
    let dir = suite_dir(suite);
    let summary = dir.path().join("summary.md");
    let mut args = dir.report_args(&app.url());
    args.extend([
        "-vv".into(),
        "--junit".into(),
        dir.junit_path().display().to_string(),
    ]);
    let mut cmd = endpoint_check(&dir, args);
    cmd.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let run = Running::spawn(cmd).wait(QUICK);
    assert_ne!(run.code, Some(0), "{run}");
    let files: Vec<(String, String)> = [dir.json_path(), dir.junit_path(), summary]
        .iter()
        .filter_map(|p| Some((p.display().to_string(), std::fs::read_to_string(p).ok()?)))
        .collect();
    for secret in secrets {
        assert!(
            !run.stdout.contains(secret),
            "{secret:?} leaked on stdout:\n{run}"
        );
        assert!(
            !run.stderr.contains(secret),
            "{secret:?} leaked on stderr:\n{run}"
        );
        for (path, text) in &files {
            assert!(!text.contains(secret), "{secret:?} leaked into {path}:\n{text}");
        }
    }
    let report = std::fs::read_to_string(dir.json_path())
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null);
    (run, report)
}

#[test]
fn a_secret_in_a_url_that_fails_to_parse_is_masked() {
    let app = app();
    let suite = suite_with(
        r#"  - name: hostile
    request: { url: "http://[${API_TOKEN}" }"#,
    );
    let (run, report) = assert_no_leak(&app, &suite, &[("API_TOKEN", TOKEN)], &[TOKEN]);
    assert_eq!(run.code, Some(1), "{run}");
    assert_eq!(check(&report, "healthy")["status"], "passed", "{run}");
    let message = failures(check(&report, "hostile"));
    assert!(
        message.contains(r#"invalid URL "http://[***""#),
        "{message}\n{run}"
    );
    assert!(run.stdout.contains(r#"invalid URL "http://[***""#), "{run}");
}

#[test]
fn a_secret_in_a_request_that_times_out_is_masked() {
    let app = app();
    let silent = SilentServer::new();
    let addr = silent.addr();
    let suite = suite_with(&format!(
        r#"  - name: hostile
    timeout: 1s
    request:
      url: "http://{addr}/never/${{API_TOKEN}}?key=${{API_TOKEN}}"
      headers:
        authorization: "Bearer ${{API_TOKEN}}"
        x-api-key: "${{API_TOKEN}}"
        x-plain: "${{API_TOKEN}}""#
    ));
    let (run, report) = assert_no_leak(&app, &suite, &[("API_TOKEN", TOKEN)], &[TOKEN]);
    assert_eq!(run.code, Some(1), "{run}");
    assert_eq!(check(&report, "healthy")["status"], "passed");
    assert!(failures(check(&report, "hostile")).contains("timed out"), "{run}");
}

#[test]
fn a_secret_that_the_url_percent_encodes_is_masked_too() {
    // Base64-ish keys hold `+`, `/` and `=`; in `query:` they go out form-encoded
    // (`%2B`, `%2F`, `%3D`), and a space in a path as `%20`. The encoded form is the same secret.
    let app = app();
    let secret = "Zm9v+YmFy/YmF6 cXV4==";
    let suite = suite_with(
        r#"  - name: hostile
    request:
      path: "/record/${API_KEY}"
      query: { key: "${API_KEY}" }
    expect: { status: 418 }"#,
    );
    let encoded = [
        "Zm9v%2BYmFy%2FYmF6+cXV4%3D%3D",
        "Zm9v%2BYmFy%2FYmF6%20cXV4%3D%3D",
        "Zm9v+YmFy/YmF6%20cXV4==",
    ];
    let mut all = vec![secret];
    all.extend(encoded);
    let (run, _) = assert_no_leak(&app, &suite, &[("API_KEY", secret)], &all);
    assert_eq!(run.code, Some(1), "{run}");
}

/// Runs in a child copy of this test binary (see `a_panic_message_is_masked`): installs the
/// tool's panic hook with a known secret, then panics with it.
#[test]
fn panic_child() {
    let Ok(secret) = std::env::var("HARDENING_PANIC_SECRET") else {
        return; // an ordinary run: nothing to do
    };
    let redactor = endpoint_check::redact::Redactor::new();
    redactor.add(&secret);
    endpoint_check::redact::install_panic_hook(redactor);
    panic!("boom: the token is {secret}");
}

#[test]
fn a_panic_message_is_masked() {
    let exe = std::env::current_exe().expect("this test binary");
    let mut child = std::process::Command::new(exe);
    let out = support::bin::scrub(&mut child)
        .args(["--exact", "panic_child", "--nocapture", "--test-threads=1"])
        .env("HARDENING_PANIC_SECRET", TOKEN)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("run the child test");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "the child panicked");
    assert!(
        stderr.contains("boom: the token is ***"),
        "the hook printed the masked message:\n{stderr}"
    );
    assert!(!stderr.contains(TOKEN), "panic message leaked:\n{stderr}");
    assert!(!stdout.contains(TOKEN), "panic message leaked:\n{stdout}");
}

// ---------------------------------------------------------------------------------------------
// 6. Redirects
// ---------------------------------------------------------------------------------------------

const CREDENTIALS: &[(&str, &str)] = &[
    ("authorization", "Bearer redirect-token"),
    ("cookie", "session=redirect-cookie"),
    ("x-api-key", "redirect-key"),
    ("proxy-authorization", "Basic cmVkaXJlY3Q="),
    ("x-vercel-protection-bypass", "redirect-bypass"),
];

fn redirect_suite(url: &str) -> String {
    let headers: String = CREDENTIALS
        .iter()
        .map(|(n, v)| format!("        {n}: \"{v}\"\n"))
        .collect();
    format!(
        r#"customer: redirects
checks:
  - name: follow
    follow_redirects: true
    request:
      url: "{url}"
      headers:
{headers}        x-trace: keep-me
    expect: {{ status: 200, body: recorded }}
"#
    )
}

#[test]
fn a_redirect_to_another_origin_drops_credentials() {
    let first = app();
    let other = app();
    let target = format!("{}/record/landing", other.url());
    let dir = suite_dir(&redirect_suite(&format!("{}/redirect?to={target}", first.url())));
    let run = Running::spawn(endpoint_check(&dir, dir.report_args(&first.url()))).wait(QUICK);
    assert_eq!(run.code, Some(0), "{run}");
    let sent = first
        .recorded_on("/redirect")
        .into_iter()
        .next()
        .expect("the first hop arrived");
    for (name, value) in CREDENTIALS {
        assert_eq!(sent.header(name), Some(*value), "first hop has {name}");
    }
    let landed = other
        .recorded_on("/record/landing")
        .into_iter()
        .next()
        .expect("the redirect was followed to the other origin");
    for (name, _) in CREDENTIALS {
        assert!(
            landed.header(name).is_none(),
            "{name} was sent to another origin: {landed:?}"
        );
    }
    assert_eq!(landed.header("x-trace"), Some("keep-me"));
}

#[test]
fn a_same_origin_redirect_keeps_credentials() {
    let app = app();
    let dir = suite_dir(&redirect_suite(&format!(
        "{}/redirect?to=/record/same",
        app.url()
    )));
    let run = Running::spawn(endpoint_check(&dir, dir.report_args(&app.url()))).wait(QUICK);
    assert_eq!(run.code, Some(0), "{run}");
    let landed = app
        .recorded_on("/record/same")
        .into_iter()
        .next()
        .expect("the redirect was followed");
    for (name, value) in CREDENTIALS {
        assert_eq!(landed.header(name), Some(*value), "{name} kept");
    }
}

#[test]
fn a_hop_back_to_the_first_origin_sends_credentials_again() {
    let first = app();
    let other = app();
    // A → B → A: B must not see the credentials, A's second hop must.
    let back = format!("{}/record/back", first.url());
    let via_other = format!("{}/redirect?to={back}", other.url());
    let dir = suite_dir(&redirect_suite(&format!(
        "{}/redirect?to={via_other}",
        first.url()
    )));
    let run = Running::spawn(endpoint_check(&dir, dir.report_args(&first.url()))).wait(QUICK);
    assert_eq!(run.code, Some(0), "{run}");
    let at_other = other
        .recorded_on("/redirect")
        .into_iter()
        .next()
        .expect("the hop to the other origin arrived");
    for (name, _) in CREDENTIALS {
        assert!(
            at_other.header(name).is_none(),
            "{name} was sent to the other origin"
        );
    }
    assert_eq!(at_other.header("x-trace"), Some("keep-me"));
    let landed = first
        .recorded_on("/record/back")
        .into_iter()
        .next()
        .expect("the redirect back to the first origin was followed");
    for (name, value) in CREDENTIALS {
        assert_eq!(
            landed.header(name),
            Some(*value),
            "{name} sent again at the first origin"
        );
    }
}
