//! One timed exchange (docs/behaviour.md#phases): the request sent on a connection of the
//! pool, redirects followed by hand, the body read under the cap, the phases taken from the
//! connection's timestamps; decoding and parsing after the clock stopped.

use super::prepared::{Prepared, redirected, request};
use super::{Client, MAX_BODY_BYTES, MAX_REDIRECTS, Timings, decode, error, pool, timing};
use crate::assert::Response;
use http_body_util::BodyExt;
use reqwest::Url;
use reqwest::header::{HeaderMap, LOCATION};
use std::time::{Duration, Instant};

/// What one exchange yielded.
#[derive(Debug)]
pub struct Outcome {
    /// The response, or why there is none.
    pub result: Result<Response, String>,
    /// Time to the first response's headers.
    pub ttfb: Option<Duration>,
    /// The `Cookie` header the jar added to the first request, for `-v`.
    pub cookie: Option<String>,
}

/// A response read whole, before decoding.
struct Raw {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
    /// The connection it came on (its peer certificate is copied after the clock stopped).
    connection: std::sync::Arc<super::connect::Established>,
    timings: Timings,
    /// Where the last redirect led, when one was followed: the URL the answer came from.
    redirected_to: Option<Url>,
}

/// Sends `req` (following redirects when asked), reads the body under the cap, all within
/// `timeout`. The timed span starts here: the caller has already waited for its slot.
pub async fn send(client: &Client, req: &Prepared, timeout: Duration, follow_redirects: bool) -> Outcome {
    let cookie = req.jar.as_deref().and_then(|jar| jar.cookie_header(&req.url));
    let started = Instant::now();
    let mut ttfb = None;
    let exchange = exchange(
        client,
        req,
        cookie.as_deref(),
        follow_redirects,
        started,
        &mut ttfb,
    );
    let result = match tokio::time::timeout(timeout, exchange).await {
        Ok(Ok(raw)) => {
            let latency = started.elapsed();
            // Decoding and parsing happen after the clock stopped: they are our cost, not the server's.
            let Raw {
                status,
                headers,
                body,
                connection,
                mut timings,
                redirected_to,
            } = raw;
            if let Some(jar) = &req.jar {
                jar.store(redirected_to.as_ref().unwrap_or(&req.url), &headers);
            }
            // The body's end is the clock's stop: what ran after the last frame counts in transfer.
            timings.transfer += latency.saturating_sub(timings.total());
            decode::decode(&headers, body).map(|body| Response {
                status,
                headers,
                body: into_text(body),
                latency,
                timings,
                certificate: (connection.peer_certificate.as_ref()).map(|der| {
                    crate::contract::certificate::PeerCertificate {
                        der: der.to_vec(),
                        seen_at: std::time::SystemTime::now(),
                    }
                }),
            })
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Err(format!(
            "timed out after {} (no complete response; raise `timeout` or --timeout)",
            crate::duration::fmt(timeout)
        )),
    };
    Outcome { result, ttfb, cookie }
}

/// `first_cookie` is the jar's `Cookie` for `first`, looked up before the clock started.
async fn exchange(
    client: &Client,
    first: &Prepared,
    first_cookie: Option<&str>,
    follow_redirects: bool,
    started: Instant,
    ttfb: &mut Option<Duration>,
) -> Result<Raw, String> {
    // Redirect hops only: the first request is sent from `first` as it is.
    let mut hop: Option<Prepared> = None;
    let mut hops = 0;
    let mut earlier: Option<Timings> = None;
    loop {
        let current = hop.as_ref().unwrap_or(first);
        check_host(&current.url)?;
        let hop_started = Instant::now();
        let cookie = match hops {
            0 => first_cookie.map(std::borrow::Cow::Borrowed),
            _ => (first.jar.as_ref())
                .and_then(|jar| jar.cookie_header(&current.url))
                .map(std::borrow::Cow::Owned),
        };
        let (lease, response) = client.round_trip(current, cookie.as_deref()).await?;
        let head = Instant::now();
        ttfb.get_or_insert_with(|| head - started);
        let timings = timing::up_to_head(hop_started, &lease.wire.established, lease.reused, head);
        let timings = match earlier {
            Some(before) => before.then(timings),
            None => timings,
        };
        let status = response.status();
        if follow_redirects && status.is_redirection() && response.headers().contains_key(LOCATION) {
            // A cookie set on the way goes with the next hop; the last answer's is stored by
            // `send`, after the clock stopped.
            if let Some(jar) = &first.jar {
                jar.store(&current.url, response.headers());
            }
            hops += 1;
            if hops > MAX_REDIRECTS {
                return Err(format!(
                    "too many redirects (more than {MAX_REDIRECTS}), last to {}",
                    current.url
                ));
            }
            let location = response.headers()[LOCATION].to_str().unwrap_or("").to_string();
            let next = current
                .url
                .join(&location)
                .map_err(|e| format!("redirect to an invalid location {location:?}: {e}"))?;
            hop = Some(redirected(first, current, next, status.as_u16())?);
            // The hop's time until the next request starts counts as its transfer.
            earlier = Some(Timings {
                transfer: timings.transfer + head.elapsed(),
                ..timings
            });
            continue;
        }
        let (parts, body) = response.into_parts();
        let body = read_body(body, &parts.headers).await?;
        let connection = lease.wire.established.clone();
        client.pool.give_back(lease);
        return Ok(Raw {
            status: status.as_u16(),
            connection,
            headers: parts.headers,
            body,
            timings,
            redirected_to: hop.map(|h| h.url),
        });
    }
}

/// The body, up to the cap.
async fn read_body(mut body: hyper::body::Incoming, headers: &HeaderMap) -> Result<Vec<u8>, String> {
    let expected = headers
        .get(reqwest::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut out = Vec::with_capacity(expected.min(MAX_BODY_BYTES));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| error::describe_exchange_body(&e))?;
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        if out.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(format!(
                "response body larger than the {} MiB limit (stopped reading)",
                MAX_BODY_BYTES / (1024 * 1024)
            ));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

impl Client {
    /// Sends `req` on a connection of the pool and waits for the answer's head. A kept
    /// connection that turns out dead under it ([`pool::Failed::retry`]) is replaced by a new
    /// one, once.
    async fn round_trip(
        &self,
        req: &Prepared,
        cookie: Option<&str>,
    ) -> Result<(pool::Lease, hyper::Response<hyper::body::Incoming>), String> {
        let mut fresh = false;
        loop {
            let mut lease = self.pool.checkout(&req.uri, &req.origin, fresh).await?;
            match lease.send(request(req, &lease.wire, cookie)).await {
                Ok(response) => return Ok((lease, response)),
                Err(failed) if failed.retry && !fresh => fresh = true,
                Err(failed) => return Err(failed.message),
            }
        }
    }
}

/// Refuses a host name DNS cannot carry (a label over 63 characters, a name over 253) before a
/// resolver or a proxy is asked anything: such a lookup can only fail, and whether it would leave
/// the machine first is up to the system's resolver.
fn check_host(url: &Url) -> Result<(), String> {
    let Some(name) = url.domain() else {
        return Ok(());
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    if let Some(label) = name.split('.').find(|l| l.len() > 63) {
        return Err(format!(
            "DNS lookup failed: invalid host name: a label of {} characters (DNS allows 63 characters at most); no lookup was made",
            label.len()
        ));
    }
    if name.len() > 253 {
        return Err(format!(
            "DNS lookup failed: invalid host name: {} characters (DNS allows 253 at most); no lookup was made",
            name.len()
        ));
    }
    Ok(())
}

/// The body as text, copied only when it is not valid UTF-8.
fn into_text(body: Vec<u8>) -> String {
    String::from_utf8(body).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_dns_cannot_carry_are_refused_before_any_lookup() {
        let long_label = Url::parse(&format!("http://{}.invalid/", "a".repeat(64))).unwrap();
        let err = check_host(&long_label).unwrap_err();
        assert!(
            err.contains("64 characters") && err.contains("no lookup"),
            "{err}"
        );
        let long_name = Url::parse(&format!("http://{}x/", "abcdefghi.".repeat(26))).unwrap();
        assert!(check_host(&long_name).unwrap_err().contains("253"));
        for ok in [
            format!("http://{}.example/", "a".repeat(63)),
            "http://127.0.0.1:8080/".to_string(),
            "http://[::1]/".to_string(),
            "http://localhost./".to_string(),
        ] {
            assert_eq!(check_host(&Url::parse(&ok).unwrap()), Ok(()), "{ok}");
        }
    }

    #[test]
    fn text_is_copied_only_when_invalid() {
        assert_eq!(into_text(b"ok".to_vec()), "ok");
        assert_eq!(into_text(vec![b'a', 0xff]), "a\u{fffd}");
    }
}
