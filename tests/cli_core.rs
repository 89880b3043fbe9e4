//! The runner through the binary (docs/suites.md, docs/variables.md, docs/behaviour.md#requests, docs/reports.md#check-outcomes): captures and typed variables,
//! dependencies, `optional`, `--fail-fast`, filters, retries, `poll`, the global concurrency
//! limit, redirects, and the exit codes.

mod support;

use serde_json::{Value, json};
use std::time::Duration;
use support::process::{Run, Running};
use support::server::{RefusingPort, Reply, TestServer};
use support::workspace::Workspace;

fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

// ---------------------------------------------------------------------------------------------
// Captures and variables

#[test]
fn captures_chain_three_checks() {
    let server = TestServer::builder()
        .route(
            "/start",
            Reply::json(json!({"jobId": 42, "name": "first"})).header("x-trace", "trace-7"),
        )
        .start();
    let ws = Workspace::suite(
        r#"customer: chain
checks:
  # Declared last-first: captured variables, not file order, decide what runs first.
  - name: third uses the regex capture
    request: { path: "${echoed_path}/again" }
    expect:
      json: { $.path: /echo/jobs/42/again }
  - name: second uses json and header captures
    request:
      method: POST
      path: /echo/jobs/${job_id}
      headers: { x-trace: "${trace}" }
      json: { id: "${job_id}", label: "job-${job_id}", trace: "${trace}" }
    expect:
      json:
        $.json.id: { type: integer, eq: 42 }
        $.json.label: job-42
        "$.headers['x-trace']": trace-7
    capture:
      echoed_path: { regex: '"path":"([^"]+)"' }
  - name: first
    request: { path: /start }
    capture:
      job_id: $.jobId
      trace: { header: x-trace }
"#,
    );
    let run = ws.run(&server, &[]);
    run.code(0)
        .passed("first")
        .passed("second uses json and header captures")
        .passed("third uses the regex capture");

    let paths: Vec<String> = server.recorded().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/start", "/echo/jobs/42", "/echo/jobs/42/again"]);
    let second = &server.recorded_on("/echo/jobs/42")[0];
    assert_eq!(second.method, "POST");
    assert_eq!(second.header("x-trace"), Some("trace-7"));
    assert_eq!(second.header("content-type"), Some("application/json"));
    // A string that is exactly one `${x}` keeps the captured number's type; any other is a string.
    assert_eq!(
        json_of(&second.body),
        json!({"id": 42, "label": "job-42", "trace": "trace-7"})
    );
    assert!(second.body.contains(r#""id":42"#), "{}", second.body);
}

#[test]
fn a_capture_that_matches_nothing_fails_its_check_and_skips_dependents() {
    let server = TestServer::builder()
        .route("/start", Reply::json(json!({"other": 1})))
        .start();
    let ws = Workspace::suite(
        r#"customer: chain
checks:
  - name: first
    request: { path: /start }
    capture: { job_id: $.jobId }
  - name: second
    request: { path: "/echo/${job_id}" }
"#,
    );
    let run = ws.run(&server, &[]);
    run.code(1)
        .failures("first", &["capture `job_id`: $.jobId matched nothing"])
        .skipped("second", r#"needs "first""#);
    assert_eq!(server.requests(), 1);
}

#[test]
fn variables_follow_the_lookup_order() {
    let server = TestServer::start();
    let ws = Workspace::suite(
        r#"customer: vars
variables:
  from_suite: suite-value
  overridden: suite-loses
  from_env_default: "${ENDPOINT_CHECK_TEST_UNSET:-env-default}"
checks:
  - name: variables
    request:
      path: /echo/vars
      query:
        suite: "${from_suite}"
        cli: "${overridden}"
        process: "${EC_TEST_PROCESS_VAR}"
        fallback: "${nowhere:-the-default}"
        nested: "${from_env_default}"
        literal: "$${not_a_variable}"
        run_id: "${run_id}"
        timestamp: "${timestamp}"
        uuid: "${uuid}"
"#,
    );
    let mut cmd = ws.cmd();
    cmd.env("EC_TEST_PROCESS_VAR", "from-process").args([
        "--base-url",
        &server.url(),
        "-s",
        "suites",
        "--color",
        "never",
        "--var",
        "overridden=cli-wins",
    ]);
    Run::of(&mut cmd).code(0);
    let query: std::collections::HashMap<String, String> =
        support::server::query_pairs(&server.recorded_on("/echo/vars")[0].query)
            .into_iter()
            .collect();
    assert_eq!(query["suite"], "suite-value");
    assert_eq!(query["cli"], "cli-wins");
    assert_eq!(query["process"], "from-process");
    assert_eq!(query["fallback"], "the-default");
    assert_eq!(query["nested"], "env-default");
    assert_eq!(query["literal"], "${not_a_variable}");
    assert!(query["run_id"].len() > 3, "{query:?}");
    assert!(query["timestamp"].parse::<u64>().is_ok(), "{query:?}");
    assert_eq!(query["uuid"].len(), 36, "{query:?}");
}

// ---------------------------------------------------------------------------------------------
// Dependencies and optional checks

#[test]
fn dependents_of_a_failed_check_are_skipped_with_the_reason() {
    let server = TestServer::start();
    let ws = Workspace::suite(
        r#"customer: deps
checks:
  - name: login
    request: { path: /status/500 }
  - name: profile
    request: { path: /echo/profile }
    needs: [login]
  - name: settings
    request: { path: /echo/settings }
    needs: [profile]
  - name: independent
    request: { path: /ok }
"#,
    );
    let run = ws.run(&server, &[]);
    run.code(1)
        .failed("login")
        .skipped("profile", r#"needs "login""#)
        .skipped("settings", r#"needs "profile""#)
        .passed("independent")
        .stdout_has("  1 passing, 1 failing, 2 skipped\n")
        .stdout_has("❌ 1 of 4 customer endpoint checks failed");
    assert_eq!(server.hits("/echo/profile"), 0);
    assert_eq!(server.hits("/echo/settings"), 0);
    assert_eq!(server.requests(), 2);
}

#[test]
fn an_optional_failure_warns_exits_zero_and_satisfies_needs() {
    let server = TestServer::start();
    let ws = Workspace::suite(
        r#"customer: optional
checks:
  - name: nice to have
    request: { path: /status/503 }
    optional: true
  - name: after it
    request: { path: /ok }
    needs: [nice to have]
"#,
    );
    let run = ws.run(&server, &[]);
    run.code(0)
        .warned("nice to have")
        .failures("nice to have", &["warning: expected status 2xx, got 503"])
        .passed("after it")
        .stdout_has("  1 passing, 1 warned\n")
        .stdout_has("✅ All customer endpoint tests passed!");
    assert_eq!(server.hits("/ok"), 1);
}

#[test]
fn checks_outside_their_environments_are_skipped() {
    let server = TestServer::start();
    let ws = Workspace::suite(
        r#"customer: envs
checks:
  - name: production only
    request: { path: /echo/prod }
    environments: [production]
  - name: everywhere
    request: { path: /ok }
  - name: after the production check
    request: { path: /echo/after }
    needs: [production only]
"#,
    );
    let run = ws.run(&server, &[]);
    run.code(0)
        .skipped("production only", "not in this environment (runs in: production)")
        .passed("everywhere")
        .skipped("after the production check", r#"needs "production only""#);
    assert_eq!(server.requests(), 1);
}

// ---------------------------------------------------------------------------------------------
// --fail-fast

const FOUR_IN_A_ROW: &str = r#"customer: ff
checks:
  - name: one
    request: { path: /echo/1 }
  - name: two fails
    request: { path: /status/500 }
  - name: three
    request: { path: /echo/3 }
  - name: four
    request: { path: /echo/4 }
"#;

#[test]
fn fail_fast_starts_no_check_after_the_first_failure() {
    let server = TestServer::start();
    let ws = Workspace::suite(FOUR_IN_A_ROW);
    let run = ws.run(&server, &["-j", "1", "--fail-fast"]);
    run.code(1)
        .passed("one")
        .failed("two fails")
        .skipped("three", "--fail-fast: an earlier check failed")
        .skipped("four", "--fail-fast: an earlier check failed");
    let paths: Vec<String> = server.recorded().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/echo/1", "/status/500"], "later checks were sent");
    assert_eq!(server.max_in_flight(), 1);
}

#[test]
fn without_fail_fast_every_check_runs() {
    let server = TestServer::start();
    let ws = Workspace::suite(FOUR_IN_A_ROW);
    let run = ws.run(&server, &["-j", "1"]);
    run.code(1).passed("three").passed("four");
    assert_eq!(server.requests(), 4);
}

#[test]
fn fail_fast_ignores_optional_failures() {
    let server = TestServer::start();
    let ws = Workspace::suite(
        r#"customer: ff
checks:
  - name: optional fails
    request: { path: /status/500 }
    optional: true
  - name: runs anyway
    request: { path: /ok }
"#,
    );
    let run = ws.run(&server, &["-j", "1", "--fail-fast"]);
    run.code(0).warned("optional fails").passed("runs anyway");
    assert_eq!(server.requests(), 2);
}

// ---------------------------------------------------------------------------------------------
// Filters

fn filter_workspace() -> Workspace {
    Workspace::new(&[
        (
            "alpha.yaml",
            r#"customer: Alpha
checks:
  - name: alpha create item
    request: { path: /echo/alpha/create }
    capture: { item: $.path }
  - name: alpha read item
    request: { path: "/echo/alpha/read" }
    needs: [alpha create item]
  - name: alpha uses the capture
    request: { path: "${item}/again" }
  - name: alpha smoke
    request: { path: /echo/alpha/smoke }
    tags: [smoke]
"#,
        ),
        (
            "beta.yaml",
            r#"customer: beta.io
tags: [smoke]
checks:
  - name: beta one
    request: { path: /echo/beta/one }
  - name: beta two
    request: { path: /echo/beta/two }
"#,
        ),
    ])
}

fn sent_paths(server: &TestServer) -> Vec<String> {
    let mut paths: Vec<String> = server.recorded().into_iter().map(|r| r.path).collect();
    paths.sort();
    paths
}

#[test]
fn customer_filter_is_case_insensitive() {
    let server = TestServer::start();
    let ws = filter_workspace();
    let run = ws.run(&server, &["--customer", "BETA.IO"]);
    run.code(0)
        .passed("beta one")
        .passed("beta two")
        .stdout_lacks("alpha")
        .stdout_lacks("Running Alpha");
    assert_eq!(sent_paths(&server), ["/echo/beta/one", "/echo/beta/two"]);
}

#[test]
fn tag_filter_counts_suite_tags() {
    let server = TestServer::start();
    let ws = filter_workspace();
    let run = ws.run(&server, &["--tag", "smoke"]);
    run.code(0)
        .passed("alpha smoke")
        .passed("beta one")
        .passed("beta two")
        .stdout_lacks("alpha create item");
    assert_eq!(
        sent_paths(&server),
        ["/echo/alpha/smoke", "/echo/beta/one", "/echo/beta/two"]
    );
}

#[test]
fn name_filter_pulls_in_needed_and_capturing_checks() {
    let server = TestServer::start();
    let ws = filter_workspace();
    for flag in ["-k", "--filter"] {
        let server = TestServer::start();
        let run = ws.run(&server, &[flag, "READ ITEM"]);
        run.code(0)
            .passed("alpha read item")
            .passed("alpha create item")
            .stdout_lacks("alpha smoke")
            .stdout_lacks("beta");
        assert_eq!(sent_paths(&server), ["/echo/alpha/create", "/echo/alpha/read"]);
    }
    let run = ws.run(&server, &["-k", "uses the capture"]);
    run.code(0)
        .passed("alpha uses the capture")
        .passed("alpha create item")
        .stdout_lacks("alpha read item");
    assert_eq!(
        sent_paths(&server),
        ["/echo/alpha/create", "/echo/alpha/create/again"]
    );
}

#[test]
fn no_check_selected_exits_2_and_sends_nothing() {
    let server = TestServer::start();
    let ws = filter_workspace();
    for args in [
        &["--customer", "nobody"][..],
        &["--tag", "nothing"][..],
        &["-k", "no such check"][..],
        &["--customer", "beta.io", "-k", "alpha"][..],
    ] {
        let run = ws.run(&server, args);
        run.code(2).stderr_has("no check selected");
    }
    assert_eq!(server.requests(), 0);
}

// ---------------------------------------------------------------------------------------------
// Retries and poll

const FLAKY: &str = r#"customer: retries
checks:
  - name: flaky
    request: { path: /flaky/2/a }
"#;

#[test]
fn retries_pass_when_the_server_recovers_in_time() {
    let server = TestServer::start();
    let ws = Workspace::suite(FLAKY);
    ws.run(&server, &["--retries", "2"]).code(0).passed("flaky");
    assert_eq!(server.hits("/flaky/2/a"), 3);
}

#[test]
fn retries_fail_when_the_server_recovers_too_late() {
    let server = TestServer::start();
    let ws = Workspace::suite(FLAKY);
    ws.run(&server, &["--retries", "1"])
        .code(1)
        .failures("flaky", &["expected status 2xx, got 503"]);
    assert_eq!(server.hits("/flaky/2/a"), 2);
}

#[test]
fn a_check_s_own_retries_win_and_allowed_5xx_are_not_retried() {
    let server = TestServer::start();
    let ws = Workspace::suite(
        r#"customer: retries
defaults:
  retries: 0
checks:
  - name: own retries
    request: { path: /flaky/2/own }
    retries: 2
  - name: no retries
    request: { path: /flaky/1/none }
  - name: 503 expected
    request: { path: /flaky/3/expected }
    retries: 3
    expect: { status: 503 }
"#,
    );
    ws.run(&server, &["--retries", "5"])
        .code(1)
        .passed("own retries")
        .failed("no retries")
        .passed("503 expected");
    assert_eq!(server.hits("/flaky/2/own"), 3);
    assert_eq!(server.hits("/flaky/1/none"), 1);
    assert_eq!(server.hits("/flaky/3/expected"), 1);
}

#[test]
fn a_timeout_is_retried() {
    let server = TestServer::builder()
        .route_fn("/sometimes-slow", |_, hit| {
            let reply = Reply::json(json!({"hit": hit}));
            if hit == 1 {
                reply.delay(std::time::Duration::from_secs(3))
            } else {
                reply
            }
        })
        .start();
    let ws = Workspace::suite(
        "customer: x\nchecks:\n  - name: second try\n    request: { path: /sometimes-slow }\n    expect:\n      json: { $.hit: 2 }\n",
    );
    ws.run(&server, &["--timeout", "200ms", "--retries", "1"])
        .code(0)
        .passed("second try");
    assert_eq!(server.hits("/sometimes-slow"), 2);
}

#[test]
fn poll_sends_again_until_the_job_is_done() {
    let server = TestServer::start();
    let ws = Workspace::suite(
        r#"customer: poll
checks:
  - name: job done
    request: { path: /job/7 }
    poll: { every: 20ms, for: 10s }
    expect:
      json: { $.state: done }
"#,
    );
    ws.run(&server, &[]).code(0).passed("job done");
    assert_eq!(server.hits("/job/7"), 3);
}

#[test]
fn samples_flag_leaves_a_polled_check_polling() {
    let server = TestServer::start();
    let ws = Workspace::suite(
        r#"customer: poll
checks:
  - name: job done
    request: { path: /job/9 }
    poll: { every: 20ms, for: 10s }
    expect:
      json: { $.state: done }
"#,
    );
    ws.run(&server, &["--samples", "10"]).code(0).passed("job done");
    assert_eq!(server.hits("/job/9"), 3);
}

#[test]
fn poll_judges_the_last_answer_when_time_runs_out() {
    let server = TestServer::start();
    let ws = Workspace::suite(
        r#"customer: poll
checks:
  - name: never
    request: { path: /job/8 }
    poll: { every: 20ms, for: 200ms }
    expect:
      json: { $.state: cancelled }
"#,
    );
    let run = ws.run(&server, &[]);
    run.code(1);
    let under = run.lines_under("never");
    assert_eq!(under.len(), 1, "{under:?}");
    assert!(
        under[0].starts_with(r#"$.state: expected "cancelled", found "#),
        "{under:?}"
    );
    assert!(server.hits("/job/8") >= 2, "poll sent only once");
}

// ---------------------------------------------------------------------------------------------
// Concurrency

/// 20 independent checks on one barrier that answers once `n` requests wait at it.
fn barrier_suite(name: &str, n: usize) -> Workspace {
    let mut yaml = String::from("customer: load\nchecks:\n");
    for i in 0..20 {
        yaml.push_str(&format!(
            "  - name: request {i}\n    request: {{ path: /barrier/{name}, query: {{ n: {n}, timeout_ms: 10000, i: {i} }} }}\n    expect:\n      json: {{ $.released_by: count }}\n"
        ));
    }
    Workspace::suite(&yaml)
}

#[test]
fn j4_keeps_at_most_four_requests_in_flight() {
    let server = TestServer::start();
    // The barrier lets a wave go once four wait: more than four would never be seen at once,
    // fewer would leave the requests waiting (and the checks failing).
    let ws = barrier_suite("four", 4);
    let run = ws.run(&server, &["-j", "4"]);
    run.code(0).stdout_has("20 passing");
    assert_eq!(server.hits("/barrier/four"), 20);
    assert_eq!(server.max_in_flight(), 4);
}

#[test]
fn j20_sends_twenty_independent_checks_at_once() {
    let server = TestServer::start();
    let ws = barrier_suite("all", 20);
    let run = ws.run(&server, &["-j", "20"]);
    run.code(0).stdout_has("20 passing");
    assert_eq!(server.max_in_flight(), 20);
}

#[test]
fn the_limit_spans_suites() {
    let server = TestServer::start();
    let mut files = Vec::new();
    for s in 0..3 {
        let mut yaml = format!("customer: suite{s}\nchecks:\n");
        for i in 0..3 {
            yaml.push_str(&format!(
                "  - name: c{i}\n    request: {{ path: /barrier/spread, query: {{ n: 3, timeout_ms: 10000 }} }}\n    expect:\n      json: {{ $.released_by: count }}\n"
            ));
        }
        files.push((format!("s{s}.yaml"), yaml));
    }
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    let ws = Workspace::new(&files);
    ws.run(&server, &["-j", "3"]).code(0);
    assert_eq!(server.max_in_flight(), 3);
    assert_eq!(server.hits("/barrier/spread"), 9);
}

// ---------------------------------------------------------------------------------------------
// Redirects

#[test]
fn redirects_are_not_followed_by_default() {
    let server = TestServer::start();
    let ws = Workspace::suite(
        r#"customer: redirects
checks:
  - name: judged as is
    request: { path: /redirect, query: { to: /ok } }
    expect:
      status: 302
      headers: { location: /ok }
  - name: 302 is no 2xx
    request: { path: /redirect, query: { to: /ok } }
"#,
    );
    ws.run(&server, &[])
        .code(1)
        .passed("judged as is")
        .failures("302 is no 2xx", &["expected status 2xx, got 302"]);
    assert_eq!(server.hits("/ok"), 0);
}

#[test]
fn redirects_are_followed_when_asked() {
    let server = TestServer::start();
    let ws = Workspace::suite(
        r#"customer: redirects
defaults:
  follow_redirects: true
checks:
  - name: followed
    request: { path: /redirect, query: { to: /echo/landed, status: 301 } }
    expect:
      status: 200
      json: { $.path: /echo/landed }
  - name: not followed
    request: { path: /redirect, query: { to: /ok, status: 307 } }
    follow_redirects: false
    expect: { status: 307 }
"#,
    );
    ws.run(&server, &[])
        .code(0)
        .passed("followed")
        .passed("not followed");
    assert_eq!(server.hits("/echo/landed"), 1);
    assert_eq!(server.hits("/ok"), 0);
}

#[test]
fn a_redirect_to_another_origin_drops_secret_headers() {
    // Another port on 127.0.0.1 is another origin.
    let first = TestServer::start();
    let second = TestServer::start();
    let ws = Workspace::suite(&format!(
        r#"customer: redirects
defaults:
  follow_redirects: true
  headers:
    authorization: Bearer not-for-strangers
    x-api-key: key-not-for-strangers
    x-harmless: kept
checks:
  - name: cross origin
    request: {{ path: /redirect, query: {{ to: "{second}/echo/away" }} }}
  - name: same origin
    request: {{ path: /redirect, query: {{ to: /echo/home }} }}
"#,
        second = second.url()
    ));
    ws.run(&first, &[])
        .code(0)
        .passed("cross origin")
        .passed("same origin");

    let away = &second.recorded_on("/echo/away");
    assert_eq!(away.len(), 1);
    assert_eq!(away[0].header("authorization"), None, "{:?}", away[0].headers);
    assert_eq!(away[0].header("x-api-key"), None, "{:?}", away[0].headers);
    assert_eq!(away[0].header("x-harmless"), Some("kept"));

    let home = &first.recorded_on("/echo/home");
    assert_eq!(home.len(), 1);
    assert_eq!(home[0].header("authorization"), Some("Bearer not-for-strangers"));
    assert_eq!(home[0].header("x-api-key"), Some("key-not-for-strangers"));
}

// ---------------------------------------------------------------------------------------------
// Exit codes

#[test]
fn exit_0_when_everything_passed() {
    let server = TestServer::start();
    let ws = Workspace::suite("customer: x\nchecks:\n  - name: fine\n    request: { path: /ok }\n");
    ws.run(&server, &[])
        .code(0)
        .stdout_has("  1 passing\n")
        .stdout_has("✅ All customer endpoint tests passed!");
}

#[test]
fn exit_1_when_a_check_failed() {
    let server = TestServer::start();
    let ws = Workspace::suite(
        "customer: x\nchecks:\n  - name: fine\n    request: { path: /ok }\n  - name: broken\n    request: { path: /status/500 }\n",
    );
    ws.run(&server, &[])
        .code(1)
        .stdout_has("❌ 1 of 2 customer endpoint checks failed");
}

#[test]
fn exit_1_on_a_transport_error() {
    // A port bound but not listening: the connection is refused.
    let closed = RefusingPort::new();
    let ws = Workspace::suite("customer: x\nchecks:\n  - name: nobody home\n    request: { path: /ok }\n");
    let run = Run::of(ws.cmd().args([
        "--base-url",
        &closed.url(),
        "-s",
        "suites",
        "--color",
        "never",
        "--timeout",
        "5s",
    ]));
    run.code(1).failed("nobody home");
    let under = run.lines_under("nobody home");
    assert!(under[0].starts_with("connection refused"), "{under:?}");
}

#[test]
fn exit_1_on_a_timeout() {
    let server = TestServer::builder()
        .route(
            "/hang",
            Reply::json(json!({})).delay(std::time::Duration::from_secs(5)),
        )
        .start();
    let ws = Workspace::suite("customer: x\nchecks:\n  - name: too slow\n    request: { path: /hang }\n");
    let run = ws.run(&server, &["--timeout", "100ms"]);
    run.code(1);
    let under = run.lines_under("too slow");
    assert!(under[0].starts_with("timed out after 100 ms"), "{under:?}");
}

#[test]
fn exit_2_on_a_bad_flag() {
    let server = TestServer::start();
    let ws = Workspace::suite("customer: x\nchecks:\n  - name: fine\n    request: { path: /ok }\n");
    ws.run(&server, &["-j", "0"]).code(2);
    ws.run(&server, &["--timeout", "soon"]).code(2);
    ws.run(&server, &["--no-such-flag"]).code(2);
    ws.run(&server, &["-H", "no colon here"]).code(2);
    ws.run(&server, &["--var", "no-equals-sign"]).code(2);
    ws.run(&server, &["--format", "yaml"]).code(2);
    assert_eq!(server.requests(), 0);
}

#[test]
fn exit_2_when_the_suites_folder_is_missing() {
    let ws = Workspace::new(&[]);
    let run = Run::of(
        ws.cmd()
            .args(["--base-url", "http://127.0.0.1:9", "-s", "nowhere"]),
    );
    run.code(2).stderr_has("nowhere");
}

#[test]
fn exit_3_on_an_unknown_environment() {
    let server = TestServer::start();
    let ws = Workspace::suite("customer: x\nchecks:\n  - name: fine\n    request: { path: /ok }\n");
    let run = Run::of(
        ws.cmd()
            .args(["atlantis", "-s", "suites", "--base-url", &server.url()]),
    );
    run.code(3)
        .stderr_has("atlantis")
        .stderr_has("production")
        .stderr_has("preview")
        .stderr_has("staging")
        .stderr_has("localhost");
    assert_eq!(server.requests(), 0);
}

// ---------------------------------------------------------------------------------------------
// Interruption

/// Starts a run whose second check hangs at the server, signals it once that request arrived,
/// and returns the exit code, stdout and the JSON report written.
fn interrupt_with(signal: libc::c_int) -> (Option<i32>, String, String) {
    let server = TestServer::start();
    let ws = Workspace::suite(
        r#"customer: x
checks:
  - name: quick
    request: { path: /ok }
  - name: stuck
    request: { path: /barrier/never, query: { n: 99, timeout_ms: 15000 } }
    needs: [quick]
"#,
    );
    let report = ws.path().join("report.json");
    let mut cmd = support::bin::endpoint_check_std();
    cmd.current_dir(ws.path())
        .args([
            "--base-url",
            &server.url(),
            "-s",
            "suites",
            "--color",
            "never",
            "--json",
        ])
        .arg(&report);
    let running = Running::spawn(cmd);
    // Wait for the condition (the stuck request is at the server), not for a length of time.
    server.wait_until(Duration::from_secs(20), "the stuck request arrives", |s| {
        s.hits("/barrier/never") > 0
    });
    running.signal(signal);
    let started = std::time::Instant::now();
    let out = running.wait(Duration::from_secs(60));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the run did not stop"
    );
    let written = std::fs::read_to_string(&report).unwrap_or_default();
    (out.code, out.stdout, written)
}

#[test]
fn sigint_exits_130_and_still_reports_what_finished() {
    let (code, stdout, report) = interrupt_with(libc::SIGINT);
    assert_eq!(code, Some(130), "{stdout}");
    assert!(stdout.contains("✓ quick ("), "{stdout}");
    assert!(stdout.contains("- stuck (skipped: interrupted)"), "{stdout}");
    assert!(stdout.contains("Interrupted by SIGINT"), "{stdout}");
    let report = json_of(&report);
    assert_eq!(report["suites"][0]["checks"][0]["status"], "passed");
    assert_eq!(report["suites"][0]["checks"][1]["status"], "skipped");
}

#[test]
fn sigterm_exits_143() {
    let (code, stdout, _) = interrupt_with(libc::SIGTERM);
    assert_eq!(code, Some(143), "{stdout}");
    assert!(stdout.contains("Interrupted by SIGTERM"), "{stdout}");
}

#[test]
fn checks_of_different_suites_run_at_the_same_time() {
    let server = TestServer::start();
    let check = |customer: &str| {
        format!(
            "customer: {customer}\nchecks:\n  - name: meet\n    request: {{ path: /barrier/meet, query: {{ n: 2, timeout_ms: 10000 }} }}\n    expect:\n      json: {{ $.released_by: count }}\n"
        )
    };
    let (a, b) = (check("a"), check("b"));
    let ws = Workspace::new(&[("a.yaml", &a), ("b.yaml", &b)]);
    let started = std::time::Instant::now();
    ws.run(&server, &[]).code(0);
    assert_eq!(server.max_in_flight(), 2);
    assert!(started.elapsed() < std::time::Duration::from_secs(8));
}

#[test]
fn j1_sends_checks_one_by_one_in_file_order() {
    let server = TestServer::start();
    let mut yaml = String::from("customer: a\nchecks:\n");
    for i in 0..8 {
        yaml.push_str(&format!("  - name: a{i}\n    request: {{ path: /echo/a/{i} }}\n"));
    }
    let second = "customer: b\nchecks:\n  - name: b0\n    request: { path: /echo/b/0 }\n";
    let ws = Workspace::new(&[("a.yaml", &yaml), ("b.yaml", second)]);
    ws.run(&server, &["-j", "1"]).code(0);
    let paths: Vec<String> = server.recorded().into_iter().map(|r| r.path).collect();
    let mut expected: Vec<String> = (0..8).map(|i| format!("/echo/a/{i}")).collect();
    expected.push("/echo/b/0".to_string());
    assert_eq!(paths, expected);
    assert_eq!(server.max_in_flight(), 1);
}

#[test]
fn a_redirect_loop_fails_instead_of_hanging() {
    let server = TestServer::builder()
        .route("/loop", Reply::status(302).header("location", "/loop"))
        .start();
    let ws = Workspace::suite(
        "customer: x\nchecks:\n  - name: loop\n    request: { path: /loop }\n    follow_redirects: true\n",
    );
    let run = ws.run(&server, &[]);
    run.code(1);
    assert!(
        run.lines_under("loop")[0].starts_with("too many redirects"),
        "{}",
        run.stdout
    );
    assert!(server.hits("/loop") <= 12, "{} requests", server.hits("/loop"));
}

#[test]
fn a_303_turns_into_a_get_and_a_307_keeps_method_and_body() {
    let server = TestServer::start();
    let ws = Workspace::suite(
        r#"customer: x
defaults:
  follow_redirects: true
checks:
  - name: see other
    request:
      method: POST
      path: /redirect
      query: { to: /echo/after-303, status: 303 }
      json: { a: 1 }
  - name: temporary
    request:
      method: POST
      path: /redirect
      query: { to: /echo/after-307, status: 307 }
      json: { a: 1 }
"#,
    );
    ws.run(&server, &[]).code(0);
    let after_303 = &server.recorded_on("/echo/after-303")[0];
    assert_eq!(after_303.method, "GET");
    assert_eq!(after_303.body, "");
    let after_307 = &server.recorded_on("/echo/after-307")[0];
    assert_eq!(after_307.method, "POST");
    assert_eq!(after_307.body, r#"{"a":1}"#);
}
