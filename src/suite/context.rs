//! What every part of a suite's conversion shares: the file's node positions, the errors found
//! so far, and readers for the small values (keys, string maps, durations, JSONPaths, regexes)
//! that report into it.

use super::{JsonQuery, Pos, SuiteError, TemplateSite};
use crate::yaml::{Positions, Seg, kind as yaml_kind, one_line};
use serde_yaml::{Mapping, Value};
use std::time::Duration;

/// Collects errors for one file.
pub(super) struct Ctx<'a> {
    pub file: &'a str,
    pub positions: Positions,
    pub errors: Vec<SuiteError>,
    /// Did-you-mean suggestions left for this file: each compares against a list the file may
    /// make long, so a file with thousands of unknown names must not compute thousands.
    pub hints_left: usize,
    /// Schemas compiled so far in this file (a `defaults.expect.schema` is compiled once, not
    /// once per check), and `None` for one that failed and was reported.
    pub schemas: std::collections::HashMap<String, Option<crate::contract::schema::CompiledSchema>>,
}

/// A path into the document, as [`Positions`] indexes it.
pub(super) type At = Vec<Seg>;

pub(super) fn path(base: &[Seg], more: &[Seg]) -> At {
    let mut p = base.to_vec();
    p.extend_from_slice(more);
    p
}

impl Ctx<'_> {
    pub fn error(&mut self, at: &[Seg], message: impl Into<String>) {
        let pos = self.positions.of(at);
        let message = one_line(&message.into());
        self.errors
            .push(SuiteError::new(self.file, pos.line, pos.column, message));
    }

    pub fn pos(&self, at: &[Seg]) -> Pos {
        self.positions.of(at)
    }

    /// [`crate::suggest::closest`], while this file's budget of suggestions lasts.
    pub fn closest<'o>(&mut self, word: &str, options: impl IntoIterator<Item = &'o str>) -> Option<&'o str> {
        self.hints_left = self.hints_left.checked_sub(1)?;
        crate::suggest::closest(word, options)
    }

    /// The tail of an "unknown …" error: ``; did you mean `x`?``, or nothing.
    pub fn hint<'o>(&mut self, word: &str, options: impl IntoIterator<Item = &'o str>) -> String {
        self.closest(word, options)
            .map(|b| format!("; {}", crate::suggest::did_you_mean(b)))
            .unwrap_or_default()
    }

    /// Notes `text` as a template of the check when it may hold `${var}`.
    pub fn site(&self, at: &[Seg], text: &str, templates: &mut Vec<TemplateSite>) {
        if text.contains('$') {
            templates.push(TemplateSite {
                text: text.to_string(),
                pos: self.pos(at),
            });
        }
    }
}

pub(super) fn mapping_key(ctx: &mut Ctx, at: &[Seg], key: &Value) -> Option<String> {
    match key {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => {
            ctx.error(at, format!("a key must be a string, found {}", yaml_kind(other)));
            None
        }
    }
}

/// A map of plain scalar values (headers, query, form, variables).
pub(super) fn string_map(ctx: &mut Ctx, at: &[Seg], map: &Mapping, what: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (k, v) in map {
        let Some(key) = mapping_key(ctx, at, k) else {
            continue;
        };
        let here = path(at, &[Seg::Key(key.clone())]);
        let value = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => {
                ctx.error(
                    &here,
                    format!(
                        "{what} `{key}` must be a string, number or boolean, found {}",
                        yaml_kind(other)
                    ),
                );
                continue;
            }
        };
        out.push((key, value));
    }
    out
}

pub(super) fn yaml_to_json(ctx: &mut Ctx, at: &[Seg], v: &Value) -> serde_json::Value {
    match serde_json::to_value(v) {
        Ok(j) => j,
        Err(e) => {
            ctx.error(at, format!("cannot be turned into JSON: {e}"));
            serde_json::Value::Null
        }
    }
}

/// Every string inside a JSON value, object keys included, depth first.
pub(super) fn collect_json_strings(v: &serde_json::Value, f: &mut dyn FnMut(&str)) {
    match v {
        serde_json::Value::String(s) => f(s),
        serde_json::Value::Array(items) => items.iter().for_each(|i| collect_json_strings(i, f)),
        serde_json::Value::Object(map) => map.iter().for_each(|(k, i)| {
            f(k);
            collect_json_strings(i, f)
        }),
        _ => {}
    }
}

/// Brackets and parentheses nested in a JSONPath, at most. serde_json_path's parser takes time
/// exponential in nested filters (`$[?@[?@[?@…]]]`: 12 levels take 70 ms in a debug build, 20
/// seconds, 64 forever) and recurses once per level; real queries nest two or three.
const MAX_JSONPATH_NESTING: usize = 5;

/// [`JsonQuery::parse`], refusing first what it would take too long (or too much stack) to parse.
pub(super) fn json_query(source: &str) -> Result<JsonQuery, String> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in source.chars() {
        if let Some(q) = quote {
            // Inside a string literal: brackets are text.
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                _ if c == q => quote = None,
                _ => {}
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '[' | '(' => {
                depth += 1;
                if depth > MAX_JSONPATH_NESTING {
                    return Err(format!(
                        "invalid JSONPath `{source}`: brackets and parentheses nested more than \
                         {MAX_JSONPATH_NESTING} deep"
                    ));
                }
            }
            ']' | ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    JsonQuery::parse(source)
}

/// [`json_query`], its error reported at `at`.
pub(super) fn json_query_at(ctx: &mut Ctx, at: &[Seg], source: &str) -> Option<JsonQuery> {
    match json_query(source) {
        Ok(q) => Some(q),
        Err(e) => {
            ctx.error(at, e);
            None
        }
    }
}

/// The regex crate's syntax errors span several lines (the pattern, a caret, then `error: …`);
/// a suite error is one `FILE:LINE:COLUMN: message` line, so keep the last, which says what is
/// wrong.
pub(super) fn regex_error(e: &regex::Error) -> String {
    let text = e.to_string();
    let last = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
    last.trim().trim_start_matches("error: ").to_string()
}

pub(super) fn duration(ctx: &mut Ctx, at: &[Seg], v: &Value) -> Option<Duration> {
    match crate::duration::from_yaml(v) {
        Ok(d) => Some(d),
        Err(e) => {
            ctx.error(at, e);
            None
        }
    }
}
