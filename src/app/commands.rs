//! One function per command, each a few steps of the shared pipeline.

use super::Context;
use super::options::RunOptions;
use super::output;
use super::pipeline::{self, Prepared};
use crate::cli::{Cli, ServeArgs};
use crate::env::Target;
use crate::error::Error;
use crate::exit::Code;
use crate::fixture;
use crate::run;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// The environment when the command line names none.
const DEFAULT_ENVIRONMENT: &str = "localhost";

/// The environment `demo` runs against: the fixture API in this process.
const DEMO_ENVIRONMENT: &str = "demo";

/// The environment the preview detection (Vercel API) belongs to.
const PREVIEW_ENVIRONMENT: &str = "preview";

/// The default command: run the suites against `env`.
pub async fn run(env: Option<String>, opts: RunOptions, ctx: &Context) -> Result<Code, Error> {
    let env_name = env.unwrap_or_else(|| DEFAULT_ENVIRONMENT.to_string());
    let prepared = pipeline::prepare(&env_name, opts.suite_paths(), None, &opts, ctx)?;
    output::check_report_files(&opts.output)?;
    let clients = pipeline::clients(&prepared.client, &opts, env_name == PREVIEW_ENVIRONMENT, ctx)?;
    let resolving = Instant::now();
    let target = pipeline::resolve(
        &env_name,
        &opts,
        &prepared,
        clients.api.as_ref(),
        opts.resolve.wait,
        ctx,
    )
    .await?;
    // Taken before the countdown, which does not count against `--wait`.
    let resolved_in = resolving.elapsed();
    if let Some(monitor) = &opts.monitor {
        return super::monitor::run(prepared, target, resolved_in, clients, &opts, monitor, ctx).await;
    }
    let report = pipeline::execute(prepared, &target, resolved_in, clients, &opts, ctx).await?;
    output::write_reports(&report, &opts.output, &ctx.redactor);
    super::across::push(&report, opts.across.pushgateway.as_deref(), ctx).await;
    Ok(report.exit_code())
}

/// `demo`: the bundled suites (unless others are given) against the fixture API, in-process.
pub async fn demo(opts: RunOptions, ctx: &Context) -> Result<Code, Error> {
    let prepared = match &opts.suites {
        Some(paths) => pipeline::prepare(DEMO_ENVIRONMENT, paths.clone(), None, &opts, ctx)?,
        None => {
            let unpacking = |e: std::io::Error| Error::Io(format!("cannot unpack the bundled suites: {e}"));
            let dir = tempfile::tempdir().map_err(unpacking)?;
            let suites = fixture::extract_bundle(dir.path()).map_err(unpacking)?;
            pipeline::prepare(DEMO_ENVIRONMENT, vec![suites], Some(dir), &opts, ctx)?
        }
    };
    output::check_report_files(&opts.output)?;
    let clients = pipeline::clients(&prepared.client, &opts, false, ctx)?;
    let starting = Instant::now();
    let (target, stop) = start_fixture().await?;
    if let Some(monitor) = &opts.monitor {
        let code =
            super::monitor::run(prepared, target, starting.elapsed(), clients, &opts, monitor, ctx).await;
        stop.cancel();
        return code;
    }
    let report = pipeline::execute(prepared, &target, starting.elapsed(), clients, &opts, ctx).await?;
    stop.cancel();
    output::write_reports(&report, &opts.output, &ctx.redactor);
    super::across::push(&report, opts.across.pushgateway.as_deref(), ctx).await;
    Ok(report.exit_code())
}

/// Starts the fixture API on a free loopback port, in this process.
async fn start_fixture() -> Result<(Target, CancellationToken), Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| Error::Io(format!("cannot listen on 127.0.0.1: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::Io(e.to_string()))?
        .port();
    let stop = CancellationToken::new();
    let shutdown = stop.clone();
    tokio::spawn(fixture::serve(
        listener,
        Arc::new(fixture::FixtureApi::bundled()),
        async move { shutdown.cancelled().await },
    ));
    let target = Target {
        name: DEMO_ENVIRONMENT.to_string(),
        base_url: format!("http://127.0.0.1:{port}"),
        source: "demo".to_string(),
        headers: Vec::new(),
        safety_delay: Duration::ZERO,
        unauthorized_hint: None,
        warnings: Vec::new(),
    };
    Ok((target, stop))
}

/// `list`: resolve as a run would, without waiting, and print what would run; sends nothing to
/// the target.
pub async fn list(env: Option<String>, opts: RunOptions, ctx: &Context) -> Result<Code, Error> {
    let env_name = env.unwrap_or_else(|| DEFAULT_ENVIRONMENT.to_string());
    let prepared = pipeline::prepare(&env_name, opts.suite_paths(), None, &opts, ctx)?;
    // Preview detection is the one part of resolution that calls out (the Vercel API).
    let client = match env_name == PREVIEW_ENVIRONMENT {
        true => pipeline::clients(&prepared.client, &opts, true, ctx)?.api,
        false => {
            prepared.client.check_files().map_err(Error::Usage)?;
            None
        }
    };
    let target = pipeline::resolve(&env_name, &opts, &prepared, client.as_ref(), None, ctx).await?;
    let mut out = ctx.redactor.writer(std::io::stdout());
    // A reader that went away (`| head`) is not an error, as for reports.
    match print_list(&target, &prepared, &mut out) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Io(e.to_string())),
        _ => Ok(Code::Success),
    }
}

/// The environment lines, then each suite and its checks.
fn print_list(target: &Target, prepared: &Prepared, out: &mut dyn Write) -> std::io::Result<()> {
    crate::report::human::environment_lines(&target.name, &target.base_url, &target.source, out)?;
    writeln!(out)?;
    let plan = &prepared.plan;
    for planned in &plan.suites {
        let s = &planned.suite;
        writeln!(out, "{} ({}, customer {})", s.title, s.file, s.customer)?;
        for pc in &planned.checks {
            writeln!(out, "  {}", list_line(&s.checks[pc.index], pc))?;
        }
    }
    let suites = plan.suites.len();
    writeln!(
        out,
        "\n{} checks in {suites} suite{}",
        plan.check_count(),
        if suites == 1 { "" } else { "s" }
    )
}

/// `name  (tags: a, b; 50 samples; skipped: why)`, the notes only when there are some.
fn list_line(check: &crate::suite::Check, planned: &run::plan::PlannedCheck) -> String {
    let mut notes = Vec::new();
    if !check.tags.is_empty() {
        notes.push(format!("tags: {}", check.tags.join(", ")));
    }
    if let Some(n) = check.samples {
        notes.push(format!("{n} samples"));
    }
    if let Some(reason) = &planned.skip {
        notes.push(format!("skipped: {reason}"));
    }
    if notes.is_empty() {
        check.name.clone()
    } else {
        format!("{}  ({})", check.name, notes.join("; "))
    }
}

/// `validate`: load and plan everything; send nothing.
pub fn validate(opts: RunOptions, ctx: &Context) -> Result<Code, Error> {
    let prepared = pipeline::prepare(DEFAULT_ENVIRONMENT, opts.suite_paths(), None, &opts, ctx)?;
    // The files a run would read before its first request: a bad one fails here as it would there.
    prepared.client.check_files().map_err(Error::Usage)?;
    let mut out = ctx.redactor.writer(std::io::stdout());
    let suites = prepared.plan.suites.len();
    let _ = writeln!(
        out,
        "✓ {} checks in {suites} suite{} are valid",
        prepared.plan.check_count(),
        if suites == 1 { "" } else { "s" }
    );
    Ok(Code::Success)
}

/// `serve`: the fixture API on 127.0.0.1 until Ctrl-C.
pub async fn serve(args: ServeArgs, ctx: &Context) -> Result<Code, Error> {
    let api = match &args.fixtures {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::Usage(format!("--fixtures {}: {e}", path.display())))?;
            fixture::FixtureApi::from_yaml(&text)
                .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?
        }
        None => fixture::FixtureApi::bundled(),
    };
    let faults = args
        .faults
        .iter()
        .map(|f| fixture::fault::Fault::parse(f))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Error::Usage)?;
    let api = api.with_faults(faults);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|e| Error::Usage(format!("cannot listen on 127.0.0.1:{}: {e}", args.port)))?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::Io(e.to_string()))?
        .port();
    let mut out = ctx.redactor.writer(std::io::stdout());
    let _ = writeln!(out, "Listening on http://127.0.0.1:{port}");
    let _ = out.flush();
    let waiter = ctx.signals.clone();
    fixture::serve(listener, Arc::new(api), async move {
        waiter.wait().await;
    })
    .await
    .map_err(|e| Error::Io(format!("fixture server: {e}")))?;
    Ok(ctx.signals.received().map(Code::from).unwrap_or(Code::Success))
}

/// `completions`: the shell's completion script on stdout.
pub fn completions(shell: clap_complete::Shell) -> Result<Code, Error> {
    use clap::CommandFactory;
    // Into a buffer first: clap_complete panics when stdout fails (`| head`).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "endpoint-check", &mut script);
    let mut out = std::io::stdout();
    match out.write_all(&script).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::Io(format!("writing the completions: {e}")))
        }
        _ => Ok(Code::Success),
    }
}
