//! `openapi:` (docs/assertions.md#openapi): an OpenAPI 3.0 or 3.1 document read once per suite,
//! every response schema compiled at load time; each response is then judged against the
//! operation its method and path fit: documented status, documented content type, body schema.

use super::schema::{CompiledSchema, compile, file_url, read_document};
use jsonschema::Draft;
use serde_json::{Map, Value, json};
use std::path::Path;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// A loaded document.
#[derive(Debug)]
pub struct OpenApi {
    operations: Vec<Operation>,
}

#[derive(Debug)]
struct Operation {
    method: String,
    template: String,
    /// `None` for a `{param}` segment.
    segments: Vec<Option<String>>,
    /// Status keys as written (`200`, `2XX`, `default`) and what each documents.
    responses: Vec<(String, Vec<Content>)>,
}

#[derive(Debug)]
struct Content {
    media: String,
    schema: Option<CompiledSchema>,
}

/// A response, as the OpenAPI check needs it.
pub struct Answer<'a> {
    pub status: u16,
    pub content_type: Option<&'a str>,
    pub body: &'a str,
    /// The body parsed once, shared with `expect.schema`.
    pub parsed: &'a super::Parsed,
}

impl Answer<'_> {
    /// The body parsed as JSON (once), or why not.
    pub fn json(&self) -> &Result<Value, String> {
        super::parse_once(self.parsed, self.body)
    }
}

impl OpenApi {
    /// Reads the document at `path` and compiles every response schema in it.
    pub fn load(path: &Path) -> Result<OpenApi, String> {
        let mut doc = read_document(path)?;
        let draft = draft_of(&doc, path)?;
        adapt_schemas(&mut doc, draft == Draft::Draft4);
        let defs_key = if draft == Draft::Draft4 {
            "definitions"
        } else {
            "$defs"
        };
        let compiler = Compiler {
            doc: &doc,
            base: file_url(path)?,
            draft,
            defs_key,
            defs: doc.pointer("/components/schemas").cloned().unwrap_or(json!({})),
        };
        let mut operations = Vec::new();
        for (template, item) in doc.get("paths").and_then(Value::as_object).into_iter().flatten() {
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                let label = format!("{} {template}", method.to_uppercase());
                let op = follow(&doc, op).ok_or_else(|| format!("{label}: $ref does not resolve"))?;
                operations.push(Operation {
                    method: method.to_uppercase(),
                    template: template.clone(),
                    segments: segments(template),
                    responses: compiler.responses(&label, op)?,
                });
            }
        }
        // Literal segments before `{param}` ones, as OpenAPI asks: `/jobs/mine` wins over `/jobs/{id}`.
        operations.sort_by_key(|o| std::cmp::Reverse(o.segments.iter().filter(|s| s.is_some()).count()));
        Ok(OpenApi { operations })
    }

    /// Every failure of `answer` to `method path` (the request path after the base URL's own
    /// path), each starting `openapi: `.
    pub fn check(&self, method: &str, path: &str, answer: &Answer) -> Vec<String> {
        let wanted: Vec<&str> = path.split('/').collect();
        let fits = |o: &&Operation, method: &str| {
            o.method == method
                && o.segments.len() == wanted.len()
                && o.segments.iter().zip(&wanted).all(|(s, w)| match s {
                    Some(lit) => lit == w,
                    None => !w.is_empty(),
                })
        };
        // A HEAD request is judged by its GET operation when no HEAD one is documented.
        let found = self.operations.iter().find(|o| fits(o, method)).or_else(|| {
            (method == "HEAD")
                .then(|| self.operations.iter().find(|o| fits(o, "GET")))
                .flatten()
        });
        let Some(op) = found else {
            return vec![format!("openapi: no operation for {method} {path}")];
        };
        let status = answer.status.to_string();
        let range = format!("{}XX", answer.status / 100);
        let documented = ["exact", "range", "default"].iter().find_map(|kind| {
            op.responses.iter().find(|(k, _)| match *kind {
                "exact" => *k == status,
                "range" => k.eq_ignore_ascii_case(&range),
                _ => k == "default",
            })
        });
        let Some((_, contents)) = documented else {
            return vec![format!(
                "openapi: status {status} is not documented for {} {}",
                op.method, op.template
            )];
        };
        let at = format!("openapi: {} {} → {status}: ", op.method, op.template);
        if contents.is_empty() {
            return Vec::new();
        }
        let Some(ct) = answer.content_type else {
            if answer.body.is_empty() {
                return Vec::new();
            }
            return vec![format!(
                "{at}no content-type, documented: {}",
                media_list(contents)
            )];
        };
        let media = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        let Some(content) = best_match(contents, &media) else {
            return vec![format!(
                "{at}content-type {media} is not documented ({})",
                media_list(contents)
            )];
        };
        let (Some(schema), true, false) = (&content.schema, is_json(&media), method == "HEAD") else {
            return Vec::new();
        };
        match answer.json() {
            Ok(doc) => schema.violations(doc, &at),
            Err(e) => vec![format!("{at}body is not JSON: {e}")],
        }
    }
}

/// 3.0 documents are judged with draft 4 (plus 3.0's own keywords), 3.1 with 2020-12.
fn draft_of(doc: &Value, path: &Path) -> Result<Draft, String> {
    let version = doc.get("openapi").and_then(Value::as_str).unwrap_or("");
    if version.starts_with("3.0") {
        return Ok(Draft::Draft4);
    }
    if version.starts_with("3.1") {
        return Ok(Draft::Draft202012);
    }
    let found = match (doc.get("openapi"), doc.get("swagger")) {
        (Some(v), _) => format!("its `openapi` is {v}"),
        (None, Some(v)) => format!("it is Swagger {v}"),
        (None, None) => "it has no `openapi` field".to_string(),
    };
    Err(format!(
        "{} is not an OpenAPI 3.0 or 3.1 document ({found})",
        path.display()
    ))
}

/// Compiles the response schemas of one document.
struct Compiler<'a> {
    doc: &'a Value,
    base: reqwest::Url,
    draft: Draft,
    /// Where the wrapper schema keeps `components.schemas` (`#/components/schemas/X` refs were
    /// rewritten to point there).
    defs_key: &'static str,
    defs: Value,
}

impl Compiler<'_> {
    /// Every documented status of an operation (`label`: `GET /path`) and its contents.
    fn responses(&self, label: &str, op: &Value) -> Result<Vec<(String, Vec<Content>)>, String> {
        let mut responses = Vec::new();
        for (key, response) in op
            .get("responses")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let response =
                follow(self.doc, response).ok_or_else(|| format!("{label} {key}: $ref does not resolve"))?;
            let mut contents = Vec::new();
            for (media, body) in response
                .get("content")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let schema = match body.get("schema") {
                    Some(s) => Some(
                        self.schema(s)
                            .map_err(|e| format!("{label} → {key} ({media}): {e}"))?,
                    ),
                    None => None,
                };
                contents.push(Content {
                    media: media.to_ascii_lowercase(),
                    schema,
                });
            }
            responses.push((key.clone(), contents));
        }
        Ok(responses)
    }

    fn schema(&self, s: &Value) -> Result<CompiledSchema, String> {
        let wrapped = json!({ self.defs_key: self.defs, "allOf": [s] });
        compile(&wrapped, &self.base, Some(self.draft))
            // Name the document's own pointer, not where the wrapper keeps it.
            .map_err(|e| e.replace(&format!("/{}/", self.defs_key), "/components/schemas/"))
    }
}

fn media_list(contents: &[Content]) -> String {
    contents
        .iter()
        .map(|c| c.media.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The most specific documented media range that covers `media`: exact, `type/*`, `*/*`.
fn best_match<'a>(contents: &'a [Content], media: &str) -> Option<&'a Content> {
    let major = media.split('/').next().unwrap_or("");
    let key = |c: &Content| -> Option<u8> {
        let m = c.media.split(';').next().unwrap_or("").trim();
        if m == media {
            Some(0)
        } else if m.strip_suffix("/*") == Some(major) {
            Some(1)
        } else if m == "*/*" {
            Some(2)
        } else {
            None
        }
    };
    contents
        .iter()
        .filter_map(|c| key(c).map(|k| (k, c)))
        .min_by_key(|(k, _)| *k)
        .map(|(_, c)| c)
}

fn is_json(media: &str) -> bool {
    media == "application/json" || media.ends_with("+json")
}

fn segments(template: &str) -> Vec<Option<String>> {
    template
        .split('/')
        .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_string()))
        .collect()
}

/// A response object, its `$ref` (to `#/components/responses/…`) followed.
fn follow<'a>(doc: &'a Value, v: &'a Value) -> Option<&'a Value> {
    let mut v = v;
    for _ in 0..16 {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => v = doc.pointer(r.strip_prefix('#')?)?,
            None => return Some(v),
        }
    }
    None
}

/// OpenAPI's own schema rules, written as plain JSON Schema for a response: refs to
/// `#/components/schemas/X` point where the wrapper keeps them; 3.0's `nullable: true` admits
/// `null`; a `writeOnly` property must not come back and is not required (`readOnly` ones may).
fn adapt_schemas(v: &mut Value, v30: bool) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref")
                && let Some(name) = r.strip_prefix("#/components/schemas/")
            {
                *r = format!("#/{}/{name}", if v30 { "definitions" } else { "$defs" });
            }
            if v30 && map.get("nullable") == Some(&Value::Bool(true)) {
                admit_null(map);
            }
            write_only(map);
            for child in map.values_mut() {
                adapt_schemas(child, v30);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| adapt_schemas(i, v30)),
        _ => {}
    }
}

fn admit_null(map: &mut Map<String, Value>) {
    match map.get_mut("type") {
        Some(Value::String(t)) => {
            let t = t.clone();
            map.insert("type".into(), json!([t, "null"]));
        }
        Some(_) => {}
        None => {
            if map.contains_key("$ref") || map.contains_key("allOf") || map.contains_key("oneOf") {
                let inner: Map<String, Value> = std::mem::take(map);
                map.insert("anyOf".into(), json!([{"type": "null"}, Value::Object(inner)]));
                return;
            }
        }
    }
    if let Some(Value::Array(values)) = map.get_mut("enum")
        && !values.contains(&Value::Null)
    {
        values.push(Value::Null);
    }
}

fn write_only(map: &mut Map<String, Value>) {
    let Some(Value::Object(props)) = map.get_mut("properties") else {
        return;
    };
    let hidden: Vec<String> = props
        .iter()
        .filter(|(_, p)| p.get("writeOnly") == Some(&Value::Bool(true)))
        .map(|(k, _)| k.clone())
        .collect();
    for name in &hidden {
        props.insert(name.clone(), json!({"not": {}, "description": "writeOnly"}));
    }
    if let Some(Value::Array(required)) = map.get_mut("required") {
        required.retain(|r| r.as_str().is_none_or(|r| !hidden.iter().any(|h| h == r)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<OpenApi, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openapi.yaml");
        std::fs::write(&path, text).unwrap();
        OpenApi::load(&path)
    }

    const DOC: &str = r##"
openapi: 3.0.3
info: { title: t, version: "1" }
paths:
  /jobs/{id}:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Job" }
        4XX: { $ref: "#/components/responses/Error" }
  /jobs/mine:
    get:
      responses:
        "204": { description: none }
components:
  responses:
    Error:
      description: error
      content: { application/json: { schema: { type: object, required: [error] } } }
  schemas:
    Job:
      type: object
      required: [state, secret]
      properties:
        state: { type: string }
        note: { type: string, nullable: true }
        secret: { type: string, writeOnly: true }
"##;

    fn answer(status: u16, ct: &'static str, body: &'static str) -> Answer<'static> {
        Answer {
            status,
            content_type: Some(ct),
            body,
            parsed: Box::leak(Box::default()),
        }
    }

    #[test]
    fn a_3_0_document_judges_status_content_type_and_body() {
        let api = load(DOC).unwrap();
        let ok = answer(
            200,
            "application/json; charset=utf-8",
            r#"{"state":"done","note":null}"#,
        );
        assert_eq!(api.check("GET", "/jobs/7", &ok), Vec::<String>::new());
        let bad = answer(200, "application/json", r#"{"state":5,"secret":"x"}"#);
        let f = api.check("GET", "/jobs/7", &bad);
        assert!(
            f.contains(&r#"openapi: GET /jobs/{id} → 200: $.state: 5 is not of type "string""#.to_string()),
            "{f:?}"
        );
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(
            api.check("GET", "/jobs/7", &answer(503, "application/json", "{}")),
            vec!["openapi: status 503 is not documented for GET /jobs/{id}"]
        );
        assert!(
            api.check(
                "GET",
                "/jobs/7",
                &answer(404, "application/json", r#"{"error":"x"}"#)
            )
            .is_empty()
        );
        assert_eq!(
            api.check("GET", "/jobs/7", &answer(200, "text/plain", "hi")),
            vec![
                "openapi: GET /jobs/{id} → 200: content-type text/plain is not documented (application/json)"
            ]
        );
        assert!(
            api.check("GET", "/jobs/mine", &answer(204, "text/plain", ""))
                .is_empty()
        );
        assert_eq!(
            api.check("DELETE", "/jobs/7", &ok),
            vec!["openapi: no operation for DELETE /jobs/7"]
        );
    }

    #[test]
    fn not_3x_and_broken_refs_are_refused() {
        let e = load("swagger: '2.0'\npaths: {}\n").unwrap_err();
        assert!(
            e.contains("is not an OpenAPI 3.0 or 3.1 document (it is Swagger \"2.0\")"),
            "{e}"
        );
        let broken = DOC.replace("#/components/schemas/Job", "#/components/schemas/Nope");
        assert!(load(&broken).is_err());
    }
}
