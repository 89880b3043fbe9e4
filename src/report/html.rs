//! The HTML report (docs/reports.md#html, `--html PATH`): one self-contained page a browser
//! opens offline. Styles are inline, charts are inline SVG, there is no script and no address
//! but the page's own fragments, so opening it sends nothing anywhere.
//!
//! Rendered by `maud`, which escapes every interpolated string: a check name or a response body
//! holding markup shows as text. Like every reporter it is a pure function of the `RunReport`,
//! which the caller has already masked.

mod chart;

use super::{CheckReport, CheckStatus, ExchangeDetail, LatencyLimit, RunReport, SuiteReport, round_ms};
use crate::duration::fmt_ms;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use std::io::{self, Write};

const STYLE: &str = include_str!("html/style.css");

/// Writes the page.
pub fn render(report: &RunReport, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(page(report).into_string().as_bytes())?;
    out.write_all(b"\n")?;
    out.flush()
}

fn page(report: &RunReport) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (report.title) " · " (report.environment) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                a.skip href="#suites" { "Skip to the checks" }
                (banner(report))
                main {
                    (summary(report))
                    (failures_nav(report))
                    div #suites {
                        @for (i, suite) in report.suites.iter().enumerate() {
                            (suite_section(i + 1, suite))
                        }
                    }
                }
                footer { "endpoint-check " (env!("CARGO_PKG_VERSION")) }
            }
        }
    }
}

/// The banner's facts, as the human output's banner shows them.
fn banner(report: &RunReport) -> Markup {
    html! {
        header {
            h1 { (report.title) }
            dl.facts {
                dt { "Environment" }
                dd { strong { (report.environment) } }
                dt { "Base URL" }
                // Text, not a link: a click would send a request the run did not.
                dd { code { (report.base_url) } " (from " (report.base_url_source) ")" }
                @if let Some(region) = &report.origin.region {
                    dt { "Region" }
                    dd { (region) }
                }
                @if let Some(merged) = &report.origin.merged {
                    dt { "Merged" }
                    dd { (merged.reports) " reports" @if !merged.regions.is_empty() { " (regions " (merged.regions.join(", ")) ")" } }
                }
                @if !report.origin.started_at.is_empty() {
                    dt { "Started" }
                    dd { (report.origin.started_at) }
                }
                dt { "Duration" }
                dd { (fmt_ms(report.duration_ms)) }
            }
        }
    }
}

/// The verdict line of the human output, and the counts.
fn summary(report: &RunReport) -> Markup {
    let s = report.summary();
    let verdict = if let Some(kind) = report.interrupted {
        format!(
            "Interrupted by {}: {} passed, {} failed, {} skipped of {} checks",
            kind.name(),
            s.passed + s.warned,
            s.failed,
            s.skipped,
            s.total
        )
    } else if s.failed > 0 {
        format!("✗ {} of {} customer endpoint checks failed", s.failed, s.total)
    } else {
        "✓ All customer endpoint tests passed!".to_string()
    };
    let ok = s.failed == 0 && report.interrupted.is_none();
    html! {
        section #summary aria-labelledby="summary-title" {
            h2 #summary-title { "Summary" }
            p class={ "verdict " (if ok { "ok" } else { "bad" }) } role="status" { (verdict) }
            ul.counts {
                li { b { (s.total) } " checks" }
                li { b { (s.passed) } " passed" }
                li { b { (s.failed) } " failed" }
                li { b { (s.warned) } " warned" }
                li { b { (s.skipped) } " skipped" }
            }
        }
    }
}

fn check_id(suite: usize, check: usize) -> String {
    format!("check-{suite}-{check}")
}

/// Links to every failed and warned check, first thing after the summary.
fn failures_nav(report: &RunReport) -> Markup {
    let failing: Vec<_> = report
        .suites
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            s.checks
                .iter()
                .enumerate()
                .map(move |(j, c)| (i + 1, s, j + 1, c))
        })
        .filter(|(.., c)| matches!(c.status, CheckStatus::Failed | CheckStatus::Warned))
        .collect();
    if failing.is_empty() {
        return html! {};
    }
    html! {
        nav.failures #failures aria-labelledby="failures-title" {
            h2 #failures-title { "Failures (" (failing.len()) ")" }
            ol {
                @for (i, suite, j, c) in &failing {
                    li {
                        a href={ "#" (check_id(*i, *j)) } { (suite.title) " › " (c.name) }
                        @if c.status == CheckStatus::Warned { " (warned, optional)" }
                        @if let Some(first) = c.failures.first() { ": " (first) }
                    }
                }
            }
        }
    }
}

fn suite_section(i: usize, suite: &SuiteReport) -> Markup {
    let counts = super::Summary::of(&suite.checks);
    html! {
        section.suite aria-labelledby={ "suite-" (i) } {
            h2 id={ "suite-" (i) } { (suite.title) }
            p.suite-meta {
                (suite.customer) " · " code { (suite.file) } " · "
                (counts.passed) " passing"
                @if counts.failed > 0 { ", " (counts.failed) " failing" }
                @if counts.warned > 0 { ", " (counts.warned) " warned" }
                @if counts.skipped > 0 { ", " (counts.skipped) " skipped" }
            }
            ol.checks {
                @for (j, c) in suite.checks.iter().enumerate() {
                    li { (check(&check_id(i, j + 1), c)) }
                }
            }
        }
    }
}

fn status_words(status: CheckStatus) -> (&'static str, &'static str) {
    match status {
        CheckStatus::Passed => ("passed", "✓ passed"),
        CheckStatus::Failed => ("failed", "✗ failed"),
        CheckStatus::Skipped => ("skipped", "– skipped"),
        CheckStatus::Warned => ("warned", "! warned"),
    }
}

/// One check: status, name, duration, failures (each says what was expected and what was
/// found), the request, the latency chart of a sampled check, and `-v` details when carried.
fn check(id: &str, c: &CheckReport) -> Markup {
    let (class, words) = status_words(c.status);
    let ran = c.status != CheckStatus::Skipped;
    let failing = matches!(c.status, CheckStatus::Failed | CheckStatus::Warned);
    html! {
        article class={ "check " (class) } id=(id) tabindex="-1" {
            div.check-head {
                span.badge { (words) }
                h3 { (c.name) }
                @if ran && !c.sampled {
                    @if let Some(ms) = c.duration_ms { span.note { (fmt_ms(ms)) } }
                }
                span.note { "line " (c.line) }
                @if ran { (request_line(c)) }
            }
            @if let Some(reason) = &c.skip_reason { p.note { "skipped: " (reason) } }
            @if !c.failures.is_empty() {
                ul.problems aria-label="Failures" {
                    @for f in &c.failures {
                        li { pre { @if c.status == CheckStatus::Warned { "warning: " } (f) } }
                    }
                }
            }
            @if ran && c.sampled { (latency(c)) }
            @if let Some(t) = c.timings.as_ref().filter(|_| ran) { (phases(t, c.sampled)) }
            @if let Some(merged) = &c.across.merged { (regions(merged)) }
            @if let Some(d) = &c.detail { (exchange(c, d)) }
            @if failing { p.back { a href="#failures" { "↑ back to the failures" } } }
        }
    }
}

fn request_line(c: &CheckReport) -> Markup {
    html! {
        @if let Some(req) = &c.request {
            span.request {
                code { (req.method) " " (req.url) }
                " → "
                @match &c.response {
                    Some(r) => code { (r.status) },
                    None => "no response",
                }
            }
        }
    }
}

/// A figure in the report's own precision: `88.2 ms`.
fn ms(v: f64) -> String {
    format!("{:.1} ms", round_ms(v))
}

fn limit_text(l: &LatencyLimit) -> String {
    format!("{} ≤ {}", l.of, fmt_ms(l.ms))
}

/// A sampled check's figures, its histogram and its limits.
fn latency(c: &CheckReport) -> Markup {
    let limits = c.sla.as_ref().map(|s| s.latency_limits()).unwrap_or_default();
    let drawn = match (&c.histogram, &c.latency_ms) {
        (Some(h), Some(s)) => chart::histogram(h, s, &limits),
        _ => None,
    };
    html! {
        figure.latency {
            @if let Some((svg, _)) = &drawn {
                // Scrolls sideways on a phone rather than shrinking the labels past reading.
                div.plot tabindex="0" aria-label="Latency histogram, scrollable" { (PreEscaped(svg)) }
            }
            figcaption {
                dl.figures {
                    div { dt { "samples" } dd { (c.samples) } }
                    div { dt { "ok" } dd { (format!("{:.1}%", c.availability.unwrap_or(0.0))) } }
                    @if let Some(s) = &c.latency_ms {
                        @for (name, v) in [("min", s.min), ("p50", s.p50), ("p90", s.p90), ("p95", s.p95), ("p99", s.p99), ("max", s.max)] {
                            div { dt { (name) } dd { (ms(v)) } }
                        }
                    }
                }
                @if !limits.is_empty() {
                    p { "Limits: "
                        @for (k, l) in limits.iter().enumerate() {
                            @if k > 0 { ", " }
                            (limit_text(l))
                            @if drawn.as_ref().is_some_and(|(_, far)| far.contains(l)) { " (off the chart)" }
                        }
                    }
                }
            }
        }
    }
}

/// The phases of the check's judged exchange as one bar, each phase as wide as its share of the
/// exchange, with the figures beside it (docs/behaviour.md#phases).
fn phases(t: &crate::http::Timings, sampled: bool) -> Markup {
    let total = t.total().as_secs_f64().max(f64::MIN_POSITIVE);
    let happened: Vec<(&'static str, f64)> = t
        .phases()
        .into_iter()
        .filter_map(|(name, d)| Some((name, d?.as_secs_f64())))
        .collect();
    let label = |name: &'static str| if name == "ttfb" { "first byte" } else { name };
    html! {
        figure.phases {
            div.phasebar role="img" aria-label={ "Phases: " (t.describe()) } {
                @for (name, s) in &happened {
                    span class={ "phase " (name) } style={ "flex-grow: " (format!("{:.6}", s / total)) } title={ (label(name)) " " (ms(s * 1000.0)) } {}
                }
            }
            figcaption {
                @if sampled { "Slowest sample: " }
                @if t.reused { "reused connection · " }
                @for (k, (name, s)) in happened.iter().enumerate() {
                    @if k > 0 { " · " }
                    span class={ "key " (name) } {} (label(name)) " " (ms(s * 1000.0))
                }
            }
        }
    }
}

/// A merged check's figures per region (docs/merge.md), one row per report that ran it.
fn regions(merged: &super::across::MergedCheck) -> Markup {
    html! {
        table.regions {
            caption { "By region (" (merged.reports) " of " (merged.of) " reports)" }
            thead { tr { th { "region" } th { "samples" } th { "ok" } th { "p50" } th { "p95" } th { "p99" } } }
            tbody {
                @for r in &merged.regions {
                    tr {
                        th scope="row" { (r.region) }
                        td { (r.samples) }
                        td { (format!("{:.1}%", r.availability())) }
                        @for v in [r.p50, r.p95, r.p99] {
                            td { (v.map(ms).unwrap_or_else(|| "–".into())) }
                        }
                    }
                }
            }
        }
    }
}

/// The recorded exchange `-v`/`-vv` carries, folded away.
fn exchange(c: &CheckReport, d: &ExchangeDetail) -> Markup {
    html! {
        details {
            summary { "Request and response" }
            pre {
                @if let Some(req) = &c.request { "> " (req.method) " " (req.url) "\n" }
                @for (k, v) in &d.request_headers { "> " (k) ": " (v) "\n" }
                @if let Some(b) = &d.request_body { (b) "\n" }
                @if let Some(curl) = &d.curl { (curl) "\n" }
                @match d.response_status {
                    Some(s) => { "< " (s) @if let Some(t) = d.ttfb_ms { " (first byte after " (fmt_ms(t)) ")" } "\n" },
                    None => "< no response\n",
                }
                @for (k, v) in &d.response_headers { "< " (k) ": " (v) "\n" }
                @if let Some(b) = &d.response_body { (b) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(name: &str, status: CheckStatus, failures: &[&str]) -> RunReport {
        let mut check = CheckReport::skipped(name, 7, "x");
        check.status = status;
        check.skip_reason = None;
        check.failures = failures.iter().map(|f| f.to_string()).collect();
        RunReport {
            title: "T & <b>".into(),
            environment: "demo".into(),
            base_url: "http://127.0.0.1:1".into(),
            base_url_source: "demo".into(),
            duration_ms: 12.0,
            suites: vec![SuiteReport {
                customer: "c".into(),
                title: "Suite".into(),
                file: "suites/c.yaml".into(),
                checks: vec![check],
            }],
            interrupted: None,
            origin: Default::default(),
        }
    }

    fn page_of(r: &RunReport) -> String {
        let mut out = Vec::new();
        render(r, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn text_is_escaped_and_failures_are_linked() {
        let html = page_of(&report(
            "<script>x</script>",
            CheckStatus::Failed,
            &["expected <a>, got \"b\""],
        ));
        assert!(!html.contains("<script>x"), "{html}");
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(html.contains("T &amp; &lt;b&gt;"));
        assert!(html.contains("expected &lt;a&gt;, got &quot;b&quot;"));
        assert!(
            html.contains(r##"<a href="#check-1-1">"##),
            "a link to the failure"
        );
        assert!(html.contains(r#"id="check-1-1""#));
        assert!(html.contains("✗ 1 of 1 customer endpoint checks failed"));
    }

    #[test]
    fn a_passing_run_has_no_failure_list() {
        let html = page_of(&report("ok", CheckStatus::Passed, &[]));
        assert!(!html.contains(r#"id="failures""#));
        assert!(html.contains("✓ All customer endpoint tests passed!"));
    }
}
