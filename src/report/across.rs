//! What a report carries so runs from many places combine into one verdict (docs/merge.md): where
//! and when a run measured ([`Origin`]), the thresholds each check was judged on ([`Sla`]), and
//! what a merge or a baseline added to a check ([`CheckAcross`]).

use crate::assert::LatencyLimits;
use crate::baseline::Regression;
use crate::duration::fmt_ms;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Where and when a run measured, and what a merge or a baseline added to the whole run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Origin {
    /// `--region`: the place the run measured from.
    pub region: Option<String>,
    /// The run's `${run_id}`.
    pub run_id: String,
    /// When the run started, RFC 3339 in UTC.
    pub started_at: String,
    /// `Some` for a merged report: what went into it.
    pub merged: Option<MergedFrom>,
    /// One-off notes for the summary (`regression limits not judged: no --baseline`).
    pub notes: Vec<String>,
    /// `Some` in monitor mode: the report describes the window after this round.
    pub monitor: Option<MonitorRound>,
}

/// Which round of a monitor a report describes, and over what window (docs/monitor.md).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MonitorRound {
    /// 1, 2, …
    pub round: u64,
    /// `--window` in milliseconds; `None`: the last round only.
    pub window_ms: Option<u64>,
}

/// The reports a merged report was made of.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MergedFrom {
    pub reports: usize,
    /// The regions named by the reports, in order, each once.
    pub regions: Vec<String>,
}

impl Origin {
    /// A run starting now, measured from `region`.
    pub fn now(region: Option<String>, run_id: String) -> Origin {
        Origin {
            region,
            run_id,
            started_at: rfc3339(std::time::SystemTime::now()),
            ..Origin::default()
        }
    }
}

/// A time as RFC 3339 in UTC, to the millisecond (`2026-12-02T18:49:59.123Z`).
pub fn rfc3339(t: std::time::SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// The thresholds a check was judged on, in the report's units (milliseconds, percent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sla {
    /// Percent of samples that must pass every per-sample assertion; 100 when the check sets none.
    pub availability: f64,
    /// Percentile limits, when `latency` is a map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<PercentileLimits>,
    /// The limit every sample must meet, when `latency` is a plain duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_sample_latency_ms: Option<f64>,
    /// `expect.regression` (or `--max-regression`), judged against a `--baseline`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regression: Option<Regression>,
    /// `optional: true`: a failure warns. Written only when true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

/// Percentile limits in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PercentileLimits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p90: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

fn ms(d: Option<Duration>) -> Option<f64> {
    d.map(|d| d.as_secs_f64() * 1000.0)
}

fn duration(ms: Option<f64>) -> Option<Duration> {
    ms.filter(|m| m.is_finite() && *m >= 0.0)
        .map(|m| Duration::from_secs_f64(m / 1000.0))
}

impl Sla {
    /// The thresholds of a check's `expect`, as a report writes them.
    pub fn of(
        availability: Option<f64>,
        per_sample: Option<Duration>,
        limits: &LatencyLimits,
        regression: Option<Regression>,
        optional: bool,
    ) -> Sla {
        let latency_ms = (!limits.is_empty()).then(|| PercentileLimits {
            p50: ms(limits.p50),
            p90: ms(limits.p90),
            p95: ms(limits.p95),
            p99: ms(limits.p99),
            max: ms(limits.max),
        });
        Sla {
            availability: availability.unwrap_or(100.0),
            latency_ms,
            per_sample_latency_ms: ms(per_sample),
            regression,
            optional,
        }
    }

    /// The percentile limits as the SLA verdict takes them.
    pub fn limits(&self) -> LatencyLimits {
        let l = self.latency_ms.unwrap_or_default();
        LatencyLimits {
            p50: duration(l.p50),
            p90: duration(l.p90),
            p95: duration(l.p95),
            p99: duration(l.p99),
            max: duration(l.max),
        }
    }

    /// The failures of `samples` samples (`passed` of them passing) judged together on these
    /// thresholds, as if one run had sent them all: a merge's and a monitor window's verdict.
    pub fn judge_together(
        &self,
        samples: usize,
        passed: usize,
        causes: &[(String, usize)],
        first_failed: Vec<String>,
        latency: Option<&crate::stats::LatencyStats>,
    ) -> Vec<String> {
        crate::assert::sla::judge(
            self.availability,
            &self.limits(),
            crate::assert::sla::SampleCounts {
                planned: samples,
                sent: samples,
                passed,
                failure_counts: causes,
                first_failed,
                latency,
            },
        )
    }

    /// Every latency limit, named by what it bounds: each percentile limit, and `each` for a
    /// plain `latency` every sample must meet. The HTML report draws them; metrics make each a
    /// bucket edge.
    pub fn latency_limits(&self) -> Vec<super::LatencyLimit> {
        let p = self.latency_ms.unwrap_or_default();
        [
            ("p50", p.p50),
            ("p90", p.p90),
            ("p95", p.p95),
            ("p99", p.p99),
            ("max", p.max),
            ("each", self.per_sample_latency_ms),
        ]
        .into_iter()
        .filter_map(|(of, ms)| ms.map(|ms| super::LatencyLimit { of, ms }))
        .collect()
    }
}

/// What a merge or a baseline added to one check.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckAcross {
    /// `Some` under `--baseline`: the baseline's figures, or `None` when it has no such check.
    pub baseline: Option<Option<BaselineFigures>>,
    /// `Some` in a merged report.
    pub merged: Option<MergedCheck>,
}

/// A baseline check's figures (`"baseline"` in the JSON report).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BaselineFigures {
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    pub availability: Option<f64>,
}

/// Where a merged check's samples came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MergedCheck {
    /// Reports that ran the check, out of `of`.
    pub reports: usize,
    pub of: usize,
    /// One row per report that ran it, in the order the reports were given.
    pub regions: Vec<RegionFigures>,
}

/// One report's part of a merged check.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegionFigures {
    /// The report's region, else its file name.
    pub region: String,
    pub samples: usize,
    pub passed: usize,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    /// Why samples failed there, as that report said.
    pub cause: Option<String>,
}

impl RegionFigures {
    pub fn availability(&self) -> f64 {
        self.passed as f64 * 100.0 / self.samples.max(1) as f64
    }

    /// `us-east 96.0% (4 of 100 failed: expected status 200, got 503)`.
    pub fn describe(&self) -> String {
        let mut s = format!("{} {:.1}%", self.region, self.availability());
        let failed = self.samples - self.passed.min(self.samples);
        if failed > 0 {
            let cause = self
                .cause
                .as_deref()
                .map(|c| format!(": {c}"))
                .unwrap_or_default();
            s.push_str(&format!(" ({failed} of {} failed{cause})", self.samples));
        }
        s
    }
}

/// The human line's change against the baseline: `+35%`, `-12%`; `None` without a baseline figure.
pub fn delta(now: f64, then: Option<f64>) -> Option<String> {
    let then = then.filter(|t| *t > 0.0)?;
    let pct = (now - then) / then * 100.0;
    Some(format!("{}{:.0}%", if pct >= 0.0 { "+" } else { "" }, pct))
}

/// ` (+35% vs baseline)` after a figure, or nothing.
pub fn vs_baseline(now: f64, then: Option<f64>) -> String {
    delta(now, then)
        .map(|d| format!(" ({d} vs baseline)"))
        .unwrap_or_default()
}

/// The region breakdown of a failed merged check: `eu-west 100.0%, us-east 96.0% (…)`.
pub fn breakdown(m: &MergedCheck) -> String {
    m.regions
        .iter()
        .map(RegionFigures::describe)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `p95 88 ms`, with the baseline change when there is one.
pub fn figure(name: &str, now: f64, then: Option<f64>) -> String {
    format!("{name} {}{}", fmt_ms(now), vs_baseline(now, then))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_and_region_lines() {
        assert_eq!(vs_baseline(88.0, Some(65.2)), " (+35% vs baseline)");
        assert_eq!(vs_baseline(50.0, Some(100.0)), " (-50% vs baseline)");
        assert_eq!(vs_baseline(50.0, None), "");
        let r = RegionFigures {
            region: "us-east".into(),
            samples: 100,
            passed: 96,
            cause: Some("expected status 200, got 503".into()),
            ..RegionFigures::default()
        };
        assert_eq!(
            r.describe(),
            "us-east 96.0% (4 of 100 failed: expected status 200, got 503)"
        );
    }

    #[test]
    fn sla_limits_round_trip() {
        let limits = LatencyLimits {
            p95: Some(Duration::from_millis(2000)),
            ..LatencyLimits::default()
        };
        let sla = Sla::of(Some(99.9), None, &limits, None, false);
        assert_eq!(
            serde_json::to_value(&sla).unwrap(),
            serde_json::json!({"availability": 99.9, "latency_ms": {"p95": 2000.0}})
        );
        assert_eq!(sla.limits(), limits);
        let seconds: Vec<f64> = sla.latency_limits().iter().map(|l| l.ms / 1000.0).collect();
        assert_eq!(seconds, vec![2.0]);
    }
}
