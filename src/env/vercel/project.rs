//! Which Vercel project step 4 asks about (docs/environments.md, "Step 4, the Vercel API").

use super::config::ExpandedConfig;
use crate::env::options::ResolveOptions;
use serde_json::Value;
use std::path::{Path, PathBuf};

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
pub(super) fn find_project(opts: &ResolveOptions<'_>, vercel: &ExpandedConfig) -> Result<Project, String> {
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
