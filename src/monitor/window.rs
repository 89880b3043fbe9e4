//! The window (docs/monitor.md#window): each check judged after every round on the samples of
//! the rounds that started within the last `--window`, with its own availability and latency
//! limits. A round is kept as a few counts per check and its latencies as (bucket, count) pairs,
//! never as a whole report, so memory is bounded by the window, not by how long the monitor runs.

use crate::merge;
use crate::redact::Redactor;
use crate::report::across::{MonitorRound, Sla};
use crate::report::{CheckReport, CheckStatus, LatencyHistogram, RunReport};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// One check's part of one round.
struct Part {
    samples: usize,
    passed: usize,
    /// Its latencies, as [`LatencyHistogram::counts_us`] gives them.
    latencies: Box<[(u64, u64)]>,
    /// Its exact fastest and slowest, which the histogram only knows to 3 digits.
    extremes: Option<(f64, f64)>,
    /// The round's failures, when the check failed (or warned) in it.
    failures: Option<Box<[String]>>,
    /// Failures no sample explains (a capture that matched nothing): they stand.
    standing: bool,
    /// Why its samples failed, as the round said.
    cause: Option<Box<str>>,
}

impl Part {
    /// Its failures are masked now: a secret found in this round (a captured key) is forgotten
    /// once the round is over (docs/monitor.md), while the failures stay in the window.
    fn of(c: &CheckReport, redactor: &Redactor) -> Option<Part> {
        if c.status == CheckStatus::Skipped {
            return None;
        }
        Some(Part {
            samples: c.samples,
            passed: c.passed_samples.min(c.samples),
            extremes: c.latency_ms.map(|l| (l.min, l.max)),
            latencies: c
                .histogram
                .as_ref()
                .map(|h| h.counts_us())
                .unwrap_or_default()
                .into(),
            failures: (!c.failures.is_empty())
                .then(|| c.failures.iter().map(|f| redactor.mask(f).into_owned()).collect()),
            standing: !merge::standing_failures(c).is_empty(),
            cause: merge::cause_of(c).map(|f| redactor.mask(&f).into()),
        })
    }
}

/// One round: every check's part, in report order (suites, then checks).
struct Round {
    /// When the round was due: the schedule's time, not the clock's, so a round that started a
    /// millisecond late does not push an extra round into the window.
    started: Instant,
    parts: Vec<Option<Part>>,
}

/// The rounds inside the window.
pub struct Window {
    /// `--window`; `None`: the last round only.
    span: Option<Duration>,
    rounds: VecDeque<Round>,
    /// Each check's latest thresholds (a check skipped in a round carries none).
    slas: Vec<Option<Sla>>,
}

impl Window {
    pub fn new(span: Option<Duration>) -> Window {
        Window {
            span,
            rounds: VecDeque::new(),
            slas: Vec::new(),
        }
    }

    /// Takes round `number`'s report, due at `started`, and returns the window report after it.
    pub fn push(
        &mut self,
        mut report: RunReport,
        number: u64,
        started: Instant,
        redactor: &Redactor,
    ) -> RunReport {
        report.origin.monitor = Some(MonitorRound {
            round: number,
            window_ms: self.span.map(|s| s.as_millis() as u64),
        });
        let Some(span) = self.span else {
            // The last round only: the round's own verdicts are the window's.
            return report;
        };
        let checks = report.suites.iter().flat_map(|s| s.checks.iter());
        let parts = checks.clone().map(|c| Part::of(c, redactor)).collect();
        self.slas.resize(checks.clone().count(), None);
        for (kept, c) in self.slas.iter_mut().zip(checks) {
            if c.sla.is_some() {
                kept.clone_from(&c.sla);
            }
        }
        self.rounds.push_back(Round { started, parts });
        while self
            .rounds
            .front()
            .is_some_and(|r| started.duration_since(r.started) >= span)
        {
            self.rounds.pop_front();
        }
        let all = report.suites.iter_mut().flat_map(|s| s.checks.iter_mut());
        for (i, c) in all.enumerate() {
            let parts: Vec<&Part> = self
                .rounds
                .iter()
                .filter_map(|r| r.parts.get(i).and_then(Option::as_ref))
                .collect();
            judge(c, &parts, self.slas.get(i).and_then(Option::as_ref));
        }
        report
    }
}

/// `c`, the latest round's report of a check, turned into its window report: figures over
/// `parts`, judged on `sla`. A check skipped in every round of the window stays as it is.
fn judge(c: &mut CheckReport, parts: &[&Part], sla: Option<&Sla>) {
    let Some(last) = parts.last() else {
        return;
    };
    let mut histogram = LatencyHistogram::new();
    let (mut samples, mut passed) = (0, 0);
    let mut causes: Vec<(String, usize)> = Vec::new();
    for p in parts {
        samples += p.samples;
        passed += p.passed;
        histogram.record_counts_us(&p.latencies);
        if let Some(cause) = p.cause.as_deref().filter(|_| p.samples > p.passed) {
            match causes.iter_mut().find(|(c, _)| c == cause) {
                Some((_, n)) => *n += p.samples - p.passed,
                None => causes.push((cause.to_string(), p.samples - p.passed)),
            }
        }
    }
    let latest_failing: Option<&[String]> = parts.iter().rev().find_map(|p| p.failures.as_deref());
    let mut latency = merge::stats_of(&histogram);
    let extremes = parts.iter().filter_map(|p| p.extremes);
    if let (Some(l), Some(min), Some(max)) = (
        &mut latency,
        extremes.clone().map(|e| e.0).reduce(f64::min),
        extremes.map(|e| e.1).reduce(f64::max),
    ) {
        // The extremes are exact, as a merge's are.
        (l.min, l.max) = (min, max);
    }
    let verdict = match sla {
        Some(sla) => sla.judge_together(
            samples,
            passed,
            &causes,
            latest_failing.map(<[String]>::to_vec).unwrap_or_default(),
            latency.as_ref(),
        ),
        None => latest_failing.map(<[String]>::to_vec).unwrap_or_default(),
    };
    let failed = !verdict.is_empty() || last.standing;
    let optional = sla.is_some_and(|s| s.optional) || c.status == CheckStatus::Warned;
    c.status = CheckStatus::judged(!failed, optional);
    c.failures = match (failed, latest_failing) {
        (false, _) => Vec::new(),
        (true, Some(f)) => f.to_vec(),
        (true, None) => verdict,
    };
    c.skip_reason = None;
    c.samples = samples;
    c.passed_samples = passed;
    c.availability = Some(passed as f64 * 100.0 / samples.max(1) as f64);
    c.latency_ms = latency;
    c.histogram = (!histogram.is_empty()).then_some(histogram);
    if c.sla.is_none() {
        c.sla = sla.cloned();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::SuiteReport;

    /// A round where the one check sent one sample that passed or failed.
    fn round(passed: bool) -> RunReport {
        let failure = "expected status 200, got 503".to_string();
        let mut c = CheckReport::failed_unsent("GET /x", 3, false, failure);
        c.status = CheckStatus::judged(passed, false);
        if passed {
            c.failures.clear();
        }
        c.samples = 1;
        c.passed_samples = usize::from(passed);
        let mut h = LatencyHistogram::new();
        h.record_ms(if passed { 10.0 } else { 30.0 });
        c.histogram = Some(h);
        let ms = if passed { 10.0 } else { 30.0 };
        c.latency_ms = Some(crate::stats::LatencyStats {
            min: ms,
            p50: ms,
            p90: ms,
            p95: ms,
            p99: ms,
            max: ms,
        });
        c.sla = Some(Sla {
            availability: 75.0,
            ..Sla::default()
        });
        RunReport {
            title: "t".into(),
            environment: "localhost".into(),
            base_url: "http://127.0.0.1:1".into(),
            base_url_source: "--base-url".into(),
            duration_ms: 1.0,
            suites: vec![SuiteReport {
                customer: "shop".into(),
                title: "shop".into(),
                file: "suites/shop.yaml".into(),
                checks: vec![c],
            }],
            interrupted: None,
            origin: Default::default(),
        }
    }

    #[test]
    fn each_check_is_judged_on_the_rounds_inside_the_window() {
        let mut w = Window::new(Some(Duration::from_millis(1000)));
        let t0 = Instant::now();
        let r = Redactor::new();
        let pattern = [true, true, true, false, false, true, true, true];
        let mut got = Vec::new();
        for (k, passed) in pattern.into_iter().enumerate() {
            let due = t0 + Duration::from_millis(250 * k as u64);
            let report = w.push(round(passed), k as u64 + 1, due, &r);
            let c = &report.suites[0].checks[0];
            got.push((c.status, c.samples));
            if k == 5 {
                assert_eq!(
                    c.failures,
                    ["expected status 200, got 503"],
                    "the latest failing round's"
                );
                assert_eq!(c.passed_samples, 2);
                assert_eq!(c.latency_ms.unwrap().max, 30.0);
                assert_eq!(report.origin.monitor.unwrap().window_ms, Some(1000));
            }
        }
        use CheckStatus::{Failed, Passed};
        assert_eq!(
            got,
            [
                (Passed, 1),
                (Passed, 2),
                (Passed, 3),
                (Passed, 4),
                (Failed, 4),
                (Failed, 4),
                (Failed, 4),
                (Passed, 4)
            ]
        );
    }

    #[test]
    fn without_a_window_the_round_is_its_own_verdict() {
        let mut w = Window::new(None);
        let report = w.push(round(false), 1, Instant::now(), &Redactor::new());
        assert_eq!(report.suites[0].checks[0].status, CheckStatus::Failed);
        assert_eq!(report.origin.monitor.unwrap().window_ms, None);
        assert_eq!(report.suites, round(false).suites);
    }
}
