//! What each command does, from parsed arguments to an exit code: the one place that strings the
//! modules together (suites → plan → results → reports). [`options`] turns the flags into
//! values once; [`commands`] holds one function per command over the steps in [`pipeline`];
//! [`output`] shows the run and writes its reports.

mod across;
mod commands;
mod monitor;
mod options;
mod output;
mod pipeline;

use crate::cli::{Cli, Command, RunArgs};
use crate::error::Error;
use crate::exit::Code;
use crate::interrupt::Signals;
use crate::redact::Redactor;
use options::RunOptions;
use std::io::Write;

/// What every command may use: the signals received so far, and the redactor every line
/// written goes through.
struct Context {
    signals: Signals,
    redactor: Redactor,
}

/// Runs a parsed command line; every outcome becomes an exit code.
pub async fn main(cli: Cli, signals: Signals, redactor: Redactor) -> Code {
    let ctx = Context { signals, redactor };
    let outcome = dispatch(cli, &ctx).await;
    outcome.unwrap_or_else(|e| {
        report_error(&e, &ctx.redactor);
        e.exit_code()
    })
}

/// One function per command; a bad run option fails before the command starts.
async fn dispatch(cli: Cli, ctx: &Context) -> Result<Code, Error> {
    match cli.command {
        None => commands::run(cli.env, options(cli.run)?, ctx).await,
        Some(Command::List { env, run }) => commands::list(env, options(run)?, ctx).await,
        Some(Command::Demo { run }) => commands::demo(options(run)?, ctx).await,
        Some(Command::Validate { run }) => commands::validate(options(run)?, ctx),
        Some(Command::Serve(args)) => commands::serve(args, ctx).await,
        Some(Command::Completions { shell }) => commands::completions(shell),
        Some(Command::Schema { which }) => crate::contract::suite_format::print(which.as_deref()),
        Some(Command::Merge(args)) => across::merge(args, ctx).await,
    }
}

/// The run options, with colors switched on or off for the process before anything is printed.
fn options(args: RunArgs) -> Result<RunOptions, Error> {
    let opts = RunOptions::new(args)?;
    colored::control::set_override(opts.output.color);
    Ok(opts)
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
