//! The client certificate of mutual TLS (docs/cli.md#where-requests-go): `--cert`/`--key`, or an
//! environment's `client_cert`/`client_key`, read from PEM and checked before any request is sent:
//! a missing or unreadable file, a file with no certificate or key, or a key that does not fit the
//! certificate is a usage error (exit 2).

use std::path::{Path, PathBuf};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Where a client certificate and its key are read from, and how to name them in a message
/// (`--cert`, `environments.staging.client_cert`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityFiles {
    pub cert: PathBuf,
    pub cert_from: String,
    /// `None`: the key is in the certificate's file, as curl allows.
    pub key: Option<PathBuf>,
    pub key_from: String,
}

/// A client certificate chain and the private key that fits its first certificate.
pub struct Identity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Identity {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key, not even in a debug dump.
        write!(f, "Identity({} certificates, a private key)", self.chain.len())
    }
}

impl Identity {
    /// Reads and checks the certificate chain and its key.
    pub fn load(files: &IdentityFiles) -> Result<Identity, String> {
        let cert_label = format!("{} {}", files.cert_from, files.cert.display());
        let cert_pem = read(&files.cert, &cert_label)?;
        let (key_pem, key_label) = match &files.key {
            Some(path) => {
                let label = format!("{} {}", files.key_from, path.display());
                (read(path, &label)?, label)
            }
            None => (
                cert_pem.clone(),
                format!("{cert_label} (no {} given)", files.key_from),
            ),
        };
        Self::from_pem(&cert_pem, &cert_label, &key_pem, &key_label)
    }

    /// The certificates of `cert_pem` and the key of `key_pem`, checked to fit each other.
    pub fn from_pem(
        cert_pem: &[u8],
        cert_label: &str,
        key_pem: &[u8],
        key_label: &str,
    ) -> Result<Identity, String> {
        let chain = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("{cert_label}: not a PEM certificate file: {e}"))?;
        if chain.is_empty() {
            return Err(format!(
                "{cert_label}: no certificate found (expected a PEM `-----BEGIN CERTIFICATE-----` block)"
            ));
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| match e {
            rustls::pki_types::pem::Error::NoItemsFound => format!(
                "{key_label}: no private key found (expected a PEM `-----BEGIN PRIVATE KEY-----`, `RSA PRIVATE KEY` or `EC PRIVATE KEY` block)"
            ),
            e => format!("{key_label}: not a PEM private key: {e}"),
        })?;
        let identity = Identity { chain, key };
        identity.check_fit(cert_label, key_label)?;
        Ok(identity)
    }

    /// The key must be the private half of the first certificate's public key; else every
    /// handshake would fail with a server's terse alert, long after the run started.
    fn check_fit(&self, cert_label: &str, key_label: &str) -> Result<(), String> {
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let signing = provider
            .key_provider
            .load_private_key(self.key.clone_key())
            .map_err(|e| format!("{key_label}: the private key cannot be used: {e}"))?;
        let certified = rustls::sign::CertifiedKey::new(self.chain.clone(), signing);
        match certified.keys_match() {
            Ok(()) => Ok(()),
            Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => Err(format!(
                "{key_label}: the private key does not fit the certificate of {cert_label}"
            )),
            Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => Err(format!(
                "{key_label}: cannot tell whether the private key fits the certificate of {cert_label}"
            )),
            Err(e) => Err(format!("{cert_label}: the certificate cannot be used: {e}")),
        }
    }

    /// The chain and key as one PEM text, for a client that takes them so.
    pub fn to_pem(&self) -> Vec<u8> {
        let mut pem = String::new();
        for cert in &self.chain {
            pem.push_str(&pem_block("CERTIFICATE", cert.as_ref()));
        }
        let label = match &self.key {
            PrivateKeyDer::Pkcs1(_) => "RSA PRIVATE KEY",
            PrivateKeyDer::Sec1(_) => "EC PRIVATE KEY",
            _ => "PRIVATE KEY",
        };
        pem.push_str(&pem_block(label, self.key.secret_der()));
        pem.into_bytes()
    }
}

fn pem_block(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn read(path: &Path, label: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{label}: cannot read: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["client.test".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        (
            pem_block("CERTIFICATE", cert.der()),
            pem_block("PRIVATE KEY", &key.serialize_der()),
        )
    }

    #[test]
    fn a_key_that_fits_its_certificate_loads() {
        let (cert, key) = pair();
        let id = Identity::from_pem(cert.as_bytes(), "--cert c.pem", key.as_bytes(), "--key k.pem").unwrap();
        assert_eq!(id.chain.len(), 1);
        assert!(format!("{id:?}").contains("1 certificates"));
        // Both in one file, as curl allows.
        let both = format!("{cert}{key}");
        Identity::from_pem(both.as_bytes(), "c", both.as_bytes(), "k").unwrap();
        // What `to_pem` writes reads back.
        let again = id.to_pem();
        Identity::from_pem(&again, "c", &again, "k").unwrap();
    }

    #[test]
    fn a_key_of_another_certificate_is_refused() {
        let (cert, _) = pair();
        let (_, other_key) = pair();
        let err = Identity::from_pem(
            cert.as_bytes(),
            "--cert c.pem",
            other_key.as_bytes(),
            "--key k.pem",
        )
        .unwrap_err();
        assert!(err.contains("does not fit the certificate"), "{err}");
        assert!(err.starts_with("--key k.pem"), "{err}");
    }

    #[test]
    fn missing_or_wrong_files_say_what_is_wrong() {
        let (cert, key) = pair();
        let err = Identity::from_pem(b"hello", "--cert c.pem", key.as_bytes(), "--key k.pem").unwrap_err();
        assert!(err.contains("no certificate found"), "{err}");
        let err = Identity::from_pem(cert.as_bytes(), "--cert c.pem", b"nothing", "--key k.pem").unwrap_err();
        assert!(err.contains("no private key found"), "{err}");
        let files = IdentityFiles {
            cert: PathBuf::from("/nonexistent/client.pem"),
            cert_from: "--cert".into(),
            key: None,
            key_from: "--key".into(),
        };
        let err = Identity::load(&files).unwrap_err();
        assert!(
            err.starts_with("--cert /nonexistent/client.pem: cannot read"),
            "{err}"
        );
    }
}
