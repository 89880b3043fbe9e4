//! Helpers for `tests/hardening.rs`: running the built binary under a deadline (with its exit
//! status, its stderr line by line and its peak memory), suite folders, and loopback servers
//! made to misbehave.
//!
//! Peak memory is the `VmHWM` (high-water mark of the resident set) of the binary's
//! `/proc/<pid>/status`, read every few milliseconds while it runs. A high-water mark only grows,
//! so a peak between two reads is seen at the next one; only what the process takes in its last
//! few milliseconds could escape. `wait4`'s `ru_maxrss` is no substitute: Linux folds the
//! memory of the process that spawned the child (this multi-threaded test binary) into it.
//!
//! Every server listens on 127.0.0.1 only, and every spawned command gets a clean environment:
//! no `ENDPOINT_CHECK_*`, `CI`, `GITHUB_*`, `VERCEL_*` or proxy variables, `NO_PROXY` set to
//! the loopback names, so no test can send a packet off the machine.

pub mod servers;

use serde_json::Value;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Removes what the surrounding CI or shell could leak into a spawned command (`ENDPOINT_CHECK_*`,
/// `CI`, `GITHUB_*`, `VERCEL_*`, proxies) and keeps loopback traffic away from any proxy.
pub fn scrub(cmd: &mut Command) -> &mut Command {
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        let lower = name.to_ascii_lowercase();
        if name.starts_with("ENDPOINT_CHECK_")
            || name == "CI"
            || name.starts_with("GITHUB_")
            || name.starts_with("VERCEL_")
            || lower.ends_with("_proxy")
        {
            cmd.env_remove(&name);
        }
    }
    cmd.env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
}

/// The binary under test, with a scrubbed environment, no colors and piped output.
pub fn endpoint_check<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_endpoint-check"));
    scrub(&mut cmd)
        .env("NO_COLOR", "1")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// A spawned binary, reaped with `waitpid`.
pub struct Running {
    pid: libc::pid_t,
    started: Instant,
    stdout: Option<std::thread::JoinHandle<String>>,
    stderr_text: Arc<Mutex<String>>,
    stderr_lines: mpsc::Receiver<String>,
    stderr: Option<std::thread::JoinHandle<()>>,
    /// Kept so the pipes stay owned until we are done; never `wait`ed through std.
    _child: Child,
}

/// How a run ended.
#[derive(Debug)]
pub struct Finished {
    /// The exit code, or `None` when a signal killed the process.
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// From spawn to reaping.
    pub elapsed: Duration,
    /// The highest `VmHWM` seen while it ran, in KiB (see the module doc).
    pub max_rss_kib: u64,
}

impl Finished {
    /// stdout and stderr together, for "appears nowhere" checks.
    pub fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl std::fmt::Display for Finished {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "code {:?}, signal {:?}, {:?}, peak RSS {} KiB\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.signal, self.elapsed, self.max_rss_kib, self.stdout, self.stderr
        )
    }
}

pub fn spawn(mut cmd: Command) -> Running {
    let mut child = cmd.spawn().expect("spawn endpoint-check");
    let started = Instant::now();
    let mut out = child.stdout.take().expect("piped stdout");
    let err = child.stderr.take().expect("piped stderr");
    let stdout = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    });
    let stderr_text = Arc::new(Mutex::new(String::new()));
    let (tx, stderr_lines) = mpsc::channel();
    let text = stderr_text.clone();
    let stderr = std::thread::spawn(move || {
        let mut reader = BufReader::new(err);
        let mut line = Vec::new();
        while reader.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
            let s = String::from_utf8_lossy(&line).into_owned();
            text.lock().unwrap().push_str(&s);
            let _ = tx.send(s);
            line.clear();
        }
    });
    Running {
        pid: child.id() as libc::pid_t,
        started,
        stdout: Some(stdout),
        stderr_text,
        stderr_lines,
        stderr: Some(stderr),
        _child: child,
    }
}

impl Running {
    /// Sends a signal to the process.
    pub fn signal(&self, sig: libc::c_int) {
        // SAFETY: plain syscall on our own child, which is not reaped before `wait`.
        let rc = unsafe { libc::kill(self.pid, sig) };
        assert_eq!(rc, 0, "kill({}, {sig})", self.pid);
    }

    /// Waits for a stderr line containing `needle`; false if none came within `limit`.
    pub fn wait_stderr(&self, needle: &str, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr_lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return true,
                Ok(_) => continue,
                Err(_) => return false,
            }
        }
    }

    /// Reaps the process; kills it (and fails the test) if it is still running after `limit`.
    pub fn wait(mut self, limit: Duration) -> Finished {
        let mut status: libc::c_int = 0;
        let mut timed_out = false;
        let mut peak = 0;
        loop {
            peak = peak.max(vm_hwm_kib(self.pid).unwrap_or(0));
            // SAFETY: waitpid on our own child's pid, with a valid out-pointer.
            let rc = unsafe { libc::waitpid(self.pid, &mut status, libc::WNOHANG) };
            if rc == self.pid {
                break;
            }
            assert!(rc >= 0, "waitpid failed: {}", std::io::Error::last_os_error());
            if self.started.elapsed() > limit && !timed_out {
                timed_out = true;
                // SAFETY: as in `signal`.
                unsafe { libc::kill(self.pid, libc::SIGKILL) };
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let elapsed = self.started.elapsed();
        let stdout = self.stdout.take().unwrap().join().unwrap_or_default();
        let _ = self.stderr.take().unwrap().join();
        let stderr = self.stderr_text.lock().unwrap().clone();
        let finished = Finished {
            code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
            signal: libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)),
            stdout,
            stderr,
            elapsed,
            max_rss_kib: peak,
        };
        assert!(
            !timed_out,
            "endpoint-check did not finish within {limit:?} and was killed:\n{finished}"
        );
        finished
    }
}

/// `VmHWM` of a running process, in KiB.
fn vm_hwm_kib(pid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A folder holding one suite file, and where the JSON report goes.
pub struct SuiteDir {
    pub dir: tempfile::TempDir,
}

impl SuiteDir {
    pub fn new(yaml: &str) -> SuiteDir {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("suite.yaml"), yaml).expect("write suite");
        SuiteDir { dir }
    }

    /// Adds another suite file.
    pub fn add(&self, name: &str, yaml: &str) {
        std::fs::write(self.dir.path().join(name), yaml).expect("write suite");
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn json_path(&self) -> PathBuf {
        self.dir.path().join("report.json")
    }

    pub fn junit_path(&self) -> PathBuf {
        self.dir.path().join("report.xml")
    }

    /// The usual arguments: this folder's suites against `base`, no countdown, a JSON report.
    pub fn args(&self, base: &str) -> Vec<String> {
        vec![
            "localhost".into(),
            "--suites".into(),
            self.path().display().to_string(),
            "--base-url".into(),
            base.into(),
            "--yes".into(),
            "--color".into(),
            "never".into(),
            "--json".into(),
            self.json_path().display().to_string(),
        ]
    }

    /// The JSON report the run wrote.
    pub fn report(&self) -> Value {
        let text = std::fs::read_to_string(self.json_path()).expect("the JSON report was written");
        serde_json::from_str(&text).expect("the JSON report parses")
    }
}

/// The check named `name` in a JSON report.
pub fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["suites"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["checks"].as_array().into_iter().flatten())
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name:?} in the report: {report:#}"))
}

/// A check's failure messages, joined.
pub fn failures(check: &Value) -> String {
    check["failures"]
        .as_array()
        .map(|f| f.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" | "))
        .unwrap_or_default()
}
