//! What resolving an environment needs from the command line and the process, shared by
//! [`super::target`] and [`super::vercel`].

use super::file::EnvironmentsFile;
use crate::error::Error;
use std::path::Path;
use std::time::Duration;

/// How often a building Vercel deployment is polled under `--wait` (docs/environments.md#preview-url-detection).
pub const POLL_INTERVAL: Duration = Duration::from_secs(5);

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
    /// The run's HTTP client (rustls, proxies, `--insecure`/`--cacert` applied). `None` when
    /// the caller knows resolution sends nothing (`list` of any environment but `preview`).
    pub client: Option<&'a reqwest::Client>,
    /// How often a building Vercel deployment is polled under `--wait` (5 s, as docs/environments.md says).
    pub poll_interval: Duration,
    /// Progress while resolution waits (a building preview under `--wait`), one line per call.
    /// `None`: silent.
    pub progress: Option<&'a (dyn Fn(&str) + Sync)>,
}

impl<'a> ResolveOptions<'a> {
    /// Options with the defaults of a plain run: no file, no flags, a 10 s timeout, no wait,
    /// Vercel polled every 5 s, no progress output. Override fields with struct update syntax.
    pub fn new(
        name: &'a str,
        lookup: &'a (dyn Fn(&str) -> Option<String> + Sync),
        cwd: &'a Path,
        client: &'a reqwest::Client,
    ) -> Self {
        ResolveOptions {
            name,
            environments: None,
            base_url_flag: None,
            delay: None,
            yes: false,
            timeout: Duration::from_secs(10),
            wait: None,
            lookup,
            cwd,
            client: Some(client),
            poll_interval: POLL_INTERVAL,
            progress: None,
        }
    }

    /// The process environment through `lookup`, an empty value counting as unset.
    pub(crate) fn var(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.is_empty())
    }

    /// The client, for the one part of resolution that calls out: the Vercel API.
    pub(crate) fn client(&self) -> Result<&'a reqwest::Client, String> {
        self.client
            .ok_or_else(|| "no HTTP client was given to call the Vercel API with".to_string())
    }

    pub(crate) fn say(&self, line: &str) {
        if let Some(progress) = self.progress {
            progress(line);
        }
    }

    pub(crate) fn file_name(&self) -> &str {
        self.environments
            .map(|f| f.file.as_str())
            .unwrap_or("environments.yaml")
    }
}

/// The lookup over the real process environment, for [`ResolveOptions::lookup`].
pub fn process_lookup(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Expands `${VAR}` / `${VAR:-default}` in a value of `environments.yaml` from the process
/// environment. `what` names the value in the error.
pub(crate) fn expand_field(opts: &ResolveOptions<'_>, text: &str, what: &str) -> Result<String, Error> {
    let lookup = |name: &str| opts.var(name).map(serde_json::Value::String);
    crate::vars::expand(text, &lookup).map_err(|undefined| {
        Error::Environment(format!(
            "{}: {what} uses `${{{}}}`, which is not set; set it, or give a default: `${{{}:-…}}`",
            opts.file_name(),
            undefined.0,
            undefined.0
        ))
    })
}
