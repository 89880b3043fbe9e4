//! What a round says (docs/monitor.md#output): its line, a line per state change, and the same
//! changes as a webhook's body (docs/monitor.md#alerts). Text only: the redactor masks it where
//! it is written or sent.

use super::alert::{Change, State};
use crate::duration::fmt_compact;
use crate::report::{RunReport, Summary};
use colored::Colorize;
use std::time::{Duration, SystemTime};

/// `[06:14:03] round 12: 63 passing, 1 failing (window 1h)`, the time in UTC as the reports
/// write theirs; warned and skipped counts only when not zero.
pub fn round_line(round: u64, at: SystemTime, s: &Summary, window: Option<Duration>) -> String {
    let mut line = format!(
        "[{}] round {round}: {} passing, {} failing",
        clock(at),
        s.passed,
        s.failed
    );
    for (n, what) in [(s.warned, "warned"), (s.skipped, "skipped")] {
        if n > 0 {
            line.push_str(&format!(", {n} {what}"));
        }
    }
    if let Some(w) = window {
        line.push_str(&format!(" (window {})", fmt_compact(w)));
    }
    line
}

/// `06:14:03` of a time, in UTC.
fn clock(at: SystemTime) -> String {
    let stamp = humantime::format_rfc3339_seconds(at).to_string();
    stamp.get(11..19).unwrap_or_default().to_string()
}

/// `✗ audio1.tv › GET /api/cdn/status started failing: expected status 200, got 503` or
/// `✓ audio1.tv › GET /api/cdn/status recovered after 2m 30s`, without colors.
pub fn change_text(c: &Change) -> String {
    match c.state {
        State::Failing => match &c.reason {
            Some(reason) => format!("✗ {} › {} started failing: {reason}", c.customer, c.check),
            None => format!("✗ {} › {} started failing", c.customer, c.check),
        },
        State::Passing => match c.failed_for {
            Some(d) => format!("✓ {} › {} recovered after {}", c.customer, c.check, span(d)),
            None => format!("✓ {} › {} recovered", c.customer, c.check),
        },
    }
}

/// [`change_text`] with its mark colored as the human report colors them.
pub fn change_line(c: &Change) -> String {
    let text = change_text(c);
    let (mark, rest) = text.split_at(text.char_indices().nth(1).map_or(0, |(i, _)| i));
    match c.state {
        State::Failing => format!("{}{rest}", mark.red().bold()),
        State::Passing => format!("{}{rest}", mark.green().bold()),
    }
}

/// How long a state lasted, as a person says it: whole seconds from a minute on.
fn span(d: Duration) -> String {
    if d >= Duration::from_secs(60) {
        fmt_compact(Duration::from_secs(d.as_secs()))
    } else {
        fmt_compact(d)
    }
}

/// The `slack` body: `{"text": "…"}`, the environment and round on the first line, then one
/// line per change.
pub fn slack_body(report: &RunReport, round: u64, changes: &[Change]) -> String {
    let place = match &report.origin.region {
        Some(region) => format!("{} ({region})", report.environment),
        None => report.environment.clone(),
    };
    let mut text = format!("endpoint-check {place}, round {round}:");
    for c in changes {
        text.push('\n');
        text.push_str(&change_text(c));
    }
    serde_json::json!({ "text": text }).to_string()
}

/// The `json` body: `{"environment", "region", "round", "at", "events": [...]}`.
pub fn json_body(report: &RunReport, round: u64, at: SystemTime, changes: &[Change]) -> String {
    let rfc3339 = crate::report::across::rfc3339;
    let events: Vec<serde_json::Value> = changes
        .iter()
        .map(|c| {
            serde_json::json!({
                "customer": c.customer,
                "check": c.check,
                "state": c.state,
                "since": rfc3339(c.since),
                "reason": c.reason,
                "availability": c.availability.map(crate::report::round_percent),
                "p95_ms": c.p95_ms.map(crate::report::round_ms),
            })
        })
        .collect();
    serde_json::json!({
        "environment": report.environment,
        "region": report.origin.region,
        "round": round,
        "at": rfc3339(at),
        "events": events,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(state: State) -> Change {
        Change {
            customer: "audio1.tv".into(),
            check: "GET /api/cdn/status".into(),
            state,
            since: SystemTime::UNIX_EPOCH,
            reason: Some("expected status 200, got 503".into()),
            availability: Some(0.0),
            p95_ms: None,
            failed_for: Some(Duration::from_secs(150)),
        }
    }

    #[test]
    fn lines_read_as_the_spec_writes_them() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(6 * 3600 + 14 * 60 + 3);
        let s = Summary {
            total: 64,
            passed: 63,
            failed: 1,
            ..Summary::default()
        };
        assert_eq!(
            round_line(12, at, &s, Some(Duration::from_secs(3600))),
            "[06:14:03] round 12: 63 passing, 1 failing (window 1h)"
        );
        assert_eq!(
            round_line(1, at, &s, None),
            "[06:14:03] round 1: 63 passing, 1 failing"
        );
        assert_eq!(
            change_text(&change(State::Failing)),
            "✗ audio1.tv › GET /api/cdn/status started failing: expected status 200, got 503"
        );
        assert_eq!(
            change_text(&change(State::Passing)),
            "✓ audio1.tv › GET /api/cdn/status recovered after 2m 30s"
        );
    }
}
