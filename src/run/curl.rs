//! The `curl` command line `-v` prints under each shown exchange (docs/cli.md#verbose-output):
//! method, URL, headers and body as sent, plus the run's `--resolve`, `--connect-to`, `--cert`,
//! `--key`, `--cacert` and `--insecure`, so it can be pasted into a shell. Every argument is in
//! double quotes; a secret that came from an environment variable is written as that variable
//! (`-H "x-api-key: $AUDIO1_API_KEY"`), any other secret as `***` ([`Redactor::for_shell`]).

use crate::http::{ACCEPT_ENCODING, ClientOptions, Prepared};
use crate::redact::Redactor;
use reqwest::Method;

/// A body longer than this is left out of the line (it would bury the output), with a note.
const LONGEST_BODY: usize = 64 * 1024;

/// The run's flags every line carries, from the client's options.
pub fn client_flags(opts: &ClientOptions) -> Vec<String> {
    let mut flags = Vec::new();
    if opts.insecure {
        flags.push("-k".to_string());
    }
    if let Some(path) = &opts.cacert {
        flags.push(format!("--cacert {}", quoted_path(path)));
    }
    for r in &opts.routes.resolve {
        flags.push(format!(
            "--resolve \"{}:{}:{}\"",
            bracket(&r.host),
            r.port,
            bracket(&r.addr.to_string())
        ));
    }
    for c in &opts.routes.connect_to {
        let host = |h: &Option<String>| h.as_deref().map(bracket).unwrap_or_default();
        let port = |p: Option<u16>| p.map(|p| p.to_string()).unwrap_or_default();
        flags.push(format!(
            "--connect-to \"{}:{}:{}:{}\"",
            host(&c.from_host),
            port(c.from_port),
            host(&c.to_host),
            port(c.to_port)
        ));
    }
    if let Some(files) = &opts.identity {
        flags.push(format!("--cert {}", quoted_path(&files.cert)));
        if let Some(key) = &files.key {
            flags.push(format!("--key {}", quoted_path(key)));
        }
    }
    flags
}

/// The command line that repeats `req`. `jar_cookie` is the `Cookie` the suite's jar added;
/// `flags` are [`client_flags`].
pub(crate) fn line(
    req: &Prepared,
    jar_cookie: Option<&str>,
    follow_redirects: bool,
    flags: &[String],
    redactor: &Redactor,
) -> String {
    let q = |text: &str| format!("\"{}\"", redactor.for_shell(text));
    let mut words = vec!["curl".to_string()];
    let has_body = req.body.as_ref().is_some_and(|b| !b.is_empty());
    match req.method {
        Method::GET => {}
        Method::HEAD => words.push("--head".to_string()),
        Method::POST if has_body => {}
        ref m => words.push(format!("-X {}", q(m.as_str()))),
    }
    if follow_redirects {
        words.push("-L".to_string());
    }
    words.extend(flags.iter().cloned());
    words.push(q(req.url.as_str()));
    let mut own_agent = false;
    for (name, value) in crate::http::header_pairs(&req.headers) {
        if name == "accept-encoding" && value == ACCEPT_ENCODING {
            // curl then decodes the body as we do.
            words.push("--compressed".to_string());
            continue;
        }
        own_agent |= name == "user-agent";
        let value = match (name.as_str(), jar_cookie) {
            ("cookie", Some(jar)) => format!("{value}; {jar}"),
            _ => value,
        };
        words.push(format!("-H {}", q(&format!("{name}: {value}"))));
    }
    if let Some(jar) = jar_cookie
        && !req.headers.contains_key(reqwest::header::COOKIE)
    {
        words.push(format!("-H {}", q(&format!("cookie: {jar}"))));
    }
    if !own_agent {
        words.push(format!(
            "-A {}",
            q(concat!("endpoint-check/", env!("CARGO_PKG_VERSION")))
        ));
    }
    if let Some(body) = req.body.as_ref().filter(|b| !b.is_empty()) {
        match std::str::from_utf8(body) {
            Ok(text) if text.len() <= LONGEST_BODY => words.push(format!("--data-raw {}", q(text))),
            _ => words.push(format!("# the {}-byte body is left out", body.len())),
        }
    }
    words.join(" ")
}

fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

fn quoted_path(path: &std::path::Path) -> String {
    format!("\"{}\"", Redactor::new().for_shell(&path.display().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::route::{ConnectTo, Resolve, Routes};
    use reqwest::Url;
    use reqwest::header::HeaderMap;

    fn req(method: Method, headers: &[(&str, &str)], body: Option<&str>) -> Prepared {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(
                reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        Prepared::new(
            method,
            Url::parse("http://127.0.0.1:3000/api/x?q=1").unwrap(),
            map,
            body.map(|b| bytes::Bytes::from(b.to_string())),
        )
        .unwrap()
    }

    #[test]
    fn a_get_with_an_env_secret_reads_as_its_variable() {
        let r = Redactor::new();
        r.add("k3y");
        r.note_origin("AUDIO1_API_KEY", "k3y");
        let get = req(
            Method::GET,
            &[("accept-encoding", ACCEPT_ENCODING), ("x-api-key", "k3y")],
            None,
        );
        assert_eq!(
            line(&get, None, false, &[], &r),
            format!(
                "curl \"http://127.0.0.1:3000/api/x?q=1\" --compressed -H \"x-api-key: $AUDIO1_API_KEY\" -A \"endpoint-check/{}\"",
                env!("CARGO_PKG_VERSION")
            )
        );
    }

    #[test]
    fn methods_bodies_cookies_and_other_secrets() {
        let r = Redactor::new();
        r.add("sid=abc");
        let post = req(
            Method::POST,
            &[("content-type", "application/json"), ("user-agent", "me")],
            Some(r#"{"a":"$x"}"#),
        );
        let l = line(&post, Some("sid=abc"), true, &["-k".to_string()], &r);
        assert_eq!(
            l,
            r#"curl -L -k "http://127.0.0.1:3000/api/x?q=1" -H "content-type: application/json" -H "user-agent: me" -H "cookie: ***" --data-raw "{\"a\":\"\$x\"}""#
        );
        let put = req(Method::PUT, &[("user-agent", "me")], None);
        assert!(line(&put, None, false, &[], &r).starts_with(r#"curl -X "PUT" "#));
        let head = req(Method::HEAD, &[("user-agent", "me")], None);
        assert!(line(&head, None, false, &[], &r).starts_with("curl --head "));
    }

    #[test]
    fn client_flags_repeat_routes_and_identity() {
        let opts = ClientOptions {
            routes: Routes {
                resolve: vec![Resolve::parse("example.test:443:[::1]").unwrap()],
                connect_to: vec![ConnectTo::parse("::127.0.0.1:8443").unwrap()],
            },
            identity: Some(crate::http::identity::IdentityFiles {
                cert: "certs/client.pem".into(),
                cert_from: "--cert".into(),
                key: Some("certs/client.key".into()),
                key_from: "--key".into(),
            }),
            ..ClientOptions::default()
        };
        assert_eq!(
            client_flags(&opts).join(" "),
            r#"--resolve "example.test:443:[::1]" --connect-to "::127.0.0.1:8443" --cert "certs/client.pem" --key "certs/client.key""#
        );
    }
}
