//! What each command does, from parsed arguments to an exit code: the one place that strings the
//! modules together (suites → plan → results → reports).

use crate::cli::{Cli, Command, Format, RunArgs, ServeArgs, env_var};
use crate::env::{self, EnvironmentsFile, ResolveOptions, Target};
use crate::error::Error;
use crate::exit::Code;
use crate::interrupt::{Signals, code_of};
use crate::redact::Redactor;
use crate::report::progress::Progress;
use crate::report::{self, CheckStatus, RunReport, human};
use crate::run::{self, BuiltIns, Control, Details, Selection, Settings, http};
use crate::{fixture, suite};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long checks in flight may finish after the first Ctrl-C before they are cut off.
const INTERRUPT_GRACE: Duration = Duration::from_secs(2);

/// Runs a parsed command line; every outcome becomes an exit code.
pub async fn main(cli: Cli, signals: Signals, redactor: Redactor) -> Code {
    let outcome = match cli.command {
        None => run_checks(Mode::Run, cli.env, cli.run, &signals, &redactor).await,
        Some(Command::List { env, run }) => run_checks(Mode::List, env, run, &signals, &redactor).await,
        Some(Command::Demo { run }) => run_checks(Mode::Demo, None, run, &signals, &redactor).await,
        Some(Command::Validate { run }) => validate(run, &redactor),
        Some(Command::Serve(args)) => serve(args, &signals, &redactor).await,
        Some(Command::Completions { shell }) => {
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
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            report_error(&e, &redactor);
            e.exit_code()
        }
    }
}

/// Prints an error on stderr, through the redactor.
pub fn report_error(e: &Error, redactor: &Redactor) {
    let mut err = redactor.writer(std::io::stderr());
    let _ = match e {
        Error::Suite(errors) => {
            for one in errors {
                let _ = writeln!(err, "{one}");
            }
            let n = errors.len();
            writeln!(
                err,
                "error: {n} suite error{}; no request was sent",
                if n == 1 { "" } else { "s" }
            )
        }
        Error::Interrupted(_) => writeln!(err, "interrupted; no request was sent"),
        other => writeln!(err, "error: {other}"),
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Run,
    List,
    Demo,
}

/// Suites loaded and planned, ready to meet a target.
struct Prepared {
    plan: run::Plan,
    environments: Option<EnvironmentsFile>,
    built_ins: BuiltIns,
    /// Keeps the demo's extracted bundle alive for the run.
    _bundle: Option<tempfile::TempDir>,
}

/// Loads `environments.yaml` and the suites, checks the environment name, and plans.
fn prepare(mode: Mode, env_name: &str, args: &RunArgs, redactor: &Redactor) -> Result<Prepared, Error> {
    let mut bundle = None;
    let mut paths = args.suite_paths();
    if mode == Mode::Demo && args.suites.is_empty() && env_var("ENDPOINT_CHECK_SUITES").is_none() {
        let dir =
            tempfile::tempdir().map_err(|e| Error::Io(format!("cannot unpack the bundled suites: {e}")))?;
        let suites = fixture::extract_bundle(dir.path())
            .map_err(|e| Error::Io(format!("cannot unpack the bundled suites: {e}")))?;
        paths = vec![suites];
        bundle = Some(dir);
    }
    let env_path = suite::environments_file(&paths[0]);
    let environments = EnvironmentsFile::load(&env_path, &env_path.display().to_string())?;
    let known = EnvironmentsFile::known_names(environments.as_ref());
    if !known.iter().any(|k| k == env_name) {
        let hint = crate::suggest::closest(env_name, known.iter().map(String::as_str))
            .map(|b| format!(" Did you mean `{b}`?"))
            .unwrap_or_default();
        return Err(Error::Environment(format!(
            "unknown environment `{env_name}`. Environments: {}.{hint}",
            known.join(", ")
        )));
    }
    let mut suites = suite::load_all(&paths, &known)?;
    if let Some(dir) = &bundle {
        // The bundle's temporary folder means nothing to the user: show where the files live in the repository.
        for s in &mut suites {
            if let Ok(rel) = Path::new(&s.file).strip_prefix(dir.path()) {
                s.file = rel.display().to_string();
            }
        }
    }
    for secret in env::secrets(environments.as_ref(), &env::process_lookup) {
        redactor.add(secret);
    }
    let selection = Selection {
        customers: args.customers.clone(),
        tags: args.tags.clone(),
        filter: args.filter.clone(),
    };
    let built_ins = BuiltIns::new();
    let plan = run::plan(
        suites, &selection, env_name, &args.vars, &env_var, &built_ins, redactor,
    )?;
    Ok(Prepared {
        plan,
        environments,
        built_ins,
        _bundle: bundle,
    })
}

async fn run_checks(
    mode: Mode,
    env_name: Option<String>,
    args: RunArgs,
    signals: &Signals,
    redactor: &Redactor,
) -> Result<Code, Error> {
    colored::control::set_override(args.use_color(std::io::stdout().is_terminal()));
    let mut out = redactor.writer(std::io::stdout());
    let mut err = redactor.writer(std::io::stderr());
    let env_name = match mode {
        Mode::Demo => "demo".to_string(),
        _ => env_name.unwrap_or_else(|| "localhost".to_string()),
    };
    let prepared = prepare(mode, &env_name, &args, redactor)?;
    if mode != Mode::List {
        for path in [&args.json, &args.junit].into_iter().flatten() {
            report::file::check_writable(path).map_err(Error::Usage)?;
        }
    }
    let client = http::build_client(&http::ClientOptions {
        insecure: args.insecure,
        cacert: args.cacert.clone(),
        pool_size: args.concurrency as usize,
    })
    .map_err(Error::Usage)?;
    if args.insecure {
        let _ = writeln!(err, "warning: --insecure: TLS certificates are not verified");
    }

    // The target: the in-process fixture for the demo, else resolution (which may call the Vercel API).
    let mut fixture_stop = None;
    let resolving = Instant::now();
    let target = if mode == Mode::Demo {
        let (target, stop) = start_demo_fixture().await?;
        fixture_stop = Some(stop);
        target
    } else {
        resolve_target(mode, &env_name, &args, &prepared, &client, signals, redactor).await?
    };
    // Taken before the countdown, which does not count against `--wait`.
    let resolved_in = resolving.elapsed();
    for warning in &target.warnings {
        let _ = writeln!(err, "warning: {warning}");
    }
    let title = prepared
        .environments
        .as_ref()
        .and_then(|e| e.title.clone())
        .unwrap_or_else(|| "Endpoint Checks".to_string());

    if mode == Mode::List {
        // A reader that went away (`| head`) is not an error, as for reports.
        match list(&target, &prepared.plan, &mut out) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(Error::Io(e.to_string())),
            _ => {}
        }
        return Ok(Code::Success);
    }

    if args.format == Format::Human {
        let _ = human::banner(&title, &target.name, &target.base_url, &target.source, &mut out);
        let _ = out.flush();
    }
    if !target.safety_delay.is_zero() {
        tokio::select! {
            _ = env::countdown(&target, target.safety_delay, &mut err) => {}
            kind = signals.wait() => return Err(Error::Interrupted(code_of(kind))),
        }
    }
    // One `--wait` budget covers a building preview and the base URL coming up (not the countdown).
    // Whole seconds: resolution's usual few milliseconds must not turn `--wait 500ms` into `499ms`.
    let spent = Duration::from_secs(resolved_in.as_secs());
    if let Some(within) = args.wait.map(|w| w.saturating_sub(spent)) {
        tokio::select! {
            up = env::wait_until_up(&client, &target.base_url, within, &mut err) => up?,
            kind = signals.wait() => return Err(Error::Interrupted(code_of(kind))),
        }
    }
    if let Some(kind) = signals.received() {
        return Err(Error::Interrupted(code_of(kind)));
    }

    let settings = Settings {
        environment: target.name.clone(),
        base_url: target.base_url.clone(),
        environment_headers: target.headers.clone(),
        cli_headers: args.headers.clone(),
        cli_vars: args.vars.clone(),
        timeout: args.timeout,
        retries: args.retries,
        samples: args.samples,
        concurrency: args.concurrency as usize,
        fail_fast: args.fail_fast,
        is_preview: target.is_preview,
        details: match args.verbose {
            0 => Details::None,
            1 => Details::Failures,
            _ => Details::All,
        },
    };
    let control = Control::new();
    let progress = Arc::new(Progress::new(prepared.plan.check_count()));
    let watcher = {
        let (control, signals, progress) = (control.clone(), signals.clone(), progress.clone());
        let redactor = redactor.clone();
        tokio::spawn(async move {
            signals.wait().await;
            control.interrupt();
            // Say what happens now, and that a second signal quits at once (interrupt.rs).
            progress.suspend(|| {
                let _ = writeln!(
                    redactor.writer(std::io::stderr()),
                    "interrupted: no new request starts; requests in flight get {} to finish (interrupt again to quit now)",
                    crate::duration::fmt(INTERRUPT_GRACE)
                );
            });
            tokio::time::sleep(INTERRUPT_GRACE).await;
            control.abort();
        })
    };
    let live = Arc::new(LiveOutput {
        progress: progress.clone(),
        human: (args.format == Format::Human).then_some(human_style(&args)),
        redactor: redactor.clone(),
    });
    let started = Instant::now();
    let suites = run::execute(
        prepared.plan,
        client,
        settings,
        control,
        live,
        redactor.clone(),
        prepared.built_ins,
    )
    .await;
    watcher.abort();
    progress.clear();
    if let Some(stop) = fixture_stop {
        stop.cancel();
    }
    let report = RunReport {
        title,
        environment: target.name.clone(),
        base_url: target.base_url.clone(),
        base_url_source: target.source.clone(),
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        suites,
        interrupted: signals.received(),
    };
    write_reports(&report, &args, redactor, &mut out, &mut err)?;
    Ok(report.exit_code())
}

/// What a run shows while it goes: the progress bar, and with human output each suite's block
/// as soon as it and the suites before it are done (a long SLA run in a CI log shows progress).
struct LiveOutput {
    progress: Arc<Progress>,
    /// `Some` with human output.
    human: Option<human::Style>,
    redactor: Redactor,
}

impl run::Observer for LiveOutput {
    fn started(&self, check: &str) {
        self.progress.started(check);
    }

    fn finished(&self, check: &str, status: CheckStatus) {
        self.progress.finished(check, status);
    }

    fn suite_finished(&self, _index: usize, suite: &report::SuiteReport) {
        if let Some(style) = self.human {
            self.progress.suspend(|| {
                // Human output escapes nothing, so the redacting writer masks every secret in it.
                let mut out = self.redactor.writer(std::io::stdout());
                let _ = human::suite_results(suite, style, &mut out);
                let _ = out.flush();
            });
        }
    }
}

async fn resolve_target(
    mode: Mode,
    env_name: &str,
    args: &RunArgs,
    prepared: &Prepared,
    client: &reqwest::Client,
    signals: &Signals,
    redactor: &Redactor,
) -> Result<Target, Error> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let say = |line: &str| {
        let _ = writeln!(redactor.writer(std::io::stderr()), "{line}");
    };
    let mut opts = ResolveOptions::new(env_name, &env::process_lookup, &cwd, client);
    opts.environments = prepared.environments.as_ref();
    opts.base_url_flag = args.base_url.clone();
    opts.delay = args.delay;
    opts.yes = args.skip_countdown();
    opts.timeout = args.timeout;
    // `list` never waits (spec 1).
    opts.wait = if mode == Mode::List { None } else { args.wait };
    opts.progress = Some(&say);
    tokio::select! {
        target = env::resolve(&opts) => target,
        kind = signals.wait() => Err(Error::Interrupted(code_of(kind))),
    }
}

/// Starts the fixture API on a free loopback port, in this process.
async fn start_demo_fixture() -> Result<(Target, tokio_util::sync::CancellationToken), Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| Error::Io(format!("cannot listen on 127.0.0.1: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::Io(e.to_string()))?
        .port();
    let stop = tokio_util::sync::CancellationToken::new();
    let shutdown = stop.clone();
    tokio::spawn(fixture::serve(
        listener,
        Arc::new(fixture::FixtureApi::bundled()),
        async move { shutdown.cancelled().await },
    ));
    let target = Target {
        name: "demo".to_string(),
        base_url: format!("http://127.0.0.1:{port}"),
        source: "demo".to_string(),
        headers: Vec::new(),
        safety_delay: Duration::ZERO,
        is_preview: false,
        warnings: Vec::new(),
    };
    Ok((target, stop))
}

fn human_style(args: &RunArgs) -> human::Style {
    human::Style {
        quiet: args.quiet,
        verbose: args.verbose,
    }
}

/// stdout in the chosen format, report files, GitHub annotations and step summary.
fn write_reports(
    report: &RunReport,
    args: &RunArgs,
    redactor: &Redactor,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    // Masked before escaping: an escaped secret (`&amp;`, `%3A`) would slip past the writer.
    let masked = report::mask::masked(report, redactor);
    let rendered = match args.format {
        // The suites' blocks were printed as they finished.
        Format::Human => human::verdict(&masked, out),
        Format::Json => report::json::render(&masked, out),
        Format::Junit => report::junit::render(&masked, out),
        Format::Tap => report::tap::render(&masked, out),
    };
    let _ = out.flush();
    let mut problems = Vec::new();
    // A reader that went away (`| head`) is not the run's problem.
    if let Err(e) = rendered
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        problems.push(format!("writing the report to stdout: {e}"));
    }
    if let Some(path) = &args.json
        && let Err(e) = report::file::write_atomic(path, redactor, |w| report::json::render(&masked, w))
    {
        problems.push(format!("writing {}: {e}", path.display()));
    }
    if let Some(path) = &args.junit
        && let Err(e) = report::file::write_atomic(path, redactor, |w| report::junit::render(&masked, w))
    {
        problems.push(format!("writing {}: {e}", path.display()));
    }
    if env_var("GITHUB_ACTIONS").as_deref() == Some("true") {
        let annotations = report::github::annotations(&masked);
        let target: &mut dyn Write = if args.format == Format::Human { out } else { err };
        let _ = target.write_all(annotations.as_bytes());
        let _ = target.flush();
        if let Some(summary) = env_var("GITHUB_STEP_SUMMARY")
            && let Err(e) = report::file::append(
                Path::new(&summary),
                redactor,
                &report::github::step_summary(&masked),
            )
        {
            problems.push(format!("appending to GITHUB_STEP_SUMMARY: {e}"));
        }
    }
    for p in &problems {
        let _ = writeln!(err, "error: {p}");
    }
    Ok(())
}

/// `list`: the environment lines, then each suite and its checks.
fn list(target: &Target, plan: &run::Plan, out: &mut dyn Write) -> std::io::Result<()> {
    human::environment_lines(&target.name, &target.base_url, &target.source, out)?;
    writeln!(out)?;
    for planned in &plan.suites {
        let s = &planned.suite;
        writeln!(out, "{} ({}, customer {})", s.title, s.file, s.customer)?;
        for pc in &planned.checks {
            let check = &s.checks[pc.index];
            let mut notes = Vec::new();
            if !check.tags.is_empty() {
                notes.push(format!("tags: {}", check.tags.join(", ")));
            }
            if let Some(n) = check.samples {
                notes.push(format!("{n} samples"));
            }
            if let Some(reason) = &pc.skip {
                notes.push(format!("skipped: {reason}"));
            }
            let notes = if notes.is_empty() {
                String::new()
            } else {
                format!("  ({})", notes.join("; "))
            };
            writeln!(out, "  {}{notes}", check.name)?;
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

/// `validate`: load and plan everything; send nothing.
fn validate(args: RunArgs, redactor: &Redactor) -> Result<Code, Error> {
    colored::control::set_override(args.use_color(std::io::stdout().is_terminal()));
    let prepared = prepare(Mode::Run, "localhost", &args, redactor)?;
    let mut out = redactor.writer(std::io::stdout());
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
async fn serve(args: ServeArgs, signals: &Signals, redactor: &Redactor) -> Result<Code, Error> {
    let api = match &args.fixtures {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::Usage(format!("--fixtures {}: {e}", path.display())))?;
            fixture::FixtureApi::from_yaml(&text)
                .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?
        }
        None => fixture::FixtureApi::bundled(),
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|e| Error::Usage(format!("cannot listen on 127.0.0.1:{}: {e}", args.port)))?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::Io(e.to_string()))?
        .port();
    let mut out = redactor.writer(std::io::stdout());
    let _ = writeln!(out, "Listening on http://127.0.0.1:{port}");
    let _ = out.flush();
    let waiter = signals.clone();
    fixture::serve(listener, Arc::new(api), async move {
        waiter.wait().await;
    })
    .await
    .map_err(|e| Error::Io(format!("fixture server: {e}")))?;
    Ok(signals.received().map(code_of).unwrap_or(Code::Success))
}

/// The path of a file as the user would name it: relative to the current folder when under it.
pub fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    path.strip_prefix(&cwd)
        .map(PathBuf::from)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}
