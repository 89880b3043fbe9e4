//! Everything since the monitor started, for `/metrics` and a `--metrics` file in monitor mode
//! (docs/monitor.md#reports-describe-the-window): Prometheus expects counters and histograms to
//! only grow, so they count every round, not the window. One histogram per check, whatever the
//! number of rounds.

use crate::report::{CheckStatus, LatencyHistogram, RunReport};

#[derive(Default)]
struct Total {
    samples: usize,
    passed: usize,
    histogram: Option<LatencyHistogram>,
}

/// Every check's samples since the start, in report order.
#[derive(Default)]
pub struct Totals(Vec<Total>);

impl Totals {
    /// Counts a round's samples in.
    pub fn add(&mut self, round: &RunReport) {
        let checks = round.suites.iter().flat_map(|s| s.checks.iter());
        for (i, c) in checks.enumerate() {
            if self.0.len() <= i {
                self.0.resize_with(i + 1, Total::default);
            }
            if c.status == CheckStatus::Skipped {
                continue;
            }
            let total = &mut self.0[i];
            total.samples += c.samples;
            total.passed += c.passed_samples.min(c.samples);
            if let Some(h) = &c.histogram {
                total.histogram.get_or_insert_with(LatencyHistogram::new).add(h);
            }
        }
    }

    /// The report the metrics are rendered from: `window`'s states, with the samples and
    /// latencies since the start. A check that never ran keeps none.
    pub fn report(&self, window: &RunReport) -> RunReport {
        let mut report = window.clone();
        let checks = report.suites.iter_mut().flat_map(|s| s.checks.iter_mut());
        for (c, total) in checks.zip(&self.0) {
            c.samples = total.samples;
            c.passed_samples = total.passed;
            c.histogram.clone_from(&total.histogram);
        }
        report
    }
}
