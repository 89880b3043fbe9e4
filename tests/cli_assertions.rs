//! Assertions (docs/assertions.md) through the binary: every operator both holding and failing, on JSON,
//! headers and the body; status as a code, a list and a class; a per-sample latency limit. Each
//! failure prints what was expected and what was found.

mod support;

use serde_json::json;
use std::time::Duration;
use support::process::Run;
use support::server::{Reply, TestServer};
use support::workspace::Workspace;

/// `/data`: a JSON document with one value of every kind and a few headers; `/text`: plain text.
fn server() -> TestServer {
    TestServer::builder()
        .route(
            "/data",
            Reply::json(json!({
                "status": "ok",
                "count": 3,
                "ratio": 0.5,
                "whole": 2.0,
                "name": "edge-eu-1",
                "version": "1.2.3",
                "edges": [],
                "items": [1, 2, 3],
                "obj": {"a": 1, "b": 2},
                "flag": true,
                "nothing": null
            }))
            .header("x-count", "42")
            .header("x-region", "eu-west")
            .header("etag", "\"v1\""),
        )
        .route("/text", Reply::text("hello endpoint-check v1"))
        .start()
}

/// Runs one suite of `checks` (YAML list items, indented by 2) against a fresh server.
fn run_checks(checks: &str) -> Run {
    let server = server();
    let ws = Workspace::suite(&format!("customer: ops\nchecks:\n{checks}"));
    let run = ws.run(&server, &[]);
    assert!(server.requests() > 0, "no request reached the server");
    run
}

/// A check named `name` on `path` with one `expect` entry (`json`, `headers` or `body`).
fn check(name: &str, path: &str, expect: &str) -> String {
    format!("  - name: {name}\n    request: {{ path: {path} }}\n    expect:\n      {expect}\n")
}

fn json_check(name: &str, query: &str, matcher: &str) -> String {
    check(name, "/data", &format!("json: {{ '{query}': {matcher} }}"))
}

fn header_check(name: &str, header: &str, matcher: &str) -> String {
    check(name, "/data", &format!("headers: {{ {header}: {matcher} }}"))
}

fn body_check(name: &str, matcher: &str) -> String {
    check(name, "/text", &format!("body: {matcher}"))
}

#[test]
fn eq_and_plain_values() {
    let run = run_checks(
        &[
            json_check("json eq holds", "$.status", "{ eq: ok }"),
            json_check("json plain value holds", "$.count", "3"),
            json_check("numbers compare by value", "$.count", "3.0"),
            json_check("json eq fails", "$.count", "{ eq: 4 }"),
            json_check("json plain value fails", "$.status", "down"),
            header_check("header eq holds", "x-region", "{ eq: eu-west }"),
            header_check("header plain value holds", "X-Region", "eu-west"),
            header_check("header eq fails", "x-region", "{ eq: us-east }"),
            body_check("body eq holds", "{ eq: hello endpoint-check v1 }"),
            body_check("body eq fails", "hello"),
        ]
        .concat(),
    );
    run.code(1)
        .passed("json eq holds")
        .passed("json plain value holds")
        .passed("numbers compare by value")
        .passed("header eq holds")
        .passed("header plain value holds")
        .passed("body eq holds")
        .failed("json eq fails")
        .failures("json eq fails", &["$.count: expected 4, found 3"])
        .failures(
            "json plain value fails",
            &[r#"$.status: expected "down", found "ok""#],
        )
        .failures(
            "header eq fails",
            &[r#"header x-region: expected "us-east", found "eu-west""#],
        )
        .failures(
            "body eq fails",
            &[r#"body: expected "hello", found "hello endpoint-check v1""#],
        );
}

#[test]
fn ne() {
    let run = run_checks(
        &[
            json_check("json ne holds", "$.status", "{ ne: down }"),
            json_check("json ne fails", "$.status", "{ ne: ok }"),
            header_check("header ne holds", "x-region", "{ ne: us-east }"),
            header_check("header ne fails", "x-region", "{ ne: eu-west }"),
            body_check("body ne holds", "{ ne: '' }"),
            body_check("body ne fails", "{ ne: hello endpoint-check v1 }"),
        ]
        .concat(),
    );
    run.code(1)
        .passed("json ne holds")
        .passed("header ne holds")
        .passed("body ne holds")
        .failed("json ne fails")
        .failures("json ne fails", &[r#"$.status: expected not "ok", found "ok""#])
        .failures(
            "header ne fails",
            &[r#"header x-region: expected not "eu-west", found "eu-west""#],
        )
        .failures(
            "body ne fails",
            &[r#"body: expected not "hello endpoint-check v1", found "hello endpoint-check v1""#],
        );
}

#[test]
fn lt() {
    let run = run_checks(
        &[
            json_check("json lt holds", "$.count", "{ lt: 4 }"),
            json_check("json lt fails", "$.count", "{ lt: 3 }"),
            header_check("header lt holds", "x-count", "{ lt: 100 }"),
            header_check("header lt fails", "x-count", "{ lt: 42 }"),
        ]
        .concat(),
    );
    run.code(1)
        .passed("json lt holds")
        .passed("header lt holds")
        .failures("json lt fails", &["$.count: expected < 3, found 3"])
        .failures(
            "header lt fails",
            &[r#"header x-count: expected < 42, found "42""#],
        );
}

#[test]
fn le() {
    let run = run_checks(
        &[
            json_check("json le holds", "$.count", "{ le: 3 }"),
            json_check("json le fails", "$.ratio", "{ le: 0.25 }"),
            header_check("header le holds", "x-count", "{ le: 42 }"),
            header_check("header le fails", "x-count", "{ le: 41.5 }"),
        ]
        .concat(),
    );
    run.code(1)
        .passed("json le holds")
        .passed("header le holds")
        .failures("json le fails", &["$.ratio: expected <= 0.25, found 0.5"])
        .failures(
            "header le fails",
            &[r#"header x-count: expected <= 41.5, found "42""#],
        );
}

#[test]
fn gt() {
    let run = run_checks(
        &[
            json_check("json gt holds", "$.ratio", "{ gt: 0.1 }"),
            json_check("json gt fails", "$.count", "{ gt: 3 }"),
            json_check("gt on a non-number fails", "$.name", "{ gt: 1 }"),
            header_check("header gt holds", "x-count", "{ gt: 41 }"),
            header_check("header gt fails", "x-count", "{ gt: 42 }"),
        ]
        .concat(),
    );
    run.code(1)
        .passed("json gt holds")
        .passed("header gt holds")
        .failures("json gt fails", &["$.count: expected > 3, found 3"])
        .failures(
            "gt on a non-number fails",
            &[r#"$.name: expected > 1, found "edge-eu-1""#],
        )
        .failures(
            "header gt fails",
            &[r#"header x-count: expected > 42, found "42""#],
        );
}

#[test]
fn ge() {
    let run = run_checks(
        &[
            json_check("json ge holds", "$.count", "{ ge: 3 }"),
            json_check("json ge fails", "$.count", "{ ge: 3.5 }"),
            header_check("header ge holds", "x-count", "{ ge: 42 }"),
            header_check("header ge fails", "x-count", "{ ge: 43 }"),
            header_check("ge on a missing header fails", "x-none", "{ ge: 1 }"),
        ]
        .concat(),
    );
    run.code(1)
        .passed("json ge holds")
        .passed("header ge holds")
        .failures("json ge fails", &["$.count: expected >= 3.5, found 3"])
        .failures(
            "header ge fails",
            &[r#"header x-count: expected >= 43, found "42""#],
        )
        .failures(
            "ge on a missing header fails",
            &["header x-none: expected >= 1, found nothing"],
        );
}

#[test]
fn contains() {
    let run = run_checks(
        &[
            json_check("string contains text", "$.name", "{ contains: eu }"),
            json_check("array contains value", "$.items", "{ contains: 2 }"),
            json_check("object has key", "$.obj", "{ contains: a }"),
            json_check("string lacks text", "$.name", "{ contains: us }"),
            json_check("array lacks value", "$.items", "{ contains: 9 }"),
            json_check("object lacks key", "$.obj", "{ contains: z }"),
            header_check("header contains", "content-type", "{ contains: json }"),
            header_check("header lacks", "content-type", "{ contains: xml }"),
            body_check("body contains", "{ contains: endpoint }"),
            body_check("body lacks", "{ contains: missing }"),
        ]
        .concat(),
    );
    run.code(1)
        .passed("string contains text")
        .passed("array contains value")
        .passed("object has key")
        .passed("header contains")
        .passed("body contains")
        .failures(
            "string lacks text",
            &[r#"$.name: expected to contain "us", found "edge-eu-1""#],
        )
        .failures(
            "array lacks value",
            &["$.items: expected to contain 9, found [1,2,3]"],
        )
        .failures(
            "object lacks key",
            &[r#"$.obj: expected to contain "z", found {"a":1,"b":2}"#],
        )
        .failures(
            "header lacks",
            &[r#"header content-type: expected to contain "xml", found "application/json""#],
        )
        .failures(
            "body lacks",
            &[r#"body: expected to contain "missing", found "hello endpoint-check v1""#],
        );
}

#[test]
fn matches() {
    let run = run_checks(
        &[
            json_check("json matches", "$.version", r#"{ matches: '^\d+\.\d+\.\d+$' }"#),
            json_check("json does not match", "$.name", "{ matches: '^us-' }"),
            json_check("a number never matches", "$.count", "{ matches: '3' }"),
            header_check("header matches", "x-region", "{ matches: '^eu-' }"),
            header_check("header does not match", "x-region", "{ matches: '^us-' }"),
            body_check("body matches", r#"{ matches: 'v\d$' }"#),
            body_check("body does not match", r#"{ matches: '^\d' }"#),
        ]
        .concat(),
    );
    run.code(1)
        .passed("json matches")
        .passed("header matches")
        .passed("body matches")
        .failures(
            "json does not match",
            &[r#"$.name: expected to match /^us-/, found "edge-eu-1""#],
        )
        .failures(
            "a number never matches",
            &["$.count: expected to match /3/, found 3"],
        )
        .failures(
            "header does not match",
            &[r#"header x-region: expected to match /^us-/, found "eu-west""#],
        )
        .failures(
            "body does not match",
            &[r#"body: expected to match /^\d/, found "hello endpoint-check v1""#],
        );
}

#[test]
fn exists() {
    let run = run_checks(
        &[
            json_check("json value exists", "$.status", "{ exists: true }"),
            json_check("a null value exists", "$.nothing", "{ exists: true }"),
            json_check("json value is absent", "$.missing", "{ exists: false }"),
            json_check("json value missing", "$.missing", "{ exists: true }"),
            json_check("json value present", "$.status", "{ exists: false }"),
            header_check("header exists", "etag", "{ exists: true }"),
            header_check("header is absent", "x-none", "{ exists: false }"),
            header_check("header missing", "x-none", "{ exists: true }"),
            header_check("header present", "etag", "{ exists: false }"),
        ]
        .concat(),
    );
    run.code(1)
        .passed("json value exists")
        .passed("a null value exists")
        .passed("json value is absent")
        .passed("header exists")
        .passed("header is absent")
        .failures(
            "json value missing",
            &["$.missing: expected to exist, found nothing"],
        )
        .failures(
            "json value present",
            &[r#"$.status: expected to be absent, found "ok""#],
        )
        .failures(
            "header missing",
            &["header x-none: expected to exist, found nothing"],
        )
        .failures(
            "header present",
            &[r#"header etag: expected to be absent, found "\"v1\"""#],
        );
}

#[test]
fn type_() {
    let run = run_checks(
        &[
            json_check("type string", "$.status", "{ type: string }"),
            json_check("type number", "$.ratio", "{ type: number }"),
            json_check("an integer is a number", "$.count", "{ type: number }"),
            json_check("type integer", "$.count", "{ type: integer }"),
            json_check("2.0 is an integer", "$.whole", "{ type: integer }"),
            json_check("type boolean", "$.flag", "{ type: boolean }"),
            json_check("type array", "$.items", "{ type: array }"),
            json_check("type object", "$.obj", "{ type: object }"),
            json_check("type null", "$.nothing", "{ type: 'null' }"),
            json_check("a fraction is no integer", "$.ratio", "{ type: integer }"),
            json_check("an array is no object", "$.items", "{ type: object }"),
            json_check("a string is no number", "$.version", "{ type: number }"),
            json_check("nothing has no type", "$.missing", "{ type: string }"),
            header_check("a header is a string", "x-count", "{ type: string }"),
        ]
        .concat(),
    );
    for name in [
        "type string",
        "type number",
        "an integer is a number",
        "type integer",
        "2.0 is an integer",
        "type boolean",
        "type array",
        "type object",
        "type null",
        "a header is a string",
    ] {
        run.passed(name);
    }
    run.code(1)
        .failures(
            "a fraction is no integer",
            &["$.ratio: expected type integer, found number (0.5)"],
        )
        .failures(
            "an array is no object",
            &["$.items: expected type object, found array ([1,2,3])"],
        )
        .failures(
            "a string is no number",
            &[r#"$.version: expected type number, found string ("1.2.3")"#],
        )
        .failures(
            "nothing has no type",
            &["$.missing: expected type string, found nothing"],
        );
}

#[test]
fn length() {
    let run = run_checks(
        &[
            json_check("array length", "$.items", "{ length: 3 }"),
            json_check("string length", "$.name", "{ length: 9 }"),
            json_check("object length", "$.obj", "{ length: 2 }"),
            json_check(
                "a wildcard query yields all matches",
                "$.items[*]",
                "{ length: 3 }",
            ),
            json_check("wrong array length", "$.items", "{ length: 2 }"),
            json_check("a number has no length", "$.count", "{ length: 1 }"),
            header_check("header length", "x-region", "{ length: 7 }"),
            header_check("wrong header length", "x-region", "{ length: 8 }"),
            body_check("body length", "{ length: 23 }"),
            body_check("wrong body length", "{ length: 5 }"),
        ]
        .concat(),
    );
    run.code(1)
        .passed("array length")
        .passed("string length")
        .passed("object length")
        .passed("a wildcard query yields all matches")
        .passed("header length")
        .passed("body length")
        .failures(
            "wrong array length",
            &["$.items: expected length 2, found 3 (value: [1,2,3])"],
        )
        .failures(
            "a number has no length",
            &["$.count: expected length 1, found 3 (no length)"],
        )
        .failures(
            "wrong header length",
            &[r#"header x-region: expected length 8, found 7 (value: "eu-west")"#],
        )
        .failures(
            "wrong body length",
            &[r#"body: expected length 5, found 23 (value: "hello endpoint-check v1")"#],
        );
}

#[test]
fn min_length() {
    let run = run_checks(
        &[
            json_check("array long enough", "$.items", "{ min_length: 1 }"),
            json_check("string long enough", "$.name", "{ min_length: 9 }"),
            json_check(
                "empty array too short",
                "$.edges",
                "{ type: array, min_length: 1 }",
            ),
            json_check("object too small", "$.obj", "{ min_length: 3 }"),
            body_check("body long enough", "{ min_length: 1 }"),
            body_check("body too short", "{ min_length: 100 }"),
        ]
        .concat(),
    );
    run.code(1)
        .passed("array long enough")
        .passed("string long enough")
        .passed("body long enough")
        // Only the operator that fails is reported; `type: array` holds.
        .failures(
            "empty array too short",
            &["$.edges: expected length >= 1, found 0 (value: [])"],
        )
        .failures(
            "object too small",
            &[r#"$.obj: expected length >= 3, found 2 (value: {"a":1,"b":2})"#],
        )
        .failures(
            "body too short",
            &[r#"body: expected length >= 100, found 23 (value: "hello endpoint-check v1")"#],
        );
}

#[test]
fn max_length() {
    let run = run_checks(
        &[
            json_check("empty array short enough", "$.edges", "{ max_length: 0 }"),
            json_check("string short enough", "$.name", "{ max_length: 20 }"),
            json_check("array too long", "$.items", "{ max_length: 2 }"),
            header_check("header short enough", "x-region", "{ max_length: 7 }"),
            header_check("header too long", "x-region", "{ max_length: 3 }"),
        ]
        .concat(),
    );
    run.code(1)
        .passed("empty array short enough")
        .passed("string short enough")
        .passed("header short enough")
        .failures(
            "array too long",
            &["$.items: expected length <= 2, found 3 (value: [1,2,3])"],
        )
        .failures(
            "header too long",
            &[r#"header x-region: expected length <= 3, found 7 (value: "eu-west")"#],
        );
}

#[test]
fn one_of() {
    let run = run_checks(
        &[
            json_check("string is one of", "$.status", "{ one_of: [ok, degraded] }"),
            json_check("number is one of", "$.count", "{ one_of: [1, 3.0] }"),
            json_check("string is none of", "$.status", "{ one_of: [down, degraded] }"),
            header_check("header is one of", "x-region", "{ one_of: [us-east, eu-west] }"),
            header_check("header is none of", "x-region", "{ one_of: [us-east, ap-south] }"),
        ]
        .concat(),
    );
    run.code(1)
        .passed("string is one of")
        .passed("number is one of")
        .passed("header is one of")
        .failures(
            "string is none of",
            &[r#"$.status: expected one of ["down","degraded"], found "ok""#],
        )
        .failures(
            "header is none of",
            &[r#"header x-region: expected one of ["us-east","ap-south"], found "eu-west""#],
        );
}

#[test]
fn every_failing_operator_of_a_check_is_reported() {
    let run = run_checks(&json_check(
        "three operators fail",
        "$.items",
        "{ type: array, min_length: 4, contains: 7, one_of: [[1]] }",
    ));
    run.code(1).failures(
        "three operators fail",
        &[
            "$.items: expected length >= 4, found 3 (value: [1,2,3])",
            "$.items: expected to contain 7, found [1,2,3]",
            "$.items: expected one of [[1]], found [1,2,3]",
        ],
    );
}

#[test]
fn json_assertions_on_a_body_that_is_not_json_fail() {
    let run = run_checks(&check("not json", "/text", "json: { $.a: 1 }"));
    run.code(1);
    let under = run.lines_under("not json");
    assert_eq!(under.len(), 1, "{under:?}");
    assert!(under[0].starts_with("body is not JSON"), "{under:?}");
}

#[test]
fn status_as_code_list_and_class() {
    let server = TestServer::start();
    let ws = Workspace::suite(
        r#"customer: status
checks:
  - name: default accepts 2xx
    request: { path: /status/204 }
  - name: default rejects 5xx
    request: { path: /status/500 }
  - name: code holds
    request: { path: /status/204 }
    expect: { status: 204 }
  - name: code fails
    request: { path: /status/404 }
    expect: { status: 200 }
  - name: list holds
    request: { path: /status/204 }
    expect: { status: [200, 204] }
  - name: list fails
    request: { path: /status/404 }
    expect: { status: [200, 204] }
  - name: class holds
    request: { path: /status/404 }
    expect: { status: 4xx }
  - name: class fails
    request: { path: /status/404 }
    expect: { status: "2xx" }
"#,
    );
    let run = ws.run(&server, &[]);
    run.code(1)
        .passed("default accepts 2xx")
        .passed("code holds")
        .passed("list holds")
        .passed("class holds")
        .failures("default rejects 5xx", &["expected status 2xx, got 500"])
        .failures("code fails", &["expected status 200, got 404"])
        .failures("list fails", &["expected status one of [200, 204], got 404"])
        .failures("class fails", &["expected status 2xx, got 404"]);
    assert_eq!(server.requests(), 8);
}

#[test]
fn plain_latency_fails_a_slow_route() {
    let server = TestServer::builder()
        .route(
            "/slow",
            Reply::json(json!({"ok": true})).delay(Duration::from_millis(300)),
        )
        .start();
    let ws = Workspace::suite(
        r#"customer: latency
checks:
  - name: slow route
    request: { path: /slow }
    expect: { latency: 50ms }
  - name: fast enough
    request: { path: /ok }
    expect: { latency: 5s }
"#,
    );
    let run = ws.run(&server, &[]);
    run.code(1).passed("fast enough").failed("slow route");
    let under = run.lines_under("slow route");
    assert_eq!(under.len(), 1, "{under:?}");
    let re = regex::Regex::new(r"^expected latency <= 50 ms, took (\d+(\.\d+)? s|\d+ ms)$").unwrap();
    assert!(re.is_match(&under[0]), "{under:?}");
    let took: f64 = under[0]
        .rsplit("took ")
        .next()
        .and_then(|t| t.strip_suffix(" ms"))
        .and_then(|t| t.parse().ok())
        .unwrap_or(1000.0);
    assert!(took >= 300.0, "the slow route answers after 300 ms, took {took}");
}
