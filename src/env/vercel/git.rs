//! The current commit and branch (docs/environments.md, "Current commit and branch").

use super::github::read_event;
use crate::env::options::ResolveOptions;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};

/// The current commit and branch, looked up once and only when a step needs them.
#[derive(Debug, Default)]
pub(super) struct GitContext {
    commit: Option<Option<String>>,
    branch: Option<Option<String>>,
}

impl GitContext {
    pub(super) fn commit(&mut self, opts: &ResolveOptions<'_>) -> Option<String> {
        self.commit.get_or_insert_with(|| current_commit(opts)).clone()
    }
    pub(super) fn branch(&mut self, opts: &ResolveOptions<'_>) -> Option<String> {
        self.branch.get_or_insert_with(|| current_branch(opts)).clone()
    }
}

/// The current commit: `VERCEL_GIT_COMMIT_SHA`; on `pull_request` events the event file's
/// `pull_request.head.sha` (`GITHUB_SHA` is a merge commit there); `GITHUB_SHA`; then
/// `git rev-parse HEAD` in `opts.cwd`.
pub fn current_commit(opts: &ResolveOptions<'_>) -> Option<String> {
    if let Some(sha) = opts.var("VERCEL_GIT_COMMIT_SHA") {
        return Some(sha);
    }
    if matches!(
        opts.var("GITHUB_EVENT_NAME").as_deref(),
        Some("pull_request" | "pull_request_target")
    ) && let Some(sha) = read_event(opts).ok().and_then(|event| {
        event
            .pointer("/pull_request/head/sha")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    }) {
        return Some(sha);
    }
    if let Some(sha) = opts.var("GITHUB_SHA") {
        return Some(sha);
    }
    git(opts.cwd, &["rev-parse", "HEAD"])
}

/// The current branch: `VERCEL_GIT_COMMIT_REF`, `GITHUB_HEAD_REF`, `GITHUB_REF_NAME`, then
/// `git rev-parse --abbrev-ref HEAD` (a detached `HEAD` does not count).
pub fn current_branch(opts: &ResolveOptions<'_>) -> Option<String> {
    ["VERCEL_GIT_COMMIT_REF", "GITHUB_HEAD_REF", "GITHUB_REF_NAME"]
        .iter()
        .find_map(|name| opts.var(name))
        .or_else(|| git(opts.cwd, &["rev-parse", "--abbrev-ref", "HEAD"]).filter(|b| b != "HEAD"))
}

fn git(cwd: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}
