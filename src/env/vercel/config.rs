//! The `vercel:` block of the `preview` entry, its `${VAR}` references expanded.

use crate::env::file::EnvironmentDef;
use crate::env::options::{ResolveOptions, expand_field};
use crate::error::Error;

/// What steps 4 and 5 read from `environments.yaml`; a blank value counts as unset.
#[derive(Debug, Default)]
pub(super) struct ExpandedConfig {
    pub(super) project: Option<String>,
    pub(super) team: Option<String>,
    pub(super) project_id: Option<String>,
    pub(super) team_id: Option<String>,
}

impl ExpandedConfig {
    /// The `vercel:` block of `def`, expanded; all unset when there is none.
    pub(super) fn of(opts: &ResolveOptions<'_>, def: Option<&EnvironmentDef>) -> Result<Self, Error> {
        let Some(v) = def.and_then(|d| d.vercel.as_ref()) else {
            return Ok(ExpandedConfig::default());
        };
        Ok(ExpandedConfig {
            project: expand_opt(opts, &v.project, "environments.preview.vercel.project")?,
            team: expand_opt(opts, &v.team, "environments.preview.vercel.team")?,
            project_id: expand_opt(opts, &v.project_id, "environments.preview.vercel.project_id")?,
            team_id: expand_opt(opts, &v.team_id, "environments.preview.vercel.team_id")?,
        })
    }
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
