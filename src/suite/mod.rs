//! Suite files (docs/suites.md): the typed model, loading, and validation. Every error carries
//! `FILE:LINE:COLUMN` (positions from [`crate::yaml`]); no other module needs to know how
//! positions are found.
//!
//! Loading reads the file with [`crate::yaml`], then converts it part by part: `loader` (the
//! suite level and the list of checks), `check` (a check's own settings), `request`, `expect`
//! with `matcher` (one assertion), `capture`, and `dependencies` (`needs`, capture use, cycles);
//! `context` holds what they share (the errors found, positions, readers for small values).

mod capture;
mod check;
mod context;
mod contract;
mod dependencies;
mod expect;
mod keys;
mod loader;
mod matcher;
mod request;

use crate::assert::{JsonQuery, LatencyLimits, Matcher, StatusExpect};
use crate::error::{Error, SuiteError};
pub use crate::yaml::Pos;
pub use keys::{JsonKey, header_name};
use regex::Regex;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Every check gets its own copy of the suite's `tags` and of `defaults` (headers and `expect`
/// maps): at most this many copies per suite (checks x inherited entries), so a file of a few
/// hundred kilobytes cannot expand into gigabytes and minutes of work, as an alias bomb would.
pub const MAX_INHERITED_COPIES: usize = 100_000;

/// One customer's suite.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The path as the user would name it (`suites/audio1tv.yaml`).
    pub file: String,
    pub customer: String,
    pub title: String,
    /// `variables:` as written; their strings may use `${VAR}` from the process environment.
    pub variables: Vec<Variable>,
    pub checks: Vec<Check>,
    /// `cookies: false`: the suite has no cookie jar (docs/behaviour.md#cookies).
    pub cookies: bool,
}

#[derive(Debug, Clone)]
pub struct Variable {
    pub name: String,
    /// The value with its YAML type, as JSON (docs/variables.md, "Suite variables"); its strings
    /// may still hold `${VAR}`.
    pub value: serde_json::Value,
    pub pos: Pos,
}

/// A string that may hold `${var}` references, and where it stands.
#[derive(Debug, Clone)]
pub struct TemplateSite {
    pub text: String,
    pub pos: Pos,
}

/// One check, with `defaults` already applied.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    /// Where the check's list item starts.
    pub pos: Pos,
    pub request: RequestTemplate,
    pub expect: Expect,
    pub captures: Vec<Capture>,
    /// `needs` as written.
    pub needs: Vec<String>,
    /// Indices (in this suite) of the checks that must pass first: `needs` and the checks whose
    /// captures this one uses.
    pub depends_on: Vec<usize>,
    /// The suite's tags and the check's own.
    pub tags: Vec<String>,
    pub environments: Option<Vec<String>>,
    pub samples: Option<u32>,
    pub concurrency: Option<usize>,
    pub retries: Option<u32>,
    pub timeout: Option<Duration>,
    pub follow_redirects: bool,
    pub poll: Option<Poll>,
    pub optional: bool,
    /// `rate:`: samples sent open-loop at this rate (docs/suites.md#rate).
    pub rate: Option<crate::rate::Rate>,
    /// `cookies: false`: this check neither sends nor keeps the suite's cookies
    /// (docs/behaviour.md#cookies).
    pub cookies: bool,
    /// Every string of the request and of `expect`, for variable checks and dependencies.
    pub templates: Vec<TemplateSite>,
}

#[derive(Debug, Clone)]
pub struct RequestTemplate {
    pub method: String,
    pub target: RequestTarget,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: BodyTemplate,
}

#[derive(Debug, Clone)]
pub enum RequestTarget {
    /// Appended to the base URL's own path.
    Path(String),
    /// Absolute.
    Url(String),
}

#[derive(Debug, Clone)]
pub enum BodyTemplate {
    None,
    Json(serde_json::Value),
    Text(String),
    Form(Vec<(String, String)>),
    /// Read at load time, sent as is (no variable expansion).
    File {
        bytes: Vec<u8>,
        content_type: &'static str,
    },
}

impl BodyTemplate {
    pub fn is_none(&self) -> bool {
        matches!(self, BodyTemplate::None)
    }
}

/// `expect`, with defaults merged in. Values may still hold `${var}`.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    pub status: StatusExpect,
    pub latency: Option<Duration>,
    pub latency_limits: LatencyLimits,
    /// Percent (0-100).
    pub availability: Option<f64>,
    /// Names lower-cased, except those holding `${var}` (lower-cased once expanded).
    pub headers: Vec<(String, Matcher)>,
    pub json: Vec<(JsonKey, Matcher)>,
    pub body: Option<Matcher>,
    /// `expect.schema`, compiled (docs/assertions.md#schema).
    pub schema: Option<crate::contract::schema::CompiledSchema>,
    /// The suite's OpenAPI document, unless the check opts out with `openapi: false`.
    pub openapi: Option<std::sync::Arc<crate::contract::openapi::OpenApi>>,
    /// `expect.certificate`: field name and assertion.
    pub certificate: Vec<(String, Matcher)>,
    /// `regression`: limits against a `--baseline` (docs/merge.md#baselines).
    pub regression: Option<crate::baseline::Regression>,
    /// `timings`: a limit per phase, judged on every sample (docs/assertions.md#timings).
    pub timings: Vec<(&'static str, Duration)>,
}

#[derive(Debug, Clone)]
pub struct Capture {
    pub name: String,
    pub source: CaptureSource,
}

#[derive(Debug, Clone)]
pub enum CaptureSource {
    Json(JsonQuery),
    Header(String),
    Regex(Regex),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Poll {
    pub every: Duration,
    pub within: Duration,
}

fn is_suite_file(path: &Path) -> bool {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    matches!(ext, "yaml" | "yml") && stem != "environments"
}

/// The suite files a `--suites` path names, in file-name order.
pub fn suite_files(path: &Path) -> Result<Vec<PathBuf>, SuiteError> {
    let display = path.display().to_string();
    let meta =
        std::fs::metadata(path).map_err(|e| SuiteError::new(&display, 0, 0, format!("cannot read: {e}")))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = std::fs::read_dir(path)
        .map_err(|e| SuiteError::new(&display, 0, 0, format!("cannot read folder: {e}")))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file() && is_suite_file(p))
        .collect();
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    if files.is_empty() {
        return Err(SuiteError::new(
            &display,
            0,
            0,
            "no suite files (*.yaml, *.yml) in this folder",
        ));
    }
    Ok(files)
}

/// Where `environments.yaml` is looked for: beside the first `--suites` path (docs/suites.md).
pub fn environments_file(first_suites_path: &Path) -> PathBuf {
    let dir = if first_suites_path.is_dir() {
        first_suites_path.to_path_buf()
    } else {
        first_suites_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    };
    let yml = dir.join("environments.yml");
    if !dir.join("environments.yaml").exists() && yml.exists() {
        yml
    } else {
        dir.join("environments.yaml")
    }
}

/// Loads every suite the paths name. All errors are collected, in file order.
/// `known_environments` are the names an `environments:` entry may use.
pub fn load_all(paths: &[PathBuf], known_environments: &[String]) -> Result<Vec<Suite>, Error> {
    let mut errors = Vec::new();
    let mut suites = Vec::new();
    let mut seen = Vec::new();
    for path in paths {
        match suite_files(path) {
            Ok(files) => {
                for file in files {
                    let canonical = file.canonicalize().unwrap_or_else(|_| file.clone());
                    if seen.contains(&canonical) {
                        continue;
                    }
                    seen.push(canonical);
                    match load_file(&file, known_environments) {
                        Ok(suite) => suites.push(suite),
                        Err(mut e) => errors.append(&mut e),
                    }
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(suites)
    } else {
        Err(Error::Suite(errors))
    }
}

/// Loads and validates one suite file.
pub fn load_file(path: &Path, known_environments: &[String]) -> Result<Suite, Vec<SuiteError>> {
    let display = path.display().to_string();
    let text = crate::yaml::read_file(path, &display).map_err(|e| vec![e])?;
    loader::parse_suite(&display, path, &text, known_environments)
}
