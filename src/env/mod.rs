//! Environment resolution (README, "Environments"): [`file`] reads `environments.yaml`,
//! [`target`] turns a name into a [`Target`] (built-in defaults, headers, the safety delay),
//! [`vercel`] detects a preview's URL, and [`wait`] holds `--wait` and the safety countdown.
//! Each part imports [`options`] and [`file`], never the others' parents.

mod file;
mod options;
mod target;
pub mod vercel;
mod wait;

pub use file::{EnvironmentDef, EnvironmentsFile, VercelConfig};
pub use options::{ResolveOptions, process_lookup};
pub use target::{Target, check_name, normalize_base_url, referenced_variables, resolve, secrets};
pub use vercel::UnauthorizedHint;
pub use wait::{WAIT_FIRST_BACKOFF, WAIT_MAX_BACKOFF, countdown, wait_until_up};

use std::time::Duration;

/// Environments every run knows, whether or not `environments.yaml` names them.
pub const BUILT_IN: &[&str] = &["production", "preview", "staging", "localhost", "demo"];

/// The built-in localhost base URL.
pub const DEFAULT_LOCALHOST: &str = "http://localhost:3000";

/// The safety delay of `production` when neither `--delay` nor `environments.yaml` sets one.
pub const DEFAULT_PRODUCTION_DELAY: Duration = Duration::from_secs(5);

/// Subcommand names: they cannot name an environment (docs/cli.md).
pub const RESERVED: &[&str] = &["list", "validate", "serve", "completions", "schema", "help"];
