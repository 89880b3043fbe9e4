//! Monitor mode's wiring (docs/monitor.md): the steps of a run done once (suites, client,
//! environment, banner, countdown), then the rounds of [`crate::monitor`], the listen server
//! beside them.

use super::Context;
use super::options::{Monitor, RunOptions};
use super::output;
use super::pipeline::{self, Prepared};
use crate::cli::Format;
use crate::env::Target;
use crate::error::Error;
use crate::exit::Code;
use crate::monitor::{self, Ending, Round, Schedule, webhook::Webhooks};
use crate::report::{self, RunReport, human};
use std::io::Write;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Runs the rounds against `target` until `--for`, `--rounds` or a signal; the exit code is
/// the checks' final states (or the signal's).
pub async fn run(
    prepared: Prepared,
    target: Target,
    resolved_in: Duration,
    clients: pipeline::Clients,
    opts: &RunOptions,
    monitor: &Monitor,
    ctx: &Context,
) -> Result<Code, Error> {
    if matches!(opts.output.format, Format::Junit | Format::Tap) {
        return Err(Error::Usage(
            "--format junit and tap cannot be repeated on stdout in monitor mode (--every): use --format human or json, and --junit PATH for a file rewritten each round".into(),
        ));
    }
    let (publisher, subscriber) = monitor::publish::channel();
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
    let webhooks = Webhooks::start(&monitor.webhooks, &ctx.redactor).map_err(Error::Usage)?;
    let title = prepared.title();
    pipeline::get_ready(&title, &target, resolved_in, clients.api.as_ref(), opts, ctx).await?;
    let schedule = Schedule {
        every: monitor.every,
        for_: monitor.for_,
        rounds: monitor.rounds,
        window: monitor.window,
        webhook_format: monitor.webhook_format,
    };
    let mut rounds = Rounds {
        prepared: &prepared,
        target: &target,
        client: clients.engine,
        opts,
        ctx,
    };
    let ending = monitor::run(
        &mut rounds,
        &schedule,
        webhooks,
        &publisher,
        &ctx.signals,
        &ctx.redactor,
    )
    .await;
    stopped.cancel();
    Ok(finish(ending, opts, ctx).await)
}

/// The loop's view of a run: the prepared plan sent again each round with the same client.
struct Rounds<'a> {
    prepared: &'a Prepared,
    target: &'a Target,
    client: crate::http::Client,
    opts: &'a RunOptions,
    ctx: &'a Context,
}

impl monitor::Rounds for Rounds<'_> {
    async fn run(&mut self) -> RunReport {
        let plan = self.prepared.plan.clone();
        // One line per round, not the suites' blocks.
        let (prepared, target, opts, ctx) = (self.prepared, self.target, self.opts, self.ctx);
        pipeline::run_plan(plan, prepared, target, self.client.clone(), opts, None, ctx).await
    }

    fn show(&mut self, round: &Round<'_>) {
        let redactor = &self.ctx.redactor;
        let output = &self.opts.output;
        let masked = report::mask::masked(round.window, redactor);
        let mut out = redactor.writer(std::io::stdout());
        let shown = match output.format {
            Format::Json => report::json::render_line(&masked, &mut out),
            _ => round_lines(round, &masked, &mut out),
        };
        let _ = out.flush();
        let mut problems = Vec::new();
        if let Err(e) = shown
            && e.kind() != std::io::ErrorKind::BrokenPipe
        {
            problems.push(format!("writing round {} to stdout: {e}", round.number));
        }
        let metrics = match output.metrics {
            Some(_) => report::mask::masked(round.since_start, redactor),
            None => masked.clone(),
        };
        problems.extend(output::write_files(&masked, &metrics, output, redactor));
        let mut err = redactor.writer(std::io::stderr());
        for p in &problems {
            let _ = writeln!(err, "error: {p}");
        }
    }
}

/// The round's line, then a line per change.
fn round_lines(round: &Round<'_>, masked: &RunReport, out: &mut dyn Write) -> std::io::Result<()> {
    let window = masked
        .origin
        .monitor
        .and_then(|m| m.window_ms)
        .map(Duration::from_millis);
    let line = monitor::output::round_line(round.number, round.at, &masked.summary(), window);
    writeln!(out, "{line}")?;
    for change in round.changes {
        writeln!(out, "{}", monitor::output::change_line(change))?;
    }
    Ok(())
}

/// After the last round: the human verdict of the final window, the report files once more
/// when a signal ended it, the push; the exit code of the final states or of the signal.
async fn finish(ending: Ending, opts: &RunOptions, ctx: &Context) -> Code {
    let redactor = &ctx.redactor;
    if let Some(cut) = ending.cut {
        // No round finished: report the cut one, as an interrupted run does (on one line for
        // JSON Lines).
        if opts.output.format == Format::Json {
            let masked = report::mask::masked(&cut, redactor);
            let _ = report::json::render_line(&masked, &mut redactor.writer(std::io::stdout()));
            let mut err = redactor.writer(std::io::stderr());
            for p in output::write_files(&masked, &masked, &opts.output, redactor) {
                let _ = writeln!(err, "error: {p}");
            }
        } else {
            output::write_reports(&cut, &opts.output, redactor);
        }
        return cut.exit_code();
    }
    let Some((mut window, mut since_start)) = ending.last else {
        return Code::Success;
    };
    window.interrupted = ending.interrupted;
    since_start.interrupted = ending.interrupted;
    let masked = report::mask::masked(&window, redactor);
    if opts.output.format == Format::Human {
        let mut out = redactor.writer(std::io::stdout());
        let _ = writeln!(out);
        let _ = human::verdict(&masked, &mut out);
        let _ = out.flush();
    }
    if ending.interrupted.is_some() {
        let metrics = report::mask::masked(&since_start, redactor);
        let mut err = redactor.writer(std::io::stderr());
        for p in output::write_files(&masked, &metrics, &opts.output, redactor) {
            let _ = writeln!(err, "error: {p}");
        }
    }
    super::across::push(&since_start, opts.across.pushgateway.as_deref(), ctx).await;
    match ending.interrupted {
        Some(kind) => Code::from(kind),
        None if ending.failing => Code::ChecksFailed,
        None => Code::Success,
    }
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
