//! Where requests go, and as whom (docs/cli.md#where-requests-go, docs/environments.md):
//! `--resolve` and `--connect-to` send a request for `https://example.test:PORT/` to 127.0.0.1
//! with SNI and `Host` still `example.test`, against a certificate made for that name — a name
//! that cannot resolve, so a run that passes looked nothing up; mutual TLS with `--cert`/`--key`
//! (and an environment's `client_cert`/`client_key`); and the `curl` line of `-v`, which repeats
//! the request when pasted into a shell with the variables set.

mod support;

use std::path::Path;
use support::process::Run;
use support::server::{Reply, TestServer};
use support::tls::{Seen, TestCa, TlsServer};
use support::workspace::Workspace;

/// One check, `GET /hello`, expecting 200.
const HELLO_SUITE: &str = "\
customer: routing
checks:
  - name: GET /hello
    request: { path: /hello }
    expect: { status: 200, body: { eq: hello } }
";

/// A server for `example.test` and the CA file the binary trusts it by.
fn example_test(client_ca: Option<&TestCa>) -> (TlsServer, Workspace, String) {
    let ca = TestCa::new("Routing Test CA");
    let server = TlsServer::start(&ca.server(&["example.test"]), client_ca);
    let ws = Workspace::new(&[("hello.yaml", HELLO_SUITE)]);
    let cacert = ws.write_file("ca.pem", &ca.pem).display().to_string();
    (server, ws, cacert)
}

fn run(ws: &Workspace, args: &[&str]) -> Run {
    let mut cmd = ws.cmd();
    cmd.args(["-s", "suites", "--color", "never"]).args(args);
    Run::of(&mut cmd)
}

#[test]
fn resolve_sends_to_the_address_with_sni_and_host_of_the_name() {
    let (server, ws, cacert) = example_test(None);
    let port = server.port();
    let base = format!("https://example.test:{port}");
    let resolve = format!("example.test:{port}:127.0.0.1");
    let json = ws.json_path().display().to_string();
    let run = run(
        &ws,
        &[
            "--base-url",
            &base,
            "--cacert",
            &cacert,
            "--resolve",
            &resolve,
            "--json",
            &json,
        ],
    );
    run.code(0).passed("GET /hello");
    // Connected to the address given: no name lookup phase; the handshake was for the name.
    let report = ws.report();
    let timings = &support::check(&report, "GET /hello")["timings_ms"];
    assert!(timings["dns"].is_null(), "{timings}");
    assert!(timings["tls"].is_number(), "{timings}");
    assert_eq!(
        server.seen(),
        [Seen {
            sni: Some("example.test".into()),
            host: Some(format!("example.test:{port}")),
            client_certificate: false,
        }]
    );
    // The URL the report shows is the one asked for, not the address dialed.
    run.stdout_has(&format!("Base URL: {base}"));
}

#[test]
fn connect_to_sends_what_is_meant_for_a_host_and_port_elsewhere() {
    let (server, ws, cacert) = example_test(None);
    let port = server.port();
    // https://example.test means port 443; the entry moves it to the server's port.
    let connect = format!("example.test:443:127.0.0.1:{port}");
    run(
        &ws,
        &[
            "--base-url",
            "https://example.test",
            "--cacert",
            &cacert,
            "--connect-to",
            &connect,
        ],
    )
    .code(0)
    .passed("GET /hello");
    assert_eq!(
        server.seen(),
        [Seen {
            sni: Some("example.test".into()),
            host: Some("example.test".into()),
            client_certificate: false,
        }]
    );
    // An empty HOST1 and PORT1 match any request, and an empty HOST2 keeps the request's.
    let (server, ws, cacert) = example_test(None);
    let any = format!("::127.0.0.1:{}", server.port());
    run(
        &ws,
        &[
            "--base-url",
            "https://example.test:9",
            "--cacert",
            &cacert,
            "--connect-to",
            &any,
        ],
    )
    .code(0);
    assert_eq!(server.seen()[0].host.as_deref(), Some("example.test:9"));
}

#[test]
fn an_environment_holds_its_resolve_entries_and_a_flag_wins() {
    let (server, ws, cacert) = example_test(None);
    let port = server.port();
    ws.write(
        "environments.yaml",
        &format!(
            "environments:\n  staging:\n    base_url: https://example.test:{port}\n    resolve: [\"example.test:{port}:127.0.0.1\"]\n"
        ),
    );
    run(&ws, &["staging", "--cacert", &cacert])
        .code(0)
        .passed("GET /hello");
    assert_eq!(server.seen().len(), 1);
    // A flag for the same HOST:PORT comes first: 127.0.0.2 is loopback, where nothing listens.
    let elsewhere = format!("example.test:{port}:127.0.0.2");
    run(&ws, &["staging", "--cacert", &cacert, "--resolve", &elsewhere])
        .code(1)
        .failed("GET /hello")
        .stdout_has("127.0.0.2");
    assert_eq!(
        server.seen().len(),
        1,
        "the flag did not win over the environment"
    );
}

#[test]
fn bad_resolve_and_connect_to_entries_exit_2_before_any_request() {
    let server = TestServer::start();
    let ws = Workspace::ping();
    for (flag, entry, says) in [
        ("--resolve", "example.test:443", "expected HOST:PORT:ADDR"),
        ("--resolve", "example.test:443:localhost", "is not an IP address"),
        (
            "--connect-to",
            "example.test:443:127.0.0.1",
            "expected HOST1:PORT1:HOST2:PORT2",
        ),
    ] {
        ws.run(&server, &[flag, entry]).code(2).stderr_has(says);
    }
    ws.write(
        "environments.yaml",
        "environments:\n  staging:\n    resolve: [\"nonsense\"]\n",
    );
    ws.run(&server, &["staging"])
        .code(2)
        .stderr_has("environments.yaml:3:")
        .stderr_has("expected HOST:PORT:ADDR");
    assert_eq!(server.requests(), 0);
}

/// A CA for client certificates, a server that asks for one, and a client certificate from it.
struct Mutual {
    server: TlsServer,
    ws: Workspace,
    cacert: String,
    cert: String,
    key: String,
    other_key: String,
    port: u16,
}

fn mutual() -> Mutual {
    let clients = TestCa::new("Client Test CA");
    let (server, ws, cacert) = example_test(Some(&clients));
    let issued = clients.client("checker");
    let other = clients.client("someone else");
    let path = |name: &str, text: &str| ws.write_file(name, text).display().to_string();
    Mutual {
        cert: path("client.pem", &issued.cert_pem),
        key: path("client.key", &issued.key_pem),
        other_key: path("other.key", &other.key_pem),
        port: server.port(),
        server,
        ws,
        cacert,
    }
}

impl Mutual {
    fn args<'a>(&'a self, base: &'a str, resolve: &'a str) -> Vec<&'a str> {
        vec!["--base-url", base, "--cacert", &self.cacert, "--resolve", resolve]
    }
}

#[test]
fn mutual_tls_fails_without_a_client_certificate_and_passes_with_one() {
    let m = mutual();
    let base = format!("https://example.test:{}", m.port);
    let resolve = format!("example.test:{}:127.0.0.1", m.port);
    let without = run(&m.ws, &m.args(&base, &resolve));
    without.code(1).failed("GET /hello");
    without
        .stdout_has("TLS failure")
        .stdout_has("the server asks for a client certificate: pass --cert and --key");
    assert!(m.server.seen().is_empty());
    let mut args = m.args(&base, &resolve);
    args.extend(["--cert", &m.cert, "--key", &m.key]);
    run(&m.ws, &args).code(0).passed("GET /hello");
    assert_eq!(
        m.server.seen(),
        [Seen {
            sni: Some("example.test".into()),
            host: Some(format!("example.test:{}", m.port)),
            client_certificate: true,
        }]
    );
    // One file holding both, as curl allows.
    let both = std::fs::read_to_string(&m.cert).unwrap() + &std::fs::read_to_string(&m.key).unwrap();
    let both = m.ws.write_file("both.pem", &both).display().to_string();
    let mut args = m.args(&base, &resolve);
    args.extend(["--cert", &both]);
    run(&m.ws, &args).code(0);
    // The same from environment variables.
    let mut cmd = m.ws.cmd();
    cmd.args(["-s", "suites", "--color", "never"])
        .args(m.args(&base, &resolve))
        .env("ENDPOINT_CHECK_CERT", &m.cert)
        .env("ENDPOINT_CHECK_KEY", &m.key);
    Run::of(&mut cmd).code(0);
    assert_eq!(m.server.seen().len(), 3);
}

#[test]
fn an_environment_holds_its_client_certificate_relative_to_its_file() {
    let m = mutual();
    let port = m.port;
    let copy = |from: &str, to: &str| std::fs::copy(from, m.ws.suites().join(to)).unwrap();
    copy(&m.cert, "client.pem");
    copy(&m.key, "client.key");
    m.ws.write(
        "environments.yaml",
        &format!(
            "environments:\n  staging:\n    base_url: https://example.test:{port}\n    resolve: [\"example.test:{port}:127.0.0.1\"]\n    client_cert: client.pem\n    client_key: client.key\n"
        ),
    );
    run(&m.ws, &["staging", "--cacert", &m.cacert])
        .code(0)
        .passed("GET /hello");
    assert!(m.server.seen()[0].client_certificate);
}

#[test]
fn a_key_that_does_not_fit_or_a_missing_file_exits_2_before_any_request() {
    let m = mutual();
    let base = format!("https://example.test:{}", m.port);
    let resolve = format!("example.test:{}:127.0.0.1", m.port);
    let mut args = m.args(&base, &resolve);
    args.extend(["--cert", &m.cert, "--key", &m.other_key]);
    run(&m.ws, &args)
        .code(2)
        .stderr_has("--key")
        .stderr_has("does not fit the certificate");
    let mut args = m.args(&base, &resolve);
    args.extend(["--cert", "missing.pem", "--key", &m.key]);
    run(&m.ws, &args)
        .code(2)
        .stderr_has("--cert missing.pem: cannot read");
    let mut args = m.args(&base, &resolve);
    args.extend(["--key", &m.key]);
    run(&m.ws, &args).code(2).stderr_has("--key needs --cert");
    // `list` sends nothing, and refuses the same files.
    let mut list = m.ws.cmd();
    list.args(["list", "-s", "suites", "--cert", &m.cert, "--key", &m.other_key]);
    Run::of(&mut list).code(2).stderr_has("does not fit");
    assert_eq!(m.server.connections(), 0, "a connection was made");
}

/// The `curl …` line `-v` printed, trimmed.
fn curl_line(run: &Run) -> String {
    let out = run.all();
    out.lines()
        .map(str::trim)
        .find(|l| l.starts_with("curl "))
        .unwrap_or_else(|| panic!("no curl line in:\n{out}"))
        .to_string()
}

/// Runs `line` in `sh -c` with `env`, printing the body and then the status on its own line.
fn sh(line: &str, env: &[(&str, &str)], dir: &Path) -> (String, String) {
    let mut cmd = std::process::Command::new("sh");
    support::bin::scrub(&mut cmd);
    cmd.current_dir(dir)
        .arg("-c")
        .arg(format!("{line} --silent --show-error -w '\\n%{{http_code}}'"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .expect("sh runs (curl is needed: apt-get install curl)");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{line}\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (body, status) = stdout.rsplit_once('\n').unwrap();
    (body.to_string(), status.to_string())
}

#[test]
fn the_curl_line_repeats_the_request_with_secrets_as_their_variables() {
    let key = "s3cr3t-k3y-9f2";
    let server = TestServer::builder()
        .route_fn("/orders", move |r, _| match r.header("x-api-key") {
            Some(k) if k == key => {
                Reply::json(serde_json::json!({"order": r.body, "ok": true})).with_status(201)
            }
            _ => Reply::status(401),
        })
        .start();
    let ws = Workspace::suite(
        r#"customer: shop
variables:
  api_key: ${SHOP_API_KEY}
checks:
  - name: POST /orders
    request:
      method: POST
      path: /orders
      headers: { x-api-key: "${api_key}", x-note: "it's \"quoted\" $HOME `x`" }
      json: { item: "a b", note: "$PATH" }
    expect: { status: 201 }
"#,
    );
    let mut cmd = ws.cmd();
    cmd.args([
        "--base-url",
        &server.url(),
        "-s",
        "suites",
        "--color",
        "never",
        "-vv",
    ])
    .env("SHOP_API_KEY", key);
    let run = Run::of(&mut cmd);
    run.code(0).passed("POST /orders");
    let line = curl_line(&run);
    assert!(line.contains(r#"-H "x-api-key: $SHOP_API_KEY""#), "{line}");
    assert!(!run.all().contains(key), "the key leaked:\n{}", run.all());
    let first = &server.recorded_on("/orders")[0];
    let (body, status) = sh(&line, &[("SHOP_API_KEY", key)], ws.path());
    assert_eq!(status, "201", "{line}");
    let second = &server.recorded_on("/orders")[1];
    assert_eq!(second.body, first.body);
    assert_eq!(second.header("x-note"), first.header("x-note"));
    assert_eq!(second.header("content-type"), first.header("content-type"));
    assert_eq!(
        body,
        serde_json::json!({"order": first.body, "ok": true}).to_string()
    );
    // Without the variable the server refuses: the line did not carry the key itself.
    let (_, status) = sh(&line, &[], ws.path());
    assert_eq!(status, "401");
}

#[test]
fn the_curl_line_carries_resolve_and_the_ca() {
    let (server, ws, cacert) = example_test(None);
    let port = server.port();
    let base = format!("https://example.test:{port}");
    let resolve = format!("example.test:{port}:127.0.0.1");
    let run = run(
        &ws,
        &[
            "--base-url",
            &base,
            "--cacert",
            &cacert,
            "--resolve",
            &resolve,
            "-vv",
        ],
    );
    run.code(0);
    let line = curl_line(&run);
    assert!(line.contains(&format!("--resolve \"{resolve}\"")), "{line}");
    let (body, status) = sh(&line, &[], ws.path());
    assert_eq!((body.as_str(), status.as_str()), ("hello", "200"), "{line}");
    assert_eq!(server.seen()[1], server.seen()[0]);
}

#[test]
fn resolve_and_connect_to_read_their_environment_variables() {
    let (server, ws, cacert) = example_test(None);
    let port = server.port();
    let base = format!("https://example.test:{port}");
    // The check through the variable alone: no --resolve or --connect-to on the line.
    let through = |base_url: &str, var: &str, value: String| {
        let mut cmd = ws.cmd();
        cmd.args(["-s", "suites", "--color", "never", "--base-url", base_url])
            .args(["--cacert", &cacert])
            .env(var, value);
        Run::of(&mut cmd).code(0).passed("GET /hello");
    };
    through(
        &base,
        "ENDPOINT_CHECK_RESOLVE",
        format!("other.test:1:127.0.0.9 example.test:{port}:127.0.0.1"),
    );
    through(
        "https://example.test",
        "ENDPOINT_CHECK_CONNECT_TO",
        format!("example.test:443:127.0.0.1:{port}"),
    );
    let mut cmd = ws.cmd();
    cmd.args(["-s", "suites", "--base-url", &base])
        .env("ENDPOINT_CHECK_RESOLVE", "nonsense");
    Run::of(&mut cmd)
        .code(2)
        .stderr_has("ENDPOINT_CHECK_RESOLVE: --resolve \"nonsense\"");
    assert_eq!(server.seen().len(), 2);
}

#[test]
fn a_self_signed_certificate_for_the_name_is_trusted_through_cacert() {
    let cert = support::tls::self_signed(&["example.test"]);
    let server = TlsServer::start(&cert, None);
    let ws = Workspace::new(&[("hello.yaml", HELLO_SUITE)]);
    let cacert = ws.write_file("self.pem", &cert.cert_pem).display().to_string();
    let port = server.port();
    let base = format!("https://example.test:{port}");
    let resolve = format!("example.test:{port}:127.0.0.1");
    run(
        &ws,
        &["--base-url", &base, "--cacert", &cacert, "--resolve", &resolve],
    )
    .code(0)
    .passed("GET /hello");
    // And under --insecure, with nothing trusted.
    run(&ws, &["--base-url", &base, "--insecure", "--resolve", &resolve])
        .code(0)
        .passed("GET /hello");
}
