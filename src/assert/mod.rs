//! Assertions (docs/assertions.md): pure functions of an expectation and a recorded response. No network,
//! no clock: what was measured comes in as values. Status, latency, phase and header limits
//! are here; [`matcher`] holds the JSON operators and queries, [`sla`] the verdict over samples.

mod matcher;
pub mod sla;

pub use matcher::{JsonQuery, JsonType, Matcher, OPERATORS, Op, values_equal};

use serde_json::Value;
use std::time::Duration;

/// `expect.status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusExpect {
    Codes(Vec<u16>),
    /// `"2xx"` is `Class(2)`.
    Class(u16),
}

impl Default for StatusExpect {
    fn default() -> Self {
        StatusExpect::Class(2)
    }
}

impl StatusExpect {
    pub fn allows(&self, status: u16) -> bool {
        match self {
            StatusExpect::Codes(codes) => codes.contains(&status),
            StatusExpect::Class(class) => status / 100 == *class,
        }
    }

    /// Parses `"2xx"`; `None` when it is not a class `1xx`..`5xx`.
    pub fn parse_class(text: &str) -> Option<StatusExpect> {
        let t = text.trim().to_ascii_lowercase();
        let b = t.as_bytes();
        if b.len() == 3 && (b'1'..=b'5').contains(&b[0]) && &b[1..] == b"xx" {
            Some(StatusExpect::Class((b[0] - b'0') as u16))
        } else {
            None
        }
    }

    pub fn describe(&self) -> String {
        match self {
            StatusExpect::Codes(codes) if codes.len() == 1 => codes[0].to_string(),
            StatusExpect::Codes(codes) => {
                let list: Vec<String> = codes.iter().map(|c| c.to_string()).collect();
                format!("one of [{}]", list.join(", "))
            }
            StatusExpect::Class(c) => format!("{c}xx"),
        }
    }
}

/// `expect.latency` as a map: limits on percentiles over all samples.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LatencyLimits {
    pub p50: Option<Duration>,
    pub p90: Option<Duration>,
    pub p95: Option<Duration>,
    pub p99: Option<Duration>,
    pub max: Option<Duration>,
}

impl LatencyLimits {
    pub fn is_empty(&self) -> bool {
        self.p50.is_none()
            && self.p90.is_none()
            && self.p95.is_none()
            && self.p99.is_none()
            && self.max.is_none()
    }
}

/// A recorded response: everything an assertion may look at.
#[derive(Debug, Clone, Default)]
pub struct Response {
    pub status: u16,
    /// As the server sent them (turned into text only for what is looked at).
    pub headers: reqwest::header::HeaderMap,
    /// Decoded body text (lossy UTF-8).
    pub body: String,
    /// The time the sample took (docs/assertions.md#latency).
    pub latency: Duration,
    /// Its phases (docs/behaviour.md#phases).
    pub timings: crate::http::Timings,
    /// The server's leaf certificate, on `https://`.
    pub certificate: Option<crate::contract::certificate::PeerCertificate>,
}

impl Response {
    /// The first value of the header `name` (any case), as text (a value that is not UTF-8
    /// read lossily).
    pub fn header(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
        let value = self.headers.get(name.to_ascii_lowercase().as_str())?;
        Some(match value.to_str() {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(value.as_bytes()),
        })
    }

    /// The body parsed as JSON, or why not.
    pub fn json(&self) -> Result<Value, String> {
        serde_json::from_str(&self.body).map_err(|e| format!("body is not JSON ({e})"))
    }
}

/// The per-sample part of `expect`, with variables already expanded.
#[derive(Debug, Clone, Default)]
pub struct SampleExpect {
    pub status: StatusExpect,
    pub latency: Option<Duration>,
    /// `expect.timings`: a limit per phase; a phase that did not happen holds.
    pub timings: Vec<(&'static str, Duration)>,
    pub headers: Vec<(String, Matcher)>,
    pub json: Vec<(JsonQuery, Matcher)>,
    pub body: Option<Matcher>,
    /// The contract checks (docs/assertions.md#schema, #openapi, #certificate).
    pub contract: crate::contract::Contract,
}

/// A header value is text, so a number or boolean written in YAML (`x-limit: 100`) is compared
/// with it as text; a number matches by value (`1.5` matches `1.50`).
fn header_matcher(matcher: &Matcher, found: Option<&str>) -> Matcher {
    let as_text = |v: &Value| match v {
        Value::Number(n) => match found {
            Some(f) if f.trim().parse::<f64>().ok() == n.as_f64() => Value::String(f.to_string()),
            _ => Value::String(n.to_string()),
        },
        Value::Bool(b) => Value::String(b.to_string()),
        other => other.clone(),
    };
    let ops = matcher
        .ops
        .iter()
        .map(|op| match op {
            Op::Eq(v) => Op::Eq(as_text(v)),
            Op::Ne(v) => Op::Ne(as_text(v)),
            Op::OneOf(vs) => Op::OneOf(vs.iter().map(as_text).collect()),
            other => other.clone(),
        })
        .collect();
    Matcher { ops }
}

/// Judges one sample. Returns every failure, each with expected and found.
pub fn check_sample(expect: &SampleExpect, response: &Response) -> Vec<String> {
    let mut failures = Vec::new();
    if !expect.status.allows(response.status) {
        failures.push(format!(
            "expected status {}, got {}",
            expect.status.describe(),
            response.status
        ));
    }
    if let Some(limit) = expect.latency
        && response.latency > limit
    {
        failures.push(format!(
            "expected latency <= {}, took {}",
            crate::duration::fmt(limit),
            crate::duration::fmt(response.latency)
        ));
    }
    for (phase, limit) in &expect.timings {
        if let Some(took) = response.timings.phase(phase)
            && took > *limit
        {
            failures.push(format!(
                "expected {phase} <= {}, took {}",
                crate::duration::fmt(*limit),
                crate::duration::fmt_phase_ms(took.as_secs_f64() * 1000.0)
            ));
        }
    }
    for (name, matcher) in &expect.headers {
        let text = response.header(name);
        let text = text.as_deref();
        let found = text.map(|v| Value::String(v.to_string()));
        let matcher = header_matcher(matcher, text);
        failures.extend(matcher.check(&format!("header {name}"), found.as_ref()));
    }
    // The body is parsed at most once, for `json` and the contract checks alike.
    let parsed = std::cell::OnceCell::new();
    if !expect.json.is_empty() {
        match crate::contract::parse_once(&parsed, &response.body) {
            Ok(doc) => {
                for (query, matcher) in &expect.json {
                    let found = query.select(doc);
                    failures.extend(matcher.check(&query.source, found.as_ref()));
                }
            }
            Err(e) => failures.push(format!("body is not JSON ({e})")),
        }
    }
    if let Some(matcher) = &expect.body {
        failures.extend(matcher.check("body", Some(&Value::String(response.body.clone()))));
    }
    failures.extend(expect.contract.check(response, &parsed));
    failures
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(ops: Vec<Op>) -> Matcher {
        Matcher { ops }
    }

    #[test]
    fn status_classes_and_lists() {
        assert!(StatusExpect::parse_class("2xx").unwrap().allows(204));
        assert!(StatusExpect::parse_class("6xx").is_none());
        assert!(StatusExpect::parse_class("2x").is_none());
        assert!(StatusExpect::Codes(vec![200, 204]).allows(204));
        assert!(!StatusExpect::Codes(vec![200]).allows(201));
    }

    #[test]
    fn header_values_compare_as_text() {
        let response = Response {
            status: 200,
            headers: crate::http::header_map(&[
                ("x-limit".into(), "100".into()),
                ("x-cache".into(), "true".into()),
            ])
            .unwrap(),
            ..Response::default()
        };
        let expect = |name: &str, m: Matcher| SampleExpect {
            status: StatusExpect::Codes(vec![200]),
            headers: vec![(name.to_string(), m)],
            ..SampleExpect::default()
        };
        for ok in [
            expect("x-limit", Matcher::equals(json!(100))),
            expect("x-limit", Matcher::equals(json!(100.0))),
            expect("x-limit", Matcher::equals(json!("100"))),
            expect("x-limit", m(vec![Op::OneOf(vec![json!(50), json!(100)])])),
            expect("x-limit", m(vec![Op::Ne(json!(99))])),
            expect("x-cache", Matcher::equals(json!(true))),
        ] {
            assert!(check_sample(&ok, &response).is_empty());
        }
        assert_eq!(
            check_sample(&expect("x-limit", Matcher::equals(json!(99))), &response),
            vec![r#"header x-limit: expected "99", found "100""#]
        );
        assert!(!check_sample(&expect("x-limit", m(vec![Op::Ne(json!(100))])), &response).is_empty());
    }
}
