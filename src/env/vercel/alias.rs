//! Step 5, the guessed branch alias `https://{project}-git-{branch-slug}-{team}.vercel.app`.

use super::config::ExpandedConfig;
use super::git::GitContext;
use crate::env::options::ResolveOptions;

/// The longest DNS label Vercel uses as is; longer branch aliases are shortened in an
/// undocumented way, so they cannot be guessed.
pub const MAX_LABEL_LEN: usize = 63;

/// Step 5: the alias of the current branch, or why it cannot be guessed.
pub(super) fn guessed_step(
    opts: &ResolveOptions<'_>,
    vercel: &ExpandedConfig,
    git: &mut GitContext,
) -> Result<String, String> {
    let (project, team) = match (&vercel.project, &vercel.team) {
        (Some(p), Some(t)) => (p, t),
        (None, None) => {
            return Err(format!(
                "vercel.project and vercel.team are not set under `preview:` in {}",
                opts.file_name()
            ));
        }
        (None, Some(_)) => return Err(format!("vercel.project is not set in {}", opts.file_name())),
        (Some(_), None) => return Err(format!("vercel.team is not set in {}", opts.file_name())),
    };
    let branch = git.branch(opts).ok_or_else(|| {
        "the current branch is unknown (set VERCEL_GIT_COMMIT_REF, GITHUB_HEAD_REF or GITHUB_REF_NAME, \
         or run inside a git checkout)"
            .to_string()
    })?;
    guessed_alias(project, team, &branch)
}

/// A branch name as Vercel writes it in a branch alias: ASCII letters lower-cased, every run of
/// other characters outside `[a-z0-9]` turned into one `-`, trimmed of `-` at both ends
/// (`feature/ABC_12` → `feature-abc-12`).
pub fn branch_slug(branch: &str) -> String {
    let mut slug = String::with_capacity(branch.len());
    for c in branch.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_matches('-').to_string()
}

/// `https://{project}-git-{branch-slug}-{team}.vercel.app`, or why it cannot be guessed (an
/// empty slug, or a label longer than [`MAX_LABEL_LEN`] characters).
pub fn guessed_alias(project: &str, team: &str, branch: &str) -> Result<String, String> {
    let slug = branch_slug(branch);
    if slug.is_empty() {
        return Err(format!(
            "branch `{branch}` has no letter or digit to build an alias from"
        ));
    }
    let label = format!(
        "{}-git-{slug}-{}",
        project.trim().to_ascii_lowercase(),
        team.trim().to_ascii_lowercase()
    );
    if label.chars().count() > MAX_LABEL_LEN {
        return Err(format!(
            "the alias label `{label}` is {} characters, longer than {MAX_LABEL_LEN}: Vercel shortens such \
             labels in an undocumented way, so it cannot be guessed (pass --base-url, or set VERCEL_TOKEN \
             for the API step)",
            label.chars().count()
        ));
    }
    Ok(format!("https://{label}.vercel.app"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(branch_slug("feature/ABC_12"), "feature-abc-12");
        assert_eq!(branch_slug("main"), "main");
        assert_eq!(branch_slug("--fix//double__sep--"), "fix-double-sep");
        assert_eq!(branch_slug("fix/über-cool"), "fix-ber-cool");
        assert_eq!(branch_slug("émoji-🚀-launch"), "moji-launch");
        assert_eq!(branch_slug("日本語"), "");
        assert_eq!(branch_slug("Release.2024.10"), "release-2024-10");
    }

    #[test]
    fn aliases() {
        assert_eq!(
            guessed_alias("agentcache-ai", "drgnflai-jetty", "feature/ABC_12").unwrap(),
            "https://agentcache-ai-git-feature-abc-12-drgnflai-jetty.vercel.app"
        );
        // Exactly 63 characters is fine; 64 is not.
        let project = "p";
        let team = "t";
        let fixed = "p-git--t".len();
        let ok = "b".repeat(MAX_LABEL_LEN - fixed);
        let alias = guessed_alias(project, team, &ok).unwrap();
        assert_eq!(
            alias.len(),
            "https://".len() + MAX_LABEL_LEN + ".vercel.app".len()
        );
        let long = "b".repeat(MAX_LABEL_LEN - fixed + 1);
        let err = guessed_alias(project, team, &long).unwrap_err();
        assert!(err.contains("64 characters"), "{err}");
        assert!(err.contains("longer than 63"), "{err}");
        assert!(guessed_alias(project, team, "///").is_err());
    }
}
