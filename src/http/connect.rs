//! Connection establishment for the measuring engine (docs/behaviour.md#phases): the name lookup,
//! TCP, a CONNECT tunnel through a proxy and the TLS handshake, each timestamped where it happens
//! on the monotonic clock. The pool asks this connector for a connection only when it has no
//! idle one, so a connection's [`Established`] record says what setting it up cost.

use super::error::ConnectError;
use super::{ClientOptions, Credentials};
use http::Uri;
use hyper_util::client::proxy::matcher::{Intercept, Matcher};
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::{self, ClientConfig, pki_types};

/// The TLS settings of every check of a run: the platform's roots plus `--cacert` (or no
/// verification with `--insecure`), the client certificate of `--cert`/`--key` (or the
/// environment's) for mutual TLS, HTTP/2 and HTTP/1.1 offered by ALPN. Loading the platform's
/// roots reads the system store, so the connector calls this only for the first `https://`
/// connection of the run.
pub(crate) fn tls_config(opts: &ClientOptions, credentials: &Credentials) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?;
    let verifier: Arc<dyn rustls::client::danger::ServerCertVerifier> = if opts.insecure {
        Arc::new(AnyCertificate(provider))
    } else {
        let roots = credentials.roots.clone();
        Arc::new(
            rustls_platform_verifier::Verifier::new_with_extra_roots(roots, provider)
                .map_err(|e| format!("cannot load the platform's TLS roots: {e}"))?,
        )
    };
    let builder = builder.dangerous().with_custom_certificate_verifier(verifier);
    let mut config = match &credentials.identity {
        Some(id) => builder
            .with_client_auth_cert(id.chain.clone(), id.key.clone_key())
            .map_err(|e| format!("the client certificate cannot be used: {e}"))?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// What setting up one connection took, shared by every response on it.
#[derive(Debug)]
pub(crate) struct Established {
    /// When the name lookup ended; `None` when the host was an IP address.
    pub resolved: Option<Instant>,
    /// When TCP was connected (and a proxy's CONNECT tunnel open).
    pub connected: Instant,
    /// When the TLS handshake ended; `None` on `http://`.
    pub secured: Option<Instant>,
    /// The server's leaf certificate, on `https://`.
    pub peer_certificate: Option<pki_types::CertificateDer<'static>>,
}

/// The connector of the run's one pool of connections.
#[derive(Clone)]
pub(crate) struct Connector {
    shared: Arc<Shared>,
}

struct Shared {
    options: ClientOptions,
    /// Read by [`super::build_client`], before any request.
    credentials: Credentials,
    /// Built on the first `https://` connection (see [`tls_config`]).
    tls: OnceLock<Result<tokio_rustls::TlsConnector, String>>,
    /// `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`; `None` when none is set.
    proxy: Option<Matcher>,
}

impl Connector {
    pub fn new(options: ClientOptions, credentials: Credentials, proxy: Option<Matcher>) -> Connector {
        Connector {
            shared: Arc::new(Shared {
                options,
                credentials,
                tls: OnceLock::new(),
                proxy,
            }),
        }
    }

    /// A new connection to `uri`'s origin (through a proxy when one applies).
    pub async fn connect(&self, uri: &Uri) -> Result<Stream, ConnectError> {
        self.shared.connect(uri).await
    }
}

impl Shared {
    async fn connect(&self, uri: &Uri) -> Result<Stream, ConnectError> {
        let https = uri.scheme_str() == Some("https");
        let host = uri
            .host()
            .ok_or_else(|| ConnectError::other("invalid request", format!("no host in {uri}")))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let proxy = self.proxy.as_ref().and_then(|m| m.intercept(uri));
        // The one place a destination is rewritten (`--resolve`, `--connect-to`); the URL, the
        // `Host` header, SNI and the certificate check keep the URL's host. A proxy gets it all.
        let (dial_host, dial_port) = match &proxy {
            Some(p) => proxy_address(p)?,
            None => {
                let dial = self.options.routes.dial(host, port);
                (dial.host, dial.port)
            }
        };
        let (addrs, resolved) = resolve(&dial_host, dial_port).await?;
        let mut tcp = connect_tcp(&addrs, &dial_host).await?;
        if let Some(p) = &proxy
            && https
        {
            tunnel(&mut tcp, host, port, p).await?;
        }
        let connected = Instant::now();
        let (stream, secured, peer_certificate, h2) = if https {
            let tls = self.tls_connector()?;
            let name = pki_types::ServerName::try_from(host.to_string())
                .map_err(|e| ConnectError::other("TLS failure", format!("{host}: {e}")))?;
            let tls_stream = tls.connect(name, tcp).await.map_err(|e| ConnectError::tls(&e))?;
            let session = tls_stream.get_ref().1;
            let h2 = session.alpn_protocol() == Some(b"h2");
            let leaf = session
                .peer_certificates()
                .and_then(|c| c.first())
                .map(|c| c.clone().into_owned());
            (Inner::Tls(Box::new(tls_stream)), Some(Instant::now()), leaf, h2)
        } else {
            (Inner::Plain(tcp), None, None, false)
        };
        Ok(Stream {
            inner: stream,
            established: Arc::new(Established {
                resolved,
                connected,
                secured,
                peer_certificate,
            }),
            h2,
            // Plain HTTP through a proxy: requests go to it in absolute form.
            proxied: proxy.is_some() && !https,
            proxy_auth: proxy.as_ref().and_then(|p| p.basic_auth().cloned()),
        })
    }

    fn tls_connector(&self) -> Result<tokio_rustls::TlsConnector, ConnectError> {
        self.tls
            .get_or_init(|| tls_config(&self.options, &self.credentials).map(|c| Arc::new(c).into()))
            .clone()
            .map_err(|e| ConnectError::other("TLS failure", e))
    }
}

/// Where a proxy listens; only `http://` proxies are supported (as curl's default).
fn proxy_address(proxy: &Intercept) -> Result<(String, u16), ConnectError> {
    let uri = proxy.uri();
    let unsupported = |why: &str| ConnectError::other("proxy failure", format!("{why}: {uri}"));
    match uri.scheme_str() {
        Some("http") | None => {}
        Some(other) => return Err(unsupported(&format!("{other}:// proxies are not supported"))),
    }
    let host = uri
        .host()
        .ok_or_else(|| unsupported("no host in the proxy URL"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok((host.to_string(), uri.port_u16().unwrap_or(80)))
}

/// The addresses of `host`, and when the lookup ended: none is made for an IP address.
async fn resolve(host: &str, port: u16) -> Result<(Vec<SocketAddr>, Option<Instant>), ConnectError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok((vec![SocketAddr::new(ip, port)], None));
    }
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| ConnectError::other("DNS lookup failed", format!("{host}: {e}")))?
        .collect();
    if addrs.is_empty() {
        return Err(ConnectError::other(
            "DNS lookup failed",
            format!("{host}: no address found"),
        ));
    }
    Ok((addrs, Some(Instant::now())))
}

/// TCP to the first address that accepts, without Nagle's delay.
async fn connect_tcp(addrs: &[SocketAddr], host: &str) -> Result<TcpStream, ConnectError> {
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(tcp) => {
                let _ = tcp.set_nodelay(true);
                return Ok(tcp);
            }
            Err(e) => last = Some((addr, e)),
        }
    }
    let (addr, e) = last.expect("resolve returns at least one address");
    let shown = if host.parse::<IpAddr>().is_ok() {
        addr.to_string()
    } else {
        format!("{host} ({addr})")
    };
    Err(ConnectError::io(&e, format!("tcp connect to {shown}: {e}")))
}

/// Longest proxy answer to CONNECT read before giving up on it.
const MAX_PROXY_HEAD: usize = 16 * 1024;

/// Opens a CONNECT tunnel to `host`:`port` through the proxy `tcp` is connected to.
async fn tunnel(tcp: &mut TcpStream, host: &str, port: u16, proxy: &Intercept) -> Result<(), ConnectError> {
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut head = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(auth) = proxy.basic_auth().and_then(|v| v.to_str().ok()) {
        head.push_str(&format!("Proxy-Authorization: {auth}\r\n"));
    }
    head.push_str("\r\n");
    let broke = |e: std::io::Error| ConnectError::io(&e, format!("proxy CONNECT to {authority}: {e}"));
    tcp.write_all(head.as_bytes()).await.map_err(broke)?;
    // Read byte by byte up to the blank line: nothing of the tunnelled stream may be consumed.
    let mut answer = Vec::with_capacity(128);
    while !answer.ends_with(b"\r\n\r\n") {
        if answer.len() > MAX_PROXY_HEAD {
            return Err(ConnectError::other(
                "proxy failure",
                "answer to CONNECT too long".into(),
            ));
        }
        let byte = tcp.read_u8().await.map_err(broke)?;
        answer.push(byte);
    }
    let status_line =
        String::from_utf8_lossy(answer.split(|&b| b == b'\r').next().unwrap_or(&[])).into_owned();
    let code = status_line.split_whitespace().nth(1).unwrap_or("");
    if code.len() == 3 && code.starts_with('2') {
        Ok(())
    } else {
        Err(ConnectError::other(
            "proxy failure",
            format!("CONNECT {authority} answered {status_line:?}"),
        ))
    }
}

/// A connection to a server: plain TCP or TLS over it.
pub struct Stream {
    inner: Inner,
    established: Arc<Established>,
    h2: bool,
    proxied: bool,
    proxy_auth: Option<http::HeaderValue>,
}

enum Inner {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Stream {
    pub fn established(&self) -> Arc<Established> {
        self.established.clone()
    }

    /// HTTP/2 was agreed by ALPN.
    pub fn h2(&self) -> bool {
        self.h2
    }

    /// Plain HTTP to a proxy, which takes requests in absolute form.
    pub fn proxied(&self) -> bool {
        self.proxied
    }

    /// The proxy's credentials, from its URL, for the requests sent to it.
    pub fn proxy_auth(&self) -> Option<http::HeaderValue> {
        self.proxy_auth.clone()
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match &mut self.get_mut().inner {
            Inner::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Inner::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        match &mut self.get_mut().inner {
            Inner::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Inner::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match &mut self.get_mut().inner {
            Inner::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Inner::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match &self.inner {
            Inner::Plain(s) => s.is_write_vectored(),
            Inner::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match &mut self.get_mut().inner {
            Inner::Plain(s) => Pin::new(s).poll_flush(cx),
            Inner::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match &mut self.get_mut().inner {
            Inner::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Inner::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// `--insecure`: any certificate is accepted; signatures are still those the provider knows.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &pki_types::CertificateDer<'_>,
        _: &[pki_types::CertificateDer<'_>],
        _: &pki_types::ServerName<'_>,
        _: &[u8],
        _: pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &pki_types::CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &pki_types::CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
