//! `--pushgateway URL` (docs/metrics.md#pushgateway): PUT the run's metrics, in the Prometheus
//! text format 0.0.4, to the group `job/endpoint-check/environment/<env>[/region/<region>]`,
//! replacing it. This is not a measurement, so it uses a plain client of its own, not the
//! checks' engine. A failed push is reported by the caller and never changes the exit code.

use super::RunReport;
use crate::redact::Redactor;
use std::time::Duration;

/// How long a push may take, connection included.
const PUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// `name/value`, or `name@base64/…` when the value could not stand in a path segment as is.
fn segment(name: &str, value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'));
    if plain {
        format!("{name}/{value}")
    } else {
        use base64::Engine;
        let encoded = base64::engine::general_purpose::URL_SAFE.encode(value.as_bytes());
        // An empty value is written `=` in the base64 form, as the Pushgateway documents.
        format!(
            "{name}@base64/{}",
            if encoded.is_empty() { "=" } else { &encoded }
        )
    }
}

/// The group's URL under `base`.
pub fn group_url(base: &str, report: &RunReport) -> String {
    let mut url = format!(
        "{}/metrics/job/endpoint-check/{}",
        base.trim_end_matches('/'),
        segment("environment", &report.environment)
    );
    if let Some(region) = &report.origin.region {
        url.push('/');
        url.push_str(&segment("region", region));
    }
    url
}

/// PUTs the report's metrics to the Pushgateway at `base`; the error names the status or the cause.
pub async fn push(report: &RunReport, base: &str, redactor: &Redactor) -> Result<(), String> {
    let url = group_url(base, report);
    let shown = redactor.mask(&url).into_owned();
    let failed = |why: String| format!("pushing metrics to {shown} failed: {why}");
    let body = super::metrics::prometheus_text(report).map_err(|_| failed("encoding failed".into()))?;
    let body = redactor.mask(&body).into_owned();
    let client = reqwest::Client::builder()
        .timeout(PUSH_TIMEOUT)
        .user_agent(concat!("endpoint-check/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| failed(e.to_string()))?;
    let response = client
        .put(&url)
        .header(reqwest::header::CONTENT_TYPE, super::metrics::PROMETHEUS_TEXT)
        .body(body)
        .send()
        .await
        .map_err(|e| failed(crate::http::error::describe(&e)))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let text = response.text().await.unwrap_or_default();
    let text: String = text.trim().chars().take(300).collect();
    let detail = if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    };
    Err(failed(format!("status {status}{detail}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_that_cannot_stand_in_a_path_use_base64() {
        assert_eq!(segment("region", "eu-west"), "region/eu-west");
        assert_eq!(segment("region", "eu/west"), "region@base64/ZXUvd2VzdA==");
        assert_eq!(segment("region", ""), "region@base64/=");
    }
}
