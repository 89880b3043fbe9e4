//! What the monitor hands out after each round, for `--listen` (docs/monitor.md#listen): the
//! window report as `/status` serves it and the metrics text as `/metrics` serves it, through a
//! `tokio::sync::watch` channel that holds only the latest round.

use crate::report::RunReport;
use std::sync::Arc;
use tokio::sync::watch;

/// The monitor's state after one round.
#[derive(Debug)]
pub struct Published {
    /// 1, 2, …
    pub round: u64,
    /// The window report (docs/monitor.md#reports-describe-the-window), masked, as `/status` and
    /// the HTML page show it.
    pub report: Arc<RunReport>,
    /// OpenMetrics text (ending `# EOF`): counters and the latency histogram since the monitor
    /// started, `endpoint_check_check_success` the check's state.
    pub metrics: String,
}

/// `None` until the first round has finished.
pub type Latest = Option<Arc<Published>>;

/// The sending side, held by the monitor loop.
pub type Publisher = watch::Sender<Latest>;

/// The reading side, for the listen server (clone it freely).
pub type Subscriber = watch::Receiver<Latest>;

/// A new channel, holding `None`.
pub fn channel() -> (Publisher, Subscriber) {
    watch::channel(None)
}
