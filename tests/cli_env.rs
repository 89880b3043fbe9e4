//! Environment resolution through the binary (docs/cli.md, docs/environments.md): the production countdown
//! and signals, every base URL source in the banner, `list`, exit 3, the Vercel bypass secret,
//! `--wait` and environment headers. Every target is a recording server on 127.0.0.1; every run
//! gets a clean environment (see `support/bin.rs`).

mod support;

use serde_json::json;
use std::time::Duration;
use support::process::{Run, Running, run};
use support::server::{RefusingPort, Reply, SilentServer, TestServer};
use support::workspace::Workspace;

/// Generous: the binary starts, resolves and prints its first lines well within this.
const STARTUP: Duration = Duration::from_secs(30);

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn production_at(url: &str) -> Workspace {
    Workspace::with_environments(&format!("environments:\n  production:\n    base_url: {url}\n"))
}

fn staging_at(url: &str) -> Workspace {
    Workspace::with_environments(&format!("environments:\n  staging:\n    base_url: {url}\n"))
}

/// The banner's (or `list`'s) environment lines.
fn assert_environment(out: &Run, environment: &str, base_url: &str, source: &str) {
    let lines = format!("Environment: {environment}\nBase URL: {base_url} (from {source})\n");
    assert!(out.stdout.contains(&lines), "expected\n{lines}in\n{}", out.all());
}

fn assert_no_countdown(out: &Run) {
    assert!(
        !out.stderr.contains("About to run against"),
        "unexpected countdown\n{}",
        out.all()
    );
}

/// A run that passed its single check: exit 0 and the server got exactly one check request.
fn assert_ran_once(out: &Run, server: &TestServer) {
    out.code(0);
    assert_eq!(server.recorded_on("/ping").len(), 1, "{}", out.all());
    assert!(
        out.stdout.contains("All customer endpoint tests passed"),
        "{}",
        out.all()
    );
}

// ---------------------------------------------------------------------------------------------
// Production safety

/// Production with the default 5 s delay: wait for the warning, send `signal`, expect `code`
/// and not one request.
fn interrupt_countdown(signal: libc::c_int, code: i32) {
    let server = TestServer::answering(200);
    let ws = production_at(&server.url());
    let running = Running::spawn(ws.command(&["production"]));
    let warning = running.wait_for_stderr("About to run against", STARTUP);
    assert!(warning.contains("production"), "{warning}");
    assert!(warning.contains(&server.url()), "{warning}");
    running.signal(signal);
    let out = running.wait(STARTUP);
    out.code(code);
    assert!(out.stderr.contains("no request was sent"), "{}", out.all());
    assert!(
        server.recorded().is_empty(),
        "requests sent: {:?}",
        server.recorded()
    );
    assert!(!out.stdout.contains("passed"), "{}", out.all());
}

#[test]
fn sigint_during_the_production_countdown_exits_130_with_no_request() {
    interrupt_countdown(libc::SIGINT, 130);
}

#[test]
fn sigterm_during_the_production_countdown_exits_143_with_no_request() {
    interrupt_countdown(libc::SIGTERM, 143);
}

#[test]
fn countdown_names_the_environment_and_base_url_then_runs() {
    let server = TestServer::answering(200);
    let ws = production_at(&server.url());
    let out = run(ws.command(&["production", "--delay", "300ms"]));
    assert_ran_once(&out, &server);
    let warning = format!("About to run against production ({})", server.url());
    assert!(out.stderr.contains(&warning), "{}", out.all());
    assert!(out.stderr.contains("Starting in 1…"), "{}", out.all());
    assert_environment(&out, "production", &server.url(), "environments.yaml");
}

#[test]
fn staging_with_delay_counts_down_too() {
    let server = TestServer::answering(200);
    let ws = staging_at(&server.url());
    let out = run(ws.command(&["staging", "--delay", "300ms"]));
    assert_ran_once(&out, &server);
    let warning = format!("About to run against staging ({})", server.url());
    assert!(out.stderr.contains(&warning), "{}", out.all());
}

#[test]
fn staging_has_no_countdown_by_default() {
    let server = TestServer::answering(200);
    let ws = staging_at(&server.url());
    let out = run(ws.command(&["staging"]));
    assert_ran_once(&out, &server);
    assert_no_countdown(&out);
}

#[test]
fn yes_env_var_and_zero_delay_skip_the_countdown() {
    let server = TestServer::answering(200);
    let ws = production_at(&server.url());
    let cases: &[(&[&str], Option<&str>)] = &[
        (&["--yes"], None),
        (&["-y"], None),
        (&["--delay", "0"], None),
        (&[], Some("1")),
        (&[], Some("true")),
        (&[], Some("yes")),
    ];
    for (flags, yes) in cases {
        let before = server.recorded_on("/ping").len();
        let mut cmd = ws.command(&["production"]);
        cmd.args(*flags);
        if let Some(value) = yes {
            cmd.env("ENDPOINT_CHECK_YES", value);
        }
        let out = run(cmd);
        out.code(0);
        assert_no_countdown(&out);
        assert!(
            out.elapsed < Duration::from_secs(5),
            "{flags:?} {yes:?} waited {:?}",
            out.elapsed
        );
        assert_eq!(
            server.recorded_on("/ping").len(),
            before + 1,
            "{flags:?} {yes:?}\n{}",
            out.all()
        );
    }
}

#[test]
fn other_yes_values_do_not_skip_the_countdown() {
    let server = TestServer::answering(200);
    let ws = production_at(&server.url());
    for value in ["0", "no", "false", ""] {
        let mut cmd = ws.command(&["production", "--delay", "200ms"]);
        cmd.env("ENDPOINT_CHECK_YES", value);
        let out = run(cmd);
        out.code(0);
        assert!(
            out.stderr.contains("About to run against production"),
            "ENDPOINT_CHECK_YES={value:?}\n{}",
            out.all()
        );
    }
}

#[test]
fn base_url_flag_keeps_the_production_safety_delay() {
    let server = TestServer::answering(200);
    let ws = production_at("https://example.invalid");
    let out = run(ws.command(&["production", "--base-url", &server.url(), "--delay", "200ms"]));
    assert_ran_once(&out, &server);
    let warning = format!("About to run against production ({})", server.url());
    assert!(out.stderr.contains(&warning), "{}", out.all());
    assert_environment(&out, "production", &server.url(), "--base-url");
}

// ---------------------------------------------------------------------------------------------
// Base URL sources in the banner

#[test]
fn banner_source_base_url_flag() {
    let server = TestServer::answering(200);
    let ws = Workspace::ping();
    let mut cmd = ws.command(&["localhost", "--base-url", &server.url()]);
    // The flag wins over the variable.
    cmd.env("ENDPOINT_CHECK_BASE_URL", "http://127.0.0.1:1");
    let out = run(cmd);
    assert_ran_once(&out, &server);
    assert_environment(&out, "localhost", &server.url(), "--base-url");
}

#[test]
fn banner_source_endpoint_check_base_url() {
    let server = TestServer::answering(200);
    let ws = staging_at("http://127.0.0.1:1");
    let mut cmd = ws.command(&["staging"]);
    cmd.env("ENDPOINT_CHECK_BASE_URL", format!("{}/", server.url()));
    let out = run(cmd);
    assert_ran_once(&out, &server);
    assert_environment(&out, "staging", &server.url(), "ENDPOINT_CHECK_BASE_URL");
}

#[test]
fn banner_source_environments_yaml_with_var_expansion() {
    let server = TestServer::answering(200);
    let ws = Workspace::with_environments(
        "title: Acme Endpoint Tests\nenvironments:\n  staging:\n    base_url: \"${CLI_ENV_STAGING_URL:-http://127.0.0.1:1}\"\n",
    );
    let mut cmd = ws.command(&["staging"]);
    cmd.env("CLI_ENV_STAGING_URL", server.url());
    let out = run(cmd);
    assert_ran_once(&out, &server);
    assert!(out.stdout.contains("Acme Endpoint Tests"), "{}", out.all());
    assert_environment(&out, "staging", &server.url(), "environments.yaml");
}

#[test]
fn banner_source_vercel_branch_url_wins_over_vercel_url() {
    let server = TestServer::answering(200);
    let ws = Workspace::ping();
    let mut cmd = ws.command(&["preview"]);
    // Vercel gives host names without a scheme; a loopback host gets http://.
    cmd.env("VERCEL_BRANCH_URL", server.url())
        .env("VERCEL_URL", "127.0.0.1:1");
    let out = run(cmd);
    assert_ran_once(&out, &server);
    assert_environment(&out, "preview", &server.url(), "VERCEL_BRANCH_URL");
}

#[test]
fn banner_source_vercel_url() {
    let server = TestServer::answering(200);
    let ws = Workspace::ping();
    let mut cmd = ws.command(&["preview"]);
    // Empty counts as unset.
    cmd.env("VERCEL_BRANCH_URL", "")
        .env("ENDPOINT_CHECK_BASE_URL", "")
        .env("VERCEL_URL", server.url());
    let out = run(cmd);
    assert_ran_once(&out, &server);
    assert_environment(&out, "preview", &server.url(), "VERCEL_URL");
}

#[test]
fn banner_source_deployment_status_event() {
    let server = TestServer::answering(200);
    let ws = Workspace::ping();
    let events = [
        json!({
            "deployment_status": {
                "state": "success",
                "environment_url": server.url(),
                "target_url": "https://vercel.com/acme/app/dpl_1"
            },
            "deployment": { "environment": "Preview – acme-app", "sha": SHA }
        }),
        // An empty environment_url: target_url.
        json!({
            "deployment_status": { "state": "success", "environment_url": "", "target_url": server.url() },
            "deployment": { "environment": "Preview" }
        }),
    ];
    for (i, event) in events.iter().enumerate() {
        let path = ws.write_file("event.json", &event.to_string());
        let mut cmd = ws.command(&["preview"]);
        cmd.env("GITHUB_EVENT_NAME", "deployment_status")
            .env("GITHUB_EVENT_PATH", &path);
        let out = run(cmd);
        out.code(0);
        assert_eq!(server.recorded_on("/ping").len(), i + 1, "{}", out.all());
        assert_environment(&out, "preview", &server.url(), "deployment_status");
    }
}

#[test]
fn banner_source_default_localhost() {
    let ws = Workspace::ping();
    let out = run(ws.command(&["list"]));
    out.code(0);
    assert_environment(&out, "localhost", "http://localhost:3000", "default");
}

#[test]
fn banner_source_guessed_alias() {
    let ws = Workspace::with_environments(
        "environments:\n  preview:\n    vercel: { project: acme-app, team: acme-team }\n",
    );
    let mut cmd = ws.command(&["list", "preview"]);
    cmd.env("VERCEL_GIT_COMMIT_REF", "feature/ABC_12");
    let out = run(cmd);
    out.code(0);
    assert_environment(
        &out,
        "preview",
        "https://acme-app-git-feature-abc-12-acme-team.vercel.app",
        "guessed",
    );
}

// ---------------------------------------------------------------------------------------------
// The Vercel REST API step

/// A stand-in for the Vercel REST API: `GET /v6/deployments` answers `list`; `GET
/// /v13/deployments/{uid}` answers `detail` (or 404).
fn vercel_api(list: (u16, serde_json::Value), detail: Option<serde_json::Value>) -> TestServer {
    TestServer::builder()
        .fallback_fn(move |seen, _| {
            if seen.path == "/v6/deployments" {
                Reply::json(list.1.clone()).with_status(list.0)
            } else if seen.path.starts_with("/v13/deployments/")
                && let Some(d) = &detail
            {
                Reply::json(d.clone())
            } else {
                Reply::json(json!({ "error": { "code": "not_found", "message": "no such route" } }))
                    .with_status(404)
            }
        })
        .start()
}

fn deployment(
    uid: &str,
    url: &str,
    state: &str,
    created: u64,
    target: Option<&str>,
    sha: &str,
) -> serde_json::Value {
    json!({
        "uid": uid,
        "name": "acme-app",
        "url": url,
        "state": state,
        "created": created,
        "target": target,
        "inspectorUrl": format!("https://vercel.com/acme/acme-app/{uid}"),
        "meta": { "githubCommitSha": sha, "githubCommitRef": "feature/x" }
    })
}

const TOKEN: &str = "tok_secret_123";

fn vercel_cmd(ws: &Workspace, api: &TestServer, args: &[&str]) -> std::process::Command {
    let mut cmd = ws.command(args);
    cmd.env("VERCEL_TOKEN", TOKEN)
        .env("VERCEL_PROJECT_ID", "prj_cli")
        .env("VERCEL_ORG_ID", "team_cli")
        .env("VERCEL_API_URL", api.url())
        .env("VERCEL_GIT_COMMIT_SHA", SHA);
    cmd
}

fn assert_token_hidden(out: &Run) {
    assert!(!out.all().contains(TOKEN), "the token leaked\n{}", out.all());
}

#[test]
fn banner_source_vercel_api_runs_against_the_matched_preview() {
    let preview = TestServer::answering(200);
    let production = TestServer::answering(200);
    let api = vercel_api(
        (
            200,
            json!({ "deployments": [
                // Newer, same commit, but production: ignored.
                deployment("dpl_prod", &production.host(), "READY", 2_000, Some("production"), SHA),
                deployment("dpl_prev", &preview.url(), "READY", 1_000, None, SHA),
            ], "pagination": { "count": 2, "next": null } }),
        ),
        None,
    );
    let ws = Workspace::ping();

    // `list preview` resolves (one API call) and sends no check request.
    let listed = run(vercel_cmd(&ws, &api, &["list", "preview"]));
    listed.code(0);
    assert_environment(&listed, "preview", &preview.url(), "vercel-api");
    assert!(preview.recorded().is_empty(), "{:?}", preview.recorded());
    assert_token_hidden(&listed);

    let out = run(vercel_cmd(&ws, &api, &["preview", "-vv"]));
    assert_ran_once(&out, &preview);
    assert_environment(&out, "preview", &preview.url(), "vercel-api");
    assert!(production.recorded().is_empty(), "{:?}", production.recorded());
    assert_token_hidden(&out);

    let calls = api.recorded();
    assert_eq!(calls.len(), 2, "{calls:?}");
    for call in &calls {
        assert_eq!(call.path, "/v6/deployments");
        assert!(call.query.contains("projectId=prj_cli"), "{}", call.query);
        assert!(call.query.contains("limit=20"), "{}", call.query);
        assert!(call.query.contains("teamId=team_cli"), "{}", call.query);
        assert_eq!(
            call.header_values("authorization"),
            vec![format!("Bearer {TOKEN}")]
        );
    }
}

#[test]
fn building_preview_becomes_ready_under_wait() {
    let preview = TestServer::answering(200);
    let ws = Workspace::ping();
    let api = vercel_api(
        (
            200,
            json!({ "deployments": [deployment("dpl_b", &preview.url(), "BUILDING", 1_000, Some("preview"), SHA)] }),
        ),
        Some(deployment(
            "dpl_b",
            &preview.url(),
            "READY",
            1_000,
            Some("preview"),
            SHA,
        )),
    );

    // Without --wait: exit 3, still building, nothing sent.
    let out = run(vercel_cmd(&ws, &api, &["preview"]));
    out.code(3);
    assert!(out.stderr.contains("still BUILDING"), "{}", out.all());
    assert!(out.stderr.contains("--wait"), "{}", out.all());
    assert!(preview.recorded().is_empty());

    // With --wait: polled (every 5 s) until READY, then the run.
    let out = run(vercel_cmd(&ws, &api, &["preview", "--wait", "40s"]));
    assert_ran_once(&out, &preview);
    assert!(
        out.stderr.contains("is BUILDING; waiting up to 40s"),
        "{}",
        out.all()
    );
    assert!(out.stderr.contains("now READY"), "{}", out.all());
    assert_environment(&out, "preview", &preview.url(), "vercel-api");
    assert!(
        api.recorded().iter().any(|r| r.path == "/v13/deployments/dpl_b"),
        "{:?}",
        api.recorded()
    );
    assert_token_hidden(&out);
}

#[test]
fn vercel_api_timeout_exits_3() {
    let api = SilentServer::new();
    let ws = Workspace::ping();
    let mut cmd = ws.command(&["list", "preview", "--timeout", "500ms"]);
    cmd.env("VERCEL_TOKEN", TOKEN)
        .env("VERCEL_PROJECT_ID", "prj_cli")
        .env("VERCEL_API_URL", api.url())
        .env("VERCEL_GIT_COMMIT_SHA", SHA);
    let out = run(cmd);
    out.code(3);
    assert!(
        out.stderr.contains("did not answer within 500ms (--timeout)"),
        "{}",
        out.all()
    );
    assert!(out.elapsed < Duration::from_secs(10), "took {:?}", out.elapsed);
    assert_token_hidden(&out);
}

#[test]
fn sigint_during_preview_detection_exits_130() {
    let api = SilentServer::new();
    let preview = TestServer::answering(200);
    let ws = Workspace::ping();
    let mut cmd = ws.command(&["preview", "--timeout", "5m"]);
    cmd.env("VERCEL_TOKEN", TOKEN)
        .env("VERCEL_PROJECT_ID", "prj_cli")
        .env("VERCEL_API_URL", api.url())
        .env("VERCEL_GIT_COMMIT_SHA", SHA);
    let running = Running::spawn(cmd);
    api.wait_for_connection(STARTUP);
    running.signal(libc::SIGINT);
    let out = running.wait(STARTUP);
    out.code(130);
    assert!(out.elapsed < Duration::from_secs(20), "took {:?}", out.elapsed);
    assert!(preview.recorded().is_empty());
    assert_token_hidden(&out);
}

#[test]
fn vercel_api_401_exits_3_and_never_prints_the_token() {
    // The API echoes the token in its error message: it must still not appear.
    let api = vercel_api(
        (
            401,
            json!({ "error": { "code": "forbidden", "message": format!("The token {TOKEN} is not valid") } }),
        ),
        None,
    );
    let ws = Workspace::ping();
    for args in [&["preview", "-vv"][..], &["list", "preview"][..]] {
        let out = run(vercel_cmd(&ws, &api, args));
        out.code(3);
        assert!(out.stderr.contains("HTTP 401"), "{}", out.all());
        assert!(out.stderr.contains("VERCEL_TOKEN"), "{}", out.all());
        assert!(out.stderr.contains("***"), "{}", out.all());
        assert_token_hidden(&out);
    }
}

// ---------------------------------------------------------------------------------------------
// `list`

#[test]
fn list_preview_resolves_like_a_run_and_sends_nothing() {
    let server = TestServer::answering(200);
    let ws = Workspace::ping();
    let mut cmd = ws.command(&["list", "preview"]);
    cmd.env("VERCEL_URL", server.url());
    let out = run(cmd);
    out.code(0);
    assert_environment(&out, "preview", &server.url(), "VERCEL_URL");
    assert!(out.stdout.contains("GET /ping"), "{}", out.all());
    assert!(server.recorded().is_empty(), "{:?}", server.recorded());
}

#[test]
fn list_ignores_wait_and_the_countdown() {
    let closed = RefusingPort::new();
    let ws = production_at(&closed.url());
    let out = run(ws.command(&["list", "production", "--wait", "20s"]));
    out.code(0);
    assert_environment(&out, "production", &closed.url(), "environments.yaml");
    assert!(!out.stderr.contains("Waiting"), "{}", out.all());
    assert_no_countdown(&out);
    assert!(out.elapsed < Duration::from_secs(10), "took {:?}", out.elapsed);
}

// ---------------------------------------------------------------------------------------------
// Exit 3

#[test]
fn unknown_environment_exits_3_listing_the_known_ones() {
    let ws = Workspace::with_environments("environments:\n  qa:\n    base_url: http://127.0.0.1:1\n");
    for args in [&["prodution"][..], &["list", "prodution"][..]] {
        let out = run(ws.command(args));
        out.code(3);
        assert!(out.stderr.contains("prodution"), "{}", out.all());
        for known in ["production", "preview", "staging", "localhost", "qa"] {
            assert!(out.stderr.contains(known), "{known} missing\n{}", out.all());
        }
        assert!(out.stderr.contains("Did you mean `production`"), "{}", out.all());
    }
}

#[test]
fn staging_without_base_url_exits_3_saying_where_to_set_it() {
    for ws in [
        Workspace::ping(),
        Workspace::with_environments("environments:\n  staging: { headers: { x-a: \"1\" } }\n"),
    ] {
        let out = run(ws.command(&["staging"]));
        out.code(3);
        let err = &out.stderr;
        assert!(
            err.contains("no base URL for environment `staging`"),
            "{}",
            out.all()
        );
        assert!(err.contains("base_url"), "{}", out.all());
        assert!(err.contains("environments.yaml"), "{}", out.all());
        assert!(err.contains("--base-url"), "{}", out.all());
        assert!(err.contains("ENDPOINT_CHECK_BASE_URL"), "{}", out.all());
    }
}

#[test]
fn preview_with_nothing_found_exits_3_listing_every_step() {
    let ws = Workspace::ping();
    for args in [&["preview"][..], &["list", "preview"][..]] {
        let out = run(ws.command(args));
        out.code(3);
        let err = &out.stderr;
        for step in [
            "preview URL not found",
            "1. explicit base URL: --base-url not given, ENDPOINT_CHECK_BASE_URL not set",
            "2. Vercel runtime variables: VERCEL_BRANCH_URL and VERCEL_URL are not set",
            "3. GitHub deployment_status event: GITHUB_EVENT_NAME is not set",
            "4. Vercel REST API: VERCEL_TOKEN is not set",
            "5. guessed branch alias: vercel.project and vercel.team are not set",
        ] {
            assert!(err.contains(step), "missing {step:?}\n{}", out.all());
        }
    }
}

#[test]
fn preview_steps_explain_why_each_did_not_apply() {
    // A token but no project; a deployment_status event for production; a branch too long to guess.
    let ws = Workspace::with_environments(
        "environments:\n  preview:\n    vercel: { project: acme-app, team: acme-team }\n",
    );
    let event = json!({
        "deployment_status": { "state": "success", "environment_url": "http://127.0.0.1:1" },
        "deployment": { "environment": "Production" }
    });
    let path = ws.write_file("event.json", &event.to_string());
    let mut cmd = ws.command(&["list", "preview"]);
    cmd.env("VERCEL_TOKEN", TOKEN)
        .env("GITHUB_EVENT_NAME", "deployment_status")
        .env("GITHUB_EVENT_PATH", &path)
        .env("VERCEL_GIT_COMMIT_REF", format!("feature/{}", "x".repeat(60)));
    let out = run(cmd);
    out.code(3);
    let err = &out.stderr;
    assert!(err.contains("does not start with `Preview`"), "{}", out.all());
    assert!(err.contains("no project known"), "{}", out.all());
    assert!(err.contains("longer than 63"), "{}", out.all());
    assert_token_hidden(&out);
}

// ---------------------------------------------------------------------------------------------
// Vercel deployment protection

const BYPASS: &str = "byp_secret_456";

#[test]
fn bypass_secret_is_sent_to_the_preview_and_never_shown() {
    let server = TestServer::answering(200);
    let ws = Workspace::ping();
    let mut cmd = ws.command(&["preview", "-vv"]);
    cmd.env("VERCEL_BRANCH_URL", server.url())
        .env("VERCEL_AUTOMATION_BYPASS_SECRET", BYPASS);
    let out = run(cmd);
    assert_ran_once(&out, &server);
    let request = &server.recorded_on("/ping")[0];
    assert_eq!(request.header_values("x-vercel-protection-bypass"), vec![BYPASS]);
    assert_eq!(request.header_values("x-vercel-set-bypass-cookie"), vec!["true"]);
    // -vv shows the request headers and the body, which echoes them: both masked.
    assert!(out.stdout.contains("x-vercel-protection-bypass"), "{}", out.all());
    assert!(
        !out.all().contains(BYPASS),
        "the bypass secret leaked\n{}",
        out.all()
    );

    // The JSON report too.
    let report = ws.path().join("report.json");
    let report_arg = report.display().to_string();
    let mut cmd = ws.command(&["preview", "-vv", "--format", "json", "--json", &report_arg]);
    cmd.env("VERCEL_BRANCH_URL", server.url())
        .env("VERCEL_AUTOMATION_BYPASS_SECRET", BYPASS);
    let out = run(cmd);
    out.code(0);
    assert!(!out.all().contains(BYPASS), "{}", out.all());
    let written = std::fs::read_to_string(&report).unwrap();
    assert!(
        written.contains("\"base_url_source\": \"VERCEL_BRANCH_URL\""),
        "{written}"
    );
    assert!(!written.contains(BYPASS), "{written}");
}

#[test]
fn bypass_headers_only_go_to_a_preview() {
    let server = TestServer::answering(200);
    let ws = staging_at(&server.url());
    let mut cmd = ws.command(&["staging"]);
    cmd.env("VERCEL_AUTOMATION_BYPASS_SECRET", BYPASS);
    let out = run(cmd);
    assert_ran_once(&out, &server);
    let request = &server.recorded_on("/ping")[0];
    assert!(
        request.header_values("x-vercel-protection-bypass").is_empty(),
        "{request:?}"
    );
}

#[test]
fn protected_preview_without_secret_fails_with_the_hint() {
    let server = TestServer::answering(401);
    let ws = Workspace::ping();
    let mut cmd = ws.command(&["preview"]);
    cmd.env("VERCEL_URL", server.url());
    let out = run(cmd);
    out.code(1);
    assert!(
        out.stdout.contains("expected status 200, got 401"),
        "{}",
        out.all()
    );
    assert!(out.stdout.contains("protected"), "{}", out.all());
    assert!(
        out.stdout.contains("VERCEL_AUTOMATION_BYPASS_SECRET"),
        "{}",
        out.all()
    );

    // Not a preview: no hint.
    let ws = staging_at(&server.url());
    let out = run(ws.command(&["staging"]));
    out.code(1);
    assert!(
        !out.stdout.contains("VERCEL_AUTOMATION_BYPASS_SECRET"),
        "{}",
        out.all()
    );
}

// ---------------------------------------------------------------------------------------------
// --wait

#[test]
fn wait_polls_until_a_late_server_listens() {
    let server = TestServer::builder()
        .answering(200)
        .listening_after(Duration::from_secs(1))
        .start();
    let ws = Workspace::ping();
    let out = run(ws.command(&["localhost", "--base-url", &server.url(), "--wait", "10s"]));
    assert_ran_once(&out, &server);
    assert!(
        out.stderr
            .contains(&format!("Waiting up to 10s for {} to answer", server.url())),
        "{}",
        out.all()
    );
    assert!(out.stderr.contains("not up yet"), "{}", out.all());
    assert!(out.stderr.contains("answered HTTP 200"), "{}", out.all());
}

#[test]
fn wait_runs_out_against_a_port_that_never_listens() {
    let closed = RefusingPort::new();
    let ws = staging_at(&closed.url());
    let out = run(ws.command(&["staging", "--wait", "500ms"]));
    out.code(3);
    assert!(
        out.stderr.contains("did not answer within 500ms"),
        "{}",
        out.all()
    );
    assert!(out.elapsed < Duration::from_secs(10), "took {:?}", out.elapsed);
}

#[test]
fn the_countdown_does_not_eat_the_wait_budget() {
    // The server is up: --wait answers at the first attempt, after the countdown.
    let server = TestServer::answering(200);
    let ws = staging_at(&server.url());
    let out = run(ws.command(&["staging", "--delay", "1500ms", "--wait", "1s"]));
    assert_ran_once(&out, &server);
    assert!(
        out.stderr.contains("About to run against staging"),
        "{}",
        out.all()
    );
    assert!(
        out.stderr
            .contains(&format!("Waiting up to 1s for {}", server.url())),
        "{}",
        out.all()
    );
}

#[test]
fn wait_gives_up_on_a_server_that_never_answers() {
    let silent = SilentServer::new();
    let ws = staging_at(&silent.url());
    let out = run(ws.command(&["staging", "--wait", "1s"]));
    out.code(3);
    assert!(out.stderr.contains("did not answer within 1s"), "{}", out.all());
    assert!(out.elapsed < Duration::from_secs(10), "took {:?}", out.elapsed);
}

#[test]
fn sigterm_during_wait_exits_143() {
    let closed = RefusingPort::new();
    let ws = staging_at(&closed.url());
    let running = Running::spawn(ws.command(&["staging", "--wait", "5m"]));
    running.wait_for_stderr("not up yet", STARTUP);
    running.signal(libc::SIGTERM);
    let out = running.wait(STARTUP);
    out.code(143);
}

// ---------------------------------------------------------------------------------------------
// Environment headers

#[test]
fn environment_headers_reach_the_server_and_dash_h_overrides_them() {
    let server = TestServer::answering(200);
    let ws = Workspace::with_environments(&format!(
        "environments:\n  staging:\n    base_url: {}\n    headers:\n      x-extra: 1\n      \
         x-from-var: \"${{CLI_ENV_HEADER_VALUE:-fallback}}\"\n",
        server.url()
    ));
    let mut cmd = ws.command(&["staging"]);
    cmd.env("CLI_ENV_HEADER_VALUE", "from-env");
    let out = run(cmd);
    assert_ran_once(&out, &server);
    let request = &server.recorded_on("/ping")[0];
    assert_eq!(request.header_values("x-extra"), vec!["1"]);
    assert_eq!(request.header_values("x-from-var"), vec!["from-env"]);

    // -H wins, whatever the case of its name.
    let out = run(ws.command(&["staging", "-H", "X-Extra: 2"]));
    out.code(0);
    let request = server.recorded_on("/ping").pop().unwrap();
    assert_eq!(request.header_values("x-extra"), vec!["2"], "{request:?}");
    assert_eq!(request.header_values("x-from-var"), vec!["fallback"]);
}

#[test]
fn bypass_secret_stays_on_the_preview_origin() {
    let preview = TestServer::answering(200);
    let elsewhere = TestServer::answering(200);
    let ws = Workspace::ping();
    // Replace the ping suite with one check on the preview and one absolute URL elsewhere.
    std::fs::write(
        ws.suites().join("ping.yaml"),
        format!(
            "customer: ping\nchecks:\n  - name: on the preview\n    request: {{ path: /ping }}\n  - name: elsewhere\n    request: {{ url: \"{}/ping\" }}\n",
            elsewhere.url()
        ),
    )
    .unwrap();
    let mut cmd = ws.command(&["preview"]);
    cmd.env("VERCEL_BRANCH_URL", preview.url())
        .env("VERCEL_AUTOMATION_BYPASS_SECRET", BYPASS);
    let out = run(cmd);
    out.code(0);
    let on_preview = &preview.recorded()[0];
    assert_eq!(
        on_preview.header_values("x-vercel-protection-bypass"),
        vec![BYPASS]
    );
    let other = &elsewhere.recorded()[0];
    assert!(
        other.header_values("x-vercel-protection-bypass").is_empty(),
        "{other:?}"
    );
    // A non-secret environment header still goes everywhere.
    assert_eq!(other.header_values("x-vercel-set-bypass-cookie"), vec!["true"]);
}

#[test]
fn scheme_less_preview_hosts_get_https_even_on_loopback() {
    // docs/environments.md#preview-url-detection: Vercel and GitHub give host names without a scheme, and `https://` is added.
    let server = TestServer::answering(200);
    let ws = Workspace::ping();
    let mut cmd = ws.command(&["list", "preview"]);
    cmd.env("VERCEL_URL", server.host());
    let out = run(cmd);
    out.code(0);
    assert_environment(
        &out,
        "preview",
        &format!("https://{}", server.host()),
        "VERCEL_URL",
    );

    let api = vercel_api(
        (
            200,
            json!({ "deployments": [deployment("dpl_x", &server.host(), "READY", 1_000, None, SHA)] }),
        ),
        None,
    );
    let out = run(vercel_cmd(&ws, &api, &["list", "preview"]));
    out.code(0);
    assert_environment(
        &out,
        "preview",
        &format!("https://{}", server.host()),
        "vercel-api",
    );
    assert!(server.recorded().is_empty(), "{:?}", server.recorded());
}
