//! Metrics (docs/metrics.md): `--metrics`, `--pushgateway` against a real Pushgateway and a
//! server that fails, the alert rules under `promtool`, and Prometheus combining regions.

mod support;

use std::time::Duration;
use support::process::Run;
use support::prometheus::{self, Prometheus, Pushgateway};
use support::server::{RefusingPort, Reply, TestServer};
use support::workspace::Workspace;

const SUITE: &str = "\
customer: acme
checks:
  - name: GET /api
    request: { path: /api }
    samples: 40
    expect: { status: 200, latency: { p95: 200ms } }
";

fn run(ws: &Workspace, server: &TestServer, args: &[&str]) -> Run {
    ws.run(server, args)
}

#[test]
fn the_alert_rules_pass_promtool() {
    let rules = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/prometheus/alerts.yml");
    let (ok, out) = prometheus::check_rules(&rules);
    assert!(ok, "{out}");
    assert!(out.contains("3 rules found"), "{out}");
}

#[test]
fn a_metrics_file_is_openmetrics_with_the_limits_as_bucket_edges() {
    let server = TestServer::answering(200);
    let ws = Workspace::suite(SUITE);
    let path = ws.path().join("run.prom");
    run(
        &ws,
        &server,
        &["--region", "eu-west", "--metrics", &path.display().to_string()],
    )
    .code(0);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    let labels = r#"environment="localhost",region="eu-west",customer="acme",check="GET /api""#;
    for line in [
        format!("endpoint_check_check_success{{{labels}}} 1"),
        format!("endpoint_check_samples_total{{{labels}}} 40"),
        format!("endpoint_check_sample_failures_total{{{labels}}} 0"),
        format!("endpoint_check_latency_seconds_bucket{{le=\"0.2\",{labels}}} 40"),
        format!("endpoint_check_latency_seconds_count{{{labels}}} 40"),
        r#"endpoint_check_run_checks{environment="localhost",region="eu-west",status="skipped"} 0"#
            .to_string(),
    ] {
        assert!(text.contains(&line), "{line} missing from:\n{text}");
    }
    assert!(
        text.contains("# TYPE endpoint_check_run_timestamp_seconds gauge"),
        "{text}"
    );
}

#[test]
fn a_push_reaches_a_real_pushgateway_under_its_grouping_key() {
    let gateway = Pushgateway::start();
    let server = TestServer::answering(200);
    let ws = Workspace::suite(SUITE);
    run(
        &ws,
        &server,
        &["--region", "eu/west", "--pushgateway", &gateway.url()],
    )
    .code(0);
    let scraped = gateway.metrics();
    assert!(
        scraped.contains("# TYPE endpoint_check_samples_total counter"),
        "{scraped}"
    );
    assert!(scraped.contains(r#"region="eu/west""#), "{scraped}");
    assert!(scraped.contains(r#"job="endpoint-check""#), "{scraped}");
}

#[test]
fn a_push_uses_base64_for_a_value_with_a_slash() {
    let gateway = TestServer::answering(200);
    let server = TestServer::answering(200);
    let ws = Workspace::suite(SUITE);
    run(
        &ws,
        &server,
        &["--region", "eu/west", "--pushgateway", &gateway.url()],
    )
    .code(0);
    let pushed = gateway.recorded();
    assert_eq!(pushed.len(), 1);
    assert_eq!(pushed[0].method, "PUT");
    assert_eq!(
        pushed[0].path,
        "/metrics/job/endpoint-check/environment/localhost/region@base64/ZXUvd2VzdA=="
    );
    assert!(
        pushed[0]
            .header("content-type")
            .unwrap()
            .contains("version=0.0.4")
    );
}

#[test]
fn a_failed_push_is_an_error_that_keeps_the_runs_exit_code() {
    let server = TestServer::answering(200);
    let ws = Workspace::suite(SUITE);
    let broken = TestServer::answering(500);
    run(&ws, &server, &["--pushgateway", &broken.url()])
        .code(0)
        .stderr_has("error: pushing metrics to ")
        .stderr_has("failed: status 500");
    let down = RefusingPort::new();
    run(&ws, &server, &["--pushgateway", &down.url()])
        .code(0)
        .stderr_has("error: pushing metrics to ");
    let failing = TestServer::answering(503);
    run(&ws, &failing, &["--pushgateway", &down.url()])
        .code(1)
        .stderr_has("error: pushing metrics to ");
}

#[test]
fn prometheus_combines_three_regions_as_merge_does() {
    let gateway = Pushgateway::start();
    let prom = Prometheus::start(&[format!("127.0.0.1:{}", gateway.port())]);
    let fast = TestServer::answering(200);
    let slow = TestServer::builder()
        .route("/api", Reply::status(200).delay(Duration::from_millis(300)))
        .start();
    let ws = Workspace::suite(SUITE);
    let mut reports = Vec::new();
    for (region, server, code) in [("a", &fast, 0), ("b", &fast, 0), ("c", &slow, 1)] {
        let json = ws.path().join(format!("{region}.json")).display().to_string();
        run(
            &ws,
            server,
            &[
                "--region",
                region,
                "--json",
                &json,
                "--pushgateway",
                &gateway.url(),
            ],
        )
        .code(code);
        reports.push(json);
    }
    let merged = ws.path().join("merged.json").display().to_string();
    let mut cmd = ws.cmd();
    cmd.arg("merge")
        .args(&reports)
        .args(["--json", &merged, "--color", "never"]);
    Run::of(&mut cmd).code(1);
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&merged).unwrap()).unwrap();
    let p95 = support::check(&doc, "GET /api")["latency_ms"]["p95"]
        .as_f64()
        .unwrap()
        / 1000.0;

    let success = prom.wait_for(
        "endpoint_check_check_success{check=\"GET /api\"}",
        Duration::from_secs(60),
        |r| r.len() == 3,
    );
    for s in &success {
        let expected = if s["metric"]["region"] == "c" { 0.0 } else { 1.0 };
        assert_eq!(prometheus::value(s), expected, "{s}");
    }
    let q =
        "histogram_quantile(0.95, sum by (le) (endpoint_check_latency_seconds_bucket{check=\"GET /api\"}))";
    let result = prom.wait_for(q, Duration::from_secs(30), |r| r.len() == 1);
    let from_prometheus = prometheus::value(&result[0]);
    // Within one bucket: both lie between the same two edges of the exported buckets.
    let edges = [
        0.0,
        0.005,
        0.01,
        0.025,
        0.05,
        0.1,
        0.2,
        0.25,
        0.5,
        1.0,
        2.5,
        5.0,
        10.0,
        f64::INFINITY,
    ];
    let bucket = |v: f64| edges.iter().position(|e| v <= *e).unwrap();
    assert_eq!(
        bucket(from_prometheus),
        bucket(p95),
        "Prometheus {from_prometheus} s vs merge {p95} s"
    );
}
