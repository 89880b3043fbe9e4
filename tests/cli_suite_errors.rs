//! Suite errors (docs/suites.md#suite-errors, docs/cli.md#exit-codes): each is printed as `FILE:LINE:COLUMN: message` on stderr,
//! exits 2, and nothing is sent, not even the valid checks of the same run.

mod support;

use regex::Regex;
use support::process::Run;
use support::server::TestServer;
use support::workspace::Workspace;

/// Runs `yaml` as `suites/api.yaml` against a live server and asserts exit 2, a stderr line
/// `suites/api.yaml:LINE:COLUMN: …` holding every one of `parts`, and zero requests.
#[track_caller]
fn suite_error(yaml: &str, line: usize, parts: &[&str]) -> Run {
    let server = TestServer::start();
    let ws = Workspace::suite(yaml);
    let run = ws.run(&server, &[]);
    run.code(2);
    let re = Regex::new(&format!(r"^suites/api\.yaml:{line}:\d+: ")).unwrap();
    let hits: Vec<&str> = run.stderr.lines().filter(|l| re.is_match(l)).collect();
    assert_eq!(
        hits.len(),
        1,
        "expected one error at suites/api.yaml:{line}\n--- stderr\n{}",
        run.stderr
    );
    for part in parts {
        assert!(
            hits[0].contains(part),
            "the error lacks {part:?}: {}\n--- stderr\n{}",
            hits[0],
            run.stderr
        );
    }
    assert_eq!(server.requests(), 0, "a request was sent despite a suite error");
    run.stdout_lacks("Running ");
    run
}

#[test]
fn malformed_yaml() {
    suite_error(
        r#"customer: x
checks:
  - name: fine
    request: { path: /ok }
  - name: broken
    request: { path: /ok
  - name: after
    request: { path: /ok }
"#,
        7,
        &["did not find expected ',' or '}'"],
    );
}

#[test]
fn wrong_type() {
    suite_error(
        r#"customer: x
checks:
  - name: fine
    request: { path: /ok }
  - name: wrong
    request: { path: /ok }
    retries: many
"#,
        7,
        &["retries", "invalid type", "many"],
    );
}

#[test]
fn unknown_field_with_did_you_mean() {
    suite_error(
        r#"customer: x
checks:
  - name: fine
    request: { path: /ok }
  - name: typo
    request: { path: /ok }
    expcet: { status: 200 }
"#,
        7,
        &["unknown field `expcet`", "did you mean `expect`?"],
    );
}

#[test]
fn unknown_field_in_a_request() {
    suite_error(
        r#"customer: x
checks:
  - name: typo
    request:
      path: /ok
      headrs: { accept: "*/*" }
"#,
        6,
        &["unknown field `headrs`", "did you mean `headers`?"],
    );
}

#[test]
fn unknown_field_without_a_close_match_names_no_suggestion() {
    let run = suite_error(
        r#"customer: x
zebra: 1
checks:
  - name: fine
    request: { path: /ok }
"#,
        2,
        &["unknown field `zebra`"],
    );
    assert!(!run.stderr.contains("did you mean"), "{}", run.stderr);
}

#[test]
fn duplicate_check_name() {
    suite_error(
        r#"customer: x
checks:
  - name: same
    request: { path: /ok }
  - name: same
    request: { path: /status/201 }
"#,
        5,
        &["duplicate check name \"same\"", "line 3"],
    );
}

#[test]
fn invalid_status_class() {
    suite_error(
        r#"customer: x
checks:
  - name: fine
    request: { path: /ok }
  - name: bad class
    request: { path: /ok }
    expect: { status: "6xx" }
"#,
        7,
        &["invalid status class \"6xx\""],
    );
}

#[test]
fn invalid_regex() {
    suite_error(
        r#"customer: x
checks:
  - name: fine
    request: { path: /ok }
  - name: bad regex
    request: { path: /ok }
    expect:
      body: { matches: "(unclosed" }
"#,
        8,
        &["invalid regex", "(unclosed"],
    );
}

#[test]
fn invalid_regex_in_a_capture() {
    suite_error(
        r#"customer: x
checks:
  - name: bad capture regex
    request: { path: /ok }
    capture:
      token: { regex: "token=(\\w+" }
"#,
        6,
        &["regex"],
    );
}

#[test]
fn invalid_jsonpath() {
    suite_error(
        r#"customer: x
checks:
  - name: fine
    request: { path: /ok }
  - name: bad path
    request: { path: /ok }
    expect:
      json:
        "$.a[": 1
"#,
        9,
        &["invalid JSONPath `$.a[`"],
    );
}

#[test]
fn invalid_jsonpath_in_a_capture() {
    suite_error(
        r#"customer: x
checks:
  - name: bad capture path
    request: { path: /ok }
    capture:
      id: "$..["
"#,
        6,
        &["JSONPath"],
    );
}

#[test]
fn unknown_operator() {
    suite_error(
        r#"customer: x
checks:
  - name: fine
    request: { path: /ok }
  - name: bad operator
    request: { path: /ok }
    expect:
      json:
        $.a: { equals: 1 }
"#,
        9,
        &["unknown operator `equals`"],
    );
}

#[test]
fn unknown_operator_with_did_you_mean() {
    suite_error(
        r#"customer: x
checks:
  - name: bad operator
    request: { path: /ok }
    expect:
      headers:
        etag: { min_lenght: 1 }
"#,
        7,
        &["unknown operator `min_lenght`", "did you mean `min_length`?"],
    );
}

#[test]
fn undefined_variable_names_check_and_variable() {
    suite_error(
        r#"customer: x
checks:
  - name: fine
    request: { path: /ok }
  - name: uses a ghost
    request:
      path: /ok
      headers: { x-a: "${ENDPOINT_CHECK_TEST_GHOST_VARIABLE}" }
"#,
        8,
        &[
            "check \"uses a ghost\"",
            "undefined variable `ENDPOINT_CHECK_TEST_GHOST_VARIABLE`",
        ],
    );
}

#[test]
fn undefined_variable_in_expect() {
    suite_error(
        r#"customer: x
checks:
  - name: expects a ghost
    request: { path: /ok }
    expect:
      json: { $.ok: "${ghost}" }
"#,
        6,
        &["check \"expects a ghost\"", "undefined variable `ghost`"],
    );
}

#[test]
fn needs_naming_no_check() {
    suite_error(
        r#"customer: x
checks:
  - name: first
    request: { path: /ok }
  - name: second
    request: { path: /ok }
    needs: [nowhere]
"#,
        7,
        &["`needs` names no check", "\"nowhere\""],
    );
}

#[test]
fn dependency_cycle() {
    suite_error(
        r#"customer: x
checks:
  - name: fine
    request: { path: /ok }
  - name: a
    request: { path: /ok }
    needs: [b]
  - name: b
    request: { path: /ok }
    needs: [c]
  - name: c
    request: { path: /ok }
    needs: [a]
"#,
        5,
        &["dependency cycle", "\"a\"", "\"b\"", "\"c\""],
    );
}

#[test]
fn cycle_through_captured_variables() {
    suite_error(
        r#"customer: x
checks:
  - name: a
    request: { path: "/echo/${from_b}" }
    capture: { from_a: $.path }
  - name: b
    request: { path: "/echo/${from_a}" }
    capture: { from_b: $.path }
"#,
        3,
        &["dependency cycle"],
    );
}

#[test]
fn two_checks_capturing_one_name() {
    suite_error(
        r#"customer: x
checks:
  - name: a
    request: { path: /ok }
    capture: { id: $.id }
  - name: b
    request: { path: /ok }
    capture: { id: $.id }
"#,
        8,
        &["`id` is already captured by check \"a\""],
    );
}

#[test]
fn both_json_and_body() {
    suite_error(
        r#"customer: x
checks:
  - name: fine
    request: { path: /ok }
  - name: two bodies
    request:
      path: /echo
      method: POST
      json: { a: 1 }
      body: "text"
"#,
        10,
        &["at most one body", "`json` and `body`"],
    );
}

#[test]
fn errors_of_every_file_are_reported_and_nothing_is_sent() {
    let server = TestServer::start();
    let ws = Workspace::new(&[
        (
            "a_good.yaml",
            "customer: good\nchecks:\n  - name: ok\n    request: { path: /ok }\n",
        ),
        (
            "b_bad.yaml",
            "customer: bad\nchecks:\n  - name: x\n    request: { path: /ok }\n    needs: [y]\n",
        ),
        (
            "c_bad.yml",
            "customer: worse\nchecks:\n  - name: x\n    request: { path: /ok }\n    expect: { status: 9xx }\n",
        ),
    ]);
    let run = ws.run(&server, &[]);
    run.code(2)
        .stderr_has("suites/b_bad.yaml:5:")
        .stderr_has("suites/c_bad.yml:5:")
        .stderr_has("2 suite errors");
    assert_eq!(server.requests(), 0);
}

#[test]
fn validate_reports_the_same_errors() {
    let ws = Workspace::suite(
        r#"customer: x
checks:
  - name: a
    request: { path: /ok }
    needs: [b]
  - name: b
    request: { path: /ok }
    needs: [a]
"#,
    );
    let run = Run::of(ws.cmd().args(["validate", "-s", "suites", "--color", "never"]));
    run.code(2)
        .stderr_has("suites/api.yaml:3:")
        .stderr_has("dependency cycle");
}

#[test]
fn poll_and_samples_together() {
    suite_error(
        r#"customer: x
checks:
  - name: job
    request: { path: /ok }
    samples: 5
    poll: { every: 10ms, for: 1s }
"#,
        6,
        &["`poll` and `samples` do not mix"],
    );
}
