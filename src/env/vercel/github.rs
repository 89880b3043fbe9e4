//! Step 3, the GitHub `deployment_status` event, and the event file it and the current commit read.

use crate::env::options::ResolveOptions;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The JSON of the event file at `GITHUB_EVENT_PATH` (relative to `opts.cwd`), or why not.
pub(super) fn read_event(opts: &ResolveOptions<'_>) -> Result<Value, String> {
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

/// Step 3: the URL of a successful preview `deployment_status` event, or why there is none.
pub(super) fn deployment_status(opts: &ResolveOptions<'_>) -> Result<String, String> {
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
