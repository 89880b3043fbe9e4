//! The human report (docs/reports.md): a banner, each suite's checks in file order, counts, a verdict.
//! Colors come from `colored`, switched on or off once for the process by the caller.

use super::across;
use super::{CheckReport, CheckStatus, ExchangeDetail, RunReport, SuiteReport, Summary};
use crate::duration::fmt_ms;
use colored::Colorize;
use std::io::{self, Write};

const RULE: &str = "================================================";

/// How much to show. `-v`/`-vv` need nothing here: the runner decides which checks carry
/// request and response details, and every detail a check carries is shown.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    /// `-q`: only failures and the summary.
    pub quiet: bool,
}

/// The banner, printed before the run starts (and before any countdown).
pub fn banner(
    title: &str,
    environment: &str,
    base_url: &str,
    source: &str,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out, "{RULE}")?;
    writeln!(out, "  {}", title.bold())?;
    writeln!(out, "{RULE}")?;
    environment_lines(environment, base_url, source, out)?;
    writeln!(out, "{RULE}")?;
    writeln!(out)
}

/// `Environment:` and `Base URL: … (from SOURCE)`, also used by `list`.
pub fn environment_lines(
    environment: &str,
    base_url: &str,
    source: &str,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out, "Environment: {}", environment.bold())?;
    writeln!(out, "Base URL: {base_url} (from {source})")
}

/// One suite's block: its checks in file order and its counts. A run prints each block as soon
/// as that suite and every suite before it have finished.
pub fn suite_results(suite: &SuiteReport, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let counts = Summary::of(&suite.checks);
    if style.quiet && counts.failed == 0 && counts.warned == 0 {
        return Ok(());
    }
    writeln!(out, "Running {} endpoint tests...", suite.customer)?;
    writeln!(out, "  {}", suite.title.bold())?;
    for check in &suite.checks {
        if style.quiet && !matches!(check.status, CheckStatus::Failed | CheckStatus::Warned) {
            continue;
        }
        check_lines(check, out)?;
    }
    writeln!(out, "  {}", suite_counts(&counts))?;
    writeln!(out)
}

fn check_lines(check: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
    let (mark, name) = match check.status {
        CheckStatus::Passed => ("✓".green().to_string(), check.name.normal()),
        CheckStatus::Failed => ("✗".red().bold().to_string(), check.name.red()),
        CheckStatus::Skipped => ("-".yellow().to_string(), check.name.dimmed()),
        CheckStatus::Warned => ("!".yellow().bold().to_string(), check.name.yellow()),
    };
    let note = match check.status {
        CheckStatus::Skipped => format!("skipped: {}", check.skip_reason.as_deref().unwrap_or("")),
        _ if check.sampled => sla_figures(check),
        _ => fmt_ms(check.duration_ms.unwrap_or(0.0)),
    };
    writeln!(out, "    {mark} {name} {}", format!("({note})").dimmed())?;
    for failure in &check.failures {
        let text = match check.status {
            CheckStatus::Warned => format!("warning: {failure}").yellow(),
            _ => failure.red(),
        };
        for (i, line) in text.to_string().lines().enumerate() {
            let indent = if i == 0 { "        " } else { "          " };
            writeln!(out, "{indent}{line}")?;
        }
    }
    if let Some(m) = check
        .across
        .merged
        .as_ref()
        .filter(|_| check.status != CheckStatus::Passed)
    {
        writeln!(out, "        {}", across::breakdown(m).dimmed())?;
    }
    if let Some(detail) = &check.detail {
        exchange(check, detail, out)?;
    }
    Ok(())
}

/// `50 samples, 100.0% ok, p50 41 ms, p95 88 ms, p99 120 ms`.
fn sla_figures(check: &CheckReport) -> String {
    let mut parts = vec![
        format!("{} samples", check.samples),
        format!("{:.1}% ok", check.availability.unwrap_or(0.0)),
    ];
    let base = check.across.baseline.flatten();
    if let Some(l) = &check.latency_ms {
        parts.push(across::figure("p50", l.p50, base.and_then(|b| b.p50)));
        parts.push(across::figure("p95", l.p95, base.and_then(|b| b.p95)));
        parts.push(across::figure("p99", l.p99, base.and_then(|b| b.p99)));
    }
    if let Some(r) = &check.rate {
        parts.push(format!("{:.1}/s sent", r.achieved_per_second));
    }
    if let Some(m) = check.across.merged.as_ref().filter(|m| m.reports < m.of) {
        parts.push(format!("{} of {} reports", m.reports, m.of));
    }
    parts.join(", ")
}

/// The request and response of a check, for `-v`/`-vv`.
fn exchange(check: &CheckReport, detail: &ExchangeDetail, out: &mut dyn Write) -> io::Result<()> {
    let pad = "        ";
    if let Some(req) = &check.request {
        writeln!(out, "{pad}{}", format!("> {} {}", req.method, req.url).cyan())?;
    }
    for (name, value) in &detail.request_headers {
        writeln!(out, "{pad}> {name}: {value}")?;
    }
    if let Some(body) = &detail.request_body {
        for line in body.lines() {
            writeln!(out, "{pad}> {line}")?;
        }
    }
    if let Some(curl) = &detail.curl {
        // Unprefixed, so the line pastes into a shell as it is.
        writeln!(out, "{pad}{curl}")?;
    }
    match detail.response_status {
        Some(status) => {
            let ttfb = detail
                .ttfb_ms
                .map(|t| format!(" (first byte after {})", fmt_ms(t)))
                .unwrap_or_default();
            writeln!(out, "{pad}{}", format!("< {status}{ttfb}").cyan())?;
            if let Some(t) = &detail.timings {
                writeln!(out, "{pad}timings: {}", t.describe())?;
            }
        }
        None => writeln!(out, "{pad}{}", "< no response".cyan())?,
    }
    for (name, value) in &detail.response_headers {
        writeln!(out, "{pad}< {name}: {value}")?;
    }
    if let Some(body) = &detail.response_body {
        for line in body.lines() {
            writeln!(out, "{pad}< {line}")?;
        }
    }
    Ok(())
}

/// `3 passing, 1 failing, 1 skipped`: passing always, the rest when not zero.
fn suite_counts(c: &Summary) -> String {
    let mut parts = vec![format!("{} passing", c.passed).green().to_string()];
    if c.failed > 0 {
        parts.push(format!("{} failing", c.failed).red().to_string());
    }
    if c.warned > 0 {
        parts.push(format!("{} warned", c.warned).yellow().to_string());
    }
    if c.skipped > 0 {
        parts.push(format!("{} skipped", c.skipped).yellow().to_string());
    }
    parts.join(", ")
}

/// The closing block: all passed, how many failed, or interrupted.
pub fn verdict(report: &RunReport, out: &mut dyn Write) -> io::Result<()> {
    let s = report.summary();
    writeln!(out, "{RULE}")?;
    if let Some(kind) = report.interrupted {
        let line = format!(
            "⛔ Interrupted by {}: {} passed, {} failed, {} skipped of {} checks",
            kind.name(),
            s.passed + s.warned,
            s.failed,
            s.skipped,
            s.total
        );
        writeln!(out, "{}", line.red().bold())?;
    } else if s.failed > 0 {
        let line = format!("❌ {} of {} customer endpoint checks failed", s.failed, s.total);
        writeln!(out, "{}", line.red().bold())?;
    } else {
        writeln!(out, "{}", "✅ All customer endpoint tests passed!".green().bold())?;
    }
    for note in &report.origin.notes {
        writeln!(out, "{}", format!("note: {note}").yellow())?;
    }
    writeln!(out, "{RULE}")
}
