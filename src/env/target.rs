//! From an environment name to a [`Target`]: the base URL and where it came from, the
//! environment's headers, the safety delay (README, "Environments").

use super::options::{ResolveOptions, expand_field};
use super::vercel::{self, UnauthorizedHint};
use super::{DEFAULT_LOCALHOST, DEFAULT_PRODUCTION_DELAY, EnvironmentDef, EnvironmentsFile};
use crate::error::Error;
use std::time::Duration;

/// Where the run goes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Target {
    pub name: String,
    /// No trailing slash.
    pub base_url: String,
    /// One of the sources of docs/environments.md#preview-url-detection: `--base-url`, `ENDPOINT_CHECK_BASE_URL`, `environments.yaml`,
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
    let (raw_url, source) = base_url(opts, def, &mut warnings).await?;
    let base_url = normalize_base_url(&raw_url)
        .map_err(|e| Error::Environment(format!("invalid base URL `{raw_url}` (from {source}): {e}")))?;
    Ok(Target {
        name: name.to_string(),
        base_url,
        source,
        headers: headers(opts, def)?,
        safety_delay: safety_delay(opts, def),
        unauthorized_hint: is_preview.then_some(UnauthorizedHint::VercelProtection),
        warnings,
    })
}

/// The base URL and its source, in the order the README gives ("Environments", "Preview URL
/// detection"): the flag, the variable, the file, then detection or a built-in default.
async fn base_url(
    opts: &ResolveOptions<'_>,
    def: Option<&EnvironmentDef>,
    warnings: &mut Vec<String>,
) -> Result<(String, String), Error> {
    let name = opts.name;
    let configured = match def.and_then(|d| d.base_url.as_deref()) {
        Some(template) => Some(expand_field(
            opts,
            template,
            &format!("environments.{name}.base_url"),
        )?)
        .filter(|url| !url.trim().is_empty()),
        None => None,
    };
    Ok(
        if let Some(url) = opts.base_url_flag.clone().filter(|u| !u.is_empty()) {
            (url, "--base-url".to_string())
        } else if let Some(url) = opts.var("ENDPOINT_CHECK_BASE_URL") {
            (url, "ENDPOINT_CHECK_BASE_URL".to_string())
        } else if let Some(url) = configured {
            (url, "environments.yaml".to_string())
        } else if name == "preview" {
            let found = vercel::detect(opts, def).await?;
            warnings.extend(found.warnings);
            // Vercel and GitHub give host names without a scheme: `https://` is added, whatever the
            // host, loopback included.
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
        },
    )
}

/// The environment's headers, expanded, then the Vercel bypass headers for a preview.
fn headers(opts: &ResolveOptions<'_>, def: Option<&EnvironmentDef>) -> Result<Vec<(String, String)>, Error> {
    let name = opts.name;
    let mut headers = Vec::new();
    for (header, value) in def.iter().flat_map(|d| &d.headers) {
        let value = expand_field(opts, value, &format!("environments.{name}.headers.{header}"))?;
        if crate::http::headers::value(header, &value).is_err() {
            return Err(Error::Environment(format!(
                "{}: environments.{name}.headers.{header}: the value is not a valid header value",
                opts.file_name()
            )));
        }
        headers.push((header.clone(), value));
    }
    if name == "preview"
        && let Some(secret) = opts.var("VERCEL_AUTOMATION_BYPASS_SECRET")
    {
        headers = crate::http::headers::merge(headers.into_iter().chain([
            ("x-vercel-protection-bypass".into(), secret),
            ("x-vercel-set-bypass-cookie".into(), "true".into()),
        ]));
    }
    Ok(headers)
}

/// `--yes` or `--delay` first, then the file's `safety_delay`, then 5 s for `production`.
fn safety_delay(opts: &ResolveOptions<'_>, def: Option<&EnvironmentDef>) -> Duration {
    if opts.yes {
        Duration::ZERO
    } else if let Some(delay) = opts.delay {
        delay
    } else if let Some(delay) = def.and_then(|d| d.safety_delay) {
        delay
    } else if opts.name == "production" {
        DEFAULT_PRODUCTION_DELAY
    } else {
        Duration::ZERO
    }
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

/// Every process environment variable `environments.yaml` refers to (`${NAME}`), once each.
pub fn referenced_variables(environments: Option<&EnvironmentsFile>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for def in environments.iter().flat_map(|f| f.environments.values()) {
        for template in templates(def) {
            for (name, _) in crate::vars::references(template) {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
    }
    names
}

/// The strings of an environment that may hold `${VAR}`.
fn templates(def: &EnvironmentDef) -> impl Iterator<Item = &String> {
    let vercel = def
        .vercel
        .iter()
        .flat_map(|v| [&v.project, &v.team, &v.project_id, &v.team_id]);
    def.base_url
        .iter()
        .chain(def.headers.iter().map(|(_, v)| v))
        .chain(vercel.flatten())
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
        for template in templates(def) {
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
