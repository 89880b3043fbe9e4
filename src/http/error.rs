//! Transport failures in words: the cause first (connection refused, DNS, TLS, reset), then the
//! innermost detail, without reqwest's wrapper layers repeating the URL. Used for checks and for
//! every other call the tool makes (the Vercel API, `--wait`).

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
    let lower = chain.to_ascii_lowercase();
    let cause = if lower.contains("connection refused") {
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
