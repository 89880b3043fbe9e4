//! `--listen` in monitor mode (docs/monitor.md#listen): a real Prometheus scraping it, the four
//! paths before and after the first round, secrets, port 0 and a taken port; and the alert rules
//! for a monitor's `/metrics` (docs/prometheus/monitor-alerts.yml) under the real `promtool`.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use support::process::{Run, Running};
use support::prometheus::{self, Prometheus};
use support::server::{Reply, TestServer};
use support::workspace::Workspace;

/// A secret suite variable, sent in a header and a query, and pasted into a check's name.
const SECRET: &str = "k3y-from-the-suite-7781";

fn suite() -> String {
    format!(
        "\
customer: acme
variables:
  API_KEY: {SECRET}
checks:
  - name: GET /ok?key={SECRET}
    request: {{ path: \"/ok?key=${{API_KEY}}\", headers: {{ x-api-key: \"${{API_KEY}}\" }} }}
    expect: {{ status: 200 }}
  - name: GET /broken
    request: {{ path: /broken }}
    expect: {{ status: 200 }}
"
    )
}

fn server() -> TestServer {
    TestServer::builder()
        .route("/ok", Reply::status(200))
        .route("/broken", Reply::status(503))
        .start()
}

/// A monitor of the suite against `server` with `--listen 127.0.0.1:0` and `extra`, spawned;
/// returns it with the port it printed.
fn monitor(ws: &Workspace, server: &TestServer, extra: &[&str]) -> (Running, u16) {
    let url = server.url();
    let mut args = vec!["localhost", "--base-url", &url];
    args.extend(["--every", "300ms", "--for", "120s", "--listen", "127.0.0.1:0"]);
    args.extend(extra);
    let running = Running::spawn(ws.command(&args));
    let line = running.wait_for_stderr("Listening on ", Duration::from_secs(30));
    let port = line
        .strip_prefix("Listening on http://127.0.0.1:")
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or_else(|| panic!("not `Listening on http://127.0.0.1:PORT`: {line:?}"));
    assert_ne!(port, 0, "{line}");
    (running, port)
}

/// An answer of the monitor's server.
struct Answer {
    code: u16,
    head: String,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// GET `path` from 127.0.0.1:`port` over HTTP/1.0.
fn get(port: u16, path: &str) -> Answer {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to --listen");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Answer {
        code,
        head: head.to_string(),
        body: body.to_string(),
    }
}

/// Polls `path` until it answers `code`, for up to `within`.
#[track_caller]
fn wait_for(port: u16, path: &str, code: u16, within: Duration) -> Answer {
    let deadline = Instant::now() + within;
    loop {
        let a = get(port, path);
        if a.code == code {
            return a;
        }
        assert!(
            Instant::now() < deadline,
            "{path} did not answer {code} within {within:?}: {} {}",
            a.code,
            a.body
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// SIGTERM, then the exit code of a monitor ended by a signal.
fn stop(running: Running) -> Run {
    running.signal(libc::SIGTERM);
    let run = running.wait(Duration::from_secs(30));
    run.code(143);
    run
}

#[test]
fn a_real_prometheus_scrapes_every_check_with_the_failing_one_at_0() {
    let server = server();
    let ws = Workspace::suite(&suite());
    let (running, port) = monitor(&ws, &server, &["--yes", "--region", "eu-west"]);
    let prom = Prometheus::start(&[format!("127.0.0.1:{port}")]);
    let success = prom.wait_for("endpoint_check_check_success", Duration::from_secs(60), |r| {
        r.len() == 2
    });
    for s in &success {
        let expected = if s["metric"]["check"] == "GET /broken" {
            0.0
        } else {
            1.0
        };
        assert_eq!(prometheus::value(s), expected, "{s}");
        assert_eq!(s["metric"]["region"], "eu-west", "{s}");
        assert_eq!(s["metric"]["customer"], "acme", "{s}");
    }
    // Counters count since the start: they grow from scrape to scrape.
    let q = "endpoint_check_samples_total{check=\"GET /broken\"}";
    let first = prometheus::value(&prom.wait_for(q, Duration::from_secs(30), |r| r.len() == 1)[0]);
    prom.wait_for(q, Duration::from_secs(30), |r| {
        r.len() == 1 && prometheus::value(&r[0]) > first
    });
    let everything = prom.query("{__name__=~\"endpoint_check_.+\"}");
    let text = serde_json::to_string(&everything).unwrap();
    assert!(!text.contains(SECRET), "a secret reached Prometheus: {text}");
    stop(running);
}

#[test]
fn before_the_first_round_and_after_it() {
    let server = server();
    let ws = Workspace::suite(&suite());
    // The safety countdown comes after the server started: the time before the first round.
    let (running, port) = monitor(&ws, &server, &["--delay", "3s"]);
    let healthz = get(port, "/healthz");
    assert_eq!(healthz.code, 503, "{}", healthz.body);
    assert_eq!(get(port, "/status").code, 503);
    let metrics = get(port, "/metrics");
    assert_eq!(metrics.code, 200);
    assert_eq!(
        metrics.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    assert!(
        metrics.body.contains("# TYPE endpoint_check_check_success gauge"),
        "{}",
        metrics.body
    );
    assert!(metrics.body.ends_with("# EOF\n"), "{}", metrics.body);
    assert!(
        metrics.body.lines().all(|l| l.starts_with('#')),
        "{}",
        metrics.body
    );
    assert_eq!(get(port, "/").code, 200);
    assert!(
        server.recorded().is_empty(),
        "a request went out during the countdown"
    );

    let healthz = wait_for(port, "/healthz", 200, Duration::from_secs(60));
    assert!(healthz.body.starts_with("ok: round "), "{}", healthz.body);
    let status = get(port, "/status");
    assert_eq!(status.code, 200);
    assert_eq!(status.header("content-type"), Some("application/json"));
    let report =
        endpoint_check::report::read::parse(&status.body).unwrap_or_else(|e| panic!("{e}: {}", status.body));
    assert_eq!(report.suites[0].checks.len(), 2);
    let doc: serde_json::Value = serde_json::from_str(&status.body).unwrap();
    assert!(doc["round"].as_u64().is_some_and(|r| r >= 1), "{doc}");
    assert_eq!(support::check(&doc, "GET /broken")["status"], "failed");
    let page = get(port, "/");
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(page.body.contains("GET /broken"), "{}", page.body);
    let metrics = get(port, "/metrics");
    assert!(
        metrics.body.contains("check=\"GET /ok?key=***\"}"),
        "{}",
        metrics.body
    );
    for (path, body) in [
        ("/metrics", &metrics.body),
        ("/status", &status.body),
        ("/", &page.body),
    ] {
        assert!(!body.contains(SECRET), "{path} carries the secret:\n{body}");
    }
    assert_eq!(get(port, "/nothing").code, 404);
    stop(running);
}

#[test]
fn a_taken_port_exits_2_before_any_request() {
    let server = server();
    let ws = Workspace::suite(&suite());
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let url = server.url();
    let cmd = ws.command(&[
        "localhost",
        "--base-url",
        &url,
        "--every",
        "1s",
        "--listen",
        &addr,
    ]);
    support::process::run(cmd).code(2).stderr_has(&format!(
        "error: --listen {addr}: cannot listen: the address is already in use"
    ));
    assert!(server.recorded().is_empty());
}

#[test]
fn a_bad_address_exits_2() {
    let server = server();
    let ws = Workspace::suite(&suite());
    let url = server.url();
    let cmd = ws.command(&[
        "localhost",
        "--base-url",
        &url,
        "--every",
        "1s",
        "--listen",
        "9464",
    ]);
    support::process::run(cmd)
        .code(2)
        .stderr_has("error: --listen 9464: no port; expected HOST:PORT");
    assert!(server.recorded().is_empty());
}

fn rules_folder() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/prometheus")
}

#[test]
fn the_monitor_alert_rules_pass_promtool() {
    let (ok, out) = prometheus::check_rules(&rules_folder().join("monitor-alerts.yml"));
    assert!(ok, "{out}");
    assert!(out.contains("3 rules found"), "{out}");
}

#[test]
fn the_monitor_alert_rules_fire_on_the_seeds_conditions() {
    let promtool = prometheus::program("/usr/bin/promtool", "prometheus");
    let out = Command::new(promtool)
        .args(["test", "rules", "monitor-alerts.test.yml"])
        .current_dir(rules_folder())
        .output()
        .expect("run promtool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("SUCCESS"), "{text}");
}
