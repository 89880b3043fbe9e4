//! One authenticated call to the Vercel REST API, and the deployment it describes.

use super::project::Project;
use crate::duration::fmt_compact;
use crate::env::options::ResolveOptions;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeMap;

/// One deployment as `GET /v6/deployments` and `GET /v13/deployments/{id}` describe it.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct ApiDeployment {
    #[serde(default)]
    uid: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    pub(super) url: Option<String>,
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
    pub(super) target: Option<String>,
    #[serde(default, rename = "inspectorUrl")]
    inspector_url: Option<String>,
    #[serde(default)]
    meta: Option<BTreeMap<String, Value>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ListAnswer {
    pub(super) deployments: Vec<ApiDeployment>,
}

impl ApiDeployment {
    pub(super) fn uid(&self) -> Option<&str> {
        self.uid.as_deref().or(self.id.as_deref())
    }
    pub(super) fn state(&self) -> String {
        self.state
            .as_deref()
            .or(self.ready_state.as_deref())
            .or(self.status.as_deref())
            .unwrap_or("")
            .to_ascii_uppercase()
    }
    pub(super) fn created(&self) -> f64 {
        self.created.or(self.created_at).unwrap_or(0.0)
    }
    fn meta(&self, keys: &[&str]) -> Option<&str> {
        let meta = self.meta.as_ref()?;
        keys.iter()
            .find_map(|k| meta.get(*k).and_then(Value::as_str).filter(|s| !s.is_empty()))
    }
    pub(super) fn commit(&self) -> Option<&str> {
        self.meta(&["githubCommitSha", "gitlabCommitSha", "bitbucketCommitSha"])
    }
    pub(super) fn branch(&self) -> Option<&str> {
        self.meta(&["githubCommitRef", "gitlabCommitRef", "bitbucketCommitRef"])
    }
    pub(super) fn shown(&self) -> String {
        match &self.url {
            Some(url) => format!("https://{}", url.trim_start_matches("https://")),
            None => format!("`{}`", self.uid().unwrap_or("?")),
        }
    }
    pub(super) fn inspector(&self) -> String {
        match &self.inspector_url {
            Some(url) if !url.is_empty() => format!("; inspect it at {url}"),
            _ => String::new(),
        }
    }
}

/// One authenticated GET to the Vercel API; every failure becomes a message naming its cause.
pub(super) struct ApiCall<'a> {
    pub(super) opts: &'a ResolveOptions<'a>,
    pub(super) token: &'a str,
    pub(super) project: &'a Project,
    pub(super) team: Option<&'a str>,
}

impl ApiCall<'_> {
    /// `deployment`: the uid asked about (`None`: the project's list).
    pub(super) async fn get<T: DeserializeOwned>(
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
            return Err(self.refusal(status.as_u16(), &body, &endpoint, deployment));
        }
        serde_json::from_slice(&body).map_err(|e| format!("malformed answer from {endpoint}: {e}"))
    }

    /// Why a non-2xx answer with `code` and `body` came, in the words of what was asked.
    fn refusal(&self, code: u16, body: &[u8], endpoint: &str, deployment: Option<&str>) -> String {
        let detail = error_detail(body).map(|m| format!(": {m}")).unwrap_or_default();
        let team = match self.team {
            Some(team) => format!("team {team}"),
            None => "no teamId sent".to_string(),
        };
        let project = self.project;
        match (code, deployment) {
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
        }
    }
}

/// The message of an error answer: Vercel's `error.message`, else (not JSON: a proxy's error
/// page, say) its first line, briefly.
fn error_detail(body: &[u8]) -> Option<String> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => v
            .pointer("/error/message")
            .and_then(Value::as_str)
            .map(str::to_string),
        Err(_) => String::from_utf8_lossy(body)
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(|l| l.chars().take(120).collect()),
    }
}
