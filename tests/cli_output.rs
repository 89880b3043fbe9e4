//! What the binary prints (docs/cli.md, docs/reports.md): the human report (snapshot), `-q`, `-v`/`-vv`, secret
//! masking, `list`, `validate` and `completions`.

mod support;

use regex::Regex;
use serde_json::json;
use support::bin::endpoint_check;
use support::process::Run;
use support::server::{Reply, TestServer};
use support::workspace::Workspace;

/// Durations and the server's port vary from run to run.
fn normalise(text: &str, server: &TestServer) -> String {
    let durations = Regex::new(r"(<1 ms|\d+ ms|\d+(\.\d+)? s)\b").unwrap();
    let text = text.replace(&server.port().to_string(), "PORT");
    durations.replace_all(&text, "N ms").into_owned()
}

#[test]
fn human_output_snapshot() {
    let server = TestServer::builder()
        .route("/items", Reply::json(json!({"items": [1, 2], "edges": []})))
        .start();
    let ws = Workspace::new(&[
        (
            "a_shop.yaml",
            r#"customer: shop.example
title: Shop Critical Endpoints
checks:
  - name: GET /items
    request: { path: /items }
    expect:
      json: { $.items: { type: array, min_length: 1 } }
  - name: GET /edges
    request: { path: /items }
    expect:
      json: { $.edges: { min_length: 1 } }
  - name: GET /edges/:id
    request: { path: /items/1 }
    needs: [GET /edges]
  - name: GET /beta
    request: { path: /status/503 }
    optional: true
  - name: SLA /items
    request: { path: /items }
    samples: 3
"#,
        ),
        (
            "b_blog.yaml",
            r#"customer: blog.example
checks:
  - name: GET /
    request: { path: /ok }
"#,
        ),
    ]);
    let run = ws.run(&server, &[]);
    run.code(1);
    assert_eq!(run.stderr, "", "nothing on stderr");
    insta::assert_snapshot!("human_output", normalise(&run.stdout, &server));
}

#[test]
fn color_never_and_non_terminal_stdout_print_no_escape_codes() {
    let server = TestServer::start();
    let ws = Workspace::suite(
        "customer: x\nchecks:\n  - name: fine\n    request: { path: /ok }\n  - name: broken\n    request: { path: /status/500 }\n",
    );
    let run = ws.run(&server, &[]);
    assert!(!run.stdout.contains('\u{1b}'), "{:?}", run.stdout);
    // `auto` with stdout a pipe: no colors either.
    let auto = Run::of(ws.cmd().args(["--base-url", &server.url(), "-s", "suites"]));
    assert!(!auto.stdout.contains('\u{1b}'), "{:?}", auto.stdout);
    let always = Run::of(
        ws.cmd()
            .args(["--base-url", &server.url(), "-s", "suites", "--color", "always"]),
    );
    assert!(always.stdout.contains('\u{1b}'), "{:?}", always.stdout);
}

#[test]
fn quiet_prints_only_failures_and_the_summary() {
    let server = TestServer::start();
    let ws = Workspace::new(&[
        (
            "a.yaml",
            "customer: mixed\nchecks:\n  - name: fine\n    request: { path: /ok }\n  - name: broken\n    request: { path: /status/500 }\n",
        ),
        (
            "b.yaml",
            "customer: all-good\nchecks:\n  - name: also fine\n    request: { path: /ok }\n",
        ),
    ]);
    let run = ws.run(&server, &["-q"]);
    run.code(1)
        .failed("broken")
        .stdout_lacks("fine (")
        .stdout_lacks("all-good")
        .stdout_has("❌ 1 of 3 customer endpoint checks failed");
}

#[test]
fn verbose_shows_the_exchange_of_failures_and_vv_of_every_check() {
    let server = TestServer::start();
    let ws = Workspace::suite(
        r#"customer: v
checks:
  - name: fine
    request: { path: /echo/fine }
  - name: broken
    request:
      method: POST
      path: /echo/broken
      json: { hello: world }
    expect: { status: 201 }
"#,
    );
    let v = ws.run(&server, &["-v"]);
    v.code(1);
    let broken = v.lines_under("broken");
    assert_eq!(broken[0], "expected status 201, got 200");
    assert!(
        broken.contains(&format!("> POST {}/echo/broken", server.url())),
        "{broken:?}"
    );
    assert!(broken.iter().any(|l| l.starts_with("< 200")), "{broken:?}");
    assert!(
        broken.iter().any(|l| l.contains(r#"{"hello":"world"}"#)),
        "{broken:?}"
    );
    assert!(v.lines_under("fine").is_empty(), "{}", v.stdout);

    let vv = ws.run(&server, &["-vv"]);
    let fine = vv.lines_under("fine");
    assert!(
        fine.contains(&format!("> GET {}/echo/fine", server.url())),
        "{fine:?}"
    );
    assert!(fine.iter().any(|l| l.starts_with("< 200")), "{fine:?}");
}

// ---------------------------------------------------------------------------------------------
// Masking

const PLAIN_SECRET: &str = "tok-S3cr3tValue-9f8e7d";

fn assert_masked(run: &Run, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "secret {secret:?} leaked\n--- stdout\n{}\n--- stderr\n{}",
            run.stdout,
            run.stderr
        );
    }
    assert!(run.stdout.contains("***"), "{}", run.stdout);
}

const LEAKY_SUITE: &str = r#"customer: secrets
checks:
  - name: leaky
    request:
      path: /echo/secure
      headers: { authorization: "Bearer ${API_TOKEN}" }
      query: { token: "${API_TOKEN}" }
    expect:
      status: 201
      json:
        $.query.token: nope
        $.headers.authorization: { eq: nope }
"#;

#[test]
fn a_secret_in_a_header_and_the_url_appears_in_no_output() {
    let server = TestServer::start();
    let ws = Workspace::suite(LEAKY_SUITE);
    let report = ws.path().join("report.json");
    let mut cmd = ws.cmd();
    cmd.env("API_TOKEN", PLAIN_SECRET).args([
        "--base-url",
        &server.url(),
        "-s",
        "suites",
        "--color",
        "never",
        "-vv",
        "--json",
        report.to_str().unwrap(),
    ]);
    let run = Run::of(&mut cmd);
    run.code(1).failed("leaky");
    // The secret was really sent, in the header and in the query...
    let sent = &server.recorded_on("/echo/secure")[0];
    assert_eq!(
        sent.header("authorization").unwrap(),
        format!("Bearer {PLAIN_SECRET}")
    );
    assert!(sent.query.contains(PLAIN_SECRET));
    // ...and shows nowhere: not in the URL, the failures, the -vv request and response dumps.
    assert_masked(&run, &[PLAIN_SECRET]);
    let under = run.lines_under("leaky");
    assert!(
        under.contains(&format!("> GET {}/echo/secure?token=***", server.url())),
        "{under:?}"
    );
    assert!(under.contains(&r#"$.query.token: expected "nope", found "***""#.to_string()));
    assert!(under.contains(&"> authorization: ***".to_string()), "{under:?}");
    let written = std::fs::read_to_string(&report).unwrap();
    assert!(!written.contains(PLAIN_SECRET), "{written}");
    assert!(written.contains("***"), "{written}");
}

#[test]
fn secret_headers_and_variables_are_masked_whatever_their_source() {
    let server = TestServer::start();
    let ws = Workspace::suite(
        r#"customer: secrets
variables:
  api_key: suite-variable-secret-1234
checks:
  - name: leaky
    request:
      path: /echo/secure
      headers:
        x-api-key: "${api_key}"
        cookie: "session=cookie-secret-5678"
      query: { p: "${db_password}" }
    expect: { status: 201 }
"#,
    );
    let mut cmd = ws.cmd();
    cmd.args([
        "--base-url",
        &server.url(),
        "-s",
        "suites",
        "--color",
        "never",
        "-vv",
        "--var",
        "db_password=cli-var-secret-9012",
        "-H",
        "proxy-authorization: Basic cli-header-secret-3456",
    ]);
    let run = Run::of(&mut cmd);
    run.code(1);
    assert_masked(
        &run,
        &[
            "suite-variable-secret-1234",
            "cookie-secret-5678",
            "cli-var-secret-9012",
            "cli-header-secret-3456",
        ],
    );
}

#[test]
fn a_captured_secret_is_masked_and_other_values_are_not() {
    let server = TestServer::builder()
        .route(
            "/login",
            Reply::json(json!({"token": "captured-secret-4242", "region": "eu-west-9"})),
        )
        .start();
    let ws = Workspace::suite(
        r#"customer: secrets
checks:
  - name: login
    request: { path: /login }
    capture: { session_token: $.token, region: $.region }
  - name: use it
    request:
      path: /echo/use
      query: { t: "${session_token}", r: "${region}" }
    expect: { status: 201 }
"#,
    );
    let run = ws.run(&server, &["-vv"]);
    run.code(1);
    assert_masked(&run, &["captured-secret-4242"]);
    // Only secret names are masked: the region is shown as it is.
    run.stdout_has("r=eu-west-9");
}

#[test]
fn a_secret_with_url_special_characters_is_masked_in_the_url_too() {
    // Tokens are often base64: `+`, `/` and `=` are percent-encoded in a query.
    let secret = "dG9rZW4+c2Vj/cmV0==";
    let server = TestServer::start();
    let ws = Workspace::suite(LEAKY_SUITE);
    let mut cmd = ws.cmd();
    cmd.env("API_TOKEN", secret).args([
        "--base-url",
        &server.url(),
        "-s",
        "suites",
        "--color",
        "never",
        "-vv",
    ]);
    let run = Run::of(&mut cmd);
    run.code(1);
    let encoded = "dG9rZW4%2Bc2Vj%2FcmV0%3D%3D";
    assert!(server.recorded_on("/echo/secure")[0].query.contains(encoded));
    assert_masked(&run, &[secret, encoded]);
}

// ---------------------------------------------------------------------------------------------
// list, validate, completions

fn two_suites() -> Workspace {
    Workspace::new(&[
        (
            "a.yaml",
            r#"customer: audio.example
title: Audio Critical Endpoints
tags: [cdn]
checks:
  - name: GET /stream
    request: { path: /stream }
  - name: POST /warm
    request: { path: /warm, method: POST }
    environments: [staging]
"#,
        ),
        (
            "b.yaml",
            r#"customer: jetty.example
checks:
  - name: SLA edges
    request: { path: /edges }
    samples: 5
"#,
        ),
    ])
}

#[test]
fn list_prints_the_environment_suites_and_checks_and_sends_nothing() {
    let server = TestServer::start();
    let ws = two_suites();
    let run = Run::of(
        ws.cmd()
            .args(["list", "--base-url", &server.url(), "-s", "suites"]),
    );
    run.code(0)
        .stdout_has("Environment: localhost\n")
        .stdout_has(&format!("Base URL: {} (from --base-url)\n", server.url()))
        .stdout_has("Audio Critical Endpoints")
        .stdout_has("  GET /stream")
        .stdout_has("  POST /warm")
        .stdout_has("jetty.example")
        .stdout_has("  SLA edges")
        .stdout_has("3 checks in 2 suites");
    assert_eq!(server.requests(), 0);
}

#[test]
fn list_honours_filters_and_an_unknown_environment_exits_3() {
    let server = TestServer::start();
    let ws = two_suites();
    let run = Run::of(ws.cmd().args([
        "list",
        "--base-url",
        &server.url(),
        "-s",
        "suites",
        "--customer",
        "jetty.example",
    ]));
    run.code(0).stdout_has("SLA edges").stdout_lacks("GET /stream");
    Run::of(ws.cmd().args(["list", "nowhere", "-s", "suites"])).code(3);
    // `list` never waits, even when asked to.
    let started = std::time::Instant::now();
    Run::of(ws.cmd().args([
        "list",
        "--base-url",
        "http://127.0.0.1:9",
        "--wait",
        "30s",
        "-s",
        "suites",
    ]))
    .code(0);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(server.requests(), 0);
}

#[test]
fn validate_accepts_good_suites_and_sends_nothing() {
    let ws = two_suites();
    let run = Run::of(ws.cmd().args(["validate", "-s", "suites"]));
    run.code(0).stdout_has("3 checks in 2 suites are valid");
}

#[test]
fn validate_refuses_certificate_files_a_run_could_not_use() {
    let ws = two_suites();
    let run = Run::of(
        ws.cmd()
            .args(["validate", "-s", "suites", "--cacert", "missing-ca.pem"]),
    );
    run.code(2).stderr_has("--cacert missing-ca.pem");
    let run = Run::of(
        ws.cmd()
            .args(["validate", "-s", "suites", "--cert", "c.pem", "--key", "k.pem"]),
    );
    run.code(2);
}

#[test]
fn validate_rejects_a_bad_suite() {
    let ws = two_suites();
    ws.write(
        "c.yaml",
        "customer: bad\nchecks:\n  - name: x\n    request: { path: /x, methd: GET }\n",
    );
    Run::of(ws.cmd().args(["validate", "-s", "suites"]))
        .code(2)
        .stderr_has("suites/c.yaml:4:")
        .stderr_has("did you mean `method`?");
}

#[test]
fn completions_for_bash_zsh_and_fish() {
    for shell in ["bash", "zsh", "fish"] {
        let out = endpoint_check().args(["completions", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("endpoint-check"), "{shell}: {text}");
        assert!(text.contains("fail-fast"), "{shell}: {text}");
    }
    let out = endpoint_check().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
