//! A check's `request`: method, `path` or `url`, query, headers (over `defaults.headers`) and at
//! most one body.

use super::check::SuiteScope;
use super::context::{Ctx, collect_json_strings, path, string_map, yaml_to_json};
use super::{BodyTemplate, RequestTarget, RequestTemplate, TemplateSite};
use crate::yaml::Seg;
use serde::Deserialize;
use serde_yaml::{Mapping, Value};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRequest {
    method: Option<String>,
    path: Option<String>,
    url: Option<String>,
    #[serde(default, deserialize_with = "crate::yaml::lenient::mapping")]
    query: Mapping,
    #[serde(default, deserialize_with = "crate::yaml::lenient::mapping")]
    headers: Mapping,
    #[serde(default, deserialize_with = "crate::yaml::lenient::opt_value")]
    json: Option<Value>,
    body: Option<String>,
    #[serde(default, deserialize_with = "crate::yaml::lenient::opt_mapping")]
    form: Option<Mapping>,
    body_file: Option<String>,
}

/// `at` is the request's path in the file; every string that may hold `${var}` goes to `templates`.
pub(super) fn convert(
    ctx: &mut Ctx,
    at: &[Seg],
    r: &RawRequest,
    scope: &SuiteScope,
    templates: &mut Vec<TemplateSite>,
) -> RequestTemplate {
    let method = method(ctx, at, r);
    let target = target(ctx, at, r, templates);
    let query = string_map(ctx, &path(at, &["query".into()]), &r.query, "query parameter");
    for (k, v) in &query {
        let here = path(at, &["query".into(), Seg::Key(k.clone())]);
        ctx.site(&here, k, templates);
        ctx.site(&here, v, templates);
    }
    let headers = headers(ctx, at, r, scope.headers, templates);
    let body = body(ctx, at, r, scope.dir, templates);
    RequestTemplate {
        method,
        target,
        query,
        headers,
        body,
    }
}

fn method(ctx: &mut Ctx, at: &[Seg], r: &RawRequest) -> String {
    let method = r
        .method
        .clone()
        .unwrap_or_else(|| "GET".to_string())
        .to_ascii_uppercase();
    if method.is_empty()
        || !method
            .bytes()
            .all(|b| b.is_ascii_alphabetic() || b == b'-' || b == b'_')
    {
        ctx.error(
            &path(at, &["method".into()]),
            format!("invalid HTTP method {method:?}"),
        );
    }
    method
}

fn target(ctx: &mut Ctx, at: &[Seg], r: &RawRequest, templates: &mut Vec<TemplateSite>) -> RequestTarget {
    match (&r.path, &r.url) {
        (Some(p), None) => {
            ctx.site(&path(at, &["path".into()]), p, templates);
            RequestTarget::Path(p.clone())
        }
        (None, Some(u)) => {
            ctx.site(&path(at, &["url".into()]), u, templates);
            RequestTarget::Url(u.clone())
        }
        (Some(_), Some(_)) => {
            ctx.error(
                &path(at, &["url".into()]),
                "a request takes `path` or `url`, not both",
            );
            RequestTarget::Path(String::new())
        }
        (None, None) => {
            ctx.error(
                at,
                "a request needs `path` (joined onto the base URL) or `url` (absolute)",
            );
            RequestTarget::Path(String::new())
        }
    }
}

/// The check's headers over the suite's defaults.
fn headers(
    ctx: &mut Ctx,
    at: &[Seg],
    r: &RawRequest,
    default_headers: &[(String, String)],
    templates: &mut Vec<TemplateSite>,
) -> Vec<(String, String)> {
    let own_headers = string_map(ctx, &path(at, &["headers".into()]), &r.headers, "header");
    let headers = crate::http::headers::merge(default_headers.iter().cloned().chain(own_headers));
    for (k, v) in &headers {
        let here = path(at, &["headers".into(), Seg::Key(k.clone())]);
        // A name holding `${var}` is checked once expanded, when the check runs (super::keys).
        if crate::vars::has_variables(k) {
            ctx.site(&here, k, templates);
        } else if let Err(why) = crate::http::headers::name(&crate::vars::literal(k)) {
            ctx.error(&here, why);
        }
        ctx.site(&here, v, templates);
    }
    headers
}

fn body(
    ctx: &mut Ctx,
    at: &[Seg],
    r: &RawRequest,
    suite_dir: &std::path::Path,
    templates: &mut Vec<TemplateSite>,
) -> BodyTemplate {
    let bodies: Vec<&str> = [
        r.json.as_ref().map(|_| "json"),
        r.body.as_ref().map(|_| "body"),
        r.form.as_ref().map(|_| "form"),
        r.body_file.as_ref().map(|_| "body_file"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if bodies.len() > 1 {
        ctx.error(
            &path(at, &[Seg::Key(bodies[1].to_string())]),
            format!(
                "a request takes at most one body, found `{}`",
                bodies.join("` and `")
            ),
        );
        BodyTemplate::None
    } else if let Some(j) = &r.json {
        let here = path(at, &["json".into()]);
        let value = yaml_to_json(ctx, &here, j);
        collect_json_strings(&value, &mut |s| ctx.site(&here, s, templates));
        BodyTemplate::Json(value)
    } else if let Some(b) = &r.body {
        ctx.site(&path(at, &["body".into()]), b, templates);
        BodyTemplate::Text(b.clone())
    } else if let Some(f) = &r.form {
        let form = string_map(ctx, &path(at, &["form".into()]), f, "form field");
        for (k, v) in &form {
            let here = path(at, &["form".into(), Seg::Key(k.clone())]);
            ctx.site(&here, k, templates);
            ctx.site(&here, v, templates);
        }
        BodyTemplate::Form(form)
    } else if let Some(file) = &r.body_file {
        body_file(ctx, at, &suite_dir.join(file))
    } else {
        BodyTemplate::None
    }
}

/// A `body_file`, read now and sent as is, its content type from its extension.
fn body_file(ctx: &mut Ctx, at: &[Seg], full: &std::path::Path) -> BodyTemplate {
    match std::fs::read(full) {
        Ok(bytes) => {
            let content_type = match full.extension().and_then(|e| e.to_str()) {
                Some("json") => "application/json",
                Some("txt") => "text/plain; charset=utf-8",
                Some("xml") => "application/xml",
                _ => "application/octet-stream",
            };
            BodyTemplate::File { bytes, content_type }
        }
        Err(e) => {
            ctx.error(
                &path(at, &["body_file".into()]),
                format!("cannot read body_file {}: {e}", full.display()),
            );
            BodyTemplate::None
        }
    }
}
