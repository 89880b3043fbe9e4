//! Delivering alerts to `--webhook` URLs (docs/monitor.md#alerts).

use crate::redact::Redactor;
use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// A usage error unless `url` is an absolute http(s) URL. The message names only its origin:
/// a webhook URL is a secret (a Slack token is in the path).
pub fn check_url(url: &str) -> Result<(), String> {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        Ok(u) => Err(format!(
            "--webhook {}: not an http(s) URL",
            u.origin().ascii_serialization()
        )),
        Err(e) => Err(format!("--webhook: not a URL ({e})")),
    }
}

/// The part of a webhook URL a message may show: its scheme, host and port.
pub fn origin(url: &str) -> String {
    reqwest::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| "webhook".to_string())
}

/// A delivery's limit, per attempt (docs/monitor.md#alerts).
const TIMEOUT: Duration = Duration::from_secs(10);

/// Retries after the first attempt; the waits before them double from [`first_backoff`].
const RETRIES: u32 = 3;

/// Alerts waiting for one webhook: past this, its oldest waiting alert is dropped (with a
/// warning), so a webhook that is down for a day does not hold a day of alerts in memory and the
/// latest state still gets out when it comes back. `ENDPOINT_CHECK_WEBHOOK_QUEUE` sets another
/// (meant for tests).
const QUEUE: usize = 64;

fn queue_size() -> usize {
    crate::env::process_lookup("ENDPOINT_CHECK_WEBHOOK_QUEUE")
        .and_then(|n| n.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(QUEUE)
}

/// The wait before the first retry: 1 s, or `ENDPOINT_CHECK_WEBHOOK_BACKOFF` (a duration; meant
/// for tests, which cannot wait 7 s for three retries).
fn first_backoff() -> Duration {
    crate::env::process_lookup("ENDPOINT_CHECK_WEBHOOK_BACKOFF")
        .and_then(|t| crate::duration::parse(&t).ok())
        .unwrap_or(Duration::from_secs(1))
}

/// One round's alert.
struct Alert {
    round: u64,
    body: String,
}

/// The alerts waiting for one webhook, and a wake-up for its delivery task.
#[derive(Default)]
struct Queue {
    waiting: Mutex<Waiting>,
    changed: Notify,
}

#[derive(Default)]
struct Waiting {
    /// Oldest first.
    alerts: VecDeque<Alert>,
    /// No alert will come after these.
    closed: bool,
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `alert`; past `size` waiting, the oldest comes out and is returned.
    fn push(&self, alert: Alert, size: usize) -> Option<Alert> {
        let mut waiting = self.lock();
        waiting.alerts.push_back(alert);
        let dropped = (waiting.alerts.len() > size)
            .then(|| waiting.alerts.pop_front())
            .flatten();
        drop(waiting);
        self.changed.notify_one();
        dropped
    }

    fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_one();
    }

    /// The next alert, or `None` once the queue is closed and empty.
    async fn next(&self) -> Option<Alert> {
        loop {
            // Made before looking, so a push between the look and the wait is not missed.
            let notified = self.changed.notified();
            {
                let mut waiting = self.lock();
                if let Some(alert) = waiting.alerts.pop_front() {
                    return Some(alert);
                }
                if waiting.closed {
                    return None;
                }
            }
            notified.await;
        }
    }
}

/// One sender per `--webhook`, each delivering its alerts in round order in the background.
pub struct Webhooks {
    queues: Vec<(String, Arc<Queue>)>,
    size: usize,
    tasks: Vec<JoinHandle<()>>,
    redactor: Redactor,
}

impl Webhooks {
    /// Starts a delivery task per URL; the URLs become secrets, and messages name their origin only.
    pub fn start(urls: &[String], redactor: &Redactor) -> Result<Webhooks, String> {
        let mut webhooks = Webhooks {
            queues: Vec::new(),
            size: queue_size(),
            tasks: Vec::new(),
            redactor: redactor.clone(),
        };
        if urls.is_empty() {
            // No client, so no TLS roots loaded, for a monitor that sends no alerts.
            return Ok(webhooks);
        }
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .user_agent(concat!("endpoint-check/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the webhook client: {e}"))?;
        let backoff = first_backoff();
        for url in urls {
            redactor.add(url);
            let queue = Arc::new(Queue::default());
            let origin = origin(url);
            let target = Target {
                url: url.clone(),
                origin: origin.clone(),
                client: client.clone(),
                backoff,
                redactor: redactor.clone(),
            };
            webhooks
                .tasks
                .push(tokio::spawn(target.deliver_all(queue.clone())));
            webhooks.queues.push((origin, queue));
        }
        Ok(webhooks)
    }

    /// Queues round `round`'s alert for every webhook; never waits.
    pub fn send(&self, round: u64, body: &str) {
        let body = self.redactor.mask(body).into_owned();
        for (origin, queue) in &self.queues {
            let alert = Alert {
                round,
                body: body.clone(),
            };
            if let Some(oldest) = queue.push(alert, self.size) {
                warn(
                    &self.redactor,
                    &format!(
                        "webhook {origin} is {} alerts behind; round {}'s alert, the oldest waiting, is dropped",
                        self.size, oldest.round
                    ),
                );
            }
        }
    }

    /// Waits for the alerts still queued, retries included; with `within`, no longer than that
    /// (after a signal), then says how many webhooks were left undelivered.
    pub async fn finish(mut self, within: Option<Duration>) {
        self.close();
        let all = futures::future::join_all(std::mem::take(&mut self.tasks));
        let Some(within) = within else {
            all.await;
            return;
        };
        if tokio::time::timeout(within, all).await.is_err() {
            warn(
                &self.redactor,
                &format!(
                    "alerts still being delivered were given up after {}",
                    crate::duration::fmt(within)
                ),
            );
        }
    }
}

impl Webhooks {
    fn close(&self) {
        for (_, queue) in &self.queues {
            queue.close();
        }
    }
}

/// Dropped without [`Webhooks::finish`] (a monitor that failed), the delivery tasks still end
/// once what is queued is out.
impl Drop for Webhooks {
    fn drop(&mut self) {
        self.close();
    }
}

/// One webhook.
struct Target {
    url: String,
    origin: String,
    client: reqwest::Client,
    backoff: Duration,
    redactor: Redactor,
}

impl Target {
    async fn deliver_all(self, queue: Arc<Queue>) {
        while let Some(alert) = queue.next().await {
            if let Err((why, attempts)) = self.deliver(&alert).await {
                let tries = match attempts {
                    1 => "1 attempt".to_string(),
                    n => format!("{n} attempts"),
                };
                warn(
                    &self.redactor,
                    &format!(
                        "webhook {} failed: round {}'s alert was not delivered after {tries} ({why})",
                        self.origin, alert.round
                    ),
                );
            }
        }
    }

    /// POSTs `alert`, again after a transport error, a 429 or a 5xx, waiting 1 s, 2 s, 4 s (or
    /// longer when the answer says `Retry-After`); the error says why the last attempt failed,
    /// and after how many.
    async fn deliver(&self, alert: &Alert) -> Result<(), (String, u32)> {
        let mut wait = self.backoff;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let (why, asked) = match self.post(&alert.body).await {
                Ok(()) => return Ok(()),
                Err(Failure { why, again: None }) => return Err((why, attempts)),
                Err(Failure {
                    why,
                    again: Some(asked),
                }) => (why, asked),
            };
            if attempts > RETRIES {
                return Err((why, attempts));
            }
            tokio::time::sleep(asked.map_or(wait, |asked| asked.min(MAX_RETRY_AFTER).max(wait))).await;
            wait *= 2;
        }
    }

    /// One attempt.
    async fn post(&self, body: &str) -> Result<(), Failure> {
        let sent = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await;
        match sent {
            // Without the URL: it is a secret.
            Err(e) => Err(Failure {
                why: crate::http::error::describe(&e.without_url()),
                again: Some(None),
            }),
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => {
                let status = r.status();
                let again = status.as_u16() == 429 || status.is_server_error();
                Err(Failure {
                    why: format!("HTTP {}", status.as_u16()),
                    again: again.then(|| retry_after(r.headers())),
                })
            }
        }
    }
}

/// Why an attempt failed, and whether another may succeed: `Some` with the wait the server
/// asked for, if it did.
struct Failure {
    why: String,
    again: Option<Option<Duration>>,
}

/// The longest `Retry-After` honoured: a webhook asking for more is tried again after this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// `Retry-After` in seconds (RFC 9110; the HTTP-date form is not read).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let text = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    text.trim().parse::<u64>().ok().map(Duration::from_secs)
}

fn warn(redactor: &Redactor, message: &str) {
    let _ = writeln!(redactor.writer(std::io::stderr()), "warning: {message}");
}
