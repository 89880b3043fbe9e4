//! A cookie jar per suite (docs/behaviour.md#cookies): a login check's `set-cookie` reaches the
//! next check of the suite — through a followed redirect too — and never another suite's;
//! `cookies: false` on a suite or a check turns it off; cookie values never show in output or
//! reports.

mod support;

use support::process::Run;
use support::server::{Recorded, Reply, TestServer};
use support::workspace::Workspace;

const SESSION: &str = "s3ss10n-9b7e41";

/// `/login` sets the session cookie; `/me` answers 200 with it, 401 without it; `/hop` sets it
/// and redirects to `/me`.
fn site() -> TestServer {
    let cookie = format!("sid={SESSION}; Path=/; HttpOnly");
    let hop_cookie = cookie.clone();
    TestServer::builder()
        .route(
            "/login",
            Reply::json(serde_json::json!({"ok": true})).header("set-cookie", &cookie),
        )
        .route(
            "/hop",
            Reply::status(302)
                .header("set-cookie", &hop_cookie)
                .header("location", "/me"),
        )
        .route_fn("/me", |r, _| match has_session(r) {
            true => Reply::json(serde_json::json!({"user": "ada"})),
            false => Reply::status(401),
        })
        .start()
}

fn has_session(r: &Recorded) -> bool {
    r.header("cookie")
        .is_some_and(|c| c.split(';').any(|p| p.trim() == format!("sid={SESSION}")))
}

const LOGIN: &str = "
  - name: login
    request: { method: POST, path: /login }
";

fn suite(customer: &str, extra: &str, checks: &str) -> String {
    format!("customer: {customer}\n{extra}checks:{checks}")
}

/// Runs the folder with every exchange shown and every report written, and finds the session
/// in none of them.
fn run(ws: &Workspace, server: &TestServer) -> Run {
    let json = ws.json_path().display().to_string();
    let junit = ws.junit_path().display().to_string();
    let run = ws.run(server, &["-vv", "--json", &json, "--junit", &junit]);
    for file in [ws.json_path(), ws.junit_path()] {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            !text.contains(SESSION),
            "the cookie is in {}:\n{text}",
            file.display()
        );
    }
    assert!(!run.all().contains(SESSION), "the cookie shows:\n{}", run.all());
    run
}

#[test]
fn a_login_cookie_reaches_the_next_check_of_its_suite_and_no_other_suite() {
    let server = site();
    let ws = Workspace::new(&[
        (
            "a.yaml",
            &suite(
                "alpha",
                "",
                &format!("{LOGIN}  - name: me\n    request: {{ path: /me }}\n    needs: [login]\n"),
            ),
        ),
        (
            "b.yaml",
            &suite(
                "beta",
                "",
                "\n  - name: me too\n    request: { path: /me, query: { suite: beta } }\n    expect: { status: 401 }\n",
            ),
        ),
    ]);
    let run = run(&ws, &server);
    run.code(0).passed("me").passed("me too");
    // Suites run at once: which `/me` came first is not known.
    let (beta, alpha): (Vec<_>, Vec<_>) = server
        .recorded_on("/me")
        .into_iter()
        .partition(|r| r.query == "suite=beta");
    assert!(has_session(&alpha[0]), "{:?}", alpha[0].headers);
    assert_eq!(beta[0].header("cookie"), None, "another suite got the cookie");
    // `-v` shows that a cookie went, masked.
    run.stdout_has("> cookie: ***");
}

#[test]
fn a_cookie_set_on_a_redirect_goes_with_the_next_hop() {
    let server = site();
    let ws = Workspace::suite(&suite(
        "hops",
        "",
        "\n  - name: hop\n    request: { path: /hop }\n    follow_redirects: true\n    expect: { status: 200 }\n",
    ));
    run(&ws, &server).code(0).passed("hop");
    assert!(has_session(&server.recorded_on("/me")[0]));
}

#[test]
fn cookies_false_on_a_check_or_a_suite_turns_the_jar_off() {
    let server = site();
    let me = |name: &str, extra: &str| {
        format!(
            "  - name: {name}\n    request: {{ path: /me }}\n    needs: [login]\n    expect: {{ status: 401 }}\n{extra}"
        )
    };
    let ws = Workspace::new(&[
        (
            "a.yaml",
            &suite(
                "check off",
                "",
                &format!("{LOGIN}{}", me("me without", "    cookies: false\n")),
            ),
        ),
        (
            "b.yaml",
            &suite(
                "suite off",
                "cookies: false\n",
                &format!("{LOGIN}{}", me("me in a jarless suite", "")),
            ),
        ),
    ]);
    run(&ws, &server)
        .code(0)
        .passed("me without")
        .passed("me in a jarless suite");
    assert!(
        server
            .recorded_on("/me")
            .iter()
            .all(|r| r.header("cookie").is_none())
    );
    // A check that keeps none: its own answer's cookie does not reach the next check.
    let server = site();
    let ws = Workspace::suite(&suite(
        "forgetful",
        "",
        "\n  - name: login\n    request: { method: POST, path: /login }\n    cookies: false\n  - name: me\n    request: { path: /me }\n    needs: [login]\n    expect: { status: 401 }\n",
    ));
    run(&ws, &server).code(0).passed("me");
}

#[test]
fn a_cookie_the_check_sets_itself_is_sent_with_the_jar_s() {
    let server = site();
    let ws = Workspace::suite(&suite(
        "both",
        "",
        &format!(
            "{LOGIN}  - name: me\n    request: {{ path: /me, headers: {{ cookie: theme=dark }} }}\n    needs: [login]\n"
        ),
    ));
    run(&ws, &server).code(0).passed("me");
    let sent = server.recorded_on("/me")[0].header("cookie").unwrap().to_string();
    assert_eq!(sent, format!("theme=dark; sid={SESSION}"));
}
