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
