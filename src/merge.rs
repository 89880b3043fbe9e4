//! `endpoint-check merge` (docs/merge.md#merge): reports of the same suites combined as if one run
//! had sent all their samples, each check judged again on the `sla` it carries. Pure: reports
//! in, one report out; reading the files is `report::read`'s.

use crate::report::across::{MergedCheck, MergedFrom, Origin, RegionFigures};
use crate::report::{CheckReport, CheckStatus, LatencyHistogram, LatencyStats, RunReport, SuiteReport};
use std::collections::HashMap;

/// One report to merge, and what to call it: its region, else its file name.
pub struct Input {
    pub label: String,
    pub report: RunReport,
}

impl Input {
    /// `file` is how the user named the report.
    pub fn new(file: &str, report: RunReport) -> Input {
        let label = report.origin.region.clone().unwrap_or_else(|| {
            std::path::Path::new(file)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| file.to_string())
        });
        Input { label, report }
    }
}

/// Every check's samples added up, by customer and name. Reports are read one at a time and
/// their histograms taken out into this, so a merge holds one histogram per check, not one per
/// check and report.
#[derive(Default)]
pub struct Histograms(HashMap<(String, String), LatencyHistogram>);

impl Histograms {
    /// Moves the histograms of `report` into the sums.
    pub fn take(&mut self, report: &mut RunReport) {
        for s in &mut report.suites {
            for c in s.checks.iter_mut().filter(|c| c.status != CheckStatus::Skipped) {
                if let Some(h) = c.histogram.take() {
                    match self.0.entry((s.customer.clone(), c.name.clone())) {
                        std::collections::hash_map::Entry::Occupied(mut e) => e.get_mut().add(&h),
                        std::collections::hash_map::Entry::Vacant(e) => {
                            e.insert(h);
                        }
                    }
                }
            }
        }
    }
}

/// Combines the reports (their histograms already taken into `histograms`); an error when
/// they name different environments.
pub fn combine(inputs: &[Input], files: &[String], mut histograms: Histograms) -> Result<RunReport, String> {
    let first = inputs.first().ok_or("no report to merge")?;
    let env = &first.report.environment;
    if let Some((i, other)) = inputs
        .iter()
        .enumerate()
        .find(|(_, r)| &r.report.environment != env)
    {
        return Err(format!(
            "the reports name different environments: {} is {env:?}, {} is {:?}; merge reports of one environment",
            files[0], files[i], other.report.environment
        ));
    }
    let mut regions: Vec<String> = Vec::new();
    for r in inputs.iter().filter_map(|i| i.report.origin.region.clone()) {
        if !regions.contains(&r) {
            regions.push(r);
        }
    }
    let suites = merged_suites(inputs, &mut histograms);
    let started_at = inputs
        .iter()
        .map(|i| i.report.origin.started_at.clone())
        .filter(|s| !s.is_empty())
        .min()
        .unwrap_or_default();
    Ok(RunReport {
        title: first.report.title.clone(),
        environment: env.clone(),
        base_url: first.report.base_url.clone(),
        base_url_source: first.report.base_url_source.clone(),
        duration_ms: inputs.iter().map(|i| i.report.duration_ms).fold(0.0, f64::max),
        suites,
        interrupted: None,
        origin: Origin {
            region: None,
            run_id: crate::vars::BuiltIns::new().run_id,
            started_at,
            merged: Some(MergedFrom {
                reports: inputs.len(),
                regions,
            }),
            notes: Vec::new(),
            monitor: None,
        },
    })
}

/// Suites by customer and checks by name, in the order they first appear.
fn merged_suites(inputs: &[Input], histograms: &mut Histograms) -> Vec<SuiteReport> {
    let mut suites: Vec<(SuiteReport, Vec<String>)> = Vec::new();
    let mut parts: HashMap<(String, String), Vec<(usize, &CheckReport)>> = HashMap::new();
    for (i, input) in inputs.iter().enumerate() {
        for s in &input.report.suites {
            let at = match suites.iter().position(|(m, _)| m.customer == s.customer) {
                Some(at) => at,
                None => {
                    let empty = SuiteReport {
                        checks: Vec::new(),
                        ..s.clone()
                    };
                    suites.push((empty, Vec::new()));
                    suites.len() - 1
                }
            };
            for c in &s.checks {
                let key = (s.customer.clone(), c.name.clone());
                let names = &mut suites[at].1;
                if !names.contains(&c.name) {
                    names.push(c.name.clone());
                }
                parts.entry(key).or_default().push((i, c));
            }
        }
    }
    suites
        .into_iter()
        .map(|(mut suite, names)| {
            suite.checks = names
                .iter()
                .map(|n| {
                    let key = (suite.customer.clone(), n.clone());
                    merge_check(inputs, &parts[&key], histograms.0.remove(&key))
                })
                .collect();
            suite
        })
        .collect()
}

/// One check over the reports that hold it.
fn merge_check(
    inputs: &[Input],
    parts: &[(usize, &CheckReport)],
    histogram: Option<LatencyHistogram>,
) -> CheckReport {
    let mut merged_info = MergedCheck {
        reports: parts.len(),
        of: inputs.len(),
        regions: Vec::new(),
    };
    let ran: Vec<(usize, &CheckReport)> = parts
        .iter()
        .copied()
        .filter(|(_, c)| c.status != CheckStatus::Skipped)
        .collect();
    let Some(&(_, lead)) = ran.first() else {
        let mut skipped = parts[0].1.clone();
        skipped.across.merged = Some(merged_info);
        return skipped;
    };
    let histogram = histogram.unwrap_or_default();
    let (mut samples, mut passed) = (0, 0);
    let mut standing = Vec::new();
    for &(i, c) in &ran {
        samples += c.samples;
        passed += c.passed_samples.min(c.samples);
        let label = &inputs[i].label;
        standing.extend(standing_failures(c).into_iter().map(|f| format!("{label}: {f}")));
        merged_info.regions.push(region_figures(label, c));
    }
    let latency = stats_of(&histogram);
    let sla = ran.iter().find_map(|(_, c)| c.sla.clone());
    let mut failures = verdict(
        &ran,
        &merged_info,
        sla.as_ref(),
        samples,
        passed,
        latency.as_ref(),
    );
    failures.extend(standing);
    let optional =
        sla.as_ref().is_some_and(|s| s.optional) || ran.iter().any(|(_, c)| c.status == CheckStatus::Warned);
    CheckReport {
        status: CheckStatus::judged(failures.is_empty(), optional),
        request: lead.request.clone(),
        response: ran
            .iter()
            .find(|(_, c)| !c.failures.is_empty())
            .unwrap_or(&ran[0])
            .1
            .response
            .clone(),
        duration_ms: ran.iter().filter_map(|(_, c)| c.duration_ms).reduce(f64::max),
        samples,
        sampled: samples > 1 || ran.iter().any(|(_, c)| c.sampled),
        availability: Some(passed as f64 * 100.0 / samples.max(1) as f64),
        latency_ms: latency.or(if ran.len() == 1 { lead.latency_ms } else { None }),
        failures,
        skip_reason: None,
        detail: None,
        passed_samples: passed,
        histogram: (!histogram.is_empty()).then_some(histogram),
        sla,
        // Each place sent at its own pace; the per-region rows say how fast.
        rate: if ran.len() == 1 { lead.rate } else { None },
        across: crate::report::across::CheckAcross {
            baseline: None,
            merged: Some(merged_info),
        },
        ..lead.clone()
    }
}

/// The merged check judged again on its `sla`, as if one run had sent every sample: the
/// failed samples' causes named by region.
fn verdict(
    ran: &[(usize, &CheckReport)],
    merged: &MergedCheck,
    sla: Option<&crate::report::across::Sla>,
    samples: usize,
    passed: usize,
    latency: Option<&crate::stats::LatencyStats>,
) -> Vec<String> {
    let causes: Vec<(String, usize)> = merged
        .regions
        .iter()
        .filter(|r| r.samples > r.passed)
        .map(|r| {
            let cause = r.cause.clone().unwrap_or_else(|| "failed".to_string());
            (format!("{cause} ({})", r.region), r.samples - r.passed)
        })
        .collect();
    let first_failed = ran
        .iter()
        .find(|(_, c)| c.passed_samples < c.samples)
        .map(|(_, c)| c.failures.clone())
        .unwrap_or_default();
    match sla {
        Some(sla) => sla.judge_together(samples, passed, &causes, first_failed, latency),
        // A report without thresholds: it failed where it failed.
        None => ran.iter().flat_map(|(_, c)| c.failures.clone()).collect(),
    }
}

/// A report's failures that no sample explains (a capture that matched nothing, a request
/// that could not be built): they stand whatever the other reports say.
pub fn standing_failures(c: &CheckReport) -> Vec<String> {
    if c.failures.is_empty() || (c.samples > 0 && c.passed_samples < c.samples) {
        return Vec::new();
    }
    c.failures
        .iter()
        .filter(|f| c.samples == 0 || !is_judged_again(f))
        .cloned()
        .collect()
}

/// A failure the merge judges again from the samples: a percentile limit or a baseline line.
fn is_judged_again(f: &str) -> bool {
    let percentile = ["p50 ", "p90 ", "p95 ", "p99 ", "max "]
        .iter()
        .any(|p| f.starts_with(p));
    percentile
        || f.starts_with("availability ")
        || f.starts_with("only ")
        || f.starts_with("no sample got a full response")
}

fn region_figures(label: &str, c: &CheckReport) -> RegionFigures {
    RegionFigures {
        region: label.to_string(),
        samples: c.samples,
        passed: c.passed_samples.min(c.samples),
        p50: c.latency_ms.map(|l| l.p50),
        p95: c.latency_ms.map(|l| l.p95),
        p99: c.latency_ms.map(|l| l.p99),
        cause: cause_of(c),
    }
}

/// Why a report's samples failed: the causes of its availability line, else its failures.
pub fn cause_of(c: &CheckReport) -> Option<String> {
    if c.failures.is_empty() {
        return None;
    }
    let marker = "samples failed: ";
    let from_line = c.failures.iter().find_map(|f| {
        let at = f.find(marker)?;
        let rest = &f[at + marker.len()..];
        Some(rest.strip_suffix(')').unwrap_or(rest).to_string())
    });
    Some(from_line.unwrap_or_else(|| c.failures.join("; ")))
}

/// Figures from the merged histogram, exact to its 3 significant digits: the nearest rank, as
/// a run computes it, read off the histogram's buckets (each value the top of its bucket).
pub fn stats_of(h: &LatencyHistogram) -> Option<LatencyStats> {
    Some(LatencyStats {
        min: h.min_ms()?,
        p50: nearest_rank(h, 50.0)?,
        p90: nearest_rank(h, 90.0)?,
        p95: nearest_rank(h, 95.0)?,
        p99: nearest_rank(h, 99.0)?,
        max: h.max_ms()?,
    })
}

/// The value at rank `ceil(p/100 × n)`.
pub fn nearest_rank(h: &LatencyHistogram, p: f64) -> Option<f64> {
    let n = h.len();
    let rank = ((p / 100.0) * n as f64).ceil().clamp(1.0, n as f64) as u64;
    let mut seen = 0;
    h.buckets_ms().find_map(|(ms, count)| {
        seen += count;
        (seen >= rank).then_some(ms)
    })
}
