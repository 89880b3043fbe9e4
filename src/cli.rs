//! The command line: the clap types, and how each flag's text is parsed. Knows nothing
//! of HTTP, YAML or environment variables: `app::options` turns the flags into run options.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "endpoint-check",
    version,
    about = "Endpoint test runner and SLA checker: YAML suites, concurrent HTTP checks, exit codes CI can trust",
    args_conflicts_with_subcommands = true,
    after_help = "Exit codes: 0 all passed, 1 a check failed, 2 usage or suite error, 3 environment not resolved, 130/143 interrupted."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Environment to run against: production, preview, staging, localhost, or one from environments.yaml
    #[arg(value_name = "ENV")]
    pub env: Option<String>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the suites and checks that would run; sends no request
    List {
        #[arg(value_name = "ENV")]
        env: Option<String>,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Load and validate every suite; sends no request
    Validate {
        #[command(flatten)]
        run: RunArgs,
    },
    /// Serve the bundled fixture API on 127.0.0.1
    Serve(ServeArgs),
    /// Serve the fixture API on a free loopback port and run the bundled suites against it
    Demo {
        #[command(flatten)]
        run: RunArgs,
    },
    /// Print shell completions
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the JSON Schema of the suite format (or, with `environments`, of environments.yaml)
    Schema {
        /// `environments` for environments.yaml; nothing for suite files
        #[arg(value_name = "WHICH")]
        which: Option<String>,
    },
    /// Combine JSON reports of runs from several places into one verdict
    Merge(MergeArgs),
}

/// The report options a run and `merge` share.
#[derive(Debug, Args, Clone)]
pub struct ReportArgs {
    /// What goes to stdout
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Also write the JSON report to PATH
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Also write the JUnit report to PATH
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
    /// Also write a self-contained HTML report to PATH [run: env ENDPOINT_CHECK_HTML]
    #[arg(long, value_name = "PATH")]
    pub html: Option<PathBuf>,
    /// Also write the figures as OpenMetrics text to PATH [run: env ENDPOINT_CHECK_METRICS]
    #[arg(long, value_name = "PATH")]
    pub metrics: Option<PathBuf>,
    /// Compare every sampled check with this earlier JSON report [run: env ENDPOINT_CHECK_BASELINE]
    #[arg(long, value_name = "REPORT.json")]
    pub baseline: Option<PathBuf>,
    /// With --baseline: fail a sampled check whose p95 grew more than PCT percent [run: env ENDPOINT_CHECK_MAX_REGRESSION]
    #[arg(long, value_name = "PCT", value_parser = parse_percent)]
    pub max_regression: Option<f64>,
    /// When to use colors (NO_COLOR and CLICOLOR_FORCE are honoured under auto)
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Args, Clone)]
pub struct MergeArgs {
    /// JSON reports (`--json`) of runs of the same suites against the same environment
    #[arg(value_name = "REPORT.json", required = true)]
    pub reports: Vec<PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Only failures and the summary
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port on 127.0.0.1 (0 picks a free one)
    #[arg(long, default_value_t = 3000)]
    pub port: u16,
    /// A fixture description to serve instead of the bundled one
    #[arg(long, value_name = "FILE")]
    pub fixtures: Option<PathBuf>,
    /// Make a route answer STATUS for a share of its requests, to see alerts fire (repeatable)
    #[arg(
        long = "fault",
        value_name = "\"METHOD PATH=STATUS[@PCT%] [from START] [for LENGTH]\""
    )]
    pub faults: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Human,
    Json,
    Junit,
    Tap,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    /// A suites folder or one suite file (repeatable) [env: ENDPOINT_CHECK_SUITES] [default: ./suites]
    #[arg(short, long = "suites", value_name = "PATH")]
    pub suites: Vec<PathBuf>,
    /// Run only these customers' suites (case-insensitive, repeatable)
    #[arg(short, long = "customer", value_name = "NAME")]
    pub customers: Vec<String>,
    /// Run only checks carrying one of these tags (repeatable)
    #[arg(short, long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Run only checks whose name contains TEXT (case-insensitive), and what they need
    #[arg(short = 'k', long, value_name = "TEXT")]
    pub filter: Option<String>,
    /// Use this base URL instead of resolving one [env: ENDPOINT_CHECK_BASE_URL]
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Most requests in flight at once, over the whole run
    #[arg(short = 'j', long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrency: u32,
    /// Default per-request timeout
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Default retries after a transport error or 5xx
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub retries: u32,
    /// SLA mode: run each idempotent check (GET, HEAD, OPTIONS) N times
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub samples: Option<u32>,
    /// Send the samples of every sampled check open-loop at this rate: 20/s, 600/m, 1000/h
    #[arg(long, value_name = "RATE", value_parser = crate::rate::Rate::parse)]
    pub rate: Option<crate::rate::Rate>,
    /// After the first failure start no new check
    #[arg(long)]
    pub fail_fast: bool,
    /// Skip the safety delay [env: ENDPOINT_CHECK_YES=1|true|yes]
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Length of the safety countdown, for any environment
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub delay: Option<Duration>,
    /// Before running, poll the base URL until it answers or the time runs out
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub wait: Option<Duration>,
    /// Set a variable (repeatable)
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// Add a header to every request (repeatable)
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Only failures and the summary
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Request and response details of failures (-vv: of every check)
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Accept invalid TLS certificates
    #[arg(long)]
    pub insecure: bool,
    /// Also trust the PEM certificates in PATH
    #[arg(long, value_name = "PATH")]
    pub cacert: Option<PathBuf>,
    /// Connect to ADDR for HOST:PORT, as curl does; URL, Host, SNI and certificate check keep HOST (repeatable) [env: ENDPOINT_CHECK_RESOLVE]
    #[arg(long = "resolve", value_name = "HOST:PORT:ADDR", value_parser = crate::http::route::Resolve::parse)]
    pub resolve: Vec<crate::http::route::Resolve>,
    /// Send what is meant for HOST1:PORT1 to HOST2:PORT2; an empty HOST1/PORT1 matches any (repeatable) [env: ENDPOINT_CHECK_CONNECT_TO]
    #[arg(long = "connect-to", value_name = "HOST1:PORT1:HOST2:PORT2", value_parser = crate::http::route::ConnectTo::parse)]
    pub connect_to: Vec<crate::http::route::ConnectTo>,
    /// A PEM client certificate for mutual TLS (with its key, unless --key is given) [env: ENDPOINT_CHECK_CERT]
    #[arg(long, value_name = "PEM")]
    pub cert: Option<PathBuf>,
    /// The PEM private key of --cert [env: ENDPOINT_CHECK_KEY]
    #[arg(long, value_name = "PEM")]
    pub key: Option<PathBuf>,
    /// The place this run measures from, written into its reports [env: ENDPOINT_CHECK_REGION]
    #[arg(long, value_name = "NAME")]
    pub region: Option<String>,
    /// PUT the run's metrics to this Prometheus Pushgateway [env: ENDPOINT_CHECK_PUSHGATEWAY]
    #[arg(long, value_name = "URL")]
    pub pushgateway: Option<String>,
    #[command(flatten)]
    pub monitor: MonitorArgs,
}

/// Monitor mode (docs/monitor.md): the run repeated in one process.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Monitor mode")]
pub struct MonitorArgs {
    /// Repeat the run: a round starts every DURATION [env: ENDPOINT_CHECK_EVERY]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub every: Option<Duration>,
    /// With --every: stop after DURATION [env: ENDPOINT_CHECK_FOR]
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration)]
    pub for_: Option<Duration>,
    /// With --every: stop after N rounds [env: ENDPOINT_CHECK_ROUNDS]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub rounds: Option<u64>,
    /// With --every: judge each check on the rounds of the last DURATION [env: ENDPOINT_CHECK_WINDOW] [default: the last round]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub window: Option<Duration>,
    /// With --every: POST state changes to this URL (repeatable) [env: ENDPOINT_CHECK_WEBHOOK]
    #[arg(long = "webhook", value_name = "URL")]
    pub webhooks: Vec<String>,
    /// What a webhook is sent [env: ENDPOINT_CHECK_WEBHOOK_FORMAT]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub webhook_format: Option<WebhookFormat>,
    /// With --every: serve /metrics, /status, /healthz and / on ADDR [env: ENDPOINT_CHECK_LISTEN]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
}

/// The body a webhook gets (docs/monitor.md#alerts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum WebhookFormat {
    /// `{"text": "…"}`, shown as is by Slack, Mattermost and Teams incoming webhooks
    #[default]
    Slack,
    /// The changes as JSON events
    Json,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    crate::duration::parse(s)
}

fn parse_percent(s: &str) -> Result<f64, String> {
    crate::baseline::parse_percent(s)
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| "expected KEY=VALUE".to_string())?;
    let k = k.trim();
    if k.is_empty() || crate::vars::parse(&format!("${{{k}}}")).is_err() {
        return Err(format!("invalid variable name {k:?}"));
    }
    Ok((k.to_string(), v.to_string()))
}

fn parse_header(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once(':')
        .ok_or_else(|| "expected \"Name: value\"".to_string())?;
    let (k, v) = (k.trim(), v.trim());
    crate::http::headers::name(k)?;
    crate::http::headers::value(k, v)?;
    Ok((k.to_string(), v.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn env_positional_and_subcommands() {
        let cli = Cli::try_parse_from(["endpoint-check", "production", "-j", "4"]).unwrap();
        assert_eq!(cli.env.as_deref(), Some("production"));
        assert_eq!(cli.run.concurrency, 4);
        let cli = Cli::try_parse_from(["endpoint-check", "list", "preview"]).unwrap();
        assert!(matches!(cli.command, Some(Command::List { env: Some(ref e), .. }) if e == "preview"));
        let cli = Cli::try_parse_from([
            "endpoint-check",
            "--timeout",
            "1.5s",
            "--var",
            "a=b=c",
            "-H",
            "X-A: 1",
        ])
        .unwrap();
        assert_eq!(cli.run.timeout, Duration::from_millis(1500));
        assert_eq!(cli.run.vars, vec![("a".to_string(), "b=c".to_string())]);
        assert_eq!(cli.run.headers, vec![("X-A".to_string(), "1".to_string())]);
        assert!(Cli::try_parse_from(["endpoint-check", "-j", "0"]).is_err());
        assert!(Cli::try_parse_from(["endpoint-check", "--timeout", "soon"]).is_err());
    }
}
