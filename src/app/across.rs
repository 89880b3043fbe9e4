//! The commands and steps of docs/merge.md that are not a run's own: `merge`, and pushing a
//! report's metrics to a Pushgateway.

use super::Context;
use super::options::{GitHub, Output, use_color};
use super::output;
use crate::baseline::Gate;
use crate::cli::{Format, MergeArgs};
use crate::error::Error;
use crate::exit::Code;
use crate::merge::{self, Histograms, Input};
use crate::report::{RunReport, human};
use std::io::Write;
use std::path::PathBuf;

/// `merge`: the reports combined into one, judged again, shown and written as a run's would be.
pub async fn merge(args: MergeArgs, ctx: &Context) -> Result<Code, Error> {
    colored::control::set_override(use_color(
        args.report.color,
        std::io::IsTerminal::is_terminal(&std::io::stdout()),
    ));
    let output = merge_output(&args);
    output::check_report_files(&output)?;
    let gate =
        Gate::load(args.report.baseline.as_deref(), args.report.max_regression).map_err(Error::Usage)?;
    let mut histograms = Histograms::default();
    let mut inputs = Vec::new();
    let files: Vec<String> = args.reports.iter().map(|p| p.display().to_string()).collect();
    for (path, file) in args.reports.iter().zip(&files) {
        let mut report = crate::report::read::read(path).map_err(Error::Usage)?;
        histograms.take(&mut report);
        inputs.push(Input::new(file, report));
    }
    let mut report = merge::combine(&inputs, &files, histograms).map_err(Error::Usage)?;
    drop(inputs);
    gate.apply(&mut report);
    if let Some(style) = output.human {
        let masked = crate::report::mask::masked(&report, &ctx.redactor);
        let mut out = ctx.redactor.writer(std::io::stdout());
        let _ = merged_banner(&masked, &mut out);
        for suite in &masked.suites {
            let _ = human::suite_results(suite, style, &mut out);
        }
        let _ = out.flush();
    }
    output::write_reports(&report, &output, &ctx.redactor);
    Ok(report.exit_code())
}

/// The run's banner with `Merged: 3 reports (regions eu-west, us-east, ap-south)` in it.
fn merged_banner(report: &RunReport, out: &mut dyn Write) -> std::io::Result<()> {
    let mut banner = Vec::new();
    human::banner(
        &report.title,
        &report.environment,
        &report.base_url,
        &report.base_url_source,
        &mut banner,
    )?;
    let text = String::from_utf8_lossy(&banner);
    let merged = report.origin.merged.clone().unwrap_or_default();
    let regions = match merged.regions.is_empty() {
        true => String::new(),
        false => format!(" (regions {})", merged.regions.join(", ")),
    };
    let line = format!(
        "Merged: {} report{}{regions}\n",
        merged.reports,
        if merged.reports == 1 { "" } else { "s" }
    );
    // The banner ends with a rule and a blank line: the merged line goes before that rule.
    let body = text.trim_end_matches('\n');
    let cut = body.rfind('\n').map(|i| i + 1).unwrap_or(0);
    write!(out, "{}{line}{}\n\n", &body[..cut], &body[cut..])
}

fn merge_output(args: &MergeArgs) -> Output {
    let var = crate::env::process_lookup;
    Output {
        format: args.report.format,
        color: colored::control::SHOULD_COLORIZE.should_colorize(),
        human: (args.report.format == Format::Human).then_some(human::Style { quiet: args.quiet }),
        json: args.report.json.clone(),
        junit: args.report.junit.clone(),
        github: (var("GITHUB_ACTIONS").as_deref() == Some("true")).then(|| GitHub {
            step_summary: var("GITHUB_STEP_SUMMARY").map(PathBuf::from),
        }),
        metrics: args.report.metrics.clone(),
        html: args.report.html.clone(),
    }
}

/// `--pushgateway`: a failed push is said on stderr and leaves the exit code alone.
pub async fn push(report: &RunReport, url: Option<&str>, ctx: &Context) {
    let Some(url) = url else {
        return;
    };
    let masked = crate::report::mask::masked(report, &ctx.redactor);
    if let Err(e) = crate::report::push::push(&masked, url, &ctx.redactor).await {
        let _ = writeln!(ctx.redactor.writer(std::io::stderr()), "error: {e}");
    }
}
