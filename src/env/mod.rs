//! Environment resolution (spec 3): `environments.yaml`, built-in defaults, the safety delay, and
//! (in [`vercel`]) preview URL detection.
//!
//! INTERFACE (the rest of the crate relies on these names):
//! - [`EnvironmentsFile::load`] reads `environments.yaml`;
//! - [`resolve`] turns an environment name into a [`Target`];
//! - [`secrets`] lists the secret values resolution may touch (register them before resolving);
//! - [`wait_until_up`] implements `--wait`; [`countdown`] the production safety delay.

use crate::duration::fmt_compact;
use crate::error::{Error, SuiteError};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant};

pub mod vercel;

pub use vercel::UnauthorizedHint;

/// Environments every run knows, whether or not `environments.yaml` names them.
pub const BUILT_IN: &[&str] = &["production", "preview", "staging", "localhost", "demo"];

/// The built-in localhost base URL.
pub const DEFAULT_LOCALHOST: &str = "http://localhost:3000";

/// The safety delay of `production` when neither `--delay` nor `environments.yaml` sets one.
pub const DEFAULT_PRODUCTION_DELAY: Duration = Duration::from_secs(5);

/// Subcommand names: they cannot name an environment (spec 1).
pub const RESERVED: &[&str] = &["list", "validate", "serve", "completions", "help"];

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
    /// As written (values may hold `${VAR}`, expanded at resolution), in file order.
    pub headers: Vec<(String, String)>,
    pub vercel: Option<VercelConfig>,
}

/// The `vercel:` block of an environment (spec 3.1). Values may hold `${VAR}` references.
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
        if !path.exists() {
            return Ok(None);
        }
        let text = crate::yaml::read_file(path, display)?;
        Self::parse(&text, display).map(Some)
    }

    /// Parses the text of an `environments.yaml`; `display` names it in errors.
    pub fn parse(text: &str, display: &str) -> Result<EnvironmentsFile, SuiteError> {
        crate::yaml::check_nesting(text, display)?;
        let raw: Option<RawFile> = serde_yaml::from_str(text).map_err(|e| crate::yaml::error(&e, display))?;
        let raw = raw.unwrap_or_default();
        Ok(EnvironmentsFile {
            file: display.to_string(),
            title: raw.title,
            environments: raw.environments.map(|m| m.0).unwrap_or_default(),
        })
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

// ---------------------------------------------------------------------------------------------
// Parsing `environments.yaml`

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, expecting = "a map with `title` and `environments`")]
struct RawFile {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    environments: Option<EnvMap>,
}

#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a map with any of `base_url`, `safety_delay`, `headers`, `vercel`"
)]
struct RawEnv {
    #[serde(default)]
    base_url: Option<Template>,
    #[serde(default)]
    safety_delay: Option<DurationValue>,
    #[serde(default)]
    headers: Option<Headers>,
    #[serde(default)]
    vercel: Option<RawVercel>,
}

#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a map with any of `project`, `team`, `project_id`, `team_id`"
)]
struct RawVercel {
    #[serde(default)]
    project: Option<Template>,
    #[serde(default)]
    team: Option<Template>,
    #[serde(default)]
    project_id: Option<Template>,
    #[serde(default)]
    team_id: Option<Template>,
}

/// `environments:`: names checked, duplicates refused, an empty entry allowed.
struct EnvMap(BTreeMap<String, EnvironmentDef>);

impl<'de> Deserialize<'de> for EnvMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = EnvMap;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of environment names to their settings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EnvMap, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(name) = map.next_key::<String>()? {
                    check_env_name(&name).map_err(de::Error::custom)?;
                    if out.contains_key(&name) {
                        return Err(de::Error::custom(format!(
                            "environment `{name}` is defined twice"
                        )));
                    }
                    let raw: Option<RawEnv> = map.next_value()?;
                    out.insert(name, raw.map(RawEnv::into_def).unwrap_or_default());
                }
                Ok(EnvMap(out))
            }
        }
        d.deserialize_map(V)
    }
}

impl RawEnv {
    fn into_def(self) -> EnvironmentDef {
        EnvironmentDef {
            base_url: self.base_url.map(|t| t.0),
            safety_delay: self.safety_delay.map(|d| d.0),
            headers: self.headers.map(|h| h.0).unwrap_or_default(),
            vercel: self.vercel.map(|v| VercelConfig {
                project: v.project.map(|t| t.0),
                team: v.team.map(|t| t.0),
                project_id: v.project_id.map(|t| t.0),
                team_id: v.team_id.map(|t| t.0),
            }),
        }
    }
}

fn check_env_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("an environment name cannot be empty".into());
    }
    if RESERVED.contains(&name) {
        return Err(format!(
            "`{name}` is a subcommand and cannot name an environment (reserved: {})",
            RESERVED.join(", ")
        ));
    }
    if name.starts_with('-')
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(format!(
            "invalid environment name `{name}`: use letters, digits, `_`, `-` and `.`, not starting with `-`"
        ));
    }
    Ok(())
}

/// A string that may hold `${VAR}` references; its syntax is checked when read.
struct Template(String);

impl<'de> Deserialize<'de> for Template {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = d.deserialize_any(ScalarText)?;
        crate::vars::parse(&text).map_err(de::Error::custom)?;
        Ok(Template(text))
    }
}

/// Accepts any YAML scalar and gives its text (`x-extra: 1` is the header value `1`).
struct ScalarText;

impl Visitor<'_> for ScalarText {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
}

/// `5s`, `250ms`, `1.5s`, `1m`, or a bare integer of milliseconds.
struct DurationValue(Duration);

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as `5s`, `250ms` or a number of milliseconds")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                crate::duration::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
                Ok(Duration::from_millis(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
                u64::try_from(v)
                    .map(Duration::from_millis)
                    .map_err(|_| E::custom(format!("a duration cannot be negative: {v}")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
                Err(E::custom(format!(
                    "invalid duration {v}: a bare number means milliseconds and must be whole; write `{v}s` for seconds"
                )))
            }
        }
        d.deserialize_any(V).map(DurationValue)
    }
}

/// `headers:`: name → scalar, names checked, duplicates (case-insensitive) refused, order kept.
struct Headers(Vec<(String, String)>);

impl<'de> Deserialize<'de> for Headers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Headers;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of header names to values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Headers, A::Error> {
                let mut out: Vec<(String, String)> = Vec::new();
                while let Some(name) = map.next_key::<String>()? {
                    if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                        return Err(de::Error::custom(format!("invalid header name `{name}`")));
                    }
                    if out.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
                        return Err(de::Error::custom(format!("header `{name}` is set twice")));
                    }
                    let value: Template = map.next_value()?;
                    out.push((name, value.0));
                }
                Ok(Headers(out))
            }
        }
        d.deserialize_map(V)
    }
}

// ---------------------------------------------------------------------------------------------
// Resolution

/// Where the run goes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Target {
    pub name: String,
    /// No trailing slash.
    pub base_url: String,
    /// One of the spec 3.1 sources: `--base-url`, `ENDPOINT_CHECK_BASE_URL`, `environments.yaml`,
    /// `VERCEL_BRANCH_URL`, `VERCEL_URL`, `deployment_status`, `vercel-api`, `guessed`, `default`, `demo`.
    pub source: String,
    /// Headers the environment adds to every request (including the Vercel bypass headers).
    /// Already expanded: the runner must not expand `${…}` in them again.
    pub headers: Vec<(String, String)>,
    /// Zero when there is no countdown.
    pub safety_delay: Duration,
    /// What a 401 from this target should tell the user (a protected Vercel preview).
    pub unauthorized_hint: Option<UnauthorizedHint>,
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
    /// The run's HTTP client (rustls, proxies, `--insecure`/`--cacert` applied). `None` when
    /// the caller knows resolution sends nothing (`list` of any environment but `preview`).
    pub client: Option<&'a reqwest::Client>,
    /// How often a building Vercel deployment is polled under `--wait` (spec: 5 s).
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
            poll_interval: vercel::POLL_INTERVAL,
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

    fn file_name(&self) -> &str {
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
fn expand_field(opts: &ResolveOptions<'_>, text: &str, what: &str) -> Result<String, Error> {
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

/// The environments that exist (the built-in ones, then those in the file), when `name` is one
/// of them; else the error that lists them (exit 3).
pub fn check_name(name: &str, environments: Option<&EnvironmentsFile>) -> Result<Vec<String>, Error> {
    let known = EnvironmentsFile::known_names(environments);
    if known.iter().any(|k| k == name) {
        return Ok(known);
    }
    let hint = crate::suggest::closest(name, known.iter().map(String::as_str))
        .map(|b| format!(" Did you mean `{b}`?"))
        .unwrap_or_default();
    Err(Error::Environment(format!(
        "unknown environment `{name}`. Environments: {}.{hint}",
        known.join(", ")
    )))
}

/// Resolves the environment. Errors are [`Error::Environment`] (exit 3).
pub async fn resolve(opts: &ResolveOptions<'_>) -> Result<Target, Error> {
    let name = opts.name;
    let known = EnvironmentsFile::known_names(opts.environments);
    if !known.iter().any(|k| k == name) {
        let hint = crate::suggest::closest(name, known.iter().map(String::as_str))
            .map(|c| format!(" ({})", crate::suggest::did_you_mean(c)))
            .unwrap_or_default();
        return Err(Error::Environment(format!(
            "unknown environment `{name}`{hint}; environments: {}",
            known.join(", ")
        )));
    }
    let def = opts.environments.and_then(|f| f.environments.get(name));
    let is_preview = name == "preview";
    let mut warnings = Vec::new();

    // The base URL and its source, in the order of spec 3 / 3.1.
    let configured = match def.and_then(|d| d.base_url.as_deref()) {
        Some(template) => Some(expand_field(
            opts,
            template,
            &format!("environments.{name}.base_url"),
        )?)
        .filter(|url| !url.trim().is_empty()),
        None => None,
    };
    let (raw_url, source) = if let Some(url) = opts.base_url_flag.clone().filter(|u| !u.is_empty()) {
        (url, "--base-url".to_string())
    } else if let Some(url) = opts.var("ENDPOINT_CHECK_BASE_URL") {
        (url, "ENDPOINT_CHECK_BASE_URL".to_string())
    } else if let Some(url) = configured {
        (url, "environments.yaml".to_string())
    } else if is_preview {
        let found = vercel::detect(opts, def).await?;
        warnings.extend(found.warnings);
        // Vercel and GitHub give host names without a scheme: `https://` is added (spec 3.1),
        // whatever the host, loopback included.
        let url = if found.url.contains("://") {
            found.url
        } else {
            format!("https://{}", found.url)
        };
        (url, found.source.to_string())
    } else if name == "localhost" {
        (DEFAULT_LOCALHOST.to_string(), "default".to_string())
    } else if name == "demo" {
        return Err(Error::Environment(
            "no base URL for environment `demo`: run `endpoint-check demo`, which serves the fixture API and sets it, or pass --base-url".into(),
        ));
    } else {
        return Err(Error::Environment(format!(
            "no base URL for environment `{name}`: set `base_url` under `environments: {name}:` in {}, \
             or pass --base-url (or set ENDPOINT_CHECK_BASE_URL)",
            opts.file_name()
        )));
    };
    let base_url = normalize_base_url(&raw_url)
        .map_err(|e| Error::Environment(format!("invalid base URL `{raw_url}` (from {source}): {e}")))?;

    // Headers: the environment's, then the Vercel bypass headers for a preview.
    let mut headers = Vec::new();
    if let Some(def) = def {
        for (header, value) in &def.headers {
            let value = expand_field(opts, value, &format!("environments.{name}.headers.{header}"))?;
            if reqwest::header::HeaderValue::from_str(&value).is_err() {
                return Err(Error::Environment(format!(
                    "{}: environments.{name}.headers.{header}: the value is not a valid header value",
                    opts.file_name()
                )));
            }
            headers.push((header.clone(), value));
        }
    }
    if is_preview && let Some(secret) = opts.var("VERCEL_AUTOMATION_BYPASS_SECRET") {
        headers.retain(|(h, _)| {
            !h.eq_ignore_ascii_case("x-vercel-protection-bypass")
                && !h.eq_ignore_ascii_case("x-vercel-set-bypass-cookie")
        });
        headers.push(("x-vercel-protection-bypass".into(), secret));
        headers.push(("x-vercel-set-bypass-cookie".into(), "true".into()));
    }

    let safety_delay = if opts.yes {
        Duration::ZERO
    } else if let Some(delay) = opts.delay {
        delay
    } else if let Some(delay) = def.and_then(|d| d.safety_delay) {
        delay
    } else if name == "production" {
        DEFAULT_PRODUCTION_DELAY
    } else {
        Duration::ZERO
    };

    Ok(Target {
        name: name.to_string(),
        base_url,
        source,
        headers,
        safety_delay,
        unauthorized_hint: is_preview.then_some(UnauthorizedHint::VercelProtection),
        warnings,
    })
}

/// Adds a scheme to a bare host name (`https://`, or `http://` for a loopback host), checks the
/// URL and drops trailing slashes.
pub fn normalize_base_url(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("it is empty".into());
    }
    let with_scheme = if raw.contains("://") {
        raw.to_string()
    } else {
        let host = raw.split([':', '/']).next().unwrap_or("");
        let loopback =
            host.eq_ignore_ascii_case("localhost") || host.starts_with("127.") || raw.starts_with("[::1]");
        format!("{}://{raw}", if loopback { "http" } else { "https" })
    };
    let url = reqwest::Url::parse(&with_scheme).map_err(|e| e.to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "the scheme must be http or https, not `{}`",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("it has no host".into());
    }
    Ok(with_scheme.trim_end_matches('/').to_string())
}

/// The secret values environment resolution may print or send: `VERCEL_TOKEN`,
/// `VERCEL_AUTOMATION_BYPASS_SECRET`, the values of environment variables `environments.yaml`
/// refers to whose names mark them secret, and the values of secret headers it sets. Register
/// them with the redactor before calling [`resolve`].
pub fn secrets(
    environments: Option<&EnvironmentsFile>,
    lookup: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Vec<String> {
    let var = |name: &str| lookup(name).filter(|v| !v.is_empty());
    let mut out: Vec<String> = ["VERCEL_TOKEN", "VERCEL_AUTOMATION_BYPASS_SECRET"]
        .iter()
        .filter_map(|n| var(n))
        .collect();
    let mut push = |value: String| {
        if !value.is_empty() && !out.contains(&value) {
            out.push(value);
        }
    };
    for def in environments.iter().flat_map(|f| f.environments.values()) {
        let vercel = def
            .vercel
            .iter()
            .flat_map(|v| [&v.project, &v.team, &v.project_id, &v.team_id]);
        let templates = def
            .base_url
            .iter()
            .chain(def.headers.iter().map(|(_, v)| v))
            .chain(vercel.flatten());
        for template in templates {
            for (name, _) in crate::vars::references(template) {
                if crate::redact::is_secret_variable(&name)
                    && let Some(value) = var(&name)
                {
                    push(value);
                }
            }
        }
        for (header, template) in &def.headers {
            if crate::redact::is_secret_header(header) {
                let lookup = |name: &str| var(name).map(serde_json::Value::String);
                if let Ok(value) = crate::vars::expand(template, &lookup) {
                    for part in crate::redact::credential_parts(&value) {
                        push(part.to_string());
                    }
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// --wait and the safety countdown

/// First pause between two `--wait` attempts; it doubles up to [`WAIT_MAX_BACKOFF`].
pub const WAIT_FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Longest pause between two `--wait` attempts.
pub const WAIT_MAX_BACKOFF: Duration = Duration::from_secs(2);

/// `--wait`: polls `url` until any HTTP response comes back or `within` runs out (exit 3),
/// writing progress to `progress`.
pub async fn wait_until_up(
    client: &reqwest::Client,
    url: &str,
    within: Duration,
    progress: &mut (dyn std::io::Write + Send),
) -> Result<(), Error> {
    let start = Instant::now();
    let deadline = start + within;
    let mut backoff = WAIT_FIRST_BACKOFF;
    let mut attempts = 0u32;
    let _ = writeln!(
        progress,
        "Waiting up to {} for {url} to answer…",
        fmt_compact(within)
    );
    let _ = progress.flush();
    let mut last_error = String::from("no attempt fitted in the time given");
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        // Always one try, even when a building preview used up the budget: it may be up now.
        if !remaining.is_zero() || attempts == 0 {
            attempts += 1;
            let timeout = if remaining.is_zero() {
                Duration::from_secs(1)
            } else {
                remaining
            };
            match client.get(url).timeout(timeout).send().await {
                Ok(response) => {
                    let _ = writeln!(
                        progress,
                        "{url} answered HTTP {} after {} ({attempts} attempt{})",
                        response.status().as_u16(),
                        fmt_compact(start.elapsed()),
                        if attempts == 1 { "" } else { "s" }
                    );
                    let _ = progress.flush();
                    return Ok(());
                }
                Err(e) => last_error = crate::http::error::describe(&e),
            }
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(Error::Environment(format!(
                "--wait: {url} did not answer within {} ({attempts} attempt{}; last: {last_error})",
                fmt_compact(within),
                if attempts == 1 { "" } else { "s" }
            )));
        }
        let pause = backoff.min(deadline - now);
        let _ = writeln!(
            progress,
            "  not up yet ({last_error}); next try in {} ({} elapsed)",
            fmt_compact(pause),
            fmt_compact(start.elapsed())
        );
        let _ = progress.flush();
        tokio::time::sleep(pause).await;
        backoff = (backoff * 2).min(WAIT_MAX_BACKOFF);
    }
}

/// The safety countdown: prints a warning naming the environment and base URL to `out`, then
/// counts down `delay`, one line a second (`Starting in 3…`). The caller races it against
/// signals (Ctrl-C exits 130, nothing sent). A zero delay prints nothing.
pub async fn countdown(target: &Target, delay: Duration, out: &mut (dyn std::io::Write + Send)) {
    if delay.is_zero() {
        return;
    }
    let _ = writeln!(
        out,
        "⚠  About to run against {} ({}). Press Ctrl-C to abort; --yes skips this delay.",
        target.name, target.base_url
    );
    let _ = out.flush();
    let mut remaining = delay;
    while !remaining.is_zero() {
        let whole = remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0);
        let _ = writeln!(out, "Starting in {whole}…");
        let _ = out.flush();
        // Sleep down to the next whole second, so every line shows a whole number.
        let step = remaining.saturating_sub(Duration::from_secs(whole - 1));
        tokio::time::sleep(step).await;
        remaining -= step;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert_eq!(
            normalize_base_url("x.vercel.app").unwrap(),
            "https://x.vercel.app"
        );
        assert_eq!(
            normalize_base_url("https://x.dev/api/").unwrap(),
            "https://x.dev/api"
        );
        assert_eq!(
            normalize_base_url("localhost:3000").unwrap(),
            "http://localhost:3000"
        );
        assert_eq!(
            normalize_base_url("127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert!(normalize_base_url("ftp://x.dev").is_err());
        assert!(normalize_base_url("https://").is_err());
        assert!(normalize_base_url("").is_err());
    }
}
