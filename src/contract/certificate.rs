//! `expect.certificate` (docs/assertions.md#certificate): the server's leaf certificate of the
//! judged exchange, read with `x509-parser`, asserted on with the usual operators.

use crate::assert::Matcher;
use serde_json::{Value, json};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The fields `expect.certificate` may assert on.
pub const FIELDS: [&str; 5] = ["days_left", "issuer", "subject", "dns_names", "not_after"];

/// The peer certificate as the client saw it, and when.
#[derive(Debug, Clone)]
pub struct PeerCertificate {
    /// DER.
    pub der: Vec<u8>,
    /// When the response came back: `days_left` counts from here.
    pub seen_at: SystemTime,
}

/// The facts of a certificate.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub days_left: i64,
    pub issuer: String,
    pub subject: String,
    pub dns_names: Vec<String>,
    pub not_after: String,
}

impl PeerCertificate {
    /// `notAfter` in Unix seconds, for `endpoint_check_certificate_expiry_timestamp_seconds`.
    pub fn not_after_unix(&self) -> Option<i64> {
        let (_, x509) = x509_parser::parse_x509_certificate(&self.der).ok()?;
        Some(x509.validity().not_after.timestamp())
    }
}

impl Facts {
    pub fn read(cert: &PeerCertificate) -> Result<Facts, String> {
        let (_, x509) = x509_parser::parse_x509_certificate(&cert.der)
            .map_err(|e| format!("the server's certificate cannot be read: {e}"))?;
        let not_after = x509.validity().not_after.timestamp();
        let now = cert
            .seen_at
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs() as i64;
        let dns_names = match x509.subject_alternative_name() {
            Ok(Some(san)) => san
                .value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    x509_parser::extensions::GeneralName::DNSName(d) => Some(d.to_string()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        Ok(Facts {
            days_left: (not_after - now).div_euclid(86_400),
            issuer: rfc4514(x509.issuer()),
            subject: rfc4514(x509.subject()),
            dns_names,
            not_after: rfc3339(not_after),
        })
    }

    fn get(&self, field: &str) -> Value {
        match field {
            "days_left" => json!(self.days_left),
            "issuer" => json!(self.issuer),
            "subject" => json!(self.subject),
            "dns_names" => json!(self.dns_names),
            _ => json!(self.not_after),
        }
    }
}

fn rfc3339(unix: i64) -> String {
    let t = if unix >= 0 {
        UNIX_EPOCH + Duration::from_secs(unix as u64)
    } else {
        UNIX_EPOCH
    };
    humantime::format_rfc3339_seconds(t).to_string()
}

/// A distinguished name as RFC 4514 writes it: most specific first, `,` between, short names
/// for the usual attributes (`CN=R11,O=Let's Encrypt,C=US`).
fn rfc4514(name: &x509_parser::x509::X509Name) -> String {
    let rdns: Vec<String> = name
        .iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| {
                    let oid = atv.attr_type().to_id_string();
                    let key = match oid.as_str() {
                        "2.5.4.3" => "CN",
                        "2.5.4.6" => "C",
                        "2.5.4.7" => "L",
                        "2.5.4.8" => "ST",
                        "2.5.4.9" => "STREET",
                        "2.5.4.10" => "O",
                        "2.5.4.11" => "OU",
                        "0.9.2342.19200300.100.1.25" => "DC",
                        "0.9.2342.19200300.100.1.1" => "UID",
                        _ => oid.as_str(),
                    }
                    .to_string();
                    match atv.as_str() {
                        Ok(v) => format!("{key}={}", escape(v)),
                        Err(_) => {
                            let hex: String = atv.as_slice().iter().map(|b| format!("{b:02x}")).collect();
                            format!("{key}=#{hex}")
                        }
                    }
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for (i, c) in v.chars().enumerate() {
        let edge = (i == 0 && (c == ' ' || c == '#')) || (i + 1 == v.chars().count() && c == ' ');
        if edge || matches!(c, '"' | '+' | ',' | ';' | '<' | '>' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Judges `expect` (field, matcher) on the certificate of a response to `url`.
pub fn check(expect: &[(String, Matcher)], url: &str, cert: Option<&PeerCertificate>) -> Vec<String> {
    if expect.is_empty() {
        return Vec::new();
    }
    let Some(cert) = cert else {
        if url.starts_with("http://") {
            return vec![format!("certificate: no TLS on {url}")];
        }
        return vec![format!(
            "certificate: the TLS connection to {url} gave no peer certificate"
        )];
    };
    let facts = match Facts::read(cert) {
        Ok(f) => f,
        Err(e) => return vec![format!("certificate: {e}")],
    };
    let mut failures = Vec::new();
    for (field, matcher) in expect {
        for line in matcher.check(field, Some(&facts.get(field))) {
            let line = line.replacen(": expected", " expected", 1);
            failures.push(format!("certificate: {line} (expires {})", facts.not_after));
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_escape_as_rfc_4514_asks() {
        assert_eq!(escape("Let's Encrypt"), "Let's Encrypt");
        assert_eq!(escape("a,b+c"), "a\\,b\\+c");
        assert_eq!(escape(" x "), "\\ x\\ ");
    }

    #[test]
    fn plain_http_has_no_certificate() {
        let m = Matcher {
            ops: vec![crate::assert::Op::Ge(json!(14))],
        };
        let f = check(&[("days_left".into(), m)], "http://127.0.0.1:1/x", None);
        assert_eq!(f, vec!["certificate: no TLS on http://127.0.0.1:1/x"]);
    }

    #[test]
    fn times_print_as_rfc_3339() {
        assert_eq!(rfc3339(1_796_464_800), "2026-12-05T10:00:00Z");
    }
}
