//! The progress bar on stderr while checks run (docs/reports.md): done/total, failures so far and a check
//! in flight. Shown only when stderr is a terminal and `CI` is unset or empty; cleared without a
//! trace when the run ends.
//!
//! Cheap by design: `started` and `finished` touch a short list of the checks in flight and an
//! atomic counter; the text is only formatted when indicatif draws, at most 10 times a second.
//! Hidden, every method is a no-op.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use super::CheckStatus;

/// Redraws per second at most.
const REFRESH_HZ: u8 = 10;

/// Longest check name shown, in characters, so the bar stays on one line.
const MAX_NAME_CHARS: usize = 48;

#[derive(Default)]
struct Shared {
    failed: AtomicUsize,
    /// Checks running now, oldest first; the newest is shown.
    in_flight: Mutex<Vec<String>>,
}

impl Shared {
    fn write_status(&self, w: &mut dyn std::fmt::Write) {
        let failed = self.failed.load(Ordering::Relaxed);
        if failed > 0 {
            let _ = write!(w, "failed {failed}");
        }
        let running = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(name) = running.last() {
            if failed > 0 {
                let _ = w.write_str(" · ");
            }
            let _ = w.write_str(name);
        }
    }
}

/// The run's progress bar. Share it by reference (or in an `Arc`): every method takes `&self`.
pub struct Progress {
    bar: Option<ProgressBar>,
    shared: Arc<Shared>,
}

/// True when a progress bar may be drawn: stderr is a terminal and `CI` is unset or empty.
fn wanted() -> bool {
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    !ci && std::io::stderr().is_terminal()
}

impl Progress {
    /// A bar for `total` checks on stderr, or a hidden one unless [`wanted`].
    pub fn new(total: usize) -> Progress {
        if wanted() {
            Progress::with_target(total, ProgressDrawTarget::stderr_with_hz(REFRESH_HZ))
        } else {
            Progress::hidden()
        }
    }

    /// A bar that draws nothing and does nothing.
    fn hidden() -> Progress {
        Progress {
            bar: None,
            shared: Arc::default(),
        }
    }

    /// A bar drawing to `target` (tests use a hidden or in-memory target).
    fn with_target(total: usize, target: ProgressDrawTarget) -> Progress {
        let shared = Arc::<Shared>::default();
        let for_style = Arc::clone(&shared);
        let status = move |_: &ProgressState, w: &mut dyn std::fmt::Write| for_style.write_status(w);
        let style = ProgressStyle::with_template("{spinner} [{bar:25}] {pos}/{len} {status}")
            .expect("the progress template is valid")
            .progress_chars("=> ")
            .with_key("status", status);
        let bar = ProgressBar::with_draw_target(Some(total as u64), target).with_style(style);
        if !bar.is_hidden() {
            // Keeps the spinner turning and the name in flight fresh between finished checks.
            bar.enable_steady_tick(Duration::from_millis(1000 / u64::from(REFRESH_HZ)));
        }
        Progress {
            bar: Some(bar),
            shared,
        }
    }

    /// A check started: it becomes the check shown in flight.
    pub fn started(&self, check_name: &str) {
        if self.bar.is_none() {
            return;
        }
        let mut name: String = check_name
            .chars()
            .take(MAX_NAME_CHARS)
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        if check_name.chars().nth(MAX_NAME_CHARS).is_some() {
            name.push('…');
        }
        self.shared
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(name);
    }

    /// A check finished with `status`: one more done, one more failure if it failed, and it is
    /// no longer in flight (a check skipped before starting never was).
    pub fn finished(&self, check_name: &str, status: CheckStatus) {
        let Some(bar) = &self.bar else { return };
        if status == CheckStatus::Failed {
            self.shared.failed.fetch_add(1, Ordering::Relaxed);
        }
        let mut running = self.shared.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        let shown: String = check_name.chars().take(MAX_NAME_CHARS).collect();
        if let Some(i) = running
            .iter()
            .rposition(|n| n.starts_with(shown.trim_end_matches(char::is_control)))
        {
            running.remove(i);
        }
        drop(running);
        bar.inc(1);
    }

    /// Runs `f` with the bar taken off the screen, for printing above it.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }

    /// Removes the bar from the screen, leaving no trace. Call before printing results.
    pub fn clear(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // What the bar would draw, read from its insides: the run itself never asks.
    fn is_hidden(p: &Progress) -> bool {
        p.bar.as_ref().is_none_or(ProgressBar::is_hidden)
    }

    fn done(p: &Progress) -> usize {
        p.bar.as_ref().map_or(0, |b| b.position() as usize)
    }

    fn failed(p: &Progress) -> usize {
        p.shared.failed.load(Ordering::Relaxed)
    }

    /// The status text after the counts, as drawn: `failed N · name in flight`.
    fn status_text(p: &Progress) -> String {
        let mut s = String::new();
        p.shared.write_status(&mut s);
        s
    }

    #[test]
    fn counts_and_names_while_hidden_from_the_screen() {
        let p = Progress::with_target(3, ProgressDrawTarget::hidden());
        assert!(is_hidden(&p));
        p.started("GET /a");
        p.started("POST /b\n");
        p.finished("GET /a", CheckStatus::Passed);
        assert_eq!(status_text(&p), "POST /b ");
        p.started("GET /c");
        p.finished("GET /c", CheckStatus::Failed);
        // The check still running is shown, not the one that just ended.
        assert_eq!(status_text(&p), "failed 1 · POST /b ");
        assert_eq!(done(&p), 2);
        assert_eq!(failed(&p), 1);
        p.clear();
    }

    #[test]
    fn long_names_are_cut() {
        let p = Progress::with_target(1, ProgressDrawTarget::hidden());
        p.started(&"x".repeat(100));
        assert_eq!(status_text(&p).chars().count(), MAX_NAME_CHARS + 1);
    }

    #[test]
    fn hidden_does_nothing() {
        let p = Progress::hidden();
        p.started("x");
        p.finished("x", CheckStatus::Failed);
        assert_eq!((done(&p), failed(&p)), (0, 0));
        assert!(is_hidden(&p));
        p.clear();
    }
}
