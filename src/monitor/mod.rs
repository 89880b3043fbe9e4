//! Monitor mode (docs/monitor.md): the run repeated in rounds by one process with one client,
//! each check judged after every round on the rounds inside the window ([`window`]), its state
//! changes ([`alert`]) printed ([`output`]) and posted to webhooks ([`webhook`]), the latest
//! round handed to the listen server ([`publish`], served by [`listen`]). Counters for metrics
//! count since the start ([`totals`]).

pub mod alert;
pub mod listen;
pub mod output;
pub mod publish;
mod totals;
pub mod webhook;
mod window;

pub use publish::{Published, Publisher, Subscriber};

use crate::cli::WebhookFormat;
use crate::interrupt::{Interruption, Signals};
use crate::redact::Redactor;
use crate::report::RunReport;
use alert::{Change, States};
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// How long alerts still being delivered get after a signal (docs/monitor.md#alerts).
const SIGNAL_GRACE: Duration = Duration::from_secs(2);

/// When rounds start and end, and how checks are judged.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub every: Duration,
    /// No round starts this long after the first one started.
    pub for_: Option<Duration>,
    pub rounds: Option<u64>,
    /// `None`: each check is judged on the last round only.
    pub window: Option<Duration>,
    pub webhook_format: WebhookFormat,
}

/// What a finished round hands the caller to show and write.
pub struct Round<'a> {
    pub number: u64,
    /// When it started.
    pub at: SystemTime,
    /// The window report after it.
    pub window: &'a RunReport,
    /// The same states with every sample since the monitor started: what metrics count.
    pub since_start: &'a RunReport,
    pub changes: &'a [Change],
}

/// The caller's side of the loop: running a round, and showing one.
pub trait Rounds {
    /// Runs one round against the target with the monitor's client; a signal cuts it, and the
    /// report says so (`interrupted`).
    fn run(&mut self) -> impl std::future::Future<Output = RunReport>;
    /// Prints the round's lines and rewrites the report files.
    fn show(&mut self, round: &Round<'_>);
}

/// How the monitor ended.
pub struct Ending {
    /// The window report after the last full round, and the one since the start.
    pub last: Option<(RunReport, RunReport)>,
    /// The round a signal cut, when no round had finished before it.
    pub cut: Option<RunReport>,
    pub interrupted: Option<Interruption>,
    /// Whether any check's final state is failing.
    pub failing: bool,
}

/// What the loop keeps from round to round: bounded by the window and the number of checks.
struct Judged {
    window: window::Window,
    totals: totals::Totals,
    states: States,
}

/// Runs rounds until `--rounds`, `--for` or a signal, then finishes the alerts' deliveries.
pub async fn run(
    rounds: &mut impl Rounds,
    schedule: &Schedule,
    webhooks: webhook::Webhooks,
    publisher: &Publisher,
    signals: &Signals,
    redactor: &Redactor,
) -> Ending {
    let mut judged = Judged {
        window: window::Window::new(schedule.window),
        totals: totals::Totals::default(),
        states: States::default(),
    };
    let mut ending = Ending {
        last: None,
        cut: None,
        interrupted: None,
        failing: false,
    };
    let first = Instant::now();
    let mut due = first;
    for number in 1.. {
        let at = SystemTime::now();
        redactor.begin_epoch(number);
        let mut report = rounds.run().await;
        if let Some(kind) = report.interrupted {
            report.origin.monitor = Some(crate::report::across::MonitorRound {
                round: number,
                window_ms: schedule.window.map(|w| w.as_millis() as u64),
            });
            // A cut round is not judged: its unfinished checks say nothing about the target.
            ending.interrupted = Some(kind);
            if ending.last.is_none() {
                ending.cut = Some(report);
            }
            break;
        }
        judged.totals.add(&report);
        let window = judged.window.push(report, number, due, redactor);
        let since_start = judged.totals.report(&window);
        let changes = judged.states.observe(&window, at);
        let round = Round {
            number,
            at,
            window: &window,
            since_start: &since_start,
            changes: &changes,
        };
        rounds.show(&round);
        alert(&webhooks, &round, schedule.webhook_format);
        publish(publisher, &round, redactor);
        // Everything this round showed is masked: the secrets only earlier rounds saw can go.
        redactor.forget_before(number);
        ending.last = Some((window, since_start));
        match next_round(schedule, number, first, due, redactor) {
            Some(next) => due = next,
            None => break,
        }
        tokio::select! {
            _ = tokio::time::sleep_until(due.into()) => {}
            kind = signals.wait() => {
                ending.interrupted = Some(kind);
                break;
            }
        }
    }
    ending.failing = judged.states.any_failing();
    let grace = ending.interrupted.map(|_| SIGNAL_GRACE);
    webhooks.finish(grace).await;
    ending
}

/// When round `number + 1` is due, `None` when the monitor ends first. A round that overran
/// `--every` delays the next, which starts at once, and says so.
fn next_round(
    schedule: &Schedule,
    number: u64,
    first: Instant,
    due: Instant,
    redactor: &Redactor,
) -> Option<Instant> {
    if schedule.rounds.is_some_and(|n| number >= n) {
        return None;
    }
    let mut next = due + schedule.every;
    let now = Instant::now();
    if next < now {
        let _ = writeln!(
            redactor.writer(std::io::stderr()),
            "warning: round {number} took {}, longer than --every {}; round {} starts now",
            crate::duration::fmt(now - due),
            crate::duration::fmt_compact(schedule.every),
            number + 1
        );
        next = now;
    }
    match schedule.for_ {
        Some(limit) if next >= first + limit => None,
        _ => Some(next),
    }
}

/// Queues the round's changes for the webhooks, if it has any.
fn alert(webhooks: &webhook::Webhooks, round: &Round<'_>, format: WebhookFormat) {
    if round.changes.is_empty() {
        return;
    }
    let body = match format {
        WebhookFormat::Slack => output::slack_body(round.window, round.number, round.changes),
        WebhookFormat::Json => output::json_body(round.window, round.number, round.at, round.changes),
    };
    webhooks.send(round.number, &body);
}

/// Hands the round to the listen server: the window report and the metrics, masked.
fn publish(publisher: &Publisher, round: &Round<'_>, redactor: &Redactor) {
    if publisher.receiver_count() == 0 {
        return;
    }
    let metrics = crate::report::metrics::openmetrics(round.since_start).unwrap_or_default();
    let published = Published {
        round: round.number,
        report: Arc::new(crate::report::mask::masked(round.window, redactor)),
        metrics: redactor.mask(&metrics).into_owned(),
    };
    let _ = publisher.send(Some(Arc::new(published)));
}
