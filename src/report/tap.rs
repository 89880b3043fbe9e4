//! The TAP report (docs/reports.md, `--format tap`): TAP version 14, one flat test point per check, in
//! suite order and check order.
//!
//! ```text
//! TAP version 14
//! 1..4
//! ok 1 - audio1.tv: GET /api/cdn/stream
//! not ok 2 - audio1.tv: POST /api/transcode/submit
//!   ---
//!   message: expected status 200, got 503
//!   severity: fail
//!   ...
//! ok 3 - audio1.tv: GET /api/transcode/status/:jobId # SKIP needs "POST /api/transcode/submit"
//! not ok 4 - audio1.tv: GET /api/brain/health # TODO warned: expected status 200, got 500
//!   ---
//!   ...
//! # 1 passed, 1 failed, 1 skipped, 1 warned
//! ```
//!
//! - A skipped check is `ok … # SKIP reason`.
//! - A warned check (an `optional: true` check that failed) is `not ok … # TODO warned: first
//!   failure`: TAP's TODO directive means exactly "this test fails and that is expected", so a
//!   harness counts it as neither a pass nor a failure, and the run's verdict stays the same as
//!   the tool's exit code. It gets a diagnostic block like a failure, with `severity: todo`.
//! - A failed check gets a YAML diagnostic block (indented two spaces, between `---` and `...`)
//!   with `message` (the first failure), `severity`, every failure, where the check is, the
//!   request, the response status, the duration and, for sampled checks, the SLA figures.
//! - In descriptions `\` and `#` are escaped (`\\`, `\#`) as TAP 14 requires; line breaks and
//!   other control characters in descriptions and directive reasons become spaces, so every test
//!   point stays on one line.
//! - The last line is a comment with the totals; an interrupted run adds a comment saying so.

use std::io::{self, Write};

use serde::Serialize;

use super::{CheckReport, CheckStatus, LatencyStats, RunReport, round_ms, round_percent, round_stats};

/// One line of text: control characters (line breaks included) become spaces.
fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// A test point description: one line, with `\` and `#` escaped.
fn description(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '#' => out.push_str("\\#"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[derive(Serialize)]
struct At<'a> {
    file: &'a str,
    line: usize,
}

#[derive(Serialize)]
struct Request<'a> {
    method: &'a str,
    url: &'a str,
}

#[derive(Serialize)]
struct Sla {
    samples: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    availability: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    latency_ms: Option<LatencyStats>,
}

#[derive(Serialize)]
struct Diagnostic<'a> {
    message: &'a str,
    severity: &'static str,
    failures: &'a [String],
    at: At<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request: Option<Request<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sla: Option<Sla>,
}

fn diagnostic(out: &mut dyn Write, file: &str, c: &CheckReport, severity: &'static str) -> io::Result<()> {
    let message = c.failures.first().map_or("check failed", String::as_str);
    let sla = c.sampled.then(|| Sla {
        samples: c.samples,
        availability: c.availability.map(round_percent),
        latency_ms: c.latency_ms.as_ref().map(round_stats),
    });
    let diag = Diagnostic {
        message,
        severity,
        failures: &c.failures,
        at: At { file, line: c.line },
        request: c.request.as_ref().map(|r| Request {
            method: &r.method,
            url: &r.url,
        }),
        status: c.response.as_ref().map(|r| r.status),
        duration_ms: c.duration_ms.map(round_ms),
        sla,
    };
    let yaml = serde_yaml::to_string(&diag).map_err(io::Error::other)?;
    writeln!(out, "  ---")?;
    for line in yaml.lines() {
        if line == "---" {
            continue;
        }
        writeln!(out, "  {line}")?;
    }
    writeln!(out, "  ...")
}

/// Writes the TAP version 14 report.
pub fn render(report: &RunReport, out: &mut dyn Write) -> io::Result<()> {
    let summary = report.summary();
    writeln!(out, "TAP version 14")?;
    writeln!(out, "1..{}", summary.total)?;
    let mut n = 0usize;
    for suite in &report.suites {
        for c in &suite.checks {
            n += 1;
            let desc = description(&format!("{}: {}", suite.customer, c.name));
            match c.status {
                CheckStatus::Passed => writeln!(out, "ok {n} - {desc}")?,
                CheckStatus::Skipped => {
                    let reason = one_line(c.skip_reason.as_deref().unwrap_or(""));
                    writeln!(out, "ok {n} - {desc} # SKIP {reason}")?;
                }
                CheckStatus::Failed => {
                    writeln!(out, "not ok {n} - {desc}")?;
                    diagnostic(out, &suite.file, c, "fail")?;
                }
                CheckStatus::Warned => {
                    let first = one_line(c.failures.first().map_or("", String::as_str));
                    writeln!(out, "not ok {n} - {desc} # TODO warned: {first}")?;
                    diagnostic(out, &suite.file, c, "todo")?;
                }
            }
        }
    }
    writeln!(
        out,
        "# {} passed, {} failed, {} skipped, {} warned",
        summary.passed, summary.failed, summary.skipped, summary.warned
    )?;
    if let Some(kind) = report.interrupted {
        writeln!(out, "# interrupted ({})", kind.name())?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_escape_hash_and_backslash_and_stay_on_one_line() {
        assert_eq!(description("a #1 \\ b\nc"), "a \\#1 \\\\ b c");
        assert_eq!(one_line("x\r\ny\u{1b}"), "x  y ");
    }
}
