//! Scheduling a plan: one task per check, dependencies awaited, one global limit on requests in
//! flight, checks taking their first slot in file order, `--fail-fast` and interruption. What one
//! check does is in [`super::request`] (building it), [`super::exchange`] (sending it once, with
//! retries and `poll`), [`super::sampled`] (sending it N times) and [`super::tally`] (its verdict).

use super::control::{Control, FAIL_FAST_REASON};
use super::judge::Judge;
use super::plan::{Plan, PlannedSuite};
use super::tally::{Finish, Tally};
use super::{exchange, request, sampled};
use crate::env::UnauthorizedHint;
use crate::redact::Redactor;
use crate::report::{CheckReport, CheckStatus, SuiteReport};
use crate::vars::{BuiltIns, Scope};
use futures::StreamExt;
use futures::future::{BoxFuture, FutureExt, Shared};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How much of each exchange `-v` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Details {
    #[default]
    None,
    /// `-v`: failed checks.
    Failures,
    /// `-vv`: every check.
    All,
}

/// Everything about a run that is not in the suites: where it goes, and how every check is sent.
#[derive(Debug, Clone)]
pub struct Settings {
    pub environment: String,
    /// No trailing slash.
    pub base_url: String,
    /// Headers the environment adds (lowest precedence).
    pub environment_headers: Vec<(String, String)>,
    /// `--var`.
    pub cli_vars: Vec<(String, String)>,
    /// What a 401 from the target should tell the user (a protected Vercel preview).
    pub unauthorized_hint: Option<UnauthorizedHint>,
    /// Reads the process environment, where `${VAR}` looks after `variables` (an empty value
    /// counts as unset).
    pub env_lookup: fn(&str) -> Option<String>,
    pub checks: CheckDefaults,
    /// The client's flags as `curl` writes them, for the `-v` command line.
    pub curl_flags: Vec<String>,
}

/// How checks are sent, from the command line: what a check does not set itself.
#[derive(Debug, Clone)]
pub struct CheckDefaults {
    /// `-H` (highest precedence).
    pub headers: Vec<(String, String)>,
    pub timeout: Duration,
    pub retries: u32,
    /// `--samples`, for idempotent checks.
    pub samples: Option<u32>,
    /// `--rate`: every sampled check sends open-loop at this rate (over its own `rate:`, as
    /// `--samples` wins over `samples`).
    pub rate: Option<crate::rate::Rate>,
    /// `-j`.
    pub concurrency: usize,
    pub fail_fast: bool,
    pub details: Details,
}

/// Notified as checks start and end (the progress bar listens).
pub trait Observer: Send + Sync {
    fn started(&self, _check: &str) {}
    fn finished(&self, _check: &str, _status: CheckStatus) {}
    /// Suite `index` (in plan order) has finished, and so has every suite before it.
    fn suite_finished(&self, _index: usize, _suite: &SuiteReport) {}
}

/// What a finished check hands its dependents.
pub(crate) struct Finished {
    pub report: CheckReport,
    pub captures: HashMap<String, Value>,
}

impl Finished {
    /// Passed or warned: dependents may run (docs/suites.md#captures: `optional`).
    fn satisfies_needs(&self) -> bool {
        matches!(self.report.status, CheckStatus::Passed | CheckStatus::Warned)
    }

    fn skipped(
        check: &crate::suite::Check,
        reason: impl Into<String>,
        captures: HashMap<String, Value>,
    ) -> Self {
        Finished {
            report: CheckReport::skipped(&check.name, check.pos.line, reason),
            captures,
        }
    }
}

type Pending = Shared<BoxFuture<'static, Arc<Finished>>>;

/// What every check of a run shares.
pub(crate) struct Ctx {
    pub client: crate::http::Client,
    pub settings: Settings,
    /// `-j`: requests in flight over the whole run.
    pub requests: Arc<Semaphore>,
    pub control: Control,
    pub observer: Arc<dyn Observer>,
    pub redactor: Redactor,
    pub built_ins: BuiltIns,
}

/// Runs every planned check and returns the suites' reports, checks in file order.
pub async fn execute(
    plan: Plan,
    client: crate::http::Client,
    settings: Settings,
    control: Control,
    observer: Arc<dyn Observer>,
    redactor: Redactor,
    built_ins: BuiltIns,
) -> Vec<SuiteReport> {
    let ctx = Arc::new(Ctx {
        client,
        requests: Arc::new(Semaphore::new(settings.checks.concurrency.max(1))),
        settings,
        control,
        observer,
        redactor,
        built_ins,
    });
    let mut per_suite = Vec::new();
    for mut planned in plan.suites {
        planned.jar = planned
            .suite
            .cookies
            .then(|| Arc::new(super::cookies::Jar::new(ctx.redactor.clone())));
        let planned = Arc::new(planned);
        let mut pending: HashMap<usize, Pending> = HashMap::new();
        let futures: Vec<Pending> = planned
            .checks
            .iter()
            .map(|c| pending_for(&ctx, &planned, c.index, &mut pending))
            .collect();
        per_suite.push((planned, futures));
    }
    // Every suite at once: the checks of a later suite must not wait for an earlier suite to end.
    // Results come back in suite order, each as soon as it and the suites before it are done.
    let mut in_order: futures::stream::FuturesOrdered<_> = per_suite
        .into_iter()
        .map(|(planned, futures)| async move {
            let finished = futures::future::join_all(futures).await;
            SuiteReport {
                customer: planned.suite.customer.clone(),
                title: planned.suite.title.clone(),
                file: planned.suite.file.clone(),
                checks: finished.iter().map(|f| f.report.clone()).collect(),
            }
        })
        .collect();
    let mut reports = Vec::new();
    while let Some(report) = in_order.next().await {
        ctx.observer.suite_finished(reports.len(), &report);
        reports.push(report);
    }
    reports
}

/// The shared future of check `index`, built after those of its dependencies.
fn pending_for(
    ctx: &Arc<Ctx>,
    planned: &Arc<PlannedSuite>,
    index: usize,
    pending: &mut HashMap<usize, Pending>,
) -> Pending {
    if let Some(p) = pending.get(&index) {
        return p.clone();
    }
    let check = &planned.suite.checks[index];
    let deps: Vec<(String, Pending)> = check
        .depends_on
        .iter()
        .map(|&d| {
            (
                planned.suite.checks[d].name.clone(),
                pending_for(ctx, planned, d, pending),
            )
        })
        .collect();
    let env_skip = planned
        .checks
        .iter()
        .find(|c| c.index == index)
        .and_then(|c| c.skip.clone());
    let ctx = ctx.clone();
    let planned = planned.clone();
    let task = async move {
        let mut captures = HashMap::new();
        let mut blocked_by = None;
        for (name, dep) in deps {
            let done = dep.await;
            if !done.satisfies_needs() && blocked_by.is_none() {
                blocked_by = Some(name);
            }
            captures.extend(done.captures.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        let skip = env_skip
            .or_else(|| blocked_by.map(|name| format!("needs {name:?}")))
            .or_else(|| ctx.control.is_stopped().then(|| ctx.control.reason()));
        let reason = match skip {
            Some(reason) => reason,
            None => match first_slot(&ctx).await {
                Ok(slot) => return run_started(ctx, planned, index, captures, slot).await,
                Err(reason) => reason,
            },
        };
        let check = &planned.suite.checks[index];
        ctx.observer.finished(&check.name, CheckStatus::Skipped);
        Arc::new(Finished {
            report: CheckReport::skipped(&check.name, check.pos.line, reason),
            captures,
        })
    };
    let shared = task.boxed().shared();
    pending.insert(index, shared.clone());
    shared
}

/// A check starts when it gets its first request slot. The slot is asked for by the check's
/// future, and those are polled in file order, so `-j 1` runs the checks one by one in that order.
/// A check still waiting when the run stops (`--fail-fast`, Ctrl-C) sent nothing: `Err(reason)`.
async fn first_slot(ctx: &Ctx) -> Result<OwnedSemaphorePermit, String> {
    let slot = tokio::select! {
        permit = ctx.requests.clone().acquire_owned() => permit.ok(),
        _ = ctx.control.halted() => None,
    };
    match slot {
        Some(slot) if !ctx.control.is_stopped() => Ok(slot),
        _ => Err(ctx.control.reason()),
    }
}

/// Runs a check that got its first request slot.
async fn run_started(
    ctx: Arc<Ctx>,
    planned: Arc<PlannedSuite>,
    index: usize,
    captures: HashMap<String, Value>,
    slot: OwnedSemaphorePermit,
) -> Arc<Finished> {
    let check = &planned.suite.checks[index];
    ctx.observer.started(&check.name);
    let mut run = tokio::spawn(run_check(
        ctx.clone(),
        planned.clone(),
        index,
        captures.clone(),
        slot,
    ));
    let finished = tokio::select! {
        joined = &mut run => match joined {
            Ok(f) => f,
            Err(e) => Finished {
                report: CheckReport::failed_unsent(&check.name, check.pos.line, check.optional, format!("internal error: {e}")),
                captures,
            },
        },
        _ = ctx.control.aborted() => {
            // Dropping the handle would leave the task running: cut its requests for real.
            run.abort();
            Finished::skipped(check, "interrupted", captures)
        }
    };
    if finished.report.status == CheckStatus::Failed && ctx.settings.checks.fail_fast {
        ctx.control.stop(FAIL_FAST_REASON);
    }
    ctx.observer.finished(&check.name, finished.report.status);
    Arc::new(finished)
}

/// Builds the check's request, sends it once or as samples, and judges it.
async fn run_check(
    ctx: Arc<Ctx>,
    planned: Arc<PlannedSuite>,
    index: usize,
    captures: HashMap<String, Value>,
    first_slot: OwnedSemaphorePermit,
) -> Finished {
    let check = &planned.suite.checks[index];
    let scope = Scope {
        captures: &captures,
        cli_vars: &ctx.settings.cli_vars,
        suite_vars: &planned.variables,
        env: &ctx.settings.env_lookup,
        built_ins: &ctx.built_ins,
    };
    let started = Instant::now();
    let built = request::build(check, &scope, &ctx.settings, &ctx.redactor).and_then(|req| {
        let expect = request::expect(check, &scope, &req, &ctx.settings.base_url)?;
        Ok((req, expect))
    });
    let (mut req, expect) = match built {
        Ok(built) => built,
        Err(why) => {
            let report = CheckReport::failed_unsent(&check.name, check.pos.line, check.optional, why);
            return Finished { report, captures };
        }
    };
    if check.cookies
        && let Some(jar) = &planned.jar
    {
        req.jar = Some(jar.clone());
    }
    // `--samples` is for SLA figures; a polled check waits for a state and is sent as written.
    let samples = if request::is_idempotent(&check.request.method) && check.poll.is_none() {
        ctx.settings.checks.samples.or(check.samples)
    } else {
        check.samples
    };
    let n = samples.unwrap_or(1).max(1) as usize;
    let timeout = check.timeout.unwrap_or(ctx.settings.checks.timeout);
    let record = ctx.settings.checks.details > Details::None;
    let tally = if n == 1 {
        let judge = Judge {
            check,
            expect: &expect,
            redactor: &ctx.redactor,
            hint: ctx.settings.unauthorized_hint,
            record,
            curl_flags: &ctx.settings.curl_flags,
        };
        exchange::run_once(&ctx, &judge, &req, timeout, first_slot, started).await
    } else {
        drop(first_slot);
        let limit = check
            .concurrency
            .unwrap_or(ctx.settings.checks.concurrency)
            .clamp(1, n);
        let job = sampled::Samples {
            planned: planned.clone(),
            index,
            req: req.clone(),
            expect,
            timeout,
            record,
            count: n,
            rate: ctx.settings.checks.rate.or(check.rate),
        };
        sampled::run(ctx.clone(), job, limit).await
    };
    finish(&ctx, check, &req, tally, samples.is_some(), started, captures)
}

/// The check's report from its tally; skipped when a signal came before any request went out.
fn finish(
    ctx: &Ctx,
    check: &crate::suite::Check,
    req: &crate::http::Prepared,
    tally: Tally,
    sampled: bool,
    started: Instant,
    captures: HashMap<String, Value>,
) -> Finished {
    if tally.sent == 0 && ctx.control.is_halted() {
        return Finished::skipped(check, "interrupted", captures);
    }
    let how = Finish {
        check,
        req,
        details: ctx.settings.checks.details,
        sampled,
        elapsed: started.elapsed(),
    };
    tally.finish(how, captures)
}
