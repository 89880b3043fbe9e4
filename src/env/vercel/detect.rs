//! The order of steps 2–5 and, when none applies, the message listing why.

use super::alias::guessed_step;
use super::api::api_step;
use super::config::ExpandedConfig;
use super::git::GitContext;
use super::github::deployment_status;
use crate::env::file::EnvironmentDef;
use crate::env::options::ResolveOptions;
use crate::error::Error;

/// A preview URL found by one of steps 2–5.
#[derive(Debug, Clone, PartialEq)]
pub struct Detected {
    /// As the source gave it (a bare host name gets its scheme from the caller).
    pub url: String,
    /// `VERCEL_BRANCH_URL`, `VERCEL_URL`, `deployment_status`, `vercel-api` or `guessed`.
    pub source: &'static str,
    pub warnings: Vec<String>,
}

/// Runs steps 2–5 of "Preview URL detection" (docs/environments.md) in order. `def` is the
/// `preview` entry of `environments.yaml`. Errors ([`Error::Environment`], exit 3): a failing
/// API step, or no step applied (then the message lists every step and why it did not apply).
pub async fn detect(opts: &ResolveOptions<'_>, def: Option<&EnvironmentDef>) -> Result<Detected, Error> {
    let mut notes: Vec<(&str, String)> = Vec::new();

    // 1. Explicit: resolve() has tried them; say why none applied.
    notes.push(("explicit base URL", explicit_note(opts, def)));

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

    let vercel = ExpandedConfig::of(opts, def)?;
    let mut git = GitContext::default();

    // 4. Vercel REST API.
    match api_step(opts, &vercel, &mut git).await? {
        Ok((url, warnings)) => {
            return Ok(Detected {
                url,
                source: "vercel-api",
                warnings,
            });
        }
        Err(why) => notes.push(("Vercel REST API", why)),
    }

    // 5. Guessed branch alias.
    match guessed_step(opts, &vercel, &mut git) {
        Ok(url) => return Ok(found(url, "guessed")),
        Err(why) => notes.push(("guessed branch alias", why)),
    }

    Err(not_found(&notes))
}

/// Why step 1 found nothing, by what `environments.yaml` says of `preview`.
fn explicit_note(opts: &ResolveOptions<'_>, def: Option<&EnvironmentDef>) -> String {
    let file = opts.file_name();
    match (opts.environments, def.and_then(|d| d.base_url.as_ref())) {
        (None, _) => {
            "--base-url not given, ENDPOINT_CHECK_BASE_URL not set, no environments.yaml".to_string()
        }
        (Some(_), None) => {
            format!("--base-url not given, ENDPOINT_CHECK_BASE_URL not set, {file} sets no preview base_url")
        }
        (Some(_), Some(_)) => format!(
            "--base-url not given, ENDPOINT_CHECK_BASE_URL not set, preview base_url in {file} is empty"
        ),
    }
}

/// The error of a detection where no step applied: every step, numbered, with why.
fn not_found(notes: &[(&str, String)]) -> Error {
    let mut message = String::from("preview URL not found. Tried, in order:");
    for (i, (step, why)) in notes.iter().enumerate() {
        message.push_str(&format!("\n  {}. {step}: {why}", i + 1));
    }
    message.push_str(
        "\nPass --base-url, set ENDPOINT_CHECK_BASE_URL, or configure `preview:` in environments.yaml \
         (see the README, \"Environments\").",
    );
    Error::Environment(message)
}

fn found(url: String, source: &'static str) -> Detected {
    Detected {
        url,
        source,
        warnings: Vec::new(),
    }
}
