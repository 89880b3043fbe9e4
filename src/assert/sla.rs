//! The SLA verdict of a check over all its samples (docs/suites.md#samples-and-sla): availability
//! against its required share, then the percentile limits. Pure: counts in, failures out.

use super::LatencyLimits;
use crate::duration::fmt_ms;
use crate::stats::LatencyStats;

/// What a check's samples came to.
#[derive(Debug, Default)]
pub struct SampleCounts<'a> {
    /// Samples the check was to send.
    pub planned: usize,
    /// Samples sent and judged.
    pub sent: usize,
    /// Samples that passed every per-sample assertion.
    pub passed: usize,
    /// The first few distinct failure messages, with how often each occurred.
    pub failure_counts: &'a [(String, usize)],
    /// Every failure of the lowest-numbered failed sample: what a single-sample check shows.
    pub first_failed: Vec<String>,
    /// Latency figures over the samples that got a full response.
    pub latency: Option<&'a LatencyStats>,
}

impl SampleCounts<'_> {
    /// Percent (0–100) of samples that passed; a check that sent nothing counts as one failure.
    pub fn availability(&self) -> f64 {
        self.passed as f64 * 100.0 / self.sent.max(1) as f64
    }
}

/// The failures of a check over its samples: none means the SLA holds. `required` is the
/// check's `availability` (100 unless set).
pub fn judge(required: f64, limits: &LatencyLimits, counts: SampleCounts) -> Vec<String> {
    let availability = counts.availability();
    let mut failures = Vec::new();
    if availability < required {
        if counts.planned == 1 {
            failures.extend(counts.first_failed);
        } else {
            let causes: Vec<String> = counts
                .failure_counts
                .iter()
                .map(|(m, c)| if *c > 1 { format!("{m} ×{c}") } else { m.clone() })
                .collect();
            failures.push(format!(
                "availability {availability:.1}% < {required}% ({} of {} samples failed: {})",
                counts.sent - counts.passed,
                counts.sent,
                causes.join("; ")
            ));
        }
    }
    if counts.sent < counts.planned {
        failures.push(format!(
            "only {} of {} samples ran before the run was stopped",
            counts.sent, counts.planned
        ));
    }
    match counts.latency {
        Some(stats) => failures.extend(percentile_failures(limits, stats)),
        None if !limits.is_empty() && failures.is_empty() => {
            failures.push("no sample got a full response, so latency limits cannot hold".to_string());
        }
        None => {}
    }
    failures
}

/// `p95 120 ms > 100 ms` for every percentile limit the figures exceed.
fn percentile_failures(limits: &LatencyLimits, stats: &LatencyStats) -> Vec<String> {
    [
        ("p50", limits.p50, stats.p50),
        ("p90", limits.p90, stats.p90),
        ("p95", limits.p95, stats.p95),
        ("p99", limits.p99, stats.p99),
        ("max", limits.max, stats.max),
    ]
    .into_iter()
    .filter_map(|(name, limit, value)| {
        let limit_ms = limit?.as_secs_f64() * 1000.0;
        (value > limit_ms).then(|| format!("{name} {} > {}", fmt_ms(value), fmt_ms(limit_ms)))
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn stats(p95: f64) -> LatencyStats {
        LatencyStats {
            min: 1.0,
            p50: 2.0,
            p90: 3.0,
            p95,
            p99: p95,
            max: p95,
        }
    }

    #[test]
    fn availability_is_compared_unrounded() {
        let counts = [("expected status 200, got 503".to_string(), 1)];
        let failures = judge(
            99.9,
            &LatencyLimits::default(),
            SampleCounts {
                planned: 1000,
                sent: 1000,
                passed: 998,
                failure_counts: &counts,
                ..SampleCounts::default()
            },
        );
        assert_eq!(
            failures,
            ["availability 99.8% < 99.9% (2 of 1000 samples failed: expected status 200, got 503)"]
        );
    }

    #[test]
    fn a_single_sample_shows_its_own_failures() {
        let failures = judge(
            100.0,
            &LatencyLimits::default(),
            SampleCounts {
                planned: 1,
                sent: 1,
                first_failed: vec!["expected status 200, got 503".into()],
                ..SampleCounts::default()
            },
        );
        assert_eq!(failures, ["expected status 200, got 503"]);
    }

    #[test]
    fn percentile_limits_hold_or_say_by_how_much() {
        let limits = LatencyLimits {
            p95: Some(Duration::from_millis(100)),
            ..LatencyLimits::default()
        };
        let slow = stats(120.0);
        let counts = |latency| SampleCounts {
            planned: 10,
            sent: 10,
            passed: 10,
            latency,
            ..SampleCounts::default()
        };
        assert_eq!(
            judge(100.0, &limits, counts(Some(&slow))),
            ["p95 120 ms > 100 ms"]
        );
        let fast = stats(99.0);
        assert!(judge(100.0, &limits, counts(Some(&fast))).is_empty());
        assert_eq!(
            judge(100.0, &limits, counts(None)),
            ["no sample got a full response, so latency limits cannot hold"]
        );
    }
}
