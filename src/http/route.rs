//! Where a request is sent (docs/cli.md#where-requests-go): `--resolve HOST:PORT:ADDR` and
//! `--connect-to HOST1:PORT1:HOST2:PORT2`, as curl reads them, and [`Routes::dial`], the one
//! answer to "which host and port does the connector dial for this URL's host and port". The
//! URL, the `Host` header, SNI and the certificate check keep the URL's host whatever is dialed.

use std::fmt;
use std::net::IpAddr;

/// One `--resolve` entry: connect to `addr` for `host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolve {
    /// Lower case, IPv6 without brackets.
    pub host: String,
    pub port: u16,
    pub addr: IpAddr,
}

/// One `--connect-to` entry: what is meant for `from_host:from_port` goes to `to_host:to_port`.
/// `None` on the left matches any host or port; on the right, keeps the request's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectTo {
    pub from_host: Option<String>,
    pub from_port: Option<u16>,
    pub to_host: Option<String>,
    pub to_port: Option<u16>,
}

/// Where the connector connects: an IP address (no lookup) or a name to look up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dial {
    /// A name or an IP address, IPv6 without brackets.
    pub host: String,
    pub port: u16,
}

impl Dial {
    /// The address when `host` is one: then nothing is looked up in DNS.
    pub fn ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }
}

impl fmt::Display for Dial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Every `--resolve` and `--connect-to` entry of a run: the flags' first, then the environment's
/// (`resolve:`/`connect_to:` in `environments.yaml`), so a flag wins over the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routes {
    pub resolve: Vec<Resolve>,
    pub connect_to: Vec<ConnectTo>,
}

impl Routes {
    pub fn is_empty(&self) -> bool {
        self.resolve.is_empty() && self.connect_to.is_empty()
    }

    /// The host and port to dial for a URL's `host` and `port`: the first `--connect-to` that
    /// matches moves the target, then the first `--resolve` for the (possibly moved) host and
    /// port gives its address, as curl does. With no entry matching, the URL's own.
    pub fn dial(&self, host: &str, port: u16) -> Dial {
        let host = normalize_host(host);
        let (host, port) = match self.connect_to.iter().find(|c| c.matches(&host, port)) {
            Some(c) => (c.to_host.clone().unwrap_or(host), c.to_port.unwrap_or(port)),
            None => (host, port),
        };
        match self.resolve.iter().find(|r| r.host == host && r.port == port) {
            Some(r) => Dial {
                host: r.addr.to_string(),
                port,
            },
            None => Dial { host, port },
        }
    }
}

impl ConnectTo {
    fn matches(&self, host: &str, port: u16) -> bool {
        self.from_host.as_deref().is_none_or(|h| h == host) && self.from_port.is_none_or(|p| p == port)
    }
}

/// Host names compare in lower case, IPv6 addresses without their brackets, a trailing dot dropped.
fn normalize_host(host: &str) -> String {
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let host = host.strip_suffix('.').unwrap_or(host);
    host.to_ascii_lowercase()
}

/// Splits `text` at its colons, a `[v6]` part kept whole (its brackets dropped).
fn fields(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        let (field, after) = if let Some(inner) = rest.strip_prefix('[') {
            let end = inner
                .find(']')
                .ok_or_else(|| format!("an IPv6 address is missing its `]` in {text:?}"))?;
            let after = &inner[end + 1..];
            if !after.is_empty() && !after.starts_with(':') {
                return Err(format!("`]` must end a field in {text:?}"));
            }
            (&inner[..end], after.strip_prefix(':'))
        } else {
            match rest.split_once(':') {
                Some((f, a)) => (f, Some(a)),
                None => (rest, None),
            }
        };
        out.push(field.to_string());
        match after {
            Some(a) => rest = a,
            None => return Ok(out),
        }
    }
}

fn port(text: &str, what: &str, entry: &str) -> Result<u16, String> {
    text.parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("{what} {text:?} in {entry:?} is not a port (1-65535)"))
}

impl Resolve {
    /// `HOST:PORT:ADDR`; ADDR is an IPv4 address or an IPv6 one, bracketed or not
    /// (`example.test:443:[::1]`, `example.test:443:::1`).
    pub fn parse(entry: &str) -> Result<Resolve, String> {
        let usage =
            || format!("--resolve {entry:?}: expected HOST:PORT:ADDR, e.g. example.com:443:203.0.113.7");
        let parts = fields(entry).map_err(|e| format!("--resolve: {e}"))?;
        if parts.len() < 3 {
            return Err(usage());
        }
        let host = normalize_host(&parts[0]);
        if host.is_empty() {
            return Err(usage());
        }
        let port = port(&parts[1], "port", entry).map_err(|e| format!("--resolve: {e}"))?;
        // An unbracketed IPv6 address holds colons of its own: the rest of the entry is ADDR.
        let addr_text = parts[2..].join(":");
        if addr_text.contains(',') {
            return Err(format!(
                "--resolve {entry:?}: one address per entry (repeat --resolve for another HOST:PORT)"
            ));
        }
        let addr = addr_text.parse::<IpAddr>().map_err(|_| {
            format!("--resolve {entry:?}: {addr_text:?} is not an IP address (ADDR is not looked up)")
        })?;
        Ok(Resolve { host, port, addr })
    }
}

impl ConnectTo {
    /// `HOST1:PORT1:HOST2:PORT2`; an empty HOST1 or PORT1 matches any, an empty HOST2 or PORT2
    /// keeps the request's own. IPv6 addresses are bracketed (`::443:[::1]:8443`).
    pub fn parse(entry: &str) -> Result<ConnectTo, String> {
        let parts = fields(entry).map_err(|e| format!("--connect-to: {e}"))?;
        if parts.len() != 4 {
            return Err(format!(
                "--connect-to {entry:?}: expected HOST1:PORT1:HOST2:PORT2 (IPv6 in brackets), e.g. example.com:443:127.0.0.1:8443"
            ));
        }
        let host = |t: &str| (!t.is_empty()).then(|| normalize_host(t));
        let port = |t: &str, what: &str| {
            (!t.is_empty())
                .then(|| port(t, what, entry).map_err(|e| format!("--connect-to: {e}")))
                .transpose()
        };
        Ok(ConnectTo {
            from_host: host(&parts[0]),
            from_port: port(&parts[1], "PORT1")?,
            to_host: host(&parts[2]),
            to_port: port(&parts[3], "PORT2")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(resolve: &[&str], connect_to: &[&str]) -> Routes {
        Routes {
            resolve: resolve.iter().map(|r| Resolve::parse(r).unwrap()).collect(),
            connect_to: connect_to.iter().map(|c| ConnectTo::parse(c).unwrap()).collect(),
        }
    }

    fn dial(r: &Routes, host: &str, port: u16) -> String {
        r.dial(host, port).to_string()
    }

    #[test]
    fn resolve_entries_parse_as_curl_writes_them() {
        let r = Resolve::parse("Example.TEST:443:127.0.0.1").unwrap();
        assert_eq!((r.host.as_str(), r.port), ("example.test", 443));
        assert_eq!(r.addr, "127.0.0.1".parse::<IpAddr>().unwrap());
        for v6 in ["example.test:8443:[::1]", "example.test:8443:::1"] {
            assert_eq!(
                Resolve::parse(v6).unwrap().addr,
                "::1".parse::<IpAddr>().unwrap(),
                "{v6}"
            );
        }
        assert_eq!(Resolve::parse("[::1]:80:127.0.0.1").unwrap().host, "::1");
        for bad in [
            "example.test:443",
            "example.test",
            ":443:127.0.0.1",
            "example.test:http:127.0.0.1",
            "example.test:0:127.0.0.1",
            "example.test:443:localhost",
            "example.test:443:127.0.0.1,127.0.0.2",
            "example.test:443:[::1",
        ] {
            let err = Resolve::parse(bad).unwrap_err();
            assert!(err.starts_with("--resolve"), "{bad}: {err}");
        }
        assert!(
            Resolve::parse("example.test:443:localhost")
                .unwrap_err()
                .contains("not an IP address")
        );
    }

    #[test]
    fn connect_to_entries_parse_with_empty_parts() {
        let c = ConnectTo::parse("example.test:443:127.0.0.1:8443").unwrap();
        assert_eq!(c.from_host.as_deref(), Some("example.test"));
        assert_eq!((c.from_port, c.to_port), (Some(443), Some(8443)));
        let any = ConnectTo::parse("::backend.test:").unwrap();
        assert_eq!(any.from_host, None);
        assert_eq!(any.from_port, None);
        assert_eq!(any.to_host.as_deref(), Some("backend.test"));
        assert_eq!(any.to_port, None);
        let v6 = ConnectTo::parse("[2001:db8::1]:443:[::1]:8443").unwrap();
        assert_eq!(v6.from_host.as_deref(), Some("2001:db8::1"));
        assert_eq!(v6.to_host.as_deref(), Some("::1"));
        for bad in ["a:443:b", "a:443:b:c:d", "a:x:b:1", "a:1:b:70000"] {
            assert!(
                ConnectTo::parse(bad).unwrap_err().starts_with("--connect-to"),
                "{bad}"
            );
        }
    }

    #[test]
    fn dial_keeps_the_url_target_when_nothing_matches() {
        let r = Routes::default();
        assert!(r.is_empty());
        assert_eq!(dial(&r, "example.test", 443), "example.test:443");
        assert_eq!(dial(&r, "[::1]", 80), "[::1]:80");
        assert_eq!(r.dial("[::1]", 80).ip(), Some("::1".parse().unwrap()));
        assert_eq!(r.dial("example.test", 443).ip(), None);
    }

    #[test]
    fn resolve_matches_host_and_port_and_gives_an_address() {
        let r = routes(&["example.test:443:127.0.0.1", "v6.test:443:[::1]"], &[]);
        let d = r.dial("EXAMPLE.test.", 443);
        assert_eq!(d.to_string(), "127.0.0.1:443");
        assert_eq!(d.ip(), Some("127.0.0.1".parse().unwrap()));
        assert_eq!(dial(&r, "example.test", 8443), "example.test:8443");
        assert_eq!(dial(&r, "other.test", 443), "other.test:443");
        assert_eq!(dial(&r, "v6.test", 443), "[::1]:443");
    }

    #[test]
    fn connect_to_moves_the_target_first_match_wins() {
        let r = routes(
            &[],
            &[
                "example.test:443:127.0.0.1:8443",
                "example.test::other.test:",
                ":80::8080",
            ],
        );
        assert_eq!(dial(&r, "example.test", 443), "127.0.0.1:8443");
        assert_eq!(dial(&r, "example.test", 444), "other.test:444");
        assert_eq!(dial(&r, "any.test", 80), "any.test:8080");
        assert_eq!(dial(&r, "any.test", 81), "any.test:81");
    }

    #[test]
    fn resolve_applies_to_where_connect_to_sent_the_request() {
        let r = routes(
            &["backend.test:9000:10.0.0.7"],
            &["example.test:443:backend.test:9000"],
        );
        assert_eq!(dial(&r, "example.test", 443), "10.0.0.7:9000");
        // The first entry wins: flags come before the environment's entries.
        let r = routes(&["a.test:1:127.0.0.1", "a.test:1:127.0.0.2"], &[]);
        assert_eq!(dial(&r, "a.test", 1), "127.0.0.1:1");
    }
}
