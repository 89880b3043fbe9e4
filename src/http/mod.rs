//! The HTTP side of a check: the measuring engine of a run (docs/behaviour.md#phases) — one
//! [`pool`] of hyper connections made by [`connect`]'s connector, sending one request and
//! recording its answer (the timed span and its phases, the body cap, redirects) — [`decode`] for compressed
//! bodies, [`error`] for transport failures in words, [`headers`] for header names and merging,
//! [`timing`] for the phases,
//! [`route`] for where a request is dialed (`--resolve`, `--connect-to`) and [`identity`] for
//! the client certificate of mutual TLS. Calls that are not measurements (the Vercel API, `--wait`) use
//! reqwest, built by [`build_api_client`].

mod connect;
mod decode;
pub mod error;
pub mod headers;
pub mod identity;
mod pool;
pub mod route;
pub mod timing;

use crate::assert::Response;
use crate::redact::is_secret_header;
use bytes::Bytes;
pub use decode::ACCEPT_ENCODING;
pub use headers::header_map;
use http::Uri;
use http_body_util::{BodyExt, Full};
use reqwest::header::{
    ACCEPT, HOST, HeaderMap, HeaderName, HeaderValue, LOCATION, PROXY_AUTHORIZATION, USER_AGENT,
};
use reqwest::{Method, Url};
use std::time::{Duration, Instant};
pub use timing::Timings;
use tokio_rustls::rustls::pki_types::{CertificateDer, pem::PemObject};

/// Bodies are read up to this many bytes, before and after decoding (docs/behaviour.md#guarantees).
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// Most redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 10;

/// What every request says it is, unless a check sets its own.
const USER_AGENT_VALUE: &str = concat!("endpoint-check/", env!("CARGO_PKG_VERSION"));

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
    pub fn extra_roots(&self) -> Result<Vec<CertificateDer<'static>>, String> {
        let Some(path) = &self.cacert else {
            return Ok(Vec::new());
        };
        let pem = std::fs::read(path).map_err(|e| format!("--cacert {}: {e}", path.display()))?;
        let certs = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("--cacert {}: not a PEM certificate bundle: {e}", path.display()))?;
        if certs.is_empty() {
            return Err(format!("--cacert {}: no certificate found", path.display()));
        }
        Ok(certs)
    }

    /// The client certificate and key (`--cert`/`--key` or the environment's), read and checked
    /// to fit; none without them (docs/cli.md#where-requests-go).
    pub fn client_identity(&self) -> Result<Option<identity::Identity>, String> {
        self.identity.as_ref().map(identity::Identity::load).transpose()
    }

    /// Every file the clients will read, read and checked once: `--cacert`, `--cert`, `--key`.
    pub fn credentials(&self) -> Result<Credentials, String> {
        Ok(Credentials {
            roots: self.extra_roots()?,
            identity: self.client_identity()?,
        })
    }

    /// A command that sends nothing (`list`) refuses a bad `--cacert`, `--cert` or `--key` as
    /// a run would (exit 2).
    pub fn check_files(&self) -> Result<(), String> {
        self.credentials().map(drop)
    }
}

/// What the files of [`ClientOptions`] hold, read before any request.
pub struct Credentials {
    /// `--cacert`'s certificates, trusted beside the platform's roots.
    pub roots: Vec<CertificateDer<'static>>,
    pub identity: Option<identity::Identity>,
}

/// The run's measuring engine (docs/behaviour.md#guarantees): one pool of connections for
/// every check, HTTP/1.1 and HTTP/2, rustls, proxies from the environment, no automatic
/// redirects (we follow them ourselves, to drop secret headers across origins) and no automatic
/// decompression (we decode under the size cap, and header assertions see what was sent).
#[derive(Clone)]
pub struct Client {
    pool: std::sync::Arc<pool::Pool>,
}

/// Builds the engine; `--cacert` is read now (a bad file exits 2 before any request), the
/// platform's roots on the first `https://` connection.
pub fn build_client(opts: &ClientOptions) -> Result<Client, String> {
    let credentials = opts.credentials()?;
    let proxy = proxy_configured(|name| std::env::var_os(name))
        .then(hyper_util::client::proxy::matcher::Matcher::from_env);
    let connector = connect::Connector::new(opts.clone(), credentials, proxy);
    Ok(Client {
        pool: std::sync::Arc::new(pool::Pool::new(connector, opts.pool_size)),
    })
}

/// The client for calls that are not measurements (the Vercel API, `--wait`): reqwest, with the
/// same trust (`--cacert`, `--insecure`) and proxies.
pub fn build_api_client(opts: &ClientOptions) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT_VALUE)
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true);
    if !proxy_configured(|name| std::env::var_os(name)) {
        builder = builder.no_proxy();
    }
    if opts.insecure {
        builder = builder.danger_accept_invalid_certs(true);
    }
    let Credentials { roots, identity } = opts.credentials()?;
    for cert in roots {
        let cert = reqwest::Certificate::from_der(&cert)
            .map_err(|e| format!("--cacert: {}", error::error_chain(&e)))?;
        builder = builder.add_root_certificate(cert);
    }
    // `--wait` polls the base URL: it goes where the checks go, as whom they go.
    for r in &opts.routes.resolve {
        builder = builder.resolve(&r.host, std::net::SocketAddr::new(r.addr, r.port));
    }
    if let Some(id) = identity {
        let id = reqwest::Identity::from_pem(&id.to_pem())
            .map_err(|e| format!("--cert: {}", error::error_chain(&e)))?;
        builder = builder.identity(id);
    }
    builder
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {}", error::error_chain(&e)))
}

/// Whether any of the proxy variables is set to a non-empty value.
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
    /// `url` as the client takes it, parsed once: whole for HTTP/2 and proxies.
    uri: Uri,
    /// `uri`'s path and query, as HTTP/1.1 sends it to the server itself.
    origin_form: Uri,
    /// Which of the pool's connections can carry it.
    origin: pool::Origin,
    /// The headers the check sends (what `-v` shows, what redirect hops start from).
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
    /// `headers` as they go on the wire, built once: our User-Agent and `Accept: */*` unless the
    /// check set its own, and `Host`, which HTTP/1.1 needs (HTTP/2 sends the URI's authority).
    wire: HeaderMap,
    /// `Host` in `wire` is ours, not the check's: it stays off HTTP/2.
    our_host: bool,
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
        let origin_form = match uri.path_and_query() {
            Some(pq) => Uri::from_maybe_shared(Bytes::copy_from_slice(pq.as_str().as_bytes())),
            None => Uri::from_maybe_shared(Bytes::from_static(b"/")),
        }
        .map_err(|e| format!("invalid URL {:?}: {e}", url.as_str()))?;
        let origin =
            pool::Origin::of(&uri).ok_or_else(|| format!("invalid URL {:?}: no host", url.as_str()))?;
        let mut wire = headers.clone();
        wire.entry(USER_AGENT)
            .or_insert_with(|| HeaderValue::from_static(USER_AGENT_VALUE));
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

/// A response read whole, before decoding.
struct Raw {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
    /// The connection it came on (its peer certificate is copied after the clock stopped).
    connection: Option<std::sync::Arc<connect::Established>>,
    timings: Timings,
    /// Where the last redirect led, when one was followed: the URL the answer came from.
    redirected_to: Option<Url>,
}

/// Sends `req` (following redirects when asked), reads the body under the cap, all within
/// `timeout`. The timed span starts here: the caller has already waited for its slot.
pub async fn send(client: &Client, req: &Prepared, timeout: Duration, follow_redirects: bool) -> Outcome {
    let cookie = req.jar.as_deref().and_then(|jar| jar.cookie_header(&req.url));
    let started = Instant::now();
    let mut ttfb = None;
    let exchange = exchange(
        client,
        req,
        cookie.as_deref(),
        follow_redirects,
        started,
        &mut ttfb,
    );
    let result = match tokio::time::timeout(timeout, exchange).await {
        Ok(Ok(raw)) => {
            let latency = started.elapsed();
            // Decoding and parsing happen after the clock stopped: they are our cost, not the server's.
            let Raw {
                status,
                headers,
                body,
                connection,
                mut timings,
                redirected_to,
            } = raw;
            if let Some(jar) = &req.jar {
                jar.store(redirected_to.as_ref().unwrap_or(&req.url), &headers);
            }
            // The body's end is the clock's stop: what ran after the last frame counts in transfer.
            timings.transfer += latency.saturating_sub(timings.total());
            decode::decode(&headers, body).map(|body| Response {
                status,
                headers,
                body: into_text(body),
                latency,
                timings,
                certificate: connection
                    .as_ref()
                    .and_then(|c| c.peer_certificate.as_ref())
                    .map(|der| crate::contract::certificate::PeerCertificate {
                        der: der.to_vec(),
                        seen_at: std::time::SystemTime::now(),
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

/// `first_cookie` is the jar's `Cookie` for `first`, looked up before the clock started.
async fn exchange(
    client: &Client,
    first: &Prepared,
    first_cookie: Option<&str>,
    follow_redirects: bool,
    started: Instant,
    ttfb: &mut Option<Duration>,
) -> Result<Raw, String> {
    // Redirect hops only: the first request is sent from `first` as it is.
    let mut hop: Option<Prepared> = None;
    let mut hops = 0;
    let mut earlier: Option<Timings> = None;
    loop {
        let current = hop.as_ref().unwrap_or(first);
        check_host(&current.url)?;
        let hop_started = Instant::now();
        let cookie = match hops {
            0 => first_cookie.map(std::borrow::Cow::Borrowed),
            _ => (first.jar.as_ref())
                .and_then(|jar| jar.cookie_header(&current.url))
                .map(std::borrow::Cow::Owned),
        };
        let (lease, response) = client.round_trip(current, cookie.as_deref()).await?;
        let head = Instant::now();
        ttfb.get_or_insert_with(|| head - started);
        let timings = timing::up_to_head(hop_started, Some(&*lease.wire.established), head);
        let timings = match earlier {
            Some(before) => before.then(timings),
            None => timings,
        };
        let status = response.status();
        if follow_redirects && status.is_redirection() && response.headers().contains_key(LOCATION) {
            // A cookie set on the way goes with the next hop; the last answer's is stored by
            // `send`, after the clock stopped.
            if let Some(jar) = &first.jar {
                jar.store(&current.url, response.headers());
            }
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
            hop = Some(redirected(first, current, next, status.as_u16())?);
            // The hop's time until the next request starts counts as its transfer.
            earlier = Some(Timings {
                transfer: timings.transfer + head.elapsed(),
                ..timings
            });
            continue;
        }
        let (parts, body) = response.into_parts();
        let body = read_body(body, &parts.headers).await?;
        let connection = lease.wire.established.clone();
        client.pool.give_back(lease);
        return Ok(Raw {
            status: status.as_u16(),
            connection: Some(connection),
            headers: parts.headers,
            body,
            timings,
            redirected_to: hop.map(|h| h.url),
        });
    }
}

/// The body, up to the cap.
async fn read_body(mut body: hyper::body::Incoming, headers: &HeaderMap) -> Result<Vec<u8>, String> {
    let expected = headers
        .get(reqwest::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut out = Vec::with_capacity(expected.min(MAX_BODY_BYTES));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| error::describe_exchange_body(&e))?;
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        if out.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(format!(
                "response body larger than the {} MiB limit (stopped reading)",
                MAX_BODY_BYTES / (1024 * 1024)
            ));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

impl Client {
    /// Sends `req` on a connection of the pool and waits for the answer's head. A reused
    /// connection that closed before the request left (the server's keep-alive ran out) is
    /// replaced by a new one, once.
    async fn round_trip(
        &self,
        req: &Prepared,
        cookie: Option<&str>,
    ) -> Result<(pool::Lease, hyper::Response<hyper::body::Incoming>), String> {
        let mut fresh = false;
        loop {
            let mut lease = self.pool.checkout(&req.uri, &req.origin, fresh).await?;
            match lease.send(request(req, &lease.wire, cookie)).await {
                Ok(response) => return Ok((lease, response)),
                Err(failed) if failed.retry && !fresh => fresh = true,
                Err(failed) => return Err(failed.message),
            }
        }
    }
}

/// The request hyper sends for `req` on a connection: its wire headers (no `Host` of ours on
/// HTTP/2), the jar's cookies, the URI in the form the connection takes, and a proxy's
/// credentials for plain HTTP through it (a tunnel carries its own).
fn request(req: &Prepared, wire: &pool::Wire, cookie: Option<&str>) -> hyper::Request<Full<Bytes>> {
    let mut headers = req.wire.clone();
    if wire.h2 && req.our_host {
        headers.remove(HOST);
    }
    if let Some(cookie) = cookie {
        add_cookies(&mut headers, cookie);
    }
    let uri = match &wire.proxy {
        Some(auth) => {
            if let Some(auth) = auth
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
fn redirected(first: &Prepared, current: &Prepared, next: Url, status: u16) -> Result<Prepared, String> {
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
    let mut pairs = Vec::with_capacity(headers.len());
    for (n, v) in headers {
        let value = match v.to_str() {
            Ok(text) => text.to_string(),
            Err(_) => String::from_utf8_lossy(v.as_bytes()).into_owned(),
        };
        pairs.push((n.as_str().to_string(), value));
    }
    pairs
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

    #[test]
    fn text_is_copied_only_when_invalid() {
        assert_eq!(into_text(b"ok".to_vec()), "ok");
        assert_eq!(into_text(vec![b'a', 0xff]), "a\u{fffd}");
    }
}
