//! The built binary, with the host's influence removed: one list of the variables that could
//! change a run (the tool's configuration, CI and GitHub detection, Vercel preview detection,
//! colors, proxies, and the variables the bundled suites read), and loopback never proxied.

use std::process::{Command, Stdio};
use std::time::Duration;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_endpoint-check");

/// Variables removed by prefix (compared upper-case).
const SCRUBBED_PREFIXES: &[&str] = &["ENDPOINT_CHECK_", "GITHUB_", "VERCEL_", "AUDIO1_", "JETTY_"];

/// Variables removed by name (compared upper-case); every `*_PROXY` goes too.
const SCRUBBED: &[&str] = &[
    "CI",
    "NO_COLOR",
    "CLICOLOR",
    "CLICOLOR_FORCE",
    "API_TOKEN",
    "STAGING_URL",
];

/// Whether the variable `name` of this process is kept from the binary.
pub fn is_scrubbed(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SCRUBBED_PREFIXES.iter().any(|p| upper.starts_with(p))
        || SCRUBBED.contains(&upper.as_str())
        || upper.ends_with("_PROXY")
}

/// Removes every variable [`is_scrubbed`] names from `cmd`, and keeps loopback off any proxy.
pub fn scrub(cmd: &mut Command) -> &mut Command {
    for (name, _) in std::env::vars_os() {
        if is_scrubbed(&name.to_string_lossy()) {
            cmd.env_remove(&name);
        }
    }
    cmd.env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
}

/// The binary as a plain `std` command (to spawn, signal, or run to the end), scrubbed, with
/// nothing on stdin.
pub fn endpoint_check_std() -> Command {
    let mut cmd = Command::new(BIN);
    scrub(&mut cmd).stdin(Stdio::null());
    cmd
}

/// The binary as an `assert_cmd` command, scrubbed, killed after a generous two minutes.
pub fn endpoint_check() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::from_std(endpoint_check_std());
    cmd.timeout(Duration::from_secs(120));
    cmd
}
