//! One check: its request, `expect` and captures (each in its own file), and the settings that
//! are the check's alone (tags, environments, samples, concurrency, timeout, poll), with the
//! suite's `defaults` applied.

use super::context::{Ctx, duration, path};
use super::expect::RawExpect;
use super::loader::RawDefaults;
use super::request::RawRequest;
use super::{Check, Poll};
use crate::yaml::Seg;
use serde::Deserialize;
use serde_yaml::{Mapping, Value};
use std::collections::BTreeSet;
use std::time::Duration;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCheck {
    pub name: String,
    request: RawRequest,
    expect: Option<RawExpect>,
    #[serde(default, deserialize_with = "crate::yaml::lenient::mapping")]
    capture: Mapping,
    #[serde(default)]
    needs: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    environments: Option<Vec<String>>,
    samples: Option<u32>,
    concurrency: Option<usize>,
    retries: Option<u32>,
    #[serde(default, deserialize_with = "crate::yaml::lenient::opt_value")]
    timeout: Option<Value>,
    follow_redirects: Option<bool>,
    poll: Option<RawPoll>,
    #[serde(default)]
    optional: bool,
    rate: Option<String>,
    cookies: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPoll {
    #[serde(deserialize_with = "crate::yaml::lenient::value")]
    every: Value,
    #[serde(rename = "for", deserialize_with = "crate::yaml::lenient::value")]
    within: Value,
}

/// What every check of a suite takes from it: its tags and `defaults`, the folder a `body_file`
/// is read from, and the environment names `environments:` may use.
pub(super) struct SuiteScope<'a> {
    /// The suite's OpenAPI document, if any.
    pub openapi: Option<std::sync::Arc<crate::contract::openapi::OpenApi>>,
    /// The suite file: schemas and documents are read relative to it.
    pub file: &'a std::path::Path,
    pub tags: &'a [String],
    /// `defaults.headers`, read.
    pub headers: &'a [(String, String)],
    /// `defaults.timeout`, read.
    pub timeout: Option<Duration>,
    pub defaults: &'a RawDefaults,
    pub dir: &'a std::path::Path,
    pub known_envs: &'a [String],
}

pub(super) fn convert_check(ctx: &mut Ctx, at: &[Seg], rc: RawCheck, scope: &SuiteScope) -> Check {
    check_sampling(ctx, at, &rc);
    let mut templates = Vec::new();
    let request = super::request::convert(
        ctx,
        &path(at, &["request".into()]),
        &rc.request,
        scope,
        &mut templates,
    );
    let raw_expect = RawExpect::merged_over(rc.expect, scope.defaults.expect.as_ref());
    let mut expect = super::expect::convert(ctx, &path(at, &["expect".into()]), &raw_expect, &mut templates);
    super::expect::contract(ctx, at, &raw_expect, scope, &mut templates, &mut expect);
    let captures = super::capture::convert(ctx, &path(at, &["capture".into()]), &rc.capture);

    let mut tags: Vec<String> = scope.tags.to_vec();
    let mut seen: BTreeSet<String> = tags.iter().cloned().collect();
    for t in rc.tags {
        if seen.insert(t.clone()) {
            tags.push(t);
        }
    }
    if let Some(envs) = &rc.environments {
        check_environments(ctx, at, envs, scope.known_envs);
    }
    let timeout = match &rc.timeout {
        Some(v) => duration(ctx, &path(at, &["timeout".into()]), v),
        None => scope.timeout,
    };
    let rate = rc
        .rate
        .as_deref()
        .and_then(|r| match crate::rate::Rate::parse(r) {
            Ok(rate) => Some(rate),
            Err(why) => {
                ctx.error(&path(at, &["rate".into()]), why);
                None
            }
        });
    let poll = rc.poll.as_ref().and_then(|p| {
        let every = duration(ctx, &path(at, &["poll".into(), "every".into()]), &p.every)?;
        let within = duration(ctx, &path(at, &["poll".into(), "for".into()]), &p.within)?;
        Some(Poll { every, within })
    });

    Check {
        name: rc.name,
        pos: ctx.pos(at),
        request,
        expect,
        captures,
        needs: rc.needs,
        depends_on: Vec::new(),
        tags,
        environments: rc.environments,
        samples: rc.samples,
        concurrency: rc.concurrency,
        retries: rc.retries.or(scope.defaults.retries),
        timeout,
        follow_redirects: rc
            .follow_redirects
            .or(scope.defaults.follow_redirects)
            .unwrap_or(false),
        poll,
        optional: rc.optional,
        rate,
        cookies: rc.cookies.unwrap_or(true),
        templates,
    }
}

/// `samples`, `concurrency` and `poll` that cannot go together or cannot be.
fn check_sampling(ctx: &mut Ctx, at: &[Seg], rc: &RawCheck) {
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
}

fn check_environments(ctx: &mut Ctx, at: &[Seg], envs: &[String], known_envs: &[String]) {
    for (j, e) in envs.iter().enumerate() {
        if !known_envs.contains(e) {
            let hint = ctx.hint(e, known_envs.iter().map(String::as_str));
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
