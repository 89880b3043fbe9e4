//! How requests are built and results ordered (docs/suites.md, docs/behaviour.md#requests, docs/reports.md): the base URL's own path,
//! `url:`, header precedence, the User-Agent, every kind of body, per-check timeouts,
//! `defaults.expect` merging, and output in file order whatever order checks finished in.

mod support;

use serde_json::json;
use std::time::Duration;
use support::process::Run;
use support::server::{Reply, TestServer};
use support::workspace::Workspace;

#[test]
fn paths_join_onto_the_base_url_s_own_path_and_url_is_absolute() {
    let server = TestServer::start();
    let other = TestServer::start();
    let ws = Workspace::suite(&format!(
        r#"customer: urls
checks:
  - name: path
    request: {{ path: /echo/health }}
  - name: path without a slash
    request: {{ path: echo/bare }}
  - name: absolute url
    request: {{ url: "{other}/echo/elsewhere" }}
  - name: query is added
    request: {{ path: "/echo/q?fixed=1", query: {{ region: eu west }} }}
"#,
        other = other.url()
    ));
    let run = Run::of(ws.cmd().args([
        "--base-url",
        &format!("{}/api/", server.url()),
        "-s",
        "suites",
        "--color",
        "never",
    ]));
    run.code(1); // the base path /api/... routes are unknown to the server: 404
    let mut paths: Vec<String> = server.recorded().into_iter().map(|r| r.path).collect();
    paths.sort();
    assert_eq!(paths, ["/api/echo/bare", "/api/echo/health", "/api/echo/q"]);
    let q = &server.recorded_on("/api/echo/q")[0];
    assert_eq!(
        support::server::query_pairs(&q.query),
        [
            ("fixed".to_string(), "1".to_string()),
            ("region".to_string(), "eu west".to_string())
        ]
    );
    assert_eq!(other.hits("/echo/elsewhere"), 1);
    run.passed("absolute url");
}

#[test]
fn headers_merge_defaults_then_check_then_command_line() {
    let server = TestServer::start();
    let ws = Workspace::suite(
        r#"customer: headers
defaults:
  headers:
    X-Layer: from-defaults
    x-defaults-only: d
    x-both: from-defaults
checks:
  - name: merged
    request:
      path: /echo/merged
      headers:
        x-both: from-check
        X-CHECK-ONLY: c
        x-layer: from-check
"#,
    );
    ws.run(&server, &["-H", "x-layer: from-cli"]).code(0);
    let got = &server.recorded_on("/echo/merged")[0];
    assert_eq!(got.header("x-layer"), Some("from-cli"));
    assert_eq!(got.header("x-both"), Some("from-check"));
    assert_eq!(got.header("x-defaults-only"), Some("d"));
    assert_eq!(got.header("x-check-only"), Some("c"));
    assert_eq!(
        got.headers.iter().filter(|(n, _)| n == "x-layer").count(),
        1,
        "a header set at several levels is sent once"
    );
    assert_eq!(
        got.header("user-agent"),
        Some(concat!("endpoint-check/", env!("CARGO_PKG_VERSION")))
    );
}

#[test]
fn json_text_form_and_file_bodies() {
    let server = TestServer::start();
    let ws = Workspace::suite(
        r#"customer: bodies
variables:
  who: world
checks:
  - name: json
    request:
      method: POST
      path: /echo/json
      json: { greeting: "hello ${who}", n: 1.5, list: [true, null] }
  - name: text
    request:
      method: PUT
      path: /echo/text
      body: "hello ${who}"
  - name: form
    request:
      method: POST
      path: /echo/form
      form: { name: "a b", who: "${who}" }
  - name: file
    request:
      method: POST
      path: /echo/file
      body_file: ../upload.json
  - name: own content type
    request:
      method: POST
      path: /echo/typed
      headers: { content-type: application/vnd.test+json }
      json: { a: 1 }
"#,
    );
    std::fs::write(
        ws.path().join("upload.json"),
        r#"{"from": "a file ${not_expanded}"}"#,
    )
    .unwrap();
    ws.run(&server, &[]).code(0);

    let json_req = &server.recorded_on("/echo/json")[0];
    assert_eq!(json_req.method, "POST");
    assert_eq!(json_req.header("content-type"), Some("application/json"));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&json_req.body).unwrap(),
        json!({"greeting": "hello world", "n": 1.5, "list": [true, null]})
    );
    let text = &server.recorded_on("/echo/text")[0];
    assert_eq!(text.method, "PUT");
    assert_eq!(text.body, "hello world");
    assert!(text.header("content-type").unwrap().starts_with("text/plain"));
    let form = &server.recorded_on("/echo/form")[0];
    assert_eq!(
        form.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        support::server::query_pairs(&form.body),
        [
            ("name".to_string(), "a b".to_string()),
            ("who".to_string(), "world".to_string())
        ]
    );
    let file = &server.recorded_on("/echo/file")[0];
    assert_eq!(file.body, r#"{"from": "a file ${not_expanded}"}"#);
    assert_eq!(file.header("content-type"), Some("application/json"));
    let typed = &server.recorded_on("/echo/typed")[0];
    assert_eq!(typed.header("content-type"), Some("application/vnd.test+json"));
}

#[test]
fn a_check_s_own_timeout_wins_over_the_flag() {
    let server = TestServer::builder()
        .route("/slow", Reply::json(json!({})).delay(Duration::from_millis(400)))
        .start();
    let ws = Workspace::suite(
        r#"customer: timeouts
checks:
  - name: patient
    request: { path: /slow }
    timeout: 5s
  - name: impatient
    request: { path: /slow }
"#,
    );
    let run = ws.run(&server, &["--timeout", "100ms"]);
    run.code(1).passed("patient").failed("impatient");
    assert!(run.lines_under("impatient")[0].starts_with("timed out after 100 ms"));
}

#[test]
fn defaults_expect_merges_key_by_key_and_the_check_wins() {
    let server = TestServer::builder()
        .route(
            "/doc",
            Reply::json(json!({"a": 1, "b": 2})).header("x-kind", "doc"),
        )
        .start();
    let ws = Workspace::suite(
        r#"customer: merge
defaults:
  expect:
    status: 200
    headers: { x-kind: doc }
    json: { $.a: 1, $.b: 3 }
checks:
  - name: overrides b
    request: { path: /doc }
    expect:
      json: { $.b: 2 }
  - name: inherits everything
    request: { path: /doc }
  - name: overrides status
    request: { path: /status/404 }
    expect:
      status: 404
      headers: { x-kind: { exists: false } }
      json: { $.a: { exists: false }, $.b: { exists: false } }
"#,
    );
    ws.run(&server, &[])
        .code(1)
        .passed("overrides b")
        .failures("inherits everything", &["$.b: expected 3, found 2"])
        .passed("overrides status");
}

#[test]
fn results_are_printed_in_file_order_not_completion_order() {
    let server = TestServer::builder()
        .route("/slow", Reply::json(json!({})).delay(Duration::from_millis(200)))
        .start();
    let ws = Workspace::new(&[
        (
            "a.yaml",
            "customer: first\nchecks:\n  - name: slow one\n    request: { path: /slow }\n  - name: fast one\n    request: { path: /ok }\n",
        ),
        (
            "b.yaml",
            "customer: second\nchecks:\n  - name: fast two\n    request: { path: /ok }\n",
        ),
    ]);
    let run = ws.run(&server, &[]);
    run.code(0);
    let at = |text: &str| run.stdout.find(text).unwrap_or_else(|| panic!("{text} missing"));
    assert!(at("slow one") < at("fast one"));
    assert!(at("fast one") < at("Running second"));
    assert!(at("Running second") < at("fast two"));
    assert_eq!(server.requests(), 3);
}

#[test]
fn a_finished_suite_is_printed_while_a_later_one_still_runs() {
    // The second suite's check takes 5 s. Printed as it finishes, the first suite's block comes
    // within a fraction of a second; printed at the end, it could not come before 5 s.
    let hold = Duration::from_secs(5);
    let server = TestServer::builder()
        .route("/slow", Reply::json(json!({})).delay(hold))
        .start();
    let ws = Workspace::new(&[
        (
            "a.yaml",
            "customer: first\nchecks:\n  - name: fast one\n    request: { path: /ok }\n",
        ),
        (
            "b.yaml",
            "customer: second\nchecks:\n  - name: slow two\n    request: { path: /slow }\n",
        ),
    ]);
    let started = std::time::Instant::now();
    let mut child = support::bin::endpoint_check_std()
        .current_dir(ws.path())
        .args(["--base-url", &server.url(), "-s", "suites", "--color", "never"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn endpoint-check");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    let mut first_block = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("a line of stdout");
        let done = line.trim() == "1 passing";
        first_block.push(line);
        if done {
            break;
        }
    }
    let first_block_after = started.elapsed();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().expect("the child ends");
    assert!(
        first_block.iter().any(|l| l.contains("fast one")),
        "{first_block:?}"
    );
    assert!(
        first_block_after < hold - Duration::from_secs(1),
        "the first suite's block came after {first_block_after:?}, once the slow suite was done"
    );
    assert!(rest.iter().any(|l| l.contains("slow two")), "{rest:?}");
    assert_eq!(status.code(), Some(0));
}
