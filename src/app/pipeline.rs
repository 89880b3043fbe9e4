//! The steps every command that runs checks shares: load and plan the suites, build the client,
//! resolve the environment, get ready (banner, countdown, `--wait`), run the plan.

use super::Context;
use super::options::RunOptions;
use super::output::LiveOutput;
use crate::env::{self, EnvironmentsFile, ResolveOptions, Target};
use crate::error::Error;
use crate::http;
use crate::report::progress::Progress;
use crate::report::{RunReport, human};
use crate::run::{self, BuiltIns, Control};
use crate::suite;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long checks in flight may finish after the first Ctrl-C before they are cut off.
const INTERRUPT_GRACE: Duration = Duration::from_secs(2);

/// Suites loaded and planned, ready to meet a target.
pub struct Prepared {
    pub plan: run::Plan,
    pub environments: Option<EnvironmentsFile>,
    /// The clients' options: the flags, with the environment's `resolve:`, `connect_to:`,
    /// `client_cert:` and `client_key:` added (docs/environments.md#where-requests-go).
    pub client: http::ClientOptions,
    built_ins: BuiltIns,
    /// `--baseline` and `--max-regression`, read before anything is sent (docs/merge.md#baselines).
    pub gate: Arc<crate::baseline::Gate>,
    /// Keeps the demo's extracted bundle alive for the run.
    _bundle: Option<tempfile::TempDir>,
}

impl Prepared {
    /// Banner title: `environments.yaml`'s `title`, else `Endpoint Checks`.
    pub fn title(&self) -> String {
        self.environments
            .as_ref()
            .and_then(|e| e.title.clone())
            .unwrap_or_else(|| "Endpoint Checks".to_string())
    }
}

/// Loads `environments.yaml` and the suites from `paths`, checks the environment name, and
/// plans. `bundle` is the demo's unpacked folder when `paths` point into it.
pub fn prepare(
    env_name: &str,
    paths: Vec<std::path::PathBuf>,
    bundle: Option<tempfile::TempDir>,
    opts: &RunOptions,
    ctx: &Context,
) -> Result<Prepared, Error> {
    let env_path = suite::environments_file(&paths[0]);
    let environments = EnvironmentsFile::load(&env_path, &env_path.display().to_string())?;
    let known = env::check_name(env_name, environments.as_ref())?;
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
        ctx.redactor.add(secret);
    }
    for name in env::referenced_variables(environments.as_ref()) {
        if let Some(value) = env::process_lookup(&name) {
            ctx.redactor.note_origin(&name, &value);
        }
    }
    let gate = crate::baseline::Gate::load(opts.across.baseline.as_deref(), opts.across.max_regression)
        .map_err(Error::Usage)?;
    let built_ins = BuiltIns::new();
    let plan = run::plan(
        suites,
        &opts.selection,
        env_name,
        &opts.vars,
        &env::process_lookup,
        &built_ins,
        &ctx.redactor,
    )?;
    let client = client_options(opts, environments.as_ref(), env_name, &env_path)?;
    Ok(Prepared {
        plan,
        environments,
        client,
        built_ins,
        gate: Arc::new(gate),
        _bundle: bundle,
    })
}

/// The flags' client options with what the environment `env_name` of `environments.yaml` adds:
/// its `resolve:`/`connect_to:` entries after the flags' (a flag wins), and its client
/// certificate unless `--cert` gives one. Its paths are relative to the file's folder.
fn client_options(
    opts: &RunOptions,
    environments: Option<&EnvironmentsFile>,
    env_name: &str,
    env_path: &Path,
) -> Result<http::ClientOptions, Error> {
    let mut client = opts.client.clone();
    let Some(def) = environments.and_then(|f| f.environments.get(env_name)) else {
        return Ok(client);
    };
    client.routes.resolve.extend(def.resolve.iter().cloned());
    client.routes.connect_to.extend(def.connect_to.iter().cloned());
    let file = env_path.display();
    let path = |field: &str, template: &Option<String>| -> Result<Option<std::path::PathBuf>, Error> {
        let Some(template) = template else {
            return Ok(None);
        };
        let lookup = |name: &str| env::process_lookup(name).map(serde_json::Value::String);
        let text = crate::vars::expand(template, &lookup).map_err(|undefined| {
            Error::Usage(format!(
                "{file}: environments.{env_name}.{field} uses `${{{}}}`, which is not set",
                undefined.0
            ))
        })?;
        let dir = env_path.parent().unwrap_or(Path::new(""));
        Ok(Some(dir.join(text)))
    };
    let cert = path("client_cert", &def.client_cert)?;
    let key = path("client_key", &def.client_key)?;
    if client.identity.is_none() {
        let from = |field: &str| format!("{file}: environments.{env_name}.{field}");
        client.identity = match (cert, key) {
            (None, None) => None,
            (None, Some(_)) => {
                return Err(Error::Usage(format!(
                    "{} needs client_cert beside it",
                    from("client_key")
                )));
            }
            (Some(cert), key) => Some(http::identity::IdentityFiles {
                cert,
                cert_from: from("client_cert"),
                key,
                key_from: from("client_key"),
            }),
        };
    }
    Ok(client)
}

/// The HTTP clients of a run: the measuring engine every check goes through, and reqwest for
/// the calls that are not measurements (docs/behaviour.md#phases).
pub struct Clients {
    pub engine: http::Client,
    /// Built only when the run calls the Vercel API or waits with `--wait`: building it loads the
    /// platform's TLS roots, which an `http://` run never needs.
    pub api: Option<reqwest::Client>,
}

/// The run's clients (`api` when `needs_api`); warns on stderr when they do not verify
/// certificates.
pub fn clients(
    client: &http::ClientOptions,
    opts: &RunOptions,
    needs_api: bool,
    ctx: &Context,
) -> Result<Clients, Error> {
    let engine = http::build_client(client).map_err(Error::Usage)?;
    let api = (needs_api || opts.resolve.wait.is_some())
        .then(|| http::build_api_client(client))
        .transpose()
        .map_err(Error::Usage)?;
    if opts.client.insecure {
        let _ = writeln!(
            ctx.redactor.writer(std::io::stderr()),
            "warning: --insecure: TLS certificates are not verified"
        );
    }
    Ok(Clients { engine, api })
}

/// Resolves the environment (which may call the Vercel API, with `client`), then prints the
/// warnings that came with it. `wait` also waits for a building preview.
pub async fn resolve(
    env_name: &str,
    opts: &RunOptions,
    prepared: &Prepared,
    client: Option<&reqwest::Client>,
    wait: Option<Duration>,
    ctx: &Context,
) -> Result<Target, Error> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let say = |line: &str| {
        let _ = writeln!(ctx.redactor.writer(std::io::stderr()), "{line}");
    };
    let flags = &opts.resolve;
    let resolve = ResolveOptions {
        name: env_name,
        environments: prepared.environments.as_ref(),
        base_url_flag: flags.base_url.clone(),
        delay: flags.delay,
        yes: flags.skip_countdown,
        timeout: flags.timeout,
        wait,
        lookup: &env::process_lookup,
        cwd: &cwd,
        client,
        poll_interval: env::vercel::POLL_INTERVAL,
        progress: Some(&say),
    };
    let target = tokio::select! {
        target = env::resolve(&resolve) => target?,
        kind = ctx.signals.wait() => return Err(Error::Interrupted(kind.into())),
    };
    warn(&target, ctx);
    Ok(target)
}

fn warn(target: &Target, ctx: &Context) {
    let mut err = ctx.redactor.writer(std::io::stderr());
    for warning in &target.warnings {
        let _ = writeln!(err, "warning: {warning}");
    }
}

/// Runs the plan against `target` and returns the report: the banner, the countdown, `--wait`
/// (whose budget `resolved_in` has partly spent), then the checks. Reports are the caller's.
pub async fn execute(
    prepared: Prepared,
    target: &Target,
    resolved_in: Duration,
    clients: Clients,
    opts: &RunOptions,
    ctx: &Context,
) -> Result<RunReport, Error> {
    let title = prepared.title();
    get_ready(&title, target, resolved_in, clients.api.as_ref(), opts, ctx).await?;
    let plan = prepared.plan.clone();
    Ok(run_plan(
        plan,
        &prepared,
        target,
        clients.engine,
        opts,
        opts.output.human,
        ctx,
    )
    .await)
}

/// Runs `plan` (of `prepared`) against `target` once and returns its report; `human` shows each
/// suite's block as it finishes. A signal stops it as docs/cli.md says (the report tells).
pub async fn run_plan(
    plan: run::Plan,
    prepared: &Prepared,
    target: &Target,
    client: http::Client,
    opts: &RunOptions,
    human: Option<human::Style>,
    ctx: &Context,
) -> RunReport {
    let control = Control::new();
    let progress = Arc::new(Progress::new(plan.check_count()));
    let watcher = watch_signals(&control, &progress, ctx);
    let live = Arc::new(LiveOutput {
        progress: progress.clone(),
        human,
        redactor: ctx.redactor.clone(),
        gate: prepared.gate.clone(),
    });
    let started = Instant::now();
    let origin =
        crate::report::across::Origin::now(opts.across.region.clone(), prepared.built_ins.run_id.clone());
    let suites = run::execute(
        plan,
        client,
        opts.settings(target, &prepared.client),
        control,
        live,
        ctx.redactor.clone(),
        prepared.built_ins.clone(),
    )
    .await;
    watcher.abort();
    progress.clear();
    let mut report = RunReport {
        title: prepared.title(),
        environment: target.name.clone(),
        base_url: target.base_url.clone(),
        base_url_source: target.source.clone(),
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        suites,
        interrupted: ctx.signals.received(),
        origin,
    };
    prepared.gate.apply(&mut report);
    report
}

/// The banner (human output), the safety countdown, and `--wait` for the base URL; a signal
/// during any of them ends the run before a check starts.
pub async fn get_ready(
    title: &str,
    target: &Target,
    resolved_in: Duration,
    client: Option<&reqwest::Client>,
    opts: &RunOptions,
    ctx: &Context,
) -> Result<(), Error> {
    let signals = &ctx.signals;
    if opts.output.human.is_some() {
        let mut out = ctx.redactor.writer(std::io::stdout());
        let _ = human::banner(title, &target.name, &target.base_url, &target.source, &mut out);
        let _ = out.flush();
    }
    let mut err = ctx.redactor.writer(std::io::stderr());
    if !target.safety_delay.is_zero() {
        tokio::select! {
            _ = env::countdown(target, target.safety_delay, &mut err) => {}
            kind = signals.wait() => return Err(Error::Interrupted(kind.into())),
        }
    }
    // One `--wait` budget covers a building preview and the base URL coming up (not the countdown).
    // Whole seconds: resolution's usual few milliseconds must not turn `--wait 500ms` into `499ms`.
    let spent = Duration::from_secs(resolved_in.as_secs());
    if let Some(within) = opts.resolve.wait.map(|w| w.saturating_sub(spent))
        && let Some(client) = client
    {
        tokio::select! {
            up = env::wait_until_up(client, &target.base_url, within, &mut err) => up?,
            kind = signals.wait() => return Err(Error::Interrupted(kind.into())),
        }
    }
    match signals.received() {
        Some(kind) => Err(Error::Interrupted(kind.into())),
        None => Ok(()),
    }
}

/// On the first signal: no new request starts, and checks in flight get a grace period.
fn watch_signals(control: &Control, progress: &Arc<Progress>, ctx: &Context) -> tokio::task::JoinHandle<()> {
    let (control, progress) = (control.clone(), progress.clone());
    let (signals, redactor) = (ctx.signals.clone(), ctx.redactor.clone());
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
}
