//! From YAML text to a validated [`Suite`]: serde for the shape (with serde_yaml's positioned
//! errors), then a pass that converts the free-form parts (status, latency, matchers, captures)
//! and checks what serde cannot (names, dependencies, regexes, JSONPath).

use super::*;
use crate::assert::{JsonType, OPERATORS, Op};
use crate::suggest::closest;
use crate::yaml::{Positions, Seg, check_nesting, error as yaml_error, kind as yaml_kind, one_line};
use serde::Deserialize;
use serde_yaml::{Mapping, Value};
use std::collections::{BTreeSet, HashMap};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuite {
    customer: String,
    title: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    variables: Mapping,
    #[serde(default)]
    defaults: RawDefaults,
    checks: Vec<RawCheck>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    timeout: Option<Value>,
    retries: Option<u32>,
    follow_redirects: Option<bool>,
    #[serde(default)]
    headers: Mapping,
    expect: Option<RawExpect>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    name: String,
    request: RawRequest,
    expect: Option<RawExpect>,
    #[serde(default)]
    capture: Mapping,
    #[serde(default)]
    needs: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    environments: Option<Vec<String>>,
    samples: Option<u32>,
    concurrency: Option<usize>,
    retries: Option<u32>,
    timeout: Option<Value>,
    follow_redirects: Option<bool>,
    poll: Option<RawPoll>,
    #[serde(default)]
    optional: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    method: Option<String>,
    path: Option<String>,
    url: Option<String>,
    #[serde(default)]
    query: Mapping,
    #[serde(default)]
    headers: Mapping,
    json: Option<Value>,
    body: Option<String>,
    form: Option<Mapping>,
    body_file: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    status: Option<Value>,
    latency: Option<Value>,
    availability: Option<f64>,
    #[serde(default)]
    headers: Mapping,
    #[serde(default)]
    json: Mapping,
    body: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPoll {
    every: Value,
    #[serde(rename = "for")]
    within: Value,
}

impl RawExpect {
    /// `defaults.expect` under the check's own: scalars are replaced, maps merge key by key.
    fn merged_over(own: Option<RawExpect>, defaults: Option<&RawExpect>) -> RawExpect {
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
    let mut slots: Vec<Option<(Value, Value)>> = Vec::new();
    let mut slot_of: HashMap<Value, usize> = HashMap::new();
    for (k, v) in base.iter().map(|(k, v)| (k.clone(), v.clone())).chain(over) {
        if let Some(earlier) = slot_of.insert(key_of(&k), slots.len()) {
            slots[earlier] = None;
        }
        slots.push(Some((k, v)));
    }
    slots.into_iter().flatten().collect()
}

/// Collects errors for one file.
struct Ctx<'a> {
    file: &'a str,
    positions: Positions,
    errors: Vec<SuiteError>,
    /// Did-you-mean suggestions left for this file: each compares against a list the file may
    /// make long, so a file with thousands of unknown names must not compute thousands.
    hints_left: usize,
}

type Path_ = Vec<Seg>;

fn path(base: &[Seg], more: &[Seg]) -> Path_ {
    let mut p = base.to_vec();
    p.extend_from_slice(more);
    p
}

impl Ctx<'_> {
    fn error(&mut self, at: &[Seg], message: impl Into<String>) {
        let pos = self.positions.of(at);
        let message = one_line(&message.into());
        self.errors
            .push(SuiteError::new(self.file, pos.line, pos.column, message));
    }

    fn pos(&self, at: &[Seg]) -> Pos {
        self.positions.of(at)
    }

    /// [`closest`], while this file's budget of suggestions lasts.
    fn closest<'o>(&mut self, word: &str, options: impl IntoIterator<Item = &'o str>) -> Option<&'o str> {
        self.hints_left = self.hints_left.checked_sub(1)?;
        closest(word, options)
    }
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
    let positions = check_nesting(text, file).map_err(|e| vec![e])?;
    let raw: RawSuite = match serde_yaml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            // serde_yaml deserializes the events read before a syntax error and reports that
            // error only once they run out, so a shape error the broken syntax caused (`missing
            // field `request``) would hide it. The syntax error is the cause: report it instead.
            let e = serde_yaml::from_str::<serde::de::IgnoredAny>(text)
                .err()
                .unwrap_or(e);
            let mut error = yaml_error(&e, file);
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
            return Err(vec![error]);
        }
    };
    let mut ctx = Ctx {
        file,
        positions,
        errors: Vec::new(),
        hints_left: 20,
    };
    let suite = convert_suite(&mut ctx, raw, path_on_disk, known_environments);
    if ctx.errors.is_empty() {
        Ok(suite)
    } else {
        ctx.errors.sort_by_key(|e| (e.line, e.column));
        Err(ctx.errors)
    }
}

fn mapping_key(ctx: &mut Ctx, at: &[Seg], key: &Value) -> Option<String> {
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
fn string_map(ctx: &mut Ctx, at: &[Seg], map: &Mapping, what: &str) -> Vec<(String, String)> {
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

fn yaml_to_json(ctx: &mut Ctx, at: &[Seg], v: &Value) -> serde_json::Value {
    match serde_json::to_value(v) {
        Ok(j) => j,
        Err(e) => {
            ctx.error(at, format!("cannot be turned into JSON: {e}"));
            serde_json::Value::Null
        }
    }
}

/// Brackets and parentheses nested in a JSONPath, at most. serde_json_path's parser takes time
/// exponential in nested filters (`$[?@[?@[?@…]]]`: 12 levels take 70 ms in a debug build, 20
/// seconds, 64 forever) and recurses once per level; real queries nest two or three.
const MAX_JSONPATH_NESTING: usize = 5;

/// [`JsonQuery::parse`], refusing first what it would take too long (or too much stack) to parse.
fn json_query(source: &str) -> Result<JsonQuery, String> {
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

/// The regex crate's syntax errors span several lines (the pattern, a caret, then `error: …`);
/// a suite error is one `FILE:LINE:COLUMN: message` line, so keep the last, which says what is
/// wrong.
fn regex_error(e: &regex::Error) -> String {
    let text = e.to_string();
    let last = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
    last.trim().trim_start_matches("error: ").to_string()
}

fn duration(ctx: &mut Ctx, at: &[Seg], v: &Value) -> Option<Duration> {
    match crate::duration::from_yaml(v) {
        Ok(d) => Some(d),
        Err(e) => {
            ctx.error(at, e);
            None
        }
    }
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
    let from_defaults = raw.defaults.headers.len()
        + raw
            .defaults
            .expect
            .as_ref()
            .map_or(0, |e| e.headers.len() + e.json.len());
    let inherited = raw.tags.len() + from_defaults;
    let copies = inherited.saturating_mul(raw.checks.len());
    if copies > MAX_INHERITED_COPIES {
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
        return Suite {
            file: ctx.file.to_string(),
            title: raw.customer.clone(),
            customer: raw.customer,
            variables: Vec::new(),
            checks: Vec::new(),
        };
    }
    let variables: Vec<Variable> = string_map(ctx, &["variables".into()], &raw.variables, "variable")
        .into_iter()
        .map(|(name, template)| {
            let pos = ctx.pos(&["variables".into(), Seg::Key(name.clone())]);
            Variable { name, template, pos }
        })
        .collect();
    for v in &variables {
        if let Err(e) = crate::vars::parse(&v.template) {
            ctx.error(&["variables".into(), Seg::Key(v.name.clone())], e);
        }
    }

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

    let mut checks = Vec::new();
    let mut names: HashMap<String, usize> = HashMap::new();
    for (i, rc) in raw.checks.into_iter().enumerate() {
        let at: Path_ = vec!["checks".into(), Seg::Index(i)];
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
        let check = convert_check(
            ctx,
            &at,
            rc,
            &raw.tags,
            &default_headers,
            default_timeout,
            &raw.defaults,
            &suite_dir,
            known_envs,
        );
        checks.push(check);
    }

    link_dependencies(ctx, &mut checks, &names);

    Suite {
        file: ctx.file.to_string(),
        title: raw.title.unwrap_or_else(|| raw.customer.clone()),
        customer: raw.customer,
        variables,
        checks,
    }
}

#[allow(clippy::too_many_arguments)]
fn convert_check(
    ctx: &mut Ctx,
    at: &[Seg],
    rc: RawCheck,
    suite_tags: &[String],
    default_headers: &[(String, String)],
    default_timeout: Option<Duration>,
    defaults: &RawDefaults,
    suite_dir: &std::path::Path,
    known_envs: &[String],
) -> Check {
    let mut templates = Vec::new();
    let site = |ctx: &Ctx, where_: &[Seg], text: &str, templates: &mut Vec<TemplateSite>| {
        if text.contains('$') {
            templates.push(TemplateSite {
                text: text.to_string(),
                pos: ctx.pos(where_),
            });
        }
    };

    // Request.
    let rq_at = path(at, &["request".into()]);
    let r = rc.request;
    let method = r
        .method
        .clone()
        .unwrap_or_else(|| "GET".to_string())
        .to_ascii_uppercase();
    if method.is_empty()
        || !method
            .bytes()
            .all(|b| b.is_ascii_alphabetic() || b == b'-' || b == b'_')
    {
        ctx.error(
            &path(&rq_at, &["method".into()]),
            format!("invalid HTTP method {method:?}"),
        );
    }
    let target = match (&r.path, &r.url) {
        (Some(p), None) => {
            site(ctx, &path(&rq_at, &["path".into()]), p, &mut templates);
            RequestTarget::Path(p.clone())
        }
        (None, Some(u)) => {
            site(ctx, &path(&rq_at, &["url".into()]), u, &mut templates);
            RequestTarget::Url(u.clone())
        }
        (Some(_), Some(_)) => {
            ctx.error(
                &path(&rq_at, &["url".into()]),
                "a request takes `path` or `url`, not both",
            );
            RequestTarget::Path(String::new())
        }
        (None, None) => {
            ctx.error(
                &rq_at,
                "a request needs `path` (joined onto the base URL) or `url` (absolute)",
            );
            RequestTarget::Path(String::new())
        }
    };
    let query = string_map(ctx, &path(&rq_at, &["query".into()]), &r.query, "query parameter");
    for (k, v) in &query {
        site(
            ctx,
            &path(&rq_at, &["query".into(), Seg::Key(k.clone())]),
            v,
            &mut templates,
        );
    }
    let own_headers = string_map(ctx, &path(&rq_at, &["headers".into()]), &r.headers, "header");
    // Merged by case-insensitive name, later wins, in one pass (a check may carry many headers).
    let mut slots: Vec<Option<(String, String)>> = Vec::new();
    let mut slot_of: HashMap<String, usize> = HashMap::new();
    for (k, v) in default_headers.iter().chain(own_headers.iter()) {
        if let Some(earlier) = slot_of.insert(k.to_ascii_lowercase(), slots.len()) {
            slots[earlier] = None;
        }
        slots.push(Some((k.clone(), v.clone())));
    }
    let headers: Vec<(String, String)> = slots.into_iter().flatten().collect();
    for (k, v) in &headers {
        if reqwest::header::HeaderName::from_bytes(k.as_bytes()).is_err() {
            ctx.error(
                &path(&rq_at, &["headers".into(), Seg::Key(k.clone())]),
                format!("invalid header name {k:?}"),
            );
        }
        site(
            ctx,
            &path(&rq_at, &["headers".into(), Seg::Key(k.clone())]),
            v,
            &mut templates,
        );
    }
    let bodies: Vec<&str> = [
        r.json.as_ref().map(|_| "json"),
        r.body.as_ref().map(|_| "body"),
        r.form.as_ref().map(|_| "form"),
        r.body_file.as_ref().map(|_| "body_file"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let body = if bodies.len() > 1 {
        ctx.error(
            &path(&rq_at, &[Seg::Key(bodies[1].to_string())]),
            format!(
                "a request takes at most one body, found `{}`",
                bodies.join("` and `")
            ),
        );
        BodyTemplate::None
    } else if let Some(j) = &r.json {
        let value = yaml_to_json(ctx, &path(&rq_at, &["json".into()]), j);
        collect_json_strings(&value, &mut |s| {
            site(ctx, &path(&rq_at, &["json".into()]), s, &mut templates)
        });
        BodyTemplate::Json(value)
    } else if let Some(b) = &r.body {
        site(ctx, &path(&rq_at, &["body".into()]), b, &mut templates);
        BodyTemplate::Text(b.clone())
    } else if let Some(f) = &r.form {
        let form = string_map(ctx, &path(&rq_at, &["form".into()]), f, "form field");
        for (k, v) in &form {
            site(
                ctx,
                &path(&rq_at, &["form".into(), Seg::Key(k.clone())]),
                v,
                &mut templates,
            );
        }
        BodyTemplate::Form(form)
    } else if let Some(file) = &r.body_file {
        let full = suite_dir.join(file);
        match std::fs::read(&full) {
            Ok(bytes) => {
                let content_type = match full.extension().and_then(|e| e.to_str()) {
                    Some("json") => "application/json",
                    Some("txt") => "text/plain; charset=utf-8",
                    Some("xml") => "application/xml",
                    _ => "application/octet-stream",
                };
                BodyTemplate::File { bytes, content_type }
            }
            Err(e) => {
                ctx.error(
                    &path(&rq_at, &["body_file".into()]),
                    format!("cannot read body_file {}: {e}", full.display()),
                );
                BodyTemplate::None
            }
        }
    } else {
        BodyTemplate::None
    };

    // Expect.
    let ex_at = path(at, &["expect".into()]);
    let raw_expect = RawExpect::merged_over(rc.expect, defaults.expect.as_ref());
    let expect = convert_expect(ctx, &ex_at, &raw_expect, &mut templates);

    // Captures.
    let mut captures = Vec::new();
    for (k, v) in &rc.capture {
        let cap_at = path(at, &["capture".into()]);
        let Some(name) = mapping_key(ctx, &cap_at, k) else {
            continue;
        };
        let here = path(&cap_at, &[Seg::Key(name.clone())]);
        if crate::vars::parse(&format!("${{{name}}}")).is_err() {
            ctx.error(
                &here,
                format!("invalid capture name `{name}` (letters, digits, `_`, `-` and `.`)"),
            );
            continue;
        }
        let source = match v {
            Value::String(q) => match json_query(q) {
                Ok(q) => Some(CaptureSource::Json(q)),
                Err(e) => {
                    ctx.error(&here, e);
                    None
                }
            },
            Value::Mapping(m) if m.len() == 1 => {
                let (kind, arg) = m.iter().next().expect("one entry");
                match (kind.as_str(), arg.as_str()) {
                    (Some("header"), Some(h)) => Some(CaptureSource::Header(h.to_ascii_lowercase())),
                    (Some("regex"), Some(re)) => match Regex::new(re) {
                        Ok(re) if re.captures_len() >= 2 => Some(CaptureSource::Regex(re)),
                        Ok(_) => {
                            ctx.error(
                                &here,
                                format!("capture regex {re:?} needs a group `( )` to capture"),
                            );
                            None
                        }
                        Err(e) => {
                            ctx.error(&here, format!("invalid regex {re:?}: {}", regex_error(&e)));
                            None
                        }
                    },
                    (Some("json"), Some(q)) => match json_query(q) {
                        Ok(q) => Some(CaptureSource::Json(q)),
                        Err(e) => {
                            ctx.error(&here, e);
                            None
                        }
                    },
                    (Some(other), _) => {
                        let hint = ctx
                            .closest(other, ["header", "regex", "json"])
                            .map(|b| format!("; did you mean `{b}`?"))
                            .unwrap_or_default();
                        ctx.error(&here, format!("unknown capture source `{other}` (use a JSONPath, `header:` or `regex:`){hint}"));
                        None
                    }
                    _ => {
                        ctx.error(&here, "a capture source takes a string");
                        None
                    }
                }
            }
            other => {
                ctx.error(&here, format!("a capture is a JSONPath string, `{{ header: NAME }}` or `{{ regex: PATTERN }}`, found {}", yaml_kind(other)));
                None
            }
        };
        if let Some(source) = source {
            captures.push(Capture { name, source });
        }
    }

    // The rest.
    let mut tags: Vec<String> = suite_tags.to_vec();
    let mut seen: BTreeSet<String> = tags.iter().cloned().collect();
    for t in rc.tags {
        if seen.insert(t.clone()) {
            tags.push(t);
        }
    }
    if let Some(envs) = &rc.environments {
        for (j, e) in envs.iter().enumerate() {
            if !known_envs.contains(e) {
                let hint = ctx
                    .closest(e, known_envs.iter().map(String::as_str))
                    .map(|b| format!("; did you mean `{b}`?"))
                    .unwrap_or_default();
                ctx.error(
                    &path(at, &["environments".into(), Seg::Index(j)]),
                    format!(
                        "unknown environment `{e}` (known: {}){hint}",
                        known_envs.join(", ")
                    ),
                );
            }
        }
    }
    if rc.samples == Some(0) {
        ctx.error(&path(at, &["samples".into()]), "`samples` must be at least 1");
    }
    if rc.poll.is_some() && rc.samples.is_some_and(|n| n > 1) {
        ctx.error(
            &path(at, &["poll".into()]),
            "`poll` and `samples` do not mix: polling waits for one answer to pass, sampling judges many",
        );
    }
    if rc.concurrency == Some(0) {
        ctx.error(
            &path(at, &["concurrency".into()]),
            "`concurrency` must be at least 1",
        );
    }
    let timeout = match &rc.timeout {
        Some(v) => duration(ctx, &path(at, &["timeout".into()]), v),
        None => default_timeout,
    };
    let poll = rc.poll.as_ref().and_then(|p| {
        let every = duration(ctx, &path(at, &["poll".into(), "every".into()]), &p.every)?;
        let within = duration(ctx, &path(at, &["poll".into(), "for".into()]), &p.within)?;
        Some(Poll { every, within })
    });

    Check {
        name: rc.name,
        pos: ctx.pos(at),
        request: RequestTemplate {
            method,
            target,
            query,
            headers,
            body,
        },
        expect,
        captures,
        needs: rc.needs,
        depends_on: Vec::new(),
        tags,
        environments: rc.environments,
        samples: rc.samples,
        concurrency: rc.concurrency,
        retries: rc.retries.or(defaults.retries),
        timeout,
        follow_redirects: rc.follow_redirects.or(defaults.follow_redirects).unwrap_or(false),
        poll,
        optional: rc.optional,
        templates,
    }
}

fn collect_json_strings(v: &serde_json::Value, f: &mut dyn FnMut(&str)) {
    match v {
        serde_json::Value::String(s) => f(s),
        serde_json::Value::Array(items) => items.iter().for_each(|i| collect_json_strings(i, f)),
        serde_json::Value::Object(map) => map.values().for_each(|i| collect_json_strings(i, f)),
        _ => {}
    }
}

fn convert_expect(ctx: &mut Ctx, at: &[Seg], raw: &RawExpect, templates: &mut Vec<TemplateSite>) -> Expect {
    let mut expect = Expect::default();
    if let Some(s) = &raw.status {
        let here = path(at, &["status".into()]);
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
                    ctx.error(&here, format!("invalid status{found} (a code 100-599, a list of codes, or a class \"1xx\"..\"5xx\")"));
                    None
                }
            }
        };
        expect.status = match s {
            Value::String(text) if text.to_ascii_lowercase().contains('x') => {
                match StatusExpect::parse_class(text) {
                    Some(class) => class,
                    None => {
                        ctx.error(
                            &here,
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
        };
    }
    if let Some(l) = &raw.latency {
        let here = path(at, &["latency".into()]);
        match l {
            Value::Mapping(m) => {
                for (k, v) in m {
                    let key = k.as_str().unwrap_or("");
                    let key_at = path(&here, &[Seg::Key(key.to_string())]);
                    let d = duration(ctx, &key_at, v);
                    let slot = match key {
                        "p50" => &mut expect.latency_limits.p50,
                        "p90" => &mut expect.latency_limits.p90,
                        "p95" => &mut expect.latency_limits.p95,
                        "p99" => &mut expect.latency_limits.p99,
                        "max" => &mut expect.latency_limits.max,
                        other => {
                            let hint = ctx
                                .closest(other, ["p50", "p90", "p95", "p99", "max"])
                                .map(|b| format!("; did you mean `{b}`?"))
                                .unwrap_or_default();
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
            other => expect.latency = duration(ctx, &here, other),
        }
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
        if let Some(m) = matcher(ctx, &here, v, templates) {
            expect.headers.push((name.to_ascii_lowercase(), m));
        }
    }
    for (k, v) in &raw.json {
        let json_at = path(at, &["json".into()]);
        let Some(query) = mapping_key(ctx, &json_at, k) else {
            continue;
        };
        let here = path(&json_at, &[Seg::Key(query.clone())]);
        let q = match json_query(&query) {
            Ok(q) => Some(q),
            Err(e) => {
                ctx.error(&here, e);
                None
            }
        };
        if let (Some(q), Some(m)) = (q, matcher(ctx, &here, v, templates)) {
            expect.json.push((q, m));
        }
    }
    if let Some(b) = &raw.body {
        expect.body = matcher(ctx, &path(at, &["body".into()]), b, templates);
    }
    expect
}

/// A plain value means equality; a map holds operators, all of which must hold.
fn matcher(ctx: &mut Ctx, at: &[Seg], v: &Value, templates: &mut Vec<TemplateSite>) -> Option<Matcher> {
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
        let length = |ctx: &mut Ctx| -> Option<usize> {
            let n = arg.as_u64();
            if n.is_none() {
                ctx.error(&here, format!("`{name}` takes a whole number"));
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
                    ctx.error(&here, format!("`{name}` takes a number"));
                    continue;
                }
                match name {
                    "lt" => Op::Lt(json),
                    "le" => Op::Le(json),
                    "gt" => Op::Gt(json),
                    _ => Op::Ge(json),
                }
            }
            "contains" => Op::Contains(json),
            "matches" => {
                let Some(src) = arg.as_str() else {
                    ctx.error(&here, "`matches` takes a regular expression string");
                    continue;
                };
                if src.contains("${") {
                    Op::Matches(src.to_string(), None)
                } else {
                    match Regex::new(src) {
                        Ok(re) => Op::Matches(src.to_string(), Some(re)),
                        Err(e) => {
                            ctx.error(&here, format!("invalid regex {src:?}: {}", regex_error(&e)));
                            continue;
                        }
                    }
                }
            }
            "exists" => match arg.as_bool() {
                Some(b) => Op::Exists(b),
                None => {
                    ctx.error(&here, "`exists` takes true or false");
                    continue;
                }
            },
            "type" => match arg.as_str().and_then(JsonType::parse) {
                Some(t) => Op::Type(t),
                None => {
                    ctx.error(
                        &here,
                        "`type` is one of string, number, integer, boolean, array, object, null",
                    );
                    continue;
                }
            },
            "length" => match length(ctx) {
                Some(n) => Op::Length(n),
                None => continue,
            },
            "min_length" => match length(ctx) {
                Some(n) => Op::MinLength(n),
                None => continue,
            },
            "max_length" => match length(ctx) {
                Some(n) => Op::MaxLength(n),
                None => continue,
            },
            "one_of" => match json {
                serde_json::Value::Array(items) => Op::OneOf(items),
                _ => {
                    ctx.error(&here, "`one_of` takes a list");
                    continue;
                }
            },
            other => {
                let hint = ctx
                    .closest(other, OPERATORS.iter().copied())
                    .map(|b| format!("; did you mean `{b}`?"))
                    .unwrap_or_default();
                ctx.error(
                    &here,
                    format!(
                        "unknown operator `{other}` (operators: {}){hint}",
                        OPERATORS.join(", ")
                    ),
                );
                continue;
            }
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

/// Resolves `needs` and capture-use into `depends_on`, and reports unknown names, shared
/// capture names and cycles.
fn link_dependencies(ctx: &mut Ctx, checks: &mut [Check], names: &HashMap<String, usize>) {
    let mut captured_by: HashMap<String, usize> = HashMap::new();
    for (i, c) in checks.iter().enumerate() {
        for cap in &c.captures {
            if let Some(&first) = captured_by.get(&cap.name) {
                let first_name = checks[first].name.clone();
                ctx.error(
                    &["checks".into(), Seg::Index(i), "capture".into(), Seg::Key(cap.name.clone())],
                    format!("`{}` is already captured by check {first_name:?}; two checks cannot capture one name", cap.name),
                );
            } else {
                captured_by.insert(cap.name.clone(), i);
            }
        }
    }
    for (i, check) in checks.iter_mut().enumerate() {
        let mut deps = BTreeSet::new();
        for (j, name) in check.needs.clone().into_iter().enumerate() {
            match names.get(&name) {
                Some(&k) if k == i => ctx.error(
                    &["checks".into(), Seg::Index(i), "needs".into(), Seg::Index(j)],
                    format!("check {name:?} cannot need itself"),
                ),
                Some(&k) => {
                    deps.insert(k);
                }
                None => {
                    let own = check.name.as_str();
                    let hint = ctx
                        .closest(&name, names.keys().map(String::as_str).filter(|n| *n != own))
                        .map(|b| format!("; did you mean {b:?}?"))
                        .unwrap_or_default();
                    ctx.error(
                        &["checks".into(), Seg::Index(i), "needs".into(), Seg::Index(j)],
                        format!("`needs` names no check of this suite: {name:?}{hint}"),
                    );
                }
            }
        }
        for t in &check.templates {
            for (var, _) in crate::vars::references(&t.text) {
                if let Some(&k) = captured_by.get(&var)
                    && k != i
                {
                    deps.insert(k);
                }
            }
        }
        check.depends_on = deps.into_iter().collect();
    }
    if let Some(cycle) = find_cycle(checks) {
        let names: Vec<String> = cycle.iter().map(|&i| format!("{:?}", checks[i].name)).collect();
        ctx.error(
            &["checks".into(), Seg::Index(cycle[0])],
            format!("dependency cycle: {} -> {}", names.join(" -> "), names[0]),
        );
    }
}

fn find_cycle(checks: &[Check]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut marks = vec![Mark::New; checks.len()];
    for root in 0..checks.len() {
        if marks[root] != Mark::New {
            continue;
        }
        // Depth-first with an explicit stack of (check, next dependency to look at): a chain of
        // `needs` is as long as the file allows, far deeper than recursion can go.
        marks[root] = Mark::Open;
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some(top) = stack.last_mut() {
            let (i, next) = *top;
            top.1 += 1;
            let Some(&d) = checks[i].depends_on.get(next) else {
                marks[i] = Mark::Done;
                stack.pop();
                continue;
            };
            match marks[d] {
                Mark::Open => {
                    let start = stack.iter().position(|&(s, _)| s == d).unwrap_or(0);
                    return Some(stack[start..].iter().map(|&(s, _)| s).collect());
                }
                Mark::New => {
                    marks[d] = Mark::Open;
                    stack.push((d, 0));
                }
                Mark::Done => {}
            }
        }
    }
    None
}
