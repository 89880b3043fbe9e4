//! From YAML text to a validated [`Suite`]: serde for the shape (with serde_yaml's positioned
//! errors), then a pass that converts the free-form parts and checks what serde cannot. This file
//! holds the suite level (`customer`, `variables`, `defaults`, the list of checks); each check is
//! [`super::check`]'s.

use super::check::{RawCheck, SuiteScope, convert_check};
use super::context::{At, Ctx, collect_json_strings, duration, mapping_key, path, string_map, yaml_to_json};
use super::expect::RawExpect;
use super::{Check, MAX_INHERITED_COPIES, Pos, Suite, SuiteError, Variable};
use crate::yaml::{Positions, Seg};
use serde::Deserialize;
use serde_yaml::{Mapping, Value};
use std::collections::HashMap;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuite {
    customer: String,
    title: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default, deserialize_with = "crate::yaml::lenient::mapping")]
    variables: Mapping,
    #[serde(default)]
    defaults: RawDefaults,
    checks: Vec<RawCheck>,
    openapi: Option<String>,
    cookies: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDefaults {
    #[serde(default, deserialize_with = "crate::yaml::lenient::opt_value")]
    timeout: Option<Value>,
    pub retries: Option<u32>,
    pub follow_redirects: Option<bool>,
    #[serde(default, deserialize_with = "crate::yaml::lenient::mapping")]
    headers: Mapping,
    pub expect: Option<RawExpect>,
    openapi: Option<String>,
}

pub(super) fn parse_suite(
    file: &str,
    path_on_disk: &std::path::Path,
    text: &str,
    known_environments: &[String],
) -> Result<Suite, Vec<SuiteError>> {
    if text.trim().is_empty()
        || text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Err(vec![SuiteError::new(
            file,
            1,
            1,
            "suite file is empty: it needs `customer` and `checks`",
        )]);
    }
    // Indexed first: the index also stops at absurd nesting, which serde_yaml (libyaml) would
    // take quadratic time to reject.
    let positions = crate::yaml::check_nesting(text, file).map_err(|e| vec![e])?;
    let raw: RawSuite = match serde_yaml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => return Err(vec![shape_error(e, text, file, &positions)]),
    };
    let mut ctx = Ctx {
        file,
        positions,
        errors: Vec::new(),
        hints_left: 20,
        schemas: HashMap::new(),
    };
    let suite = convert_suite(&mut ctx, raw, path_on_disk, known_environments);
    if ctx.errors.is_empty() {
        Ok(suite)
    } else {
        ctx.errors.sort_by_key(|e| (e.line, e.column));
        Err(ctx.errors)
    }
}

/// serde_yaml's error for a file that does not fit the suite's shape, pointed where it belongs.
fn shape_error(e: serde_yaml::Error, text: &str, file: &str, positions: &Positions) -> SuiteError {
    // serde_yaml deserializes the events read before a syntax error and reports that
    // error only once they run out, so a shape error the broken syntax caused (`missing
    // field `request``) would hide it. The syntax error is the cause: report it instead.
    let e = serde_yaml::from_str::<serde::de::IgnoredAny>(text)
        .err()
        .unwrap_or(e);
    let mut error = crate::yaml::error(&e, file);
    if let (None, Some(p)) = (e.location(), positions.second_document) {
        // serde_yaml gives no position for a second document.
        if error.message.starts_with("a second YAML document") {
            (error.line, error.column) = (p.line, p.column);
        }
    }
    if error.message.contains("duplicate field `") || error.message.contains("duplicate entry ") {
        // Reported at the start of the mapping; point at the repeated key instead.
        let from = Pos {
            line: error.line,
            column: error.column,
        };
        let name = error
            .message
            .split('`')
            .nth(1)
            .or_else(|| error.message.split('"').nth(1));
        if let Some(p) = positions.duplicate_key(from, name) {
            (error.line, error.column) = (p.line, p.column);
        }
    }
    error
}

fn convert_suite(
    ctx: &mut Ctx,
    raw: RawSuite,
    path_on_disk: &std::path::Path,
    known_envs: &[String],
) -> Suite {
    let suite_dir = path_on_disk
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    if raw.customer.trim().is_empty() {
        ctx.error(&["customer".into()], "`customer` must not be empty");
    }
    if raw.checks.is_empty() {
        ctx.error(&["checks".into()], "`checks` must hold at least one check");
    }
    if too_many_copies(ctx, &raw) {
        return Suite {
            file: ctx.file.to_string(),
            title: raw.customer.clone(),
            customer: raw.customer,
            variables: Vec::new(),
            checks: Vec::new(),
            cookies: raw.cookies.unwrap_or(true),
        };
    }
    let variables = variables(ctx, &raw.variables);
    let default_headers = string_map(
        ctx,
        &["defaults".into(), "headers".into()],
        &raw.defaults.headers,
        "header",
    );
    let default_timeout = raw
        .defaults
        .timeout
        .as_ref()
        .and_then(|v| duration(ctx, &["defaults".into(), "timeout".into()], v));
    let openapi = suite_openapi(ctx, &raw, path_on_disk);
    let scope = SuiteScope {
        openapi,
        file: path_on_disk,
        tags: &raw.tags,
        headers: &default_headers,
        timeout: default_timeout,
        defaults: &raw.defaults,
        dir: &suite_dir,
        known_envs,
    };
    let checks = checks(ctx, raw.checks, &scope);
    Suite {
        file: ctx.file.to_string(),
        title: raw.title.unwrap_or_else(|| raw.customer.clone()),
        customer: raw.customer,
        variables,
        checks,
        cookies: raw.cookies.unwrap_or(true),
    }
}

/// `openapi:` of the suite or of its `defaults` (docs/assertions.md#openapi), loaded once.
fn suite_openapi(
    ctx: &mut Ctx,
    raw: &RawSuite,
    path_on_disk: &std::path::Path,
) -> Option<std::sync::Arc<crate::contract::openapi::OpenApi>> {
    let (at, file): (Vec<Seg>, &String) = match (&raw.openapi, &raw.defaults.openapi) {
        (Some(_), Some(_)) => {
            ctx.error(
                &["defaults".into(), "openapi".into()],
                "`openapi` is set both on the suite and in `defaults`: set it once",
            );
            return None;
        }
        (Some(f), None) => (vec!["openapi".into()], f),
        (None, Some(f)) => (vec!["defaults".into(), "openapi".into()], f),
        (None, None) => return None,
    };
    super::contract::openapi(ctx, &at, file, path_on_disk)
}

/// Reports, and says so, when the checks would inherit more copies of the suite's tags and
/// `defaults` than [`MAX_INHERITED_COPIES`].
fn too_many_copies(ctx: &mut Ctx, raw: &RawSuite) -> bool {
    let from_defaults = raw.defaults.headers.len()
        + raw
            .defaults
            .expect
            .as_ref()
            .map_or(0, |e| e.headers.len() + e.json.len());
    let inherited = raw.tags.len() + from_defaults;
    let copies = inherited.saturating_mul(raw.checks.len());
    if copies <= MAX_INHERITED_COPIES {
        return false;
    }
    let at = if from_defaults >= raw.tags.len() {
        "defaults"
    } else {
        "tags"
    };
    ctx.error(
        &[at.into()],
        format!(
            "{} checks each inherit {inherited} suite tags and `defaults` entries: {copies} copies, \
             over the limit of {MAX_INHERITED_COPIES}; set them on the checks that need them, or split the suite",
            raw.checks.len()
        ),
    );
    true
}

/// `variables:`, each keeping its YAML type: a string, number, boolean, list or map.
fn variables(ctx: &mut Ctx, raw: &Mapping) -> Vec<Variable> {
    let mut variables = Vec::new();
    for (k, v) in raw {
        let Some(name) = mapping_key(ctx, &["variables".into()], k) else {
            continue;
        };
        let here: At = vec!["variables".into(), Seg::Key(name.clone())];
        if matches!(v, Value::Null | Value::Tagged(_)) {
            ctx.error(
                &here,
                format!(
                    "variable `{name}` must be a string, number, boolean, list or map, found {}",
                    crate::yaml::kind(v)
                ),
            );
            continue;
        }
        let value = yaml_to_json(ctx, &here, v);
        let mut bad = Vec::new();
        collect_json_strings(&value, &mut |s| {
            if let Err(e) = crate::vars::parse(s) {
                bad.push(e);
            }
        });
        for e in bad {
            ctx.error(&here, e);
        }
        let pos = ctx.pos(&here);
        variables.push(Variable { name, value, pos });
    }
    variables
}

/// Every check, names checked for uniqueness, dependencies linked.
fn checks(ctx: &mut Ctx, raw: Vec<RawCheck>, scope: &SuiteScope) -> Vec<Check> {
    let mut checks = Vec::new();
    let mut names: HashMap<String, usize> = HashMap::new();
    for (i, rc) in raw.into_iter().enumerate() {
        let at: At = vec!["checks".into(), Seg::Index(i)];
        if rc.name.trim().is_empty() {
            ctx.error(&path(&at, &["name".into()]), "a check's `name` must not be empty");
        }
        if let Some(first) = names.get(&rc.name) {
            let first_line = checks.get(*first).map(|c: &Check| c.pos.line).unwrap_or(0);
            ctx.error(
                &path(&at, &["name".into()]),
                format!(
                    "duplicate check name {:?} (first used on line {first_line})",
                    rc.name
                ),
            );
        } else {
            names.insert(rc.name.clone(), i);
        }
        checks.push(convert_check(ctx, &at, rc, scope));
    }
    super::dependencies::link(ctx, &mut checks, &names);
    checks
}
