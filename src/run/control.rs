//! Stopping a run: one set of tokens the scheduler and the request loops check (README,
//! "Guarantees": a first signal sends no new request, a second cuts off what is in flight).

use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// Why checks not yet started are skipped after a failure under `--fail-fast`.
pub(crate) const FAIL_FAST_REASON: &str = "--fail-fast: an earlier check failed";

/// `stop` lets no new check start; `interrupt` also lets no new request go out, not even one of a
/// check already running; `abort` cuts off checks in flight.
#[derive(Clone, Default)]
pub struct Control {
    stop: CancellationToken,
    halt: CancellationToken,
    abort: CancellationToken,
    reason: Arc<Mutex<Option<String>>>,
}

impl Control {
    pub fn new() -> Control {
        Control::default()
    }

    /// Starts no new check from now on; the first reason given is the one reported.
    pub fn stop(&self, reason: &str) {
        let mut r = self.reason.lock().unwrap_or_else(|e| e.into_inner());
        r.get_or_insert_with(|| reason.to_string());
        self.stop.cancel();
    }

    /// A signal: no new check starts and no new request is sent (a retry, the next `poll` or
    /// the next sample of a check already running included); requests in flight may finish.
    pub fn interrupt(&self) {
        self.stop("interrupted");
        self.halt.cancel();
    }

    /// Cuts off the checks in flight (they are reported skipped: interrupted).
    pub fn abort(&self) {
        self.interrupt();
        self.abort.cancel();
    }

    pub fn is_stopped(&self) -> bool {
        self.stop.is_cancelled()
    }

    /// True once no new request may be sent.
    pub fn is_halted(&self) -> bool {
        self.halt.is_cancelled()
    }

    /// Resolves once no new request may be sent.
    pub(crate) async fn halted(&self) {
        self.halt.cancelled().await
    }

    /// Resolves once the checks in flight are to be cut off.
    pub(crate) async fn aborted(&self) {
        self.abort.cancelled().await
    }

    /// Why checks that did not start are skipped.
    pub(crate) fn reason(&self) -> String {
        self.reason
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_else(|| "interrupted".into())
    }
}
