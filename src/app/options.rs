//! The command line turned into ready-to-use values, once: every run flag with its environment
//! variable fallback already applied, so the commands read options, never flags.

use crate::cli::{ColorChoice, Format, RunArgs};
use crate::env::{Target, process_lookup};
use crate::error::Error;
use crate::http;
use crate::report::human;
use crate::run::{self, Details, Selection};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

/// Where suites are read from when neither `--suites` nor `ENDPOINT_CHECK_SUITES` says.
const DEFAULT_SUITES: &str = "suites";

/// A run's options (`run`, `list`, `validate`, `demo`).
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// `--suites`, else `ENDPOINT_CHECK_SUITES`; `None` when neither is given.
    pub suites: Option<Vec<PathBuf>>,
    pub selection: Selection,
    /// `--var`: planning and the runner both read them.
    pub vars: Vec<(String, String)>,
    pub resolve: ResolveFlags,
    pub client: http::ClientOptions,
    pub checks: run::CheckDefaults,
    pub output: Output,
    /// Region, baseline, metrics and push (docs/merge.md).
    pub across: Across,
    /// `Some` with `--every`: monitor mode (docs/monitor.md).
    pub monitor: Option<Monitor>,
}

/// Monitor mode's options (docs/monitor.md), environment fallbacks applied.
#[derive(Debug, Clone)]
pub struct Monitor {
    /// A round starts every `every` from the previous round's start.
    pub every: Duration,
    /// `--for`: no round starts after this long.
    pub for_: Option<Duration>,
    /// `--rounds`.
    pub rounds: Option<u64>,
    /// `--window`; `None`: each check is judged on the last round only.
    pub window: Option<Duration>,
    /// `--webhook` URLs (secrets: a Slack token is in the path).
    pub webhooks: Vec<String>,
    pub webhook_format: crate::cli::WebhookFormat,
    /// `--listen ADDR`: serve /metrics, /status, /healthz and / while the monitor runs.
    pub listen: Option<String>,
}

impl Monitor {
    /// `None` without `--every`; the other monitor flags then are a usage error.
    fn new(args: &crate::cli::MonitorArgs) -> Result<Option<Monitor>, Error> {
        let duration = crate::duration::parse;
        let every = flag_or_var(args.every, "ENDPOINT_CHECK_EVERY", duration)?;
        let Some(every) = every else {
            return match monitor_flag(args) {
                Some(flag) => Err(Error::Usage(format!("{flag} needs --every (monitor mode)"))),
                None => Ok(None),
            };
        };
        if every.is_zero() {
            return Err(Error::Usage("--every must be longer than 0".into()));
        }
        let positive = |name: &str, d: Option<Duration>| match d {
            Some(d) if d.is_zero() => Err(Error::Usage(format!("{name} must be longer than 0"))),
            d => Ok(d),
        };
        let rounds = flag_or_var(args.rounds, "ENDPOINT_CHECK_ROUNDS", |t| {
            t.trim()
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("invalid number of rounds {t:?}"))
        })?;
        let mut webhooks = args.webhooks.clone();
        if webhooks.is_empty()
            && let Some(urls) = process_lookup("ENDPOINT_CHECK_WEBHOOK")
        {
            webhooks = urls.split_whitespace().map(str::to_string).collect();
        }
        for url in &webhooks {
            crate::monitor::webhook::check_url(url).map_err(Error::Usage)?;
        }
        let webhook_format = flag_or_var(args.webhook_format, "ENDPOINT_CHECK_WEBHOOK_FORMAT", |t| {
            <crate::cli::WebhookFormat as clap::ValueEnum>::from_str(t, true)
                .map_err(|_| format!("invalid webhook format {t:?} (slack or json)"))
        })?;
        Ok(Some(Monitor {
            every,
            for_: positive("--for", flag_or_var(args.for_, "ENDPOINT_CHECK_FOR", duration)?)?,
            rounds,
            window: positive(
                "--window",
                flag_or_var(args.window, "ENDPOINT_CHECK_WINDOW", duration)?,
            )?,
            webhooks,
            webhook_format: webhook_format.unwrap_or_default(),
            listen: args
                .listen
                .clone()
                .or_else(|| process_lookup("ENDPOINT_CHECK_LISTEN")),
        }))
    }
}

/// The first monitor flag given on the command line, for the message when `--every` is missing.
fn monitor_flag(args: &crate::cli::MonitorArgs) -> Option<&'static str> {
    [
        (args.for_.is_some(), "--for"),
        (args.rounds.is_some(), "--rounds"),
        (args.window.is_some(), "--window"),
        (!args.webhooks.is_empty(), "--webhook"),
        (args.webhook_format.is_some(), "--webhook-format"),
        (args.listen.is_some(), "--listen"),
    ]
    .into_iter()
    .find_map(|(given, flag)| given.then_some(flag))
}

/// The options of docs/merge.md, environment fallbacks applied.
#[derive(Debug, Clone, Default)]
pub struct Across {
    pub region: Option<String>,
    pub baseline: Option<PathBuf>,
    pub max_regression: Option<f64>,
    pub pushgateway: Option<String>,
}

impl Across {
    fn new(args: &RunArgs) -> Result<Across, Error> {
        let var = process_lookup;
        Ok(Across {
            region: args.region.clone().or_else(|| var("ENDPOINT_CHECK_REGION")),
            baseline: args
                .report
                .baseline
                .clone()
                .or_else(|| var("ENDPOINT_CHECK_BASELINE").map(PathBuf::from)),
            max_regression: flag_or_var(
                args.report.max_regression,
                "ENDPOINT_CHECK_MAX_REGRESSION",
                crate::baseline::parse_percent,
            )?,
            pushgateway: args
                .pushgateway
                .clone()
                .or_else(|| var("ENDPOINT_CHECK_PUSHGATEWAY")),
        })
    }
}

/// The flag's value, else the environment variable's read as the flag would be: a bad one is a
/// usage error (exit 2) as a bad flag is, and an empty one counts as unset (docs/cli.md).
fn flag_or_var<T>(
    flag: Option<T>,
    name: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<T>, Error> {
    match (flag, process_lookup(name)) {
        (Some(v), _) => Ok(Some(v)),
        (None, Some(text)) => parse(&text)
            .map(Some)
            .map_err(|e| Error::Usage(format!("{name}: {e}"))),
        (None, None) => Ok(None),
    }
}

/// `--resolve` and `--connect-to`, else `ENDPOINT_CHECK_RESOLVE` and `ENDPOINT_CHECK_CONNECT_TO`
/// (entries separated by white space).
fn routes(
    resolve: Vec<http::route::Resolve>,
    connect_to: Vec<http::route::ConnectTo>,
) -> Result<http::route::Routes, Error> {
    fn entries<T>(
        flags: Vec<T>,
        name: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Vec<T>, Error> {
        if !flags.is_empty() {
            return Ok(flags);
        }
        let text = process_lookup(name).unwrap_or_default();
        text.split_whitespace()
            .map(|e| parse(e).map_err(|why| Error::Usage(format!("{name}: {why}"))))
            .collect()
    }
    Ok(http::route::Routes {
        resolve: entries(resolve, "ENDPOINT_CHECK_RESOLVE", http::route::Resolve::parse)?,
        connect_to: entries(
            connect_to,
            "ENDPOINT_CHECK_CONNECT_TO",
            http::route::ConnectTo::parse,
        )?,
    })
}

/// `--cert`/`--key`, else `ENDPOINT_CHECK_CERT`/`ENDPOINT_CHECK_KEY`. A key without a
/// certificate is a usage error; a certificate without a key reads the key from its own file.
fn identity(
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
) -> Result<Option<http::identity::IdentityFiles>, Error> {
    let from_flags = cert.is_some() || key.is_some();
    let (cert, key, cert_from, key_from) = if from_flags {
        (cert, key, "--cert", "--key")
    } else {
        let var = |n| process_lookup(n).map(PathBuf::from);
        (
            var("ENDPOINT_CHECK_CERT"),
            var("ENDPOINT_CHECK_KEY"),
            "ENDPOINT_CHECK_CERT",
            "ENDPOINT_CHECK_KEY",
        )
    };
    match (cert, key) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(Error::Usage(format!(
            "{key_from} needs {cert_from}: a key is the private half of a client certificate"
        ))),
        (Some(cert), key) => Ok(Some(http::identity::IdentityFiles {
            cert,
            cert_from: cert_from.to_string(),
            key,
            key_from: key_from.to_string(),
        })),
    }
}

/// What resolving the environment takes from the command line.
#[derive(Debug, Clone)]
pub struct ResolveFlags {
    pub base_url: Option<String>,
    pub delay: Option<Duration>,
    /// `--yes` or `ENDPOINT_CHECK_YES`.
    pub skip_countdown: bool,
    pub timeout: Duration,
    pub wait: Option<Duration>,
}

/// Where the results go, and how they look.
#[derive(Debug, Clone)]
pub struct Output {
    pub format: Format,
    /// Whether stdout gets colors, `--color` and `NO_COLOR`/`CLICOLOR_FORCE` weighed.
    pub color: bool,
    /// `Some` with human output: each suite's block is printed as it finishes.
    pub human: Option<human::Style>,
    pub json: Option<PathBuf>,
    pub junit: Option<PathBuf>,
    /// `Some` under GitHub Actions: annotations, and the step summary when there is a file for it.
    pub github: Option<GitHub>,
    /// `--html`, else `ENDPOINT_CHECK_HTML`.
    pub html: Option<PathBuf>,
    /// `--metrics`: OpenMetrics text of the run.
    pub metrics: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct GitHub {
    /// `GITHUB_STEP_SUMMARY`.
    pub step_summary: Option<PathBuf>,
}

impl RunOptions {
    /// Reads the flags, and the environment variables that stand in for missing ones.
    pub fn new(args: RunArgs) -> Result<RunOptions, Error> {
        let var = process_lookup;
        let across = Across::new(&args)?;
        let monitor = Monitor::new(&args.monitor)?;
        let rate = flag_or_var(args.rate, "ENDPOINT_CHECK_RATE", crate::rate::Rate::parse)?;
        let suites = if !args.suites.is_empty() {
            Some(args.suites)
        } else {
            var("ENDPOINT_CHECK_SUITES").map(|p| std::env::split_paths(&p).collect())
        };
        let skip_countdown = args.yes
            || var("ENDPOINT_CHECK_YES")
                .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes"));
        let github = (var("GITHUB_ACTIONS").as_deref() == Some("true")).then(|| GitHub {
            step_summary: var("GITHUB_STEP_SUMMARY").map(PathBuf::from),
        });
        Ok(RunOptions {
            suites,
            selection: Selection {
                customers: args.customers,
                tags: args.tags,
                filter: args.filter,
            },
            vars: args.vars,
            resolve: ResolveFlags {
                base_url: args.base_url,
                delay: args.delay,
                skip_countdown,
                timeout: args.timeout,
                wait: args.wait,
            },
            client: http::ClientOptions {
                insecure: args.insecure,
                cacert: args.cacert,
                pool_size: args.concurrency as usize,
                routes: routes(args.resolve, args.connect_to)?,
                identity: identity(args.cert, args.key)?,
            },
            checks: run::CheckDefaults {
                headers: args.headers,
                timeout: args.timeout,
                retries: args.retries,
                samples: args.samples,
                rate,
                concurrency: args.concurrency as usize,
                fail_fast: args.fail_fast,
                details: match args.verbose {
                    0 => Details::None,
                    1 => Details::Failures,
                    _ => Details::All,
                },
            },
            output: Output {
                format: args.report.format,
                color: use_color(args.report.color, std::io::stdout().is_terminal()),
                human: (args.report.format == Format::Human).then_some(human::Style { quiet: args.quiet }),
                json: args.report.json,
                junit: args.report.junit,
                github,
                html: args
                    .report
                    .html
                    .or_else(|| var("ENDPOINT_CHECK_HTML").map(PathBuf::from)),
                metrics: args
                    .report
                    .metrics
                    .or_else(|| var("ENDPOINT_CHECK_METRICS").map(PathBuf::from)),
            },
            across,
            monitor,
        })
    }

    /// The suites to load: the given ones, else `./suites`.
    pub fn suite_paths(&self) -> Vec<PathBuf> {
        self.suites
            .clone()
            .unwrap_or_else(|| vec![PathBuf::from(DEFAULT_SUITES)])
    }

    /// The runner's settings against `target`: the one place they are put together.
    pub fn settings(&self, target: &Target, client: &http::ClientOptions) -> run::Settings {
        run::Settings {
            environment: target.name.clone(),
            base_url: target.base_url.clone(),
            environment_headers: target.headers.clone(),
            cli_vars: self.vars.clone(),
            unauthorized_hint: target.unauthorized_hint,
            env_lookup: crate::env::process_lookup,
            checks: self.checks.clone(),
            curl_flags: run::curl::client_flags(client),
        }
    }
}

/// `always`/`never` win; under `auto` a non-empty `NO_COLOR` turns colors off, else a non-empty
/// `CLICOLOR_FORCE` other than `0` turns them on, else colors follow the terminal.
pub(super) fn use_color(choice: ColorChoice, stdout_is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            if process_lookup("NO_COLOR").is_some() {
                false
            } else if process_lookup("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
                true
            } else {
                stdout_is_terminal
            }
        }
    }
}
