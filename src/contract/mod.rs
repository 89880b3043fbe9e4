//! Contract checks (docs/assertions.md#schema, #openapi, #certificate): what a response must be
//! beyond the assertions a suite spells out. Schemas and OpenAPI documents are read and compiled
//! when the suite loads; judging a response is a pure function of it, outside the timed span.

pub mod certificate;
pub mod openapi;
pub mod schema;
pub mod suite_format;

use crate::assert::Matcher;
use serde_json::Value;

/// A body parsed as JSON at most once per response, or why it is not JSON.
pub type Parsed = std::cell::OnceCell<Result<Value, String>>;

/// The body of `parsed`, parsing `body` the first time.
pub fn parse_once<'a>(parsed: &'a Parsed, body: &str) -> &'a Result<Value, String> {
    parsed.get_or_init(|| serde_json::from_str(body).map_err(|e| e.to_string()))
}

/// The contract part of a check's per-sample assertions ([`crate::assert::SampleExpect`]),
/// variables expanded.
#[derive(Debug, Clone, Default)]
pub struct Contract {
    pub schema: Option<crate::contract::schema::CompiledSchema>,
    /// The document, the request's method and its path after the base URL's own path.
    pub openapi: Option<(std::sync::Arc<crate::contract::openapi::OpenApi>, String, String)>,
    pub certificate: Vec<(String, Matcher)>,
    /// The request's URL, for `certificate: no TLS on …`.
    pub url: String,
}

impl Contract {
    /// Judges `response` against the schema, the OpenAPI operation and the certificate asserts.
    /// `parsed` holds the body parsed as JSON once someone needed it.
    pub fn check(&self, response: &crate::assert::Response, parsed: &Parsed) -> Vec<String> {
        let mut failures = Vec::new();
        let content_type = response.header("content-type");
        let answer = openapi::Answer {
            status: response.status,
            content_type: content_type.as_deref(),
            body: &response.body,
            parsed,
        };
        if let Some(schema) = &self.schema {
            match answer.json() {
                Ok(doc) => failures.extend(schema.violations(doc, "schema: ")),
                Err(e) => failures.push(format!("schema: body is not JSON: {e}")),
            }
        }
        if let Some((doc, method, path)) = &self.openapi {
            failures.extend(doc.check(method, path, &answer));
        }
        failures.extend(crate::contract::certificate::check(
            &self.certificate,
            &self.url,
            response.certificate.as_ref(),
        ));
        failures
    }
}
