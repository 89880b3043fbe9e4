//! The fixture API served in-process on 127.0.0.1: echo, CORS, validation, 404/405, the stateful
//! transcode status, latency, shutdown; and a walk over every check of the bundled suites that
//! sends its request to the fixture and judges the answer by the check's `expect` (status, headers,
//! json, body), so the suites and the fixture cannot drift apart.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use endpoint_check::fixture::{self, BUNDLE, FixtureApi};
use regex::Regex;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use serde_yaml::Value as Yaml;

struct Server {
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(api: FixtureApi) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(fixture::serve(listener, Arc::new(api), async move {
            let _ = stopped.await;
        }));
        Server {
            base: format!("http://{addr}"),
            stop: Some(stop),
            task,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn shutdown(mut self) {
        let _ = self.stop.take().unwrap().send(());
        let ended = tokio::time::timeout(Duration::from_secs(10), self.task).await;
        ended.expect("the server stops after shutdown").unwrap().unwrap();
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

struct Answer {
    status: u16,
    headers: HeaderMap,
    text: String,
    json: Value,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.expect("the fixture answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        text,
        json,
    }
}

fn post_json(client: &reqwest::Client, url: String, body: &Value) -> reqwest::RequestBuilder {
    client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
}

#[tokio::test]
async fn path_params_and_query_are_echoed() {
    let server = Server::start(FixtureApi::bundled()).await;
    let client = client();

    let answer = send(client.get(server.url("/api/provision/ac_test%5F1"))).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json["apiKey"], json!("ac_test_1"));
    assert_eq!(answer.json["customer"], json!("jettythunder.app"));

    let answer = send(client.get(server.url("/api/cdn/stream?assetId=track%201&region=eu-west-1"))).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json["assetId"], json!("track 1"));
    assert_eq!(answer.json["region"], json!("eu-west-1"));
    assert_eq!(answer.json["quality"], json!("256k"), "a template default");
    assert_eq!(answer.header("x-edge-region"), "eu-west-1");
    assert!(answer.header("content-type").contains("application/json"));

    let answer = send(client.get(server.url("/api/jetty/optimal-edges"))).await;
    assert_eq!(answer.json["region"], json!("us-east-1"));
    assert_eq!(
        answer.json["edges"][0]["url"],
        json!("https://us-east-1-a.edge.agentcache.ai")
    );
    server.shutdown().await;
}

#[tokio::test]
async fn body_fields_are_echoed_with_their_types() {
    let server = Server::start(FixtureApi::bundled()).await;
    let client = client();
    let body = json!({"fileName": "a.wav", "fileSize": 1234, "userId": "u1"});
    let answer = send(post_json(&client, server.url("/api/jetty/track-upload"), &body)).await;
    assert_eq!(answer.status, 201);
    assert_eq!(answer.json["fileName"], json!("a.wav"));
    assert_eq!(
        answer.json["fileSize"],
        json!(1234),
        "a whole-string template keeps the number"
    );
    assert_eq!(answer.json["chunkSize"], json!(5242880), "a default read as JSON");
    assert_eq!(answer.json["tracked"], json!(true));
    let request_id = answer.header("x-request-id").to_string();
    assert_eq!(
        answer.json["uploadId"],
        json!(format!("upl_{request_id}")),
        "one request id per request"
    );

    let body = json!({"urls": ["https://a/1", "https://a/2"]});
    let answer = send(post_json(&client, server.url("/api/cdn/warm"), &body).header("x-api-key", "k")).await;
    assert_eq!(answer.status, 202);
    assert_eq!(answer.json["urls"], body["urls"], "arrays echo as arrays");
    assert_eq!(answer.json["region"], json!("all"));
    server.shutdown().await;
}

#[tokio::test]
async fn cors_headers_and_preflight() {
    let server = Server::start(FixtureApi::bundled()).await;
    let client = client();

    let answer = send(
        client
            .get(server.url("/api/cdn/status"))
            .header("origin", "https://audio1.tv"),
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("access-control-allow-origin"), "*");
    assert!(
        answer
            .header("access-control-expose-headers")
            .contains("x-request-id")
    );

    let answer = send(
        client
            .request(reqwest::Method::OPTIONS, server.url("/api/cdn/warm"))
            .header("origin", "https://audio1.tv")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type, x-api-key"),
    )
    .await;
    assert_eq!(answer.status, 204);
    assert_eq!(answer.header("access-control-allow-origin"), "*");
    assert!(answer.header("access-control-allow-methods").contains("POST"));
    assert!(
        answer
            .header("access-control-allow-headers")
            .contains("x-api-key")
    );
    assert_eq!(answer.header("access-control-max-age"), "86400");
    assert!(answer.text.is_empty());

    // Errors carry CORS headers too, so browsers can read them.
    let answer = send(client.get(server.url("/api/nope"))).await;
    assert_eq!(answer.header("access-control-allow-origin"), "*");
    let answer = send(client.request(reqwest::Method::OPTIONS, server.url("/api/nope"))).await;
    assert_eq!(answer.status, 404, "no preflight for a path nothing serves");
    server.shutdown().await;
}

#[tokio::test]
async fn bad_input_answers_4xx_with_a_json_error() {
    let server = Server::start(FixtureApi::bundled()).await;
    let client = client();
    let submit = server.url("/api/transcode/submit");

    let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
        (
            post_json(&client, submit.clone(), &json!({"format": "hls"})).header("x-api-key", "k"),
            400,
            "sourceUrl",
        ),
        (
            post_json(
                &client,
                submit.clone(),
                &json!({"sourceUrl": 42, "format": "hls"}),
            )
            .header("x-api-key", "k"),
            400,
            "must be a string, got number",
        ),
        (
            client
                .post(submit.clone())
                .header("x-api-key", "k")
                .body("{\"sourceUrl\": "),
            400,
            "not valid JSON",
        ),
        (
            client.post(submit.clone()).header("x-api-key", "k"),
            400,
            "must be a JSON object",
        ),
        (
            post_json(&client, submit.clone(), &json!([1, 2])).header("x-api-key", "k"),
            400,
            "JSON object",
        ),
        (
            post_json(
                &client,
                submit.clone(),
                &json!({"sourceUrl": "s", "format": "hls"}),
            ),
            401,
            "x-api-key",
        ),
        (
            post_json(
                &client,
                submit.clone(),
                &json!({"sourceUrl": "s", "format": "hls"}),
            )
            .header("x-api-key", "  "),
            401,
            "x-api-key",
        ),
        (client.get(server.url("/api/cdn/stream?assetId=")), 400, "assetId"),
        (
            client
                .get(server.url("/api/jetty/user-stats"))
                .header("x-api-key", "k"),
            400,
            "userId",
        ),
        (
            client
                .post(server.url("/api/muscle/plan"))
                .body(vec![b' '; 2 * 1024 * 1024]),
            413,
            "over",
        ),
    ];
    for (request, status, fragment) in cases {
        let answer = send(request).await;
        assert_eq!(answer.status, status, "{}", answer.text);
        let error = answer.json["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error in {}", answer.text));
        assert!(error.contains(fragment), "{error:?} should contain {fragment:?}");
        assert!(answer.header("content-type").contains("application/json"));
    }
    server.shutdown().await;
}

#[tokio::test]
async fn unknown_routes_answer_404_and_wrong_methods_405() {
    let server = Server::start(FixtureApi::bundled()).await;
    let client = client();
    let answer = send(client.get(server.url("/api/does/not/exist"))).await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.json["code"], json!("not_found"));
    assert!(
        answer.json["error"]
            .as_str()
            .unwrap()
            .contains("/api/does/not/exist")
    );

    let answer = send(client.delete(server.url("/api/cdn/status"))).await;
    assert_eq!(answer.status, 405);
    assert_eq!(answer.header("allow"), "GET");
    assert!(answer.json["error"].is_string());

    let answer = send(client.head(server.url("/api/brain/health"))).await;
    assert_eq!(answer.status, 200);
    assert!(answer.text.is_empty(), "HEAD has no body");
    assert!(answer.header("content-type").contains("application/json"));
    server.shutdown().await;
}

#[tokio::test]
async fn transcode_status_turns_completed() {
    let server = Server::start(FixtureApi::bundled()).await;
    let client = client();
    let body = json!({"sourceUrl": "https://media/x.wav", "format": "hls", "profiles": ["aac-128k"]});
    let answer =
        send(post_json(&client, server.url("/api/transcode/submit"), &body).header("x-api-key", "k")).await;
    assert_eq!(answer.status, 202);
    assert_eq!(answer.json["status"], json!("queued"));
    assert_eq!(answer.json["profiles"], json!(["aac-128k"]));
    let job_id = answer.json["jobId"].as_str().unwrap().to_string();
    assert_eq!(
        answer.json["statusUrl"],
        json!(format!("/api/transcode/status/{job_id}"))
    );

    let status_of = |id: &str| {
        let request = client
            .get(server.url(&format!("/api/transcode/status/{id}")))
            .header("x-api-key", "k");
        async move { send(request).await }
    };
    // A rejected request does not count as a poll.
    let unauthorized = send(client.get(server.url(&format!("/api/transcode/status/{job_id}")))).await;
    assert_eq!(unauthorized.status, 401);

    let mut seen = Vec::new();
    for _ in 0..4 {
        let answer = status_of(&job_id).await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.json["jobId"], json!(job_id));
        seen.push(answer.json["status"].as_str().unwrap().to_string());
    }
    assert_eq!(seen, ["queued", "processing", "completed", "completed"]);
    let done = status_of(&job_id).await;
    assert_eq!(done.json["progress"], json!(100));
    assert!(done.json["outputs"][0]["url"].as_str().unwrap().contains(&job_id));

    assert_eq!(
        status_of("job_other").await.json["status"],
        json!("queued"),
        "counted per job id"
    );
    assert_eq!(status_of("job_does_not_exist").await.status, 404);
    server.shutdown().await;
}

#[tokio::test]
async fn configured_latency_is_applied() {
    let api = FixtureApi::from_yaml(
        "latency: 120ms\nroutes:\n  - { method: GET, path: /slow, body: { ok: true } }\n  - { method: GET, path: /jittery, latency: 40, jitter: 30ms }\n",
    )
    .unwrap();
    let server = Server::start(api).await;
    let client = client();
    // Warm the connection so only the answer is timed.
    let _ = send(client.get(server.url("/nothing"))).await;

    let started = Instant::now();
    let answer = send(client.get(server.url("/slow"))).await;
    assert_eq!(answer.json, json!({"ok": true}));
    assert!(
        started.elapsed() >= Duration::from_millis(120),
        "{:?}",
        started.elapsed()
    );

    for _ in 0..3 {
        let started = Instant::now();
        let answer = send(client.get(server.url("/jittery"))).await;
        assert_eq!(answer.status, 200);
        assert!(answer.text.is_empty(), "a route without body answers empty");
        assert!(
            started.elapsed() >= Duration::from_millis(40),
            "{:?}",
            started.elapsed()
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_with_an_idle_keep_alive_connection() {
    let server = Server::start(FixtureApi::bundled()).await;
    let client = client();
    assert_eq!(
        send(client.get(server.url("/api/brain/health"))).await.status,
        200
    );
    // `client` still holds its connection open.
    server.shutdown().await;
    drop(client);
}

// ---------------------------------------------------------------------------------------------
// Every bundled check against the fixture.

/// `serve --fault` (docs/cli.md#serve): the route answers the status for exactly that share of its
/// requests, a JSON error saying it was injected; other routes are untouched.
#[tokio::test]
async fn a_fault_fails_its_share_of_requests_and_nothing_else() {
    let fault = fixture::fault::Fault::parse("GET /api/brain/health=503@50%").unwrap();
    let server = Server::start(FixtureApi::bundled().with_faults(vec![fault])).await;
    let client = client();
    let mut statuses = Vec::new();
    for _ in 0..10 {
        let answer = send(client.get(server.url("/api/brain/health"))).await;
        if answer.status == 503 {
            assert_eq!(answer.json["code"], "injected_fault", "{}", answer.text);
        }
        statuses.push(answer.status);
    }
    assert_eq!(statuses.iter().filter(|s| **s == 503).count(), 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 5, "{statuses:?}");
    let other = send(client.get(server.url("/api/cdn/status"))).await;
    assert_eq!(other.status, 200, "{}", other.text);
    server.shutdown().await;
}

#[test]
fn a_fault_that_cannot_be_read_is_a_usage_error() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_endpoint-check"))
        .args(["serve", "--port", "0", "--fault", "GET /api/brain/health"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("write e.g."), "{stderr}");
}

fn bundled(name: &str) -> &'static str {
    BUNDLE
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("{name} is not in BUNDLE"))
        .1
}

/// `${name}` / `${name:-default}` with the check's variables; a captured value keeps its type
/// when a string is exactly one variable.
struct Vars {
    values: HashMap<String, Value>,
    pattern: Regex,
}

impl Vars {
    fn new() -> Vars {
        let mut values = HashMap::new();
        values.insert("run_id".to_string(), json!("run-test"));
        values.insert("timestamp".to_string(), json!("1700000000000"));
        values.insert("uuid".to_string(), json!("00000000-0000-4000-8000-000000000000"));
        Vars {
            values,
            pattern: Regex::new(r"\$\{([A-Za-z0-9_.-]+)(?::-([^}]*))?\}").unwrap(),
        }
    }

    fn lookup(&self, name: &str, default: Option<&str>, context: &str) -> Value {
        match (self.values.get(name), default) {
            (Some(value), _) => value.clone(),
            (None, Some(default)) => json!(default),
            (None, None) => panic!("{context}: undefined variable {name}"),
        }
    }

    fn text(&self, text: &str, context: &str) -> Value {
        if let Some(c) = self.pattern.captures(text)
            && c.get(0).unwrap().as_str() == text
        {
            return self.lookup(&c[1], c.get(2).map(|m| m.as_str()), context);
        }
        let out = self.pattern.replace_all(text, |c: &regex::Captures| {
            match self.lookup(&c[1], c.get(2).map(|m| m.as_str()), context) {
                Value::String(s) => s,
                other => other.to_string(),
            }
        });
        Value::String(out.into_owned())
    }

    fn value(&self, value: &Value, context: &str) -> Value {
        match value {
            Value::String(text) => self.text(text, context),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.value(v, context)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.value(v, context)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

fn to_json(yaml: &Yaml) -> Value {
    serde_yaml::from_value(yaml.clone()).unwrap()
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn status_allowed(expect: Option<&Value>, status: u16) -> bool {
    match expect {
        None => (200..300).contains(&status),
        Some(Value::Number(n)) => n.as_u64() == Some(u64::from(status)),
        Some(Value::Array(items)) => items.iter().any(|n| n.as_u64() == Some(u64::from(status))),
        Some(Value::String(class)) => {
            class.len() == 3 && class.ends_with("xx") && class[..1] == status.to_string()[..1]
        }
        Some(other) => panic!("bad status {other}"),
    }
}

/// A JSONPath made of `.name`, `[n]` and `[*]`: one value or none when singular, else the array
/// of all matches.
fn json_path(body: &Value, path: &str) -> Option<Value> {
    let token = Regex::new(r"^(?:\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\[\*\])").unwrap();
    let mut rest = path
        .strip_prefix('$')
        .unwrap_or_else(|| panic!("unsupported JSONPath {path}"));
    let mut current = vec![body.clone()];
    let mut singular = true;
    while !rest.is_empty() {
        let c = token
            .captures(rest)
            .unwrap_or_else(|| panic!("unsupported JSONPath {path}"));
        let mut next = Vec::new();
        for value in &current {
            if let Some(name) = c.get(1) {
                next.extend(value.get(name.as_str()).cloned());
            } else if let Some(index) = c.get(2) {
                next.extend(value.get(index.as_str().parse::<usize>().unwrap()).cloned());
            } else {
                singular = false;
                match value {
                    Value::Array(items) => next.extend(items.iter().cloned()),
                    Value::Object(map) => next.extend(map.values().cloned()),
                    _ => {}
                }
            }
        }
        current = next;
        rest = &rest[c.get(0).unwrap().end()..];
    }
    if singular {
        current.into_iter().next()
    } else {
        Some(Value::Array(current))
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) if a.is_number() && b.is_number() => x == y,
        _ => a == b,
    }
}

fn length(value: &Value) -> Option<usize> {
    match value {
        Value::String(s) => Some(s.chars().count()),
        Value::Array(a) => Some(a.len()),
        Value::Object(o) => Some(o.len()),
        _ => None,
    }
}

/// Judges one `expect.json` / `expect.headers` entry; `numeric_text` parses strings for
/// lt/le/gt/ge (headers).
fn judge(found: Option<&Value>, expected: &Value, numeric_text: bool) -> Result<(), String> {
    let ops = match expected {
        Value::Object(ops) => ops,
        plain => {
            return match found {
                Some(value) if same(value, plain) => Ok(()),
                other => Err(format!("expected {plain}, found {other:?}")),
            };
        }
    };
    for (op, arg) in ops {
        if op == "exists" {
            if found.is_some() != (arg == &json!(true)) {
                return Err(format!("exists: {arg}, found {found:?}"));
            }
            continue;
        }
        let value = found.ok_or_else(|| format!("{op}: nothing found"))?;
        let number = || {
            value.as_f64().or_else(|| {
                if numeric_text {
                    value.as_str()?.trim().parse().ok()
                } else {
                    None
                }
            })
        };
        let holds = match op.as_str() {
            "eq" => same(value, arg),
            "ne" => !same(value, arg),
            "lt" => number().is_some_and(|n| n < arg.as_f64().unwrap()),
            "le" => number().is_some_and(|n| n <= arg.as_f64().unwrap()),
            "gt" => number().is_some_and(|n| n > arg.as_f64().unwrap()),
            "ge" => number().is_some_and(|n| n >= arg.as_f64().unwrap()),
            "contains" => match value {
                Value::String(s) => s.contains(&text_of(arg)),
                Value::Array(items) => items.iter().any(|item| same(item, arg)),
                Value::Object(map) => map.contains_key(&text_of(arg)),
                _ => false,
            },
            "matches" => value
                .as_str()
                .is_some_and(|s| Regex::new(arg.as_str().unwrap()).unwrap().is_match(s)),
            "type" => match arg.as_str().unwrap() {
                "string" => value.is_string(),
                "number" => value.is_number(),
                "integer" => value.as_f64().is_some_and(|f| f.fract() == 0.0),
                "boolean" => value.is_boolean(),
                "array" => value.is_array(),
                "object" => value.is_object(),
                "null" => value.is_null(),
                other => panic!("unknown type {other}"),
            },
            "length" => length(value) == arg.as_u64().map(|n| n as usize),
            "min_length" => length(value).is_some_and(|n| n as u64 >= arg.as_u64().unwrap()),
            "max_length" => length(value).is_some_and(|n| n as u64 <= arg.as_u64().unwrap()),
            "one_of" => arg.as_array().unwrap().iter().any(|option| same(value, option)),
            other => panic!("operator `{other}` is not a documented operator"),
        };
        if !holds {
            return Err(format!("{op}: {arg} does not hold for {value}"));
        }
    }
    Ok(())
}

/// The `expect` of a check with the suite defaults merged in (headers and json key by key).
fn merged_expect(defaults: &Value, own: &Value) -> Value {
    let mut merged = defaults.clone();
    if !merged.is_object() {
        merged = json!({});
    }
    if let Value::Object(own) = own {
        for (key, value) in own {
            match (merged.get_mut(key), value) {
                (Some(Value::Object(base)), Value::Object(extra)) if key == "headers" || key == "json" => {
                    for (k, v) in extra {
                        base.insert(k.clone(), v.clone());
                    }
                }
                _ => {
                    merged[key] = value.clone();
                }
            }
        }
    }
    merged
}

fn judge_answer(answer: &Answer, expect: &Value) -> Vec<String> {
    let mut failures = Vec::new();
    if !status_allowed(expect.get("status"), answer.status) {
        failures.push(format!(
            "status {} not allowed by {:?}: {}",
            answer.status,
            expect.get("status"),
            answer.text
        ));
    }
    if let Some(Value::Object(headers)) = expect.get("headers") {
        for (name, expected) in headers {
            let found = answer
                .headers
                .get(name.as_str())
                .and_then(|v| v.to_str().ok())
                .map(|v| json!(v));
            if let Err(e) = judge(found.as_ref(), expected, true) {
                failures.push(format!("header {name}: {e}"));
            }
        }
    }
    if let Some(Value::Object(paths)) = expect.get("json") {
        for (path, expected) in paths {
            if let Err(e) = judge(json_path(&answer.json, path).as_ref(), expected, false) {
                failures.push(format!("json {path}: {e} in {}", answer.text));
            }
        }
    }
    if let Some(expected) = expect.get("body")
        && let Err(e) = judge(Some(&json!(answer.text)), expected, false)
    {
        failures.push(format!("body: {e}"));
    }
    failures
}

fn header_pairs(map: Option<&Value>) -> Vec<(String, String)> {
    match map {
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), text_of(v)))
            .collect(),
        _ => Vec::new(),
    }
}

#[tokio::test]
async fn every_bundled_check_passes_against_the_fixture() {
    let api = FixtureApi::bundled();
    let mut checked = 0;
    let mut routes_used = std::collections::HashSet::new();
    let route_labels: Vec<String> = api.routes().map(str::to_string).collect();
    let mut route_of: Vec<(String, String, Option<String>)> = Vec::new();
    let server = Server::start(FixtureApi::bundled()).await;
    let client = client();
    let mut failures = Vec::new();

    for suite_file in ["suites/audio1tv.yaml", "suites/jettythunder.yaml"] {
        let suite: Yaml = serde_yaml::from_str(bundled(suite_file)).unwrap();
        let mut vars = Vars::new();
        for (name, value) in suite["variables"].as_mapping().into_iter().flatten() {
            let name = name.as_str().unwrap().to_string();
            let value = vars.value(&to_json(value), &format!("{suite_file} variables"));
            vars.values.insert(name, value);
        }
        let defaults = to_json(&suite["defaults"]);
        let default_expect = defaults.get("expect").cloned().unwrap_or(json!({}));
        let mut names = std::collections::HashSet::new();

        for check in suite["checks"].as_sequence().expect("checks") {
            let check = to_json(check);
            let name = check["name"].as_str().unwrap().to_string();
            assert!(
                names.insert(name.clone()),
                "{suite_file}: duplicate check name {name}"
            );
            let context = format!("{suite_file}: {name}");
            let request = &check["request"];
            let method = request
                .get("method")
                .and_then(Value::as_str)
                .unwrap_or("GET")
                .to_string();
            let path = text_of(&vars.text(request["path"].as_str().expect("path"), &context));

            // The fixture has a route for it, unless the check is about a path nothing serves
            // (404) or a method the path does not allow (405).
            let expected_status = &check["expect"]["status"];
            let path_served = ["GET", "POST"].iter().any(|m| api.route_for(m, &path).is_some());
            let unserved_ok = *expected_status == json!(404)
                || (path_served && (*expected_status == json!(405) || *expected_status == json!("4xx")));
            let route = api.route_for(&method, &path);
            if route.is_none() && !unserved_ok {
                failures.push(format!("{context}: no fixture route for {method} {path}"));
                continue;
            }
            route_of.push((context.clone(), format!("{method} {path}"), route.clone()));
            if let Some(route) = &route {
                routes_used.insert(route.clone());
            }

            // The request as the runner would send it.
            let mut url = server.url(&path);
            if let Some(Value::Object(query)) = request.get("query") {
                let pairs: Vec<String> = query
                    .iter()
                    .map(|(k, v)| format!("{}={}", encode(k), encode(&text_of(&vars.value(v, &context)))))
                    .collect();
                url = format!("{url}?{}", pairs.join("&"));
            }
            let mut headers: Vec<(String, String)> = header_pairs(defaults.get("headers"));
            for (k, v) in header_pairs(request.get("headers")) {
                headers.retain(|(existing, _)| *existing != k);
                headers.push((k, v));
            }
            let body: Option<String> = if let Some(json) = request.get("json") {
                if !headers.iter().any(|(k, _)| k == "content-type") {
                    headers.push(("content-type".into(), "application/json".into()));
                }
                Some(vars.value(json, &context).to_string())
            } else if let Some(text) = request.get("body") {
                Some(text_of(&vars.value(text, &context)))
            } else {
                request.get("body_file").map(|file| {
                    let file = file.as_str().unwrap();
                    bundled(file.strip_prefix("../").expect("body files are ../fixtures/..")).to_string()
                })
            };
            let expect = vars.value(
                &merged_expect(&default_expect, check.get("expect").unwrap_or(&json!({}))),
                &context,
            );
            let samples = check.get("samples").and_then(Value::as_u64).unwrap_or(1).min(3);
            let polls = if check.get("poll").is_some() { 20 } else { 1 };

            let mut last = None;
            'samples: for _ in 0..samples {
                for attempt in 0..polls {
                    let mut builder =
                        client.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), &url);
                    for (k, v) in &headers {
                        builder = builder.header(k.as_str(), text_of(&vars.text(v, &context)));
                    }
                    if let Some(body) = &body {
                        builder = builder.body(body.clone());
                    }
                    let answer = send(builder).await;
                    let problems = judge_answer(&answer, &expect);
                    if problems.is_empty() {
                        last = Some(Ok(answer));
                        continue 'samples;
                    }
                    last = Some(Err(problems));
                    if attempt + 1 < polls {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
                break;
            }
            match last.expect("at least one request") {
                Ok(answer) => {
                    if let Some(Value::Object(captures)) = check.get("capture") {
                        for (var, path) in captures {
                            let value = json_path(&answer.json, path.as_str().unwrap())
                                .unwrap_or_else(|| panic!("{context}: capture {var} matched nothing"));
                            vars.values.insert(var.clone(), value);
                        }
                    }
                }
                Err(problems) => failures.push(format!("{context}:\n    {}", problems.join("\n    "))),
            }
            checked += 1;
        }
        let count = names.len();
        let minimum = if suite_file.contains("audio1") { 25 } else { 30 };
        assert!(
            count >= minimum,
            "{suite_file} has {count} checks, at least {minimum} wanted"
        );
    }
    server.shutdown().await;

    assert!(
        failures.is_empty(),
        "{} of {checked} checks fail against the fixture:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= 55);
    // Except the route that breaks fixtures/openapi.yaml on purpose: tests/cli_demo.rs calls it
    // to show what an `openapi:` check catches (docs/assertions.md#openapi).
    let unused: Vec<&String> = route_labels
        .iter()
        .filter(|r| !routes_used.contains(*r) && !r.ends_with("/job_contract_drift"))
        .collect();
    assert!(
        unused.is_empty(),
        "fixture routes no bundled check uses: {unused:?}"
    );
    for (context, request, route) in &route_of {
        if request.starts_with("GET /api/transcode/status/job_") && !request.ends_with("does_not_exist") {
            assert_eq!(
                route.as_deref(),
                Some("GET /api/transcode/status/:jobId"),
                "{context}"
            );
        }
    }
}

#[test]
fn suites_follow_the_project_conventions() {
    let writes = ["POST", "PUT", "PATCH", "DELETE"];
    let safe_envs = json!(["preview", "staging", "localhost", "demo"]);
    let operators = endpoint_check::assert::OPERATORS;
    for (suite_file, customer, title) in [
        (
            "suites/audio1tv.yaml",
            "audio1.tv",
            "audio1.tv Critical Endpoints",
        ),
        (
            "suites/jettythunder.yaml",
            "jettythunder.app",
            "jettythunder.app Critical Endpoints",
        ),
    ] {
        let suite = to_json(&serde_yaml::from_str::<Yaml>(bundled(suite_file)).unwrap());
        assert_eq!(suite["customer"], json!(customer));
        assert_eq!(suite["title"], json!(title));
        assert_eq!(suite["defaults"]["expect"]["latency"], json!("2s"));
        let mut captured_by_writes = Vec::new();
        let mut sla = 0;
        for check in suite["checks"].as_array().unwrap() {
            let name = check["name"].as_str().unwrap();
            let method = check["request"]
                .get("method")
                .and_then(Value::as_str)
                .unwrap_or("GET");
            let text = check.to_string();
            let uses_write_capture = captured_by_writes
                .iter()
                .any(|var: &String| text.contains(&format!("${{{var}}}")));
            if writes.contains(&method) || uses_write_capture {
                assert_eq!(
                    check["environments"], safe_envs,
                    "{suite_file}: {name} must stay out of production"
                );
                if let Some(Value::Object(captures)) = check.get("capture") {
                    captured_by_writes.extend(captures.keys().cloned());
                }
            }
            for section in ["json", "headers"] {
                if let Some(Value::Object(entries)) = check["expect"].get(section) {
                    for (key, expected) in entries {
                        if let Value::Object(ops) = expected {
                            for op in ops.keys() {
                                assert!(
                                    operators.contains(&op.as_str()),
                                    "{suite_file}: {name}: {key}: `{op}`"
                                );
                            }
                        }
                        assert!(
                            !expected.is_array(),
                            "{suite_file}: {name}: {key}: a list is not a matcher"
                        );
                    }
                }
            }
            if check.get("samples").is_some() {
                sla += 1;
                assert_eq!(
                    check["expect"]["availability"],
                    json!(99.9),
                    "{suite_file}: {name}"
                );
                assert!(check.get("concurrency").is_some(), "{suite_file}: {name}");
                assert!(check["expect"]["latency"].is_object(), "{suite_file}: {name}");
            }
            assert!(!text.contains("ac_live"), "no real-looking secrets");
        }
        assert!(sla >= 2, "{suite_file}: SLA checks");
        assert!(
            bundled(suite_file).contains("body_file: ../fixtures/"),
            "{suite_file} uses a body file"
        );
    }
    let environments = to_json(&serde_yaml::from_str::<Yaml>(bundled("suites/environments.yaml")).unwrap());
    assert_eq!(environments["title"], json!("AgentCache Customer Endpoint Tests"));
    assert_eq!(
        environments["environments"]["production"]["base_url"],
        json!("https://agentcache.ai")
    );
    assert_eq!(
        environments["environments"]["production"]["safety_delay"],
        json!("5s")
    );
    assert_eq!(
        environments["environments"]["staging"]["base_url"],
        json!("${STAGING_URL:-https://staging.agentcache.ai}")
    );
    assert_eq!(
        environments["environments"]["localhost"]["base_url"],
        json!("http://localhost:3000")
    );
    assert_eq!(
        environments["environments"]["preview"]["vercel"]["project"],
        json!("agentcache-ai")
    );
    assert_eq!(
        environments["environments"]["preview"]["vercel"]["team"],
        json!("drgnflai-jetty")
    );
}
