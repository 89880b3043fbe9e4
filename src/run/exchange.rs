//! One check sent once: a request slot, the timed exchange, retries after a transport error or
//! an unexpected 5xx, and `poll` until the assertions pass (docs/suites.md#captures).

use super::judge::{Judge, Sample};
use super::tally::Tally;
use super::{Ctx, control::FAIL_FAST_REASON};
use crate::http::{self, Outcome, Prepared};
use std::time::{Duration, Instant};
use tokio::sync::OwnedSemaphorePermit;

/// A request slot, or `None` once the run is interrupted: after a signal no new request goes
/// out, not even one that was already waiting for its slot.
pub(crate) async fn acquire_slot(ctx: &Ctx) -> Option<OwnedSemaphorePermit> {
    if ctx.control.is_halted() {
        return None;
    }
    // A free slot is taken without arming the wait on the signal (every sample asks).
    if let Ok(slot) = ctx.requests.clone().try_acquire_owned() {
        return Some(slot);
    }
    tokio::select! {
        biased;
        _ = ctx.control.halted() => None,
        slot = ctx.requests.clone().acquire_owned() => {
            Some(slot.expect("the request semaphore is never closed"))
        }
    }
}

/// The pause before retry number `attempt` (from 1): 200 ms doubling, at most 1 s.
fn retry_backoff(attempt: u32) -> Duration {
    Duration::from_millis((100u64 << attempt.min(4)).min(1000))
}

/// Sends a single-sample check, polling when it asks to, into a tally of one sample (none when
/// a signal came before anything was sent).
pub(crate) async fn run_once(
    ctx: &Ctx,
    judge: &Judge<'_>,
    req: &Prepared,
    timeout: Duration,
    first_slot: OwnedSemaphorePermit,
    started: Instant,
) -> Tally {
    let check = judge.check;
    let mut tally = Tally::new(1);
    let mut first_slot = Some(first_slot);
    // The last answer judged, for `poll`: it stands if a signal comes before the next one.
    let mut judged: Option<Sample> = None;
    loop {
        let Some((outcome, slot)) = send_with_retries(ctx, judge, req, timeout, first_slot.take()).await
        else {
            // Interrupted before the next `poll` request went out.
            if let Some(sample) = judged {
                tally.add(0, sample);
            }
            return tally;
        };
        let sample = judge.judge(req, outcome);
        if let Some(poll) = check.poll
            && !sample.ok()
            && started.elapsed() + poll.every < poll.within
            && !ctx.control.is_stopped()
        {
            drop(slot);
            judged = Some(sample);
            tokio::time::sleep(poll.every).await;
            continue;
        }
        // Stop the run before this slot passes to a waiting check, or that check would start.
        if ctx.settings.checks.fail_fast
            && !sample.ok()
            && !check.optional
            && check.expect.availability.unwrap_or(100.0) > 0.0
        {
            ctx.control.stop(FAIL_FAST_REASON);
        }
        drop(slot);
        tally.add(0, sample);
        return tally;
    }
}

/// One request with its retries. `None` when interrupted before anything was sent; after a
/// signal during a retry's backoff the last attempt stands (and holds no slot).
async fn send_with_retries(
    ctx: &Ctx,
    judge: &Judge<'_>,
    req: &Prepared,
    timeout: Duration,
    mut slot: Option<OwnedSemaphorePermit>,
) -> Option<(Outcome, Option<OwnedSemaphorePermit>)> {
    let check = judge.check;
    let retries = check.retries.unwrap_or(ctx.settings.checks.retries);
    let mut attempt = 0;
    let mut last = None;
    loop {
        let held = match slot.take() {
            Some(slot) => slot,
            None => match acquire_slot(ctx).await {
                Some(slot) => slot,
                None => return last.map(|outcome| (outcome, None)),
            },
        };
        let outcome = http::send(&ctx.client, req, timeout, check.follow_redirects).await;
        let retry = match &outcome.result {
            Err(_) => true,
            Ok(r) => r.status >= 500 && !judge.expect.status.allows(r.status),
        };
        if retry && attempt < retries && !ctx.control.is_stopped() {
            drop(held);
            attempt += 1;
            last = Some(outcome);
            tokio::time::sleep(retry_backoff(attempt)).await;
            continue;
        }
        return Some((outcome, Some(held)));
    }
}
