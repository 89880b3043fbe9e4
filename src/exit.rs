//! The exit codes, in one place (docs/cli.md#exit-codes).

/// What the process tells its caller. CI gates deploys on these numbers, so they never move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Every selected check passed, warned or was skipped.
    Success = 0,
    /// At least one non-optional check failed.
    ChecksFailed = 1,
    /// Bad flag, bad suite, no check selected: nothing was sent.
    Usage = 2,
    /// The environment could not be resolved: nothing was sent.
    Environment = 3,
    /// Interrupted by SIGINT (Ctrl-C).
    Interrupted = 130,
    /// Interrupted by SIGTERM.
    Terminated = 143,
}

impl Code {
    pub fn as_i32(self) -> i32 {
        self as i32
    }
}

impl From<Code> for std::process::ExitCode {
    fn from(code: Code) -> Self {
        std::process::ExitCode::from(code as u8)
    }
}
