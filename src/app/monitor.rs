//! Monitor mode's wiring (docs/monitor.md): the steps of a run done once (suites, client,
//! environment, banner, countdown), then the rounds of [`crate::monitor`], the listen server
//! beside them.

use super::Context;
use super::options::{Monitor, RunOptions};
use super::pipeline::Prepared;
use crate::env::Target;
use crate::error::Error;
use crate::exit::Code;
use std::io::Write;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Runs the rounds against `target` until `--for`, `--rounds` or a signal; the exit code is
/// the checks' final states (or the signal's).
pub async fn run(
    prepared: Prepared,
    target: Target,
    resolved_in: Duration,
    client: reqwest::Client,
    opts: &RunOptions,
    monitor: &Monitor,
    ctx: &Context,
) -> Result<Code, Error> {
    let (publisher, subscriber) = crate::monitor::publish::channel();
    // Cancelled when the monitor ends (after the last round's reports and deliveries).
    let stopped = CancellationToken::new();
    // ---- LISTEN: start the server here
    // With `monitor.listen` (an address, port 0 for a free one): bind it (a bad address is a
    // usage error, before the banner), print `Listening on http://ADDR` on stderr, and serve
    // `subscriber` (None until the first round has finished) until `stopped` is cancelled.
    let _server = match &monitor.listen {
        Some(addr) => Some(listen(addr, subscriber, monitor.every, &stopped, ctx).await?),
        None => None,
    };
    // ---- LISTEN: end
    let _ = (prepared, target, resolved_in, client, opts, publisher, ctx);
    let _ = (monitor.every, monitor.for_, monitor.rounds, monitor.window);
    let _ = (&monitor.webhooks, monitor.webhook_format);
    stopped.cancel();
    Err(Error::Usage("monitor mode is not built yet".into()))
}

/// Binds `--listen` (a usage error, exit 2, when it cannot), says where, and serves the rounds
/// published to `latest` until `stopped` (docs/monitor.md#listen).
async fn listen(
    addr: &str,
    latest: crate::monitor::Subscriber,
    every: Duration,
    stopped: &CancellationToken,
    ctx: &Context,
) -> Result<crate::monitor::listen::Server, Error> {
    use crate::monitor::listen;
    let listener = listen::Listener::bind(addr).await?;
    let _ = writeln!(
        ctx.redactor.writer(std::io::stderr()),
        "Listening on {}",
        listener.url()
    );
    let stopped = stopped.clone();
    let shutdown = async move { stopped.cancelled().await };
    Ok(listen::serve(
        listener,
        latest,
        ctx.redactor.clone(),
        every,
        shutdown,
    ))
}
