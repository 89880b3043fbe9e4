//! A suite's cookie jar (docs/behaviour.md#cookies): what a response sets, the later checks of
//! the same suite send, as a browser would (RFC 6265 domain, path, `Secure`, expiry rules, kept by
//! the `cookie_store` crate); never another suite. Every cookie value is a secret (section 5).

use crate::http::CookieJar;
use crate::redact::Redactor;
use cookie_store::{CookieStore, RawCookie};
use reqwest::Url;
use reqwest::header::{HeaderMap, SET_COOKIE};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// A bare cookie value shorter than this is not masked on its own (`consent=1`: masking every
/// `1` would garble every report); its `name=value` form and the headers carrying it still are.
const SHORTEST_MASKED_VALUE: usize = 4;

/// One suite's cookies, shared by its checks (and their samples) for one run.
pub struct Jar {
    store: Mutex<CookieStore>,
    /// No answer has set a cookie yet: most suites' every request, looked up without the lock.
    empty: AtomicBool,
    redactor: Redactor,
}

impl std::fmt::Debug for Jar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the values.
        let n = self.lock().iter_unexpired().count();
        write!(f, "Jar({n} cookies)")
    }
}

impl Jar {
    /// An empty jar; every cookie it takes is registered with `redactor` as a secret.
    pub fn new(redactor: Redactor) -> Jar {
        Jar {
            store: Mutex::new(CookieStore::default()),
            empty: AtomicBool::new(true),
            redactor,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CookieStore> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Masks a cookie as it can show: `name=value`, and the value alone unless it is too short
    /// or a JSON word a report is made of. A value holding a secret already known (a token the
    /// server echoes into a cookie) is left to that secret's mask, so the text around it, which
    /// is the server's, still reads as it did (`?token=***`).
    fn register(&self, name: &str, value: &str) {
        if value.is_empty() || self.redactor.mask(value) != value {
            return;
        }
        self.redactor.add(format!("{name}={value}"));
        if value.len() >= SHORTEST_MASKED_VALUE && !matches!(value, "true" | "false" | "null") {
            self.redactor.add(value);
        }
    }
}

impl CookieJar for Jar {
    fn cookie_header(&self, url: &Url) -> Option<String> {
        if self.empty.load(Ordering::Acquire) {
            return None;
        }
        let store = self.lock();
        let pairs: Vec<String> = store
            .get_request_values(url)
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        drop(store);
        if pairs.is_empty() {
            return None;
        }
        let header = pairs.join("; ");
        self.redactor.add(&header);
        Some(header)
    }

    fn store(&self, url: &Url, headers: &HeaderMap) {
        let mut cookies = Vec::new();
        for value in headers.get_all(SET_COOKIE) {
            let Ok(text) = value.to_str() else {
                continue;
            };
            // Masked even when the store refuses it (another domain, say): it was sent to us.
            self.redactor.add(text);
            if let Ok(cookie) = RawCookie::parse(text.to_string()) {
                self.register(cookie.name(), cookie.value());
                cookies.push(cookie);
            }
        }
        if !cookies.is_empty() {
            self.lock().store_response_cookies(cookies.into_iter(), url);
            self.empty.store(false, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(set_cookies: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for c in set_cookies {
            h.append(SET_COOKIE, c.parse().unwrap());
        }
        h
    }

    fn url(u: &str) -> Url {
        Url::parse(u).unwrap()
    }

    #[test]
    fn a_cookie_goes_back_to_its_host_and_path_only() {
        let redactor = Redactor::new();
        let jar = Jar::new(redactor.clone());
        let login = url("http://127.0.0.1:8080/login");
        assert_eq!(jar.cookie_header(&login), None);
        jar.store(
            &login,
            &answer(&["sid=s3ss10n-abc; Path=/; HttpOnly", "pref=1; Path=/app"]),
        );
        assert_eq!(
            jar.cookie_header(&url("http://127.0.0.1:8080/me")).as_deref(),
            Some("sid=s3ss10n-abc")
        );
        let app = jar.cookie_header(&url("http://127.0.0.1:8080/app/x")).unwrap();
        assert!(app.contains("sid=s3ss10n-abc") && app.contains("pref=1"), "{app}");
        // Another host, even on the same address, is another site.
        assert_eq!(jar.cookie_header(&url("http://localhost:8080/me")), None);
        // Every form of the value is a secret; a one-character value only as `name=value`.
        assert_eq!(redactor.mask("token s3ss10n-abc, pref=1, 1"), "token ***, ***, 1");
        assert!(!format!("{jar:?}").contains("s3ss10n"));
    }

    #[test]
    fn a_value_holding_a_known_secret_is_left_to_that_secret() {
        let redactor = Redactor::new();
        redactor.add("tok-s3cr3t");
        let jar = Jar::new(redactor.clone());
        jar.store(&url("http://127.0.0.1/"), &answer(&["echo=token=tok-s3cr3t"]));
        assert_eq!(redactor.mask("/echo?token=tok-s3cr3t"), "/echo?token=***");
    }

    #[test]
    fn secure_domain_and_expiry_rules_hold() {
        let jar = Jar::new(Redactor::new());
        let https = url("https://api.example.test/");
        jar.store(
            &https,
            &answer(&[
                "s=1; Secure",
                "wide=2; Domain=example.test",
                "elsewhere=3; Domain=other.test",
            ]),
        );
        let sub = jar.cookie_header(&url("https://www.example.test/")).unwrap();
        assert_eq!(sub, "wide=2");
        let plain = jar.cookie_header(&url("http://api.example.test/")).unwrap();
        assert!(!plain.contains("s=1"), "a Secure cookie went over http: {plain}");
        assert_eq!(jar.cookie_header(&url("https://other.test/")), None);
        // Expiring it removes it.
        jar.store(&https, &answer(&["wide=; Domain=example.test; Max-Age=0"]));
        assert_eq!(jar.cookie_header(&url("https://www.example.test/")), None);
    }
}
