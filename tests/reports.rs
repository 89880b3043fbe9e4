//! The machine reports (docs/reports.md), rendered from hand-built `RunReport`s with fixed durations so
//! the snapshots are stable.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use endpoint_check::redact::Redactor;
use endpoint_check::report::{
    CheckReport, CheckStatus, Interruption, LatencyStats, RequestSummary, ResponseSummary, RunReport,
    SuiteReport, file, github, json, junit, mask, tap,
};
use quick_xml::events::Event;

const ODD_NAME: &str = "Odd <name> & \"quotes\" 'x' \u{7}bell ünïcødé # ✓ \\ | 100%: a,b";

fn stats(min: f64, p50: f64, p90: f64, p95: f64, p99: f64, max: f64) -> LatencyStats {
    LatencyStats {
        min,
        p50,
        p90,
        p95,
        p99,
        max,
    }
}

fn ran(
    name: &str,
    status: CheckStatus,
    line: usize,
    (method, url): (&str, &str),
    http_status: Option<u16>,
    duration_ms: f64,
    failures: &[&str],
) -> CheckReport {
    CheckReport {
        name: name.to_string(),
        status,
        line,
        request: Some(RequestSummary {
            method: method.to_string(),
            url: url.to_string(),
        }),
        response: http_status.map(|status| ResponseSummary { status }),
        duration_ms: Some(duration_ms),
        samples: 1,
        sampled: false,
        availability: Some(if failures.is_empty() { 100.0 } else { 0.0 }),
        latency_ms: http_status.map(|_| {
            stats(
                duration_ms,
                duration_ms,
                duration_ms,
                duration_ms,
                duration_ms,
                duration_ms,
            )
        }),
        failures: failures.iter().map(|f| f.to_string()).collect(),
        skip_reason: None,
        detail: None,
        passed_samples: usize::from(failures.is_empty()),
        histogram: None,
        sla: None,
        across: Default::default(),
        certificate_not_after: None,
        rate: None,
        timings: None,
    }
}

/// Every kind of result: passed, failed with several failures, skipped, warned, sampled with
/// latency figures, a transport failure with no response, and a name full of awkward characters.
fn sample_report() -> RunReport {
    let base = "https://preview.example.dev";
    let mut sla = ran(
        "SLA compliance",
        CheckStatus::Passed,
        40,
        ("GET", &format!("{base}/api/cdn/status")),
        Some(200),
        2012.46,
        &[],
    );
    sla.samples = 50;
    sla.sampled = true;
    sla.latency_ms = Some(stats(12.04, 41.26, 70.0, 88.35, 120.97, 131.5));

    let mut edges = ran(
        "GET /api/jetty/optimal-edges",
        CheckStatus::Failed,
        22,
        ("GET", &format!("{base}/api/jetty/optimal-edges?region=eu")),
        Some(200),
        312.0,
        &[
            "p95 latency 140 ms is over the 100 ms limit",
            "availability 66.7% is under 99.9%",
        ],
    );
    edges.samples = 3;
    edges.sampled = true;
    edges.availability = Some(200.0 / 3.0);
    edges.latency_ms = Some(stats(80.0, 95.55, 140.0, 140.0, 140.0, 140.0));

    let mut odd = ran(
        ODD_NAME,
        CheckStatus::Failed,
        31,
        ("GET", &format!("{base}/odd?q=<&>")),
        None,
        10003.0,
        &[
            "connection refused: <b>&amp;</b> \u{1b}[31mred\u{1b}[0m",
            "second: 100%, a,b\r\nnext line",
        ],
    );
    odd.response = None;
    odd.availability = Some(0.0);

    RunReport {
        title: "AgentCache Customer Endpoint Tests".to_string(),
        environment: "preview".to_string(),
        base_url: base.to_string(),
        base_url_source: "VERCEL_BRANCH_URL".to_string(),
        duration_ms: 10812.44,
        interrupted: None,
        origin: Default::default(),
        suites: vec![
            SuiteReport {
                customer: "audio1.tv".to_string(),
                title: "audio1.tv Critical Endpoints".to_string(),
                file: "suites/audio1tv.yaml".to_string(),
                checks: vec![
                    ran(
                        "GET /api/cdn/stream",
                        CheckStatus::Passed,
                        12,
                        ("GET", &format!("{base}/api/cdn/stream")),
                        Some(200),
                        43.04,
                        &[],
                    ),
                    ran(
                        "POST /api/transcode/submit",
                        CheckStatus::Failed,
                        20,
                        ("POST", &format!("{base}/api/transcode/submit")),
                        Some(503),
                        2310.25,
                        &[
                            "expected status 200, got 503",
                            "$.jobId: expected to exist, found nothing",
                        ],
                    ),
                    CheckReport::skipped(
                        "GET /api/transcode/status/:jobId",
                        28,
                        "needs \"POST /api/transcode/submit\"",
                    ),
                    sla,
                ],
            },
            SuiteReport {
                customer: "jettythunder.app".to_string(),
                title: "jettythunder.app".to_string(),
                file: "/home/ci/repo/suites/jettythunder.yaml".to_string(),
                checks: vec![
                    ran(
                        "POST /api/muscle/plan",
                        CheckStatus::Warned,
                        8,
                        ("POST", &format!("{base}/api/muscle/plan")),
                        Some(500),
                        88.0,
                        &["expected status 2xx, got 500"],
                    ),
                    edges,
                    odd,
                ],
            },
        ],
    }
}

fn render(f: fn(&RunReport, &mut dyn Write) -> io::Result<()>, report: &RunReport) -> String {
    let mut out = Vec::new();
    f(report, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

// ---- snapshots ---------------------------------------------------------------------------------

#[test]
fn json_snapshot() {
    insta::assert_snapshot!("json", render(json::render, &sample_report()));
}

#[test]
fn junit_snapshot() {
    insta::assert_snapshot!("junit", render(junit::render, &sample_report()));
}

#[test]
fn tap_snapshot() {
    insta::assert_snapshot!("tap", render(tap::render, &sample_report()));
}

#[test]
fn annotations_snapshot() {
    let text = github::annotations_in(&sample_report(), Some(Path::new("/home/ci/repo")));
    insta::assert_snapshot!("annotations", text);
}

#[test]
fn step_summary_snapshot() {
    insta::assert_snapshot!("step_summary", github::step_summary(&sample_report()));
}

#[test]
fn all_passed_and_interrupted_variants() {
    let mut report = sample_report();
    report.suites.truncate(1);
    report.suites[0]
        .checks
        .retain(|c| c.status == CheckStatus::Passed);
    assert_eq!(github::annotations(&report), "");
    let summary = github::step_summary(&report);
    assert!(summary.contains("✅ All 2 checks passed"), "{summary}");

    report.interrupted = Some(Interruption::Sigint);
    assert!(github::step_summary(&report).contains("⛔ Run interrupted by SIGINT"));
    assert!(render(tap::render, &report).ends_with("# interrupted (SIGINT)\n"));
}

// ---- JSON --------------------------------------------------------------------------------------

#[test]
fn json_has_the_documented_shape() {
    let report = sample_report();
    let v: serde_json::Value = serde_json::from_str(&render(json::render, &report)).unwrap();
    let keys = |v: &serde_json::Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(
        keys(&v),
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
    assert_eq!(v["version"], 1);
    assert_eq!(v["duration_ms"], 10812.4);
    assert_eq!(
        keys(&v["summary"]),
        ["total", "passed", "failed", "skipped", "warned"]
    );
    assert_eq!(
        v["summary"],
        serde_json::json!({"total": 7, "passed": 2, "failed": 3, "skipped": 1, "warned": 1})
    );
    let suite = &v["suites"][0];
    assert_eq!(keys(suite), ["customer", "title", "file", "checks"]);

    let checks = suite["checks"].as_array().unwrap();
    assert_eq!(
        keys(&checks[0]),
        [
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
            "sla"
        ]
    );
    assert_eq!(
        keys(&checks[0]["latency_ms"]),
        ["min", "p50", "p90", "p95", "p99", "max"]
    );

    let failed = &checks[1];
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["line"], 20);
    assert_eq!(failed["request"]["method"], "POST");
    assert_eq!(failed["response"]["status"], 503);
    assert_eq!(failed["duration_ms"], 2310.3);
    assert_eq!(failed["failures"].as_array().unwrap().len(), 2);
    assert!(failed["skip_reason"].is_null());

    let skipped = &checks[2];
    assert_eq!(skipped["status"], "skipped");
    for field in ["request", "response", "duration_ms", "availability", "latency_ms"] {
        assert!(skipped[field].is_null(), "{field} of a skipped check");
    }
    assert_eq!(skipped["samples"], 0);
    assert_eq!(skipped["failures"], serde_json::json!([]));
    assert_eq!(skipped["skip_reason"], "needs \"POST /api/transcode/submit\"");

    let sla = &checks[3];
    assert_eq!(sla["samples"], 50);
    assert_eq!(sla["latency_ms"]["p99"], 121.0);
    assert_eq!(sla["latency_ms"]["p50"], 41.3);

    let jetty = &v["suites"][1]["checks"];
    assert_eq!(jetty[0]["status"], "warned");
    assert_eq!(jetty[1]["availability"], 66.6667);
    assert_eq!(jetty[2]["name"], ODD_NAME);
    assert!(jetty[2]["response"].is_null());
}

#[test]
fn a_skipped_check_is_null_even_if_the_runner_filled_fields_in() {
    let mut report = sample_report();
    let c = &mut report.suites[0].checks[0];
    c.status = CheckStatus::Skipped;
    c.skip_reason = Some("interrupted".to_string());
    let v: serde_json::Value = serde_json::from_str(&render(json::render, &report)).unwrap();
    let c = &v["suites"][0]["checks"][0];
    assert!(c["request"].is_null() && c["latency_ms"].is_null() && c["duration_ms"].is_null());
    assert_eq!(c["samples"], 0);
}

// ---- JUnit -------------------------------------------------------------------------------------

#[derive(Debug, Default)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

fn counts_of(e: &quick_xml::events::BytesStart) -> Counts {
    let get = |name: &str| -> usize {
        let a = e
            .try_get_attribute(name)
            .unwrap()
            .unwrap_or_else(|| panic!("missing {name}"));
        a.unescape_value().unwrap().parse().unwrap()
    };
    Counts {
        tests: get("tests"),
        failures: get("failures"),
        errors: get("errors"),
        skipped: get("skipped"),
    }
}

fn attr(e: &quick_xml::events::BytesStart, name: &str) -> String {
    e.try_get_attribute(name)
        .unwrap()
        .unwrap_or_else(|| panic!("missing {name}"))
        .unescape_value()
        .unwrap()
        .into_owned()
}

#[test]
fn junit_parses_back_and_the_counts_add_up() {
    let report = sample_report();
    let xml = render(junit::render, &report);

    // Every character is one XML 1.0 allows.
    for c in xml.chars() {
        assert!(
            matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..),
            "{c:?} in the JUnit output"
        );
    }

    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut root: Option<Counts> = None;
    let mut suites: Vec<(Counts, Counts)> = Vec::new(); // (declared, seen)
    let mut names = Vec::new();
    let mut failure_messages = Vec::new();
    let mut failure_bodies = Vec::new();
    let mut system_out = Vec::new();
    let mut in_failure = false;
    let mut in_system_out = false;
    loop {
        let event = reader.read_event().unwrap();
        match &event {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                b"testsuites" => root = Some(counts_of(e)),
                b"testsuite" => {
                    assert!(e.try_get_attribute("time").unwrap().is_some());
                    suites.push((counts_of(e), Counts::default()))
                }
                b"testcase" => {
                    let seen = &mut suites.last_mut().unwrap().1;
                    seen.tests += 1;
                    names.push(attr(e, "name"));
                    attr(e, "time").parse::<f64>().unwrap();
                    attr(e, "line").parse::<usize>().unwrap();
                    assert!(!attr(e, "classname").is_empty());
                    assert!(!attr(e, "file").is_empty());
                }
                b"failure" => {
                    suites.last_mut().unwrap().1.failures += 1;
                    failure_messages.push(attr(e, "message"));
                    in_failure = matches!(event, Event::Start(_));
                }
                b"skipped" => {
                    suites.last_mut().unwrap().1.skipped += 1;
                    assert!(!attr(e, "message").is_empty());
                }
                b"system-out" => in_system_out = true,
                other => panic!("unexpected element {}", String::from_utf8_lossy(other)),
            },
            Event::Text(t) => {
                let text = t.decode().unwrap();
                let text = quick_xml::escape::unescape(&text).unwrap().into_owned();
                if in_failure {
                    failure_bodies.push(text);
                } else if in_system_out {
                    system_out.push(text);
                }
            }
            Event::GeneralRef(r) => {
                // quick-xml 0.38 reports entity references in text apart; put them back.
                let name = r.decode().unwrap();
                let resolved = quick_xml::escape::unescape(&format!("&{name};"))
                    .unwrap()
                    .into_owned();
                if in_failure {
                    failure_bodies.last_mut().unwrap().push_str(&resolved);
                } else if in_system_out {
                    system_out.last_mut().unwrap().push_str(&resolved);
                }
            }
            Event::End(e) => match e.name().as_ref() {
                b"failure" => in_failure = false,
                b"system-out" => in_system_out = false,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }

    let root = root.expect("a <testsuites> root");
    let summary = report.summary();
    assert_eq!(
        (root.tests, root.failures, root.errors, root.skipped),
        (summary.total, summary.failed, 0, summary.skipped)
    );
    assert_eq!(suites.len(), report.suites.len());
    let mut sum = Counts::default();
    for (declared, seen) in &suites {
        assert_eq!(declared.tests, seen.tests);
        assert_eq!(declared.failures, seen.failures);
        assert_eq!(declared.skipped, seen.skipped);
        assert_eq!(declared.errors, 0);
        sum.tests += declared.tests;
        sum.failures += declared.failures;
        sum.skipped += declared.skipped;
    }
    assert_eq!(
        (sum.tests, sum.failures, sum.skipped),
        (root.tests, root.failures, root.skipped)
    );

    // Names and messages come back as they were, the bell and escape characters replaced.
    assert_eq!(names.last().unwrap(), &ODD_NAME.replace('\u{7}', "\u{FFFD}"));
    assert_eq!(
        failure_messages.last().unwrap(),
        "connection refused: <b>&amp;</b> \u{FFFD}[31mred\u{FFFD}[0m"
    );
    assert_eq!(
        failure_bodies
            .concat()
            .matches("expected status 200, got 503\n$.jobId")
            .count(),
        1
    );
    assert!(failure_bodies.concat().contains("second: 100%, a,b\r\nnext line"));
    assert!(
        system_out
            .concat()
            .contains("warned (optional check failed):\nexpected status 2xx, got 500")
    );
}

// ---- TAP ---------------------------------------------------------------------------------------

#[test]
fn tap_plan_matches_the_test_points() {
    let text = render(tap::render, &sample_report());
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("TAP version 14"));
    assert_eq!(lines.next(), Some("1..7"));
    let points: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("ok ") || l.starts_with("not ok "))
        .collect();
    assert_eq!(points.len(), 7);
    for (i, p) in points.iter().enumerate() {
        let n = p.trim_start_matches("not ").trim_start_matches("ok ");
        assert!(n.starts_with(&format!("{} - ", i + 1)), "{p}");
    }
    assert!(points[2].ends_with("# SKIP needs \"POST /api/transcode/submit\""));
    assert!(points[4].starts_with("not ok 5 - jettythunder.app: POST /api/muscle/plan # TODO warned: "));
    // The `#` and `\` of the odd name are escaped, and the test point holds one line.
    assert!(points[6].contains("\\# ✓ \\\\ |"), "{}", points[6]);
    // Every diagnostic block is YAML that parses.
    let mut block = String::new();
    let mut in_block = false;
    let mut blocks = 0;
    for line in text.lines() {
        match line {
            "  ---" => in_block = true,
            "  ..." => {
                let v: serde_yaml::Value = serde_yaml::from_str(&block).unwrap();
                assert!(v["message"].as_str().is_some());
                block.clear();
                in_block = false;
                blocks += 1;
            }
            l if in_block => {
                block.push_str(l.strip_prefix("  ").unwrap());
                block.push('\n');
            }
            _ => {}
        }
    }
    assert_eq!(blocks, 4); // three failed, one warned
}

// ---- files -------------------------------------------------------------------------------------

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn atomic_write_leaves_the_whole_file_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    let report = sample_report();
    file::write_atomic(&path, &Redactor::new(), |w| json::render(&report, w)).unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), render(json::render, &report));
    assert_eq!(entries(dir.path()), ["report.json"]);

    // Replacing it works the same way.
    file::write_atomic(&path, &Redactor::new(), |w| w.write_all(b"second\n")).unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), "second\n");
    assert_eq!(entries(dir.path()), ["report.json"]);
}

#[test]
fn a_failed_render_leaves_the_old_file_and_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.xml");
    let result = file::write_atomic(&path, &Redactor::new(), |w| {
        w.write_all(b"<testsuites>\n<half")?;
        Err(io::Error::other("interrupted"))
    });
    assert!(result.is_err());
    assert_eq!(entries(dir.path()), Vec::<String>::new());

    fs::write(&path, "old\n").unwrap();
    let result = file::write_atomic(&path, &Redactor::new(), |w| {
        w.write_all(b"new but half")?;
        Err(io::Error::other("interrupted"))
    });
    assert!(result.is_err());
    assert_eq!(fs::read_to_string(&path).unwrap(), "old\n");
    assert_eq!(entries(dir.path()), ["report.xml"]);
}

#[test]
fn check_writable_preflight() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(file::check_writable(&dir.path().join("r.json")), Ok(()));
    assert_eq!(entries(dir.path()), Vec::<String>::new(), "the probe is removed");

    let missing = dir.path().join("no-such-folder").join("r.json");
    let err = file::check_writable(&missing).unwrap_err();
    assert!(err.contains("does not exist"), "{err}");

    let err = file::check_writable(dir.path()).unwrap_err();
    assert!(err.contains("is a folder"), "{err}");

    let plain = dir.path().join("plain");
    fs::write(&plain, "").unwrap();
    let err = file::check_writable(&plain.join("r.json")).unwrap_err();
    assert!(err.contains("not a folder"), "{err}");
}

#[test]
fn append_adds_to_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("summary.md");
    fs::write(&path, "earlier step\n").unwrap();
    let r = Redactor::new();
    r.add("hunter2");
    file::append(&path, &r, "pass hunter2\n").unwrap();
    file::append(&path, &r, "again\n").unwrap();
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        "earlier step\npass ***\nagain\n"
    );
}

// ---- secrets -----------------------------------------------------------------------------------

#[test]
fn secrets_are_absent_from_every_written_report() {
    const SECRET: &str = "s3cr3t-T0ken";
    // A secret with characters every format escapes: only masking the report first catches it.
    const AWKWARD: &str = "p&ss<\"w0rd>%:,";
    let redactor = Redactor::new();
    redactor.add(SECRET);
    redactor.add(AWKWARD);

    let mut report = sample_report();
    let c = &mut report.suites[0].checks[1];
    c.request.as_mut().unwrap().url =
        format!("https://preview.example.dev/api/transcode/submit?key={SECRET}");
    c.failures.push(format!("x-api-key {SECRET} was rejected"));
    c.failures.push(format!("password {AWKWARD} was rejected"));
    let c = &mut report.suites[1].checks[0];
    c.failures.push(format!("token={SECRET}"));
    c.failures.push(format!("token={AWKWARD}"));

    let masked = mask::masked(&report, &redactor);
    let dir = tempfile::tempdir().unwrap();
    let mut written = Vec::new();
    for (name, f) in [
        (
            "r.json",
            json::render as fn(&RunReport, &mut dyn Write) -> io::Result<()>,
        ),
        ("r.xml", junit::render),
        ("r.tap", tap::render),
    ] {
        let path = dir.path().join(name);
        file::write_atomic(&path, &redactor, |w| f(&masked, w)).unwrap();
        written.push((name.to_string(), fs::read_to_string(&path).unwrap()));
    }
    let summary = dir.path().join("summary.md");
    file::append(&summary, &redactor, &github::step_summary(&masked)).unwrap();
    written.push(("summary.md".to_string(), fs::read_to_string(&summary).unwrap()));
    let mut annotations = Vec::new();
    redactor
        .writer(&mut annotations)
        .write_all(github::annotations(&masked).as_bytes())
        .unwrap();
    written.push(("annotations".to_string(), String::from_utf8(annotations).unwrap()));

    for (name, text) in &written {
        // Markdown escapes the mask as `\*\*\*`, which renders as `***`.
        assert!(
            text.contains("***") || text.contains("\\*\\*\\*"),
            "{name} shows the mask:\n{text}"
        );
        for leak in [SECRET, AWKWARD, "p&amp;ss", "p&ss", "p\\u0026ss", "w0rd", "T0ken"] {
            assert!(!text.contains(leak), "{leak:?} leaked into {name}:\n{text}");
        }
    }

    // The writer alone still masks what it can see, for reports rendered without `masked`.
    let path = dir.path().join("plain.json");
    let plain_secret_only = {
        let mut r = sample_report();
        r.base_url = format!("https://x.dev/?t={SECRET}");
        r
    };
    file::write_atomic(&path, &redactor, |w| json::render(&plain_secret_only, w)).unwrap();
    assert!(!fs::read_to_string(&path).unwrap().contains(SECRET));
}
