//! A check's `capture`: names for values of its response (a JSONPath, a header, a regex group)
//! that later checks use as `${name}`.

use super::context::{Ctx, json_query_at, mapping_key, path, regex_error};
use super::{Capture, CaptureSource};
use crate::yaml::{Seg, kind as yaml_kind};
use regex::Regex;
use serde_yaml::{Mapping, Value};

/// `at` is the `capture` map's path in the file.
pub(super) fn convert(ctx: &mut Ctx, at: &[Seg], raw: &Mapping) -> Vec<Capture> {
    let mut captures = Vec::new();
    for (k, v) in raw {
        let Some(name) = mapping_key(ctx, at, k) else {
            continue;
        };
        let here = path(at, &[Seg::Key(name.clone())]);
        if crate::vars::parse(&format!("${{{name}}}")).is_err() {
            ctx.error(
                &here,
                format!("invalid capture name `{name}` (letters, digits, `_`, `-` and `.`)"),
            );
            continue;
        }
        if let Some(source) = source(ctx, &here, v) {
            captures.push(Capture { name, source });
        }
    }
    captures
}

fn source(ctx: &mut Ctx, here: &[Seg], v: &Value) -> Option<CaptureSource> {
    match v {
        Value::String(q) => json_query_at(ctx, here, q).map(CaptureSource::Json),
        Value::Mapping(m) if m.len() == 1 => {
            let (kind, arg) = m.iter().next().expect("one entry");
            match (kind.as_str(), arg.as_str()) {
                (Some("header"), Some(h)) => Some(CaptureSource::Header(h.to_ascii_lowercase())),
                (Some("regex"), Some(re)) => regex(ctx, here, re),
                (Some("json"), Some(q)) => json_query_at(ctx, here, q).map(CaptureSource::Json),
                (Some(other), _) => {
                    let hint = ctx.hint(other, ["header", "regex", "json"]);
                    ctx.error(
                        here,
                        format!(
                            "unknown capture source `{other}` (use a JSONPath, `header:` or `regex:`){hint}"
                        ),
                    );
                    None
                }
                _ => {
                    ctx.error(here, "a capture source takes a string");
                    None
                }
            }
        }
        other => {
            ctx.error(here, format!("a capture is a JSONPath string, `{{ header: NAME }}` or `{{ regex: PATTERN }}`, found {}", yaml_kind(other)));
            None
        }
    }
}

fn regex(ctx: &mut Ctx, here: &[Seg], re: &str) -> Option<CaptureSource> {
    match Regex::new(re) {
        Ok(re) if re.captures_len() >= 2 => Some(CaptureSource::Regex(re)),
        Ok(_) => {
            ctx.error(
                here,
                format!("capture regex {re:?} needs a group `( )` to capture"),
            );
            None
        }
        Err(e) => {
            ctx.error(here, format!("invalid regex {re:?}: {}", regex_error(&e)));
            None
        }
    }
}
