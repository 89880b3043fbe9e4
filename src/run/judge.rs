//! One sample judged: the recorded response against the per-sample assertions, captures taken
//! from a passing one, secrets it revealed registered, and what `-v` shows recorded.

use super::capture::capture;
use crate::assert::{self, SampleExpect};
use crate::contract::certificate::PeerCertificate;
use crate::env::UnauthorizedHint;
use crate::http::{Outcome, Prepared};
use crate::redact::{Redactor, is_secret_header, is_secret_variable};
use crate::report::ExchangeDetail;
use crate::suite::Check;
use serde_json::Value;
use std::collections::HashMap;

/// How much of a body `-v` shows.
const SHOWN_BODY_BYTES: usize = 2048;

/// One judged sample.
pub(crate) struct Sample {
    /// Milliseconds, when a full response came back.
    pub latency_ms: Option<f64>,
    pub status: Option<u16>,
    pub failures: Vec<String>,
    pub captures: Option<HashMap<String, Value>>,
    pub detail: Option<ExchangeDetail>,
    /// The server's leaf certificate, on https: read only for the sample the report shows.
    pub certificate: Option<PeerCertificate>,
    /// The exchange's phases, when a full response came back.
    pub timings: Option<crate::http::Timings>,
}

impl Sample {
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }
}

/// What judging needs besides the exchange itself.
pub(crate) struct Judge<'a> {
    pub check: &'a Check,
    pub expect: &'a SampleExpect,
    pub redactor: &'a Redactor,
    pub hint: Option<UnauthorizedHint>,
    /// Record the exchange for `-v`.
    pub record: bool,
    /// The run's client flags, for the `curl` line of `-v`.
    pub curl_flags: &'a [String],
}

impl Judge<'_> {
    pub fn judge(&self, req: &Prepared, outcome: Outcome) -> Sample {
        let detail = self.record.then(|| {
            let cookie = outcome.cookie.as_deref();
            let curl = super::curl::line(
                req,
                cookie,
                self.check.follow_redirects,
                self.curl_flags,
                self.redactor,
            );
            ExchangeDetail {
                curl: Some(curl),
                ..request_detail(req, cookie)
            }
        });
        let response = match outcome.result {
            Err(why) => {
                return Sample {
                    latency_ms: None,
                    status: None,
                    failures: vec![why],
                    captures: None,
                    detail,
                    certificate: None,
                    timings: None,
                };
            }
            Ok(response) => response,
        };
        // A `set-cookie` the server sends is as secret as one we send (docs/behaviour.md#guarantees).
        for (name, value) in &response.headers {
            if is_secret_header(name.as_str()) {
                self.redactor.add(String::from_utf8_lossy(value.as_bytes()));
            }
        }
        let mut failures = assert::check_sample(self.expect, &response);
        let mut captures = None;
        if failures.is_empty() {
            match capture(self.check, &response) {
                Ok(c) => {
                    for (k, v) in &c {
                        if is_secret_variable(k) {
                            self.redactor.add(crate::vars::value_to_text(v));
                        }
                    }
                    captures = Some(c);
                }
                Err(e) => failures.push(e),
            }
        }
        if !failures.is_empty()
            && let Some(hint) = self
                .hint
                .and_then(|h| h.for_answer(response.status, &req.headers))
        {
            failures.push(hint.to_string());
        }
        let detail = detail.map(|mut d| {
            d.response_status = Some(response.status);
            d.response_headers = crate::http::header_pairs(&response.headers);
            d.response_body = Some(truncate(&response.body, SHOWN_BODY_BYTES));
            d.ttfb_ms = outcome.ttfb.map(|t| t.as_secs_f64() * 1000.0);
            d.timings = Some(response.timings);
            d
        });
        Sample {
            timings: Some(response.timings),
            certificate: response.certificate,
            latency_ms: Some(response.latency.as_secs_f64() * 1000.0),
            status: Some(response.status),
            failures,
            captures,
            detail,
        }
    }
}

/// The request as sent: its headers with the `Cookie` the jar added (docs/behaviour.md#cookies).
fn request_detail(req: &Prepared, from_jar: Option<&str>) -> ExchangeDetail {
    let mut request_headers = crate::http::header_pairs(&req.headers);
    if let Some(jar) = from_jar {
        match request_headers.iter_mut().find(|(n, _)| n == "cookie") {
            Some((_, own)) => *own = format!("{own}; {jar}"),
            None => request_headers.push(("cookie".to_string(), jar.to_string())),
        }
    }
    ExchangeDetail {
        request_headers,
        request_body: req
            .body
            .as_ref()
            .map(|b| truncate(&String::from_utf8_lossy(b), SHOWN_BODY_BYTES)),
        ..ExchangeDetail::default()
    }
}

/// At most `max_bytes` of `text`, cut at a character boundary, saying how long it was.
fn truncate(text: &str, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text.to_string();
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &text[..end], text.len())
}

#[cfg(test)]
mod tests {
    use super::truncate;

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("ééé", 3), "é… (6 bytes in all)");
    }
}
