//! One assertion of `expect` (a header, a JSONPath, the body): a plain value means equality; a
//! map holds operators, all of which must hold.

use super::context::{Ctx, collect_json_strings, path, regex_error, yaml_to_json};
use super::{Matcher, TemplateSite};
use crate::assert::{JsonType, OPERATORS, Op};
use crate::yaml::Seg;
use regex::Regex;
use serde_yaml::Value;

pub(super) fn matcher(
    ctx: &mut Ctx,
    at: &[Seg],
    v: &Value,
    templates: &mut Vec<TemplateSite>,
) -> Option<Matcher> {
    let pos = ctx.pos(at);
    let mut note = |json: &serde_json::Value| {
        collect_json_strings(json, &mut |s| {
            if s.contains('$') {
                templates.push(TemplateSite {
                    text: s.to_string(),
                    pos,
                });
            }
        })
    };
    let Value::Mapping(map) = v else {
        let json = yaml_to_json(ctx, at, v);
        note(&json);
        return Some(Matcher::equals(json));
    };
    if map.is_empty() {
        ctx.error(
            at,
            "an empty map is not an assertion (write `eq: {}` to compare with an empty object)",
        );
        return None;
    }
    let mut ops = Vec::new();
    let before = ctx.errors.len();
    for (k, arg) in map {
        let name = k.as_str().unwrap_or("");
        let here = path(at, &[Seg::Key(name.to_string())]);
        let json = yaml_to_json(ctx, &here, arg);
        let Some(op) = operator(ctx, &here, name, arg, json) else {
            continue;
        };
        if let Op::Eq(v) | Op::Ne(v) | Op::Lt(v) | Op::Le(v) | Op::Gt(v) | Op::Ge(v) | Op::Contains(v) = &op {
            note(v);
        }
        if let Op::OneOf(vs) = &op {
            vs.iter().for_each(&mut note);
        }
        if let Op::Matches(src, _) = &op {
            note(&serde_json::Value::String(src.clone()));
        }
        ops.push(op);
    }
    (ctx.errors.len() == before).then_some(Matcher { ops })
}

/// The operator `name` with its argument (`arg` as written, `json` as JSON), or `None` once the
/// error is reported.
fn operator(ctx: &mut Ctx, here: &[Seg], name: &str, arg: &Value, json: serde_json::Value) -> Option<Op> {
    let length = |ctx: &mut Ctx| -> Option<usize> {
        let n = arg.as_u64();
        if n.is_none() {
            ctx.error(here, format!("`{name}` takes a whole number"));
        }
        n.map(|n| n as usize)
    };
    let op = match name {
        "eq" => Op::Eq(json),
        "ne" => Op::Ne(json),
        "lt" | "le" | "gt" | "ge" => {
            if !(json.is_number()
                || json
                    .as_str()
                    .is_some_and(|s| s.contains('$') || s.trim().parse::<f64>().is_ok()))
            {
                ctx.error(here, format!("`{name}` takes a number"));
                return None;
            }
            match name {
                "lt" => Op::Lt(json),
                "le" => Op::Le(json),
                "gt" => Op::Gt(json),
                _ => Op::Ge(json),
            }
        }
        "contains" => Op::Contains(json),
        "matches" => return matches(ctx, here, arg),
        "exists" => match arg.as_bool() {
            Some(b) => Op::Exists(b),
            None => {
                ctx.error(here, "`exists` takes true or false");
                return None;
            }
        },
        "type" => match arg.as_str().and_then(JsonType::parse) {
            Some(t) => Op::Type(t),
            None => {
                ctx.error(
                    here,
                    "`type` is one of string, number, integer, boolean, array, object, null",
                );
                return None;
            }
        },
        "length" => Op::Length(length(ctx)?),
        "min_length" => Op::MinLength(length(ctx)?),
        "max_length" => Op::MaxLength(length(ctx)?),
        "one_of" => match json {
            serde_json::Value::Array(items) => Op::OneOf(items),
            _ => {
                ctx.error(here, "`one_of` takes a list");
                return None;
            }
        },
        other => {
            let hint = ctx.hint(other, OPERATORS.iter().copied());
            ctx.error(
                here,
                format!(
                    "unknown operator `{other}` (operators: {}){hint}",
                    OPERATORS.join(", ")
                ),
            );
            return None;
        }
    };
    Some(op)
}

/// `matches`: a regex compiled now, or kept as text when it holds `${var}`.
fn matches(ctx: &mut Ctx, here: &[Seg], arg: &Value) -> Option<Op> {
    let Some(src) = arg.as_str() else {
        ctx.error(here, "`matches` takes a regular expression string");
        return None;
    };
    if src.contains("${") {
        return Some(Op::Matches(src.to_string(), None));
    }
    match Regex::new(src) {
        Ok(re) => Some(Op::Matches(src.to_string(), Some(re))),
        Err(e) => {
            ctx.error(here, format!("invalid regex {src:?}: {}", regex_error(&e)));
            None
        }
    }
}
