//! Reading a JSON report back (docs/merge.md): for `merge` and `--baseline`. Only a report of
//! version 1, as `--json` writes it, is accepted; anything else is said plainly.

use super::across::{CheckAcross, Origin, Sla};
use super::json::{JsonHistogram, VERSION};
use super::{
    CheckReport, CheckStatus, LatencyHistogram, LatencyStats, RequestSummary, ResponseSummary, RunReport,
    SuiteReport,
};
use serde::Deserialize;
use std::path::Path;

#[derive(Deserialize)]
struct Doc {
    environment: String,
    base_url: String,
    base_url_source: String,
    duration_ms: f64,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    run_id: Option<String>,
    #[serde(default)]
    started_at: Option<String>,
    suites: Vec<DocSuite>,
}

#[derive(Deserialize)]
struct DocSuite {
    customer: String,
    title: String,
    file: String,
    checks: Vec<DocCheck>,
}

#[derive(Deserialize)]
struct DocCheck {
    name: String,
    status: String,
    line: usize,
    request: Option<DocRequest>,
    response: Option<DocResponse>,
    duration_ms: Option<f64>,
    samples: usize,
    availability: Option<f64>,
    latency_ms: Option<DocStats>,
    #[serde(default)]
    failures: Vec<String>,
    skip_reason: Option<String>,
    #[serde(default)]
    passed_samples: Option<usize>,
    #[serde(default)]
    histogram: Option<JsonHistogram>,
    #[serde(default)]
    sla: Option<Sla>,
    #[serde(default)]
    rate: Option<super::RateFigures>,
}

#[derive(Deserialize)]
struct DocRequest {
    method: String,
    url: String,
}

#[derive(Deserialize)]
struct DocResponse {
    status: u16,
}

#[derive(Deserialize)]
struct DocStats {
    min: f64,
    p50: f64,
    p90: f64,
    p95: f64,
    p99: f64,
    max: f64,
}

/// Reads the report at `path`; the error is a sentence naming the file.
pub fn read(path: &Path) -> Result<RunReport, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read report {shown}: {e}"))?;
    parse(&text).map_err(|e| format!("{shown}: {e}"))
}

/// Parses a JSON report of version 1.
pub fn parse(text: &str) -> Result<RunReport, String> {
    let not_report = |why: String| format!("not an endpoint-check JSON report ({why})");
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| not_report(e.to_string()))?;
    let version = match value.get("version") {
        Some(v) => v.clone(),
        None if value.is_object() => return Err(not_report("no \"version\" field".to_string())),
        None => return Err(not_report("not a JSON object".to_string())),
    };
    if version.as_u64() != Some(u64::from(VERSION)) {
        return Err(format!(
            "a report of version {version}; this endpoint-check reads reports of version {VERSION}"
        ));
    }
    let doc: Doc = serde_json::from_value(value).map_err(|e| not_report(e.to_string()))?;
    let suites = doc
        .suites
        .into_iter()
        .map(suite)
        .collect::<Result<Vec<_>, String>>()
        .map_err(not_report)?;
    Ok(RunReport {
        title: "Endpoint Checks".to_string(),
        environment: doc.environment,
        base_url: doc.base_url,
        base_url_source: doc.base_url_source,
        duration_ms: doc.duration_ms,
        suites,
        interrupted: None,
        origin: Origin {
            region: doc.region,
            run_id: doc.run_id.unwrap_or_default(),
            started_at: doc.started_at.unwrap_or_default(),
            ..Origin::default()
        },
    })
}

fn suite(s: DocSuite) -> Result<SuiteReport, String> {
    let checks = s
        .checks
        .into_iter()
        .map(check)
        .collect::<Result<Vec<_>, String>>()?;
    Ok(SuiteReport {
        customer: s.customer,
        title: s.title,
        file: s.file,
        checks,
    })
}

fn check(c: DocCheck) -> Result<CheckReport, String> {
    let status = match c.status.as_str() {
        "passed" => CheckStatus::Passed,
        "failed" => CheckStatus::Failed,
        "skipped" => CheckStatus::Skipped,
        "warned" => CheckStatus::Warned,
        other => return Err(format!("check {:?} has an unknown status {other:?}", c.name)),
    };
    let histogram = match c.histogram {
        None => None,
        Some(h) if h.encoding == crate::stats::HISTOGRAM_ENCODING && h.unit == "us" => {
            Some(LatencyHistogram::decode(&h.data).map_err(|e| format!("check {:?}: {e}", c.name))?)
        }
        Some(h) => {
            return Err(format!(
                "check {:?}: histogram encoding {:?} in {:?} is not {:?} in \"us\"",
                c.name,
                h.encoding,
                h.unit,
                crate::stats::HISTOGRAM_ENCODING
            ));
        }
    };
    let passed_samples = c.passed_samples.unwrap_or_else(|| match c.availability {
        Some(a) => (a / 100.0 * c.samples as f64).round() as usize,
        None => 0,
    });
    Ok(CheckReport {
        sampled: c.samples > 1,
        name: c.name,
        status,
        line: c.line,
        request: c.request.map(|r| RequestSummary {
            method: r.method,
            url: r.url,
        }),
        response: c.response.map(|r| ResponseSummary { status: r.status }),
        duration_ms: c.duration_ms,
        samples: c.samples,
        availability: c.availability,
        latency_ms: c.latency_ms.map(|l| LatencyStats {
            min: l.min,
            p50: l.p50,
            p90: l.p90,
            p95: l.p95,
            p99: l.p99,
            max: l.max,
        }),
        failures: c.failures,
        skip_reason: c.skip_reason,
        detail: None,
        passed_samples,
        histogram,
        sla: c.sla,
        across: CheckAcross::default(),
        // Not in the JSON report: a merge exports no certificate gauge.
        certificate_not_after: None,
        rate: c.rate,
        // Phases belong to one run's exchange: a merge has none to show.
        timings: None,
    })
}
