//! Where a user would side with Hurl (docs/assertions.md, docs/variables.md,
//! docs/behaviour.md#compression): brotli and zstd bodies, integers of any size, variables in map
//! keys, and suite variables that keep their YAML type. Each against a loopback server.

mod support;

use serde_json::json;
use support::process::Run;
use support::server::{self as servers, Reply, TestServer};
use support::workspace::Workspace;

// ---------------------------------------------------------------------------------------------
// Compressed bodies
// ---------------------------------------------------------------------------------------------

#[test]
fn every_coding_is_offered_unless_the_check_sets_accept_encoding() {
    let server = TestServer::start();
    let ws = Workspace::suite(
        r#"customer: codings
checks:
  - name: offered
    request: { path: /echo/offered }
  - name: own
    request: { path: /echo/own, headers: { Accept-Encoding: identity } }
"#,
    );
    ws.run(&server, &[]).code(0);
    let offered = &server.recorded_on("/echo/offered")[0];
    assert_eq!(
        offered.header_values("accept-encoding"),
        ["gzip, deflate, br, zstd"]
    );
    let own = &server.recorded_on("/echo/own")[0];
    assert_eq!(own.header_values("accept-encoding"), ["identity"]);
}

#[test]
fn brotli_zstd_and_gzip_bodies_are_decoded_and_headers_stay_as_sent() {
    let text = br#"{"greeting":"Hello World!"}"#;
    for encoding in ["br", "zstd", "gzip"] {
        let server = servers::encoded_server(encoding, servers::encoded(encoding, text));
        let app = TestServer::start();
        let ws = Workspace::suite(&format!(
            r#"customer: codings
checks:
  - name: decoded
    request: {{ url: "{url}/" }}
    expect:
      headers: {{ content-encoding: {encoding} }}
      json: {{ $.greeting: Hello World! }}
      body: {{ contains: '"Hello World!"' }}
"#,
            url = server.url()
        ));
        let run = ws.run(&app, &[]);
        run.code(0);
        run.passed("decoded");
    }
}

#[test]
fn an_empty_answer_naming_a_coding_is_not_a_decoding_error() {
    let server = TestServer::builder()
        .route("/empty", Reply::status(204).header("content-encoding", "br"))
        .start();
    let ws = Workspace::suite(
        r#"customer: codings
checks:
  - name: no content
    request: { path: /empty }
    expect: { status: 204, headers: { content-encoding: br }, body: "" }
"#,
    );
    ws.run(&server, &[]).code(0).passed("no content");
}

// ---------------------------------------------------------------------------------------------
// Integers of any size
// ---------------------------------------------------------------------------------------------

#[test]
fn integers_of_2_64_and_above_compare_by_value() {
    let server = TestServer::builder()
        .route(
            "/big",
            Reply::json_text(r#"{"big_integer": 1000000000000000000000, "max": 18446744073709551616, "neg": -9223372036854775809}"#),
        )
        .start();
    let ws = Workspace::suite(
        r#"customer: big
variables:
  huge: 1000000000000000000000
checks:
  - name: big values
    request:
      path: /big
      json: { n: 1000000000000000000000 }
    expect:
      json:
        $.big_integer: 1000000000000000000000
        $.max: { eq: 18446744073709551616, gt: 1.8e19, type: integer }
        $.neg: { one_of: [-9223372036854775809, 1] }
  - name: big variable
    request: { path: /big }
    expect:
      json: { $.big_integer: "${huge}" }
"#,
    );
    let run = ws.run(&server, &[]);
    run.code(0);
    run.passed("big values").passed("big variable");
    let sent = server.recorded_on("/big");
    let sent = sent
        .iter()
        .find(|r| !r.body.is_empty())
        .expect("the body was sent");
    let body: serde_json::Value = serde_json::from_str(&sent.body).unwrap();
    assert_eq!(body["n"].as_f64(), Some(1e21), "{}", sent.body);
}

#[test]
fn a_big_integer_that_differs_still_fails() {
    let server = TestServer::builder()
        .route("/big", Reply::json(json!({"big_integer": 1e21})))
        .start();
    let ws = Workspace::suite(
        r#"customer: big
checks:
  - name: differs
    request: { path: /big }
    expect: { json: { $.big_integer: 2000000000000000000000 } }
"#,
    );
    let run = ws.run(&server, &[]);
    run.code(1);
    run.failed("differs");
}

// ---------------------------------------------------------------------------------------------
// Suite variables keep their YAML type
// ---------------------------------------------------------------------------------------------

#[test]
fn suite_variables_keep_their_yaml_type() {
    let server = TestServer::builder()
        .route(
            "/typed",
            Reply::json(
                json!({"count": 5, "ok": true, "tags": ["a", "b"], "meta": {"v": 1.5}, "label": "n7"}),
            ),
        )
        .start();
    let ws = Workspace::suite(
        r#"customer: typed
variables:
  five: 5
  yes: true
  tags: [a, b]
  meta: { v: 1.5 }
  label: n${TYPED_ENV_NUMBER}
  from_env: ${TYPED_ENV_NUMBER}
checks:
  - name: typed
    request:
      path: /typed
      json: { count: "${five}", tags: "${tags}", text: "id-${five}", env: "${from_env}" }
    expect:
      json:
        $.count: "${five}"
        $.ok: "${yes}"
        $.tags: "${tags}"
        $.meta: "${meta}"
        $.label: "${label}"
"#,
    );
    let run = Run::of(ws.cmd().env("TYPED_ENV_NUMBER", "7").args([
        "--base-url",
        &server.url(),
        "-s",
        "suites",
        "--color",
        "never",
    ]));
    run.code(0);
    run.passed("typed");
    let sent: serde_json::Value = serde_json::from_str(&server.recorded_on("/typed")[0].body).unwrap();
    assert_eq!(
        sent,
        json!({"count": 5, "tags": ["a", "b"], "text": "id-5", "env": "7"}),
        "a number stays a number, the environment gives strings"
    );
}

#[test]
fn a_var_on_the_command_line_stays_a_string() {
    let server = TestServer::builder()
        .route("/count", Reply::json(json!({"count": 5})))
        .start();
    let ws = Workspace::suite(
        r#"customer: typed
variables: { five: 5 }
checks:
  - name: from the command line
    request: { path: /count }
    expect: { json: { $.count: "${five}" } }
"#,
    );
    let run = ws.run(&server, &["--var", "five=5"]);
    run.code(1);
    run.failures("from the command line", &["$.count: expected \"5\", found 5"]);
}

#[test]
fn a_typed_secret_variable_is_masked() {
    let server = TestServer::answering(200);
    let ws = Workspace::suite(
        r#"customer: secrets
variables:
  api_key: 987654321
  secret_list: [swordfish-one]
checks:
  - name: sends secrets
    request:
      path: /echo
      headers: { x-api-key: "${api_key}", x-other: "${secret_list}" }
    expect: { status: 500 }
"#,
    );
    let run = ws.run(&server, &["-vv", "--json", "report.json"]);
    run.code(1);
    let sent = &server.recorded()[0];
    assert_eq!(sent.header("x-api-key"), Some("987654321"));
    let report = std::fs::read_to_string(ws.path().join("report.json")).unwrap();
    for text in [run.all_output(), report] {
        assert!(!text.contains("987654321"), "{text}");
        assert!(!text.contains("swordfish-one"), "{text}");
    }
}

// ---------------------------------------------------------------------------------------------
// Variables in map keys
// ---------------------------------------------------------------------------------------------

fn errors_server() -> TestServer {
    TestServer::builder()
        .route("/index", Reply::json(json!({"index": 1})))
        .route(
            "/errors",
            Reply::json(json!({"errors": [{"id": "error1"}, {"id": "error2"}]}))
                .header("x-dynamic-1", "seen"),
        )
        .start()
}

#[test]
fn variables_in_keys_are_expanded() {
    let server = errors_server();
    let ws = Workspace::suite(
        r#"customer: keys
variables:
  key: x-from-variable
checks:
  - name: index
    request: { path: /index }
    capture: { index: $.index }
  - name: errors
    request:
      path: /errors
      headers: { "${key}": sent, "x-${index}": by-capture }
      query: { "q-${index}": v }
      json: { "field-${index}": "${index}" }
    expect:
      headers: { "X-Dynamic-${index}": seen }
      json:
        "$.errors[${index}].id": error2
        $.errors[0].id: error1
"#,
    );
    let run = ws.run(&server, &[]);
    run.code(0);
    run.passed("index").passed("errors");
    let sent = &server.recorded_on("/errors")[0];
    assert_eq!(sent.header("x-from-variable"), Some("sent"));
    assert_eq!(sent.header("x-1"), Some("by-capture"));
    assert_eq!(sent.query, "q-1=v");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&sent.body).unwrap(),
        json!({"field-1": 1})
    );
}

#[test]
fn a_key_that_expands_badly_fails_its_check_only() {
    let server = errors_server();
    let ws = Workspace::suite(
        r#"customer: keys
checks:
  - name: bad path
    request: { path: /errors }
    expect: { json: { "$.errors[${index}].id": error2 } }
  - name: bad header
    request: { path: /errors, headers: { "${hname}": v } }
  - name: fine
    request: { path: /errors }
"#,
    );
    let run = ws.run(&server, &["--var", "index=nope]", "--var", "hname=bad name"]);
    run.code(1);
    run.failed("bad path").failed("bad header").passed("fine");
    run.failures(
        "bad path",
        &["expect.json key \"$.errors[${index}].id\": invalid JSONPath `$.errors[nope]].id`: at position 8, parser error"],
    );
    run.failures(
        "bad header",
        &["request header \"${hname}\": invalid header name \"bad name\""],
    );
}

#[test]
fn an_undefined_variable_in_a_key_is_a_suite_error() {
    let server = errors_server();
    let ws = Workspace::suite(
        r#"customer: keys
checks:
  - name: undefined
    request: { path: /errors }
    expect: { json: { "$.errors[${missing}].id": error2 } }
"#,
    );
    let run = ws.run(&server, &[]);
    run.code(2);
    run.stderr_has("uses undefined variable `missing`");
    assert_eq!(server.requests(), 0);
}
