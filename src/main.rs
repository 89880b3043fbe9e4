//! The binary: parse arguments, run, map the outcome to an exit code. Everything else is in the
//! library, so tests can call it directly.

use clap::Parser;
use endpoint_check::{app, cli::Cli, exit::Code, interrupt::Signals, redact::Redactor};
use std::process::ExitCode;

fn main() -> ExitCode {
    let redactor = Redactor::new();
    for name in ["VERCEL_TOKEN", "VERCEL_AUTOMATION_BYPASS_SECRET"] {
        if let Some(value) = endpoint_check::env::process_lookup(name) {
            redactor.add(&value);
            redactor.note_origin(name, &value);
        }
    }
    endpoint_check::redact::install_panic_hook(redactor.clone());
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return Code::Usage.into();
        }
    };
    let code = runtime.block_on(async {
        // Signals first, so the countdown, preview detection, --wait and the run all obey them.
        let signals = Signals::install();
        let cli = match Cli::try_parse() {
            Ok(cli) => cli,
            Err(e) => {
                let _ = e.print();
                return if e.use_stderr() {
                    Code::Usage
                } else {
                    Code::Success
                };
            }
        };
        app::main(cli, signals, redactor).await
    });
    // Requests still in flight after an interruption must not hold the exit up.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    code.into()
}
