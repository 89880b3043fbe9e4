//! GitHub Actions output (docs/reports.md, when `GITHUB_ACTIONS=true`): workflow-command annotations that
//! point at each failed check in its suite file, and a Markdown step summary.
//!
//! Neither function prints anything: the caller sends [`annotations`] to stdout (human output)
//! or stderr (when stdout carries a report) through the redacting writer, and appends
//! [`step_summary`] to `$GITHUB_STEP_SUMMARY` with [`super::file::append`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{CheckReport, CheckStatus, RunReport};

/// Escapes a workflow-command property value: `%`, CR, LF, `:` and `,`. Other control
/// characters (an escape sequence in a server's message, say) become spaces.
pub fn escape_property(s: &str) -> String {
    escape(s, true)
}

/// Escapes a workflow-command message: `%`, CR and LF; other control characters become spaces.
pub fn escape_message(s: &str) -> String {
    escape(s, false)
}

/// A property also escapes `:` and `,`, which end it.
fn escape(s: &str, property: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ':' if property => out.push_str("%3A"),
            ',' if property => out.push_str("%2C"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The suite file as the annotation names it: relative to `cwd` when it is absolute and under it,
/// without a leading `./`, with `/` separators.
fn annotation_path(file: &str, cwd: Option<&Path>) -> String {
    let path = Path::new(file);
    let rel: PathBuf = match cwd {
        Some(cwd) if path.is_absolute() => path
            .strip_prefix(cwd)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| path.to_path_buf()),
        _ => path.to_path_buf(),
    };
    let mut s = rel.to_string_lossy().into_owned();
    if std::path::MAIN_SEPARATOR != '/' {
        s = s.replace(std::path::MAIN_SEPARATOR, "/");
    }
    while let Some(rest) = s.strip_prefix("./") {
        s = rest.to_string();
    }
    s
}

/// One `::error` line per failed check and one `::warning` line per warned check, each ending in
/// a newline; empty when nothing failed or warned. Paths are made relative to the current folder.
pub fn annotations(report: &RunReport) -> String {
    let cwd = std::env::current_dir().ok();
    annotations_in(report, cwd.as_deref())
}

/// [`annotations`] with an explicit current folder.
pub fn annotations_in(report: &RunReport, cwd: Option<&Path>) -> String {
    let mut out = String::new();
    for suite in &report.suites {
        let file = escape_property(&annotation_path(&suite.file, cwd));
        for c in &suite.checks {
            let level = match c.status {
                CheckStatus::Failed => "error",
                CheckStatus::Warned => "warning",
                CheckStatus::Passed | CheckStatus::Skipped => continue,
            };
            let title = escape_property(&format!("{}: {}", suite.customer, c.name));
            let message = if c.failures.is_empty() {
                "check failed".to_string()
            } else {
                c.failures.join("\n")
            };
            let _ = writeln!(
                out,
                "::{level} file={file},line={},title={title}::{}",
                c.line,
                escape_message(&message)
            );
        }
    }
    out
}

/// Escapes text for one Markdown table cell: Markdown punctuation is backslash-escaped, `|`
/// included (so it does not split the cell), `&`, `<` and `>` become entities (so nothing is read
/// as HTML), line breaks become `<br>` and other control characters spaces.
fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' => out.push_str("<br>"),
            '\r' => {}
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Most failures listed in one table cell; the rest are counted.
const MAX_FAILURES_IN_CELL: usize = 5;

fn details(c: &CheckReport) -> String {
    let mut parts: Vec<String> = Vec::new();
    if c.sampled && c.status != CheckStatus::Skipped {
        let mut sla = format!("{} samples", c.samples);
        if let Some(a) = c.availability {
            let _ = write!(sla, ", {a:.1}% ok");
        }
        if let Some(l) = c.latency_ms {
            let _ = write!(
                sla,
                ", p50 {}, p95 {}, p99 {}",
                crate::duration::fmt_ms(l.p50),
                crate::duration::fmt_ms(l.p95),
                crate::duration::fmt_ms(l.p99)
            );
        }
        parts.push(cell(&sla));
    }
    match c.status {
        CheckStatus::Failed | CheckStatus::Warned => {
            for f in c.failures.iter().take(MAX_FAILURES_IN_CELL) {
                parts.push(cell(f));
            }
            if c.failures.len() > MAX_FAILURES_IN_CELL {
                parts.push(format!("… and {} more", c.failures.len() - MAX_FAILURES_IN_CELL));
            }
        }
        CheckStatus::Skipped => {
            if let Some(r) = &c.skip_reason {
                parts.push(cell(r));
            }
        }
        CheckStatus::Passed => {}
    }
    parts.join("<br>")
}

fn status_cell(s: CheckStatus) -> &'static str {
    match s {
        CheckStatus::Passed => "✅ passed",
        CheckStatus::Failed => "❌ failed",
        CheckStatus::Skipped => "⏭️ skipped",
        CheckStatus::Warned => "⚠️ warned",
    }
}

/// The Markdown summary for `$GITHUB_STEP_SUMMARY`: a heading with the verdict, the environment
/// and base URL, a table with one row per check, and the totals. Ends with a blank line, so
/// summaries of several steps appended to one file stay apart.
pub fn step_summary(report: &RunReport) -> String {
    let s = report.summary();
    let mut out = String::new();
    let verdict = match report.interrupted {
        Some(kind) => format!("⛔ Run interrupted by {}", kind.name()),
        None if s.failed > 0 => format!("❌ {} of {} checks failed", s.failed, s.total),
        None => format!("✅ All {} checks passed", s.total),
    };
    let _ = writeln!(out, "## {}: {}", cell(&report.title), verdict);
    out.push('\n');
    let _ = writeln!(
        out,
        "**Environment:** {} · **Base URL:** {} (from {}) · **Duration:** {}",
        cell(&report.environment),
        cell(&report.base_url),
        cell(&report.base_url_source),
        crate::duration::fmt_ms(report.duration_ms)
    );
    out.push('\n');
    out.push_str("| Customer | Check | Status | Duration | Details |\n");
    out.push_str("|---|---|---|---:|---|\n");
    for suite in &report.suites {
        for c in &suite.checks {
            let duration = match c.duration_ms {
                Some(ms) if c.status != CheckStatus::Skipped => crate::duration::fmt_ms(ms),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                cell(&suite.customer),
                cell(&c.name),
                status_cell(c.status),
                duration,
                details(c)
            );
        }
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "**Totals:** {} checks: {} passed, {} failed, {} skipped, {} warned",
        s.total, s.passed, s.failed, s.skipped, s.warned
    );
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_escaping() {
        assert_eq!(escape_property("a%b\rc\nd:e,f"), "a%25b%0Dc%0Ad%3Ae%2Cf");
        // `%` first, so an escape is never escaped twice the wrong way.
        assert_eq!(escape_property("%3A"), "%253A");
        assert_eq!(escape_property("é ü\u{1b}[0m\t"), "é ü [0m ");
    }

    #[test]
    fn message_escaping_keeps_colons_and_commas() {
        assert_eq!(
            escape_message("expected 200, got 503: 100%\r\nnext"),
            "expected 200, got 503: 100%25%0D%0Anext"
        );
    }

    #[test]
    fn paths_relative_to_the_current_folder() {
        let cwd = Path::new("/home/ci/repo");
        assert_eq!(
            annotation_path("/home/ci/repo/suites/a.yaml", Some(cwd)),
            "suites/a.yaml"
        );
        assert_eq!(
            annotation_path("/elsewhere/a.yaml", Some(cwd)),
            "/elsewhere/a.yaml"
        );
        assert_eq!(annotation_path("./suites/a.yaml", Some(cwd)), "suites/a.yaml");
        assert_eq!(annotation_path("suites/a.yaml", None), "suites/a.yaml");
    }

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(cell("a|b\nc <x> & *y*"), "a\\|b<br>c &lt;x&gt; &amp; \\*y\\*");
    }

    #[test]
    fn durations() {
        assert_eq!(crate::duration::fmt_ms(43.4), "43 ms");
    }
}
