//! The reports end to end (docs/reports.md), through the binary: `--format json|junit|tap`, `--json`/`--junit` files in
//! any combination, the preflight on report paths, reports on Ctrl-C and SIGTERM, GitHub Actions
//! annotations and step summary, secrets kept out of every output, and the progress bar staying
//! out of piped output.
//!
//! Every run talks to a small axum server on 127.0.0.1 (its own runtime, its own thread), gets
//! `NO_PROXY` for loopback, and none of the `ENDPOINT_CHECK_*`, `CI`, `GITHUB_*`, `VERCEL_*`
//! variables of the environment the tests run in.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use quick_xml::events::{BytesStart, Event};
use serde_json::{Value, json};
use support::process::{Run, Running};
use support::server::{Reply, TestServer};
use support::workspace::Workspace;

const SECRET: &str = "tok-s3cr3t-value";

// ---------------------------------------------------------------------------------------------
// The target server

/// `/ok` 200 `{"status": "ok"}`, `/fail` 503 `{"error": "down"}`, `/slow` 200 after 5 s, `/echo`
/// sending back what it was sent (so a secret in the request comes back in headers and body),
/// anything else a bare 404.
fn server() -> TestServer {
    TestServer::builder()
        .route("/ok", Reply::json(json!({ "status": "ok" })))
        .route("/fail", Reply::json(json!({ "error": "down" })).with_status(503))
        .route(
            "/slow",
            Reply::json(json!({ "status": "late" })).delay(Duration::from_secs(5)),
        )
        .route_fn("/echo", |r, _| {
            let auth = r.header("authorization").unwrap_or("");
            Reply::text(&format!("you sent authorization={auth} and query={}", r.query))
                .header("x-echo", auth)
                .header("set-cookie", &format!("session={}", r.query))
        })
        .fallback_fn(|_, _| Reply::status(404))
        .start()
}

// ---------------------------------------------------------------------------------------------
// Suites, runs and outputs

/// A temporary project folder with `suites/`, and the server the suites talk to.
struct Project {
    _ws: Workspace,
    /// Canonical, so it matches the current folder the binary sees.
    root: PathBuf,
    server: TestServer,
}

impl Project {
    fn new(suites: &[(&str, &str)]) -> Project {
        let ws = Workspace::new(suites);
        let root = ws.path().canonicalize().unwrap();
        Project {
            _ws: ws,
            root,
            server: server(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
    }

    /// The binary, in the project folder, on the server, with a clean environment.
    fn command(&self, args: &[&str]) -> Command {
        let mut c = support::bin::endpoint_check_std();
        c.current_dir(&self.root);
        c.args([
            "--suites",
            "suites",
            "--base-url",
            &self.server.url(),
            "--color",
            "never",
        ]);
        c.args(args);
        c
    }

    fn run(&self, args: &[&str], envs: &[(&str, &str)]) -> Output {
        let mut c = self.command(args);
        for (k, v) in envs {
            c.env(k, v);
        }
        Output::of(support::process::run(c))
    }
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Output {
    fn of(run: Run) -> Output {
        Output {
            code: run.code.unwrap_or(-1),
            stdout: run.stdout,
            stderr: run.stderr,
        }
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", self.stdout))
    }
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// The 1-based lines where the check list items start (`  - ` at the checks' indentation).
fn item_lines(suite: &str) -> Vec<usize> {
    suite
        .lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with("  - "))
        .map(|(i, _)| i + 1)
        .collect()
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect()
}

/// A small suite with every outcome: passed, failed, skipped by `needs`, skipped by
/// `environments`, warned, and a sampled check whose list item does not start with `name`.
const MIXED: &str = r#"customer: acme
title: Acme API
tags: [smoke]
checks:
  - name: GET /ok
    request: { path: /ok }
    expect:
      status: 200
      json: { $.status: ok }

  - name: GET /fail
    request: { path: /fail }
    expect: { status: 200 }

  - name: needs the failure
    needs: [GET /fail]
    request: { path: /ok }

  - name: production only
    environments: [production]
    request: { path: /ok }

  - name: optional and down
    optional: true
    request: { path: /fail }
    expect: { status: 200 }

  - request: { path: /ok }
    name: "Odd <name> & \"quotes\" ünïcødé"
    samples: 3
"#;

const ODD_NAME: &str = "Odd <name> & \"quotes\" ünïcødé";

/// One check that passes.
const PASSING: &str = "customer: beta\nchecks:\n  - name: GET /ok\n    request: { path: /ok }\n";

fn mixed() -> Project {
    Project::new(&[("acme.yaml", MIXED)])
}

// ---------------------------------------------------------------------------------------------
// JUnit, parsed back

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

fn attr(e: &BytesStart, name: &str) -> Option<String> {
    e.try_get_attribute(name)
        .unwrap()
        .map(|a| a.unescape_value().unwrap().into_owned())
}

fn counts_of(e: &BytesStart) -> Counts {
    let n = |k: &str| {
        attr(e, k)
            .unwrap_or_else(|| panic!("no {k} attribute"))
            .parse()
            .unwrap()
    };
    Counts {
        tests: n("tests"),
        failures: n("failures"),
        errors: n("errors"),
        skipped: n("skipped"),
    }
}

#[derive(Debug, Default)]
struct Junit {
    root: Counts,
    suites: Vec<(String, Counts)>,
    /// (name, classname, line, "passed" | "failure" | "skipped" | "system-out")
    cases: Vec<(String, String, String, String)>,
    /// Messages of `<failure>` and `<skipped>`.
    messages: Vec<String>,
}

/// Parses a whole JUnit document; panics on anything malformed or incomplete.
fn parse_junit(xml: &str) -> Junit {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut j = Junit::default();
    let mut depth = 0usize;
    let mut roots = 0;
    loop {
        let ev = reader
            .read_event()
            .unwrap_or_else(|e| panic!("bad XML ({e}):\n{xml}"));
        let (e, empty) = match &ev {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => {
                depth -= 1;
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        match e.name().as_ref() {
            b"testsuites" => {
                assert_eq!(depth, 0);
                roots += 1;
                j.root = counts_of(e);
                assert!(attr(e, "time").unwrap().parse::<f64>().is_ok());
            }
            b"testsuite" => j.suites.push((attr(e, "name").unwrap(), counts_of(e))),
            b"testcase" => j.cases.push((
                attr(e, "name").unwrap(),
                attr(e, "classname").unwrap(),
                attr(e, "line").unwrap(),
                "passed".to_string(),
            )),
            kind @ (b"failure" | b"skipped" | b"system-out") => {
                let case = j.cases.last_mut().expect("a result outside a testcase");
                case.3 = String::from_utf8(kind.to_vec()).unwrap();
                if let Some(m) = attr(e, "message") {
                    j.messages.push(m);
                }
            }
            other => panic!("unexpected element {}", String::from_utf8_lossy(other)),
        }
        if !empty {
            depth += 1;
        }
    }
    assert_eq!(depth, 0, "unclosed elements:\n{xml}");
    assert_eq!(roots, 1, "one <testsuites> root:\n{xml}");
    j
}

/// The counts add up: root = sum of suites = what the test cases say.
fn assert_junit_adds_up(j: &Junit) {
    let kinds = |k: &str| j.cases.iter().filter(|c| c.3 == k).count();
    let sum = j.suites.iter().fold(Counts::default(), |a, (_, c)| Counts {
        tests: a.tests + c.tests,
        failures: a.failures + c.failures,
        errors: a.errors + c.errors,
        skipped: a.skipped + c.skipped,
    });
    assert_eq!(j.root, sum, "{j:?}");
    assert_eq!(j.root.tests, j.cases.len(), "{j:?}");
    assert_eq!(j.root.failures, kinds("failure"), "{j:?}");
    assert_eq!(j.root.skipped, kinds("skipped"), "{j:?}");
    assert_eq!(j.root.errors, 0);
}

// ---------------------------------------------------------------------------------------------
// Normalising for snapshots

fn normalise(text: &str, project: &Project) -> String {
    let port = regex::Regex::new(r"127\.0\.0\.1:\d+").unwrap();
    let json_ms = regex::Regex::new(r#""(duration_ms|min|p50|p90|p95|p99|max)": \d+(\.\d+)?"#).unwrap();
    let yaml_ms =
        regex::Regex::new(r"(?m)^(\s+)(duration_ms|min|p50|p90|p95|p99|max): \d+(\.\d+)?$").unwrap();
    let text = text.replace(&*project.root.to_string_lossy(), "[DIR]");
    let text = port.replace_all(&text, "127.0.0.1:[PORT]");
    let text = json_ms.replace_all(&text, r#""$1": "[ms]""#);
    // Which checks found an idle connection depends on which finished first.
    let phases = regex::Regex::new(r#""(connect|ttfb|transfer)": (null|\d+(\.\d+)?)"#).unwrap();
    let text = phases.replace_all(&text, r#""$1": "[ms]""#);
    let reused = regex::Regex::new(r#""reused": (true|false)"#).unwrap();
    let text = reused.replace_all(&text, r#""reused": "[varies]""#);
    // A run's id, start time and histogram differ at every run.
    let varying = regex::Regex::new(r#""(run_id|started_at|data)": "[^"]*""#).unwrap();
    let text = varying.replace_all(&text, r#""$1": "[varies]""#);
    yaml_ms.replace_all(&text, "$1$2: [ms]").into_owned()
}

// ---------------------------------------------------------------------------------------------
// --format json

#[test]
fn json_on_stdout_has_exactly_the_documented_fields() {
    let p = mixed();
    let out = p.run(&["--format", "json"], &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(!out.stdout.contains("===="), "human output on stdout: {out:?}");
    assert!(!out.stdout.contains('✗'), "human output on stdout: {out:?}");
    let doc = out.json();

    assert_eq!(
        keys(&doc),
        [
            "version",
            "environment",
            "base_url",
            "base_url_source",
            "duration_ms",
            "region",
            "run_id",
            "started_at",
            "summary",
            "suites"
        ]
    );
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["environment"], "localhost");
    assert_eq!(doc["base_url"], p.server.url());
    assert!(doc["base_url_source"].is_string());
    assert!(doc["duration_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(
        doc["summary"],
        json!({ "total": 6, "passed": 2, "failed": 1, "skipped": 2, "warned": 1 })
    );

    let suites = doc["suites"].as_array().unwrap();
    assert_eq!(suites.len(), 1);
    let suite = &suites[0];
    assert_eq!(keys(suite), ["customer", "title", "file", "checks"]);
    assert_eq!(suite["customer"], "acme");
    assert_eq!(suite["title"], "Acme API");
    assert_eq!(suite["file"], "suites/acme.yaml");

    let checks = suite["checks"].as_array().unwrap();
    let lines = item_lines(MIXED);
    assert_eq!(checks.len(), lines.len());
    let check_keys = [
        "name",
        "status",
        "line",
        "request",
        "response",
        "duration_ms",
        "samples",
        "availability",
        "latency_ms",
        "failures",
        "skip_reason",
        "timings_ms",
        "passed_samples",
        "histogram",
        "sla",
    ];
    let expected = [
        ("GET /ok", "passed"),
        ("GET /fail", "failed"),
        ("needs the failure", "skipped"),
        ("production only", "skipped"),
        ("optional and down", "warned"),
        (ODD_NAME, "passed"),
    ];
    for ((check, line), (name, status)) in checks.iter().zip(&lines).zip(expected) {
        assert_eq!(keys(check), check_keys, "{check}");
        assert_eq!(check["name"], name);
        assert_eq!(check["status"], status, "{check}");
        assert_eq!(check["line"], *line as u64, "{name}: {check}");
        if status == "skipped" {
            for null in ["request", "response", "duration_ms", "availability", "latency_ms"] {
                assert!(check[null].is_null(), "{name}: {null} should be null: {check}");
            }
            assert_eq!(check["samples"], 0);
            assert_eq!(check["failures"], json!([]));
            assert!(check["skip_reason"].as_str().is_some_and(|r| !r.is_empty()));
        } else {
            assert_eq!(keys(&check["request"]), ["method", "url"]);
            assert_eq!(check["request"]["method"], "GET");
            assert!(
                check["request"]["url"]
                    .as_str()
                    .unwrap()
                    .starts_with(&p.server.url())
            );
            assert_eq!(keys(&check["response"]), ["status"]);
            assert!(check["duration_ms"].as_f64().unwrap() >= 0.0);
            assert_eq!(
                keys(&check["latency_ms"]),
                ["min", "p50", "p90", "p95", "p99", "max"]
            );
            assert!(check["skip_reason"].is_null());
        }
    }
    // The details the runner knows.
    assert_eq!(checks[0]["response"]["status"], 200);
    assert_eq!(checks[0]["availability"], 100.0);
    assert_eq!(checks[1]["response"]["status"], 503);
    assert_eq!(checks[1]["availability"], 0.0);
    assert_eq!(checks[1]["failures"].as_array().unwrap().len(), 1);
    assert!(checks[1]["failures"][0].as_str().unwrap().contains("503"));
    assert!(checks[2]["skip_reason"].as_str().unwrap().contains("GET /fail"));
    assert!(checks[3]["skip_reason"].as_str().unwrap().contains("environment"));
    assert_eq!(checks[5]["samples"], 3);
    // `line` is where the list item starts, even when `name` is not its first key.
    assert_eq!(checks[5]["line"], *lines.last().unwrap() as u64);
}

#[test]
fn json_and_tap_snapshots() {
    let p = mixed();
    let out = p.run(&["--format", "json"], &[]);
    assert_eq!(out.code, 1, "{out:?}");
    insta::assert_snapshot!("json", normalise(&out.stdout, &p));

    let out = p.run(&["--format", "tap"], &[]);
    assert_eq!(out.code, 1, "{out:?}");
    insta::assert_snapshot!("tap", normalise(&out.stdout, &p));
}

// ---------------------------------------------------------------------------------------------
// --format junit, --format tap

#[test]
fn junit_on_stdout_parses_back_and_adds_up() {
    let p = mixed();
    let out = p.run(&["--format", "junit"], &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.starts_with("<?xml"), "{out:?}");
    let j = parse_junit(&out.stdout);
    assert_junit_adds_up(&j);
    assert_eq!(
        j.root,
        Counts {
            tests: 6,
            failures: 1,
            errors: 0,
            skipped: 2
        }
    );
    assert_eq!(j.suites, [("Acme API".to_string(), j.root)]);
    let lines = item_lines(MIXED);
    let kinds: Vec<(&str, &str)> = j
        .cases
        .iter()
        .map(|(n, _, _, k)| (n.as_str(), k.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("GET /ok", "passed"),
            ("GET /fail", "failure"),
            ("needs the failure", "skipped"),
            ("production only", "skipped"),
            ("optional and down", "system-out"),
            (ODD_NAME, "passed"),
        ]
    );
    for ((_, classname, line, _), expected) in j.cases.iter().zip(lines) {
        assert_eq!(classname, "acme");
        assert_eq!(line, &expected.to_string());
    }
    assert!(j.messages.iter().any(|m| m.contains("503")), "{j:?}");
}

#[test]
fn tap_on_stdout_has_a_matching_plan() {
    let p = mixed();
    let out = p.run(&["--format", "tap"], &[]);
    assert_eq!(out.code, 1, "{out:?}");
    let mut lines = out.stdout.lines();
    assert_eq!(lines.next(), Some("TAP version 14"), "{out:?}");
    let plan = lines.next().unwrap();
    let planned: usize = plan.strip_prefix("1..").expect("the plan").parse().unwrap();
    let points: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("ok ") || l.starts_with("not ok "))
        .collect();
    assert_eq!(planned, points.len(), "{out:?}");
    assert_eq!(planned, 6);
    for (i, point) in points.iter().enumerate() {
        let rest = point.strip_prefix("not ").unwrap_or(point);
        assert!(rest.starts_with(&format!("ok {} - ", i + 1)), "{point}");
    }
    assert!(points[1].starts_with("not ok 2 - acme: GET /fail"));
    assert!(points[2].contains("# SKIP"));
    assert!(points[4].contains("# TODO"));
}

// ---------------------------------------------------------------------------------------------
// Any combination in one run; reports on exit 1 too

#[test]
fn human_on_stdout_and_both_files_on_exit_1_and_on_exit_0() {
    let p = Project::new(&[("acme.yaml", MIXED), ("beta.yaml", PASSING)]);
    fs::create_dir(p.path("out")).unwrap();
    let out = p.run(&["--json", "out/a.json", "--junit", "out/b.xml"], &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("Endpoint Checks"), "{out:?}");
    assert!(out.stdout.contains("✗ GET /fail"), "{out:?}");
    assert!(
        out.stdout.contains("1 of 7 customer endpoint checks failed"),
        "{out:?}"
    );
    let doc: Value = serde_json::from_str(&p.read("out/a.json")).unwrap();
    assert_eq!(doc["summary"]["total"], 7);
    assert_eq!(doc["summary"]["failed"], 1);
    assert_eq!(doc["suites"].as_array().unwrap().len(), 2);
    let j = parse_junit(&p.read("out/b.xml"));
    assert_junit_adds_up(&j);
    assert_eq!(j.root.tests, 7);
    assert_eq!(j.suites.len(), 2);
    assert_eq!(entries(&p.path("out")), ["a.json", "b.xml"]);

    // A passing run replaces both files whole.
    let out = p.run(
        &[
            "--customer",
            "beta",
            "--json",
            "out/a.json",
            "--junit",
            "out/b.xml",
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("All customer endpoint tests passed"),
        "{out:?}"
    );
    let doc: Value = serde_json::from_str(&p.read("out/a.json")).unwrap();
    assert_eq!(doc["summary"]["total"], 1);
    assert_eq!(doc["summary"]["passed"], 1);
    let j = parse_junit(&p.read("out/b.xml"));
    assert_junit_adds_up(&j);
    assert_eq!(j.root.tests, 1);
    assert_eq!(entries(&p.path("out")), ["a.json", "b.xml"]);
}

#[test]
fn a_machine_format_on_stdout_and_the_other_in_a_file() {
    let p = mixed();
    let out = p.run(&["--format", "tap", "--json", "a.json", "--junit", "b.xml"], &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.starts_with("TAP version 14\n1..6\n"), "{out:?}");
    let from_file: Value = serde_json::from_str(&p.read("a.json")).unwrap();
    assert_eq!(from_file["summary"]["total"], 6);
    assert_junit_adds_up(&parse_junit(&p.read("b.xml")));

    // The JSON on stdout and the one in the file are the same report.
    let out = p.run(&["--format", "json", "--json", "a.json"], &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(normalise(&out.stdout, &p), normalise(&p.read("a.json"), &p));
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

// ---------------------------------------------------------------------------------------------
// The preflight: a report path that cannot be written is exit 2 before any request

#[test]
fn a_report_in_a_missing_folder_is_exit_2_before_any_request() {
    let p = mixed();
    for flag in ["--json", "--junit"] {
        let out = p.run(&[flag, "no/such/folder/report.out"], &[]);
        assert_eq!(out.code, 2, "{flag}: {out:?}");
        assert!(out.stderr.contains("does not exist"), "{flag}: {out:?}");
        assert!(out.stderr.contains("no/such/folder"), "{flag}: {out:?}");
        assert!(out.stdout.is_empty(), "{flag}: {out:?}");
    }
    // A folder given as the report path is refused the same way.
    fs::create_dir(p.path("out")).unwrap();
    let out = p.run(&["--json", "out"], &[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(p.server.requests(), 0, "a request was sent");
    assert!(entries(&p.path("out")).is_empty());
    assert!(!p.path("no").exists());
}

// ---------------------------------------------------------------------------------------------
// Interrupted runs

const SLOW: &str = r#"customer: acme
checks:
  - name: fast
    request: { path: /ok }

  - name: slow
    needs: [fast]
    request: { path: /slow }

  - name: after slow
    needs: [slow]
    request: { path: /ok }
"#;

fn interrupted_run(signal: libc::c_int, expected_code: i32) {
    let p = Project::new(&[("acme.yaml", SLOW)]);
    fs::create_dir(p.path("out")).unwrap();
    let running = Running::spawn(p.command(&["--json", "out/a.json", "--junit", "out/b.xml"]));
    // `slow` needs `fast`: once the server holds `/slow`, `fast` has finished.
    p.server
        .wait_until(Duration::from_secs(20), "the server sees /slow", |s| {
            s.hits("/slow") > 0
        });
    let sent = Instant::now();
    running.signal(signal);
    // 2 s of grace for the check in flight, then the reports; `/slow` itself holds for 5 s.
    let run = running.wait(Duration::from_secs(30));
    let took = sent.elapsed();
    let status = run.code;
    let out = Output::of(run);
    assert_eq!(status, Some(expected_code), "{out:?}");
    assert!(
        took < Duration::from_millis(4500),
        "took {took:?} to stop: {out:?}"
    );

    // Both reports complete, with what finished.
    assert_eq!(entries(&p.path("out")), ["a.json", "b.xml"], "{out:?}");
    let doc: Value = serde_json::from_str(&p.read("out/a.json")).unwrap();
    assert_eq!(
        doc["summary"],
        json!({ "total": 3, "passed": 1, "failed": 0, "skipped": 2, "warned": 0 })
    );
    let checks = &doc["suites"][0]["checks"];
    assert_eq!(checks[0]["status"], "passed");
    assert_eq!(checks[1]["status"], "skipped");
    assert_eq!(checks[1]["skip_reason"], "interrupted");
    assert!(checks[1]["request"].is_null());
    assert_eq!(checks[1]["samples"], 0);
    assert_eq!(checks[2]["status"], "skipped");
    let j = parse_junit(&p.read("out/b.xml"));
    assert_junit_adds_up(&j);
    assert_eq!(
        j.root,
        Counts {
            tests: 3,
            failures: 0,
            errors: 0,
            skipped: 2
        }
    );
    assert!(j.messages.iter().any(|m| m == "interrupted"), "{j:?}");
    // The human output says what finished.
    assert!(out.stdout.contains("✓ fast"), "{out:?}");
    assert!(out.stdout.contains("skipped: interrupted"), "{out:?}");
}

#[test]
fn sigint_mid_run_exits_130_with_complete_reports() {
    interrupted_run(libc::SIGINT, 130);
}

#[test]
fn sigterm_mid_run_exits_143_with_complete_reports() {
    interrupted_run(libc::SIGTERM, 143);
}

// ---------------------------------------------------------------------------------------------
// GitHub Actions

/// The failing check of MIXED: its line and its annotation.
fn fail_annotation() -> String {
    let line = item_lines(MIXED)[1];
    format!("::error file=suites/acme.yaml,line={line},title=acme%3A GET /fail::expected status 200, got 503")
}

#[test]
fn github_annotations_on_stdout_with_human_output() {
    let p = mixed();
    let out = p.run(&[], &[("GITHUB_ACTIONS", "true")]);
    assert_eq!(out.code, 1, "{out:?}");
    let annotations: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(annotations.len(), 2, "{out:?}");
    assert!(annotations[0].starts_with(&fail_annotation()), "{out:?}");
    let warned_line = item_lines(MIXED)[4];
    assert!(
        annotations[1].starts_with(&format!(
            "::warning file=suites/acme.yaml,line={warned_line},title=acme%3A optional and down::"
        )),
        "{out:?}"
    );
    assert!(!out.stderr.contains("::error"), "{out:?}");

    // An absolute --suites path is still shown relative to the current folder.
    let mut c = p.command(&[]);
    c.env("GITHUB_ACTIONS", "true");
    let abs = p.path("suites");
    c.args(["--suites", abs.to_str().unwrap()]);
    let out = Output::of(support::process::run(c));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains(&fail_annotation()), "{out:?}");

    // Not on GitHub: no annotations.
    let out = p.run(&[], &[("GITHUB_ACTIONS", "false")]);
    assert!(!out.stdout.contains("::error"), "{out:?}");
}

#[test]
fn github_annotations_on_stderr_when_stdout_carries_a_report() {
    let p = mixed();
    for format in ["json", "junit", "tap"] {
        let out = p.run(&["--format", format], &[("GITHUB_ACTIONS", "true")]);
        assert_eq!(out.code, 1, "{format}: {out:?}");
        assert!(!out.stdout.contains("::error"), "{format}: {out:?}");
        assert!(out.stderr.contains(&fail_annotation()), "{format}: {out:?}");
        if format == "json" {
            out.json();
        }
    }
}

#[test]
fn github_step_summary_is_appended_to() {
    let p = mixed();
    let summary = p.path("summary.md");
    fs::write(&summary, "# Earlier step\n\n").unwrap();
    let envs = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
    ];
    let out = p.run(&[], &envs);
    assert_eq!(out.code, 1, "{out:?}");
    let once = fs::read_to_string(&summary).unwrap();
    assert!(once.starts_with("# Earlier step\n\n"), "{once}");
    assert_eq!(once.matches("| Customer | Check | Status |").count(), 1, "{once}");
    assert!(once.contains("| acme | GET /fail | ❌ failed |"), "{once}");
    assert!(once.contains("1 of 6 checks failed"), "{once}");

    let out = p.run(&["--format", "json"], &envs);
    assert_eq!(out.code, 1, "{out:?}");
    let twice = fs::read_to_string(&summary).unwrap();
    assert!(
        twice.starts_with(&once),
        "the first summary was changed:\n{twice}"
    );
    assert_eq!(
        twice.matches("| Customer | Check | Status |").count(),
        2,
        "{twice}"
    );

    // Without GITHUB_ACTIONS the summary file is left alone.
    let out = p.run(&[], &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(fs::read_to_string(&summary).unwrap(), twice);
}

// ---------------------------------------------------------------------------------------------
// Secrets

const SECRET_SUITE: &str = r#"customer: acme
checks:
  - name: secret check
    request:
      path: /echo
      query: { token: "${API_TOKEN}" }
      headers: { authorization: "Bearer ${API_TOKEN}" }
    expect:
      status: 200
      headers: { x-echo: nope }
      body: { contains: never-there }
"#;

#[test]
fn a_secret_appears_in_no_output_and_no_report() {
    secret_stays_hidden(SECRET);
}

/// A secret with characters a URL query encodes (`%2F`, `%2B`, `%26`, `+` for the space) is
/// masked in its encoded form too.
#[test]
fn a_secret_needing_url_encoding_appears_in_no_output_and_no_report() {
    secret_stays_hidden("tok s3cr3t/v+l&u=e");
}

fn secret_stays_hidden(secret: &str) {
    let p = Project::new(&[("acme.yaml", SECRET_SUITE)]);
    let summary = p.path("summary.md");
    for format in ["human", "json", "junit", "tap"] {
        let _ = fs::remove_file(&summary);
        let out = p.run(
            &["--format", format, "-vv", "--json", "a.json", "--junit", "b.xml"],
            &[
                ("API_TOKEN", secret),
                ("GITHUB_ACTIONS", "true"),
                ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
            ],
        );
        assert_eq!(out.code, 1, "{format}: {out:?}");
        let files = [
            ("a.json", p.read("a.json")),
            ("b.xml", p.read("b.xml")),
            ("summary", fs::read_to_string(&summary).unwrap()),
        ];
        for (what, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)]
            .into_iter()
            .chain(files.iter().map(|(w, t)| (*w, t)))
        {
            assert!(
                !text.contains(secret),
                "{format}: the secret is in {what}:\n{text}"
            );
            assert!(
                !text.contains("s3cr3t"),
                "{format}: part of the secret is in {what}:\n{text}"
            );
        }
        // The check did run, and what carried the secret is there, masked.
        let doc: Value = serde_json::from_str(&files[0].1).unwrap();
        let check = &doc["suites"][0]["checks"][0];
        assert_eq!(check["status"], "failed");
        assert!(
            check["request"]["url"]
                .as_str()
                .unwrap()
                .ends_with("/echo?token=***")
        );
        // The echoed authorization header is the whole secret header value: masked whole.
        assert!(
            check["failures"].to_string().contains(r#"found \"***\""#),
            "{check}"
        );
        let annotations = if format == "human" {
            &out.stdout
        } else {
            &out.stderr
        };
        assert!(
            annotations.contains("::error file=suites/acme.yaml,line=3,"),
            "{out:?}"
        );
        if format == "human" {
            // -vv shows the exchange: headers both ways and the body, masked.
            assert!(out.stdout.contains("***"), "{out:?}");
            assert!(out.stdout.contains("x-echo"), "{out:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The progress bar stays out of piped output

#[test]
fn no_progress_bar_when_stderr_is_piped_or_ci_is_set() {
    let p = Project::new(&[("acme.yaml", MIXED), ("beta.yaml", PASSING)]);
    let durations = regex::Regex::new(r"<?\d+(\.\d+)? (ms|s)\b").unwrap();
    let clean = |s: &str| durations.replace_all(s, "[time]").into_owned();
    let mut stdouts = Vec::new();
    for envs in [
        &[][..],
        &[("CI", "1")][..],
        &[("CI", "true"), ("TERM", "xterm-256color")][..],
    ] {
        let out = p.run(&[], envs);
        assert_eq!(out.code, 1, "{envs:?}: {out:?}");
        for text in [&out.stderr, &out.stdout] {
            assert!(!text.contains("\x1b["), "{envs:?}: a control sequence: {out:?}");
            assert!(!text.contains('\r'), "{envs:?}: a carriage return: {out:?}");
        }
        assert!(out.stderr.is_empty(), "{envs:?}: {out:?}");
        stdouts.push(clean(&out.stdout));
    }
    assert_eq!(stdouts[0], stdouts[1]);
    assert_eq!(stdouts[0], stdouts[2]);
    // The same holds for a machine format on stdout.
    let a = p.run(&["--format", "tap"], &[]);
    let b = p.run(&["--format", "tap"], &[("CI", "1")]);
    assert!(a.stderr.is_empty() && b.stderr.is_empty(), "{a:?}\n{b:?}");
    assert_eq!(normalise(&a.stdout, &p), normalise(&b.stdout, &p));
}

/// A check whose exchange ended without a complete response has `"response": null` in the JSON
/// report, never an object with a `null` status: refused, timed out, and reset after the status
/// line (docs/reports.md, "JSON").
#[test]
fn no_complete_response_is_a_null_response() {
    let refused = support::server::RefusingPort::new();
    let silent = TestServer::builder()
        .route("/hang", Reply::json(json!({})).delay(Duration::from_secs(5)))
        .start();
    let reset = support::server::resetting();
    let answered = server();
    let suite = format!(
        "customer: x\nchecks:\n  - name: refused\n    request: {{ url: \"{}/ok\" }}\n  - name: timed out\n    request: {{ url: \"{}/hang\" }}\n  - name: reset\n    request: {{ url: \"{}/\" }}\n  - name: answered\n    request: {{ url: \"{}/fail\" }}\n",
        refused.url(),
        silent.url(),
        reset.url(),
        answered.url()
    );
    let ws = Workspace::suite(&suite);
    let run = ws.run(&answered, &["--timeout", "300ms", "--json", "report.json"]);
    run.code(1);
    let report = ws.report();
    for name in ["refused", "timed out", "reset"] {
        let check = support::check(&report, name);
        assert_eq!(check["status"], "failed", "{check}");
        assert!(check["response"].is_null(), "{name}: {check}");
        assert!(check["request"].is_object(), "{name}: {check}");
    }
    assert_eq!(
        support::check(&report, "answered")["response"],
        json!({ "status": 503 })
    );
}
