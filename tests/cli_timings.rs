//! The measuring engine's phases through the binary (docs/behaviour.md#phases): servers made to
//! be slow at one thing show it in that phase, a reused connection has no connection phases,
//! `expect.timings` judges them, and proxies (a CONNECT tunnel and a plain HTTP proxy written
//! here, on loopback) carry checks as `HTTPS_PROXY`/`HTTP_PROXY` say, `NO_PROXY` bypassing them.

mod support;

use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::server::{RawServer, Reply, TestServer, read_head, self_signed_tls};
use support::workspace::Workspace;
use tokio::io::AsyncWriteExt;

/// `/slow` answers after 200 ms, `/ok` at once.
fn server() -> TestServer {
    TestServer::builder()
        .route("/slow", Reply::text("slow").delay(Duration::from_millis(200)))
        .route("/ok", Reply::text("ok"))
        .start()
}

/// A check's `timings_ms`, as an object.
#[track_caller]
fn timings<'a>(report: &'a Value, name: &str) -> &'a Value {
    let t = &support::check(report, name)["timings_ms"];
    assert!(t.is_object(), "no timings_ms for {name}: {report:#}");
    t
}

#[track_caller]
fn ms(t: &Value, phase: &str) -> f64 {
    t[phase]
        .as_f64()
        .unwrap_or_else(|| panic!("{phase} is not a number: {t}"))
}

/// The phases that happened, summed.
fn sum(t: &Value) -> f64 {
    ["dns", "connect", "tls", "ttfb", "transfer"]
        .iter()
        .filter_map(|p| t[*p].as_f64())
        .sum()
}

#[test]
fn a_slow_answer_shows_in_ttfb_and_the_phases_add_up_to_the_latency() {
    let server = server();
    let ws = Workspace::suite("customer: t\nchecks:\n  - name: slow\n    request: { path: /slow }\n");
    let run = ws.run(
        &server,
        &[
            "--json",
            "report.json",
            "--metrics",
            "run.prom",
            "--html",
            "run.html",
        ],
    );
    run.code(0);
    let report = ws.report();
    let t = timings(&report, "slow");
    assert!(ms(t, "ttfb") >= 200.0, "{t}");
    assert!(ms(t, "connect") < 100.0, "{t}");
    assert!(ms(t, "transfer") < 100.0, "{t}");
    assert!(t["dns"].is_null(), "an IP address needs no lookup: {t}");
    assert!(t["tls"].is_null(), "http:// has no handshake: {t}");
    assert_eq!(t["reused"], false, "{t}");
    let latency = support::check(&report, "slow")["latency_ms"]["max"]
        .as_f64()
        .unwrap();
    // Each phase is rounded to 0.1 ms in the report, as is the latency.
    assert!((sum(t) - latency).abs() <= 1.0, "phases {t} vs latency {latency}");

    let metrics = std::fs::read_to_string(ws.path().join("run.prom")).unwrap();
    let phase = |p: &str| {
        metrics
            .lines()
            .find(|l| l.starts_with("endpoint_check_phase_seconds{") && l.contains(&format!("phase=\"{p}\"")))
            .map(str::to_string)
    };
    let ttfb = phase("ttfb").unwrap_or_else(|| panic!("no ttfb gauge in:\n{metrics}"));
    let seconds: f64 = ttfb.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(seconds >= 0.2, "{ttfb}");
    assert!(
        phase("connect").is_some() && phase("transfer").is_some(),
        "{metrics}"
    );
    assert!(
        phase("tls").is_none() && phase("dns").is_none(),
        "phases that did not happen are absent:\n{metrics}"
    );

    let html = std::fs::read_to_string(ws.path().join("run.html")).unwrap();
    assert!(
        html.contains("class=\"phasebar\"") && html.contains("phase ttfb"),
        "no phase bar in the HTML report"
    );
}

#[test]
fn a_trickled_body_shows_in_transfer() {
    // Headers at once, then the body's three bytes 120 ms apart.
    let trickle = RawServer::start(|mut s| async move {
        read_head(&mut s).await;
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\n";
        if s.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let _ = s.flush().await;
        for byte in [b"a", b"b", b"c"] {
            tokio::time::sleep(Duration::from_millis(120)).await;
            if s.write_all(byte).await.is_err() || s.flush().await.is_err() {
                return;
            }
        }
    });
    let ws = Workspace::suite(&format!(
        "customer: t\nchecks:\n  - name: trickle\n    request: {{ url: \"{}/x\" }}\n    expect: {{ body: abc }}\n",
        trickle.url()
    ));
    let server = server();
    ws.run(&server, &["--json", "report.json"]).code(0);
    let t = timings(&ws.report(), "trickle").clone();
    assert!(ms(&t, "transfer") >= 300.0, "{t}");
    assert!(ms(&t, "ttfb") < 150.0, "{t}");
}

#[test]
fn a_second_request_on_the_same_connection_is_reused_and_has_no_connection_phases() {
    let server = server();
    let ws = Workspace::suite(
        "customer: t\nchecks:\n  - name: first\n    request: { path: /ok }\n  - name: second\n    needs: [first]\n    request: { path: /ok }\n",
    );
    let run = ws.run(&server, &["--json", "report.json", "-j", "1", "-vv"]);
    run.code(0);
    let report = ws.report();
    let first = timings(&report, "first");
    assert_eq!(first["reused"], false, "{first}");
    assert!(first["connect"].is_number(), "{first}");
    let second = timings(&report, "second");
    assert_eq!(second["reused"], true, "{second}");
    for phase in ["dns", "connect", "tls"] {
        assert!(
            second[phase].is_null(),
            "{phase} on a reused connection: {second}"
        );
    }
    assert!(
        second["ttfb"].is_number() && second["transfer"].is_number(),
        "{second}"
    );
    // -v: the same phases, in words.
    let lines = run.lines_under("second");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("timings: reused connection, first byte ") && l.contains(", transfer ")),
        "{lines:?}"
    );
    let lines = run.lines_under("first");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("timings: connect ") && l.contains(" ms, first byte ")),
        "{lines:?}"
    );
}

#[test]
fn a_kept_connection_the_server_closed_is_replaced_not_counted_as_a_failure() {
    // Closed at once: every connection the client keeps is dead by the time it is used again.
    let (server, _) = support::server::closing_after(Duration::ZERO);
    let ws = Workspace::suite(
        "customer: t\nchecks:\n  - name: GET /\n    request: { path: / }\n    expect: { status: 200 }\n",
    );
    let mut cmd = ws.cmd();
    cmd.args(["-s", "suites", "--base-url", &server.url(), "--color", "never"])
        .args(["--samples", "200", "-j", "1", "--format", "json"]);
    // Each sample finds the connection the last one left either seen closed (not used) or dead
    // under its request (sent again, once, on a new connection), never a failed sample.
    let run = support::process::Run::of(&mut cmd);
    run.code(0);
    let report: Value = serde_json::from_str(&run.stdout).expect("a JSON report");
    let check = support::check(&report, "GET /");
    assert_eq!(check["passed_samples"], 200, "{check:#}");
}

#[test]
fn a_host_name_is_looked_up_and_an_https_check_has_a_handshake() {
    let server = server();
    let tls = self_signed_tls();
    let ws = Workspace::suite(&format!(
        "customer: t\nchecks:\n  - name: by name\n    request: {{ url: \"http://localhost:{}/ok\" }}\n  - name: https\n    request: {{ url: \"https://127.0.0.1:{}/\" }}\n    expect: {{ body: secure }}\n",
        server.port(),
        tls.port()
    ));
    ws.run(&server, &["--json", "report.json", "--insecure"]).code(0);
    let report = ws.report();
    let named = timings(&report, "by name");
    assert!(named["dns"].is_number(), "localhost is looked up: {named}");
    assert!(named["tls"].is_null(), "{named}");
    let https = timings(&report, "https");
    assert!(https["tls"].is_number() && ms(https, "tls") > 0.0, "{https}");
    assert!(https["dns"].is_null() && https["connect"].is_number(), "{https}");
    let latency = support::check(&report, "https")["latency_ms"]["max"]
        .as_f64()
        .unwrap();
    assert!(
        (sum(https) - latency).abs() <= 1.0,
        "phases {https} vs latency {latency}"
    );
}

#[test]
fn expect_timings_fails_a_slow_phase_and_holds_for_one_that_did_not_happen() {
    let server = server();
    let ws = Workspace::suite(
        "customer: t\nchecks:\n  - name: too slow\n    request: { path: /slow }\n    expect:\n      timings: { ttfb: 50ms }\n  - name: within\n    request: { path: /slow }\n    expect:\n      timings: { connect: 5s, tls: 1ms, ttfb: 10s, transfer: 10s }\n",
    );
    let run = ws.run(&server, &[]);
    run.code(1);
    run.failed("too slow").passed("within");
    let under = run.lines_under("too slow");
    assert!(
        under[0].starts_with("expected ttfb <= 50 ms, took ") && under[0].ends_with(" ms"),
        "{under:?}"
    );
}

#[test]
fn an_unknown_phase_is_a_suite_error() {
    let server = server();
    let ws = Workspace::suite(
        "customer: t\nchecks:\n  - name: typo\n    request: { path: /ok }\n    expect:\n      timings: { ttbf: 1s }\n",
    );
    let run = ws.run(&server, &[]);
    run.code(2).stderr_has("unknown phase `ttbf`").stderr_has("ttfb");
    assert_eq!(server.requests(), 0);
}

// ---------------------------------------------------------------------------------------------
// Proxies

/// A forward proxy on loopback: `CONNECT host:port` opens a tunnel, any other request (absolute
/// form) is passed on to the host it names. Records each connection's request line.
struct Proxy {
    server: RawServer,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    fn start() -> Proxy {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let server = RawServer::start(move |mut client| {
            let record = record.clone();
            async move {
                let head = read_head(&mut client).await;
                let text = String::from_utf8_lossy(&head).into_owned();
                let line = text.lines().next().unwrap_or("").to_string();
                record.lock().unwrap().push(line.clone());
                let mut words = line.split_whitespace();
                let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
                let authority = if method == "CONNECT" {
                    target.to_string()
                } else {
                    let rest = target.strip_prefix("http://").unwrap_or(target);
                    rest.split('/').next().unwrap_or("").to_string()
                };
                let Ok(mut upstream) = tokio::net::TcpStream::connect(&authority).await else {
                    let _ = client
                        .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                        .await;
                    return;
                };
                if method == "CONNECT" {
                    let _ = client
                        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                        .await;
                } else if upstream.write_all(&head).await.is_err() {
                    return;
                }
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            }
        });
        Proxy { server, seen }
    }

    fn url(&self) -> String {
        self.server.url()
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

/// The binary with `name=value` proxy variables and loopback not exempt from them.
fn run_with(
    ws: &Workspace,
    server: &TestServer,
    vars: &[(&str, &str)],
    args: &[&str],
) -> support::process::Run {
    let mut cmd = ws.cmd();
    cmd.env("NO_PROXY", "nothing.invalid")
        .env("no_proxy", "nothing.invalid");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.args(["--base-url", &server.url(), "-s", "suites", "--color", "never"])
        .args(args);
    support::process::Run::of(&mut cmd)
}

#[test]
fn an_https_check_goes_through_a_connect_tunnel() {
    let server = server();
    let proxy = Proxy::start();
    let tls = self_signed_tls();
    let ws = Workspace::suite(&format!(
        "customer: t\nchecks:\n  - name: tunnelled\n    request: {{ url: \"https://127.0.0.1:{}/\" }}\n    expect: {{ body: secure }}\n",
        tls.port()
    ));
    let run = run_with(
        &ws,
        &server,
        &[("HTTPS_PROXY", &proxy.url())],
        &["--insecure", "--json", "report.json"],
    );
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(
        proxy.seen(),
        [format!("CONNECT 127.0.0.1:{} HTTP/1.1", tls.port())]
    );
    let t = timings(&ws.report(), "tunnelled").clone();
    assert!(t["tls"].is_number() && t["connect"].is_number(), "{t}");
}

#[test]
fn an_http_check_goes_to_the_proxy_in_absolute_form_unless_no_proxy_names_the_host() {
    let server = server();
    let proxy = Proxy::start();
    let ws = Workspace::suite(
        "customer: t\nchecks:\n  - name: proxied\n    request: { path: /ok }\n    expect: { body: ok }\n",
    );
    let run = run_with(&ws, &server, &[("HTTP_PROXY", &proxy.url())], &[]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(proxy.seen(), [format!("GET {}/ok HTTP/1.1", server.url())]);
    assert_eq!(server.hits("/ok"), 1);

    let run = run_with(
        &ws,
        &server,
        &[
            ("HTTP_PROXY", &proxy.url()),
            ("NO_PROXY", "127.0.0.1"),
            ("no_proxy", "127.0.0.1"),
        ],
        &[],
    );
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_eq!(
        proxy.seen().len(),
        1,
        "NO_PROXY bypasses the proxy: {:?}",
        proxy.seen()
    );
    assert_eq!(server.hits("/ok"), 2);
}

/// HTTPS that speaks only HTTP/2 (ALPN `h2`), answering each request with its HTTP version.
fn h2_only_tls() -> RawServer {
    use http_body_util::Full;
    use tokio_rustls::rustls::{self, pki_types::PrivateKeyDer};
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).expect("certificate");
    let key = PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let mut config =
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![certified.cert.der().clone()], key)
            .expect("TLS server config");
    config.alpn_protocols = vec![b"h2".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    RawServer::start(move |s| {
        let acceptor = acceptor.clone();
        async move {
            let Ok(tls) = acceptor.accept(s).await else {
                return;
            };
            let service =
                hyper::service::service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                    let body = format!("{:?}", req.version());
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(bytes::Bytes::from(
                        body,
                    ))))
                });
            let _ = hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                .await;
        }
    })
}

#[test]
fn https_negotiates_http2_by_alpn() {
    let server = server();
    let h2 = h2_only_tls();
    let ws = Workspace::suite(&format!(
        "customer: t\nchecks:\n  - name: h2\n    request: {{ url: \"https://127.0.0.1:{}/\" }}\n    samples: 3\n    concurrency: 1\n    expect: {{ body: HTTP/2.0 }}\n",
        h2.port()
    ));
    let run = ws.run(&server, &["--insecure", "--json", "report.json"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let t = timings(&ws.report(), "h2").clone();
    assert!(t["ttfb"].is_number(), "{t}");
}
