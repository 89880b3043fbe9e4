//! Before the first request: `--wait` until the target answers, and the safety countdown.

use super::Target;
use crate::duration::fmt_compact;
use crate::error::Error;
use std::time::{Duration, Instant};

/// First pause between two `--wait` attempts; it doubles up to [`WAIT_MAX_BACKOFF`].
pub const WAIT_FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Longest pause between two `--wait` attempts.
pub const WAIT_MAX_BACKOFF: Duration = Duration::from_secs(2);

/// `--wait`: polls `url` until any HTTP response comes back or `within` runs out (exit 3),
/// writing progress to `progress`.
pub async fn wait_until_up(
    client: &reqwest::Client,
    url: &str,
    within: Duration,
    progress: &mut (dyn std::io::Write + Send),
) -> Result<(), Error> {
    let start = Instant::now();
    let deadline = start + within;
    let mut backoff = WAIT_FIRST_BACKOFF;
    let mut attempts = 0u32;
    let _ = writeln!(
        progress,
        "Waiting up to {} for {url} to answer…",
        fmt_compact(within)
    );
    let _ = progress.flush();
    let mut last_error = String::from("no attempt fitted in the time given");
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        // Always one try, even when a building preview used up the budget: it may be up now.
        if !remaining.is_zero() || attempts == 0 {
            attempts += 1;
            let timeout = if remaining.is_zero() {
                Duration::from_secs(1)
            } else {
                remaining
            };
            match client.get(url).timeout(timeout).send().await {
                Ok(response) => {
                    let _ = writeln!(
                        progress,
                        "{url} answered HTTP {} after {} ({attempts} attempt{})",
                        response.status().as_u16(),
                        fmt_compact(start.elapsed()),
                        if attempts == 1 { "" } else { "s" }
                    );
                    let _ = progress.flush();
                    return Ok(());
                }
                Err(e) => last_error = crate::http::error::describe(&e),
            }
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(Error::Environment(format!(
                "--wait: {url} did not answer within {} ({attempts} attempt{}; last: {last_error})",
                fmt_compact(within),
                if attempts == 1 { "" } else { "s" }
            )));
        }
        let pause = backoff.min(deadline - now);
        let _ = writeln!(
            progress,
            "  not up yet ({last_error}); next try in {} ({} elapsed)",
            fmt_compact(pause),
            fmt_compact(start.elapsed())
        );
        let _ = progress.flush();
        tokio::time::sleep(pause).await;
        backoff = (backoff * 2).min(WAIT_MAX_BACKOFF);
    }
}

/// The safety countdown: prints a warning naming the environment and base URL to `out`, then
/// counts down `delay`, one line a second (`Starting in 3…`). The caller races it against
/// signals (Ctrl-C exits 130, nothing sent). A zero delay prints nothing.
pub async fn countdown(target: &Target, delay: Duration, out: &mut (dyn std::io::Write + Send)) {
    if delay.is_zero() {
        return;
    }
    let _ = writeln!(
        out,
        "⚠  About to run against {} ({}). Press Ctrl-C to abort; --yes skips this delay.",
        target.name, target.base_url
    );
    let _ = out.flush();
    let mut remaining = delay;
    while !remaining.is_zero() {
        let whole = remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0);
        let _ = writeln!(out, "Starting in {whole}…");
        let _ = out.flush();
        // Sleep down to the next whole second, so every line shows a whole number.
        let step = remaining.saturating_sub(Duration::from_secs(whole - 1));
        tokio::time::sleep(step).await;
        remaining -= step;
    }
}
