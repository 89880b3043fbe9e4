//! The window (docs/monitor.md#window): each check judged after every round on the samples of
//! the rounds that started within the last `--window`, with its own availability and latency
//! limits. A round is kept as a few counts per check and its latencies as (bucket, count) pairs,
//! never as a whole report, so memory is bounded by the window, not by how long the monitor runs.

use crate::assert::sla::{self, SampleCounts};
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
    let latency = merge::stats_of(&histogram);
    let verdict = match sla {
        Some(sla) => sla::judge(
            sla.availability,
            &sla.limits(),
            SampleCounts {
                planned: samples,
                sent: samples,
                passed,
                failure_counts: &causes,
                first_failed: latest_failing.map(<[String]>::to_vec).unwrap_or_default(),
                latency: latency.as_ref(),
            },
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
