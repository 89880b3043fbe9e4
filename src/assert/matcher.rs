//! The JSON matchers of `expect.json` and header assertions (docs/assertions.md#json): the
//! operators, how a found value is compared and described, and JSONPath queries.

use regex::Regex;
use serde_json::Value;

/// The type names of the `type` operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    String,
    Number,
    Integer,
    Boolean,
    Array,
    Object,
    Null,
}

impl JsonType {
    /// Every type with the name the `type` operator and failure messages use.
    const NAMES: [(JsonType, &'static str); 7] = [
        (JsonType::String, "string"),
        (JsonType::Number, "number"),
        (JsonType::Integer, "integer"),
        (JsonType::Boolean, "boolean"),
        (JsonType::Array, "array"),
        (JsonType::Object, "object"),
        (JsonType::Null, "null"),
    ];

    pub fn parse(name: &str) -> Option<JsonType> {
        Self::NAMES.iter().find(|(_, n)| *n == name).map(|(t, _)| *t)
    }

    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(t, _)| *t == self)
            .map_or("", |(_, n)| n)
    }

    /// The most precise type of a value: a whole number is an `integer`.
    pub fn of(v: &Value) -> JsonType {
        match v {
            Value::Null => JsonType::Null,
            Value::Bool(_) => JsonType::Boolean,
            Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => JsonType::Integer,
            Value::Number(_) => JsonType::Number,
            Value::String(_) => JsonType::String,
            Value::Array(_) => JsonType::Array,
            Value::Object(_) => JsonType::Object,
        }
    }

    pub fn holds_for(self, v: &Value) -> bool {
        match self {
            JsonType::String => v.is_string(),
            JsonType::Number => v.is_number(),
            JsonType::Integer => v.as_f64().is_some_and(|n| n.fract() == 0.0),
            JsonType::Boolean => v.is_boolean(),
            JsonType::Array => v.is_array(),
            JsonType::Object => v.is_object(),
            JsonType::Null => v.is_null(),
        }
    }
}

/// One operator of a matcher (docs/assertions.md#operators). Values may still hold `${var}` templates until
/// [`Matcher::expand`] runs.
#[derive(Debug, Clone)]
pub enum Op {
    Eq(Value),
    Ne(Value),
    Lt(Value),
    Le(Value),
    Gt(Value),
    Ge(Value),
    Contains(Value),
    /// The source and, when it holds no variable, the regex compiled at load time.
    Matches(String, Option<Regex>),
    Exists(bool),
    Type(JsonType),
    Length(usize),
    MinLength(usize),
    MaxLength(usize),
    OneOf(Vec<Value>),
}

/// Every operator name, for validation and did-you-mean.
pub const OPERATORS: &[&str] = &[
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "contains",
    "matches",
    "exists",
    "type",
    "length",
    "min_length",
    "max_length",
    "one_of",
];

/// All operators must hold.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub ops: Vec<Op>,
}

impl Matcher {
    pub fn equals(value: Value) -> Matcher {
        Matcher {
            ops: vec![Op::Eq(value)],
        }
    }

    /// Expands `${var}` in every value; a regex with variables is compiled here.
    pub fn expand(&self, f: &dyn Fn(&Value) -> Result<Value, String>) -> Result<Matcher, String> {
        let mut ops = Vec::with_capacity(self.ops.len());
        for op in &self.ops {
            ops.push(match op {
                Op::Eq(v) => Op::Eq(f(v)?),
                Op::Ne(v) => Op::Ne(f(v)?),
                Op::Lt(v) => Op::Lt(f(v)?),
                Op::Le(v) => Op::Le(f(v)?),
                Op::Gt(v) => Op::Gt(f(v)?),
                Op::Ge(v) => Op::Ge(f(v)?),
                Op::Contains(v) => Op::Contains(f(v)?),
                Op::OneOf(vs) => Op::OneOf(vs.iter().map(f).collect::<Result<_, _>>()?),
                Op::Matches(src, None) => {
                    let expanded = f(&Value::String(src.clone()))?;
                    let text = crate::vars::value_to_text(&expanded);
                    let re = Regex::new(&text).map_err(|e| format!("invalid regex {text:?}: {e}"))?;
                    Op::Matches(text, Some(re))
                }
                other => other.clone(),
            });
        }
        Ok(Matcher { ops })
    }

    /// Checks `found` (None: absent) and returns one message per operator that fails, each
    /// naming `subject`, what was expected and what was found.
    pub fn check(&self, subject: &str, found: Option<&Value>) -> Vec<String> {
        let mut failures = Vec::new();
        for op in &self.ops {
            if let Some(expected) = op_failure(op, found) {
                failures.push(format!(
                    "{subject}: expected {expected}, found {}",
                    describe_found(op, found)
                ));
            }
        }
        failures
    }
}

fn show(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 200 {
        let cut: String = text.chars().take(200).collect();
        format!("{cut}…")
    } else {
        text
    }
}

fn describe_found(op: &Op, found: Option<&Value>) -> String {
    let Some(v) = found else {
        return "nothing".to_string();
    };
    match op {
        Op::Length(_) | Op::MinLength(_) | Op::MaxLength(_) => match length_of(v) {
            Some(n) => format!("{n} (value: {})", show(v)),
            None => format!("{} (no length)", show(v)),
        },
        Op::Type(_) => format!("{} ({})", JsonType::of(v).name(), show(v)),
        _ => show(v),
    }
}

fn length_of(v: &Value) -> Option<usize> {
    match v {
        Value::String(s) => Some(s.chars().count()),
        Value::Array(a) => Some(a.len()),
        Value::Object(o) => Some(o.len()),
        _ => None,
    }
}

/// Equality where numbers compare by value (`1` equals `1.0`), recursively.
pub fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| values_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        _ => a == b,
    }
}

/// A number, or a string that parses as one (header values are text).
fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `None` when the operator holds; else a description of what was expected.
fn op_failure(op: &Op, found: Option<&Value>) -> Option<String> {
    if let Op::Exists(want) = op {
        return (found.is_some() != *want)
            .then(|| if *want { "to exist" } else { "to be absent" }.to_string());
    }
    let Some(v) = found else {
        return Some(describe_expected(op));
    };
    let holds = match op {
        Op::Eq(e) => values_equal(v, e),
        Op::Ne(e) => !values_equal(v, e),
        Op::Lt(e) | Op::Le(e) | Op::Gt(e) | Op::Ge(e) => match (as_number(v), as_number(e)) {
            (Some(x), Some(y)) => match op {
                Op::Lt(_) => x < y,
                Op::Le(_) => x <= y,
                Op::Gt(_) => x > y,
                _ => x >= y,
            },
            _ => false,
        },
        Op::Contains(e) => match v {
            Value::String(s) => s.contains(&crate::vars::value_to_text(e)),
            Value::Array(items) => items.iter().any(|i| values_equal(i, e)),
            Value::Object(map) => map.contains_key(&crate::vars::value_to_text(e)),
            _ => false,
        },
        Op::Matches(_, re) => match (v, re) {
            (Value::String(s), Some(re)) => re.is_match(s),
            _ => false,
        },
        Op::Type(t) => t.holds_for(v),
        Op::Length(n) => length_of(v) == Some(*n),
        Op::MinLength(n) => length_of(v).is_some_and(|l| l >= *n),
        Op::MaxLength(n) => length_of(v).is_some_and(|l| l <= *n),
        Op::OneOf(options) => options.iter().any(|o| values_equal(v, o)),
        Op::Exists(_) => unreachable!("handled above"),
    };
    (!holds).then(|| describe_expected(op))
}

fn describe_expected(op: &Op) -> String {
    match op {
        Op::Eq(e) => show(e),
        Op::Ne(e) => format!("not {}", show(e)),
        Op::Lt(e) => format!("< {}", show(e)),
        Op::Le(e) => format!("<= {}", show(e)),
        Op::Gt(e) => format!("> {}", show(e)),
        Op::Ge(e) => format!(">= {}", show(e)),
        Op::Contains(e) => format!("to contain {}", show(e)),
        Op::Matches(src, _) => format!("to match /{src}/"),
        Op::Exists(true) => "to exist".into(),
        Op::Exists(false) => "to be absent".into(),
        Op::Type(t) => format!("type {}", t.name()),
        Op::Length(n) => format!("length {n}"),
        Op::MinLength(n) => format!("length >= {n}"),
        Op::MaxLength(n) => format!("length <= {n}"),
        Op::OneOf(vs) => format!("one of {}", show(&Value::Array(vs.clone()))),
    }
}

/// A compiled JSONPath query of `expect.json` or `capture`.
#[derive(Debug, Clone)]
pub struct JsonQuery {
    pub source: String,
    path: serde_json_path::JsonPath,
    /// Only names and indices: yields one value or none (docs/assertions.md).
    singular: bool,
}

impl JsonQuery {
    pub fn parse(source: &str) -> Result<JsonQuery, String> {
        let path = serde_json_path::JsonPath::parse(source)
            .map_err(|e| format!("invalid JSONPath `{source}`: {e}"))?;
        Ok(JsonQuery {
            source: source.to_string(),
            path,
            singular: is_singular_syntax(source),
        })
    }

    /// The value a singular query finds, or the array of all matches for any other query.
    pub fn select(&self, doc: &Value) -> Option<Value> {
        let nodes = self.path.query(doc);
        if self.singular {
            nodes.all().first().map(|v| (*v).clone())
        } else {
            Some(Value::Array(nodes.all().into_iter().cloned().collect()))
        }
    }
}

/// RFC 9535 singular queries: `$` followed only by `.name`, `['name']` and `[index]` segments.
/// The crate exposes no AST, so a wildcard, slice, filter, descendant or union selector is
/// recognised by its text once quoted names are taken out.
fn is_singular_syntax(source: &str) -> bool {
    let mut unquoted = String::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in source.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => quote = Some(c),
            None => unquoted.push(c),
        }
    }
    !(unquoted.contains('*')
        || unquoted.contains("..")
        || unquoted.contains('?')
        || unquoted.contains(':')
        || unquoted.contains(','))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(ops: Vec<Op>) -> Matcher {
        Matcher { ops }
    }

    #[test]
    fn numbers_compare_by_value() {
        assert!(values_equal(&json!(1), &json!(1.0)));
        assert!(values_equal(&json!({"a": [1]}), &json!({"a": [1.0]})));
        assert!(!values_equal(&json!("1"), &json!(1)));
    }

    #[test]
    fn min_length_message_shows_expected_and_found() {
        let f = m(vec![Op::MinLength(1)]).check("$.edges", Some(&json!([])));
        assert_eq!(f, vec!["$.edges: expected length >= 1, found 0 (value: [])"]);
    }

    #[test]
    fn operators() {
        let v = json!({"a": 1});
        assert!(m(vec![Op::Contains(json!("a"))]).check("x", Some(&v)).is_empty());
        assert!(
            m(vec![Op::Type(JsonType::Integer)])
                .check("x", Some(&json!(2.0)))
                .is_empty()
        );
        assert!(
            !m(vec![Op::Type(JsonType::Integer)])
                .check("x", Some(&json!(2.5)))
                .is_empty()
        );
        assert!(
            m(vec![Op::Lt(json!(10)), Op::Ge(json!("5"))])
                .check("x", Some(&json!("7")))
                .is_empty()
        );
        assert!(m(vec![Op::Exists(false)]).check("x", None).is_empty());
        assert_eq!(
            m(vec![Op::Exists(true)]).check("x", None),
            vec!["x: expected to exist, found nothing"]
        );
        assert!(m(vec![Op::Length(3)]).check("x", Some(&json!("héé"))).is_empty());
        assert!(
            m(vec![Op::OneOf(vec![json!(1), json!(2)])])
                .check("x", Some(&json!(2.0)))
                .is_empty()
        );
    }

    #[test]
    fn singular_and_plural_queries() {
        let doc = json!({"a": {"b": [10, 20]}, "items": [{"id": 1}, {"id": 2}]});
        assert_eq!(
            JsonQuery::parse("$.a.b[1]").unwrap().select(&doc),
            Some(json!(20))
        );
        assert_eq!(JsonQuery::parse("$.missing").unwrap().select(&doc), None);
        assert_eq!(
            JsonQuery::parse("$.items[*].id").unwrap().select(&doc),
            Some(json!([1, 2]))
        );
        assert_eq!(
            JsonQuery::parse("$['a']['b'][0]").unwrap().select(&doc),
            Some(json!(10))
        );
        assert!(JsonQuery::parse("$.a[").is_err());
    }
}
