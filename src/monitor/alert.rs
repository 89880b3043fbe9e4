//! Each check's state, `passing` or `failing`, and its changes (docs/monitor.md#alerts): a
//! check failing after the first round counts as a change (one passing does not), a check that
//! stays failing is not reported again. A warned (`optional`) check counts as passing, as it
//! never fails a run; a skipped one keeps the state it had.

use crate::report::{CheckStatus, RunReport};
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Passing,
    Failing,
}

/// A check whose state changed after a round.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub customer: String,
    pub check: String,
    pub state: State,
    /// When the check entered this state: the start of the round that showed it.
    pub since: SystemTime,
    /// The first failure, when it started failing.
    pub reason: Option<String>,
    /// Over the window, in percent.
    pub availability: Option<f64>,
    pub p95_ms: Option<f64>,
    /// How long it had been failing, when it recovered.
    pub failed_for: Option<Duration>,
}

/// The states so far, by customer and check.
#[derive(Default)]
pub struct States(HashMap<(String, String), (State, SystemTime)>);

impl States {
    /// The changes the window report of a round that started `at` shows, in report order.
    pub fn observe(&mut self, report: &RunReport, at: SystemTime) -> Vec<Change> {
        let mut changes = Vec::new();
        for suite in &report.suites {
            for c in &suite.checks {
                let state = match c.status {
                    CheckStatus::Skipped => continue,
                    CheckStatus::Failed => State::Failing,
                    CheckStatus::Passed | CheckStatus::Warned => State::Passing,
                };
                let key = (suite.customer.clone(), c.name.clone());
                let before = self.0.insert(key.clone(), (state, at));
                let failed_for = match before {
                    Some((old, since)) if old == state => {
                        // No change: the state keeps its start.
                        self.0.insert(key, (old, since));
                        continue;
                    }
                    Some((_, since)) => at.duration_since(since).ok(),
                    // Seen for the first time: only failing is news.
                    None if state == State::Passing => continue,
                    None => None,
                };
                changes.push(Change {
                    customer: suite.customer.clone(),
                    check: c.name.clone(),
                    state,
                    since: at,
                    reason: (state == State::Failing)
                        .then(|| c.failures.first().cloned())
                        .flatten(),
                    availability: c.availability,
                    p95_ms: c.latency_ms.map(|l| l.p95),
                    failed_for: failed_for.filter(|_| state == State::Passing),
                });
            }
        }
        changes
    }

    /// True when any check's state is failing.
    pub fn any_failing(&self) -> bool {
        self.0.values().any(|(s, _)| *s == State::Failing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{CheckReport, SuiteReport};

    fn report(statuses: &[(&str, CheckStatus)]) -> RunReport {
        let checks = statuses
            .iter()
            .map(|(name, status)| {
                let mut c =
                    CheckReport::failed_unsent(*name, 1, false, "expected status 200, got 503".into());
                c.status = *status;
                c
            })
            .collect();
        RunReport {
            title: "t".into(),
            environment: "localhost".into(),
            base_url: String::new(),
            base_url_source: String::new(),
            duration_ms: 0.0,
            suites: vec![SuiteReport {
                customer: "shop".into(),
                title: "shop".into(),
                file: String::new(),
                checks,
            }],
            interrupted: None,
            origin: Default::default(),
        }
    }

    #[test]
    fn only_changes_are_news_and_failing_after_the_first_round_is_one() {
        use CheckStatus::{Failed, Passed, Skipped, Warned};
        let mut states = States::default();
        let t = |s: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        let first = states.observe(&report(&[("a", Passed), ("b", Failed), ("c", Warned)]), t(0));
        assert_eq!(first.len(), 1);
        assert_eq!((first[0].check.as_str(), first[0].state), ("b", State::Failing));
        assert_eq!(first[0].reason.as_deref(), Some("expected status 200, got 503"));
        assert!(
            states
                .observe(&report(&[("a", Passed), ("b", Failed), ("c", Warned)]), t(30))
                .is_empty()
        );
        // Skipped keeps the state; then b recovers after 150 s, a starts failing.
        assert!(
            states
                .observe(&report(&[("a", Passed), ("b", Skipped), ("c", Warned)]), t(60))
                .is_empty()
        );
        let later = states.observe(&report(&[("a", Failed), ("b", Passed), ("c", Warned)]), t(150));
        let seen: Vec<_> = later
            .iter()
            .map(|c| (c.check.as_str(), c.state, c.failed_for))
            .collect();
        assert_eq!(
            seen,
            [
                ("a", State::Failing, None),
                ("b", State::Passing, Some(Duration::from_secs(150)))
            ]
        );
        assert!(later[1].reason.is_none());
        assert!(states.any_failing());
    }
}
