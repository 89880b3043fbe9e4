//! Building a check's request from its template: every variable expanded, headers merged in the
//! README's order (environment, `defaults`, check, `-H`), the body encoded, secrets registered.

use super::Settings;
use crate::assert::SampleExpect;
use crate::http::{self, Prepared};
use crate::redact::{Redactor, credential_parts, is_secret_header};
use crate::suite::{BodyTemplate, Check, RequestTarget, header_name};
use crate::vars::Scope;
use bytes::Bytes;
use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use serde_json::Value;

/// GET, HEAD and OPTIONS: the methods `--samples` may repeat.
pub(crate) fn is_idempotent(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS")
}

/// Builds the request of a check, with every variable expanded.
pub(crate) fn build(
    check: &Check,
    scope: &Scope,
    settings: &Settings,
    redactor: &Redactor,
) -> Result<Prepared, String> {
    let rq = &check.request;
    let url = url(check, scope, &settings.base_url)?;
    let headers = headers(check, scope, settings, &url)?;
    for (k, v) in &headers {
        if is_secret_header(k) {
            for part in credential_parts(v) {
                redactor.add(part);
            }
        }
    }
    let mut map = http::header_map(&headers)?;
    let (body, content_type) = body(&rq.body, scope)?;
    if let Some(ct) = content_type
        && !map.contains_key(CONTENT_TYPE)
    {
        map.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    let method = reqwest::Method::from_bytes(rq.method.as_bytes())
        .map_err(|_| format!("invalid method {}", rq.method))?;
    Prepared::new(method, url, map, body)
}

/// `path` joined onto the base URL's own path, or `url:` as it is; then the `query` pairs.
fn url(check: &Check, scope: &Scope, base: &str) -> Result<Url, String> {
    let rq = &check.request;
    let raw_url = match &rq.target {
        RequestTarget::Path(p) => {
            let p = scope.expand(p)?;
            if p.is_empty() || p.starts_with('/') || p.starts_with('?') {
                format!("{base}{p}")
            } else {
                format!("{base}/{p}")
            }
        }
        RequestTarget::Url(u) => scope.expand(u)?,
    };
    let mut url = Url::parse(&raw_url).map_err(|e| format!("invalid URL {raw_url:?}: {e}"))?;
    if !rq.query.is_empty() {
        let pairs = rq
            .query
            .iter()
            .map(|(k, v)| Ok((scope.expand(k)?, scope.expand(v)?)))
            .collect::<Result<Vec<_>, String>>()?;
        url.query_pairs_mut().extend_pairs(pairs);
    }
    Ok(url)
}

/// The headers in precedence order, later winning by case-insensitive name.
fn headers(
    check: &Check,
    scope: &Scope,
    settings: &Settings,
    url: &Url,
) -> Result<Vec<(String, String)>, String> {
    // A secret the environment adds (the Vercel bypass secret) goes to the environment's own
    // origin only, never to a check's absolute `url:` elsewhere.
    let base_origin = Url::parse(&settings.base_url).map(|u| u.origin()).ok();
    let same_origin = base_origin.as_ref() == Some(&url.origin());
    let environment = settings
        .environment_headers
        .iter()
        .filter(|(k, _)| same_origin || !is_secret_header(k))
        .cloned();
    let expand = |t: &str| scope.expand(t);
    let own = check
        .request
        .headers
        .iter()
        .map(|(k, v)| Ok((header_name(k, "request header", &expand)?, scope.expand(v)?)))
        .collect::<Result<Vec<_>, String>>()?;
    // Offered first, so any `Accept-Encoding` the environment, the check or `-H` sets wins
    // (docs/behaviour.md, "Compression").
    let offered = std::iter::once(("accept-encoding".to_string(), http::ACCEPT_ENCODING.to_string()));
    Ok(http::headers::merge(
        offered
            .chain(environment)
            .chain(own)
            .chain(settings.checks.headers.iter().cloned()),
    ))
}

/// The encoded body and the content type it implies (a check's own `content-type` wins).
fn body(template: &BodyTemplate, scope: &Scope) -> Result<(Option<Bytes>, Option<&'static str>), String> {
    Ok(match template {
        BodyTemplate::None => (None, None),
        BodyTemplate::Json(v) => {
            let value = scope.expand_json(v)?;
            (
                Some(serde_json::to_vec(&value).map_err(|e| e.to_string())?.into()),
                Some("application/json"),
            )
        }
        BodyTemplate::Text(t) => (
            Some(scope.expand(t)?.into_bytes().into()),
            Some("text/plain; charset=utf-8"),
        ),
        BodyTemplate::Form(fields) => {
            let mut encoder = Url::parse("form:x").map_err(|e| e.to_string())?;
            let pairs = fields
                .iter()
                .map(|(k, v)| Ok((scope.expand(k)?, scope.expand(v)?)))
                .collect::<Result<Vec<_>, String>>()?;
            encoder.query_pairs_mut().extend_pairs(pairs);
            let encoded = encoder.query().unwrap_or("").to_string();
            (
                Some(encoded.into_bytes().into()),
                Some("application/x-www-form-urlencoded"),
            )
        }
        BodyTemplate::File { bytes, content_type } => (Some(bytes.clone().into()), Some(*content_type)),
    })
}

/// The check's per-sample assertions with every variable expanded.
pub(crate) fn expect(
    check: &Check,
    scope: &Scope,
    req: &Prepared,
    base_url: &str,
) -> Result<SampleExpect, String> {
    let e = &check.expect;
    let f = |v: &Value| scope.expand_json(v);
    // Keys holding `${var}` are expanded and checked here (docs/variables.md, "Variables in keys").
    let expand = |t: &str| scope.expand(t);
    Ok(SampleExpect {
        status: e.status.clone(),
        latency: e.latency,
        timings: e.timings.clone(),
        headers: e
            .headers
            .iter()
            .map(|(n, m)| {
                let name = header_name(n, "expect.headers key", &expand)?.to_ascii_lowercase();
                Ok((name, m.expand(&f)?))
            })
            .collect::<Result<_, String>>()?,
        json: e
            .json
            .iter()
            .map(|(k, m)| Ok((k.resolve(&expand)?, m.expand(&f)?)))
            .collect::<Result<_, String>>()?,
        body: e.body.as_ref().map(|m| m.expand(&f)).transpose()?,
        contract: contract(check, &f, req, base_url)?,
    })
}

/// The contract checks of a check, for this request: the OpenAPI operation is looked up by the
/// path after the base URL's own path (docs/assertions.md#openapi).
fn contract(
    check: &Check,
    f: &dyn Fn(&Value) -> Result<Value, String>,
    req: &Prepared,
    base_url: &str,
) -> Result<crate::contract::Contract, String> {
    let e = &check.expect;
    let openapi = e.openapi.as_ref().map(|doc| {
        let base_path = Url::parse(base_url)
            .map(|u| u.path().trim_end_matches('/').to_string())
            .unwrap_or_default();
        let full = req.url.path();
        let path = match full.strip_prefix(&base_path) {
            Some(rest) if rest.starts_with('/') => rest.to_string(),
            _ => full.to_string(),
        };
        (doc.clone(), req.method.as_str().to_string(), path)
    });
    Ok(crate::contract::Contract {
        schema: e.schema.clone(),
        openapi,
        certificate: e
            .certificate
            .iter()
            .map(|(n, m)| Ok((n.clone(), m.expand(f)?)))
            .collect::<Result<_, String>>()?,
        url: req.url.to_string(),
    })
}
