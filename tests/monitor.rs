//! Monitor mode through the binary (docs/monitor.md): rounds, the window, the round and change
//! lines, JSON Lines, webhooks (a loopback receiver in the test) and signals.

mod support;

use serde_json::Value;
use std::time::{Duration, Instant};
use support::process::{Run, Running};
use support::server::{Recorded, Reply, SilentServer, TestServer};
use support::workspace::Workspace;

/// `GET /flaky` and `GET /ok`, one request each per round.
const TWO_CHECKS: &str = r#"
customer: shop
checks:
  - name: GET /flaky
    request: { path: /flaky }
    expect: { status: 200 }
  - name: GET /ok
    request: { path: /ok }
    expect: { status: 200 }
"#;

/// A route answering 503 on the hits in `failing` (1-based: round k sends hit k), 200 otherwise.
fn failing_on(failing: &'static [usize]) -> impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static {
    move |_, k| match failing.contains(&k) {
        true => Reply::status(503),
        false => Reply::text("ok"),
    }
}

/// The server of [`TWO_CHECKS`]: `/flaky` failing on the hits in `failing`, `/ok` passing.
fn shop(failing: &'static [usize]) -> TestServer {
    TestServer::builder()
        .route_fn("/flaky", failing_on(failing))
        .route("/ok", Reply::text("ok"))
        .start()
}

/// A webhook receiver: `/hook` answers what `answer` says for the k-th delivery.
fn receiver(answer: impl Fn(usize) -> u16 + Send + Sync + 'static) -> TestServer {
    TestServer::builder()
        .route_fn("/hook", move |_, k| Reply::status(answer(k)))
        .start()
}

/// The bodies the receiver got, parsed, in the order they came.
fn deliveries(hook: &TestServer) -> Vec<Value> {
    hook.recorded_on("/hook")
        .iter()
        .map(|r| serde_json::from_str(&r.body).expect("a webhook body is JSON"))
        .collect()
}

/// A `--format json` monitor's stdout, one report per round.
fn json_lines(run: &Run) -> Vec<Value> {
    run.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: not a JSON line: {l}")))
        .collect()
}

/// A webhook that accepts connections and never answers, and its URL (with a token in it).
fn silent_hook() -> (SilentServer, String) {
    let silent = SilentServer::new();
    let url = format!("{}/services/T000/B000/sekrit-hook-token", silent.url());
    (silent, url)
}

fn read_json(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("the report parses")
}

/// `ws` against `server` in monitor mode: `localhost --base-url … --yes ARGS`, run to the end.
fn monitor(ws: &Workspace, server: &TestServer, args: &[&str]) -> Run {
    let mut cmd = ws.cmd();
    cmd.args([
        "localhost",
        "--base-url",
        &server.url(),
        "-s",
        "suites",
        "--yes",
        "--color",
        "never",
    ])
    .args(args);
    Run::of(&mut cmd)
}

/// The same, spawned, for tests that signal it or watch it as it goes.
fn spawn(ws: &Workspace, server: &TestServer, args: &[&str], env: &[(&str, &str)]) -> Running {
    let mut cmd = ws.command(&["localhost", "--base-url", &server.url(), "--yes"]);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Running::spawn(cmd)
}

#[test]
fn a_route_failing_for_rounds_3_to_5_alerts_once_and_recovers_once() {
    let server = shop(&[3, 4, 5]);
    let hook = receiver(|_| 200);
    let ws = Workspace::suite(TWO_CHECKS);
    let url = format!("{}/hook", hook.url());
    let run = monitor(
        &ws,
        &server,
        &[
            "--every",
            "250ms",
            "--rounds",
            "8",
            "--webhook",
            &url,
            "--webhook-format",
            "json",
        ],
    );
    run.code(0);
    assert_eq!(server.hits("/flaky"), 8, "{run}");
    // One line per round, the banner once, and the changes under the rounds that saw them.
    assert_eq!(run.stdout.matches("Environment: localhost").count(), 1, "{run}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    let at = |needle: &str| {
        lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle:?}:\n{run}"))
    };
    assert!(
        lines[at("round 1:")].ends_with("] round 1: 2 passing, 0 failing"),
        "{run}"
    );
    assert!(
        lines[at("round 3:")].ends_with("round 3: 1 passing, 1 failing"),
        "{run}"
    );
    assert_eq!(
        lines[at("round 3:") + 1],
        "✗ shop › GET /flaky started failing: expected status 200, got 503"
    );
    assert!(
        lines[at("round 6:") + 1].starts_with("✓ shop › GET /flaky recovered after "),
        "{run}"
    );
    assert_eq!(run.stdout.matches("started failing").count(), 1, "{run}");
    assert_eq!(run.stdout.matches("recovered").count(), 1, "{run}");
    // The webhook: one POST for round 3, one for round 6, in order, only about /flaky.
    let got = deliveries(&hook);
    assert_eq!(got.len(), 2, "{got:#?}");
    assert_eq!(got[0]["round"], 3);
    assert_eq!(got[1]["round"], 6);
    for (body, state) in got.iter().zip(["failing", "passing"]) {
        assert_eq!(body["environment"], "localhost");
        assert!(body["region"].is_null());
        assert!(body["at"].as_str().is_some_and(|t| t.ends_with('Z')), "{body}");
        let events = body["events"].as_array().unwrap();
        assert_eq!(events.len(), 1, "{body}");
        assert_eq!(events[0]["customer"], "shop");
        assert_eq!(events[0]["check"], "GET /flaky");
        assert_eq!(events[0]["state"], state);
        assert!(events[0]["since"].is_string(), "{body}");
    }
    assert_eq!(got[0]["events"][0]["reason"], "expected status 200, got 503");
    assert_eq!(got[0]["events"][0]["availability"], 0.0);
    assert!(got[1]["events"][0]["reason"].is_null());
    assert_eq!(got[1]["events"][0]["availability"], 100.0);
}

#[test]
fn the_window_judges_each_check_on_its_rounds_with_its_own_availability() {
    let server = TestServer::builder()
        .route_fn("/once", failing_on(&[4]))
        .route_fn("/twice", failing_on(&[4, 5]))
        .start();
    let ws = Workspace::suite(
        r#"
customer: shop
checks:
  - name: once
    request: { path: /once }
    expect: { status: 200, availability: 75 }
  - name: twice
    request: { path: /twice }
    expect: { status: 200, availability: 75 }
"#,
    );
    // Four rounds in the window: 400 ms apart, a window of 1.6 s.
    let run = monitor(
        &ws,
        &server,
        &[
            "--every",
            "400ms",
            "--rounds",
            "8",
            "--window",
            "1600ms",
            "--format",
            "json",
            "--json",
            "last.json",
        ],
    );
    run.code(0);
    let rounds = json_lines(&run);
    assert_eq!(rounds.len(), 8, "{run}");
    let states = |name: &str| -> Vec<String> {
        rounds
            .iter()
            .map(|r| support::check(r, name)["status"].as_str().unwrap().to_string())
            .collect()
    };
    for (i, r) in rounds.iter().enumerate() {
        assert_eq!(r["round"], i as u64 + 1);
        assert_eq!(r["window_ms"], 1600);
    }
    // One failure in four rounds is 75%: it holds.
    assert_eq!(states("once"), ["passed"; 8], "{run}");
    // Two in four fail from round 5 until round 4 leaves the window (round 8).
    let twice = states("twice");
    assert_eq!(
        twice,
        [
            "passed", "passed", "passed", "passed", "failed", "failed", "failed", "passed"
        ],
        "{run}"
    );
    // One client for every round: its connections stay warm.
    assert_eq!(support::check(&rounds[0], "once")["timings_ms"]["reused"], false);
    assert_eq!(
        support::check(&rounds[1], "once")["timings_ms"]["reused"],
        true,
        "{run}"
    );
    let r6 = support::check(&rounds[5], "twice");
    assert_eq!(r6["samples"], 4);
    assert_eq!(r6["passed_samples"], 2);
    assert_eq!(r6["availability"], 50.0);
    assert_eq!(r6["failures"][0], "expected status 200, got 503");
    // The report file is the window after the last round.
    let last = read_json(&ws.path().join("last.json"));
    assert_eq!(last["round"], 8);
    assert_eq!(support::check(&last, "twice")["status"], "passed");
    // Without --window the round line names none and the JSON says null.
    let one = monitor(
        &ws,
        &server,
        &["--every", "200ms", "--rounds", "1", "--format", "json"],
    );
    let line: Value = serde_json::from_str(one.stdout.trim()).unwrap();
    assert!(line["window_ms"].is_null(), "{one}");
    assert_eq!(line["round"], 1);
}

#[test]
fn a_webhook_answering_500_twice_gets_the_alert_once_after_the_retries() {
    let server = shop(&[1, 2, 3, 4, 5, 6]);
    let hook = receiver(|k| if k <= 2 { 500 } else { 200 });
    let ws = Workspace::suite(TWO_CHECKS);
    let url = format!("{}/hook", hook.url());
    let running = spawn(
        &ws,
        &server,
        &["--every", "200ms", "--rounds", "6", "--webhook", &url],
        &[("ENDPOINT_CHECK_WEBHOOK_BACKOFF", "300ms")],
    );
    let started = Instant::now();
    let run = running.wait(Duration::from_secs(30));
    assert_eq!(run.code, Some(1), "{run}");
    // The rounds kept their pace: none waited for the webhook.
    assert!(!run.stderr.contains("longer than --every"), "{run}");
    assert!(started.elapsed() < Duration::from_secs(10), "{run}");
    let got = hook.recorded_on("/hook");
    assert_eq!(got.len(), 3, "two 500s, then the 200: {got:#?}");
    assert!(
        got.iter().all(|r| r.body == got[0].body),
        "the same alert each time"
    );
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    let text = body["text"].as_str().expect("slack: {\"text\": …}");
    assert!(text.contains("round 1"), "{text}");
    assert!(
        text.contains("✗ shop › GET /flaky started failing: expected status 200, got 503"),
        "{text}"
    );
    assert!(!text.contains("GET /ok"), "{text}");
    assert!(!run.stderr.contains("warning: webhook"), "{run}");
}

#[test]
fn a_webhook_that_never_answers_does_not_delay_the_rounds() {
    let server = shop(&[1]);
    let (silent, url) = silent_hook();
    let ws = Workspace::suite(TWO_CHECKS);
    let running = spawn(
        &ws,
        &server,
        &[
            "--every",
            "200ms",
            "--rounds",
            "1000",
            "--webhook",
            &url,
            "--json",
            "r.json",
        ],
        &[],
    );
    let started = Instant::now();
    silent.wait_for_connection(Duration::from_secs(20));
    // Five rounds at 200 ms while the first delivery hangs.
    let report = ws.path().join("r.json");
    let deadline = Instant::now() + Duration::from_secs(20);
    let round = |_: ()| {
        std::fs::read_to_string(&report)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| v["round"].as_u64())
            .unwrap_or(0)
    };
    while round(()) < 6 {
        assert!(Instant::now() < deadline, "the rounds stalled behind the webhook");
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = started.elapsed();
    running.signal(libc::SIGTERM);
    let run = running.wait(Duration::from_secs(20));
    assert_eq!(run.code, Some(143), "{run}");
    // Bounded, not exact: on a loaded machine a round of its own may overrun 200 ms, which is
    // no webhook's doing; a hung delivery would hold the rounds for its 10 s timeout each.
    assert!(took < Duration::from_secs(8), "6 rounds took {took:?}");
    // After the signal the delivery had 2 s more, then was given up; the URL is never shown.
    assert!(run.stderr.contains("given up"), "{run}");
    assert!(!run.all().contains("sekrit-hook-token"), "{run}");
}

#[test]
fn a_webhook_too_far_behind_loses_its_oldest_alerts_not_the_latest() {
    // A change every round, while the first delivery hangs: round 1's alert is in flight and at
    // most 2 wait, so each new round pushes out the oldest waiting one.
    let server = shop(&[1, 3, 5, 7]);
    let (silent, url) = silent_hook();
    let ws = Workspace::suite(TWO_CHECKS);
    let running = spawn(
        &ws,
        &server,
        &["--every", "100ms", "--rounds", "100", "--webhook", &url],
        &[("ENDPOINT_CHECK_WEBHOOK_QUEUE", "2")],
    );
    silent.wait_for_connection(Duration::from_secs(20));
    // Round 8's alert pushes out round 6's.
    let seen = running.wait_for_stderr("round 6's alert", Duration::from_secs(30));
    running.signal(libc::SIGTERM);
    let run = running.wait(Duration::from_secs(20));
    assert_eq!(run.code, Some(143), "{run}");
    for dropped in 2..=6 {
        assert!(
            run.stderr.contains(&format!(
                "is 2 alerts behind; round {dropped}'s alert, the oldest waiting, is dropped"
            )),
            "round {dropped}: {seen}\n{run}"
        );
    }
    // The newest rounds are the ones kept, never dropped.
    for kept in [1, 7, 8] {
        assert!(
            !run.stderr.contains(&format!("round {kept}'s alert, the oldest")),
            "{run}"
        );
    }
    assert!(!run.all().contains("sekrit-hook-token"), "{run}");
}

#[test]
fn a_webhook_asking_to_retry_after_a_second_is_tried_again_no_sooner() {
    let server = shop(&[1]);
    let arrivals = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = arrivals.clone();
    let hook = TestServer::builder()
        .route_fn("/hook", move |_, k| {
            seen.lock().unwrap().push(Instant::now());
            match k {
                1 => Reply::status(429).header("retry-after", "1"),
                _ => Reply::status(200),
            }
        })
        .start();
    let ws = Workspace::suite(TWO_CHECKS);
    let url = format!("{}/hook", hook.url());
    let mut cmd = ws.cmd();
    cmd.args(["localhost", "--base-url", &server.url(), "-s", "suites", "--yes"])
        .args(["--every", "100ms", "--rounds", "2", "--webhook", &url])
        // Without Retry-After the retry would come after 10 ms.
        .env("ENDPOINT_CHECK_WEBHOOK_BACKOFF", "10ms");
    let run = Run::of(&mut cmd);
    run.code(0);
    let arrivals = arrivals.lock().unwrap().clone();
    // Round 1's alert twice (429, then 200), then round 2's recovery, in order.
    assert_eq!(arrivals.len(), 3, "{run}");
    let bodies = deliveries(&hook);
    assert_eq!(bodies[0], bodies[1]);
    assert_ne!(bodies[1], bodies[2]);
    let gap = arrivals[1] - arrivals[0];
    assert!(gap >= Duration::from_millis(950), "retried after {gap:?}");
    assert!(!run.stderr.contains("warning"), "{run}");
}

#[test]
fn sigterm_mid_round_exits_143_writes_the_reports_and_sends_no_alert_for_the_cut_round() {
    // Round 2's /flaky answers 503 after 1 s: judged, it would alert; cut, it must not.
    let server = TestServer::builder()
        .route_fn("/flaky", |_, k| match k {
            1 => Reply::text("ok"),
            _ => Reply::status(503).delay(Duration::from_secs(1)),
        })
        .route("/ok", Reply::text("ok"))
        .start();
    let hook = receiver(|_| 200);
    let ws = Workspace::suite(TWO_CHECKS);
    let url = format!("{}/hook", hook.url());
    let running = spawn(
        &ws,
        &server,
        &[
            "--every",
            "300ms",
            "--rounds",
            "10",
            "--webhook",
            &url,
            "--json",
            "r.json",
            "--junit",
            "r.xml",
        ],
        &[],
    );
    server.wait_until(Duration::from_secs(20), "round 2 in flight", |s| {
        s.hits("/flaky") >= 2
    });
    running.signal(libc::SIGTERM);
    let run = running.wait(Duration::from_secs(20));
    assert_eq!(run.code, Some(143), "{run}");
    assert_eq!(server.hits("/flaky"), 2, "no round after the signal");
    let report = read_json(&ws.path().join("r.json"));
    assert_eq!(report["round"], 1, "the reports describe the last full round");
    assert_eq!(support::check(&report, "GET /flaky")["status"], "passed");
    assert!(ws.path().join("r.xml").exists());
    assert!(run.stdout.contains("Interrupted by SIGTERM"), "{run}");
    assert!(
        hook.recorded_on("/hook").is_empty(),
        "{:#?}",
        hook.recorded_on("/hook")
    );
}

#[test]
fn secrets_from_suite_variables_never_reach_a_webhook() {
    let server = TestServer::builder()
        .route("/secret", Reply::text("nothing here"))
        .start();
    let hook = receiver(|_| 200);
    let ws = Workspace::suite(
        r#"
customer: vault
variables:
  api_key: sekrit-value-123
checks:
  - name: GET /secret
    request:
      path: /secret
      query: { key: "${api_key}" }
      headers: { x-api-key: "${api_key}" }
    expect:
      body: { contains: "${api_key}" }
"#,
    );
    let url = format!("{}/hook", hook.url());
    for format in ["slack", "json"] {
        let run = monitor(
            &ws,
            &server,
            &[
                "--every",
                "200ms",
                "--rounds",
                "1",
                "--webhook",
                &url,
                "--webhook-format",
                format,
            ],
        );
        run.code(1);
        assert!(!run.all().contains("sekrit-value-123"), "{run}");
    }
    let got = hook.recorded_on("/hook");
    assert_eq!(got.len(), 2);
    for r in &got {
        assert!(!r.body.contains("sekrit-value-123"), "{}", r.body);
        assert!(r.body.contains("***"), "the reason is there, masked: {}", r.body);
    }
}

#[test]
fn a_round_longer_than_every_delays_the_next_and_says_so() {
    let server = TestServer::builder()
        .route("/flaky", Reply::text("ok").delay(Duration::from_millis(500)))
        .route("/ok", Reply::text("ok"))
        .start();
    let ws = Workspace::suite(TWO_CHECKS);
    let run = monitor(&ws, &server, &["--every", "200ms", "--rounds", "2"]);
    run.code(0);
    assert!(
        run.stderr.contains("warning: round 1 took ")
            && run
                .stderr
                .contains("longer than --every 200ms; round 2 starts now"),
        "{run}"
    );
    assert_eq!(server.hits("/flaky"), 2);
}

#[test]
fn monitor_flags_need_every_and_for_ends_the_rounds() {
    let server = TestServer::builder()
        .route("/flaky", Reply::text("ok"))
        .route("/ok", Reply::text("ok"))
        .start();
    let ws = Workspace::suite(TWO_CHECKS);
    let run = monitor(&ws, &server, &["--rounds", "3"]);
    run.code(2).stderr_has("--rounds needs --every");
    assert_eq!(server.requests(), 0);
    let run = monitor(
        &ws,
        &server,
        &["--every", "1s", "--webhook", "ftp://example.invalid/x"],
    );
    run.code(2).stderr_has("not an http(s) URL");
    let run = monitor(&ws, &server, &["--every", "1s", "--format", "junit"]);
    run.code(2);
    // --for 1s at --every 300ms: rounds at 0, 0.3, 0.6 and 0.9 s.
    let run = monitor(&ws, &server, &["--every", "300ms", "--for", "1s"]);
    run.code(0);
    assert_eq!(run.stdout.matches("] round ").count(), 4, "{run}");
}

/// `serve --fault … from START for LENGTH` on a free port; its base URL, and the process (killed
/// when dropped).
struct Fixture {
    child: std::process::Child,
    url: String,
}

impl Fixture {
    fn serve(fault: &str) -> Fixture {
        use std::io::BufRead;
        let mut child = support::bin::endpoint_check_std()
            .args(["serve", "--port", "0", "--fault", fault])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("spawn serve");
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .expect("serve's first line");
        let url = first
            .trim()
            .strip_prefix("Listening on ")
            .unwrap_or_else(|| panic!("not the listening line: {first:?}"))
            .to_string();
        Fixture { child, url }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_time_boxed_fault_of_the_fixture_fires_an_alert_that_recovers() {
    let fixture = Fixture::serve("GET /api/cdn/status=503 from 1s for 2s");
    let mut cmd = support::bin::endpoint_check();
    cmd.args([
        "localhost",
        "--base-url",
        &fixture.url,
        "--yes",
        "--color",
        "never",
    ])
    .args([
        "-c",
        "audio1.tv",
        "-k",
        "GET /api/cdn/status",
        "--every",
        "250ms",
        "--for",
        "4s",
    ])
    .arg("-s")
    .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/suites"));
    let run = Run::of(&mut cmd);
    run.code(0);
    let failing = "✗ audio1.tv › GET /api/cdn/status started failing: expected status 200, got 503";
    let at = |needle: &str| {
        run.stdout
            .find(needle)
            .unwrap_or_else(|| panic!("no {needle:?}:\n{run}"))
    };
    assert!(
        at(failing) < at("✓ audio1.tv › GET /api/cdn/status recovered after "),
        "{run}"
    );
}

#[test]
fn demo_monitors_the_bundled_suites() {
    let run = Run::of(support::bin::endpoint_check().args([
        "demo",
        "--every",
        "200ms",
        "--rounds",
        "2",
        "-k",
        "cdn/status",
        "--format",
        "json",
        "--color",
        "never",
    ]));
    run.code(0);
    let rounds: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rounds.len(), 2, "{run}");
    assert_eq!(rounds[1]["round"], 2);
    assert_eq!(rounds[1]["environment"], "demo");
}

#[test]
fn a_webhook_that_keeps_failing_is_warned_about_by_its_origin_only() {
    let server = shop(&[1]);
    let down = TestServer::builder()
        .route("/hook/T000/sekrit-token", Reply::status(503))
        .route("/gone/T000/sekrit-token", Reply::status(404))
        .start();
    let ws = Workspace::suite(TWO_CHECKS);
    let retried = format!("{}/hook/T000/sekrit-token", down.url());
    let refused = format!("{}/gone/T000/sekrit-token", down.url());
    let running = spawn(
        &ws,
        &server,
        &[
            "--every",
            "200ms",
            "--rounds",
            "3",
            "--webhook",
            &retried,
            "--webhook",
            &refused,
        ],
        &[("ENDPOINT_CHECK_WEBHOOK_BACKOFF", "50ms")],
    );
    let run = running.wait(Duration::from_secs(30));
    // Round 1 failed, round 2 recovered: two alerts, each tried 4 times (503) or once (404).
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(down.hits("/hook/T000/sekrit-token"), 8, "{run}");
    assert_eq!(down.hits("/gone/T000/sekrit-token"), 2, "{run}");
    let origin = down.url();
    for round in [1, 2] {
        let retried = format!(
            "warning: webhook {origin} failed: round {round}'s alert was not delivered after 4 attempts (HTTP 503)"
        );
        let refused = format!(
            "warning: webhook {origin} failed: round {round}'s alert was not delivered after 1 attempt (HTTP 404)"
        );
        assert!(run.stderr.contains(&retried), "{retried}\n{run}");
        assert!(run.stderr.contains(&refused), "{refused}\n{run}");
    }
    assert!(!run.all().contains("sekrit-token"), "{run}");
}

#[test]
fn a_connection_the_server_closed_while_idle_is_not_used_again() {
    let (server, connections) = support::server::closing_after(Duration::from_millis(20));
    let ws = Workspace::suite(
        "customer: shop\nchecks:\n  - name: GET /\n    request: { path: / }\n    expect: { status: 200 }\n",
    );
    let mut cmd = ws.cmd();
    cmd.args(["localhost", "--base-url", &server.url(), "-s", "suites", "--yes"])
        .args(["--every", "300ms", "--rounds", "3", "--format", "json"]);
    let run = Run::of(&mut cmd);
    run.code(0);
    let rounds = json_lines(&run);
    assert_eq!(rounds.len(), 3, "{run}");
    for r in &rounds {
        let check = support::check(r, "GET /");
        assert_eq!(check["status"], "passed", "{run}");
        // The pool noticed the close: every round dialed anew instead of failing on a dead one.
        assert_eq!(check["timings_ms"]["reused"], false, "{run}");
    }
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 3);
}
