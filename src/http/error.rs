//! Transport failures in words: the cause first (connection refused, DNS, TLS, reset), then the
//! innermost detail, without the client's wrapper layers repeating the URL. [`describe_exchange`]
//! for checks (the measuring engine), [`describe`] for every other call the tool makes (the
//! Vercel API, `--wait`).

/// A connection that could not be set up, already in words: the cause, then the detail.
#[derive(Debug)]
pub struct ConnectError {
    cause: &'static str,
    detail: String,
}

impl ConnectError {
    pub(crate) fn other(cause: &'static str, detail: String) -> ConnectError {
        ConnectError { cause, detail }
    }

    /// A socket error, named by its kind.
    pub(crate) fn io(e: &std::io::Error, detail: String) -> ConnectError {
        let cause = match e.kind() {
            std::io::ErrorKind::ConnectionRefused => "connection refused",
            std::io::ErrorKind::ConnectionReset => "connection reset",
            _ => "connection failed",
        };
        ConnectError { cause, detail }
    }

    /// A failed handshake (rustls' error comes wrapped in an I/O error).
    pub(crate) fn tls(e: &std::io::Error) -> ConnectError {
        let detail = match e.get_ref() {
            Some(inner) => inner.to_string(),
            None => e.to_string(),
        };
        ConnectError {
            cause: "TLS failure",
            detail: with_certificate_hint(detail),
        }
    }
}

/// A server's `CertificateRequired` alert says what to do about it (docs/cli.md#where-requests-go).
fn with_certificate_hint(detail: String) -> String {
    if detail.contains("CertificateRequired") {
        format!(
            "{detail} (the server asks for a client certificate: pass --cert and --key, or set client_cert in environments.yaml)"
        )
    } else {
        detail
    }
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.cause, self.detail)
    }
}

impl std::error::Error for ConnectError {}

/// A failed exchange of the measuring engine, named as [`describe`] names reqwest's.
pub fn describe_exchange(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut layers: Vec<String> = Vec::new();
    while let Some(err) = cur {
        if let Some(connect) = err.downcast_ref::<ConnectError>() {
            return connect.to_string();
        }
        layers.push(err.to_string());
        cur = err.source();
    }
    let chain = layers.join(": ");
    let cause = classify(&chain.to_ascii_lowercase()).unwrap_or("request failed");
    // An outer layer such as `client error (SendRequest)` says nothing of the cause.
    let inner: Vec<&String> = layers
        .iter()
        .filter(|l| !(l.starts_with("client error (") && l.ends_with(')')))
        .collect();
    let detail = match inner.as_slice() {
        [] => chain.clone(),
        [only] => (*only).clone(),
        [.., outer, last] if outer.contains(last.as_str()) => (*outer).clone(),
        [.., outer, last] => format!("{outer}: {last}"),
    };
    // Under TLS 1.3 the alert comes with the first read, after the handshake.
    format!("{cause}: {}", with_certificate_hint(detail))
}

/// A failure while the engine read a body, after the status line.
pub fn describe_exchange_body(e: &(dyn std::error::Error + 'static)) -> String {
    let chain = error_chain(e);
    if chain.to_ascii_lowercase().contains("reset") {
        format!("connection reset while reading the body: {chain}")
    } else {
        format!("connection broke while reading the body: {chain}")
    }
}

/// The cause an error chain's text names, if any.
fn classify(lower: &str) -> Option<&'static str> {
    Some(if lower.contains("connection refused") {
        "connection refused"
    } else if lower.contains("dns error")
        || lower.contains("failed to lookup")
        || lower.contains("name or service not known")
    {
        "DNS lookup failed"
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        "TLS failure"
    } else if lower.contains("reset") {
        "connection reset"
    } else if lower.contains(" parsed") || lower.contains("message head is too large") {
        // hyper: `invalid HTTP version parsed`, `invalid HTTP status-code parsed`, …
        "invalid HTTP response"
    } else {
        return None;
    })
}

/// Every message in an error's source chain, without repeats.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = cur {
        let text = err.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = err.source();
    }
    parts.join(": ")
}

/// Names the cause first (connection refused, DNS, TLS, reset), then the details.
/// A reqwest timeout (the Vercel API's, `--wait`'s) is just "timed out": the caller says of what.
pub fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    let chain = error_chain(e);
    let cause = if let Some(cause) = classify(&chain.to_ascii_lowercase()) {
        cause
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_builder() {
        "invalid request"
    } else {
        "request failed"
    };
    format!("{cause}: {}", innermost(e))
}

/// A failure after the status line: the body broke off.
pub fn describe_body(e: &reqwest::Error) -> String {
    let chain = error_chain(e);
    if chain.to_ascii_lowercase().contains("reset") {
        format!("connection reset while reading the body: {}", innermost(e))
    } else {
        format!("connection broke while reading the body: {}", innermost(e))
    }
}

/// The deepest causes of an error: reqwest's outer layers (`error sending request for url (…)`,
/// `client error (Connect)`) repeat the URL shown elsewhere and say nothing of the cause.
fn innermost(e: &reqwest::Error) -> String {
    let mut layers: Vec<String> = Vec::new();
    let mut cur: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = cur {
        layers.push(err.to_string());
        cur = err.source();
    }
    let wrapper = |l: &String| {
        l.starts_with("error sending request")
            || l.starts_with("error reading a body")
            || (l.starts_with("client error (") && l.ends_with(')'))
    };
    let deepest: Vec<&String> = layers.iter().skip(1).filter(|l| !wrapper(l)).collect();
    match deepest.as_slice() {
        [] => layers.first().cloned().unwrap_or_default(),
        [only] => (*only).clone(),
        [.., outer, inner] if outer.contains(inner.as_str()) => (*outer).clone(),
        [.., outer, inner] => format!("{outer}: {inner}"),
    }
}
