//! Typed errors of the library, each mapped to one exit code.

use crate::exit::Code;
use std::fmt;

/// A problem in a suite file (or `environments.yaml`), always with a position so an editor can
/// jump to it: `FILE:LINE:COLUMN: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteError {
    pub file: String,
    /// 1-based; 0 when the problem has no position (an unreadable file, say).
    pub line: usize,
    /// 1-based; 0 when unknown.
    pub column: usize,
    pub message: String,
}

impl SuiteError {
    pub fn new(file: impl Into<String>, line: usize, column: usize, message: impl Into<String>) -> Self {
        SuiteError {
            file: file.into(),
            line,
            column,
            message: message.into(),
        }
    }
}

impl fmt::Display for SuiteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A position always prints, even 1:1, so tools that parse `FILE:LINE:COLUMN` never miss.
        let line = self.line.max(1);
        let column = self.column.max(1);
        write!(f, "{}:{}:{}: {}", self.file, line, column, self.message)
    }
}

impl std::error::Error for SuiteError {}

/// Every way a run can end other than with check results.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One or more suite errors; all are reported, not only the first.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Suite(Vec<SuiteError>),
    /// A bad flag or combination of flags that clap could not catch.
    #[error("{0}")]
    Usage(String),
    /// The target environment could not be resolved (unknown name, no base URL, preview not found).
    #[error("{0}")]
    Environment(String),
    /// Interrupted before any check ran (for example during the safety countdown).
    #[error("interrupted")]
    Interrupted(Code),
    /// An I/O problem writing output or a report.
    #[error("{0}")]
    Io(String),
}

impl Error {
    pub fn exit_code(&self) -> Code {
        match self {
            Error::Suite(_) | Error::Usage(_) | Error::Io(_) => Code::Usage,
            Error::Environment(_) => Code::Environment,
            Error::Interrupted(code) => *code,
        }
    }
}

impl From<SuiteError> for Error {
    fn from(e: SuiteError) -> Self {
        Error::Suite(vec![e])
    }
}
