//! `${NAME}` / `${NAME:-default}` / `$${` expansion (docs/variables.md). Where values come from is the
//! caller's business: expansion asks a lookup function.

use serde_json::Value;
use std::collections::HashMap;

/// One piece of a template string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Literal(String),
    Variable { name: String, default: Option<String> },
}

/// A variable that has no value anywhere and no default.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("undefined variable `{0}`")]
pub struct Undefined(pub String);

/// Splits a template into literals and variables. Fails on an unterminated `${` or an empty or
/// malformed name, with a message fit for a suite error.
pub fn parse(text: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        literal.push_str(&rest[..at]);
        let after = &rest[at..];
        if let Some(escaped) = after.strip_prefix("$${") {
            literal.push_str("${");
            rest = escaped;
        } else if let Some(inner_start) = after.strip_prefix("${") {
            let end = inner_start.find('}').ok_or_else(|| {
                format!("unterminated `${{` in {text:?} (write `$${{` for a literal `${{`)")
            })?;
            let inner = &inner_start[..end];
            let (name, default) = match inner.find(":-") {
                Some(i) => (&inner[..i], Some(inner[i + 2..].to_string())),
                None => (inner, None),
            };
            if !is_valid_name(name) {
                return Err(format!(
                    "invalid variable name `{name}` in {text:?} (letters, digits, `_`, `-` and `.`)"
                ));
            }
            if !literal.is_empty() {
                pieces.push(Piece::Literal(std::mem::take(&mut literal)));
            }
            pieces.push(Piece::Variable {
                name: name.to_string(),
                default,
            });
            rest = &inner_start[end + 1..];
        } else {
            literal.push('$');
            rest = &after[1..];
        }
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    Ok(pieces)
}

fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Whether `text` refers to a variable (a `$${` escape is not one). Map keys that do are checked
/// once expanded, when the check runs (docs/variables.md, "Variables in keys").
pub fn has_variables(text: &str) -> bool {
    text.contains("${") && parse(text).is_ok_and(|p| p.iter().any(|p| matches!(p, Piece::Variable { .. })))
}

/// A key without variables as it reads (`$${` written `${`); the text itself when it does not
/// parse, so the caller's own check reports it.
pub fn literal(text: &str) -> String {
    expand(text, &|_| None).unwrap_or_else(|_| text.to_string())
}

/// The names a template refers to, with whether each has a default.
pub fn references(text: &str) -> Vec<(String, bool)> {
    parse(text)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| match p {
            Piece::Variable { name, default } => Some((name, default.is_some())),
            Piece::Literal(_) => None,
        })
        .collect()
}

/// A value as it reads inside a larger string: strings bare, everything else as JSON.
pub fn value_to_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Expands a template into a string.
pub fn expand(text: &str, lookup: &dyn Fn(&str) -> Option<Value>) -> Result<String, Undefined> {
    if !text.contains('$') {
        return Ok(text.to_string());
    }
    let pieces = parse(text).map_err(|_| Undefined(text.to_string()))?;
    let mut out = String::with_capacity(text.len());
    for piece in pieces {
        match piece {
            Piece::Literal(s) => out.push_str(&s),
            Piece::Variable { name, default } => match lookup(&name) {
                Some(v) => out.push_str(&value_to_text(&v)),
                None => out.push_str(&default.ok_or(Undefined(name))?),
            },
        }
    }
    Ok(out)
}

/// Expands a template into a JSON value: a string that is exactly one `${x}` keeps the type of
/// x's value (docs/variables.md), anything else becomes a string.
pub fn expand_typed(text: &str, lookup: &dyn Fn(&str) -> Option<Value>) -> Result<Value, Undefined> {
    if let Ok(pieces) = parse(text)
        && let [Piece::Variable { name, default }] = pieces.as_slice()
    {
        return match lookup(name) {
            Some(v) => Ok(v),
            None => default
                .clone()
                .map(Value::String)
                .ok_or_else(|| Undefined(name.clone())),
        };
    }
    expand(text, lookup).map(Value::String)
}

/// Expands every string inside a JSON value; object keys are expanded as strings.
pub fn expand_json(value: &Value, lookup: &dyn Fn(&str) -> Option<Value>) -> Result<Value, Undefined> {
    Ok(match value {
        Value::String(s) => expand_typed(s, lookup)?,
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| expand_json(v, lookup))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((expand(k, lookup)?, expand_json(v, lookup)?)))
                .collect::<Result<_, Undefined>>()?,
        ),
        other => other.clone(),
    })
}

/// Looks a process environment variable up; an empty value counts as unset (docs/cli.md).
pub type EnvLookup<'a> = dyn Fn(&str) -> Option<String> + Send + Sync + 'a;

/// Where `${NAME}` finds its value, in the one lookup order (docs/variables.md): captures, then
/// `--var`, then the suite's `variables`, then the process environment, then the built-ins.
/// The process environment is passed in, so nothing here reads it behind the caller's back.
pub struct Scope<'a> {
    pub captures: &'a HashMap<String, Value>,
    /// `--var`, the last one given winning.
    pub cli_vars: &'a [(String, String)],
    pub suite_vars: &'a HashMap<String, Value>,
    pub env: &'a EnvLookup<'a>,
    pub built_ins: &'a BuiltIns,
}

impl Scope<'_> {
    pub fn get(&self, name: &str) -> Option<Value> {
        if let Some(v) = self.captures.get(name) {
            return Some(v.clone());
        }
        if let Some((_, v)) = self.cli_vars.iter().rev().find(|(k, _)| k == name) {
            return Some(Value::String(v.clone()));
        }
        if let Some(v) = self.suite_vars.get(name) {
            return Some(v.clone());
        }
        if let Some(v) = (self.env)(name) {
            return Some(Value::String(v));
        }
        self.built_ins.get(name)
    }

    /// Whether `name` has a value here (a built-in always has one).
    pub fn defines(&self, name: &str) -> bool {
        self.captures.contains_key(name)
            || self.cli_vars.iter().any(|(k, _)| k == name)
            || self.suite_vars.contains_key(name)
            || (self.env)(name).is_some()
            || BUILT_INS.contains(&name)
    }

    pub fn expand(&self, text: &str) -> Result<String, String> {
        expand(text, &|n| self.get(n)).map_err(|e| e.to_string())
    }

    pub fn expand_json(&self, v: &Value) -> Result<Value, String> {
        expand_json(v, &|n| self.get(n)).map_err(|e| e.to_string())
    }
}

/// Names the built-ins answer (docs/variables.md).
pub const BUILT_INS: &[&str] = &["run_id", "uuid", "timestamp"];

/// The built-in variables of one run.
#[derive(Debug, Clone)]
pub struct BuiltIns {
    pub run_id: String,
    /// Unix milliseconds at the start of the run.
    pub timestamp: u128,
}

impl BuiltIns {
    pub fn new() -> BuiltIns {
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        let id = uuid::Uuid::new_v4().simple().to_string();
        BuiltIns {
            run_id: format!("run-{}", &id[..12]),
            timestamp,
        }
    }

    /// `${uuid}` is new at each use.
    pub fn get(&self, name: &str) -> Option<Value> {
        match name {
            "run_id" => Some(Value::String(self.run_id.clone())),
            "timestamp" => Some(Value::from(self.timestamp as u64)),
            "uuid" => Some(Value::String(uuid::Uuid::new_v4().to_string())),
            _ => None,
        }
    }
}

impl Default for BuiltIns {
    fn default() -> Self {
        BuiltIns::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lookup(name: &str) -> Option<Value> {
        match name {
            "host" => Some(json!("example.test")),
            "id" => Some(json!(42)),
            "obj" => Some(json!({"a": 1})),
            _ => None,
        }
    }

    #[test]
    fn expands_defaults_and_escapes() {
        assert_eq!(
            expand("https://${host}/x", &lookup).unwrap(),
            "https://example.test/x"
        );
        assert_eq!(expand("${missing:-fallback}", &lookup).unwrap(), "fallback");
        assert_eq!(expand("${missing:-}", &lookup).unwrap(), "");
        assert_eq!(
            expand("cost $5 and $${literal}", &lookup).unwrap(),
            "cost $5 and ${literal}"
        );
        assert_eq!(expand("id=${id}", &lookup).unwrap(), "id=42");
        assert_eq!(expand("${nope}", &lookup), Err(Undefined("nope".into())));
    }

    #[test]
    fn single_variable_keeps_its_type() {
        assert_eq!(expand_typed("${id}", &lookup).unwrap(), json!(42));
        assert_eq!(expand_typed("${obj}", &lookup).unwrap(), json!({"a": 1}));
        assert_eq!(expand_typed("x${id}", &lookup).unwrap(), json!("x42"));
        assert_eq!(
            expand_json(&json!({"id": "${id}", "l": ["${host}"]}), &lookup).unwrap(),
            json!({"id": 42, "l": ["example.test"]})
        );
        assert_eq!(
            expand_json(&json!({"k-${id}": "${id}"}), &lookup).unwrap(),
            json!({"k-42": 42})
        );
    }

    #[test]
    fn keys_with_variables() {
        assert!(has_variables("$.errors[${index}].id"));
        assert!(!has_variables("$.errors[0].id"));
        assert!(!has_variables("$$${not}"));
        assert!(!has_variables("${unterminated"));
        assert_eq!(literal("x-$${raw}"), "x-${raw}");
        assert_eq!(literal("$.a"), "$.a");
    }

    #[test]
    fn parse_errors() {
        assert!(parse("${unterminated").is_err());
        assert!(parse("${}").is_err());
        assert!(parse("${a b}").is_err());
        assert_eq!(
            references("${a}-${b:-x}"),
            vec![("a".to_string(), false), ("b".to_string(), true)]
        );
    }
}
