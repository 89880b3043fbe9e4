//! A sampled check (docs/suites.md#samples-and-sla): `limit` workers, spawned so that they spread
//! over the runtime's threads, take sample numbers from one counter, so at most `limit` samples
//! exist at once whatever their number; each is folded into the tally once its clock stopped.

use super::exchange::acquire_slot;
use super::judge::Judge;
use super::tally::Tally;
use super::{Ctx, PlannedSuite};
use crate::assert::SampleExpect;
use crate::http::{self, Prepared};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
}

/// What the sample workers of one check share.
struct SampleJob {
    ctx: Arc<Ctx>,
    samples: Samples,
    /// The number of the next sample to send.
    next: AtomicUsize,
    tally: Mutex<Tally>,
}

/// Sends every sample, at most `limit` at once, and returns their tally.
pub(crate) async fn run(ctx: Arc<Ctx>, samples: Samples, limit: usize) -> Tally {
    let job = Arc::new(SampleJob {
        ctx,
        tally: Mutex::new(Tally::new(samples.count)),
        samples,
        next: AtomicUsize::new(0),
    });
    let mut workers = Workers((0..limit).map(|_| tokio::spawn(job.clone().work())).collect());
    for worker in &mut workers.0 {
        // A worker that panicked loses its sample: the tally then says how many ran.
        let _ = worker.await;
    }
    drop(workers);
    std::mem::replace(
        &mut *job.tally.lock().unwrap_or_else(|e| e.into_inner()),
        Tally::new(0),
    )
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
        };
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= s.count {
                return;
            }
            let Some(slot) = acquire_slot(ctx).await else {
                return;
            };
            let outcome = http::send(&ctx.client, &s.req, s.timeout, check.follow_redirects).await;
            // Judging is ours, not the request's: the slot goes to the next sample first.
            drop(slot);
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
