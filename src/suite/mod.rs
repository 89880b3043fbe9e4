//! Suite files (spec 2): the typed model, loading, and validation. Every error carries
//! `FILE:LINE:COLUMN`; no other module needs to know how positions are found.

mod convert;
pub mod positions;

use crate::assert::{JsonQuery, LatencyLimits, Matcher, StatusExpect};
use crate::error::{Error, SuiteError};
pub use positions::{Pos, Positions};
use regex::Regex;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A suite file over this size is refused before parsing (spec 2).
pub const MAX_SUITE_BYTES: u64 = 10 * 1024 * 1024;

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
    /// `variables:` as written; values may use `${VAR}` from the process environment.
    pub variables: Vec<Variable>,
    pub checks: Vec<Check>,
}

#[derive(Debug, Clone)]
pub struct Variable {
    pub name: String,
    pub template: String,
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
    pub headers: Vec<(String, Matcher)>,
    pub json: Vec<(JsonQuery, Matcher)>,
    pub body: Option<Matcher>,
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

/// A short description of a YAML value's kind, for messages.
pub fn yaml_kind(v: &serde_yaml::Value) -> &'static str {
    match v {
        serde_yaml::Value::Null => "null",
        serde_yaml::Value::Bool(_) => "a boolean",
        serde_yaml::Value::Number(_) => "a number",
        serde_yaml::Value::String(_) => "a string",
        serde_yaml::Value::Sequence(_) => "a list",
        serde_yaml::Value::Mapping(_) => "a map",
        serde_yaml::Value::Tagged(_) => "a tagged value",
    }
}

/// The closest of `options` to `word`, when one is close enough to be a likely typo.
///
/// The work is bounded whatever a suite holds (a typo is in a short word; a list of check names
/// can be long): no suggestion for a word over 64 characters or among more than 1 000 options, and
/// options whose length alone rules them out are skipped. Ties go to the first in sort order.
pub fn closest<'a>(word: &str, options: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    const MAX_WORD: usize = 64;
    const MAX_OPTIONS: usize = 1000;
    let len = word.chars().count();
    let options: Vec<&str> = options.into_iter().take(MAX_OPTIONS + 1).collect();
    if len > MAX_WORD || options.len() > MAX_OPTIONS {
        return None;
    }
    let limit = (len / 3).max(2);
    let word = word.to_ascii_lowercase();
    options
        .into_iter()
        // A char is at most 4 bytes: the byte test spares counting the chars of a huge option.
        .filter(|o| o.len() <= 4 * (len + limit) && o.chars().count().abs_diff(len) <= limit)
        .map(|o| (levenshtein(&word, &o.to_ascii_lowercase()), o))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, o)| o)
}

/// A serde_yaml error as `FILE:LINE:COLUMN: message`: the position moves to the front, and an
/// unknown field gets the closest valid one and the list of valid fields.
pub fn yaml_error(e: &serde_yaml::Error, file: &str) -> SuiteError {
    let (line, column) = e.location().map(|l| (l.line(), l.column())).unwrap_or((1, 1));
    // The position moves to the front; any other position in the text (`while parsing a
    // mapping at line 3 column 5`) is context worth keeping.
    let mut message = e.to_string();
    let here = format!(" at line {line} column {column}");
    if let Some(i) = message.find(&here) {
        message.replace_range(i..i + here.len(), "");
    }
    SuiteError::new(
        file,
        line,
        column,
        one_line(&explain_unknown_field(&in_user_terms(&message))),
    )
}

/// A suite error is one `FILE:LINE:COLUMN: message` line, but messages quote what the file says
/// (an unknown name, a bad value), which may hold a line break or another control character:
/// those are written escaped (`\n`).
pub(crate) fn one_line(message: &str) -> String {
    if !message.chars().any(char::is_control) {
        return message.to_string();
    }
    message
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// serde_yaml's words in the user's: YAML kinds instead of Rust types (`expected struct
/// RawRequest`, `expected u32`), and what a limit that was hit is about.
fn in_user_terms(message: &str) -> String {
    match message {
        "repetition limit exceeded" => {
            return "YAML aliases (`*name`) expand to too much data (repetition limit exceeded)".into();
        }
        "recursion limit exceeded" => return "YAML nested too deeply (recursion limit exceeded)".into(),
        "deserializing from YAML containing more than one document is not supported" => {
            return "a second YAML document starts here; the file must hold one".into();
        }
        _ => {}
    }
    let mut out = message
        .replace("expected u32", "expected a whole number from 0 to 4294967295")
        .replace("expected usize", "expected a whole number")
        .replace("expected f64", "expected a number");
    const STRUCT: &str = "expected struct ";
    while let Some(i) = out.find(STRUCT) {
        let name = &out[i + STRUCT.len()..];
        let end = name
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(name.len());
        out.replace_range(i..i + STRUCT.len() + end, "expected a map");
    }
    out
}

/// Rewrites serde's "unknown field `x`, expected one of `a`, `b`" to name the likely field.
fn explain_unknown_field(message: &str) -> String {
    let Some(start) = message.find("unknown field `") else {
        return message.to_string();
    };
    let rest = &message[start + "unknown field `".len()..];
    let Some(end) = rest.find('`') else {
        return message.to_string();
    };
    let field = &rest[..end];
    let expected: Vec<&str> = rest[end + 1..].split('`').skip(1).step_by(2).collect();
    let context = message[..start].trim_end_matches(": ");
    let mut out = String::new();
    if !context.is_empty() {
        out.push_str(&format!("in `{context}`: "));
    }
    out.push_str(&format!("unknown field `{field}`"));
    if let Some(best) = closest(field, expected.iter().copied()) {
        out.push_str(&format!(", did you mean `{best}`?"));
    }
    if !expected.is_empty() {
        out.push_str(&format!(" (valid fields: {})", expected.join(", ")));
    }
    out
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
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

/// Where `environments.yaml` is looked for: beside the first `--suites` path (spec 2).
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
    let text = read_yaml_file(path, &display).map_err(|e| vec![e])?;
    convert::parse_suite(&display, path, &text, known_environments)
}

/// Reads a suite or `environments.yaml`: at most 10 MiB, whatever the size on disk says (a pipe
/// or `/dev/zero` has none), and valid UTF-8, or a positioned error.
pub fn read_yaml_file(path: &Path, display: &str) -> Result<String, SuiteError> {
    use std::io::Read;
    let fail = |message: String| SuiteError::new(display, 0, 0, message);
    let meta = std::fs::metadata(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    if meta.is_dir() {
        return Err(fail("is a folder, expected a YAML file".to_string()));
    }
    if meta.len() > MAX_SUITE_BYTES {
        return Err(fail(format!(
            "file is {} bytes, over the 10 MiB limit",
            meta.len()
        )));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_SUITE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| fail(format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_SUITE_BYTES {
        return Err(fail("file is over the 10 MiB limit".to_string()));
    }
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let valid = &e.as_bytes()[..offset];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        // In characters, as every other position: the line may hold multi-byte ones before.
        let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let column = std::str::from_utf8(&valid[line_start..]).map_or(0, |s| s.chars().count()) + 1;
        SuiteError::new(display, line, column, "file is not valid UTF-8")
    })
}

/// Refuses YAML nested deeper than [`positions::MAX_DEPTH`] before serde_yaml (libyaml) spends
/// quadratic time on it.
pub fn check_nesting(text: &str, display: &str) -> Result<Positions, SuiteError> {
    let positions = Positions::index(text);
    match positions.too_deep {
        Some(pos) => Err(SuiteError::new(
            display,
            pos.line,
            pos.column,
            format!("YAML nested more than {} levels deep", positions::MAX_DEPTH),
        )),
        None => Ok(positions),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_suggests_typos_only() {
        assert_eq!(closest("pth", ["path", "url", "method"]), Some("path"));
        assert_eq!(closest("lenght", ["length", "min_length"]), Some("length"));
        assert_eq!(closest("zebra", ["path", "url"]), None);
        assert_eq!(closest("prod", ["production", "preview"]), None);
        assert_eq!(closest("stagign", ["production", "staging"]), Some("staging"));
        // Bounded: long words and long lists get no suggestion; ties are deterministic.
        assert_eq!(closest(&"a".repeat(65), ["a".repeat(65).as_str()]), None);
        let many: Vec<String> = (0..1001).map(|i| format!("c{i}")).collect();
        assert_eq!(closest("c1", many.iter().map(String::as_str)), None);
        assert_eq!(closest("c", ["b", "a"]), Some("a"));
    }
}
