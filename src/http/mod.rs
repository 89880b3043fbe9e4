//! The HTTP side of a check: the one client of a run, sending one request and recording its
//! answer (the timed span, the body cap, redirects), [`decode`] for compressed bodies,
//! [`error`] for transport failures in words, [`headers`] for header names and merging,
//! [`route`] for where a request is dialed (`--resolve`, `--connect-to`) and [`identity`] for
//! the client certificate of mutual TLS.

mod decode;
pub mod error;
pub mod headers;
pub mod identity;
pub mod route;

use crate::assert::Response;
use crate::redact::is_secret_header;
use bytes::Bytes;
pub use decode::ACCEPT_ENCODING;
pub use headers::header_map;
use reqwest::header::{HeaderMap, HeaderName, LOCATION};
use reqwest::{Method, Url};
use std::time::{Duration, Instant};

/// Bodies are read up to this many bytes, before and after decoding (docs/behaviour.md#guarantees).
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// Most redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 10;

/// Client-wide settings from the command line.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    pub insecure: bool,
    pub cacert: Option<std::path::PathBuf>,
    /// Most idle connections kept per host; at least the run's concurrency, so samples reuse them.
    pub pool_size: usize,
    /// `--resolve` and `--connect-to`, the flags' entries before the environment's.
    pub routes: route::Routes,
    /// `--cert`/`--key`, else the environment's `client_cert`/`client_key`.
    pub identity: Option<identity::IdentityFiles>,
}

impl ClientOptions {
    /// The certificates of `--cacert`, or why they cannot be used; none without it. Also how a
    /// command that sends nothing (`list`) refuses a bad `--cacert` as a run would (exit 2).
    pub fn extra_roots(&self) -> Result<Vec<reqwest::Certificate>, String> {
        let Some(path) = &self.cacert else {
            return Ok(Vec::new());
        };
        let pem = std::fs::read(path).map_err(|e| format!("--cacert {}: {e}", path.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("--cacert {}: not a PEM certificate bundle: {e}", path.display()))?;
        if certs.is_empty() {
            return Err(format!("--cacert {}: no certificate found", path.display()));
        }
        Ok(certs)
    }
}

/// The one HTTP client of a run (docs/behaviour.md#guarantees): rustls, proxies from the environment, no automatic
/// redirects (we follow them ourselves, to drop secret headers across origins) and no automatic
/// decompression (we decode under the size cap, and header assertions see what was sent).
pub fn build_client(opts: &ClientOptions) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("endpoint-check/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(opts.pool_size.max(1))
        .tcp_nodelay(true)
        // The peer certificate, for `expect.certificate` (docs/assertions.md#certificate).
        .tls_info(true);
    if !proxy_configured(|name| std::env::var_os(name)) {
        // The same as the environment says (no proxy), without matching every request's host
        // against an empty proxy list.
        builder = builder.no_proxy();
    }
    if opts.insecure {
        builder = builder.danger_accept_invalid_certs(true);
    }
    for cert in opts.extra_roots()? {
        builder = builder.add_root_certificate(cert);
    }
    builder
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {}", error::error_chain(&e)))
}

/// Whether any of the proxy variables reqwest reads is set to a non-empty value.
fn proxy_configured(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> bool {
    [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ]
    .iter()
    .any(|name| var(name).is_some_and(|v| !v.is_empty()))
}

/// A request ready to send, cheap to clone for every sample.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
    /// The suite's cookie jar, unless the suite or the check turned cookies off: read before
    /// every hop, filled from every answer, redirects included (docs/behaviour.md#cookies).
    pub jar: Option<std::sync::Arc<dyn CookieJar>>,
}

/// A cookie jar as the exchange uses it; the run keeps one per suite.
pub trait CookieJar: Send + Sync + std::fmt::Debug {
    /// The `Cookie` header value for a request to `url`, when a cookie applies.
    fn cookie_header(&self, url: &Url) -> Option<String>;
    /// Keeps what the `Set-Cookie` headers of an answer from `url` set.
    fn store(&self, url: &Url, headers: &HeaderMap);
}

/// What one exchange yielded.
#[derive(Debug)]
pub struct Outcome {
    /// The response, or why there is none.
    pub result: Result<Response, String>,
    /// Time to the first response's headers.
    pub ttfb: Option<Duration>,
    /// The `Cookie` header the jar added to the first request, for `-v`.
    pub cookie: Option<String>,
}

/// Sends `req` (following redirects when asked), reads the body under the cap, all within
/// `timeout`. The timed span starts here: the caller has already waited for its slot.
pub async fn send(
    client: &reqwest::Client,
    req: &Prepared,
    timeout: Duration,
    follow_redirects: bool,
) -> Outcome {
    let started = Instant::now();
    let mut ttfb = None;
    let mut cookie = None;
    let exchange = exchange(client, req, follow_redirects, started, (&mut ttfb, &mut cookie));
    let result = match tokio::time::timeout(timeout, exchange).await {
        Ok(Ok((status, headers, raw, tls))) => {
            let latency = started.elapsed();
            // Decoding and parsing happen after the clock stopped: they are our cost, not the server's.
            decode::decode(&headers, raw).map(|body| Response {
                status,
                headers: header_pairs(&headers),
                body: into_text(body),
                latency,
                certificate: tls.as_ref().and_then(|t| t.peer_certificate()).map(|der| {
                    crate::contract::certificate::PeerCertificate {
                        der: der.to_vec(),
                        seen_at: std::time::SystemTime::now(),
                    }
                }),
            })
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Err(format!(
            "timed out after {} (no complete response; raise `timeout` or --timeout)",
            crate::duration::fmt(timeout)
        )),
    };
    Outcome { result, ttfb, cookie }
}

async fn exchange(
    client: &reqwest::Client,
    first: &Prepared,
    follow_redirects: bool,
    started: Instant,
    (ttfb, sent_cookie): (&mut Option<Duration>, &mut Option<String>),
) -> Result<(u16, HeaderMap, Vec<u8>, Option<reqwest::tls::TlsInfo>), String> {
    // Redirect hops only: the first request is sent from `first` as it is.
    let mut hop: Option<Prepared> = None;
    let mut hops = 0;
    loop {
        let current = hop.as_ref().unwrap_or(first);
        check_host(&current.url)?;
        let mut request = reqwest::Request::new(current.method.clone(), current.url.clone());
        *request.headers_mut() = current.headers.clone();
        if let Some(cookie) = with_cookies(request.headers_mut(), first.jar.as_deref(), &current.url)
            && hops == 0
        {
            *sent_cookie = Some(cookie);
        }
        if let Some(body) = &current.body {
            *request.body_mut() = Some(body.clone().into());
        }
        let mut response = client.execute(request).await.map_err(|e| error::describe(&e))?;
        ttfb.get_or_insert_with(|| started.elapsed());
        if let Some(jar) = &first.jar {
            jar.store(&current.url, response.headers());
        }
        let status = response.status();
        if follow_redirects && status.is_redirection() && response.headers().contains_key(LOCATION) {
            hops += 1;
            if hops > MAX_REDIRECTS {
                return Err(format!(
                    "too many redirects (more than {MAX_REDIRECTS}), last to {}",
                    current.url
                ));
            }
            let location = response.headers()[LOCATION].to_str().unwrap_or("").to_string();
            let next = current
                .url
                .join(&location)
                .map_err(|e| format!("redirect to an invalid location {location:?}: {e}"))?;
            hop = Some(redirected(first, current, next, status.as_u16()));
            continue;
        }
        let headers = std::mem::take(response.headers_mut());
        // Moved out, not copied: the copy of the certificate happens after the clock stopped.
        let tls = response.extensions_mut().remove::<reqwest::tls::TlsInfo>();
        let expected = response.content_length().unwrap_or(0) as usize;
        let mut body = Vec::with_capacity(expected.min(MAX_BODY_BYTES));
        while let Some(chunk) = response.chunk().await.map_err(|e| error::describe_body(&e))? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(format!(
                    "response body larger than the {} MiB limit (stopped reading)",
                    MAX_BODY_BYTES / (1024 * 1024)
                ));
            }
            body.extend_from_slice(&chunk);
        }
        return Ok((status.as_u16(), headers, body, tls));
    }
}

/// Adds the jar's cookies for `url` after any `Cookie` the check sets itself, in one header as
/// RFC 6265 asks; returns what the jar added.
fn with_cookies(headers: &mut HeaderMap, jar: Option<&dyn CookieJar>, url: &Url) -> Option<String> {
    let from_jar = jar?.cookie_header(url)?;
    let value = match headers.get(reqwest::header::COOKIE).and_then(|v| v.to_str().ok()) {
        Some(own) if !own.trim().is_empty() => format!("{own}; {from_jar}"),
        _ => from_jar.clone(),
    };
    let value = reqwest::header::HeaderValue::from_str(&value).ok()?;
    headers.insert(reqwest::header::COOKIE, value);
    Some(from_jar)
}

/// The request for the next hop. 303 (and 301/302 after anything but GET/HEAD, as browsers do)
/// turns into a body-less GET. Headers come from the first request, not the hop before: a hop to
/// another origin drops every secret header, and a hop back to the first request's origin sends
/// them again, as curl does (docs/behaviour.md#redirects).
fn redirected(first: &Prepared, current: &Prepared, next: Url, status: u16) -> Prepared {
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
    Prepared {
        method,
        url: next,
        headers,
        body,
        jar: first.jar.clone(),
    }
}

/// Refuses a host name DNS cannot carry (a label over 63 characters, a name over 253) before a
/// resolver or a proxy is asked anything: such a lookup can only fail, and whether it would leave
/// the machine first is up to the system's resolver.
fn check_host(url: &Url) -> Result<(), String> {
    let Some(name) = url.domain() else {
        return Ok(());
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    if let Some(label) = name.split('.').find(|l| l.len() > 63) {
        return Err(format!(
            "DNS lookup failed: invalid host name: a label of {} characters (DNS allows 63 characters at most); no lookup was made",
            label.len()
        ));
    }
    if name.len() > 253 {
        return Err(format!(
            "DNS lookup failed: invalid host name: {} characters (DNS allows 253 at most); no lookup was made",
            name.len()
        ));
    }
    Ok(())
}

/// The body as text, copied only when it is not valid UTF-8.
fn into_text(body: Vec<u8>) -> String {
    String::from_utf8(body).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Headers as text pairs, in the order they came (a value that is not UTF-8 read lossily).
pub fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_dns_cannot_carry_are_refused_before_any_lookup() {
        let long_label = Url::parse(&format!("http://{}.invalid/", "a".repeat(64))).unwrap();
        let err = check_host(&long_label).unwrap_err();
        assert!(
            err.contains("64 characters") && err.contains("no lookup"),
            "{err}"
        );
        let long_name = Url::parse(&format!("http://{}x/", "abcdefghi.".repeat(26))).unwrap();
        assert!(check_host(&long_name).unwrap_err().contains("253"));
        for ok in [
            format!("http://{}.example/", "a".repeat(63)),
            "http://127.0.0.1:8080/".to_string(),
            "http://[::1]/".to_string(),
            "http://localhost./".to_string(),
        ] {
            assert_eq!(check_host(&Url::parse(&ok).unwrap()), Ok(()), "{ok}");
        }
    }

    #[test]
    fn a_proxy_is_configured_only_by_a_non_empty_variable() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| std::ffi::OsString::from(v))
            }
        };
        assert!(!proxy_configured(env(&[])));
        assert!(!proxy_configured(env(&[
            ("NO_PROXY", "127.0.0.1"),
            ("HTTPS_PROXY", "")
        ])));
        assert!(proxy_configured(env(&[("https_proxy", "http://proxy:3128")])));
        assert!(proxy_configured(env(&[("ALL_PROXY", "socks5://proxy")])));
    }

    #[test]
    fn hops_take_their_headers_from_the_first_request() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", "Bearer t".parse().unwrap());
        headers.insert("content-type", "application/json".parse().unwrap());
        headers.insert("x-trace", "1".parse().unwrap());
        let first = Prepared {
            method: Method::POST,
            url: Url::parse("http://a.test/start").unwrap(),
            headers,
            body: Some(Bytes::from_static(b"{}")),
            jar: None,
        };
        let b = Url::parse("http://b.test/x").unwrap();
        let at_b = redirected(&first, &first, b, 307);
        assert!(!at_b.headers.contains_key("authorization"));
        assert_eq!(at_b.method, Method::POST);
        assert!(at_b.body.is_some() && at_b.headers.contains_key("content-type"));
        let back = redirected(&first, &at_b, Url::parse("http://a.test/end").unwrap(), 307);
        assert_eq!(back.headers["authorization"], "Bearer t");
        assert_eq!(back.headers["x-trace"], "1");
        // A 303 makes a body-less GET; the body's headers stay off every later hop.
        let got = redirected(&first, &first, Url::parse("http://a.test/g").unwrap(), 303);
        let later = redirected(&first, &got, Url::parse("http://a.test/h").unwrap(), 307);
        for hop in [&got, &later] {
            assert_eq!(hop.method, Method::GET);
            assert!(hop.body.is_none() && !hop.headers.contains_key("content-type"));
            assert!(hop.headers.contains_key("authorization"));
        }
    }

    #[test]
    fn text_is_copied_only_when_invalid() {
        assert_eq!(into_text(b"ok".to_vec()), "ok");
        assert_eq!(into_text(vec![b'a', 0xff]), "a\u{fffd}");
    }
}
