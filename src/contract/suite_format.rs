//! `endpoint-check schema [environments]` (docs/cli.md#schema): the JSON Schemas of the suite
//! format and of `environments.yaml`, for editors with a YAML language server (README, "Editor
//! support"). They are checked-in files (`schemas/`), held true to the loader by
//! tests/suite_schema.rs: every suite that loads validates, and unknown or mistyped fields fail.

use crate::error::Error;
use crate::exit::Code;
use std::io::Write;

/// The suite file format (draft 2020-12).
pub const SUITE: &str = include_str!("../../schemas/suite.schema.json");
/// `environments.yaml` (draft 2020-12).
pub const ENVIRONMENTS: &str = include_str!("../../schemas/environments.schema.json");

/// Prints the schema `which` names: none for suites, `environments`; any other word is a usage
/// error (exit 2).
pub fn print(which: Option<&str>) -> Result<Code, Error> {
    let text = match which {
        None | Some("suite") => SUITE,
        Some("environments") => ENVIRONMENTS,
        Some(other) => {
            return Err(Error::Usage(format!(
                "unknown schema `{other}`: `endpoint-check schema` prints the suite format, `endpoint-check schema environments` that of environments.yaml"
            )));
        }
    };
    let mut out = std::io::stdout();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::Io(format!("writing the schema: {e}")))
        }
        _ => Ok(Code::Success),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_schemas_are_valid_draft_2020_12() {
        for text in [SUITE, ENVIRONMENTS] {
            let schema: serde_json::Value = serde_json::from_str(text).unwrap();
            jsonschema::draft202012::meta::validate(&schema).unwrap();
        }
    }
}
