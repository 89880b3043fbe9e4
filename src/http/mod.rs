//! The HTTP side of a check: the measuring engine of a run (docs/behaviour.md#the-http-client).
//! This module holds the client and its settings; [`prepared`] a request made ready once per
//! check, [`exchange`] one timed exchange (phases, the body cap, redirects), [`pool`] the run's
//! hyper connections, made by [`connect`]'s connector (lookup, TCP, proxy tunnels, TLS);
//! [`decode`] for compressed bodies, [`error`] for transport failures in words, [`headers`] for
//! header names and merging, [`timing`] for the phases, [`route`] for where a request is dialed
//! (`--resolve`, `--connect-to`) and [`identity`] for the client certificate of mutual TLS.
//! Calls that are not measurements (the Vercel API, `--wait`) use reqwest, built by
//! [`build_api_client`].

mod connect;
mod decode;
pub mod error;
mod exchange;
pub mod headers;
pub mod identity;
mod pool;
mod prepared;
pub mod route;
pub mod timing;

pub use decode::ACCEPT_ENCODING;
pub use exchange::{Outcome, send};
pub use headers::header_map;
pub use prepared::{CookieJar, Prepared};
use reqwest::header::HeaderMap;
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
}
