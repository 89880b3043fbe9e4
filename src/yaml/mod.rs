//! YAML files as this tool reads them: a size cap and a UTF-8 check before parsing, a nesting
//! guard before serde_yaml, node positions for errors found after it, and serde_yaml's errors
//! reworded into one positioned line. It knows nothing of what the files mean.

pub mod lenient;
pub mod positions;

use crate::error::SuiteError;
pub use positions::{MAX_DEPTH, Pos, Positions, Seg};
use std::path::Path;

/// A file over this size is refused before parsing.
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// Reads a YAML file: at most 10 MiB, whatever the size on disk says (a pipe or `/dev/zero` has
/// none), and valid UTF-8, or a positioned error naming the file as `display`.
pub fn read_file(path: &Path, display: &str) -> Result<String, SuiteError> {
    use std::io::Read;
    let fail = |message: String| SuiteError::new(display, 0, 0, message);
    let meta = std::fs::metadata(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    if meta.is_dir() {
        return Err(fail("is a folder, expected a YAML file".to_string()));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(fail(format!(
            "file is {} bytes, over the 10 MiB limit",
            meta.len()
        )));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| fail(format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
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

/// Refuses YAML nested deeper than [`MAX_DEPTH`] before serde_yaml (libyaml) spends quadratic
/// time on it; otherwise the positions of every node.
pub fn check_nesting(text: &str, display: &str) -> Result<Positions, SuiteError> {
    let positions = Positions::index(text);
    match positions.too_deep {
        Some(pos) => Err(SuiteError::new(
            display,
            pos.line,
            pos.column,
            format!("YAML nested more than {MAX_DEPTH} levels deep"),
        )),
        None => Ok(positions),
    }
}

/// A short description of a YAML value's kind, for messages.
pub fn kind(v: &serde_yaml::Value) -> &'static str {
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

/// A serde_yaml error as `FILE:LINE:COLUMN: message`: the position moves to the front, and an
/// unknown field gets the closest valid one and the list of valid fields.
pub fn error(e: &serde_yaml::Error, file: &str) -> SuiteError {
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

/// A positioned error is one `FILE:LINE:COLUMN: message` line, but messages quote what the file
/// says (an unknown name, a bad value), which may hold a line break or another control character:
/// those are written escaped (`\n`).
pub fn one_line(message: &str) -> String {
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
    if let Some(best) = crate::suggest::closest(field, expected.iter().copied()) {
        out.push_str(&format!(", {}", crate::suggest::did_you_mean(best)));
    }
    if !expected.is_empty() {
        out.push_str(&format!(" (valid fields: {})", expected.join(", ")));
    }
    out
}
