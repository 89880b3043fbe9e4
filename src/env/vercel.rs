//! Vercel preview URL detection (spec 3.1).
//!
//! [`detect`] runs steps 2–5 (step 1, the explicit URL, is [`super::resolve`]'s): the Vercel
//! runtime variables, the GitHub `deployment_status` event, the Vercel REST API and the guessed
//! branch alias. Every step that does not apply says why, so a failed detection can list them.

use super::file::EnvironmentDef;
use super::options::{ResolveOptions, expand_field};
use crate::duration::fmt_compact;
use crate::error::Error;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

pub use super::options::POLL_INTERVAL;

/// The Vercel REST API, unless `VERCEL_API_URL` says otherwise.
pub const DEFAULT_API_URL: &str = "https://api.vercel.com";

/// The longest DNS label Vercel uses as is; longer branch aliases are shortened in an
/// undocumented way, so they cannot be guessed.
pub const MAX_LABEL_LEN: usize = 63;

/// How many recent deployments the API step asks for.
const LIST_LIMIT: u32 = 20;

/// A preview URL found by one of steps 2–5.
#[derive(Debug, Clone, PartialEq)]
pub struct Detected {
    /// As the source gave it (a bare host name gets its scheme from the caller).
    pub url: String,
    /// `VERCEL_BRANCH_URL`, `VERCEL_URL`, `deployment_status`, `vercel-api` or `guessed`.
    pub source: &'static str,
    pub warnings: Vec<String>,
}

/// Runs steps 2–5 of spec 3.1 in order. `def` is the `preview` entry of `environments.yaml`.
/// Errors ([`Error::Environment`], exit 3): a failing API step, or no step applied (then the
/// message lists every step and why it did not apply).
pub async fn detect(opts: &ResolveOptions<'_>, def: Option<&EnvironmentDef>) -> Result<Detected, Error> {
    let file = opts.file_name();
    let mut notes: Vec<(&str, String)> = Vec::new();

    // 1. Explicit: resolve() has tried them; say why none applied.
    let explicit = match (opts.environments, def.and_then(|d| d.base_url.as_ref())) {
        (None, _) => {
            "--base-url not given, ENDPOINT_CHECK_BASE_URL not set, no environments.yaml".to_string()
        }
        (Some(_), None) => {
            format!("--base-url not given, ENDPOINT_CHECK_BASE_URL not set, {file} sets no preview base_url")
        }
        (Some(_), Some(_)) => format!(
            "--base-url not given, ENDPOINT_CHECK_BASE_URL not set, preview base_url in {file} is empty"
        ),
    };
    notes.push(("explicit base URL", explicit));

    // 2. Vercel runtime variables.
    for name in ["VERCEL_BRANCH_URL", "VERCEL_URL"] {
        if let Some(url) = opts.var(name) {
            return Ok(found(url, name));
        }
    }
    notes.push((
        "Vercel runtime variables",
        "VERCEL_BRANCH_URL and VERCEL_URL are not set".to_string(),
    ));

    // 3. GitHub deployment_status event.
    match deployment_status(opts) {
        Ok(url) => return Ok(found(url, "deployment_status")),
        Err(why) => notes.push(("GitHub deployment_status event", why)),
    }

    let vercel = match def.and_then(|d| d.vercel.as_ref()) {
        Some(v) => Some(ExpandedConfig {
            project: expand_opt(opts, &v.project, "environments.preview.vercel.project")?,
            team: expand_opt(opts, &v.team, "environments.preview.vercel.team")?,
            project_id: expand_opt(opts, &v.project_id, "environments.preview.vercel.project_id")?,
            team_id: expand_opt(opts, &v.team_id, "environments.preview.vercel.team_id")?,
        }),
        None => None,
    };
    let vercel = vercel.unwrap_or_default();
    let mut git = GitContext::default();

    // 4. Vercel REST API.
    match api_step(opts, &vercel, &mut git).await? {
        Ok(found) => return Ok(found),
        Err(why) => notes.push(("Vercel REST API", why)),
    }

    // 5. Guessed branch alias.
    match guessed_step(opts, &vercel, &mut git) {
        Ok(url) => return Ok(found(url, "guessed")),
        Err(why) => notes.push(("guessed branch alias", why)),
    }

    let mut message = String::from("preview URL not found. Tried, in order:");
    for (i, (step, why)) in notes.iter().enumerate() {
        message.push_str(&format!("\n  {}. {step}: {why}", i + 1));
    }
    message.push_str(
        "\nPass --base-url, set ENDPOINT_CHECK_BASE_URL, or configure `preview:` in environments.yaml \
         (see the README, \"Environments\").",
    );
    Err(Error::Environment(message))
}

fn found(url: String, source: &'static str) -> Detected {
    Detected {
        url,
        source,
        warnings: Vec::new(),
    }
}

#[derive(Debug, Default)]
struct ExpandedConfig {
    project: Option<String>,
    team: Option<String>,
    project_id: Option<String>,
    team_id: Option<String>,
}

fn expand_opt(
    opts: &ResolveOptions<'_>,
    value: &Option<String>,
    what: &str,
) -> Result<Option<String>, Error> {
    match value {
        Some(template) => Ok(Some(expand_field(opts, template, what)?).filter(|v| !v.trim().is_empty())),
        None => Ok(None),
    }
}

// ---------------------------------------------------------------------------------------------
// Step 3: the GitHub deployment_status event

fn read_event(opts: &ResolveOptions<'_>) -> Result<Value, String> {
    let path = opts
        .var("GITHUB_EVENT_PATH")
        .ok_or_else(|| "GITHUB_EVENT_PATH is not set".to_string())?;
    let path = resolve_path(opts.cwd, &path);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read the event file {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("the event file {} is not JSON: {e}", path.display()))
}

fn resolve_path(cwd: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    }
}

fn deployment_status(opts: &ResolveOptions<'_>) -> Result<String, String> {
    match opts.var("GITHUB_EVENT_NAME") {
        Some(name) if name == "deployment_status" => {}
        Some(name) => return Err(format!("GITHUB_EVENT_NAME is `{name}`, not `deployment_status`")),
        None => return Err("GITHUB_EVENT_NAME is not set (not a GitHub Actions run)".into()),
    }
    let event = read_event(opts)?;
    let text = |pointer: &str| {
        event
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let state = text("/deployment_status/state").unwrap_or_default();
    if state != "success" {
        return Err(format!("deployment_status.state is `{state}`, not `success`"));
    }
    let environment = text("/deployment/environment").unwrap_or_default();
    if !environment.starts_with("Preview") {
        return Err(format!(
            "deployment.environment is `{environment}`, which does not start with `Preview`"
        ));
    }
    text("/deployment_status/environment_url")
        .or_else(|| text("/deployment_status/target_url"))
        .ok_or_else(|| "the event has neither deployment_status.environment_url nor target_url".into())
}

// ---------------------------------------------------------------------------------------------
// The current commit and branch

/// The current commit and branch, looked up once and only when a step needs them.
#[derive(Debug, Default)]
struct GitContext {
    commit: Option<Option<String>>,
    branch: Option<Option<String>>,
}

impl GitContext {
    fn commit(&mut self, opts: &ResolveOptions<'_>) -> Option<String> {
        self.commit.get_or_insert_with(|| current_commit(opts)).clone()
    }
    fn branch(&mut self, opts: &ResolveOptions<'_>) -> Option<String> {
        self.branch.get_or_insert_with(|| current_branch(opts)).clone()
    }
}

/// The current commit (spec 3.1): `VERCEL_GIT_COMMIT_SHA`; on `pull_request` events the event
/// file's `pull_request.head.sha` (`GITHUB_SHA` is a merge commit there); `GITHUB_SHA`; then
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

/// The current branch (spec 3.1): `VERCEL_GIT_COMMIT_REF`, `GITHUB_HEAD_REF`, `GITHUB_REF_NAME`,
/// then `git rev-parse --abbrev-ref HEAD` (a detached `HEAD` does not count).
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

// ---------------------------------------------------------------------------------------------
// Step 4: the Vercel REST API

/// The project the API step asks about, and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub id: String,
    /// The org (team or user) id; sent as `teamId` only when it starts with `team_`.
    pub org: Option<String>,
    /// Where the id came from, for messages.
    pub from: String,
}

/// `.vercel/project.json` in `cwd` or its nearest parent up to the git root (the folder holding
/// `.git`). Outside a git checkout only `cwd` itself is searched.
pub fn find_project_json(cwd: &Path) -> Option<PathBuf> {
    let cwd = std::path::absolute(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let git_root = cwd.ancestors().find(|d| d.join(".git").exists());
    for dir in cwd.ancestors() {
        let candidate = dir.join(".vercel").join("project.json");
        if candidate.is_file() {
            return Some(candidate);
        }
        match git_root {
            Some(root) if dir != root => continue,
            _ => return None,
        }
    }
    None
}

/// The project of the API step: `vercel.project_id` (+ `team_id`) of `environments.yaml`, else
/// `VERCEL_PROJECT_ID` (+ `VERCEL_ORG_ID`), else `.vercel/project.json`. `Err` says why none is
/// known.
fn find_project(opts: &ResolveOptions<'_>, vercel: &ExpandedConfig) -> Result<Project, String> {
    if let Some(id) = &vercel.project_id {
        return Ok(Project {
            id: id.clone(),
            org: vercel.team_id.clone(),
            from: format!("vercel.project_id in {}", opts.file_name()),
        });
    }
    if let Some(id) = opts.var("VERCEL_PROJECT_ID") {
        return Ok(Project {
            id,
            org: opts.var("VERCEL_ORG_ID"),
            from: "VERCEL_PROJECT_ID".into(),
        });
    }
    let Some(path) = find_project_json(opts.cwd) else {
        return Err(
            "no project known: set vercel.project_id under `preview:` in environments.yaml or \
                    VERCEL_PROJECT_ID, or run `vercel link` (it writes .vercel/project.json)"
                .into(),
        );
    };
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let json: Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not valid JSON: {e}", path.display()))?;
    let field = |name: &str| json.get(name).and_then(Value::as_str).filter(|s| !s.is_empty());
    let id = field("projectId").ok_or_else(|| format!("{} has no projectId", path.display()))?;
    Ok(Project {
        id: id.to_string(),
        org: field("orgId").map(str::to_string),
        from: path.display().to_string(),
    })
}

/// One deployment as `GET /v6/deployments` and `GET /v13/deployments/{id}` describe it.
#[derive(Debug, Clone, Deserialize)]
struct ApiDeployment {
    #[serde(default)]
    uid: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default, rename = "readyState")]
    ready_state: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    created: Option<f64>,
    #[serde(default, rename = "createdAt")]
    created_at: Option<f64>,
    #[serde(default)]
    target: Option<String>,
    #[serde(default, rename = "inspectorUrl")]
    inspector_url: Option<String>,
    #[serde(default)]
    meta: Option<BTreeMap<String, Value>>,
}

#[derive(Debug, Deserialize)]
struct ListAnswer {
    deployments: Vec<ApiDeployment>,
}

impl ApiDeployment {
    fn uid(&self) -> Option<&str> {
        self.uid.as_deref().or(self.id.as_deref())
    }
    fn state(&self) -> String {
        self.state
            .as_deref()
            .or(self.ready_state.as_deref())
            .or(self.status.as_deref())
            .unwrap_or("")
            .to_ascii_uppercase()
    }
    fn created(&self) -> f64 {
        self.created.or(self.created_at).unwrap_or(0.0)
    }
    fn meta(&self, keys: &[&str]) -> Option<&str> {
        let meta = self.meta.as_ref()?;
        keys.iter()
            .find_map(|k| meta.get(*k).and_then(Value::as_str).filter(|s| !s.is_empty()))
    }
    fn commit(&self) -> Option<&str> {
        self.meta(&["githubCommitSha", "gitlabCommitSha", "bitbucketCommitSha"])
    }
    fn branch(&self) -> Option<&str> {
        self.meta(&["githubCommitRef", "gitlabCommitRef", "bitbucketCommitRef"])
    }
    fn shown(&self) -> String {
        match &self.url {
            Some(url) => format!("https://{}", url.trim_start_matches("https://")),
            None => format!("`{}`", self.uid().unwrap_or("?")),
        }
    }
    fn inspector(&self) -> String {
        match &self.inspector_url {
            Some(url) if !url.is_empty() => format!("; inspect it at {url}"),
            _ => String::new(),
        }
    }
}

/// Step 4. `Ok(Err(why))`: the step did not apply (go on to step 5); `Err`: it failed (exit 3).
async fn api_step(
    opts: &ResolveOptions<'_>,
    vercel: &ExpandedConfig,
    git: &mut GitContext,
) -> Result<Result<Detected, String>, Error> {
    let Some(token) = opts.var("VERCEL_TOKEN") else {
        return Ok(Err("VERCEL_TOKEN is not set".into()));
    };
    let project = match find_project(opts, vercel) {
        Ok(project) => project,
        Err(why) => return Ok(Err(why)),
    };
    let commit = git.commit(opts);
    let branch = git.branch(opts);
    if commit.is_none() && branch.is_none() {
        return Ok(Err(
            "the current commit and branch are unknown (set VERCEL_GIT_COMMIT_SHA or \
                       GITHUB_SHA, or run inside a git checkout)"
                .into(),
        ));
    }
    let fail = |why: String| Error::Environment(format!("preview URL detection, Vercel REST API: {why}"));

    let api = opts
        .var("VERCEL_API_URL")
        .unwrap_or_else(|| DEFAULT_API_URL.to_string())
        .trim_end_matches('/')
        .to_string();
    let team = project.org.as_deref().filter(|org| org.starts_with("team_"));
    let mut list_url = reqwest::Url::parse(&format!("{api}/v6/deployments"))
        .map_err(|e| fail(format!("invalid VERCEL_API_URL `{api}`: {e}")))?;
    {
        let mut query = list_url.query_pairs_mut();
        query.append_pair("projectId", &project.id);
        query.append_pair("limit", &LIST_LIMIT.to_string());
        if let Some(team) = team {
            query.append_pair("teamId", team);
        }
    }
    let call = ApiCall {
        opts,
        token: &token,
        project: &project,
        team,
    };
    let answer: ListAnswer = call.get(list_url, None).await.map_err(fail)?;

    let mut deployments: Vec<ApiDeployment> = answer
        .deployments
        .into_iter()
        .filter(|d| d.target.as_deref().is_none_or(|t| t == "preview"))
        .collect();
    deployments.sort_by(|a, b| b.created().total_cmp(&a.created()));

    let by_commit = commit.as_deref().and_then(|sha| {
        deployments
            .iter()
            .find(|d| d.commit().is_some_and(|c| c.eq_ignore_ascii_case(sha)))
    });
    let mut warnings = Vec::new();
    let chosen = match by_commit {
        Some(d) => d,
        None => {
            let by_branch = branch
                .as_deref()
                .and_then(|name| deployments.iter().find(|d| d.branch() == Some(name)));
            match by_branch {
                Some(d) => {
                    let commit_text = match &commit {
                        Some(sha) => {
                            format!("no preview deployment is for the current commit {}", short(sha))
                        }
                        None => "the current commit is unknown".to_string(),
                    };
                    warnings.push(format!(
                        "the Vercel preview {} was matched by branch `{}`, {commit_text}: it may be stale",
                        d.shown(),
                        branch.as_deref().unwrap_or_default()
                    ));
                    d
                }
                None => {
                    let wanted = match (&commit, &branch) {
                        (Some(sha), Some(b)) => format!("commit {} or branch `{b}`", short(sha)),
                        (Some(sha), None) => format!("commit {}", short(sha)),
                        (None, Some(b)) => format!("branch `{b}`"),
                        (None, None) => unreachable!("checked above"),
                    };
                    let why = if deployments.is_empty() {
                        format!(
                            "project {} (from {}) has no preview deployment among its {LIST_LIMIT} latest",
                            project.id, project.from
                        )
                    } else {
                        format!(
                            "none of the {} latest preview deployments of project {} (from {}) is for {wanted}",
                            deployments.len(),
                            project.id,
                            project.from
                        )
                    };
                    return Ok(Err(why));
                }
            }
        }
    };

    let url = follow_state(&call, chosen, &api).await.map_err(fail)?;
    Ok(Ok(Detected {
        url,
        source: "vercel-api",
        warnings,
    }))
}

fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// What a deployment's state means: its URL when READY, wait for it while building under
/// `--wait`, an error otherwise.
async fn follow_state(call: &ApiCall<'_>, deployment: &ApiDeployment, api: &str) -> Result<String, String> {
    let opts = call.opts;
    let mut current = deployment.clone();
    let mut state = current.state();
    let mut deadline: Option<Instant> = None;
    loop {
        match state.as_str() {
            "READY" => {
                let url = current
                    .url
                    .clone()
                    .or_else(|| deployment.url.clone())
                    .unwrap_or_default();
                if url.is_empty() {
                    return Err(format!(
                        "the READY deployment `{}` has no url",
                        current.uid().unwrap_or("?")
                    ));
                }
                if deadline.is_some() {
                    opts.say(&format!("Vercel preview {} is READY", current.shown()));
                }
                return Ok(url);
            }
            "ERROR" | "CANCELED" => {
                return Err(format!(
                    "the preview deployment {} is in state {state}{}",
                    deployment.shown(),
                    deployment.inspector()
                ));
            }
            "QUEUED" | "INITIALIZING" | "BUILDING" => {}
            "" => return Err(format!("the deployment {} has no state", deployment.shown())),
            other => {
                return Err(format!(
                    "the preview deployment {} is in unexpected state {other}{}",
                    deployment.shown(),
                    deployment.inspector()
                ));
            }
        }
        // Still building.
        let Some(wait) = opts.wait else {
            return Err(format!(
                "the preview deployment {} is still {state} (pass --wait, e.g. --wait 5m, to wait for it){}",
                deployment.shown(),
                deployment.inspector()
            ));
        };
        let deadline = *deadline.get_or_insert_with(|| {
            opts.say(&format!(
                "Vercel preview {} is {state}; waiting up to {} for it to be READY…",
                deployment.shown(),
                fmt_compact(wait)
            ));
            Instant::now() + wait
        });
        let now = Instant::now();
        if now >= deadline {
            return Err(format!(
                "the preview deployment {} is still {state} after waiting {} (--wait){}",
                deployment.shown(),
                fmt_compact(wait),
                deployment.inspector()
            ));
        }
        tokio::time::sleep(opts.poll_interval.min(deadline - now)).await;
        let uid = deployment
            .uid()
            .ok_or_else(|| format!("the deployment {} has no uid to poll", deployment.shown()))?;
        let mut url = reqwest::Url::parse(&format!("{api}/v13/deployments/"))
            .and_then(|u| u.join(uid))
            .map_err(|e| format!("invalid deployment url for `{uid}`: {e}"))?;
        if let Some(team) = call.team {
            url.query_pairs_mut().append_pair("teamId", team);
        }
        current = call.get(url, Some(uid)).await?;
        let new_state = current.state();
        if new_state != state {
            opts.say(&format!("  now {new_state}"));
        }
        state = new_state;
    }
}

/// One authenticated GET to the Vercel API; every failure becomes a message naming its cause.
struct ApiCall<'a> {
    opts: &'a ResolveOptions<'a>,
    token: &'a str,
    project: &'a Project,
    team: Option<&'a str>,
}

impl ApiCall<'_> {
    /// `deployment`: the uid asked about (`None`: the project's list).
    async fn get<T: DeserializeOwned>(
        &self,
        url: reqwest::Url,
        deployment: Option<&str>,
    ) -> Result<T, String> {
        let timeout = self.opts.timeout;
        let endpoint = format!("{}{}", url.origin().ascii_serialization(), url.path());
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                format!(
                    "{endpoint} did not answer within {} (--timeout)",
                    fmt_compact(timeout)
                )
            } else {
                format!("cannot reach {endpoint}: {}", crate::http::error::describe(&e))
            }
        };
        let response = self
            .opts
            .client()?
            .get(url)
            .bearer_auth(self.token)
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(timeout)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        let body = response.bytes().await.map_err(transport)?;
        if !status.is_success() {
            let detail = match serde_json::from_slice::<Value>(&body) {
                Ok(v) => v
                    .pointer("/error/message")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                // Not JSON (a proxy's error page, say): its first line, briefly.
                Err(_) => String::from_utf8_lossy(&body)
                    .lines()
                    .map(str::trim)
                    .find(|l| !l.is_empty())
                    .map(|l| l.chars().take(120).collect()),
            }
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
            let code = status.as_u16();
            let team = match self.team {
                Some(team) => format!("team {team}"),
                None => "no teamId sent".to_string(),
            };
            let project = self.project;
            return Err(match (code, deployment) {
                (401 | 403, _) => format!(
                    "{endpoint} refused the request (HTTP {code}{detail}): check that VERCEL_TOKEN is valid \
                     and has access to project {} ({team})",
                    project.id
                ),
                (404, None) => format!(
                    "project {} not found (HTTP 404{detail}; project from {}, {team}): check the project id \
                     and its team",
                    project.id, project.from
                ),
                (404, Some(uid)) => format!("deployment {uid} not found (HTTP 404{detail})"),
                _ => format!("{endpoint} answered HTTP {code}{detail}"),
            });
        }
        serde_json::from_slice(&body).map_err(|e| format!("malformed answer from {endpoint}: {e}"))
    }
}

// ---------------------------------------------------------------------------------------------
// Step 5: the guessed branch alias

fn guessed_step(
    opts: &ResolveOptions<'_>,
    vercel: &ExpandedConfig,
    git: &mut GitContext,
) -> Result<String, String> {
    let (project, team) = match (&vercel.project, &vercel.team) {
        (Some(p), Some(t)) => (p, t),
        (None, None) => {
            return Err(format!(
                "vercel.project and vercel.team are not set under `preview:` in {}",
                opts.file_name()
            ));
        }
        (None, Some(_)) => return Err(format!("vercel.project is not set in {}", opts.file_name())),
        (Some(_), None) => return Err(format!("vercel.team is not set in {}", opts.file_name())),
    };
    let branch = git.branch(opts).ok_or_else(|| {
        "the current branch is unknown (set VERCEL_GIT_COMMIT_REF, GITHUB_HEAD_REF or GITHUB_REF_NAME, \
         or run inside a git checkout)"
            .to_string()
    })?;
    guessed_alias(project, team, &branch)
}

/// A branch name as Vercel writes it in a branch alias: ASCII letters lower-cased, every run of
/// other characters outside `[a-z0-9]` turned into one `-`, trimmed of `-` at both ends
/// (`feature/ABC_12` → `feature-abc-12`).
pub fn branch_slug(branch: &str) -> String {
    let mut slug = String::with_capacity(branch.len());
    for c in branch.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_matches('-').to_string()
}

/// `https://{project}-git-{branch-slug}-{team}.vercel.app`, or why it cannot be guessed (an
/// empty slug, or a label longer than [`MAX_LABEL_LEN`] characters).
pub fn guessed_alias(project: &str, team: &str, branch: &str) -> Result<String, String> {
    let slug = branch_slug(branch);
    if slug.is_empty() {
        return Err(format!(
            "branch `{branch}` has no letter or digit to build an alias from"
        ));
    }
    let label = format!(
        "{}-git-{slug}-{}",
        project.trim().to_ascii_lowercase(),
        team.trim().to_ascii_lowercase()
    );
    if label.chars().count() > MAX_LABEL_LEN {
        return Err(format!(
            "the alias label `{label}` is {} characters, longer than {MAX_LABEL_LEN}: Vercel shortens such \
             labels in an undocumented way, so it cannot be guessed (pass --base-url, or set VERCEL_TOKEN \
             for the API step)",
            label.chars().count()
        ));
    }
    Ok(format!("https://{label}.vercel.app"))
}

/// A hint for a 401 answer, by what the target is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnauthorizedHint {
    /// A preview deployment may sit behind Vercel's deployment protection.
    VercelProtection,
}

impl UnauthorizedHint {
    /// The hint for an answer with `status` to a request that carried `sent`, if it applies: a
    /// 401 to a request without the bypass header (README, "Preview URL detection").
    pub fn for_answer(self, status: u16, sent: &reqwest::header::HeaderMap) -> Option<&'static str> {
        match self {
            UnauthorizedHint::VercelProtection => (status == 401
                && !sent.contains_key("x-vercel-protection-bypass"))
            .then_some(
                "hint: this preview deployment is protected (401); set VERCEL_AUTOMATION_BYPASS_SECRET to the project's \"Protection Bypass for Automation\" secret so requests carry x-vercel-protection-bypass",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(branch_slug("feature/ABC_12"), "feature-abc-12");
        assert_eq!(branch_slug("main"), "main");
        assert_eq!(branch_slug("--fix//double__sep--"), "fix-double-sep");
        assert_eq!(branch_slug("fix/über-cool"), "fix-ber-cool");
        assert_eq!(branch_slug("émoji-🚀-launch"), "moji-launch");
        assert_eq!(branch_slug("日本語"), "");
        assert_eq!(branch_slug("Release.2024.10"), "release-2024-10");
    }

    #[test]
    fn aliases() {
        assert_eq!(
            guessed_alias("agentcache-ai", "drgnflai-jetty", "feature/ABC_12").unwrap(),
            "https://agentcache-ai-git-feature-abc-12-drgnflai-jetty.vercel.app"
        );
        // Exactly 63 characters is fine; 64 is not.
        let project = "p";
        let team = "t";
        let fixed = "p-git--t".len();
        let ok = "b".repeat(MAX_LABEL_LEN - fixed);
        let alias = guessed_alias(project, team, &ok).unwrap();
        assert_eq!(
            alias.len(),
            "https://".len() + MAX_LABEL_LEN + ".vercel.app".len()
        );
        let long = "b".repeat(MAX_LABEL_LEN - fixed + 1);
        let err = guessed_alias(project, team, &long).unwrap_err();
        assert!(err.contains("64 characters"), "{err}");
        assert!(err.contains("longer than 63"), "{err}");
        assert!(guessed_alias(project, team, "///").is_err());
    }
}
