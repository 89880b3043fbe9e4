//! A request prepared once per check (docs/behaviour.md#the-http-client): its URI parsed once,
//! its wire headers built once, so each sample only clones them; the request hyper sends on a
//! given connection; and the next hop of a redirect.

use super::pool;
use crate::redact::is_secret_header;
use bytes::Bytes;
use http::Uri;
use http_body_util::Full;
use reqwest::header::{ACCEPT, HOST, HeaderMap, HeaderName, HeaderValue, PROXY_AUTHORIZATION, USER_AGENT};
use reqwest::{Method, Url};

/// A request ready to send, cheap to clone for every sample.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub method: Method,
    pub url: Url,
    /// `url` as the client takes it, parsed once: whole for HTTP/2 and proxies.
    pub(super) uri: Uri,
    /// `uri`'s path and query, as HTTP/1.1 sends it to the server itself.
    pub(super) origin_form: Uri,
    /// Which of the pool's connections can carry it.
    pub(super) origin: pool::Origin,
    /// The headers the check sends (what `-v` shows, what redirect hops start from).
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
    /// `headers` as they go on the wire, built once: our User-Agent and `Accept: */*` unless the
    /// check set its own, and `Host`, which HTTP/1.1 needs (HTTP/2 sends the URI's authority).
    pub(super) wire: HeaderMap,
    /// `Host` in `wire` is ours, not the check's: it stays off HTTP/2.
    pub(super) our_host: bool,
    /// The suite's cookie jar, unless the suite or the check turned cookies off: read before
    /// every hop, filled from every answer, redirects included (docs/behaviour.md#cookies).
    /// The first request's lookup and the last answer's store happen outside the timed span.
    pub jar: Option<std::sync::Arc<dyn CookieJar>>,
}

/// A cookie jar as the exchange uses it; the run keeps one per suite.
pub trait CookieJar: Send + Sync + std::fmt::Debug {
    /// The `Cookie` header value for a request to `url`, when a cookie applies.
    fn cookie_header(&self, url: &Url) -> Option<String>;
    /// Keeps what the `Set-Cookie` headers of an answer from `url` set.
    fn store(&self, url: &Url, headers: &HeaderMap);
}

impl Prepared {
    pub fn new(
        method: Method,
        url: Url,
        headers: HeaderMap,
        body: Option<Bytes>,
    ) -> Result<Prepared, String> {
        let uri = url
            .as_str()
            .parse::<Uri>()
            .map_err(|e| format!("invalid URL {:?}: {e}", url.as_str()))?;
        let origin_form = Uri::from(
            (uri.path_and_query().cloned()).unwrap_or_else(|| http::uri::PathAndQuery::from_static("/")),
        );
        let origin =
            pool::Origin::of(&uri).ok_or_else(|| format!("invalid URL {:?}: no host", url.as_str()))?;
        let mut wire = headers.clone();
        wire.entry(USER_AGENT)
            .or_insert_with(|| HeaderValue::from_static(super::USER_AGENT_VALUE));
        wire.entry(ACCEPT)
            .or_insert_with(|| HeaderValue::from_static("*/*"));
        let our_host = !wire.contains_key(HOST);
        if our_host && let Some(host) = url.host_str() {
            let authority = match url.port() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_string(),
            };
            if let Ok(value) = HeaderValue::from_str(&authority) {
                wire.insert(HOST, value);
            }
        }
        Ok(Prepared {
            method,
            url,
            uri,
            origin_form,
            origin,
            headers,
            body,
            wire,
            our_host,
            jar: None,
        })
    }
}

/// The request hyper sends for `req` on a connection: its wire headers (no `Host` of ours on
/// HTTP/2), the jar's cookies, the URI in the form the connection takes, and a proxy's
/// credentials for plain HTTP through it (a tunnel carries its own).
pub(super) fn request(
    req: &Prepared,
    wire: &pool::Wire,
    cookie: Option<&str>,
) -> hyper::Request<Full<Bytes>> {
    let mut headers = req.wire.clone();
    if wire.h2 && req.our_host {
        headers.remove(HOST);
    }
    if let Some(cookie) = cookie {
        add_cookies(&mut headers, cookie);
    }
    let uri = match &wire.proxy {
        Some(proxied) => {
            if let Some(auth) = &proxied.auth
                && !headers.contains_key(PROXY_AUTHORIZATION)
            {
                headers.insert(PROXY_AUTHORIZATION, auth.clone());
            }
            &req.uri
        }
        None if wire.h2 => &req.uri,
        None => &req.origin_form,
    };
    let body = req.body.clone().map(Full::new).unwrap_or_default();
    let mut request = hyper::Request::new(body);
    *request.method_mut() = req.method.clone();
    *request.uri_mut() = uri.clone();
    *request.headers_mut() = headers;
    request
}

/// Adds `from_jar`, the jar's cookies for the request, after any `Cookie` the check sets
/// itself, in one header as RFC 6265 asks.
fn add_cookies(headers: &mut HeaderMap, from_jar: &str) {
    let value = match headers.get(reqwest::header::COOKIE).and_then(|v| v.to_str().ok()) {
        Some(own) if !own.trim().is_empty() => format!("{own}; {from_jar}"),
        _ => from_jar.to_string(),
    };
    if let Ok(value) = HeaderValue::from_str(&value) {
        headers.insert(reqwest::header::COOKIE, value);
    }
}

/// The request for the next hop. 303 (and 301/302 after anything but GET/HEAD, as browsers do)
/// turns into a body-less GET. Headers come from the first request, not the hop before: a hop to
/// another origin drops every secret header, and a hop back to the first request's origin sends
/// them again, as curl does (docs/behaviour.md#redirects).
pub(super) fn redirected(
    first: &Prepared,
    current: &Prepared,
    next: Url,
    status: u16,
) -> Result<Prepared, String> {
    let to_get = status == 303
        || (matches!(status, 301 | 302) && !matches!(current.method, Method::GET | Method::HEAD));
    let (method, body) = if to_get {
        (Method::GET, None)
    } else {
        (current.method.clone(), current.body.clone())
    };
    let mut headers = first.headers.clone();
    if next.origin() != first.url.origin() {
        let secret: Vec<HeaderName> = headers
            .keys()
            .filter(|n| is_secret_header(n.as_str()))
            .cloned()
            .collect();
        for name in secret {
            headers.remove(&name);
        }
    }
    // Once a hop became a GET, the body's headers stay off every later hop.
    if to_get || method != first.method || (first.body.is_some() && body.is_none()) {
        headers.remove(reqwest::header::CONTENT_TYPE);
        headers.remove(reqwest::header::CONTENT_LENGTH);
    }
    Ok(Prepared {
        jar: first.jar.clone(),
        ..Prepared::new(method, next, headers, body)?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hops_take_their_headers_from_the_first_request() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", "Bearer t".parse().unwrap());
        headers.insert("content-type", "application/json".parse().unwrap());
        headers.insert("x-trace", "1".parse().unwrap());
        let first = Prepared::new(
            Method::POST,
            Url::parse("http://a.test/start").unwrap(),
            headers,
            Some(Bytes::from_static(b"{}")),
        )
        .unwrap();
        let b = Url::parse("http://b.test/x").unwrap();
        let at_b = redirected(&first, &first, b, 307).unwrap();
        assert!(!at_b.headers.contains_key("authorization"));
        assert_eq!(at_b.method, Method::POST);
        assert!(at_b.body.is_some() && at_b.headers.contains_key("content-type"));
        let back = redirected(&first, &at_b, Url::parse("http://a.test/end").unwrap(), 307).unwrap();
        assert_eq!(back.headers["authorization"], "Bearer t");
        assert_eq!(back.headers["x-trace"], "1");
        // A 303 makes a body-less GET; the body's headers stay off every later hop.
        let got = redirected(&first, &first, Url::parse("http://a.test/g").unwrap(), 303).unwrap();
        let later = redirected(&first, &got, Url::parse("http://a.test/h").unwrap(), 307).unwrap();
        for hop in [&got, &later] {
            assert_eq!(hop.method, Method::GET);
            assert!(hop.body.is_none() && !hop.headers.contains_key("content-type"));
            assert!(hop.headers.contains_key("authorization"));
        }
    }
}
