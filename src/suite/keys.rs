//! Map keys that hold `${var}` (docs/variables.md, "Variables in keys"): an `expect.json`
//! JSONPath or a header name is then checked once expanded, when the check runs, and a bad one
//! fails that check; a key without variables is checked when the suite loads.

use super::JsonQuery;

/// An `expect.json` key.
#[derive(Debug, Clone)]
pub enum JsonKey {
    /// No variable: parsed when the suite loaded.
    Query(JsonQuery),
    /// Holds `${var}`: the key as written, parsed once expanded.
    Template(String),
}

impl JsonKey {
    /// The query to run, expanding and parsing a templated key with `expand`.
    pub fn resolve(&self, expand: &dyn Fn(&str) -> Result<String, String>) -> Result<JsonQuery, String> {
        match self {
            JsonKey::Query(q) => Ok(q.clone()),
            JsonKey::Template(text) => {
                let source = expand(text)?;
                super::context::json_query(&source).map_err(|e| format!("expect.json key {text:?}: {e}"))
            }
        }
    }
}

/// A header name (written `raw`) expanded; checked here when it holds a variable, as the loader
/// checked it otherwise. `what` says where it stands (`request header`, `expect.headers key`).
pub fn header_name(
    raw: &str,
    what: &str,
    expand: &dyn Fn(&str) -> Result<String, String>,
) -> Result<String, String> {
    let name = expand(raw)?;
    if crate::vars::has_variables(raw) {
        crate::http::headers::name(&name).map_err(|e| format!("{what} {raw:?}: {e}"))?;
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(text: &str) -> Result<String, String> {
        crate::vars::expand(text, &|n| (n == "i").then(|| serde_json::json!(1))).map_err(|e| e.to_string())
    }

    #[test]
    fn templated_keys_are_checked_once_expanded() {
        let key = JsonKey::Template("$.errors[${i}].id".into());
        assert_eq!(key.resolve(&expand).unwrap().source, "$.errors[1].id");
        let bad = JsonKey::Template("$.errors[${i}".into());
        let err = bad.resolve(&expand).unwrap_err();
        assert!(
            err.starts_with("expect.json key \"$.errors[${i}\": invalid JSONPath `$.errors[1`"),
            "{err}"
        );
        assert_eq!(header_name("x-${i}", "request header", &expand).unwrap(), "x-1");
        let err = header_name("x ${i}", "request header", &expand).unwrap_err();
        assert_eq!(err, "request header \"x ${i}\": invalid header name \"x 1\"");
        assert!(
            header_name("x-${nope}", "request header", &expand)
                .unwrap_err()
                .contains("nope")
        );
    }
}
