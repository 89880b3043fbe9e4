//! Delivering alerts to `--webhook` URLs (docs/monitor.md#alerts).

/// A usage error unless `url` is an absolute http(s) URL. The message names only its origin:
/// a webhook URL is a secret (a Slack token is in the path).
pub fn check_url(url: &str) -> Result<(), String> {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        Ok(u) => Err(format!(
            "--webhook {}: not an http(s) URL",
            u.origin().ascii_serialization()
        )),
        Err(e) => Err(format!("--webhook: not a URL ({e})")),
    }
}

/// The part of a webhook URL a message may show: its scheme, host and port.
pub fn origin(url: &str) -> String {
    reqwest::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| "webhook".to_string())
}
