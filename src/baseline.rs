//! Baselines (docs/merge.md#baselines): every sampled check compared with the same check of an
//! earlier report, and `expect.regression` (or `--max-regression`) as a gate. Pure: two reports
//! in, figures and failures out.

use crate::report::across::BaselineFigures;
use crate::report::{CheckReport, CheckStatus, RunReport, SuiteReport};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A slowdown smaller than this is never a regression, whatever its percentage.
const FLOOR_MS: f64 = 1.0;

/// `expect.regression`: how much worse than the baseline a check may get. Latency limits are
/// percent above the baseline's figure; `availability` is percentage points below it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Regression {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability: Option<f64>,
}

/// `20%`, `20` or `0.5`: a percentage (the `%` optional), not negative.
pub fn parse_percent(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let n = t.strip_suffix('%').unwrap_or(t).trim();
    match n.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("expected a percentage such as 20% or 0.5, found {t:?}")),
    }
}

/// A baseline report's checks by customer and name.
pub struct Baseline {
    checks: HashMap<(String, String), BaselineFigures>,
}

impl Baseline {
    pub fn of(report: &RunReport) -> Baseline {
        let checks = report
            .suites
            .iter()
            .flat_map(|s| s.checks.iter().map(move |c| (s, c)))
            .filter(|(_, c)| c.status != CheckStatus::Skipped)
            .map(|(s, c)| {
                let l = c.latency_ms.as_ref();
                let figures = BaselineFigures {
                    p50: l.map(|l| l.p50),
                    p95: l.map(|l| l.p95),
                    p99: l.map(|l| l.p99),
                    availability: c.availability,
                };
                ((s.customer.clone(), c.name.clone()), figures)
            })
            .collect();
        Baseline { checks }
    }
}

/// What a run or a merge is compared with: `--baseline` (if any) and `--max-regression`.
#[derive(Default)]
pub struct Gate {
    pub baseline: Option<Baseline>,
    pub max_regression: Option<f64>,
}

impl Gate {
    /// Reads `--baseline`; the error says why the file is not a report.
    pub fn load(path: Option<&std::path::Path>, max_regression: Option<f64>) -> Result<Gate, String> {
        let baseline = match path {
            Some(p) => Some(Baseline::of(
                &crate::report::read::read(p).map_err(|e| format!("--baseline: {e}"))?,
            )),
            None => None,
        };
        Ok(Gate {
            baseline,
            max_regression,
        })
    }

    /// One suite compared, as it finishes (its block is printed right away).
    pub fn apply_suite(&self, suite: &mut SuiteReport) {
        if let Some(b) = &self.baseline {
            apply_suite(suite, b, self.max_regression);
        }
    }

    /// The whole report compared; without a baseline, the note that regression limits were not judged.
    pub fn apply(&self, report: &mut RunReport) {
        match &self.baseline {
            Some(b) => report
                .suites
                .iter_mut()
                .for_each(|s| apply_suite(s, b, self.max_regression)),
            None => report.origin.notes.extend(unjudged_note(report)),
        }
    }
}

/// Compares every sampled check of `suite` with `baseline` and judges its regression limits
/// (the check's own, else `{ p95: max_regression }`).
fn apply_suite(suite: &mut SuiteReport, baseline: &Baseline, max_regression: Option<f64>) {
    {
        for check in suite.checks.iter_mut().filter(|c| c.sampled) {
            let figures = baseline
                .checks
                .get(&(suite.customer.clone(), check.name.clone()))
                .copied();
            check.across.baseline = Some(figures);
            let limits = check.sla.as_ref().and_then(|s| s.regression).or_else(|| {
                max_regression.map(|p| Regression {
                    p95: Some(p),
                    ..Regression::default()
                })
            });
            if let (Some(limits), Some(figures)) = (limits, figures) {
                let failures = regressions(check, &limits, &figures);
                fail(check, failures);
            }
        }
    }
}

/// The note for a run whose checks set `regression` but that has no baseline to judge it on.
pub fn unjudged_note(report: &RunReport) -> Option<String> {
    let any = report
        .suites
        .iter()
        .flat_map(|s| &s.checks)
        .any(|c| c.sla.as_ref().is_some_and(|s| s.regression.is_some()));
    any.then(|| "regression limits not judged: no --baseline".to_string())
}

fn fail(check: &mut CheckReport, failures: Vec<String>) {
    if failures.is_empty() || check.status == CheckStatus::Skipped {
        return;
    }
    let optional = check.sla.as_ref().is_some_and(|s| s.optional) || check.status == CheckStatus::Warned;
    check.failures.extend(failures);
    check.status = CheckStatus::judged(false, optional);
}

/// `p95 88 ms is 35% above the baseline's 65 ms (limit 20%)` for each limit exceeded.
fn regressions(check: &CheckReport, limits: &Regression, base: &BaselineFigures) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(now) = &check.latency_ms {
        for (name, limit, now, then) in [
            ("p50", limits.p50, now.p50, base.p50),
            ("p95", limits.p95, now.p95, base.p95),
            ("p99", limits.p99, now.p99, base.p99),
        ] {
            let (Some(limit), Some(then)) = (limit, then) else {
                continue;
            };
            if now - then >= FLOOR_MS && now > then * (1.0 + limit / 100.0) {
                let pct = if then > 0.0 {
                    (now - then) / then * 100.0
                } else {
                    f64::INFINITY
                };
                out.push(format!(
                    "{name} {} is {pct:.0}% above the baseline's {} (limit {limit}%)",
                    crate::duration::fmt_ms(now),
                    crate::duration::fmt_ms(then)
                ));
            }
        }
    }
    if let (Some(limit), Some(now), Some(then)) = (limits.availability, check.availability, base.availability)
        && now < then - limit
    {
        out.push(format!(
            "availability {now:.1}% is {:.2} points below the baseline's {then:.1}% (limit {limit} points)",
            then - now
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_parse() {
        assert_eq!(parse_percent("20%"), Ok(20.0));
        assert_eq!(parse_percent(" 0.5 "), Ok(0.5));
        assert!(parse_percent("-1").is_err());
        assert!(parse_percent("fast").is_err());
    }
}
