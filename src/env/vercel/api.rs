//! Step 4, the Vercel REST API (docs/environments.md, "Step 4, the Vercel API"): list the
//! project's recent deployments, choose the one for the current commit or branch, and follow
//! its state until it is READY.

use super::client::{ApiCall, ApiDeployment, ListAnswer};
use super::config::ExpandedConfig;
use super::git::GitContext;
use super::project::{Project, find_project};
use crate::duration::fmt_compact;
use crate::env::options::ResolveOptions;
use crate::error::Error;
use std::time::Instant;

/// The Vercel REST API, unless `VERCEL_API_URL` says otherwise.
pub const DEFAULT_API_URL: &str = "https://api.vercel.com";

/// How many recent deployments the API step asks for.
const LIST_LIMIT: u32 = 20;

/// Step 4: the preview's URL and the warnings of the choice. `Ok(Err(why))`: the step did not
/// apply (go on to step 5); `Err`: it failed (exit 3).
pub(super) async fn api_step(
    opts: &ResolveOptions<'_>,
    vercel: &ExpandedConfig,
    git: &mut GitContext,
) -> Result<Result<(String, Vec<String>), String>, Error> {
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
    let list_url = list_url(&api, &project, team).map_err(fail)?;
    let call = ApiCall {
        opts,
        token: &token,
        project: &project,
        team,
    };
    let answer: ListAnswer = call.get(list_url, None).await.map_err(fail)?;
    let deployments = previews(answer);
    let (chosen, warnings) = match choose(&deployments, commit.as_deref(), branch.as_deref(), &project) {
        Ok(choice) => choice,
        Err(why) => return Ok(Err(why)),
    };
    let url = follow_state(&call, chosen, &api).await.map_err(fail)?;
    Ok(Ok((url, warnings)))
}

/// `GET {api}/v6/deployments` of `project`, the latest [`LIST_LIMIT`], in `team` if one.
fn list_url(api: &str, project: &Project, team: Option<&str>) -> Result<reqwest::Url, String> {
    let mut url = reqwest::Url::parse(&format!("{api}/v6/deployments"))
        .map_err(|e| format!("invalid VERCEL_API_URL `{api}`: {e}"))?;
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("projectId", &project.id);
        query.append_pair("limit", &LIST_LIMIT.to_string());
        if let Some(team) = team {
            query.append_pair("teamId", team);
        }
    }
    Ok(url)
}

/// The preview deployments of a list answer (no `target` counts as preview), newest first.
fn previews(answer: ListAnswer) -> Vec<ApiDeployment> {
    let mut deployments: Vec<ApiDeployment> = answer
        .deployments
        .into_iter()
        .filter(|d| d.target.as_deref().is_none_or(|t| t == "preview"))
        .collect();
    deployments.sort_by(|a, b| b.created().total_cmp(&a.created()));
    deployments
}

/// The deployment built from `commit`, else the one for `branch` (with a warning that it may be
/// stale); `Err` says why none matches. One of `commit` and `branch` is known.
fn choose<'d>(
    deployments: &'d [ApiDeployment],
    commit: Option<&str>,
    branch: Option<&str>,
    project: &Project,
) -> Result<(&'d ApiDeployment, Vec<String>), String> {
    let by_commit = commit.and_then(|sha| {
        deployments
            .iter()
            .find(|d| d.commit().is_some_and(|c| c.eq_ignore_ascii_case(sha)))
    });
    if let Some(d) = by_commit {
        return Ok((d, Vec::new()));
    }
    let by_branch = branch.and_then(|name| deployments.iter().find(|d| d.branch() == Some(name)));
    if let Some(d) = by_branch {
        let commit_text = match commit {
            Some(sha) => format!("no preview deployment is for the current commit {}", short(sha)),
            None => "the current commit is unknown".to_string(),
        };
        let warning = format!(
            "the Vercel preview {} was matched by branch `{}`, {commit_text}: it may be stale",
            d.shown(),
            branch.unwrap_or_default()
        );
        return Ok((d, vec![warning]));
    }
    let wanted = match (commit, branch) {
        (Some(sha), Some(b)) => format!("commit {} or branch `{b}`", short(sha)),
        (Some(sha), None) => format!("commit {}", short(sha)),
        (None, Some(b)) => format!("branch `{b}`"),
        (None, None) => unreachable!("checked above"),
    };
    Err(if deployments.is_empty() {
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
    })
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
        if let Some(settled) = settled(opts, &state, &current, deployment, deadline.is_some()) {
            return settled;
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
        current = poll(call, deployment, api).await?;
        let new_state = current.state();
        if new_state != state {
            opts.say(&format!("  now {new_state}"));
        }
        state = new_state;
    }
}

/// The end of following `deployment` (now `current`, in `state`): its URL, or why it has none;
/// `None` while it is still building. `waited`: the run has been waiting for it.
fn settled(
    opts: &ResolveOptions<'_>,
    state: &str,
    current: &ApiDeployment,
    deployment: &ApiDeployment,
    waited: bool,
) -> Option<Result<String, String>> {
    Some(match state {
        "READY" => {
            let url = current
                .url
                .clone()
                .or_else(|| deployment.url.clone())
                .unwrap_or_default();
            if url.is_empty() {
                return Some(Err(format!(
                    "the READY deployment `{}` has no url",
                    current.uid().unwrap_or("?")
                )));
            }
            if waited {
                opts.say(&format!("Vercel preview {} is READY", current.shown()));
            }
            Ok(url)
        }
        "ERROR" | "CANCELED" => Err(format!(
            "the preview deployment {} is in state {state}{}",
            deployment.shown(),
            deployment.inspector()
        )),
        "QUEUED" | "INITIALIZING" | "BUILDING" => return None,
        "" => Err(format!("the deployment {} has no state", deployment.shown())),
        other => Err(format!(
            "the preview deployment {} is in unexpected state {other}{}",
            deployment.shown(),
            deployment.inspector()
        )),
    })
}

/// `deployment` as `GET /v13/deployments/{uid}` describes it now.
async fn poll(call: &ApiCall<'_>, deployment: &ApiDeployment, api: &str) -> Result<ApiDeployment, String> {
    let uid = deployment
        .uid()
        .ok_or_else(|| format!("the deployment {} has no uid to poll", deployment.shown()))?;
    let mut url = reqwest::Url::parse(&format!("{api}/v13/deployments/"))
        .and_then(|u| u.join(uid))
        .map_err(|e| format!("invalid deployment url for `{uid}`: {e}"))?;
    if let Some(team) = call.team {
        url.query_pairs_mut().append_pair("teamId", team);
    }
    call.get(url, Some(uid)).await
}
