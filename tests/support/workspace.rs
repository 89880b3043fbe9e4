//! A temporary folder holding `suites/`, where the binary runs: paths in its messages then read
//! `suites/NAME`, and report files land beside the suites.

use super::bin;
use super::process::Run;
use super::server::TestServer;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// One check, `GET /ping`, expecting 200.
pub const PING_SUITE: &str = "\
customer: acme
title: Acme Checks
checks:
  - name: GET /ping
    request: { path: /ping }
    expect: { status: 200 }
";

/// `DIR/suites/NAME` for each suite file, removed when dropped.
pub struct Workspace {
    pub dir: TempDir,
}

impl Workspace {
    /// `suites/NAME` for each `(NAME, TEXT)`.
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

    /// [`PING_SUITE`] as `suites/ping.yaml`.
    pub fn ping() -> Workspace {
        Workspace::new(&[("ping.yaml", PING_SUITE)])
    }

    /// [`PING_SUITE`] and this `suites/environments.yaml`.
    pub fn with_environments(yaml: &str) -> Workspace {
        Workspace::new(&[("ping.yaml", PING_SUITE), ("environments.yaml", yaml)])
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

    /// Writes `NAME` at the top of the folder, beside `suites/`; returns its path.
    pub fn write_file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write a file");
        path
    }

    /// Where [`Workspace::report_args`] puts the JSON report.
    pub fn json_path(&self) -> PathBuf {
        self.dir.path().join("report.json")
    }

    pub fn junit_path(&self) -> PathBuf {
        self.dir.path().join("report.xml")
    }

    /// The JSON report the run wrote at [`Workspace::json_path`].
    pub fn report(&self) -> Value {
        let text = std::fs::read_to_string(self.json_path()).expect("the JSON report was written");
        serde_json::from_str(&text).expect("the JSON report parses")
    }

    /// The binary (`assert_cmd`), run from this folder, scrubbed (see [`bin::endpoint_check`]).
    pub fn cmd(&self) -> assert_cmd::Command {
        let mut cmd = bin::endpoint_check();
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

    /// The binary (`std`, to spawn) run from this folder, scrubbed, with no colors and git not
    /// looking above this folder.
    pub fn std_cmd(&self) -> std::process::Command {
        let mut cmd = bin::endpoint_check_std();
        let cwd = self.path();
        cmd.env("NO_COLOR", "1")
            .env("GIT_CEILING_DIRECTORIES", cwd.parent().unwrap_or(cwd))
            .current_dir(cwd);
        cmd
    }

    /// [`Workspace::std_cmd`] with `ARGS… --suites <this suites folder> --color never`.
    pub fn command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = self.std_cmd();
        cmd.args(args)
            .arg("--suites")
            .arg(self.suites())
            .args(["--color", "never"]);
        cmd
    }

    /// `localhost --suites <suites> --base-url BASE --yes --color never --json <report>`: these
    /// suites against `base`, no countdown, a JSON report at [`Workspace::json_path`].
    pub fn report_args(&self, base: &str) -> Vec<String> {
        vec![
            "localhost".into(),
            "--suites".into(),
            self.suites().display().to_string(),
            "--base-url".into(),
            base.into(),
            "--yes".into(),
            "--color".into(),
            "never".into(),
            "--json".into(),
            self.json_path().display().to_string(),
        ]
    }
}
