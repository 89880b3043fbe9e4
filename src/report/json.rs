//! The JSON report (docs/reports.md, `--format json` / `--json PATH`).
//!
//! The shape is a contract: field names and their order are those of docs/reports.md, and a skipped
//! check has `request`, `response`, `duration_ms`, `availability` and `latency_ms` null and
//! `samples` 0 whatever the runner filled in. Durations are rounded to 0.1 ms.

use std::io::{self, Write};

use serde::Serialize;

use super::across::{BaselineFigures, Sla};
use super::{
    CheckReport, CheckStatus, LatencyStats, RateFigures, RequestSummary, ResponseSummary, RunReport, Summary,
    round_ms, round_percent, round_stats,
};

/// The `version` field: bumped only if the shape changes incompatibly.
pub const VERSION: u32 = 1;

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    environment: &'a str,
    base_url: &'a str,
    base_url_source: &'a str,
    duration_ms: f64,
    region: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    regions: Option<&'a [String]>,
    run_id: &'a str,
    started_at: &'a str,
    /// Monitor mode only: the round, and the window in ms (`null` without `--window`).
    #[serde(skip_serializing_if = "Option::is_none")]
    round: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    window_ms: Option<Option<u64>>,
    summary: Summary,
    suites: Vec<JsonSuite<'a>>,
}

#[derive(Serialize)]
struct JsonSuite<'a> {
    customer: &'a str,
    title: &'a str,
    file: &'a str,
    checks: Vec<JsonCheck<'a>>,
}

#[derive(Serialize)]
struct JsonCheck<'a> {
    name: &'a str,
    status: CheckStatus,
    line: usize,
    request: Option<&'a RequestSummary>,
    response: Option<&'a ResponseSummary>,
    duration_ms: Option<f64>,
    samples: usize,
    availability: Option<f64>,
    latency_ms: Option<LatencyStats>,
    failures: &'a [String],
    skip_reason: Option<&'a str>,
    timings_ms: Option<JsonTimings>,
    passed_samples: usize,
    histogram: Option<JsonHistogram>,
    sla: Option<&'a Sla>,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<Option<BaselineFigures>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rate: Option<RateFigures>,
}

/// The phases of a check's judged exchange (docs/behaviour.md#phases), in milliseconds; `null`
/// for a phase that did not happen.
#[derive(Serialize)]
struct JsonTimings {
    dns: Option<f64>,
    connect: Option<f64>,
    tls: Option<f64>,
    ttfb: f64,
    transfer: f64,
    reused: bool,
}

impl JsonTimings {
    fn of(t: &crate::http::Timings) -> JsonTimings {
        let ms = |d: std::time::Duration| round_ms(d.as_secs_f64() * 1000.0);
        JsonTimings {
            dns: t.dns.map(ms),
            connect: t.connect.map(ms),
            tls: t.tls.map(ms),
            ttfb: ms(t.ttfb),
            transfer: ms(t.transfer),
            reused: t.reused,
        }
    }
}

/// A check's histogram in its interchange form (docs/merge.md#what-a-report-carries).
#[derive(Serialize, serde::Deserialize)]
pub struct JsonHistogram {
    pub encoding: String,
    pub unit: String,
    pub data: String,
}

impl JsonHistogram {
    pub fn of(h: &crate::stats::LatencyHistogram) -> JsonHistogram {
        JsonHistogram {
            encoding: crate::stats::HISTOGRAM_ENCODING.to_string(),
            unit: "us".to_string(),
            data: h.encode(),
        }
    }
}

fn baseline_rounded(b: &BaselineFigures) -> BaselineFigures {
    BaselineFigures {
        p50: b.p50.map(round_ms),
        p95: b.p95.map(round_ms),
        p99: b.p99.map(round_ms),
        availability: b.availability.map(round_percent),
    }
}

fn check(c: &CheckReport) -> JsonCheck<'_> {
    let ran = c.status != CheckStatus::Skipped;
    JsonCheck {
        name: &c.name,
        status: c.status,
        line: c.line,
        request: c.request.as_ref().filter(|_| ran),
        response: c.response.as_ref().filter(|_| ran),
        duration_ms: c.duration_ms.filter(|_| ran).map(round_ms),
        samples: if ran { c.samples } else { 0 },
        availability: c.availability.filter(|_| ran).map(round_percent),
        latency_ms: c.latency_ms.as_ref().filter(|_| ran).map(round_stats),
        failures: &c.failures,
        skip_reason: c.skip_reason.as_deref(),
        timings_ms: c.timings.as_ref().filter(|_| ran).map(JsonTimings::of),
        passed_samples: if ran { c.passed_samples } else { 0 },
        histogram: c
            .histogram
            .as_ref()
            .filter(|h| ran && !h.is_empty())
            .map(JsonHistogram::of),
        sla: c.sla.as_ref().filter(|_| ran),
        baseline: c.across.baseline.map(|b| b.as_ref().map(baseline_rounded)),
        rate: c.rate.filter(|_| ran).map(|r| RateFigures {
            asked_per_second: r.asked_per_second,
            achieved_per_second: (r.achieved_per_second * 10.0).round() / 10.0,
        }),
    }
}

/// Writes the JSON report, pretty-printed, with a trailing newline.
pub fn render(report: &RunReport, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(report)).map_err(io::Error::from)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Writes the JSON report on one line, with a trailing newline: one line of JSON Lines, as
/// monitor mode prints each round (docs/monitor.md#output).
pub fn render_line(report: &RunReport, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &document(report)).map_err(io::Error::from)?;
    out.write_all(b"\n")?;
    out.flush()
}

fn document(report: &RunReport) -> JsonReport<'_> {
    let monitor = report.origin.monitor;
    JsonReport {
        version: VERSION,
        environment: &report.environment,
        base_url: &report.base_url,
        base_url_source: &report.base_url_source,
        duration_ms: round_ms(report.duration_ms),
        region: report.origin.region.as_deref(),
        regions: report.origin.merged.as_ref().map(|m| &m.regions[..]),
        run_id: &report.origin.run_id,
        started_at: &report.origin.started_at,
        round: monitor.map(|m| m.round),
        window_ms: monitor.map(|m| m.window_ms),
        summary: report.summary(),
        suites: report
            .suites
            .iter()
            .map(|s| JsonSuite {
                customer: &s.customer,
                title: &s.title,
                file: &s.file,
                checks: s.checks.iter().map(check).collect(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding() {
        assert_eq!(round_ms(2310.2499), 2310.2);
        assert_eq!(round_ms(43.06), 43.1);
        assert_eq!(round_percent(999.0 / 1000.0 * 100.0), 99.9);
        assert_eq!(round_percent(99_999.0 / 100_000.0 * 100.0), 99.999);
    }
}
