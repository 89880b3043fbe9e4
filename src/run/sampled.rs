//! A sampled check (docs/suites.md#samples-and-sla): `limit` workers, spawned so that they spread
//! over the runtime's threads, take sample numbers from one counter, so at most `limit` samples
//! exist at once whatever their number; each is folded into the tally once its clock stopped.

use super::exchange::acquire_slot;
use super::judge::Judge;
use super::tally::Tally;
use super::{Ctx, PlannedSuite};
use crate::assert::SampleExpect;
use crate::http::{self, Prepared};
use crate::rate::Rate;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Half of tokio's timer resolution (1 ms).
const HALF_TICK: Duration = Duration::from_micros(500);

/// What a sampled check sends, and how.
pub(crate) struct Samples {
    pub planned: Arc<PlannedSuite>,
    pub index: usize,
    pub req: Prepared,
    pub expect: SampleExpect,
    pub timeout: Duration,
    /// Record exchanges for `-v`.
    pub record: bool,
    pub count: usize,
    /// Open-loop: sample k is due at the start + k / rate (docs/suites.md#rate).
    pub rate: Option<Rate>,
}

/// What the sample workers of one check share.
struct SampleJob {
    ctx: Arc<Ctx>,
    samples: Samples,
    /// The number of the next sample to send.
    next: AtomicUsize,
    tally: Mutex<Tally>,
    /// When sample 0 is due, under a rate.
    start: Instant,
    /// When the last sample went out, under a rate: the achieved rate ends there.
    last_sent: Mutex<Option<Instant>>,
}

/// Sends every sample, at most `limit` at once, and returns their tally.
pub(crate) async fn run(ctx: Arc<Ctx>, samples: Samples, limit: usize) -> Tally {
    let job = Arc::new(SampleJob {
        ctx,
        tally: Mutex::new(Tally::new(samples.count)),
        samples,
        next: AtomicUsize::new(0),
        start: Instant::now(),
        last_sent: Mutex::new(None),
    });
    let mut workers = Workers((0..limit).map(|_| tokio::spawn(job.clone().work())).collect());
    for worker in &mut workers.0 {
        // A worker that panicked loses its sample: the tally then says how many ran.
        let _ = worker.await;
    }
    drop(workers);
    let mut tally = std::mem::replace(
        &mut *job.tally.lock().unwrap_or_else(|e| e.into_inner()),
        Tally::new(0),
    );
    if let Some(rate) = job.samples.rate {
        let last = *job.last_sent.lock().unwrap_or_else(|e| e.into_inner());
        let span = last.map_or(Duration::ZERO, |at| at - job.start);
        tally.rate = Some((rate, span));
    }
    tally
}

impl SampleJob {
    /// Sends samples until none is left. After a signal the sample in flight may finish; no new
    /// one is sent.
    async fn work(self: Arc<Self>) {
        let s = &self.samples;
        let check = &s.planned.suite.checks[s.index];
        let ctx = &*self.ctx;
        let judge = Judge {
            check,
            expect: &s.expect,
            redactor: &ctx.redactor,
            hint: ctx.settings.unauthorized_hint,
            record: s.record,
            curl_flags: &ctx.settings.curl_flags,
        };
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= s.count {
                return;
            }
            let due = s.rate.map(|r| self.start + r.due(i));
            if let Some(due) = due {
                // tokio's timer fires on the millisecond tick after the deadline: asking half a
                // tick early centres the send on the due time (docs/suites.md#rate).
                let wake = due.checked_sub(HALF_TICK).unwrap_or(due);
                tokio::time::sleep_until(wake.into()).await;
            }
            let Some(slot) = acquire_slot(ctx).await else {
                return;
            };
            let sent_at = Instant::now();
            if due.is_some() {
                let mut last = self.last_sent.lock().unwrap_or_else(|e| e.into_inner());
                *last = Some(last.map_or(sent_at, |l| l.max(sent_at)));
            }
            let mut outcome = http::send(&ctx.client, &s.req, s.timeout, check.follow_redirects).await;
            // Judging is ours, not the request's: the slot goes to the next sample first.
            drop(slot);
            if let (Some(due), Ok(response)) = (due, &mut outcome.result) {
                // Under a rate, latency counts from the due time: a wait for a slot, or a server
                // that stalled the samples before, is not hidden (no coordinated omission).
                response.latency += sent_at.saturating_duration_since(due);
            }
            let sample = judge.judge(&s.req, outcome);
            self.tally
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .add(i, sample);
        }
    }
}

/// Sample workers, aborted if the check is dropped or aborted before they finish.
struct Workers(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Workers {
    fn drop(&mut self) {
        for worker in &self.0 {
            worker.abort();
        }
    }
}
