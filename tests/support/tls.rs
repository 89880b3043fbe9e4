//! HTTPS servers with a certificate made for a name (`example.test`), issued by a test CA the
//! binary is told to trust with `--cacert`, optionally asking for a client certificate (mutual
//! TLS). Each records the SNI name, the `Host` header and whether a client certificate came.

use super::server::{RawServer, read_head};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyPair,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::AsyncWriteExt;
use tokio_rustls::rustls::{self, pki_types::PrivateKeyDer};

/// What the server saw of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub sni: Option<String>,
    pub host: Option<String>,
    pub client_certificate: bool,
}

/// A certificate authority of the tests, and what it issues.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    /// Its certificate, PEM (`--cacert`).
    pub pem: String,
}

/// A certificate and its key, PEM.
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
    cert_der: Vec<u8>,
    key_der: Vec<u8>,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().expect("CA key");
        let cert = params.self_signed(&key).expect("CA certificate");
        TestCa {
            pem: pem("CERTIFICATE", cert.der()),
            issuer: Issuer::new(params, key),
        }
    }

    /// A server certificate for `names`.
    pub fn server(&self, names: &[&str]) -> Issued {
        let params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .expect("leaf params");
        self.issue(params)
    }

    /// A client certificate (`CN=name`, extended key usage clientAuth).
    pub fn client(&self, name: &str) -> Issued {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("client params");
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.issue(params)
    }

    fn issue(&self, params: CertificateParams) -> Issued {
        let key = KeyPair::generate().expect("leaf key");
        let cert = params.signed_by(&key, &self.issuer).expect("leaf certificate");
        Issued {
            cert_pem: pem("CERTIFICATE", cert.der()),
            key_pem: pem("PRIVATE KEY", &key.serialize_der()),
            cert_der: cert.der().to_vec(),
            key_der: key.serialize_der(),
        }
    }
}

/// A self-signed server certificate for `names` (its own CA, as `--cacert` may name it).
pub fn self_signed(names: &[&str]) -> Issued {
    let certified =
        rcgen::generate_simple_self_signed(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .expect("self-signed certificate");
    let key_der = certified.signing_key.serialize_der();
    Issued {
        cert_pem: pem("CERTIFICATE", certified.cert.der()),
        key_pem: pem("PRIVATE KEY", &key_der),
        cert_der: certified.cert.der().to_vec(),
        key_der,
    }
}

/// An HTTPS server on 127.0.0.1 answering every request `200 hello` (HTTP/1.1).
pub struct TlsServer {
    pub server: RawServer,
    seen: Arc<Mutex<Vec<Seen>>>,
    connections: Arc<AtomicUsize>,
}

impl TlsServer {
    /// Serves with `cert`; with `client_ca`, only to clients presenting a certificate it issued.
    pub fn start(cert: &Issued, client_ca: Option<&TestCa>) -> TlsServer {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("TLS versions");
        let builder = match client_ca {
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                let der = rustls::pki_types::CertificateDer::from(pem_der(&ca.pem));
                roots.add(der).expect("client CA");
                let verifier =
                    rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                        .build()
                        .expect("client verifier");
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let mut config = builder
            .with_single_cert(
                vec![cert.cert_der.clone().into()],
                PrivateKeyDer::Pkcs8(cert.key_der.clone().into()),
            )
            .expect("TLS server config");
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let connections = Arc::new(AtomicUsize::new(0));
        let count = connections.clone();
        let server = RawServer::start(move |s| {
            let (acceptor, record) = (acceptor.clone(), record.clone());
            count.fetch_add(1, Ordering::SeqCst);
            async move {
                let Ok(mut tls) = acceptor.accept(s).await else {
                    return;
                };
                let head = read_head(&mut tls).await;
                let (_, session) = tls.get_ref();
                let head = String::from_utf8_lossy(&head).into_owned();
                let host = head.lines().find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("host")
                        .then(|| value.trim().to_string())
                });
                record.lock().unwrap().push(Seen {
                    sni: session.server_name().map(str::to_string),
                    host,
                    client_certificate: session.peer_certificates().is_some_and(|c| !c.is_empty()),
                });
                let _ = tls
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
                    .await;
                let _ = tls.shutdown().await;
            }
        });
        TlsServer {
            server,
            seen,
            connections,
        }
    }

    /// TCP connections accepted so far, handshakes or not.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// Every request answered so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// DER as PEM.
pub fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("ASCII"))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// The DER of a one-block PEM.
fn pem_der(text: &str) -> Vec<u8> {
    use base64::Engine;
    let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("PEM base64")
}
