//! `RunReport`: the one value every reporter renders from (docs/reports.md), and the reporters.

use crate::exit::Code;
pub use crate::interrupt::Interruption;
pub use crate::stats::{LatencyHistogram, LatencyStats};

pub mod across;
pub mod file;
pub mod github;
pub mod html;
pub mod human;
pub mod json;
pub mod junit;
pub mod mask;
pub mod metrics;
pub mod progress;
pub mod push;
pub mod read;
pub mod tap;

/// How a check ended (docs/reports.md#check-outcomes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Passed,
    Failed,
    Skipped,
    /// An `optional: true` check that failed: shown, never fails the run.
    Warned,
}

impl CheckStatus {
    /// The status of a check that ran: an `optional` one warns instead of failing.
    pub fn judged(passed: bool, optional: bool) -> CheckStatus {
        match (passed, optional) {
            (true, _) => CheckStatus::Passed,
            (false, true) => CheckStatus::Warned,
            (false, false) => CheckStatus::Failed,
        }
    }
}

/// The request as it was sent (secrets are masked later, by the writer).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RequestSummary {
    pub method: String,
    pub url: String,
}

/// The response shown for a check; a check that got no complete response has none.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ResponseSummary {
    pub status: u16,
}

/// A recorded exchange, for `-v` / `-vv` and nothing else.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExchangeDetail {
    pub request_headers: Vec<(String, String)>,
    pub request_body: Option<String>,
    pub response_status: Option<u16>,
    pub response_headers: Vec<(String, String)>,
    /// At most the first 2 KiB of the body, as text.
    pub response_body: Option<String>,
    /// Time to first byte of the first sample, in milliseconds.
    pub ttfb_ms: Option<f64>,
    /// A `curl` command line that repeats the request, secrets written as their environment
    /// variables or `***` (docs/cli.md#verbose-output).
    pub curl: Option<String>,
    /// The phases of this exchange (docs/behaviour.md#phases), when a full response came back.
    pub timings: Option<crate::http::Timings>,
}

/// One check's result.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    pub name: String,
    pub status: CheckStatus,
    /// 1-based line of the check's list item in its suite file.
    pub line: usize,
    pub request: Option<RequestSummary>,
    pub response: Option<ResponseSummary>,
    pub duration_ms: Option<f64>,
    /// Requests sent and judged; 0 for a skipped check.
    pub samples: usize,
    /// True when the check was configured for SLA sampling (`samples`/`--samples`), so the human
    /// line shows the SLA figures even if every sample agreed.
    pub sampled: bool,
    /// Percent (0-100) of samples that passed every per-sample assertion.
    pub availability: Option<f64>,
    pub latency_ms: Option<LatencyStats>,
    pub failures: Vec<String>,
    pub skip_reason: Option<String>,
    pub detail: Option<ExchangeDetail>,
    /// Samples that passed every per-sample assertion.
    pub passed_samples: usize,
    /// Every sample's latency, mergeable across runs; `None` when nothing was sent.
    pub histogram: Option<LatencyHistogram>,
    /// The thresholds the check was judged on; `None` when it sent nothing.
    pub sla: Option<across::Sla>,
    /// What a baseline or a merge added (docs/merge.md).
    pub across: across::CheckAcross,
    /// `notAfter` of the server's leaf certificate (Unix seconds) of the shown exchange, on https.
    pub certificate_not_after: Option<i64>,
    /// The asked and achieved send rate of a check sent under `rate` (docs/suites.md#rate).
    pub rate: Option<RateFigures>,
    /// The phases of the judged exchange (of the slowest sample with a full response), for
    /// `timings_ms` (docs/behaviour.md#phases).
    pub timings: Option<crate::http::Timings>,
}

/// How fast a check under `rate` sent its samples: the achieved rate is the samples sent over
/// the time from the first due time to the last send.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RateFigures {
    pub asked_per_second: f64,
    pub achieved_per_second: f64,
}

/// One latency limit of a check (docs/suites.md#samples-and-sla): `of` is the percentile it
/// bounds (`p50`, `p90`, `p95`, `p99`, `max`), or `each` for `expect.latency`, which every
/// sample must stay under.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencyLimit {
    pub of: &'static str,
    pub ms: f64,
}

impl CheckReport {
    /// A check that sent nothing, with every figure empty.
    fn unsent(name: impl Into<String>, line: usize, status: CheckStatus) -> Self {
        CheckReport {
            name: name.into(),
            status,
            line,
            request: None,
            response: None,
            duration_ms: None,
            samples: 0,
            sampled: false,
            availability: None,
            latency_ms: None,
            failures: Vec::new(),
            skip_reason: None,
            detail: None,
            passed_samples: 0,
            histogram: None,
            sla: None,
            across: across::CheckAcross::default(),
            certificate_not_after: None,
            rate: None,
            timings: None,
        }
    }

    /// A check that never ran.
    pub fn skipped(name: impl Into<String>, line: usize, reason: impl Into<String>) -> Self {
        CheckReport {
            skip_reason: Some(reason.into()),
            ..Self::unsent(name, line, CheckStatus::Skipped)
        }
    }

    /// A check that failed before its request went out (a variable, a URL that cannot be built).
    pub fn failed_unsent(name: impl Into<String>, line: usize, optional: bool, failure: String) -> Self {
        CheckReport {
            failures: vec![failure],
            ..Self::unsent(name, line, CheckStatus::judged(false, optional))
        }
    }
}

/// One suite's results, checks in declaration order.
#[derive(Debug, Clone, PartialEq)]
pub struct SuiteReport {
    pub customer: String,
    pub title: String,
    /// The suite file, as the user named it (relative when they gave a relative path).
    pub file: String,
    pub checks: Vec<CheckReport>,
}

/// Counts over a whole run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub warned: usize,
}

impl Summary {
    pub fn of<'a>(checks: impl IntoIterator<Item = &'a CheckReport>) -> Summary {
        let mut s = Summary::default();
        for c in checks {
            s.total += 1;
            match c.status {
                CheckStatus::Passed => s.passed += 1,
                CheckStatus::Failed => s.failed += 1,
                CheckStatus::Skipped => s.skipped += 1,
                CheckStatus::Warned => s.warned += 1,
            }
        }
        s
    }
}

/// Everything a reporter needs, and nothing about how the checks ran.
#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    /// Banner title: `environments.yaml`'s `title`, else `Endpoint Checks`.
    pub title: String,
    pub environment: String,
    pub base_url: String,
    /// Where the base URL came from (docs/environments.md#preview-url-detection): `--base-url`, `environments.yaml`, `default`...
    pub base_url_source: String,
    pub duration_ms: f64,
    pub suites: Vec<SuiteReport>,
    pub interrupted: Option<Interruption>,
    /// Region, run id, start time; what a merge put together (docs/merge.md).
    pub origin: across::Origin,
}

impl RunReport {
    pub fn summary(&self) -> Summary {
        Summary::of(self.suites.iter().flat_map(|s| s.checks.iter()))
    }

    /// The exit code this report stands for (docs/cli.md): an interruption wins, then any failure.
    pub fn exit_code(&self) -> Code {
        match self.interrupted {
            Some(kind) => Code::from(kind),
            None if self.summary().failed > 0 => Code::ChecksFailed,
            None => Code::Success,
        }
    }
}

// Figures as machine-readable reports (JSON, TAP) write them.

/// A duration in milliseconds, rounded to 0.1 ms.
pub fn round_ms(ms: f64) -> f64 {
    (ms * 10.0).round() / 10.0
}

/// A percentage with the floating-point noise taken off (`99.90000000000001` → `99.9`), but
/// precise enough that one failure in 100 000 samples does not read as 100.
pub fn round_percent(p: f64) -> f64 {
    (p * 10_000.0).round() / 10_000.0
}

pub fn round_stats(s: &LatencyStats) -> LatencyStats {
    LatencyStats {
        min: round_ms(s.min),
        p50: round_ms(s.p50),
        p90: round_ms(s.p90),
        p95: round_ms(s.p95),
        p99: round_ms(s.p99),
        max: round_ms(s.max),
    }
}
