//! Masking a whole report before it is rendered.
//!
//! The redacting writer masks secrets in the bytes a reporter writes, but a reporter escapes text
//! first: a secret holding `&`, `"`, `%`, `:` or `,` is written as `&amp;`, `\"`, `%25`... which the
//! writer no longer recognises. Masking every string of the report first closes that gap; the
//! writer stays as the second line of defence (and catches secrets discovered later).

use crate::redact::Redactor;

use super::{CheckReport, RunReport};

fn m(redactor: &Redactor, s: &str) -> String {
    redactor.mask(s).into_owned()
}

fn mask_pairs(redactor: &Redactor, pairs: &mut [(String, String)]) {
    for (k, v) in pairs.iter_mut() {
        *k = m(redactor, k);
        *v = m(redactor, v);
    }
}

fn mask_opt(redactor: &Redactor, s: &mut Option<String>) {
    if let Some(s) = s.as_mut() {
        *s = m(redactor, s);
    }
}

fn mask_check(redactor: &Redactor, c: &mut CheckReport) {
    c.name = m(redactor, &c.name);
    if let Some(req) = c.request.as_mut() {
        req.method = m(redactor, &req.method);
        req.url = m(redactor, &req.url);
    }
    for f in c.failures.iter_mut() {
        *f = m(redactor, f);
    }
    mask_opt(redactor, &mut c.skip_reason);
    if let Some(d) = c.detail.as_mut() {
        mask_pairs(redactor, &mut d.request_headers);
        mask_pairs(redactor, &mut d.response_headers);
        mask_opt(redactor, &mut d.request_body);
        mask_opt(redactor, &mut d.response_body);
        mask_opt(redactor, &mut d.curl);
    }
}

/// A copy of `report` with every secret in every string replaced by `***`.
pub fn masked(report: &RunReport, redactor: &Redactor) -> RunReport {
    let mut r = report.clone();
    r.title = m(redactor, &r.title);
    r.environment = m(redactor, &r.environment);
    r.base_url = m(redactor, &r.base_url);
    for s in r.suites.iter_mut() {
        s.customer = m(redactor, &s.customer);
        s.title = m(redactor, &s.title);
        s.file = m(redactor, &s.file);
        for c in s.checks.iter_mut() {
            mask_check(redactor, c);
        }
    }
    r
}
