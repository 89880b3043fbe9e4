//! Delivering alerts to `--webhook` URLs (docs/monitor.md#alerts).

use crate::redact::Redactor;
use std::io::Write;
use std::time::Duration;
use tokio::sync::mpsc;
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

/// Alerts waiting for one webhook: past this, a new round's alert for it is dropped (with a
/// warning), so a webhook that is down for a day does not hold a day of alerts in memory.
const QUEUE: usize = 64;

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

/// One sender per `--webhook`, each delivering its alerts in round order in the background.
pub struct Webhooks {
    queues: Vec<(String, mpsc::Sender<Alert>)>,
    tasks: Vec<JoinHandle<()>>,
    redactor: Redactor,
}

impl Webhooks {
    /// Starts a delivery task per URL; the URLs become secrets, and messages name their origin only.
    pub fn start(urls: &[String], redactor: &Redactor) -> Result<Webhooks, String> {
        let mut webhooks = Webhooks {
            queues: Vec::new(),
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
            let (tx, rx) = mpsc::channel(QUEUE);
            let origin = origin(url);
            let target = Target {
                url: url.clone(),
                origin: origin.clone(),
                client: client.clone(),
                backoff,
                redactor: redactor.clone(),
            };
            webhooks.tasks.push(tokio::spawn(target.deliver_all(rx)));
            webhooks.queues.push((origin, tx));
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
            if let Err(mpsc::error::TrySendError::Full(alert)) = queue.try_send(alert) {
                warn(
                    &self.redactor,
                    &format!(
                        "webhook {origin} is {QUEUE} alerts behind; round {}'s alert is dropped",
                        alert.round
                    ),
                );
            }
        }
    }

    /// Waits for the alerts still queued, retries included; with `within`, no longer than that
    /// (after a signal), then says how many webhooks were left undelivered.
    pub async fn finish(self, within: Option<Duration>) {
        drop(self.queues);
        let all = futures::future::join_all(self.tasks);
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

/// One webhook.
struct Target {
    url: String,
    origin: String,
    client: reqwest::Client,
    backoff: Duration,
    redactor: Redactor,
}

impl Target {
    async fn deliver_all(self, mut queue: mpsc::Receiver<Alert>) {
        while let Some(alert) = queue.recv().await {
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

    /// POSTs `alert`, again after a transport error, a 429 or a 5xx, waiting 1 s, 2 s, 4 s; the
    /// error says why the last attempt failed, and after how many.
    async fn deliver(&self, alert: &Alert) -> Result<(), (String, u32)> {
        let mut wait = self.backoff;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let why = match self.post(&alert.body).await {
                Ok(()) => return Ok(()),
                Err((why, false)) => return Err((why, attempts)),
                Err((why, true)) => why,
            };
            if attempts > RETRIES {
                return Err((why, attempts));
            }
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
    }

    /// One attempt; the error says why and whether another attempt may succeed.
    async fn post(&self, body: &str) -> Result<(), (String, bool)> {
        let sent = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await;
        match sent {
            // Without the URL: it is a secret.
            Err(e) => Err((crate::http::error::describe(&e.without_url()), true)),
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => {
                let status = r.status();
                let again = status.as_u16() == 429 || status.is_server_error();
                Err((format!("HTTP {}", status.as_u16()), again))
            }
        }
    }
}

fn warn(redactor: &Redactor, message: &str) {
    let _ = writeln!(redactor.writer(std::io::stderr()), "warning: {message}");
}
