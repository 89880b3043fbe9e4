//! Header names and values: one validation and one case-insensitive merge for every place that
//! takes headers (suite files, `environments.yaml`, `-H`, the request being built).

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::collections::HashMap;
use std::hash::Hash;

/// A header name as HTTP allows it, or why not.
pub fn name(name: &str) -> Result<HeaderName, String> {
    HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("invalid header name {name:?}"))
}

/// A header value as HTTP allows it (no control characters), or why not.
pub fn value(name: &str, value: &str) -> Result<HeaderValue, String> {
    HeaderValue::from_str(value).map_err(|_| format!("invalid value for header {name}"))
}

/// Builds a header map, or says which header is invalid.
pub fn header_map(pairs: &[(String, String)]) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    for (n, v) in pairs {
        map.insert(name(n)?, value(n, v)?);
    }
    Ok(map)
}

/// `items` with every key kept once: a later item replaces an earlier one with the same key and
/// takes its place at the end, so the order is that of the last setting. Linear, since a suite
/// can hold many entries.
pub fn merge_by<T, K: Hash + Eq>(items: impl IntoIterator<Item = T>, key: impl Fn(&T) -> K) -> Vec<T> {
    let mut slots: Vec<Option<T>> = Vec::new();
    let mut slot_of: HashMap<K, usize> = HashMap::new();
    for item in items {
        if let Some(earlier) = slot_of.insert(key(&item), slots.len()) {
            slots[earlier] = None;
        }
        slots.push(Some(item));
    }
    slots.into_iter().flatten().collect()
}

/// Headers merged by name, case-insensitively, the later winning: `Content-Type` replaces an
/// earlier `content-type` (docs/suites.md#requests: environment, `defaults`, check, `-H`).
pub fn merge(pairs: impl IntoIterator<Item = (String, String)>) -> Vec<(String, String)> {
    merge_by(pairs, |(n, _)| n.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_headers_win_whatever_their_case() {
        let merged = merge([
            ("Content-Type".to_string(), "a".to_string()),
            ("x-one".to_string(), "1".to_string()),
            ("content-type".to_string(), "b".to_string()),
        ]);
        assert_eq!(
            merged,
            [
                ("x-one".to_string(), "1".to_string()),
                ("content-type".to_string(), "b".to_string())
            ]
        );
    }

    #[test]
    fn invalid_names_and_values_are_named() {
        assert_eq!(
            name("x api key").unwrap_err(),
            "invalid header name \"x api key\""
        );
        assert!(value("x", "a\nb").unwrap_err().contains("header x"));
        assert!(header_map(&[("ok".into(), "1".into())]).is_ok());
    }
}
