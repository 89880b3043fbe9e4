//! `expect.schema` (docs/assertions.md#schema): a JSON Schema compiled once when the suite loads,
//! then a pure check of each response body. `$ref` reaches the document itself and files beside
//! it (read by [`LocalFiles`]); never the network.

use jsonschema::{Draft, Retrieve, Uri, Validator};
use reqwest::Url;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

/// At most this many violations are listed per check; the rest are counted.
pub const MAX_LISTED: usize = 10;

/// A compiled schema, cheap to clone.
#[derive(Clone)]
pub struct CompiledSchema {
    validator: Arc<Validator>,
}

impl std::fmt::Debug for CompiledSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CompiledSchema")
    }
}

/// Reads a `.json` file as JSON and anything else as YAML (a superset of JSON).
/// The suite files' limits hold: 10 MiB, UTF-8, bounded nesting (docs/behaviour.md).
pub fn read_document(path: &Path) -> Result<Value, String> {
    let shown = path.display().to_string();
    let text = crate::yaml::read_file(path, &shown).map_err(|e| format!("{shown}: {}", e.message))?;
    crate::yaml::check_nesting(&text, &shown).map_err(|e| format!("{shown}: {}", e.message))?;
    let is_json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))
    } else {
        serde_yaml::from_str(&text).map_err(|e| format!("{} is not YAML: {e}", path.display()))
    }
}

/// The `file://` URL of a path, made absolute, for `$ref` resolution.
pub fn file_url(path: &Path) -> Result<Url, String> {
    let absolute = std::path::absolute(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Url::from_file_path(&absolute).map_err(|_| format!("{}: not a usable file path", path.display()))
}

/// Resolves `$ref`s to `file://` URLs by reading the file; refuses every other scheme, so a
/// schema never makes the run reach the network (docs/assertions.md#schema).
pub struct LocalFiles;

impl Retrieve for LocalFiles {
    fn retrieve(&self, uri: &Uri<String>) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let url = Url::parse(uri.as_str()).map_err(|e| format!("{uri}: {e}"))?;
        if url.scheme() != "file" {
            return Err(format!(
                "remote $ref {uri} is never fetched: save that schema beside this one and refer to it by a relative path"
            )
            .into());
        }
        let path = url
            .to_file_path()
            .map_err(|_| format!("{uri}: not a local file"))?;
        Ok(read_document(&path)?)
    }
}

/// Compiles `schema` whose relative `$ref`s resolve against `base` (the schema file, or for an
/// inline schema the suite file). `draft` wins over `$schema`; without either, 2020-12.
pub fn compile(schema: &Value, base: &Url, draft: Option<Draft>) -> Result<CompiledSchema, String> {
    let declared = schema.get("$schema").is_some();
    let draft = draft.or((!declared).then_some(Draft::Draft202012));
    let mut options = jsonschema::options()
        .with_base_uri(base.to_string())
        .with_retriever(LocalFiles);
    if let Some(d) = draft {
        options = options.with_draft(d);
    }
    let validator = options.build(schema).map_err(|e| {
        let text = e.to_string();
        if let jsonschema::error::ValidationErrorKind::Referencing(_) = e.kind() {
            return ref_error(&text);
        }
        if e.instance_path().as_str().is_empty() {
            format!("invalid JSON Schema: {text}")
        } else {
            format!(
                "invalid JSON Schema at {}: {text}",
                json_path(schema, e.instance_path().as_str())
            )
        }
    })?;
    Ok(CompiledSchema {
        validator: Arc::new(validator),
    })
}

/// `Resource 'URI' is not present in a registry and retrieving it failed: WHY`, said shorter:
/// the URI and our reason say it all.
fn ref_error(text: &str) -> String {
    match text.split_once("retrieving it failed: ") {
        Some((_, why)) if why.starts_with("remote $ref") => why.to_string(),
        Some((head, why)) => {
            let uri = head.split('\'').nth(1).unwrap_or("");
            format!("$ref {uri}: {why}")
        }
        None => format!("$ref does not resolve: {text}"),
    }
}

/// Reads and compiles a schema file.
pub fn compile_file(path: &Path) -> Result<CompiledSchema, String> {
    let doc = read_document(path)?;
    compile(&doc, &file_url(path)?, None)
}

impl CompiledSchema {
    /// One line per violation (`$.a[0].b: reason`), at most [`MAX_LISTED`], then `… and N more`;
    /// each prefixed with `prefix`.
    pub fn violations(&self, doc: &Value, prefix: &str) -> Vec<String> {
        let mut lines = Vec::new();
        // The common case, a valid body, without collecting errors (several times faster).
        if self.validator.is_valid(doc) {
            return lines;
        }
        let mut more = 0usize;
        for e in self.validator.iter_errors(doc) {
            if lines.len() < MAX_LISTED {
                let at = json_path(doc, e.instance_path().as_str());
                lines.push(format!("{prefix}{at}: {}", short(&e.to_string())));
            } else {
                more += 1;
            }
        }
        if more > 0 {
            lines.push(format!("{prefix}… and {more} more"));
        }
        lines
    }

    pub fn is_valid(&self, doc: &Value) -> bool {
        self.validator.is_valid(doc)
    }
}

/// A reason quoting a big value is cut, as other found values are.
fn short(reason: &str) -> String {
    if reason.chars().count() > 300 {
        let cut: String = reason.chars().take(300).collect();
        format!("{cut}…")
    } else {
        reason.to_string()
    }
}

/// A JSON Pointer (`/edges/0/latency`) as a JSONPath (`$.edges[0].latency`), reading `doc` to
/// tell an array index from an object key that looks like a number.
pub fn json_path(doc: &Value, pointer: &str) -> String {
    let mut out = String::from("$");
    let mut here = Some(doc);
    for raw in pointer.split('/').skip(1) {
        let key = raw.replace("~1", "/").replace("~0", "~");
        match here {
            Some(Value::Array(items)) if key.parse::<usize>().is_ok() => {
                out.push_str(&format!("[{key}]"));
                here = key.parse::<usize>().ok().and_then(|i| items.get(i));
            }
            _ => {
                let plain = key
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if plain {
                    out.push('.');
                    out.push_str(&key);
                } else {
                    out.push_str(&format!("['{}']", key.replace('\\', "\\\\").replace('\'', "\\'")));
                }
                here = here.and_then(|v| v.get(&key));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> Url {
        Url::parse("file:///tmp/suite.yaml").unwrap()
    }

    #[test]
    fn pointers_read_as_json_paths() {
        let doc = json!({"edges": [{"latency": "fast"}], "0": {"a b": 1}});
        assert_eq!(json_path(&doc, "/edges/0/latency"), "$.edges[0].latency");
        assert_eq!(json_path(&doc, "/0/a b"), "$['0']['a b']");
        assert_eq!(json_path(&doc, ""), "$");
    }

    #[test]
    fn violations_name_the_path_and_reason_and_stop_at_ten() {
        let s = compile(
            &json!({"type": "array", "items": {"type": "number"}}),
            &base(),
            None,
        )
        .unwrap();
        let doc = json!(["a"]);
        assert_eq!(
            s.violations(&doc, "schema: "),
            vec![r#"schema: $[0]: "a" is not of type "number""#]
        );
        let many = json!(vec!["x"; 13]);
        let lines = s.violations(&many, "schema: ");
        assert_eq!(lines.len(), 11);
        assert_eq!(lines[10], "schema: … and 3 more");
    }

    #[test]
    fn invalid_schemas_and_remote_refs_are_refused() {
        let e = compile(&json!({"type": "strnig"}), &base(), None).unwrap_err();
        assert!(e.starts_with("invalid JSON Schema"), "{e}");
        let e = compile(&json!({"$ref": "https://example.com/s.json"}), &base(), None).unwrap_err();
        assert!(
            e.contains("remote $ref https://example.com/s.json is never fetched"),
            "{e}"
        );
    }

    #[test]
    fn older_drafts_follow_their_schema_keyword() {
        let s = json!({"$schema": "http://json-schema.org/draft-04/schema#", "maximum": 5, "exclusiveMaximum": true});
        let s = compile(&s, &base(), None).unwrap();
        assert!(!s.is_valid(&json!(5)));
        assert!(s.is_valid(&json!(4)));
        // `format` asserts under draft 7 and is an annotation under 2020-12 (docs/assertions.md#schema).
        let d7 = json!({"$schema": "http://json-schema.org/draft-07/schema#", "format": "date-time"});
        assert!(!compile(&d7, &base(), None).unwrap().is_valid(&json!("nope")));
        let d2020 = json!({"format": "date-time"});
        assert!(compile(&d2020, &base(), None).unwrap().is_valid(&json!("nope")));
    }
}
