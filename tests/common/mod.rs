//! Shared by the `cli_*` tests: an in-process HTTP server on `127.0.0.1:0` (axum, on its own
//! tokio runtime thread) that records what it receives, and a way to run the built binary
//! against it with a host environment that cannot change the results.
//!
//! Built-in routes (a programmable route with the same path wins):
//!
//! | route | answer |
//! |---|---|
//! | `/ok` | 200 `{"ok": true}` |
//! | `/status/{code}` | that status, `{"status": code}` |
//! | `/echo…` (any method, any suffix) | 200, the request as JSON: `method`, `path`, `query`, `headers`, `body`, `json` |
//! | `/headers?name=value…` | 200 `ok`, each query pair set as a response header |
//! | `/delay/{ms}` | 200 `{"delayed_ms": ms}` after `ms` milliseconds |
//! | `/flaky/{n}/…` | 503 for the first `n` requests to this exact path, then 200 `{"ok": true, "attempt": k}` |
//! | `/job/{id}` | `{"id": id, "state": "running"}` twice, `"done"` from the third answer on |
//! | `/barrier/{name}?n=N&timeout_ms=T` | held until `N` requests wait at barrier `name` (or `T` ms passed, default 5000), then 200 `{"released_by": "count"\|"timeout"}` |
//! | `/redirect?to=URL&status=302` | that redirect status with `location: URL` |
//! | anything else | 404 `{"error": "not found"}` |
#![allow(dead_code)]

use assert_cmd::Command;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tempfile::TempDir;
use tokio::sync::watch;

/// A request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// The raw query string, without `?` (empty when none).
    pub query: String,
    /// Names lower-case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What a route answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub delay: Duration,
}

impl Reply {
    pub fn status(code: u16) -> Reply {
        Reply {
            status: code,
            headers: Vec::new(),
            body: String::new(),
            delay: Duration::ZERO,
        }
    }

    /// 200 with a JSON body.
    pub fn json(value: Value) -> Reply {
        Reply::status(200)
            .header("content-type", "application/json")
            .body(value.to_string())
    }

    /// 200 with a text body.
    pub fn text(text: &str) -> Reply {
        Reply::status(200)
            .header("content-type", "text/plain; charset=utf-8")
            .body(text)
    }

    pub fn with_status(mut self, code: u16) -> Reply {
        self.status = code;
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn body(mut self, body: impl Into<String>) -> Reply {
        self.body = body.into();
        self
    }

    /// Answer only after this long.
    pub fn delay(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

/// A programmable route: sees the request and how many requests this path has had (1 for the
/// first).
pub type Handler = Arc<dyn Fn(&Recorded, usize) -> Reply + Send + Sync>;

#[derive(Default)]
struct Barrier {
    waiting: usize,
    generation: u64,
    released: Option<watch::Sender<u64>>,
}

#[derive(Default)]
struct Shared {
    routes: HashMap<String, Handler>,
    requests: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    hits: Mutex<HashMap<String, usize>>,
    recorded: Mutex<Vec<Recorded>>,
    barriers: Mutex<HashMap<String, Barrier>>,
}

/// Sets up a [`TestServer`].
#[derive(Default)]
pub struct ServerBuilder {
    routes: HashMap<String, Handler>,
}

impl ServerBuilder {
    /// `path` always answers `reply`.
    pub fn route(self, path: &str, reply: Reply) -> ServerBuilder {
        self.route_fn(path, move |_, _| reply.clone())
    }

    /// `path` answers what `f` returns for the request and its hit number (1-based).
    pub fn route_fn(
        mut self,
        path: &str,
        f: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static,
    ) -> ServerBuilder {
        self.routes.insert(path.to_string(), Arc::new(f));
        self
    }

    pub fn start(self) -> TestServer {
        let shared = Arc::new(Shared {
            routes: self.routes,
            ..Shared::default()
        });
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let state = shared.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("test server runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind 127.0.0.1:0");
                addr_tx
                    .send(listener.local_addr().expect("local address"))
                    .expect("send the address");
                let app = axum::Router::new().fallback(handle).with_state(state);
                tokio::select! {
                    served = axum::serve(listener, app) => served.expect("test server"),
                    _ = stop_rx => {}
                }
            });
        });
        let addr = addr_rx.recv().expect("the test server did not start");
        TestServer {
            addr,
            shared,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }
}

/// An HTTP server on `127.0.0.1:0`, stopped when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    /// A server with the built-in routes only.
    pub fn start() -> TestServer {
        TestServer::builder().start()
    }

    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Requests received so far, on every route.
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Requests received so far on `path` (without the query).
    pub fn hits(&self, path: &str) -> usize {
        self.shared.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    /// Most requests that were being handled at once.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// Every request received, in arrival order.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.shared.recorded.lock().unwrap().clone()
    }

    /// The requests received on `path`.
    pub fn recorded_on(&self, path: &str) -> Vec<Recorded> {
        self.recorded().into_iter().filter(|r| r.path == path).collect()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Counts a request in flight for as long as it lives.
struct InFlight(Arc<Shared>);

impl InFlight {
    fn enter(shared: &Arc<Shared>) -> InFlight {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(shared.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let _in_flight = InFlight::enter(&shared);
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 16 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let recorded = Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let hit = {
        let mut hits = shared.hits.lock().unwrap();
        let n = hits.entry(recorded.path.clone()).or_default();
        *n += 1;
        *n
    };
    shared.recorded.lock().unwrap().push(recorded.clone());

    let reply = match shared.routes.get(&recorded.path) {
        Some(route) => route(&recorded, hit),
        None => built_in(&shared, &recorded, hit).await,
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = Response::new(Body::from(reply.body));
    *response.status_mut() = StatusCode::from_u16(reply.status).expect("a valid status");
    for (name, value) in &reply.headers {
        response.headers_mut().append(
            HeaderName::from_bytes(name.as_bytes()).expect("a valid header name"),
            HeaderValue::from_str(value).expect("a valid header value"),
        );
    }
    response
}

/// `a=1&b=x%20y` → pairs, percent-decoded (`+` is a space).
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                    match u8::from_str_radix(hex, 16) {
                        Ok(b) => {
                            out.push(b);
                            i += 2;
                        }
                        Err(_) => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

async fn built_in(shared: &Arc<Shared>, r: &Recorded, hit: usize) -> Reply {
    let segments: Vec<&str> = r.path.trim_start_matches('/').split('/').collect();
    let query = query_pairs(&r.query);
    match segments.as_slice() {
        ["ok"] => Reply::json(json!({"ok": true})),
        ["status", code] => match code.parse::<u16>() {
            Ok(c) => Reply::json(json!({ "status": c })).with_status(c),
            Err(_) => not_found(),
        },
        ["echo", ..] => {
            let headers: serde_json::Map<String, Value> = r
                .headers
                .iter()
                .map(|(n, v)| (n.clone(), Value::String(v.clone())))
                .collect();
            let query: serde_json::Map<String, Value> = query
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            Reply::json(json!({
                "method": r.method,
                "path": r.path,
                "query": query,
                "headers": headers,
                "body": r.body,
                "json": serde_json::from_str::<Value>(&r.body).unwrap_or(Value::Null),
            }))
        }
        ["headers"] => {
            let mut reply = Reply::text("ok");
            for (k, v) in &query {
                reply = reply.header(k, v);
            }
            reply
        }
        ["delay", ms] => match ms.parse::<u64>() {
            Ok(ms) => Reply::json(json!({ "delayed_ms": ms })).delay(Duration::from_millis(ms)),
            Err(_) => not_found(),
        },
        ["flaky", n, ..] => match n.parse::<usize>() {
            Ok(n) if hit <= n => {
                Reply::json(json!({"error": "unavailable", "attempt": hit})).with_status(503)
            }
            Ok(_) => Reply::json(json!({"ok": true, "attempt": hit})),
            Err(_) => not_found(),
        },
        ["job", id] => {
            let state = if hit >= 3 { "done" } else { "running" };
            Reply::json(json!({"id": id, "state": state, "answer": hit}))
        }
        ["barrier", name] => {
            let n: usize = param(&query, "n").and_then(|v| v.parse().ok()).unwrap_or(2);
            let timeout = param(&query, "timeout_ms")
                .and_then(|v| v.parse().ok())
                .unwrap_or(5000);
            let by = barrier(shared, name, n, Duration::from_millis(timeout)).await;
            Reply::json(json!({ "released_by": by }))
        }
        ["redirect"] => {
            let status: u16 = param(&query, "status")
                .and_then(|v| v.parse().ok())
                .unwrap_or(302);
            let to = param(&query, "to").unwrap_or("/ok").to_string();
            Reply::text("redirecting")
                .with_status(status)
                .header("location", &to)
        }
        _ => not_found(),
    }
}

fn not_found() -> Reply {
    Reply::json(json!({"error": "not found"})).with_status(404)
}

/// Waits until `n` requests wait at barrier `name` (all are then released) or `timeout` passes.
async fn barrier(shared: &Arc<Shared>, name: &str, n: usize, timeout: Duration) -> &'static str {
    let mut released = {
        let mut barriers = shared.barriers.lock().unwrap();
        let b = barriers.entry(name.to_string()).or_default();
        let sender = b.released.get_or_insert_with(|| watch::channel(0).0);
        b.waiting += 1;
        if b.waiting >= n {
            b.waiting = 0;
            b.generation += 1;
            sender.send_replace(b.generation);
            return "count";
        }
        sender.subscribe()
    };
    let generation = *released.borrow_and_update();
    match tokio::time::timeout(timeout, released.changed()).await {
        Ok(_) => "count",
        Err(_) => {
            let mut barriers = shared.barriers.lock().unwrap();
            if let Some(b) = barriers.get_mut(name)
                && b.generation == generation
            {
                b.waiting -= 1;
            }
            "timeout"
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Running the binary

/// Suite files in a fresh folder: `DIR/suites/NAME` for each `(NAME, TEXT)`. Run the binary with
/// [`endpoint_check`] from `DIR` and `-s suites`, so paths in messages read `suites/NAME`.
pub struct Workspace {
    pub dir: TempDir,
}

impl Workspace {
    pub fn new(files: &[(&str, &str)]) -> Workspace {
        let dir = tempfile::tempdir().expect("a temporary folder");
        std::fs::create_dir(dir.path().join("suites")).expect("create suites/");
        let ws = Workspace { dir };
        for (name, text) in files {
            ws.write(name, text);
        }
        ws
    }

    /// One suite file, `suites/api.yaml`.
    pub fn suite(text: &str) -> Workspace {
        Workspace::new(&[("api.yaml", text)])
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn suites(&self) -> PathBuf {
        self.dir.path().join("suites")
    }

    /// Writes (or replaces) `suites/NAME`.
    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.suites().join(name), text).expect("write a suite file");
    }

    /// The binary, run from this folder, with a clean environment (see [`endpoint_check`]).
    pub fn cmd(&self) -> Command {
        let mut cmd = endpoint_check();
        cmd.current_dir(self.path());
        cmd
    }

    /// `endpoint-check --base-url URL -s suites --color never ARGS…` run from this folder.
    pub fn run(&self, server: &TestServer, args: &[&str]) -> Run {
        let mut cmd = self.cmd();
        cmd.args(["--base-url", &server.url(), "-s", "suites", "--color", "never"])
            .args(args);
        Run::of(&mut cmd)
    }
}

/// The binary with the host's influence removed: no `ENDPOINT_CHECK_*`, `GITHUB_*`, `VERCEL_*`,
/// `CI`, color variables; `NO_PROXY` covering loopback.
pub fn endpoint_check() -> Command {
    let mut cmd = Command::cargo_bin("endpoint-check").expect("the endpoint-check binary");
    for name in host_variables() {
        cmd.env_remove(name);
    }
    cmd.env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .timeout(Duration::from_secs(60));
    cmd
}

/// [`endpoint_check`] as a plain `std` command, for tests that must spawn it and signal it.
pub fn endpoint_check_std() -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("endpoint-check"));
    for name in host_variables() {
        cmd.env_remove(name);
    }
    cmd.env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
    cmd
}

/// The variables of this process that could change a run's results.
fn host_variables() -> Vec<String> {
    std::env::vars_os()
        .filter_map(|(name, _)| name.to_str().map(str::to_string))
        .filter(|name| {
            let upper = name.to_ascii_uppercase();
            upper.starts_with("ENDPOINT_CHECK_")
                || upper.starts_with("GITHUB_")
                || upper.starts_with("VERCEL_")
                || matches!(
                    upper.as_str(),
                    "CI" | "NO_COLOR" | "CLICOLOR_FORCE" | "CLICOLOR" | "API_TOKEN"
                )
        })
        .collect()
}

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn of(cmd: &mut Command) -> Run {
        let out = cmd.output().expect("run endpoint-check");
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Asserts the exit code, showing both streams when it differs.
    #[track_caller]
    pub fn code(&self, expected: i32) -> &Run {
        assert_eq!(
            self.code,
            Some(expected),
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts stdout holds `text`.
    #[track_caller]
    pub fn stdout_has(&self, text: &str) -> &Run {
        assert!(
            self.stdout.contains(text),
            "stdout lacks {text:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts stdout does not hold `text`.
    #[track_caller]
    pub fn stdout_lacks(&self, text: &str) -> &Run {
        assert!(
            !self.stdout.contains(text),
            "stdout holds {text:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts stderr holds `text`.
    #[track_caller]
    pub fn stderr_has(&self, text: &str) -> &Run {
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// The stdout line of check `name` (`✓ name (…)`, `✗ name (…)`...), trimmed.
    #[track_caller]
    pub fn check_line(&self, name: &str) -> String {
        let found: Vec<&str> = self
            .stdout
            .lines()
            .map(str::trim)
            .filter(|l| {
                l.len() > 2
                    && l.split_once(' ')
                        .is_some_and(|(_, rest)| rest.starts_with(&format!("{name} (")))
            })
            .collect();
        assert_eq!(
            found.len(),
            1,
            "expected one result line for check {name:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        found[0].to_string()
    }

    /// Asserts check `name` ended with `mark` (`✓`, `✗`, `-`, `!`).
    #[track_caller]
    pub fn check_mark(&self, name: &str, mark: &str) -> &Run {
        let line = self.check_line(name);
        assert!(
            line.starts_with(&format!("{mark} ")),
            "check {name:?}: expected {mark}, got {line:?}\n--- stdout\n{}",
            self.stdout
        );
        self
    }

    #[track_caller]
    pub fn passed(&self, name: &str) -> &Run {
        self.check_mark(name, "✓")
    }

    #[track_caller]
    pub fn failed(&self, name: &str) -> &Run {
        self.check_mark(name, "✗")
    }

    #[track_caller]
    pub fn warned(&self, name: &str) -> &Run {
        self.check_mark(name, "!")
    }

    /// Asserts check `name` was skipped with exactly this reason.
    #[track_caller]
    pub fn skipped(&self, name: &str, reason: &str) -> &Run {
        let line = self.check_line(name);
        assert_eq!(line, format!("- {name} (skipped: {reason})"), "\n{}", self.stdout);
        self
    }

    /// The indented lines under check `name`'s result line (its failures and details).
    #[track_caller]
    pub fn lines_under(&self, name: &str) -> Vec<String> {
        let head = self.check_line(name);
        let lines: Vec<&str> = self.stdout.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.trim() == head)
            .expect("the check's line");
        lines[at + 1..]
            .iter()
            .take_while(|l| l.starts_with("        "))
            .map(|l| l.trim().to_string())
            .collect()
    }

    /// Asserts check `name` failed (or warned) with exactly these failure lines.
    #[track_caller]
    pub fn failures(&self, name: &str, expected: &[&str]) -> &Run {
        assert_eq!(self.lines_under(name), expected, "\n{}", self.stdout);
        self
    }
}
