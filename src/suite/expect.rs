//! A check's `expect` (over `defaults.expect`): status, latency and its percentile limits,
//! availability, and the header, JSON and body assertions (each a [`super::matcher`]).

use super::context::{Ctx, duration, json_query_at, mapping_key, path};
use super::matcher::matcher;
use super::{Expect, JsonKey, StatusExpect, TemplateSite};
use crate::yaml::{Seg, kind as yaml_kind};
use serde::Deserialize;
use serde_yaml::{Mapping, Value};

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExpect {
    #[serde(default, deserialize_with = "crate::yaml::lenient::opt_value")]
    status: Option<Value>,
    #[serde(default, deserialize_with = "crate::yaml::lenient::opt_value")]
    latency: Option<Value>,
    availability: Option<f64>,
    #[serde(default, deserialize_with = "crate::yaml::lenient::mapping")]
    pub headers: Mapping,
    #[serde(default, deserialize_with = "crate::yaml::lenient::mapping")]
    pub json: Mapping,
    #[serde(default, deserialize_with = "crate::yaml::lenient::opt_value")]
    body: Option<Value>,
    schema: Option<Value>,
    openapi: Option<bool>,
    certificate: Option<Value>,
    /// `schema` came from `defaults.expect` (errors point there).
    #[serde(skip)]
    schema_from_defaults: bool,
    #[serde(default, deserialize_with = "crate::yaml::lenient::opt_value")]
    timings: Option<Value>,
    regression: Option<Value>,
}

impl RawExpect {
    /// `defaults.expect` under the check's own: scalars are replaced, maps merge key by key.
    pub fn merged_over(own: Option<RawExpect>, defaults: Option<&RawExpect>) -> RawExpect {
        let Some(d) = defaults else {
            return own.unwrap_or_default();
        };
        let own = own.unwrap_or_default();
        RawExpect {
            status: own.status.or_else(|| d.status.clone()),
            latency: own.latency.or_else(|| d.latency.clone()),
            availability: own.availability.or(d.availability),
            headers: merge_map(&d.headers, own.headers, true),
            json: merge_map(&d.json, own.json, false),
            body: own.body.or_else(|| d.body.clone()),
            schema_from_defaults: own.schema.is_none() && d.schema.is_some(),
            schema: own.schema.or_else(|| d.schema.clone()),
            openapi: own.openapi.or(d.openapi),
            certificate: own.certificate.or_else(|| d.certificate.clone()),
            timings: own.timings.or_else(|| d.timings.clone()),
            regression: own.regression.or_else(|| d.regression.clone()),
        }
    }
}

/// `over` on top of `base`, key by key, the later entry winning. With `fold_case`, keys that differ
/// only in ASCII case are one key: header names, so a check's `Content-Type` replaces a default
/// `content-type`. JSONPath keys are compared exactly. Linear: a suite can hold many entries.
fn merge_map(base: &Mapping, over: Mapping, fold_case: bool) -> Mapping {
    let key_of = |k: &Value| match k.as_str() {
        Some(s) if fold_case => Value::String(s.to_ascii_lowercase()),
        _ => k.clone(),
    };
    let entries = base.iter().map(|(k, v)| (k.clone(), v.clone())).chain(over);
    crate::http::headers::merge_by(entries, |(k, _)| key_of(k))
        .into_iter()
        .collect()
}

pub(super) fn convert(
    ctx: &mut Ctx,
    at: &[Seg],
    raw: &RawExpect,
    templates: &mut Vec<TemplateSite>,
) -> Expect {
    let mut expect = Expect::default();
    if let Some(s) = &raw.status {
        expect.status = status(ctx, &path(at, &["status".into()]), s);
    }
    if let Some(l) = &raw.latency {
        latency(ctx, &path(at, &["latency".into()]), l, &mut expect);
    }
    if let Some(a) = raw.availability {
        if !(0.0..=100.0).contains(&a) {
            ctx.error(
                &path(at, &["availability".into()]),
                format!("`availability` is a percent from 0 to 100, found {a}"),
            );
        }
        expect.availability = Some(a);
    }
    for (k, v) in &raw.headers {
        let hdr_at = path(at, &["headers".into()]);
        let Some(name) = mapping_key(ctx, &hdr_at, k) else {
            continue;
        };
        let here = path(&hdr_at, &[Seg::Key(name.clone())]);
        // A name holding `${var}` is checked once expanded (super::keys).
        let templated = crate::vars::has_variables(&name);
        if templated {
            ctx.site(&here, &name, templates);
        } else if let Err(why) = crate::http::headers::name(&crate::vars::literal(&name)) {
            ctx.error(&here, why);
            continue;
        }
        if let Some(m) = matcher(ctx, &here, v, templates) {
            let name = if templated {
                name
            } else {
                name.to_ascii_lowercase()
            };
            expect.headers.push((name, m));
        }
    }
    for (k, v) in &raw.json {
        let json_at = path(at, &["json".into()]);
        let Some(query) = mapping_key(ctx, &json_at, k) else {
            continue;
        };
        let here = path(&json_at, &[Seg::Key(query.clone())]);
        let key = if crate::vars::has_variables(&query) {
            ctx.site(&here, &query, templates);
            Some(JsonKey::Template(query))
        } else {
            json_query_at(ctx, &here, &crate::vars::literal(&query)).map(JsonKey::Query)
        };
        if let (Some(key), Some(m)) = (key, matcher(ctx, &here, v, templates)) {
            expect.json.push((key, m));
        }
    }
    if let Some(b) = &raw.body {
        expect.body = matcher(ctx, &path(at, &["body".into()]), b, templates);
    }
    if let Some(t) = &raw.timings {
        expect.timings = timings(ctx, &path(at, &["timings".into()]), t);
    }
    if let Some(r) = &raw.regression {
        expect.regression = regression(ctx, &path(at, &["regression".into()]), r);
    }
    expect
}

/// The contract parts of `expect` (docs/assertions.md#schema, #openapi, #certificate). `at` is
/// the check's own position.
pub(super) fn contract(
    ctx: &mut Ctx,
    at: &[Seg],
    raw: &RawExpect,
    scope: &super::check::SuiteScope,
    templates: &mut Vec<TemplateSite>,
    expect: &mut Expect,
) {
    if let Some(s) = &raw.schema {
        let schema_at = if raw.schema_from_defaults {
            vec!["defaults".into(), "expect".into(), "schema".into()]
        } else {
            path(at, &["expect".into(), "schema".into()])
        };
        expect.schema = super::contract::schema(ctx, &schema_at, s, scope.file);
    }
    if raw.openapi != Some(false) {
        expect.openapi = scope.openapi.clone();
    }
    if let Some(c) = &raw.certificate {
        let here = path(at, &["expect".into(), "certificate".into()]);
        super::contract::certificate(ctx, &here, c, templates, expect);
    }
}

/// `regression: { p95: 20%, p99: 50%, availability: 0.5 }` (docs/merge.md#baselines).
fn regression(ctx: &mut Ctx, here: &[Seg], r: &Value) -> Option<crate::baseline::Regression> {
    let Value::Mapping(m) = r else {
        ctx.error(
            here,
            "`regression` is a map: { p95: 20%, p99: 50%, availability: 0.5 }",
        );
        return None;
    };
    let mut out = crate::baseline::Regression::default();
    for (k, v) in m {
        let key = k.as_str().unwrap_or("");
        let key_at = path(here, &[Seg::Key(key.to_string())]);
        let text = match v {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            _ => String::new(),
        };
        let value = match crate::baseline::parse_percent(&text) {
            Ok(v) => Some(v),
            Err(e) => {
                ctx.error(&key_at, format!("regression `{key}`: {e}"));
                None
            }
        };
        match key {
            "p50" => out.p50 = value,
            "p95" => out.p95 = value,
            "p99" => out.p99 = value,
            "availability" => out.availability = value,
            other => {
                let hint = ctx.hint(other, ["p50", "p95", "p99", "availability"]);
                ctx.error(
                    &key_at,
                    format!("unknown regression limit `{other}` (p50, p95, p99, availability){hint}"),
                );
            }
        }
    }
    Some(out)
}

/// `status`: a code, a list of codes, or a class (`2xx`).
fn status(ctx: &mut Ctx, here: &[Seg], s: &Value) -> StatusExpect {
    let code = |ctx: &mut Ctx, v: &Value| -> Option<u16> {
        match v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        {
            Some(c) if (100..=599).contains(&c) => Some(c as u16),
            _ => {
                // A map or a list printed as YAML reads like a code (`code: 200`); name its kind.
                let found = match v {
                    Value::Mapping(_) | Value::Sequence(_) | Value::Tagged(_) => {
                        format!(": found {}", yaml_kind(v))
                    }
                    _ => format!(" {}", serde_yaml::to_string(v).unwrap_or_default().trim()),
                };
                ctx.error(
                    here,
                    format!(
                        "invalid status{found} (a code 100-599, a list of codes, or a class \"1xx\"..\"5xx\")"
                    ),
                );
                None
            }
        }
    };
    match s {
        Value::String(text) if text.to_ascii_lowercase().contains('x') => {
            match StatusExpect::parse_class(text) {
                Some(class) => class,
                None => {
                    ctx.error(
                        here,
                        format!("invalid status class {text:?} (use \"1xx\" to \"5xx\")"),
                    );
                    StatusExpect::default()
                }
            }
        }
        Value::Sequence(items) if !items.is_empty() => {
            StatusExpect::Codes(items.iter().filter_map(|v| code(ctx, v)).collect())
        }
        other => code(ctx, other)
            .map(|c| StatusExpect::Codes(vec![c]))
            .unwrap_or_default(),
    }
}

/// `timings: { connect: 100ms, tls: 300ms, ttfb: 500ms }`: a limit per phase, judged on every
/// sample (docs/assertions.md#timings).
fn timings(ctx: &mut Ctx, here: &[Seg], t: &Value) -> Vec<(&'static str, std::time::Duration)> {
    let Value::Mapping(m) = t else {
        ctx.error(
            here,
            "`timings` is a map of limits per phase: { dns: , connect: , tls: , ttfb: , transfer: }",
        );
        return Vec::new();
    };
    let phases = crate::http::timing::PHASES;
    let mut limits = Vec::new();
    for (k, v) in m {
        let key = k.as_str().unwrap_or("");
        let key_at = path(here, &[Seg::Key(key.to_string())]);
        let Some(phase) = phases.iter().find(|p| **p == key) else {
            let hint = ctx.hint(key, phases);
            ctx.error(
                &key_at,
                format!("unknown phase `{key}` (dns, connect, tls, ttfb, transfer){hint}"),
            );
            continue;
        };
        if let Some(d) = duration(ctx, &key_at, v) {
            limits.push((*phase, d));
        }
    }
    limits
}

/// `latency`: one limit for every sample, or a map of percentile limits.
fn latency(ctx: &mut Ctx, here: &[Seg], l: &Value, expect: &mut Expect) {
    let Value::Mapping(m) = l else {
        expect.latency = duration(ctx, here, l);
        return;
    };
    for (k, v) in m {
        let key = k.as_str().unwrap_or("");
        let key_at = path(here, &[Seg::Key(key.to_string())]);
        let d = duration(ctx, &key_at, v);
        let slot = match key {
            "p50" => &mut expect.latency_limits.p50,
            "p90" => &mut expect.latency_limits.p90,
            "p95" => &mut expect.latency_limits.p95,
            "p99" => &mut expect.latency_limits.p99,
            "max" => &mut expect.latency_limits.max,
            other => {
                let hint = ctx.hint(other, ["p50", "p90", "p95", "p99", "max"]);
                ctx.error(
                    &key_at,
                    format!("unknown latency limit `{other}` (p50, p90, p95, p99, max){hint}"),
                );
                continue;
            }
        };
        *slot = d;
    }
}
