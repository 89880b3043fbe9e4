//! Environment resolution (spec 3): `environments.yaml`, built-in defaults, the safety delay, and
//! (in [`vercel`]) preview URL detection.
//!
//! INTERFACE (the rest of the crate relies on these names; the bodies are being filled in):
//! - [`EnvironmentsFile::load`] reads `environments.yaml`;
//! - [`resolve`] turns an environment name into a [`Target`];
//! - [`wait_until_up`] implements `--wait`; [`countdown`] the production safety delay.

use crate::error::{Error, SuiteError};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// Environments every run knows, whether or not `environments.yaml` names them.
pub const BUILT_IN: &[&str] = &["production", "preview", "staging", "localhost", "demo"];

/// The built-in localhost base URL.
pub const DEFAULT_LOCALHOST: &str = "http://localhost:3000";

/// `environments.yaml`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnvironmentsFile {
    /// Path as the user would name it, for error messages.
    pub file: String,
    pub title: Option<String>,
    pub environments: BTreeMap<String, EnvironmentDef>,
}

/// One entry of `environments:`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnvironmentDef {
    /// As written: may hold `${VAR}` references, expanded at resolution.
    pub base_url: Option<String>,
    pub safety_delay: Option<Duration>,
    pub headers: Vec<(String, String)>,
    pub vercel: Option<VercelConfig>,
}

/// The `vercel:` block of an environment (spec 3.1).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VercelConfig {
    pub project: Option<String>,
    pub team: Option<String>,
    pub project_id: Option<String>,
    pub team_id: Option<String>,
}

impl EnvironmentsFile {
    /// Reads `path` (the `environments.yaml` beside the first `--suites` path). `Ok(None)` when it
    /// does not exist. Errors are suite errors with `FILE:LINE:COLUMN` (exit 2).
    pub fn load(path: &Path, display: &str) -> Result<Option<EnvironmentsFile>, SuiteError> {
        let _ = (path, display);
        Ok(None)
    }

    /// Every environment name a suite may mention: the built-ins plus the file's.
    pub fn known_names(file: Option<&EnvironmentsFile>) -> Vec<String> {
        let mut names: Vec<String> = BUILT_IN.iter().map(|s| s.to_string()).collect();
        if let Some(f) = file {
            for name in f.environments.keys() {
                if !names.contains(name) {
                    names.push(name.clone());
                }
            }
        }
        names
    }
}

/// Where the run goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub name: String,
    /// No trailing slash.
    pub base_url: String,
    /// One of the spec 3.1 sources: `--base-url`, `ENDPOINT_CHECK_BASE_URL`, `environments.yaml`,
    /// `VERCEL_BRANCH_URL`, `VERCEL_URL`, `deployment_status`, `vercel-api`, `guessed`, `default`, `demo`.
    pub source: String,
    /// Headers the environment adds to every request (including the Vercel bypass headers).
    pub headers: Vec<(String, String)>,
    /// Zero when there is no countdown.
    pub safety_delay: Duration,
    /// True for `preview`: a 401 then gets the "deployment is protected" hint.
    pub is_preview: bool,
    /// Warnings to print before the run (for example a preview matched by branch, not commit).
    pub warnings: Vec<String>,
}

/// What resolution needs from the command line and the process.
pub struct ResolveOptions<'a> {
    pub name: &'a str,
    pub environments: Option<&'a EnvironmentsFile>,
    /// `--base-url`, when given.
    pub base_url_flag: Option<String>,
    /// `--delay`, when given: wins over the environment's safety delay.
    pub delay: Option<Duration>,
    /// `--yes`: no countdown (resolution sets `safety_delay` to zero).
    pub yes: bool,
    /// `--timeout`: also bounds Vercel API calls.
    pub timeout: Duration,
    /// `--wait`: also waits for a building Vercel preview.
    pub wait: Option<Duration>,
    /// The process environment (an empty value must be treated as unset). Tests pass their own.
    pub lookup: &'a (dyn Fn(&str) -> Option<String> + Sync),
    /// The folder `.vercel/project.json` is searched from.
    pub cwd: &'a Path,
    /// The run's HTTP client (rustls, proxies, `--insecure`/`--cacert` applied).
    pub client: &'a reqwest::Client,
}

/// Resolves the environment. Errors are [`Error::Environment`] (exit 3).
pub async fn resolve(opts: &ResolveOptions<'_>) -> Result<Target, Error> {
    let name = opts.name.to_string();
    let known = EnvironmentsFile::known_names(opts.environments);
    if !known.contains(&name) {
        return Err(Error::Environment(format!(
            "unknown environment `{name}`; environments: {}",
            known.join(", ")
        )));
    }
    let (base_url, source) = match &opts.base_url_flag {
        Some(url) => (url.clone(), "--base-url".to_string()),
        None => match (opts.lookup)("ENDPOINT_CHECK_BASE_URL") {
            Some(url) => (url, "ENDPOINT_CHECK_BASE_URL".to_string()),
            None if name == "localhost" => (DEFAULT_LOCALHOST.to_string(), "default".to_string()),
            None => {
                return Err(Error::Environment(format!(
                    "no base URL for environment `{name}`: set environments.{name}.base_url in environments.yaml, or pass --base-url"
                )));
            }
        },
    };
    Ok(Target {
        name,
        base_url: base_url.trim_end_matches('/').to_string(),
        source,
        headers: Vec::new(),
        safety_delay: Duration::ZERO,
        is_preview: opts.name == "preview",
        warnings: Vec::new(),
    })
}

/// `--wait`: polls `url` until any HTTP response comes back or `within` runs out (exit 3),
/// writing progress to `progress`.
pub async fn wait_until_up(
    client: &reqwest::Client,
    url: &str,
    within: Duration,
    progress: &mut (dyn std::io::Write + Send),
) -> Result<(), Error> {
    let _ = (client, url, within, progress);
    Ok(())
}

/// The safety countdown: prints a warning naming the environment and base URL to `out`, then
/// counts down `delay`. The caller races it against signals (Ctrl-C exits 130, nothing sent).
pub async fn countdown(target: &Target, delay: Duration, out: &mut (dyn std::io::Write + Send)) {
    let _ = (target, out);
    tokio::time::sleep(delay).await;
}
pub mod vercel;
