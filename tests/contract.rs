//! Contract checks against loopback servers (docs/assertions.md#schema, #openapi, #certificate):
//! JSON Schema violations by path, `$ref` across files, OpenAPI status / content type / body
//! wording and the opt-out, and TLS certificate assertions on a certificate made to expire soon.

mod support;

use serde_json::json;
use support::check;
use support::server::{Reply, TestServer, expiring_tls};
use support::workspace::Workspace;

const SUITE_HEAD: &str = "customer: contract\nchecks:\n";

fn one_check(request_and_expect: &str) -> String {
    format!("{SUITE_HEAD}  - name: c\n{request_and_expect}")
}

#[test]
fn a_body_violating_a_schema_in_three_places_lists_three_paths() {
    let server = TestServer::builder()
        .route(
            "/edges",
            Reply::json(
                json!({"edges": [{"id": 1, "latency": "fast"}, {"id": "b", "latency": 3}], "ttl": "30"}),
            ),
        )
        .start();
    let ws = Workspace::suite(&one_check(
        r#"    request: { path: /edges }
    expect:
      schema:
        type: object
        required: [edges, ttl]
        properties:
          ttl: { type: integer }
          edges:
            type: array
            items:
              type: object
              properties: { id: { type: string }, latency: { type: number } }
"#,
    ));
    let run = ws.run(&server, &["--yes"]);
    run.code(1);
    let mut lines = run.lines_under("c");
    lines.sort();
    assert_eq!(
        lines,
        [
            r#"schema: $.edges[0].id: 1 is not of type "string""#,
            r#"schema: $.edges[0].latency: "fast" is not of type "number""#,
            r#"schema: $.ttl: "30" is not of type "integer""#,
        ],
        "{}",
        run.all()
    );
}

#[test]
fn a_schema_split_over_two_files_with_ref_works() {
    let server = TestServer::builder()
        .route("/good", Reply::json(json!({"edges": [{"latency": 3}]})))
        .route("/bad", Reply::json(json!({"edges": [{"latency": "fast"}]})))
        .start();
    let ws = Workspace::suite(&format!(
        "{SUITE_HEAD}  - name: good\n    request: {{ path: /good }}\n    expect: {{ schema: ../schemas/edges.yaml }}\n  - name: bad\n    request: {{ path: /bad }}\n    expect: {{ schema: ../schemas/edges.yaml }}\n"
    ));
    std::fs::create_dir(ws.path().join("schemas")).unwrap();
    ws.write_file(
        "schemas/edges.yaml",
        "type: object\nproperties:\n  edges: { type: array, items: { $ref: edge.json } }\n",
    );
    ws.write_file(
        "schemas/edge.json",
        r#"{"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "properties": {"latency": {"type": "number"}}}"#,
    );
    let run = ws.run(&server, &["--yes"]);
    run.code(1).passed("good");
    run.failures(
        "bad",
        &[r#"schema: $.edges[0].latency: "fast" is not of type "number""#],
    );
}

#[test]
fn a_body_that_is_not_json_fails_the_schema() {
    let server = TestServer::builder().route("/t", Reply::text("hello")).start();
    let ws = Workspace::suite(&one_check(
        "    request: { path: /t }\n    expect: { schema: { type: object } }\n",
    ));
    let run = ws.run(&server, &["--yes"]);
    run.code(1);
    let lines = run.lines_under("c");
    assert!(
        lines.iter().any(|l| l.contains("schema: body is not JSON: ")),
        "{lines:?}\n{}",
        run.all()
    );
}

#[test]
fn more_than_ten_violations_are_counted() {
    let server = TestServer::builder()
        .route("/n", Reply::json(json!(vec!["x"; 14])))
        .start();
    let ws = Workspace::suite(&one_check(
        "    request: { path: /n }\n    expect: { schema: { type: array, items: { type: integer } } }\n",
    ));
    let run = ws.run(&server, &["--yes", "--json", "r.json"]);
    run.code(1);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ws.path().join("r.json")).unwrap()).unwrap();
    let f = check(&report, "c")["failures"].as_array().unwrap().clone();
    assert_eq!(f.len(), 11, "{f:?}");
    assert_eq!(f[10], "schema: … and 4 more");
}

const OPENAPI: &str = r##"openapi: 3.1.0
info: { title: t, version: "1" }
paths:
  /api/cdn/status:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                required: [status]
                properties: { status: { type: string } }
  /api/jobs/{jobId}:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Job" }
components:
  schemas:
    Job:
      type: object
      properties: { state: { type: string } }
"##;

fn openapi_workspace(checks: &str) -> Workspace {
    let ws = Workspace::suite(&format!(
        "customer: contract\nopenapi: ../openapi.yaml\nchecks:\n{checks}"
    ));
    ws.write_file("openapi.yaml", OPENAPI);
    ws
}

#[test]
fn openapi_judges_status_content_type_body_and_operation() {
    let server = TestServer::builder()
        .route("/api/cdn/status", Reply::json(json!({"status": "ok"})))
        .route("/api/jobs/7", Reply::json(json!({"state": 5})))
        .route("/api/jobs/8", Reply::text("done"))
        .route("/api/jobs/9", Reply::json(json!({"state": "x"})).with_status(418))
        .start();
    let ws = openapi_workspace(
        r#"  - name: documented
    request: { path: /api/cdn/status }
  - name: body
    request: { path: /api/jobs/7 }
  - name: content type
    request: { path: /api/jobs/8 }
  - name: status
    request: { path: /api/jobs/9 }
    expect: { status: 418 }
  - name: operation
    request: { method: DELETE, path: /api/cdn/status }
  - name: opted out
    request: { path: /api/jobs/7 }
    expect: { openapi: false }
"#,
    );
    let run = ws.run(&server, &["--yes"]);
    run.code(1).passed("documented").passed("opted out");
    run.failures(
        "body",
        &[r#"openapi: GET /api/jobs/{jobId} → 200: $.state: 5 is not of type "string""#],
    );
    run.failures(
        "content type",
        &["openapi: GET /api/jobs/{jobId} → 200: content-type text/plain is not documented (application/json)"],
    );
    run.failures(
        "status",
        &["openapi: status 418 is not documented for GET /api/jobs/{jobId}"],
    );
    run.failures("operation", &["openapi: no operation for DELETE /api/cdn/status"]);
}

#[test]
fn openapi_paths_are_matched_after_the_base_urls_own_path() {
    let server = TestServer::builder()
        .route("/prefix/api/cdn/status", Reply::json(json!({"status": 1})))
        .start();
    let ws = openapi_workspace("  - name: c\n    request: { path: /api/cdn/status }\n");
    let mut cmd = ws.cmd();
    cmd.args([
        "--base-url",
        &format!("{}/prefix", server.url()),
        "-s",
        "suites",
        "--yes",
        "--color",
        "never",
    ]);
    let run = support::process::Run::of(&mut cmd);
    run.code(1).failures(
        "c",
        &[r#"openapi: GET /api/cdn/status → 200: $.status: 1 is not of type "string""#],
    );
}

fn certificate_suite(url: &str, assertions: &str) -> Workspace {
    Workspace::suite(&format!(
        "{SUITE_HEAD}  - name: cert\n    request: {{ url: \"{url}\" }}\n    expect:\n      body: secure\n      certificate:\n{assertions}"
    ))
}

#[test]
fn a_certificate_expiring_in_3_days_fails_ge_14_and_passes_ge_2_with_its_names_read() {
    let tls = expiring_tls(3);
    let url = format!("https://127.0.0.1:{}/", tls.server.addr.port());
    let expires = humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(tls.not_after),
    )
    .to_string();
    let failing = certificate_suite(&url, "        days_left: { ge: 14 }\n");
    let ca = failing.write_file("ca.pem", &tls.ca_pem);
    let ca = ca.display().to_string();
    let idle = TestServer::start();
    for trust in [["--cacert", ca.as_str()], ["--insecure", "--fail-fast"]] {
        let run = failing.run(&idle, &["--yes", trust[0], trust[1]]);
        run.code(1).failures(
            "cert",
            &[&format!(
                "certificate: days_left expected >= 14, found 3 (expires {expires})"
            )],
        );
    }
    let passing = certificate_suite(
        &url,
        r#"        days_left: { ge: 2 }
        issuer: "CN=Loopback Test CA,O=endpoint-check tests"
        subject: { contains: "CN=localhost" }
        dns_names: [localhost]
        not_after: { matches: '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$' }
"#,
    );
    let ca = passing.write_file("ca.pem", &tls.ca_pem).display().to_string();
    for trust in [["--cacert", ca.as_str()], ["--insecure", "--fail-fast"]] {
        let run = passing.run(&idle, &["--yes", trust[0], trust[1]]);
        run.code(0).passed("cert");
    }
    // The metrics carry the certificate's notAfter (docs/metrics.md).
    let run = passing.run(&idle, &["--yes", "--cacert", &ca, "--metrics", "run.prom"]);
    run.code(0);
    let metrics = std::fs::read_to_string(passing.path().join("run.prom")).unwrap();
    let gauge = metrics
        .lines()
        .find(|l| l.starts_with("endpoint_check_certificate_expiry_timestamp_seconds{"))
        .unwrap_or_else(|| panic!("no certificate gauge in:\n{metrics}"));
    assert!(gauge.contains("check=\"cert\""), "{gauge}");
    let value: f64 = gauge.rsplit(' ').next().unwrap().parse().unwrap();
    assert_eq!(value as u64, tls.not_after, "{gauge}");
}

#[test]
fn a_certificate_assertion_on_plain_http_fails() {
    let server = TestServer::builder().route("/", Reply::text("secure")).start();
    let url = format!("{}/", server.url());
    let ws = certificate_suite(&url, "        days_left: { ge: 14 }\n");
    let run = ws.run(&server, &["--yes"]);
    run.code(1)
        .failures("cert", &[&format!("certificate: no TLS on {url}")]);
}
