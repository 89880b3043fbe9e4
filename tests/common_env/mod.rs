//! Helpers for the binary-level environment tests (`tests/cli_env.rs`): a recording HTTP server
//! on 127.0.0.1 in its own runtime thread, a port that never listens, a temporary suites folder,
//! and the binary spawned with a clean environment, its output read as it comes.

#![allow(dead_code)]

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_endpoint-check");

/// How long any one run of the binary may take before the test gives up (and kills it).
pub const RUN_LIMIT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// The recording server

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: String,
    /// Lower-case names, in arrival order; a repeated header appears once per value.
    pub headers: Vec<(String, String)>,
}

impl Seen {
    /// Every value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// What the server answers to a request: status and JSON body.
pub type Reply = Arc<dyn Fn(&Seen) -> (u16, String) + Send + Sync>;

#[derive(Clone)]
struct Shared {
    seen: Arc<Mutex<Vec<Seen>>>,
    reply: Reply,
}

/// An HTTP server on 127.0.0.1 in its own thread and runtime, recording every request.
pub struct TestServer {
    pub port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// Answers `status` with a JSON body echoing the request's path and headers (so a secret header
/// sent to the server comes back in the body, where `-vv` shows it).
pub fn echo(status: u16) -> Reply {
    Arc::new(move |seen: &Seen| {
        let headers: serde_json::Map<String, serde_json::Value> = seen
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let body = serde_json::json!({ "ok": status < 400, "path": seen.path, "headers": headers });
        (status, body.to_string())
    })
}

impl TestServer {
    /// Answers 200 to everything.
    pub fn ok() -> TestServer {
        TestServer::start(Duration::ZERO, echo(200))
    }

    /// Answers `status` to everything.
    pub fn with_status(status: u16) -> TestServer {
        TestServer::start(Duration::ZERO, echo(status))
    }

    /// Answers with `reply`.
    pub fn replying(reply: Reply) -> TestServer {
        TestServer::start(Duration::ZERO, reply)
    }

    /// The port is reserved at once (bound, so connections are refused) but only starts
    /// listening after `delay`.
    pub fn listening_after(delay: Duration) -> TestServer {
        TestServer::start(delay, echo(200))
    }

    fn start(delay: Duration, reply: Reply) -> TestServer {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared {
            seen: seen.clone(),
            reply,
        };
        let (port_tx, port_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("test server runtime");
            runtime.block_on(async move {
                let socket = tokio::net::TcpSocket::new_v4().expect("socket");
                socket
                    .bind("127.0.0.1:0".parse().unwrap())
                    .expect("bind 127.0.0.1:0");
                port_tx.send(socket.local_addr().unwrap().port()).unwrap();
                let mut stop_rx = stop_rx;
                if !delay.is_zero() {
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = &mut stop_rx => return,
                    }
                }
                let listener = socket.listen(128).expect("listen");
                let app = Router::new().fallback(handle).with_state(shared);
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stop_rx.await;
                    })
                    .await
                    .expect("test server");
            });
        });
        let port = port_rx.recv().expect("the test server did not start");
        TestServer {
            port,
            seen,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `127.0.0.1:PORT`, as Vercel and GitHub give host names (without a scheme).
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The requests of the test suite's check (`GET /ping`), leaving out `--wait` probes.
    pub fn check_requests(&self) -> Vec<Seen> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == "/ping")
            .collect()
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

async fn handle(State(shared): State<Shared>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let seen = Seen {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().unwrap_or_default().to_string(),
        headers: headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
    };
    let (status, body) = (shared.reply)(&seen);
    // Recorded before answering: once the client has its answer, the request is on the list.
    shared.seen.lock().unwrap().push(seen);
    (
        StatusCode::from_u16(status).unwrap(),
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// A loopback port that is bound but never listens: every connection is refused, and no other
/// process can take the port while this lives.
pub struct ClosedPort {
    pub port: u16,
    _socket: tokio::net::TcpSocket,
}

impl ClosedPort {
    pub fn new() -> ClosedPort {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind("127.0.0.1:0".parse().unwrap())
            .expect("bind 127.0.0.1:0");
        let port = socket.local_addr().unwrap().port();
        ClosedPort {
            port,
            _socket: socket,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// A loopback port that accepts connections and never answers (a hung upstream). The accepting
/// thread lives until the test process ends.
pub struct SilentServer {
    pub port: u16,
    connections: mpsc::Receiver<()>,
}

impl SilentServer {
    pub fn new() -> SilentServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().unwrap().port();
        let (tx, connections) = mpsc::channel();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming().flatten() {
                held.push(stream);
                if tx.send(()).is_err() {
                    break;
                }
            }
        });
        SilentServer { port, connections }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Waits for a client to connect; panics if none does within `within`.
    pub fn wait_for_connection(&self, within: Duration) {
        self.connections
            .recv_timeout(within)
            .expect("nothing connected to the silent server");
    }
}

// ---------------------------------------------------------------------------------------------
// The suites folder

/// One check, `GET /ping`, expecting 200.
pub const PING_SUITE: &str = "\
customer: acme
title: Acme Checks
checks:
  - name: GET /ping
    request: { path: /ping }
    expect: { status: 200 }
";

/// A temporary folder holding `suites/` (the ping suite and, optionally, `environments.yaml`);
/// the binary runs with it as its current folder.
pub struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    /// No `environments.yaml`.
    pub fn new() -> Workspace {
        let dir = tempfile::tempdir().expect("temporary folder");
        std::fs::create_dir(dir.path().join("suites")).unwrap();
        std::fs::write(dir.path().join("suites").join("ping.yaml"), PING_SUITE).unwrap();
        Workspace { dir }
    }

    /// With this `environments.yaml`.
    pub fn with_environments(yaml: &str) -> Workspace {
        let ws = Workspace::new();
        std::fs::write(ws.suites().join("environments.yaml"), yaml).unwrap();
        ws
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn suites(&self) -> PathBuf {
        self.dir.path().join("suites")
    }

    /// Writes `name` in the workspace; returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The binary with `args`, then `--suites <this suites folder> --color never`, in this folder,
    /// with a clean environment (see [`clean_command`]).
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = clean_command(self.path());
        cmd.args(args)
            .arg("--suites")
            .arg(self.suites())
            .args(["--color", "never"]);
        cmd
    }
}

/// The binary with none of the variables a CI runner or the developer's shell may set that the
/// tool reads (`ENDPOINT_CHECK_*`, `CI`, `GITHUB_*`, `VERCEL_*`), loopback never proxied, no
/// colors, and git not looking above `cwd`'s parent.
pub fn clean_command(cwd: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars_os() {
        let name = key.to_string_lossy();
        if name.starts_with("ENDPOINT_CHECK_")
            || name.starts_with("GITHUB_")
            || name.starts_with("VERCEL_")
            || name == "CI"
            || name == "CLICOLOR_FORCE"
        {
            cmd.env_remove(&key);
        }
    }
    cmd.env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .env("NO_COLOR", "1")
        .env("GIT_CEILING_DIRECTORIES", cwd.parent().unwrap_or(cwd))
        .current_dir(cwd)
        .stdin(Stdio::null());
    cmd
}

// ---------------------------------------------------------------------------------------------
// Running the binary

/// A finished run.
#[derive(Debug)]
pub struct Outcome {
    /// `None` when killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Outcome {
    /// stdout and stderr, for failure messages and "appears nowhere" checks.
    pub fn all(&self) -> String {
        format!(
            "exit {:?} after {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.elapsed, self.stdout, self.stderr
        )
    }

    /// Asserts the exit code, showing the whole output when it differs.
    pub fn expect_code(&self, code: i32) -> &Outcome {
        assert_eq!(self.code, Some(code), "unexpected exit code\n{}", self.all());
        self
    }
}

/// A running binary whose stderr is read line by line as it comes.
pub struct Running {
    child: Child,
    started: Instant,
    lines: mpsc::Receiver<String>,
    stderr: Arc<Mutex<String>>,
    stderr_thread: Option<JoinHandle<()>>,
    stdout_thread: Option<JoinHandle<String>>,
}

impl Running {
    pub fn spawn(mut cmd: Command) -> Running {
        let started = Instant::now();
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start endpoint-check");
        let mut stdout = child.stdout.take().unwrap();
        let stdout_thread = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text);
            text
        });
        let stderr_pipe = child.stderr.take().unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, lines) = mpsc::channel();
        let collected = stderr.clone();
        let stderr_thread = std::thread::spawn(move || {
            for line in BufReader::new(stderr_pipe).lines() {
                let Ok(line) = line else { break };
                {
                    let mut all = collected.lock().unwrap();
                    all.push_str(&line);
                    all.push('\n');
                }
                let _ = tx.send(line);
            }
        });
        Running {
            child,
            started,
            lines,
            stderr,
            stderr_thread: Some(stderr_thread),
            stdout_thread: Some(stdout_thread),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for a stderr line containing `needle`; returns it. Panics (after killing the
    /// process) if none comes within `within`.
    pub fn wait_for_stderr(&mut self, needle: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    panic!(
                        "no stderr line containing {needle:?} within {within:?}; stderr so far:\n{}",
                        self.stderr.lock().unwrap()
                    );
                }
            }
        }
    }

    /// Sends `signal` (`INT`, `TERM`) with kill(1).
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("cannot run kill");
        assert!(status.success(), "kill -{signal} {} failed", self.pid());
    }

    /// Waits for the exit (killing the process and panicking after `within`).
    pub fn finish(mut self, within: Duration) -> Outcome {
        let deadline = self.started + within;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "endpoint-check did not exit within {within:?}; stderr so far:\n{}",
                    self.stderr.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let elapsed = self.started.elapsed();
        let stdout = self.stdout_thread.take().unwrap().join().unwrap_or_default();
        let _ = self.stderr_thread.take().unwrap().join();
        let stderr = self.stderr.lock().unwrap().clone();
        Outcome {
            code: status.code(),
            stdout,
            stderr,
            elapsed,
        }
    }
}

/// Runs `cmd` to the end (within [`RUN_LIMIT`]).
pub fn run(cmd: Command) -> Outcome {
    Running::spawn(cmd).finish(RUN_LIMIT)
}
