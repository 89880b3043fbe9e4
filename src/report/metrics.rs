//! The run as Prometheus metrics (docs/metrics.md): OpenMetrics 1.0 text for `--metrics` (and a
//! scrape), the Prometheus text format 0.0.4 for `--pushgateway`, both written by
//! `prometheus-client` from one collector over the [`RunReport`].
//!
//! Latency is exported as a histogram, never as precomputed quantiles, so Prometheus can add
//! regions up. Every check's buckets are the fixed list plus each of its latency limits, so a
//! threshold is always a bucket edge. The phase gauge has a sample for each phase of the judged
//! exchange that happened (docs/metrics.md).

use super::{CheckStatus, RunReport};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};
use std::io::{self, Write};

/// The bucket edges every latency histogram has, in seconds.
pub const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

type Labels = Vec<(String, String)>;

/// (upper bound in seconds, samples in that bucket only) ending with +Inf, the sum in seconds,
/// and the count.
type Buckets = (Vec<(f64, u64)>, f64, u64);

/// One check's figures, with its labels.
#[derive(Debug)]
struct CheckFigures {
    labels: Labels,
    /// `None` for a skipped check, which has no success sample.
    success: Option<i64>,
    samples: u64,
    failures: u64,
    histogram: Option<Buckets>,
    certificate_not_after: Option<i64>,
    /// The phases of the judged exchange that happened, in seconds.
    phases: Vec<(&'static str, f64)>,
}

/// Everything exported, taken from the report once.
#[derive(Debug)]
struct Figures {
    run_labels: Labels,
    /// `None` before anything was measured (a monitor's `/metrics` before its first round):
    /// then the run families have no sample either.
    ended_at: Option<f64>,
    checks: Vec<CheckFigures>,
    statuses: [(&'static str, i64); 4],
}

impl Figures {
    fn of(report: &RunReport) -> Figures {
        let mut run_labels = vec![("environment".to_string(), report.environment.clone())];
        if let Some(region) = &report.origin.region {
            run_labels.push(("region".to_string(), region.clone()));
        }
        let mut checks = Vec::new();
        for suite in &report.suites {
            for c in &suite.checks {
                let mut labels = run_labels.clone();
                labels.push(("customer".to_string(), suite.customer.clone()));
                labels.push(("check".to_string(), c.name.clone()));
                let limits: Vec<f64> = c
                    .sla
                    .iter()
                    .flat_map(|s| s.latency_limits())
                    .map(|l| l.ms / 1000.0)
                    .collect();
                checks.push(CheckFigures {
                    labels,
                    success: match c.status {
                        CheckStatus::Skipped => None,
                        CheckStatus::Passed => Some(1),
                        CheckStatus::Failed | CheckStatus::Warned => Some(0),
                    },
                    samples: c.samples as u64,
                    failures: c.samples.saturating_sub(c.passed_samples) as u64,
                    histogram: c.histogram.as_ref().map(|h| buckets(h, &limits)),
                    certificate_not_after: c.certificate_not_after,
                    phases: c
                        .timings
                        .iter()
                        .flat_map(|t| t.phases())
                        .filter_map(|(name, d)| Some((name, d?.as_secs_f64())))
                        .collect(),
                });
            }
        }
        let s = report.summary();
        Figures {
            run_labels,
            ended_at: Some(ended_at(report)),
            checks,
            statuses: [
                ("passed", s.passed as i64),
                ("failed", s.failed as i64),
                ("skipped", s.skipped as i64),
                ("warned", s.warned as i64),
            ],
        }
    }
}

/// When the run ended, in Unix seconds: its start plus its duration (now, if the start is unknown).
fn ended_at(report: &RunReport) -> f64 {
    let start = humantime::parse_rfc3339_weak(&report.origin.started_at)
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
    match start {
        Some(d) => d.as_secs_f64() + report.duration_ms / 1000.0,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default(),
    }
}

/// The histogram's samples counted into the exported buckets: the fixed edges and `limits`.
fn buckets(h: &super::LatencyHistogram, limits: &[f64]) -> Buckets {
    let mut edges: Vec<f64> = BUCKETS.iter().copied().chain(limits.iter().copied()).collect();
    edges.sort_by(f64::total_cmp);
    edges.dedup();
    edges.push(f64::INFINITY);
    let mut counts: Vec<(f64, u64)> = edges.iter().map(|e| (*e, 0)).collect();
    let (mut sum, mut total) = (0.0, 0);
    for (ms, count) in h.buckets_ms() {
        let seconds = ms / 1000.0;
        let at = counts
            .iter()
            .position(|(edge, _)| seconds <= *edge)
            .unwrap_or(counts.len() - 1);
        counts[at].1 += count;
        sum += seconds * count as f64;
        total += count;
    }
    (counts, sum, total)
}

impl Collector for Figures {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        {
            let help = "1 when the check passed, 0 when it failed or warned (skipped checks are absent)";
            let mut m =
                encoder.encode_descriptor("endpoint_check_check_success", help, None, MetricType::Gauge)?;
            for c in &self.checks {
                if let Some(v) = c.success {
                    m.encode_family(&c.labels)?.encode_gauge(&v)?;
                }
            }
        }
        {
            let help = "Every sample's latency";
            let unit = Unit::Seconds;
            let mut m = encoder.encode_descriptor(
                "endpoint_check_latency",
                help,
                Some(&unit),
                MetricType::Histogram,
            )?;
            for c in &self.checks {
                if let Some((buckets, sum, count)) = &c.histogram {
                    m.encode_family(&c.labels)?
                        .encode_histogram::<NoLabelSet>(*sum, *count, buckets, None)?;
                }
            }
        }
        counter(
            &mut encoder,
            "endpoint_check_samples",
            "Samples sent",
            &self.checks,
            |c| c.samples,
        )?;
        let help = "Samples that failed a per-sample assertion";
        counter(
            &mut encoder,
            "endpoint_check_sample_failures",
            help,
            &self.checks,
            |c| c.failures,
        )?;
        {
            let unit = Unit::Seconds;
            let help = "A phase of the check's judged exchange (absent for phases that did not happen)";
            let mut m =
                encoder.encode_descriptor("endpoint_check_phase", help, Some(&unit), MetricType::Gauge)?;
            for c in &self.checks {
                for (phase, seconds) in &c.phases {
                    let mut labels = c.labels.clone();
                    labels.push(("phase".to_string(), phase.to_string()));
                    m.encode_family(&labels)?.encode_gauge(seconds)?;
                }
            }
        }
        {
            let unit = Unit::Seconds;
            let help = "notAfter of the server's leaf certificate, in Unix time (https checks)";
            let mut m = encoder.encode_descriptor(
                "endpoint_check_certificate_expiry_timestamp",
                help,
                Some(&unit),
                MetricType::Gauge,
            )?;
            for c in &self.checks {
                if let Some(at) = c.certificate_not_after {
                    m.encode_family(&c.labels)?.encode_gauge(&at)?;
                }
            }
        }
        {
            let unit = Unit::Seconds;
            let help = "When the run ended, in Unix time";
            let mut m = encoder.encode_descriptor(
                "endpoint_check_run_timestamp",
                help,
                Some(&unit),
                MetricType::Gauge,
            )?;
            if let Some(at) = &self.ended_at {
                m.encode_family(&self.run_labels)?.encode_gauge(at)?;
            }
        }
        let help = "Checks of the run by status";
        let mut m = encoder.encode_descriptor("endpoint_check_run_checks", help, None, MetricType::Gauge)?;
        for (status, n) in self.statuses.iter().filter(|_| self.ended_at.is_some()) {
            let mut labels = self.run_labels.clone();
            labels.push(("status".to_string(), status.to_string()));
            m.encode_family(&labels)?.encode_gauge(n)?;
        }
        Ok(())
    }
}

fn counter(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    checks: &[CheckFigures],
    value: impl Fn(&CheckFigures) -> u64,
) -> Result<(), std::fmt::Error> {
    let mut m = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
    for c in checks.iter().filter(|c| c.success.is_some()) {
        m.encode_family(&c.labels)?
            .encode_counter::<NoLabelSet, u64, f64>(&value(c), None)?;
    }
    Ok(())
}

fn registry(report: &RunReport) -> Registry {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Figures::of(report)));
    registry
}

fn write_text(text: Result<String, std::fmt::Error>, out: &mut dyn Write) -> io::Result<()> {
    let text = text.map_err(|_| io::Error::other("encoding the metrics failed"))?;
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// OpenMetrics 1.0 text, ending `# EOF`.
pub fn openmetrics(report: &RunReport) -> Result<String, std::fmt::Error> {
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry(report))?;
    Ok(text)
}

/// OpenMetrics text with every family's `# TYPE` and `# HELP` and no sample: what a monitor's
/// `/metrics` serves before its first round (docs/monitor.md#listen).
pub fn openmetrics_unmeasured() -> String {
    let unmeasured = Figures {
        run_labels: Vec::new(),
        ended_at: None,
        checks: Vec::new(),
        statuses: [("passed", 0), ("failed", 0), ("skipped", 0), ("warned", 0)],
    };
    let mut registry = Registry::default();
    registry.register_collector(Box::new(unmeasured));
    let mut text = String::new();
    // Writing into a String cannot fail; an empty answer would still be a valid scrape.
    let _ = prometheus_client::encoding::text::encode(&mut text, &registry);
    text
}

/// The Prometheus text format 0.0.4, which the Pushgateway reads.
pub fn prometheus_text(report: &RunReport) -> Result<String, std::fmt::Error> {
    let mut text = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut text, &registry(report))?;
    Ok(text)
}

/// `--metrics PATH`: the OpenMetrics text, rendered into the report file's writer.
pub fn render_openmetrics(report: &RunReport, out: &mut dyn Write) -> io::Result<()> {
    write_text(openmetrics(report), out)
}

/// The content type of [`prometheus_text`].
pub const PROMETHEUS_TEXT: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmeasured_has_every_family_and_no_sample() {
        let text = openmetrics_unmeasured();
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert!(
            text.contains("# TYPE endpoint_check_check_success gauge"),
            "{text}"
        );
        assert!(text.contains("# TYPE endpoint_check_run_checks gauge"), "{text}");
        assert!(text.lines().all(|l| l.starts_with('#')), "{text}");
    }

    #[test]
    fn limits_are_bucket_edges_and_counts_land_under_them() {
        let mut h = super::super::LatencyHistogram::new();
        for ms in [3.0, 40.0, 90.0, 1500.0, 20_000.0] {
            h.record_ms(ms);
        }
        let (buckets, _, total) = buckets(&h, &[0.08]);
        assert_eq!(total, 5);
        let edges: Vec<f64> = buckets.iter().map(|(e, _)| *e).collect();
        assert!(edges.contains(&0.08));
        assert_eq!(*edges.last().unwrap(), f64::INFINITY);
        let count_at = |edge: f64| buckets.iter().find(|(e, _)| *e == edge).unwrap().1;
        assert_eq!(count_at(0.005), 1);
        assert_eq!(count_at(0.05), 1);
        assert_eq!(count_at(0.1), 1);
        assert_eq!(count_at(2.5), 1);
        assert_eq!(count_at(f64::INFINITY), 1);
    }
}
