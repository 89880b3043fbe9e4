//! What a run shows: the live output while checks run, then the reports in every form asked for.

use super::options::Output;
use crate::cli::Format;
use crate::error::Error;
use crate::redact::Redactor;
use crate::report::progress::Progress;
use crate::report::{self, CheckStatus, RunReport, human};
use crate::run;
use std::io::Write;
use std::sync::Arc;

/// Fails before anything is sent when a report file could not be written afterwards.
pub fn check_report_files(output: &Output) -> Result<(), Error> {
    for path in [&output.json, &output.junit, &output.html, &output.metrics]
        .into_iter()
        .flatten()
    {
        report::file::check_writable(path).map_err(Error::Usage)?;
    }
    Ok(())
}

/// What a run shows while it goes: the progress bar, and with human output each suite's block
/// as soon as it and the suites before it are done (a long SLA run in a CI log shows progress).
pub struct LiveOutput {
    pub progress: Arc<Progress>,
    /// `Some` with human output.
    pub human: Option<human::Style>,
    pub redactor: Redactor,
    /// Compares each suite with `--baseline` before its block is shown.
    pub gate: Arc<crate::baseline::Gate>,
}

impl run::Observer for LiveOutput {
    fn started(&self, check: &str) {
        self.progress.started(check);
    }

    fn finished(&self, check: &str, status: CheckStatus) {
        self.progress.finished(check, status);
    }

    fn suite_finished(&self, _index: usize, suite: &report::SuiteReport) {
        if let Some(style) = self.human {
            self.progress.suspend(|| {
                // Human output escapes nothing, so the redacting writer masks every secret in it.
                let mut out = self.redactor.writer(std::io::stdout());
                let _ = if self.gate.baseline.is_some() {
                    let mut suite = suite.clone();
                    self.gate.apply_suite(&mut suite);
                    human::suite_results(&suite, style, &mut out)
                } else {
                    human::suite_results(suite, style, &mut out)
                };
                let _ = out.flush();
            });
        }
    }
}

/// Writes the report files asked for, each whole or not at all, from `masked`; the metrics file
/// from `metrics` (monitor mode counts it since the start). Returns what could not be written.
pub fn write_files(
    masked: &RunReport,
    metrics: &RunReport,
    output: &Output,
    redactor: &Redactor,
) -> Vec<String> {
    type Render = fn(&RunReport, &mut dyn Write) -> std::io::Result<()>;
    let files: [(&Option<std::path::PathBuf>, &RunReport, Render); 4] = [
        (&output.json, masked, report::json::render),
        (&output.junit, masked, report::junit::render),
        (&output.html, masked, report::html::render),
        (&output.metrics, metrics, report::metrics::render_openmetrics),
    ];
    let mut problems = Vec::new();
    for (path, report, render) in files {
        if let Some(path) = path
            && let Err(e) = report::file::write_atomic(path, redactor, |w| render(report, w))
        {
            problems.push(format!("writing {}: {e}", path.display()));
        }
    }
    problems
}

/// stdout in the chosen format, report files, GitHub annotations and step summary. A report
/// that cannot be written is said on stderr; it does not change the exit code.
pub fn write_reports(report: &RunReport, output: &Output, redactor: &Redactor) {
    let mut out = redactor.writer(std::io::stdout());
    let mut err = redactor.writer(std::io::stderr());
    // Masked before escaping: an escaped secret (`&amp;`, `%3A`) would slip past the writer.
    let masked = report::mask::masked(report, redactor);
    let rendered = match output.format {
        // The suites' blocks were printed as they finished.
        Format::Human => human::verdict(&masked, &mut out),
        Format::Json => report::json::render(&masked, &mut out),
        Format::Junit => report::junit::render(&masked, &mut out),
        Format::Tap => report::tap::render(&masked, &mut out),
    };
    let _ = out.flush();
    let mut problems = Vec::new();
    // A reader that went away (`| head`) is not the run's problem.
    if let Err(e) = rendered
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        problems.push(format!("writing the report to stdout: {e}"));
    }
    problems.extend(write_files(&masked, &masked, output, redactor));
    if output.format != Format::Human {
        for note in &masked.origin.notes {
            let _ = writeln!(err, "note: {note}");
        }
    }
    if let Some(github) = &output.github {
        let annotations = report::github::annotations(&masked);
        let target: &mut dyn Write = if output.format == Format::Human {
            &mut out
        } else {
            &mut err
        };
        let _ = target.write_all(annotations.as_bytes());
        let _ = target.flush();
        if let Some(summary) = &github.step_summary
            && let Err(e) = report::file::append(summary, redactor, &report::github::step_summary(&masked))
        {
            problems.push(format!("appending to GITHUB_STEP_SUMMARY: {e}"));
        }
    }
    for p in &problems {
        let _ = writeln!(err, "error: {p}");
    }
}
