//! Running a plan: one task per check, dependencies awaited, one global limit on requests in
//! flight, samples fed through a bounded stream, retries, `poll`, `--fail-fast` and interruption.

use super::http::{self, Prepared};
use super::plan::{BuiltIns, Plan, PlannedSuite};
use super::stats;
use crate::assert::{self, Response, SampleExpect};
use crate::duration::fmt_ms;
use crate::redact::{Redactor, is_secret_header, is_secret_variable};
use crate::report::{CheckReport, CheckStatus, ExchangeDetail, RequestSummary, ResponseSummary, SuiteReport};
use crate::suite::{BodyTemplate, CaptureSource, Check, RequestTarget};
use futures::StreamExt;
use futures::future::{BoxFuture, FutureExt, Shared};
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

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

/// Everything about a run that is not in the suites.
#[derive(Debug, Clone)]
pub struct Settings {
    pub environment: String,
    /// No trailing slash.
    pub base_url: String,
    /// Headers the environment adds (lowest precedence).
    pub environment_headers: Vec<(String, String)>,
    /// `-H` (highest precedence).
    pub cli_headers: Vec<(String, String)>,
    /// `--var`.
    pub cli_vars: Vec<(String, String)>,
    pub timeout: Duration,
    pub retries: u32,
    /// `--samples`, for idempotent checks.
    pub samples: Option<u32>,
    /// `-j`.
    pub concurrency: usize,
    pub fail_fast: bool,
    /// A 401 then gets the protected-deployment hint (spec 3.1).
    pub is_preview: bool,
    pub details: Details,
}

/// Notified as checks start and end (the progress bar listens).
pub trait Observer: Send + Sync {
    fn started(&self, _check: &str) {}
    fn finished(&self, _check: &str, _status: CheckStatus) {}
    /// Suite `index` (in plan order) has finished, and so has every suite before it.
    fn suite_finished(&self, _index: usize, _suite: &SuiteReport) {}
}

/// An observer that does nothing.
pub struct Silent;
impl Observer for Silent {}

/// Stopping a run: `stop` lets no new check start; `interrupt` also lets no new request go out,
/// not even one of a check already running; `abort` cuts off checks in flight.
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

    fn reason(&self) -> String {
        self.reason
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_else(|| "interrupted".into())
    }
}

/// Why checks not yet started are skipped after a failure under `--fail-fast`.
const FAIL_FAST_REASON: &str = "--fail-fast: an earlier check failed";

/// What a finished check hands its dependents.
struct Finished {
    report: CheckReport,
    captures: HashMap<String, Value>,
}

impl Finished {
    /// Passed or warned: dependents may run (spec 2.1, `optional`).
    fn satisfies_needs(&self) -> bool {
        matches!(self.report.status, CheckStatus::Passed | CheckStatus::Warned)
    }
}

type Pending = Shared<BoxFuture<'static, Arc<Finished>>>;

struct Ctx {
    client: reqwest::Client,
    settings: Settings,
    requests: Arc<Semaphore>,
    control: Control,
    observer: Arc<dyn Observer>,
    redactor: Redactor,
    built_ins: BuiltIns,
}

/// Runs every planned check and returns the suites' reports, checks in file order.
pub async fn execute(
    plan: Plan,
    client: reqwest::Client,
    settings: Settings,
    control: Control,
    observer: Arc<dyn Observer>,
    redactor: Redactor,
    built_ins: BuiltIns,
) -> Vec<SuiteReport> {
    let ctx = Arc::new(Ctx {
        client,
        requests: Arc::new(Semaphore::new(settings.concurrency.max(1))),
        settings,
        control,
        observer,
        redactor,
        built_ins,
    });
    let mut per_suite = Vec::new();
    for planned in plan.suites {
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
    let halt = ctx.control.halt.clone();
    let slot = tokio::select! {
        permit = ctx.requests.clone().acquire_owned() => permit.ok(),
        _ = halt.cancelled() => None,
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
    let abort = ctx.control.abort.clone();
    let finished = tokio::select! {
        joined = &mut run => match joined {
            Ok(f) => f,
            Err(e) => Finished {
                report: failed_report(check, format!("internal error: {e}")),
                captures,
            },
        },
        _ = abort.cancelled() => {
            // Dropping the handle would leave the task running: cut its requests for real.
            run.abort();
            Finished {
                report: CheckReport::skipped(&check.name, check.pos.line, "interrupted"),
                captures,
            }
        }
    };
    if finished.report.status == CheckStatus::Failed && ctx.settings.fail_fast {
        ctx.control.stop(FAIL_FAST_REASON);
    }
    ctx.observer.finished(&check.name, finished.report.status);
    Arc::new(finished)
}

fn failed_report(check: &Check, message: String) -> CheckReport {
    let mut r = CheckReport::skipped(&check.name, check.pos.line, "");
    r.skip_reason = None;
    r.status = if check.optional {
        CheckStatus::Warned
    } else {
        CheckStatus::Failed
    };
    r.failures = vec![message];
    r
}

/// Looks variables up in the order of spec 2.3.
struct Scope<'a> {
    captures: &'a HashMap<String, Value>,
    ctx: &'a Ctx,
    suite: &'a PlannedSuite,
}

impl Scope<'_> {
    fn get(&self, name: &str) -> Option<Value> {
        if let Some(v) = self.captures.get(name) {
            return Some(v.clone());
        }
        if let Some((_, v)) = self.ctx.settings.cli_vars.iter().rev().find(|(k, _)| k == name) {
            return Some(Value::String(v.clone()));
        }
        if let Some(v) = self.suite.variables.get(name) {
            return Some(v.clone());
        }
        if let Ok(v) = std::env::var(name)
            && !v.is_empty()
        {
            return Some(Value::String(v));
        }
        self.ctx.built_ins.get(name)
    }

    fn expand(&self, text: &str) -> Result<String, String> {
        crate::vars::expand(text, &|n| self.get(n)).map_err(|e| e.to_string())
    }

    fn expand_json(&self, v: &Value) -> Result<Value, String> {
        crate::vars::expand_json(v, &|n| self.get(n)).map_err(|e| e.to_string())
    }
}

fn is_idempotent(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS")
}

/// Builds the request of a check, with every variable expanded.
fn prepare(check: &Check, scope: &Scope) -> Result<Prepared, String> {
    let rq = &check.request;
    let raw_url = match &rq.target {
        RequestTarget::Path(p) => {
            let p = scope.expand(p)?;
            let base = &scope.ctx.settings.base_url;
            if p.is_empty() || p.starts_with('/') || p.starts_with('?') {
                format!("{base}{p}")
            } else {
                format!("{base}/{p}")
            }
        }
        RequestTarget::Url(u) => scope.expand(u)?,
    };
    let mut url = reqwest::Url::parse(&raw_url).map_err(|e| format!("invalid URL {raw_url:?}: {e}"))?;
    if !rq.query.is_empty() {
        let mut pairs = Vec::new();
        for (k, v) in &rq.query {
            pairs.push((k.clone(), scope.expand(v)?));
        }
        url.query_pairs_mut().extend_pairs(pairs);
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut set = |name: &str, value: String| {
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        headers.push((name.to_string(), value));
    };
    // A secret the environment adds (the Vercel bypass secret) goes to the environment's own
    // origin only, never to a check's absolute `url:` elsewhere.
    let base_origin = reqwest::Url::parse(&scope.ctx.settings.base_url)
        .map(|u| u.origin())
        .ok();
    let same_origin = base_origin.as_ref() == Some(&url.origin());
    for (k, v) in &scope.ctx.settings.environment_headers {
        if same_origin || !is_secret_header(k) {
            set(k, v.clone());
        }
    }
    for (k, v) in &rq.headers {
        set(k, scope.expand(v)?);
    }
    for (k, v) in &scope.ctx.settings.cli_headers {
        set(k, v.clone());
    }
    for (k, v) in &headers {
        if is_secret_header(k) {
            scope.ctx.redactor.add(v);
            // `Bearer abc`: the token alone is just as secret.
            if let Some((_, token)) = v.split_once(' ') {
                scope.ctx.redactor.add(token.trim());
            }
        }
    }
    let mut map = http::header_map(&headers)?;
    let (body, content_type): (Option<bytes::Bytes>, Option<&str>) = match &rq.body {
        BodyTemplate::None => (None, None),
        BodyTemplate::Json(v) => {
            let value = scope.expand_json(v)?;
            (
                Some(serde_json::to_vec(&value).map_err(|e| e.to_string())?.into()),
                Some("application/json"),
            )
        }
        BodyTemplate::Text(t) => (
            Some(scope.expand(t)?.into_bytes().into()),
            Some("text/plain; charset=utf-8"),
        ),
        BodyTemplate::Form(fields) => {
            let mut encoder = reqwest::Url::parse("form:x").map_err(|e| e.to_string())?;
            let mut pairs = Vec::new();
            for (k, v) in fields {
                pairs.push((k.clone(), scope.expand(v)?));
            }
            encoder.query_pairs_mut().extend_pairs(pairs);
            let encoded = encoder.query().unwrap_or("").to_string();
            (
                Some(encoded.into_bytes().into()),
                Some("application/x-www-form-urlencoded"),
            )
        }
        BodyTemplate::File { bytes, content_type } => (Some(bytes.clone().into()), Some(*content_type)),
    };
    if let Some(ct) = content_type
        && !map.contains_key(CONTENT_TYPE)
    {
        map.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    let method = reqwest::Method::from_bytes(rq.method.as_bytes())
        .map_err(|_| format!("invalid method {}", rq.method))?;
    Ok(Prepared {
        method,
        url,
        headers: map,
        body,
    })
}

fn expand_expect(check: &Check, scope: &Scope) -> Result<SampleExpect, String> {
    let e = &check.expect;
    let f = |v: &Value| scope.expand_json(v);
    Ok(SampleExpect {
        status: e.status.clone(),
        latency: e.latency,
        headers: e
            .headers
            .iter()
            .map(|(n, m)| Ok((n.clone(), m.expand(&f)?)))
            .collect::<Result<_, String>>()?,
        json: e
            .json
            .iter()
            .map(|(q, m)| Ok((q.clone(), m.expand(&f)?)))
            .collect::<Result<_, String>>()?,
        body: e.body.as_ref().map(|m| m.expand(&f)).transpose()?,
    })
}

/// Captures from a response; an error names the capture that matched nothing.
fn capture(check: &Check, response: &Response) -> Result<HashMap<String, Value>, String> {
    let mut out = HashMap::new();
    if check.captures.is_empty() {
        return Ok(out);
    }
    let doc = check
        .captures
        .iter()
        .any(|c| matches!(c.source, CaptureSource::Json(_)))
        .then(|| response.json());
    for cap in &check.captures {
        let value = match &cap.source {
            CaptureSource::Json(q) => match &doc {
                Some(Ok(doc)) => q.select(doc),
                Some(Err(why)) => return Err(format!("capture `{}`: {why}", cap.name)),
                None => None,
            },
            CaptureSource::Header(h) => response.header(h).map(|v| Value::String(v.to_string())),
            CaptureSource::Regex(re) => re
                .captures(&response.body)
                .and_then(|c| c.get(1))
                .map(|m| Value::String(m.as_str().to_string())),
        };
        match value {
            Some(v) => {
                out.insert(cap.name.clone(), v);
            }
            None => {
                let what = match &cap.source {
                    CaptureSource::Json(q) => q.source.clone(),
                    CaptureSource::Header(h) => format!("header {h}"),
                    CaptureSource::Regex(re) => format!("regex /{}/", re.as_str()),
                };
                return Err(format!("capture `{}`: {what} matched nothing", cap.name));
            }
        }
    }
    Ok(out)
}

/// One judged sample.
struct Sample {
    /// Milliseconds, when a full response came back.
    latency_ms: Option<f64>,
    status: Option<u16>,
    failures: Vec<String>,
    captures: Option<HashMap<String, Value>>,
    detail: Option<ExchangeDetail>,
}

impl Sample {
    fn ok(&self) -> bool {
        self.failures.is_empty()
    }
}

fn judge(
    check: &Check,
    ctx: &Ctx,
    req: &Prepared,
    expect: &SampleExpect,
    outcome: http::Outcome,
    record: bool,
) -> Sample {
    let detail = record.then(|| request_detail(req));
    match outcome.result {
        Err(why) => Sample {
            latency_ms: None,
            status: None,
            failures: vec![why],
            captures: None,
            detail,
        },
        Ok(response) => {
            // A `set-cookie` the server sends is as secret as one we send (spec 5).
            for (name, value) in &response.headers {
                if is_secret_header(name) {
                    ctx.redactor.add(value);
                }
            }
            let mut failures = assert::check_sample(expect, &response);
            let mut captures = None;
            if failures.is_empty() {
                match capture(check, &response) {
                    Ok(c) => {
                        for (k, v) in &c {
                            if is_secret_variable(k) {
                                ctx.redactor.add(crate::vars::value_to_text(v));
                            }
                        }
                        captures = Some(c);
                    }
                    Err(e) => failures.push(e),
                }
            }
            if response.status == 401
                && ctx.settings.is_preview
                && !req.headers.contains_key("x-vercel-protection-bypass")
                && !failures.is_empty()
            {
                failures.push(
                    "hint: this preview deployment is protected (401); set VERCEL_AUTOMATION_BYPASS_SECRET to the project's \"Protection Bypass for Automation\" secret so requests carry x-vercel-protection-bypass"
                        .to_string(),
                );
            }
            let detail = detail.map(|mut d| {
                d.response_status = Some(response.status);
                d.response_headers = response.headers.clone();
                d.response_body = Some(truncate(&response.body, 2048));
                d.ttfb_ms = outcome.ttfb.map(|t| t.as_secs_f64() * 1000.0);
                d
            });
            Sample {
                latency_ms: Some(response.latency.as_secs_f64() * 1000.0),
                status: Some(response.status),
                failures,
                captures,
                detail,
            }
        }
    }
}

fn request_detail(req: &Prepared) -> ExchangeDetail {
    ExchangeDetail {
        request_headers: req
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        request_body: req
            .body
            .as_ref()
            .map(|b| truncate(&String::from_utf8_lossy(b), 2048)),
        ..ExchangeDetail::default()
    }
}

fn truncate(text: &str, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text.to_string();
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &text[..end], text.len())
}

/// Sends one sample: waits for a slot, then the timed exchange. `None` when the run was
/// interrupted before the request went out.
async fn send_one(ctx: &Ctx, req: &Prepared, timeout: Duration, follow: bool) -> Option<http::Outcome> {
    let _slot = acquire_slot(ctx).await?;
    Some(http::send(&ctx.client, req, timeout, follow).await)
}

/// A request slot, or `None` once the run is interrupted: after a signal no new request goes
/// out (spec 1), not even one that was already waiting for its slot.
async fn acquire_slot(ctx: &Ctx) -> Option<OwnedSemaphorePermit> {
    tokio::select! {
        biased;
        _ = ctx.control.halt.cancelled() => None,
        slot = ctx.requests.clone().acquire_owned() => {
            Some(slot.expect("the request semaphore is never closed"))
        }
    }
}

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
        ctx: &ctx,
        suite: &planned,
    };
    let started = Instant::now();
    let prepared = prepare(check, &scope).and_then(|req| Ok((req, expand_expect(check, &scope)?)));
    let (req, expect) = match prepared {
        Ok(p) => p,
        Err(why) => {
            return Finished {
                report: failed_report(check, why),
                captures,
            };
        }
    };
    // `--samples` is for SLA figures; a polled check waits for a state and is sent as written.
    let samples = if is_idempotent(&check.request.method) && check.poll.is_none() {
        ctx.settings.samples.or(check.samples)
    } else {
        check.samples
    };
    let n = samples.unwrap_or(1).max(1) as usize;
    let timeout = check.timeout.unwrap_or(ctx.settings.timeout);
    let record = ctx.settings.details > Details::None;

    let mut first_slot = Some(first_slot);

    let mut tally = Tally::new(n);
    if n == 1 {
        let retries = check.retries.unwrap_or(ctx.settings.retries);
        // The last answer judged, for `poll`: it stands if a signal comes before the next one.
        let mut judged = None;
        loop {
            let mut attempt = 0;
            let mut last = None;
            let sent = loop {
                let slot = match first_slot.take() {
                    Some(slot) => slot,
                    None => match acquire_slot(&ctx).await {
                        Some(slot) => slot,
                        // Interrupted during a retry's backoff: the last attempt stands.
                        None => break last.map(|outcome| (outcome, None)),
                    },
                };
                let outcome = http::send(&ctx.client, &req, timeout, check.follow_redirects).await;
                let retry = match &outcome.result {
                    Err(_) => true,
                    Ok(r) => r.status >= 500 && !expect.status.allows(r.status),
                };
                if retry && attempt < retries && !ctx.control.is_stopped() {
                    drop(slot);
                    attempt += 1;
                    last = Some(outcome);
                    tokio::time::sleep(retry_backoff(attempt)).await;
                    continue;
                }
                break Some((outcome, Some(slot)));
            };
            let Some((outcome, slot)) = sent else {
                // Interrupted before the next `poll` request went out.
                if let Some(sample) = judged {
                    tally.add(0, sample);
                }
                break;
            };
            let sample = judge(check, &ctx, &req, &expect, outcome, record);
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
            if ctx.settings.fail_fast
                && !sample.ok()
                && !check.optional
                && check.expect.availability.unwrap_or(100.0) > 0.0
            {
                ctx.control.stop(FAIL_FAST_REASON);
            }
            drop(slot);
            tally.add(0, sample);
            break;
        }
    } else {
        drop(first_slot);
        // `limit` workers, spawned so that they spread over the runtime's threads, take sample
        // numbers from one counter: at most `limit` samples exist at once, whatever n is.
        let limit = check.concurrency.unwrap_or(ctx.settings.concurrency).clamp(1, n);
        let job = Arc::new(SampleJob {
            ctx: ctx.clone(),
            planned: planned.clone(),
            index,
            req,
            expect,
            timeout,
            record,
            planned_samples: n,
            next: AtomicUsize::new(0),
            tally: Mutex::new(tally),
        });
        let mut workers = Workers((0..limit).map(|_| tokio::spawn(job.clone().work())).collect());
        for worker in &mut workers.0 {
            // A worker that panicked loses its sample: the tally then says how many ran.
            let _ = worker.await;
        }
        drop(workers);
        let tally = std::mem::replace(
            &mut *job.tally.lock().unwrap_or_else(|e| e.into_inner()),
            Tally::new(0),
        );
        return finish_sampled(&ctx, check, &job.req, tally, samples.is_some(), started, captures);
    }
    finish_sampled(&ctx, check, &req, tally, samples.is_some(), started, captures)
}

/// The check's report from its tally; skipped when a signal came before any request went out.
fn finish_sampled(
    ctx: &Ctx,
    check: &Check,
    req: &Prepared,
    tally: Tally,
    sampled: bool,
    started: Instant,
    captures: HashMap<String, Value>,
) -> Finished {
    if tally.sent == 0 && ctx.control.is_halted() {
        return Finished {
            report: CheckReport::skipped(&check.name, check.pos.line, "interrupted"),
            captures,
        };
    }
    tally.finish(check, ctx, req, sampled, started.elapsed(), captures)
}

/// What the sample workers of one check share.
struct SampleJob {
    ctx: Arc<Ctx>,
    planned: Arc<PlannedSuite>,
    index: usize,
    req: Prepared,
    expect: SampleExpect,
    timeout: Duration,
    record: bool,
    planned_samples: usize,
    /// The number of the next sample to send.
    next: AtomicUsize,
    tally: Mutex<Tally>,
}

impl SampleJob {
    /// Sends samples until none is left, folding each into the tally once its clock has
    /// stopped. After a signal the sample in flight may finish; no new one is sent.
    async fn work(self: Arc<Self>) {
        let check = &self.planned.suite.checks[self.index];
        let ctx = &*self.ctx;
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= self.planned_samples {
                return;
            }
            let Some(outcome) = send_one(ctx, &self.req, self.timeout, check.follow_redirects).await else {
                return;
            };
            let sample = judge(check, ctx, &self.req, &self.expect, outcome, self.record);
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

fn retry_backoff(attempt: u32) -> Duration {
    Duration::from_millis((100u64 << attempt.min(4)).min(1000))
}

/// Sample results folded as they arrive: latencies compactly, bodies already dropped.
struct Tally {
    planned: usize,
    sent: usize,
    ok: usize,
    latencies_ms: Vec<f64>,
    /// The first failure messages seen, with how often each occurred.
    failure_counts: Vec<(String, usize)>,
    /// All failures of the lowest-numbered failed sample (shown for single-sample checks).
    first_failed: Option<(usize, Vec<String>)>,
    /// Captures of the lowest-numbered passing sample (spec 4.2).
    first_captures: Option<(usize, HashMap<String, Value>)>,
    /// Which sample's status and detail are shown, and whether it failed.
    shown: Option<(usize, bool)>,
    status: Option<u16>,
    detail: Option<ExchangeDetail>,
}

impl Tally {
    fn new(planned: usize) -> Tally {
        Tally {
            planned,
            sent: 0,
            ok: 0,
            latencies_ms: Vec::with_capacity(planned.min(1 << 20)),
            failure_counts: Vec::new(),
            first_failed: None,
            first_captures: None,
            shown: None,
            status: None,
            detail: None,
        }
    }

    fn add(&mut self, i: usize, s: Sample) {
        self.sent += 1;
        if let Some(ms) = s.latency_ms {
            self.latencies_ms.push(ms);
        }
        let ok = s.ok();
        // The status and detail shown are those of the first failed sample, else the first sample.
        let failed = !ok;
        let replace = match self.shown {
            None => true,
            Some((j, shown_failed)) => (failed && !shown_failed) || (failed == shown_failed && i < j),
        };
        if replace {
            self.shown = Some((i, failed));
            self.status = s.status;
            self.detail = s.detail;
        }
        if ok {
            self.ok += 1;
            if let Some(c) = s.captures
                && self.first_captures.as_ref().is_none_or(|(j, _)| i < *j)
            {
                self.first_captures = Some((i, c));
            }
        } else {
            for f in &s.failures {
                if let Some((_, count)) = self.failure_counts.iter_mut().find(|(m, _)| m == f) {
                    *count += 1;
                } else if self.failure_counts.len() < 5 {
                    self.failure_counts.push((f.clone(), 1));
                }
            }
            if self.first_failed.as_ref().is_none_or(|(j, _)| i < *j) {
                self.first_failed = Some((i, s.failures));
            }
        }
    }

    fn finish(
        mut self,
        check: &Check,
        ctx: &Ctx,
        req: &Prepared,
        sampled: bool,
        elapsed: Duration,
        mut captures: HashMap<String, Value>,
    ) -> Finished {
        let sent = self.sent.max(1);
        let availability = self.ok as f64 * 100.0 / sent as f64;
        let required = check.expect.availability.unwrap_or(100.0);
        let mut failures = Vec::new();
        if availability < required {
            if self.planned == 1 {
                failures.extend(self.first_failed.take().map(|(_, f)| f).unwrap_or_default());
            } else {
                let failed = self.sent - self.ok;
                let causes: Vec<String> = self
                    .failure_counts
                    .iter()
                    .map(|(m, c)| if *c > 1 { format!("{m} ×{c}") } else { m.clone() })
                    .collect();
                failures.push(format!(
                    "availability {availability:.1}% < {required}% ({failed} of {} samples failed: {})",
                    self.sent,
                    causes.join("; ")
                ));
            }
        }
        if self.sent < self.planned {
            failures.push(format!(
                "only {} of {} samples ran before the run was stopped",
                self.sent, self.planned
            ));
        }
        let latency = stats::latency_stats(&mut self.latencies_ms);
        if let Some(stats) = &latency {
            let limits = &check.expect.latency_limits;
            for (name, limit, value) in [
                ("p50", limits.p50, stats.p50),
                ("p90", limits.p90, stats.p90),
                ("p95", limits.p95, stats.p95),
                ("p99", limits.p99, stats.p99),
                ("max", limits.max, stats.max),
            ] {
                if let Some(limit) = limit {
                    let limit_ms = limit.as_secs_f64() * 1000.0;
                    if value > limit_ms {
                        failures.push(format!("{name} {} > {}", fmt_ms(value), fmt_ms(limit_ms)));
                    }
                }
            }
        } else if !check.expect.latency_limits.is_empty() && failures.is_empty() {
            failures.push("no sample got a full response, so latency limits cannot hold".to_string());
        }
        if let Some((_, c)) = self.first_captures.take() {
            captures.extend(c);
        }
        let status = match (failures.is_empty(), check.optional) {
            (true, _) => CheckStatus::Passed,
            (false, true) => CheckStatus::Warned,
            (false, false) => CheckStatus::Failed,
        };
        let show_detail = match ctx.settings.details {
            Details::None => false,
            Details::Failures => status != CheckStatus::Passed,
            Details::All => true,
        };
        let report = CheckReport {
            name: check.name.clone(),
            status,
            line: check.pos.line,
            request: Some(RequestSummary {
                method: req.method.to_string(),
                url: req.url.to_string(),
            }),
            response: Some(ResponseSummary { status: self.status }),
            duration_ms: Some(elapsed.as_secs_f64() * 1000.0),
            samples: self.sent,
            sampled: sampled || self.planned > 1,
            availability: Some(availability),
            latency_ms: latency,
            failures,
            skip_reason: None,
            detail: if show_detail { self.detail } else { None },
        };
        Finished { report, captures }
    }
}
