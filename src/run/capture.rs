//! Captures: values a passing response hands to later checks as `${name}` (docs/suites.md#captures).
//! A capture that matches nothing fails its check.

use crate::assert::Response;
use crate::suite::{CaptureSource, Check};
use serde_json::Value;
use std::collections::HashMap;

/// Captures from a response; an error names the capture that matched nothing.
pub(crate) fn capture(check: &Check, response: &Response) -> Result<HashMap<String, Value>, String> {
    let mut out = HashMap::new();
    if check.captures.is_empty() {
        return Ok(out);
    }
    // Parsed once for all JSONPath captures, and only when there is one.
    let doc = check
        .captures
        .iter()
        .any(|c| matches!(c.source, CaptureSource::Json(_)))
        .then(|| response.json());
    for cap in &check.captures {
        let value = match &cap.source {
            CaptureSource::Json(q) => match &doc {
                Some(Ok(doc)) => q.select(doc),
                Some(Err(why)) => return Err(format!("capture `{}`: {why}", cap.name)),
                None => None,
            },
            CaptureSource::Header(h) => response.header(h).map(|v| Value::String(v.to_string())),
            CaptureSource::Regex(re) => re
                .captures(&response.body)
                .and_then(|c| c.get(1))
                .map(|m| Value::String(m.as_str().to_string())),
        };
        let Some(v) = value else {
            let what = match &cap.source {
                CaptureSource::Json(q) => q.source.clone(),
                CaptureSource::Header(h) => format!("header {h}"),
                CaptureSource::Regex(re) => format!("regex /{}/", re.as_str()),
            };
            return Err(format!("capture `{}`: {what} matched nothing", cap.name));
        };
        out.insert(cap.name.clone(), v);
    }
    Ok(out)
}
