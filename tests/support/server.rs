//! Loopback servers, each on `127.0.0.1:0` with a runtime and thread of its own (so the binary
//! or client under test never shares a thread with them), stopped when dropped:
//!
//! - [`TestServer`]: an axum app that records every request ([`Recorded`]), with programmable
//!   routes ([`Reply`]) over the built-in ones below;
//! - [`RefusingPort`]: a port bound but never listening, so every connection is refused;
//! - [`SilentServer`]: accepts, reads, never answers; [`IdlePort`]: listens, never accepts;
//! - hostile raw servers ([`dripping`], [`resetting`], [`huge`], [`gzip_server`], [`failing`],
//!   [`garbage`]) and a TLS server with a self-signed certificate ([`self_signed_tls`]).
//!
//! Built-in routes of [`TestServer`] (a programmable route with the same path wins, and a
//! fallback set with [`ServerBuilder::fallback_fn`] replaces them all):
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
//! | `/hold/{name}` | held until [`TestServer::release_holds`] (30 s at most), then 200 `held`; see [`TestServer::hold_arrivals`] |
//! | `/redirect?to=URL&status=302` | that redirect status with `location: URL` |
//! | `/loop` | 302 to itself |
//! | `/record/…` | 200 `recorded` |
//! | anything else | 404 `{"error": "not found"}` |

use super::tls::pem;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

// ---------------------------------------------------------------------------------------------
// A server thread

/// A server's thread and runtime; dropping it stops the server (its tasks and connections go
/// with the runtime) and waits for the thread.
struct Background {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Binds `127.0.0.1:0` at once (the port is ours from here on; until it listens, connections are
/// refused), listens after `listen_after`, then runs `serve` on a runtime with `workers` threads
/// (0: the thread's own) until dropped.
fn background<F, Fut>(workers: usize, listen_after: Duration, serve: F) -> (SocketAddr, Background)
where
    F: FnOnce(TcpListener) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let (addr_tx, addr_rx) = mpsc::channel();
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = match workers {
            0 => tokio::runtime::Builder::new_current_thread().enable_all().build(),
            n => tokio::runtime::Builder::new_multi_thread()
                .worker_threads(n)
                .enable_all()
                .build(),
        }
        .expect("server runtime");
        runtime.block_on(async move {
            let socket = tokio::net::TcpSocket::new_v4().expect("socket");
            socket
                .bind("127.0.0.1:0".parse().unwrap())
                .expect("bind 127.0.0.1:0");
            addr_tx
                .send(socket.local_addr().expect("local address"))
                .expect("send the address");
            if !listen_after.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep(listen_after) => {}
                    _ = &mut stop_rx => return,
                }
            }
            let listener = socket.listen(1024).expect("listen");
            tokio::select! {
                _ = serve(listener) => {}
                _ = stop_rx => {}
            }
        });
    });
    let addr = addr_rx.recv().expect("the server did not start");
    (
        addr,
        Background {
            stop: Some(stop_tx),
            thread: Some(thread),
        },
    )
}

// ---------------------------------------------------------------------------------------------
// The recording server

/// A request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// The raw query string, without `?` (empty when none).
    pub query: String,
    /// Names lower-case; a repeated header appears once per value.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name` (case-insensitive).
    pub fn header_values(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .collect()
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
    /// That status, no body.
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
        Reply::json_text(value.to_string())
    }

    /// 200 with this text as a JSON body.
    pub fn json_text(body: impl Into<String>) -> Reply {
        Reply::status(200)
            .header("content-type", "application/json")
            .body(body)
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

/// A programmable route: sees the request and how many requests its path has had (1 for the
/// first).
pub type Handler = Arc<dyn Fn(&Recorded, usize) -> Reply + Send + Sync>;

#[derive(Default)]
struct Barrier {
    waiting: usize,
    generation: u64,
    released: Option<watch::Sender<u64>>,
}

struct Shared {
    routes: HashMap<String, Handler>,
    fallback: Option<Handler>,
    requests: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    hits: Mutex<HashMap<String, usize>>,
    answered: Mutex<HashMap<String, usize>>,
    recorded: Mutex<Vec<Recorded>>,
    barriers: Mutex<HashMap<String, Barrier>>,
    held: Mutex<Vec<String>>,
    hold_arrivals: Mutex<Option<mpsc::Sender<String>>>,
    release: watch::Sender<bool>,
    listening: AtomicBool,
    /// Notified on every arrival and every answer, for [`TestServer::wait_until`].
    changed: (Mutex<()>, Condvar),
}

impl Shared {
    fn notify(&self) {
        let _guard = self.changed.0.lock().unwrap();
        self.changed.1.notify_all();
    }
}

/// Sets up a [`TestServer`].
#[derive(Default)]
pub struct ServerBuilder {
    routes: HashMap<String, Handler>,
    fallback: Option<Handler>,
    workers: usize,
    listen_after: Duration,
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

    /// Every path without a route answers what `f` returns (instead of the built-in routes).
    pub fn fallback_fn(
        mut self,
        f: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static,
    ) -> ServerBuilder {
        self.fallback = Some(Arc::new(f));
        self
    }

    /// Every path answers `status`, as [`TestServer::answering`] does.
    pub fn answering(self, status: u16) -> ServerBuilder {
        self.fallback_fn(move |r, _| echo_headers(status, r))
    }

    /// Serves on a runtime of `n` worker threads (default: one thread).
    pub fn workers(mut self, n: usize) -> ServerBuilder {
        self.workers = n;
        self
    }

    /// The port is ours at once (connections are refused) but only listens after `delay`.
    pub fn listening_after(mut self, delay: Duration) -> ServerBuilder {
        self.listen_after = delay;
        self
    }

    pub fn start(self) -> TestServer {
        let shared = Arc::new(Shared {
            routes: self.routes,
            fallback: self.fallback,
            requests: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            hits: Mutex::default(),
            answered: Mutex::default(),
            recorded: Mutex::default(),
            barriers: Mutex::default(),
            held: Mutex::default(),
            hold_arrivals: Mutex::default(),
            release: watch::channel(false).0,
            listening: AtomicBool::new(false),
            changed: (Mutex::new(()), Condvar::new()),
        });
        let state = shared.clone();
        let (addr, background) = background(self.workers, self.listen_after, move |listener| async move {
            state.listening.store(true, Ordering::SeqCst);
            let app = axum::Router::new().fallback(handle).with_state(state);
            axum::serve(listener, app).await.expect("test server");
        });
        TestServer {
            addr,
            shared,
            _background: background,
        }
    }
}

/// An HTTP server on `127.0.0.1:0` that records what it receives, stopped when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    _background: Background,
}

impl TestServer {
    /// A server with the built-in routes only.
    pub fn start() -> TestServer {
        TestServer::builder().start()
    }

    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }

    /// Answers `status` to every request, with a JSON body echoing its path and headers
    /// (`{"ok": status < 400, "path": …, "headers": {…}}`), so a header sent to the server comes
    /// back where `-vv` shows it.
    pub fn answering(status: u16) -> TestServer {
        TestServer::builder().answering(status).start()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `127.0.0.1:PORT`, as Vercel and GitHub give host names (without a scheme).
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Whether it listens yet (see [`ServerBuilder::listening_after`]).
    pub fn is_listening(&self) -> bool {
        self.shared.listening.load(Ordering::SeqCst)
    }

    /// Requests received so far, on every route.
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Requests received so far on `path` (without the query).
    pub fn hits(&self, path: &str) -> usize {
        self.shared.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    /// Requests answered so far on `path` (their delay over).
    pub fn answered(&self, path: &str) -> usize {
        self.shared
            .answered
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or(0)
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

    /// Names of the `/hold/{name}` requests received so far, in arrival order.
    pub fn held(&self) -> Vec<String> {
        self.shared.held.lock().unwrap().clone()
    }

    /// A channel that receives the name of each `/hold/{name}` request from now on.
    pub fn hold_arrivals(&self) -> mpsc::Receiver<String> {
        let (tx, rx) = mpsc::channel();
        *self.shared.hold_arrivals.lock().unwrap() = Some(tx);
        rx
    }

    /// Answers every `/hold/*` request, those held now and those to come.
    pub fn release_holds(&self) {
        self.shared.release.send_replace(true);
    }

    /// Waits (on the server's own notifications, not a clock) until `done` holds; panics
    /// naming `what` if it does not within `within`.
    #[track_caller]
    pub fn wait_until(&self, within: Duration, what: &str, done: impl Fn(&TestServer) -> bool) {
        let deadline = Instant::now() + within;
        let (lock, changed) = &self.shared.changed;
        let mut guard = lock.lock().unwrap();
        while !done(self) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "not within {within:?}: {what}");
            guard = changed.wait_timeout(guard, left).unwrap().0;
        }
    }
}

/// The body of [`TestServer::answering`].
fn echo_headers(status: u16, r: &Recorded) -> Reply {
    let headers: serde_json::Map<String, Value> = r
        .headers
        .iter()
        .map(|(n, v)| (n.clone(), Value::String(v.clone())))
        .collect();
    Reply::json(json!({ "ok": status < 400, "path": r.path, "headers": headers })).with_status(status)
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
    // Recorded before answering: once the client has its answer, the request is on the list.
    shared.recorded.lock().unwrap().push(recorded.clone());
    shared.notify();

    let reply = match (shared.routes.get(&recorded.path), &shared.fallback) {
        (Some(route), _) => route(&recorded, hit),
        (None, Some(fallback)) => fallback(&recorded, hit),
        (None, None) => built_in(&shared, &recorded, hit).await,
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    *shared
        .answered
        .lock()
        .unwrap()
        .entry(recorded.path.clone())
        .or_default() += 1;
    shared.notify();
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
        ["hold", name] => {
            hold(shared, name).await;
            Reply::text("held")
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
        ["loop"] => Reply::status(302).header("location", "/loop"),
        ["record", ..] => Reply::text("recorded"),
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

/// Reports the arrival of `/hold/{name}`, then waits for the release (30 s at most).
async fn hold(shared: &Arc<Shared>, name: &str) {
    let mut release = shared.release.subscribe();
    shared.held.lock().unwrap().push(name.to_string());
    if let Some(tx) = shared.hold_arrivals.lock().unwrap().as_ref() {
        let _ = tx.send(name.to_string());
    }
    let _ = tokio::time::timeout(Duration::from_secs(30), release.wait_for(|r| *r)).await;
}

// ---------------------------------------------------------------------------------------------
// Ports that do not answer

/// A loopback port that is bound but never listens: every connection is refused, and no other
/// process can take the port while this lives (a port bound and let go could be reused).
pub struct RefusingPort {
    pub port: u16,
    _socket: tokio::net::TcpSocket,
}

impl RefusingPort {
    pub fn new() -> RefusingPort {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind("127.0.0.1:0".parse().unwrap())
            .expect("bind 127.0.0.1:0");
        let port = socket.local_addr().unwrap().port();
        RefusingPort {
            port,
            _socket: socket,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// A loopback port that listens but never accepts: a connection made to it waits in its backlog,
/// where [`IdlePort::connected`] finds it the moment the client has connected (no accepting
/// thread to race with).
pub struct IdlePort {
    pub port: u16,
    listener: std::net::TcpListener,
}

impl IdlePort {
    pub fn new() -> IdlePort {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("non-blocking listener");
        let port = listener.local_addr().unwrap().port();
        IdlePort { port, listener }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The peer of a connection waiting in the backlog, if any.
    pub fn connected(&self) -> Option<SocketAddr> {
        match self.listener.accept() {
            Ok((_, peer)) => Some(peer),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => None,
            Err(e) => panic!("accept: {e}"),
        }
    }
}

/// A raw TCP server: `behave` gets every accepted connection, on a runtime of its own.
pub struct RawServer {
    pub addr: SocketAddr,
    _background: Background,
}

impl RawServer {
    pub fn start<F, Fut>(behave: F) -> RawServer
    where
        F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let behave = Arc::new(behave);
        let (addr, background) = background(1, Duration::ZERO, move |listener| async move {
            while let Ok((stream, _)) = listener.accept().await {
                let behave = behave.clone();
                tokio::spawn(async move { behave(stream).await });
            }
        });
        RawServer {
            addr,
            _background: background,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

/// Accepts connections, reads what comes, never answers (a hung upstream); holds each
/// connection until the client leaves.
pub struct SilentServer {
    server: RawServer,
    connections: Arc<AtomicUsize>,
    connected: Mutex<mpsc::Receiver<()>>,
}

impl SilentServer {
    pub fn new() -> SilentServer {
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = connections.clone();
        let (tx, rx) = mpsc::channel();
        let tx = Arc::new(Mutex::new(tx));
        let server = RawServer::start(move |mut s| {
            counter.fetch_add(1, Ordering::SeqCst);
            let _ = tx.lock().unwrap().send(());
            async move {
                let mut buf = [0u8; 4096];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
            }
        });
        SilentServer {
            server,
            connections,
            connected: Mutex::new(rx),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Waits for a client to connect; panics if none does within `within`.
    pub fn wait_for_connection(&self, within: Duration) {
        self.connected
            .lock()
            .unwrap()
            .recv_timeout(within)
            .expect("nothing connected to the silent server");
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile servers

/// Reads a request head (up to the blank line), 64 KiB at most.
pub async fn read_head<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) -> Vec<u8> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    head
}

/// A server that answers one request per connection with nothing saying the connection ends
/// (no `Connection: close`), then closes it `after` that long, as a server whose keep-alive runs
/// out does; the counter holds the connections accepted.
pub fn closing_after(after: Duration) -> (RawServer, Arc<AtomicUsize>) {
    let connections = Arc::new(AtomicUsize::new(0));
    let accepted = connections.clone();
    let server = RawServer::start(move |mut s| {
        accepted.fetch_add(1, Ordering::SeqCst);
        async move {
            read_head(&mut s).await;
            let answer = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";
            let _ = s.write_all(answer.as_bytes()).await;
            let _ = s.flush().await;
            tokio::time::sleep(after).await;
        }
    });
    (server, connections)
}

/// Headers at once, then a 1000-byte body one byte every 100 ms.
pub fn dripping() -> RawServer {
    RawServer::start(|mut s| async move {
        read_head(&mut s).await;
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n";
        if s.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        for _ in 0..1000 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if s.write_all(b"x").await.is_err() || s.flush().await.is_err() {
                return;
            }
        }
    })
}

/// Headers announcing 100 000 bytes, 1000 of them, then a TCP reset (SO_LINGER 0).
pub fn resetting() -> RawServer {
    RawServer::start(|mut s| async move {
        read_head(&mut s).await;
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n";
        let _ = s.write_all(head.as_bytes()).await;
        let _ = s.write_all(&[b'x'; 1000]).await;
        let _ = s.flush().await;
        let _ = s.set_zero_linger();
        drop(s);
    })
}

/// 1 GiB announced and streamed, until the client goes away; the counter holds the bytes of
/// body written so far.
pub fn huge() -> (RawServer, Arc<AtomicUsize>) {
    let written = Arc::new(AtomicUsize::new(0));
    let counter = written.clone();
    let server = RawServer::start(move |mut s| {
        let counter = counter.clone();
        async move {
            read_head(&mut s).await;
            let total: usize = 1 << 30;
            let head =
                format!("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {total}\r\n\r\n");
            if s.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = vec![b'a'; 64 * 1024];
            let mut sent = 0;
            while sent < total {
                if s.write_all(&chunk).await.is_err() {
                    return;
                }
                sent += chunk.len();
                counter.store(sent, Ordering::SeqCst);
            }
        }
    });
    (server, written)
}

/// `decoded` zero bytes compressed with `encoding` (`gzip`, `br` or `zstd`), fed a MiB at a
/// time: a bomb small on the wire, huge once decoded.
pub fn zeros_encoded(encoding: &str, decoded: usize) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::new();
    let block = vec![0u8; 1 << 20];
    let mut writer: Box<dyn Write + '_> = match encoding {
        "gzip" => Box::new(flate2::write::GzEncoder::new(
            &mut out,
            flate2::Compression::best(),
        )),
        "br" => Box::new(brotli::CompressorWriter::new(&mut out, 1 << 16, 5, 22)),
        "zstd" => Box::new(
            zstd::stream::write::Encoder::new(&mut out, 3)
                .unwrap()
                .auto_finish(),
        ),
        other => panic!("no encoder for {other}"),
    };
    let mut left = decoded;
    while left > 0 {
        let n = left.min(block.len());
        writer.write_all(&block[..n]).unwrap();
        left -= n;
    }
    drop(writer);
    out
}

/// `decoded` zero bytes, gzip-compressed.
pub fn gzip_zeros(decoded: usize) -> Vec<u8> {
    zeros_encoded("gzip", decoded)
}

/// `text` compressed with `encoding` (`gzip`, `br` or `zstd`).
pub fn encoded(encoding: &str, text: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::new();
    match encoding {
        "gzip" => {
            let mut e = flate2::write::GzEncoder::new(&mut out, flate2::Compression::fast());
            e.write_all(text).unwrap();
            e.finish().unwrap();
        }
        "br" => {
            let mut e = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
            e.write_all(text).unwrap();
        }
        "zstd" => out = zstd::encode_all(text, 3).unwrap(),
        other => panic!("no encoder for {other}"),
    }
    out
}

/// Serves `body` with `Content-Encoding: gzip`.
pub fn gzip_server(body: Vec<u8>) -> RawServer {
    encoded_server("gzip", body)
}

/// Serves `body` with `Content-Encoding: ENCODING`, as JSON.
pub fn encoded_server(encoding: &'static str, body: Vec<u8>) -> RawServer {
    let body = Arc::new(body);
    RawServer::start(move |mut s| {
        let body = body.clone();
        async move {
            read_head(&mut s).await;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: {encoding}\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes()).await;
            let _ = s.write_all(&body).await;
            let _ = s.flush().await;
            // Let the client read, then close.
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
        }
    })
}

/// Answers every request with a 500 (keeping the connection), and reports it `after` that: the
/// client has had its answer for that long by the time the test hears of it. The counter holds
/// the answers sent.
pub fn failing(after: Duration) -> (RawServer, mpsc::Receiver<()>, Arc<AtomicUsize>) {
    let (tx, rx) = mpsc::channel();
    let tx = Arc::new(Mutex::new(tx));
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    let server = RawServer::start(move |mut s| {
        let (tx, counter) = (tx.clone(), counter.clone());
        async move {
            while !read_head(&mut s).await.is_empty() {
                let answer = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nfail";
                if s.write_all(answer.as_bytes()).await.is_err() || s.flush().await.is_err() {
                    return;
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let tx = tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(after).await;
                    let _ = tx.lock().unwrap().send(());
                });
            }
        }
    });
    (server, rx, count)
}

/// Answers every request with bytes that are not HTTP.
pub fn garbage() -> RawServer {
    RawServer::start(|mut s| async move {
        read_head(&mut s).await;
        let _ = s
            .write_all(b"\x00\x17\xffSSH-2.0-not-http garbage \x01\x02\r\n\r\n")
            .await;
        let _ = s.flush().await;
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf).await;
    })
}

/// HTTPS with a self-signed certificate for `127.0.0.1` and `localhost`, answering 200 `secure`.
pub fn self_signed_tls() -> RawServer {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .expect("self-signed certificate");
    tls_serving(
        certified.cert.der().to_vec(),
        certified.signing_key.serialize_der(),
    )
}

/// A certificate for `localhost` and `127.0.0.1` (subject `CN=localhost,O=endpoint-check tests`),
/// issued by a test CA (`CN=Loopback Test CA,O=endpoint-check tests`), valid until `days` days
/// and one hour from now.
pub struct ExpiringCertificate {
    pub server: RawServer,
    /// The CA's certificate, PEM: `--cacert` trusts it.
    pub ca_pem: String,
    /// `not_after`, Unix seconds.
    pub not_after: u64,
}

/// HTTPS answering 200 `secure` with an [`ExpiringCertificate`].
pub fn expiring_tls(days: u64) -> ExpiringCertificate {
    use rcgen::{BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair};
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    let not_after = now + days * 86_400 + 3_600;
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // Most general first, as CAs write them: RFC 4514 prints them the other way round.
    ca.distinguished_name = DistinguishedName::new();
    ca.distinguished_name
        .push(DnType::OrganizationName, "endpoint-check tests");
    ca.distinguished_name.push(DnType::CommonName, "Loopback Test CA");
    let ca_key = KeyPair::generate().expect("CA key");
    let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca, ca_key);
    let mut leaf =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).expect("leaf params");
    leaf.distinguished_name = DistinguishedName::new();
    leaf.distinguished_name
        .push(DnType::OrganizationName, "endpoint-check tests");
    leaf.distinguished_name.push(DnType::CommonName, "localhost");
    leaf.not_before = epoch + Duration::from_secs(now - 86_400);
    leaf.not_after = epoch + Duration::from_secs(not_after);
    let leaf_key = KeyPair::generate().expect("leaf key");
    let cert = leaf.signed_by(&leaf_key, &issuer).expect("leaf certificate");
    ExpiringCertificate {
        server: tls_serving(cert.der().to_vec(), leaf_key.serialize_der()),
        ca_pem: pem("CERTIFICATE", ca_cert.der()),
        not_after,
    }
}

/// HTTPS on 127.0.0.1 with this certificate and PKCS#8 key (DER), answering 200 `secure`.
fn tls_serving(cert_der: Vec<u8>, key_der: Vec<u8>) -> RawServer {
    use tokio_rustls::rustls::{self, pki_types::PrivateKeyDer};
    let key = PrivateKeyDer::Pkcs8(key_der.into());
    let config =
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![cert_der.into()], key)
            .expect("TLS server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    RawServer::start(move |s| {
        let acceptor = acceptor.clone();
        async move {
            let Ok(mut tls) = acceptor.accept(s).await else {
                return;
            };
            read_head(&mut tls).await;
            let _ = tls
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: close\r\n\r\nsecure")
                .await;
            let _ = tls.shutdown().await;
        }
    })
}
