//! Running the binary: to the end ([`Run::of`], [`run`]), or spawned ([`Running`]) to read its
//! stderr as it comes, signal it, and reap it under a deadline with its peak memory.
//!
//! Peak memory is the `VmHWM` (high-water mark of the resident set) of the binary's
//! `/proc/<pid>/status`, read every few milliseconds while it runs. A high-water mark only grows,
//! so a peak between two reads is seen at the next one; only what the process takes in its last
//! few milliseconds could escape. `wait4`'s `ru_maxrss` is no substitute: Linux folds the
//! memory of the process that spawned the child (this multi-threaded test binary) into it.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long one run of the binary may take before the test gives up (and kills it).
pub const RUN_LIMIT: Duration = Duration::from_secs(60);

/// What a run printed and how it ended.
#[derive(Debug, Default)]
pub struct Run {
    /// The exit code, or `None` when a signal ended the process.
    pub code: Option<i32>,
    /// The signal that ended the process (spawned runs only).
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// From spawn to reaping.
    pub elapsed: Duration,
    /// The highest `VmHWM` seen while it ran, in KiB (spawned runs only; see the module doc).
    pub max_rss_kib: u64,
}

impl Run {
    /// Runs `cmd` to the end.
    pub fn of(cmd: &mut assert_cmd::Command) -> Run {
        let started = Instant::now();
        let out = cmd.output().expect("run endpoint-check");
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed: started.elapsed(),
            ..Run::default()
        }
    }

    /// The exit, stdout and stderr, for failure messages and "appears nowhere" checks.
    pub fn all(&self) -> String {
        format!(
            "exit {:?} after {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.elapsed, self.stdout, self.stderr
        )
    }

    /// stdout and stderr together.
    pub fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
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

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "code {:?}, signal {:?}, {:?}, peak RSS {} KiB\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.signal, self.elapsed, self.max_rss_kib, self.stdout, self.stderr
        )
    }
}

/// Runs `cmd` to the end (within [`RUN_LIMIT`]).
pub fn run(cmd: Command) -> Run {
    Running::spawn(cmd).wait(RUN_LIMIT)
}

/// A spawned binary, its stdout collected, its stderr read line by line as it comes; reaped
/// with `waitpid`, and killed if dropped before that (a failing test leaves nothing running).
pub struct Running {
    pid: libc::pid_t,
    started: Instant,
    reaped: bool,
    stdout: Option<JoinHandle<String>>,
    stderr_text: Arc<Mutex<String>>,
    stderr_lines: mpsc::Receiver<String>,
    stderr: Option<JoinHandle<()>>,
    /// Kept so the pipes stay owned until we are done; never `wait`ed through std.
    _child: Child,
}

impl Running {
    /// Spawns `cmd` with stdout and stderr piped.
    pub fn spawn(mut cmd: Command) -> Running {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn endpoint-check");
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
            reaped: false,
            stdout: Some(stdout),
            stderr_text,
            stderr_lines,
            stderr: Some(stderr),
            _child: child,
        }
    }

    pub fn pid(&self) -> u32 {
        self.pid as u32
    }

    /// Sends `sig` (`libc::SIGINT`, `libc::SIGTERM`…) to the process.
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

    /// Waits for a stderr line containing `needle` and returns it (without its line break);
    /// panics, showing stderr so far, if none comes within `within`.
    #[track_caller]
    pub fn wait_for_stderr(&self, needle: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr_lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line.trim_end_matches(['\r', '\n']).to_string(),
                Ok(_) => {}
                Err(_) => panic!(
                    "no stderr line containing {needle:?} within {within:?}; stderr so far:\n{}",
                    self.stderr_text.lock().unwrap()
                ),
            }
        }
    }

    /// Reaps the process; kills it (and fails the test) if it is still running `limit` after
    /// it was spawned.
    #[track_caller]
    pub fn wait(mut self, limit: Duration) -> Run {
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
        self.reaped = true;
        let elapsed = self.started.elapsed();
        let stdout = self.stdout.take().unwrap().join().unwrap_or_default();
        let _ = self.stderr.take().unwrap().join();
        let stderr = self.stderr_text.lock().unwrap().clone();
        let finished = Run {
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

impl Drop for Running {
    fn drop(&mut self) {
        if !self.reaped {
            // SAFETY: our own child, not reaped yet: kill it and reap it.
            unsafe {
                libc::kill(self.pid, libc::SIGKILL);
                libc::waitpid(self.pid, std::ptr::null_mut(), 0);
            }
        }
    }
}

/// `VmHWM` of a running process, in KiB.
fn vm_hwm_kib(pid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
