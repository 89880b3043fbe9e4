//! A check's samples folded as they arrive (latencies compactly, bodies already dropped), then
//! judged once by the SLA verdict and turned into the check's report.

use super::judge::Sample;
use super::{Details, Finished};
use crate::assert::sla::{self, SampleCounts};
use crate::contract::certificate::PeerCertificate;
use crate::http::Prepared;
use crate::report::across::Sla;
use crate::report::{CheckReport, CheckStatus, ExchangeDetail, RequestSummary, ResponseSummary};
use crate::stats::{self, LatencyHistogram};
use crate::suite::Check;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

/// Distinct failure messages kept per check, for the availability line.
const FAILURE_KINDS_KEPT: usize = 5;

pub(crate) struct Tally {
    planned: usize,
    pub sent: usize,
    ok: usize,
    latencies_ms: Vec<f64>,
    histogram: LatencyHistogram,
    /// The first failure messages seen, with how often each occurred.
    failure_counts: Vec<(String, usize)>,
    /// All failures of the lowest-numbered failed sample (shown for single-sample checks).
    first_failed: Option<(usize, Vec<String>)>,
    /// Captures of the lowest-numbered passing sample (docs/suites.md#samples-and-sla).
    first_captures: Option<(usize, HashMap<String, Value>)>,
    /// Which sample's status and detail are shown, and whether it failed.
    shown: Option<(usize, bool)>,
    status: Option<u16>,
    detail: Option<ExchangeDetail>,
    certificate: Option<PeerCertificate>,
    /// The latency and phases of the slowest sample with a full response (docs/behaviour.md#phases).
    slowest: Option<(f64, crate::http::Timings)>,
    /// Under a rate: the rate asked and the samples' send span (docs/suites.md#rate).
    pub rate: Option<(crate::rate::Rate, Duration)>,
}

/// How the finished tally is reported.
pub(crate) struct Finish<'a> {
    pub check: &'a Check,
    pub req: &'a Prepared,
    pub details: Details,
    /// Configured for SLA sampling, so the human line shows the figures.
    pub sampled: bool,
    pub elapsed: Duration,
}

impl Tally {
    pub fn new(planned: usize) -> Tally {
        Tally {
            planned,
            sent: 0,
            ok: 0,
            latencies_ms: Vec::with_capacity(planned.min(1 << 20)),
            histogram: LatencyHistogram::new(),
            failure_counts: Vec::new(),
            first_failed: None,
            first_captures: None,
            shown: None,
            status: None,
            detail: None,
            certificate: None,
            slowest: None,
            rate: None,
        }
    }

    /// Folds sample number `i` in.
    pub fn add(&mut self, i: usize, s: Sample) {
        self.sent += 1;
        if let Some(ms) = s.latency_ms {
            self.latencies_ms.push(ms);
            self.histogram.record_ms(ms);
            if let Some(t) = s.timings
                && self.slowest.is_none_or(|(slowest, _)| ms > slowest)
            {
                self.slowest = Some((ms, t));
            }
        }
        let ok = s.ok();
        // The status and detail shown are those of the first failed sample, else the first sample.
        let failed = !ok;
        let replace = match self.shown {
            None => true,
            Some((j, shown_failed)) => (failed && !shown_failed) || (failed == shown_failed && i < j),
        };
        if replace {
            self.shown = Some((i, failed));
            self.status = s.status;
            self.detail = s.detail;
            self.certificate = s.certificate;
        }
        if ok {
            self.ok += 1;
            if let Some(c) = s.captures
                && self.first_captures.as_ref().is_none_or(|(j, _)| i < *j)
            {
                self.first_captures = Some((i, c));
            }
            return;
        }
        for f in &s.failures {
            if let Some((_, count)) = self.failure_counts.iter_mut().find(|(m, _)| m == f) {
                *count += 1;
            } else if self.failure_counts.len() < FAILURE_KINDS_KEPT {
                self.failure_counts.push((f.clone(), 1));
            }
        }
        if self.first_failed.as_ref().is_none_or(|(j, _)| i < *j) {
            self.first_failed = Some((i, s.failures));
        }
    }

    /// The check's report: judged on its SLA, with the captures of its first passing sample
    /// added to `captures`.
    pub fn finish(mut self, how: Finish, mut captures: HashMap<String, Value>) -> Finished {
        let check = how.check;
        let latency = stats::latency_stats(&mut self.latencies_ms);
        let counts = SampleCounts {
            planned: self.planned,
            sent: self.sent,
            passed: self.ok,
            failure_counts: &self.failure_counts,
            first_failed: self.first_failed.take().map(|(_, f)| f).unwrap_or_default(),
            latency: latency.as_ref(),
        };
        let availability = counts.availability();
        let required = check.expect.availability.unwrap_or(100.0);
        let mut failures = sla::judge(required, &check.expect.latency_limits, counts);
        let rate = self.rate.map(|(asked, span)| {
            failures.extend(crate::rate::not_reached(asked, self.sent, span));
            crate::report::RateFigures {
                asked_per_second: asked.per_second(),
                achieved_per_second: crate::rate::achieved(self.sent, span),
            }
        });
        if let Some((_, c)) = self.first_captures.take() {
            captures.extend(c);
        }
        let status = CheckStatus::judged(failures.is_empty(), check.optional);
        let show_detail = match how.details {
            Details::None => false,
            Details::Failures => status != CheckStatus::Passed,
            Details::All => true,
        };
        let report = CheckReport {
            name: check.name.clone(),
            status,
            line: check.pos.line,
            request: Some(RequestSummary {
                method: how.req.method.to_string(),
                url: how.req.url.to_string(),
            }),
            // No complete response, no response object (docs/reports.md#json---format-json---json-path).
            response: self.status.map(|status| ResponseSummary { status }),
            duration_ms: Some(how.elapsed.as_secs_f64() * 1000.0),
            samples: self.sent,
            sampled: how.sampled || self.planned > 1,
            availability: Some(availability),
            latency_ms: latency,
            failures,
            skip_reason: None,
            detail: if show_detail { self.detail } else { None },
            passed_samples: self.ok,
            histogram: Some(self.histogram),
            certificate_not_after: self.certificate.as_ref().and_then(|c| c.not_after_unix()),
            rate,
            timings: self.slowest.map(|(_, t)| t),
            sla: Some(Sla::of(
                check.expect.availability,
                check.expect.latency,
                &check.expect.latency_limits,
                check.expect.regression,
                check.optional,
            )),
            across: Default::default(),
        };
        Finished { report, captures }
    }
}
