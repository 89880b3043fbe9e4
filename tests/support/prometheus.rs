//! Real Prometheus and Pushgateway (the Debian packages `prometheus` and
//! `prometheus-pushgateway`, which `scripts/test` installs) started on free loopback ports with
//! their data in a temporary folder, and stopped when dropped. A missing program fails the test
//! saying how to install it. Queries go over a plain HTTP/1.0 GET on loopback.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// How long a component may take to say it is ready.
const READY_WITHIN: Duration = Duration::from_secs(30);

/// The program at `path`, or a failure that says how to install it.
#[track_caller]
pub fn program(path: &str, package: &str) -> PathBuf {
    let p = PathBuf::from(path);
    assert!(
        p.exists(),
        "{path} is missing: install it with `apt-get install -y --no-install-recommends {package}` (scripts/test does)"
    );
    p
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().unwrap().port()
}

/// A child process killed and reaped on drop, with its data folder.
struct Daemon {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Daemon {
    fn start(mut cmd: Command, port: u16, dir: TempDir, what: &str) -> Daemon {
        let log = std::fs::File::create(dir.path().join("log.txt")).expect("a log file");
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost");
        let child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        let mut d = Daemon {
            child,
            port,
            _dir: dir,
        };
        d.wait_ready(what);
        d
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_ready(&mut self, what: &str) {
        let deadline = Instant::now() + READY_WITHIN;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = std::fs::read_to_string(self._dir.path().join("log.txt")).unwrap_or_default();
                panic!("{what} exited ({status}) before it was ready:\n{log}");
            }
            if get(self.port, "/-/ready").is_ok_and(|a| a.code == 200) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{what} was not ready within {READY_WITHIN:?}");
    }
}

/// A Pushgateway on a free loopback port, keeping nothing on disk.
pub struct Pushgateway(Daemon);

impl Pushgateway {
    pub fn start() -> Pushgateway {
        let bin = program("/usr/bin/prometheus-pushgateway", "prometheus-pushgateway");
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut cmd = Command::new(bin);
        cmd.arg(format!("--web.listen-address=127.0.0.1:{port}"));
        Pushgateway(Daemon::start(cmd, port, dir, "the Pushgateway"))
    }

    pub fn url(&self) -> String {
        self.0.url()
    }

    pub fn port(&self) -> u16 {
        self.0.port
    }

    /// What it would give a scrape, as text.
    pub fn metrics(&self) -> String {
        get(self.0.port, "/metrics").expect("scrape the Pushgateway").body
    }
}

/// Prometheus scraping `targets` every second (`honor_labels: true`), its TSDB in a temporary
/// folder.
pub struct Prometheus(Daemon);

impl Prometheus {
    pub fn start(targets: &[String]) -> Prometheus {
        let bin = program("/usr/bin/prometheus", "prometheus");
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let list: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: pushgateway\n    honor_labels: true\n    static_configs:\n      - targets: [{}]\n",
            list.join(", ")
        );
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, config).unwrap();
        let mut cmd = Command::new(bin);
        cmd.arg(format!("--config.file={}", config_path.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"));
        Prometheus(Daemon::start(cmd, port, dir, "Prometheus"))
    }

    /// The result vector of an instant query.
    pub fn query(&self, promql: &str) -> Vec<Value> {
        let path = format!("/api/v1/query?query={}", encode(promql));
        let Answer { code, body, .. } = get(self.0.port, &path).expect("query Prometheus");
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
        assert_eq!(code, 200, "{promql}: {body}");
        v["data"]["result"].as_array().cloned().unwrap_or_default()
    }

    /// Polls `promql` until `done` holds for its result, for up to `within`.
    #[track_caller]
    pub fn wait_for(&self, promql: &str, within: Duration, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + within;
        loop {
            let result = self.query(promql);
            if done(&result) {
                return result;
            }
            assert!(
                Instant::now() < deadline,
                "{promql} did not come true within {within:?}: {result:?}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

/// A sample's value as a number.
pub fn value(sample: &Value) -> f64 {
    sample["value"][1]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("a sample value")
}

/// `promtool check rules FILE`: its exit status and output.
pub fn check_rules(file: &Path) -> (bool, String) {
    let bin = program("/usr/bin/promtool", "prometheus");
    let out = Command::new(bin)
        .args(["check", "rules"])
        .arg(file)
        .output()
        .expect("run promtool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Percent-encodes a query string value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An HTTP/1.0 answer: the status, the head (status line and headers) and the body.
pub struct Answer {
    pub code: u16,
    pub head: String,
    pub body: String,
}

impl Answer {
    /// The value of header `name` (any case), when the answer has it.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// GET `path` from 127.0.0.1:`port` over HTTP/1.0, read to the end.
pub fn get(port: u16, path: &str) -> std::io::Result<Answer> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n")?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok(Answer {
        code,
        head: head.to_string(),
        body: body.to_string(),
    })
}
