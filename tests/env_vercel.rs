//! Preview URL detection (docs/environments.md#preview-url-detection) against a local stand-in for the Vercel REST API on
//! 127.0.0.1. Every test passes its own environment lookup; the process environment is never
//! read or changed.

mod support;

use endpoint_check::env::vercel::{self, current_branch, current_commit, find_project_json};
use endpoint_check::env::{EnvironmentsFile, ResolveOptions, Target, resolve};
use endpoint_check::error::Error;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use support::server::{Recorded, RefusingPort, Reply, TestServer};

const TOKEN: &str = "vercel-token-s3cr3t";
const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
const OLD_SHA: &str = "fedcba9876543210fedcba9876543210fedcba98";

// ---------------------------------------------------------------------------------------------
// The stand-in Vercel API

struct MockState {
    list_status: u16,
    list_body: String,
    list_delay: Duration,
    /// uid → the answers of `GET /v13/deployments/{uid}`, the last one repeating.
    details: HashMap<String, VecDeque<Value>>,
}

/// `GET /v6/deployments` answers the list; `GET /v13/deployments/{uid}` the next of `details`
/// (or 404); the kit's server records every request.
struct Mock {
    state: Arc<Mutex<MockState>>,
    server: OnceLock<TestServer>,
}

impl Mock {
    fn with_deployments(deployments: Vec<Value>) -> Mock {
        Mock::raw(
            200,
            json!({ "deployments": deployments, "pagination": { "count": 0, "next": null } }).to_string(),
        )
    }
    fn raw(status: u16, body: impl Into<String>) -> Mock {
        Mock {
            state: Arc::new(Mutex::new(MockState {
                list_status: status,
                list_body: body.into(),
                list_delay: Duration::ZERO,
                details: HashMap::new(),
            })),
            server: OnceLock::new(),
        }
    }
    fn delay(self, delay: Duration) -> Mock {
        self.state.lock().unwrap().list_delay = delay;
        self
    }
    fn details(self, uid: &str, answers: Vec<Value>) -> Mock {
        self.state
            .lock()
            .unwrap()
            .details
            .insert(uid.to_string(), answers.into());
        self
    }
    fn requests(&self) -> Vec<Recorded> {
        self.server.get().map(TestServer::recorded).unwrap_or_default()
    }

    /// Serves the mock on a free loopback port; returns its base URL.
    fn start(&self) -> String {
        let state = self.state.clone();
        let server = TestServer::builder()
            .fallback_fn(move |r, _| answer(&state, r))
            .start();
        let url = server.url();
        assert!(self.server.set(server).is_ok(), "the mock is started once");
        url
    }
}

fn answer(state: &Mutex<MockState>, r: &Recorded) -> Reply {
    let mut s = state.lock().unwrap();
    if r.method != "GET" {
        return Reply::status(405);
    }
    if r.path == "/v6/deployments" {
        return Reply::json_text(s.list_body.clone())
            .with_status(s.list_status)
            .delay(s.list_delay);
    }
    let Some(uid) = r
        .path
        .strip_prefix("/v13/deployments/")
        .filter(|u| !u.contains('/'))
    else {
        return Reply::status(404);
    };
    let answer = match s.details.get_mut(uid) {
        Some(answers) if answers.len() > 1 => answers.pop_front(),
        Some(answers) => answers.front().cloned(),
        None => None,
    };
    match answer {
        Some(answer) => Reply::json(answer),
        None => Reply::json(json!({"error": {"code": "not_found", "message": "Deployment not found"}}))
            .with_status(404),
    }
}

fn deployment(uid: &str, state: &str, created: u64, target: Value, sha: &str, branch: &str) -> Value {
    json!({
        "uid": uid,
        "name": "agentcache-ai",
        "url": format!("agentcache-ai-{uid}-drgnflai-jetty.vercel.app"),
        "created": created,
        "source": "git",
        "state": state,
        "readyState": state,
        "type": "LAMBDAS",
        "creator": { "uid": "user_1", "username": "dev" },
        "inspectorUrl": format!("https://vercel.com/drgnflai-jetty/agentcache-ai/{uid}"),
        "meta": {
            "githubCommitSha": sha,
            "githubCommitRef": branch,
            "githubCommitMessage": "a change",
            "githubRepo": "agentcache"
        },
        "target": target,
        "aliasError": null
    })
}

/// A deployment as `GET /v13/deployments/{id}` describes it.
fn detail_answer(uid: &str, state: &str) -> Value {
    json!({
        "id": uid,
        "url": format!("agentcache-ai-{uid}-drgnflai-jetty.vercel.app"),
        "readyState": state,
        "status": state,
        "inspectorUrl": format!("https://vercel.com/drgnflai-jetty/agentcache-ai/{uid}"),
    })
}

fn url_of(uid: &str) -> String {
    format!("https://agentcache-ai-{uid}-drgnflai-jetty.vercel.app")
}

// ---------------------------------------------------------------------------------------------
// Resolution helpers

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + Sync + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name: &str| map.get(name).cloned()
}

fn file(yaml: &str) -> EnvironmentsFile {
    EnvironmentsFile::parse(yaml, "suites/environments.yaml").unwrap()
}

/// `preview` with the documented example configuration (REST project `prj_123` of `team_456`, and
/// the guessed alias of `agentcache-ai` / `drgnflai-jetty`).
fn example_file() -> EnvironmentsFile {
    file(
        "environments:\n  preview:\n    vercel:\n      project: agentcache-ai\n      team: drgnflai-jetty\n      project_id: prj_123\n      team_id: team_456\n    headers: { x-extra: \"1\" }\n",
    )
}

/// Environment of a CI run with the API configured (commit `SHA` on branch `feature/x`).
fn api_env(api: &str) -> Vec<(&'static str, String)> {
    vec![
        ("VERCEL_TOKEN", TOKEN.to_string()),
        ("VERCEL_API_URL", api.to_string()),
        ("VERCEL_GIT_COMMIT_SHA", SHA.to_string()),
        ("VERCEL_GIT_COMMIT_REF", "feature/x".to_string()),
    ]
}

struct Run {
    result: Result<Target, Error>,
    progress: Vec<String>,
}

async fn preview_in(
    cwd: &Path,
    env: &[(&str, String)],
    environments: Option<&EnvironmentsFile>,
    tweak: impl FnOnce(&mut ResolveOptions<'_>),
) -> Run {
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let lookup = vars(&pairs);
    let client = client();
    let progress = Mutex::new(Vec::new());
    let say = |line: &str| progress.lock().unwrap().push(line.to_string());
    let mut opts = ResolveOptions {
        environments,
        timeout: Duration::from_secs(10),
        poll_interval: Duration::from_millis(50),
        progress: Some(&say),
        ..ResolveOptions::new("preview", &lookup, cwd, &client)
    };
    tweak(&mut opts);
    let result = resolve(&opts).await;
    drop(opts);
    Run {
        result,
        progress: progress.into_inner().unwrap(),
    }
}

async fn preview(
    env: &[(&str, String)],
    environments: Option<&EnvironmentsFile>,
    tweak: impl FnOnce(&mut ResolveOptions<'_>),
) -> Run {
    // A fresh folder outside any git checkout: no `.vercel/project.json`, no git fallback.
    let cwd = tempfile::tempdir().unwrap();
    preview_in(cwd.path(), env, environments, tweak).await
}

fn owned(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
}

fn ok(run: Run) -> Target {
    match run.result {
        Ok(t) => t,
        Err(e) => panic!("expected a target, got: {e}"),
    }
}

fn env_error(run: Run) -> String {
    match run.result {
        Err(Error::Environment(message)) => {
            assert!(!message.contains(TOKEN), "the token leaked: {message}");
            message
        }
        other => panic!("expected an environment error, got {other:?}"),
    }
}

fn query_has(r: &Recorded, pair: &str) -> bool {
    r.query.split('&').any(|p| p == pair)
}

// ---------------------------------------------------------------------------------------------
// Steps 1 and 2: explicit URLs and the Vercel runtime variables

#[tokio::test]
async fn runtime_variables_in_order_with_https_added() {
    let t = ok(preview(
        &owned(&[
            ("VERCEL_BRANCH_URL", "app-git-main-team.vercel.app"),
            ("VERCEL_URL", "app-abc123.vercel.app"),
        ]),
        None,
        |_| {},
    )
    .await);
    assert_eq!(t.base_url, "https://app-git-main-team.vercel.app");
    assert_eq!(t.source, "VERCEL_BRANCH_URL");
    assert!(t.unauthorized_hint.is_some());
    assert_eq!(t.safety_delay, Duration::ZERO);

    let t = ok(preview(
        &owned(&[("VERCEL_BRANCH_URL", ""), ("VERCEL_URL", "app-abc123.vercel.app")]),
        None,
        |_| {},
    )
    .await);
    assert_eq!(
        (t.base_url.as_str(), t.source.as_str()),
        ("https://app-abc123.vercel.app", "VERCEL_URL")
    );
}

#[tokio::test]
async fn explicit_urls_beat_the_runtime_variables() {
    let env = owned(&[("VERCEL_BRANCH_URL", "branch.vercel.app")]);
    let f = file("environments:\n  preview: { base_url: \"https://pinned.test\" }\n");
    let t = ok(preview(&env, Some(&f), |_| {}).await);
    assert_eq!(
        (t.base_url.as_str(), t.source.as_str()),
        ("https://pinned.test", "environments.yaml")
    );

    let mut env2 = env.clone();
    env2.push(("ENDPOINT_CHECK_BASE_URL", "https://from-env.test".into()));
    let t = ok(preview(&env2, Some(&f), |_| {}).await);
    assert_eq!(t.source, "ENDPOINT_CHECK_BASE_URL");

    let t = ok(preview(&env2, Some(&f), |o| {
        o.base_url_flag = Some("https://flag.test".into())
    })
    .await);
    assert_eq!(
        (t.base_url.as_str(), t.source.as_str()),
        ("https://flag.test", "--base-url")
    );
}

#[tokio::test]
async fn bypass_headers_for_every_preview_source() {
    let env = owned(&[
        ("VERCEL_URL", "app.vercel.app"),
        ("VERCEL_AUTOMATION_BYPASS_SECRET", "bypass-s3cr3t"),
    ]);
    let t = ok(preview(&env, Some(&example_file()), |_| {}).await);
    assert_eq!(
        t.headers,
        vec![
            ("x-extra".to_string(), "1".to_string()),
            (
                "x-vercel-protection-bypass".to_string(),
                "bypass-s3cr3t".to_string()
            ),
            ("x-vercel-set-bypass-cookie".to_string(), "true".to_string()),
        ]
    );
    let t = ok(preview(&env, None, |o| o.base_url_flag = Some("https://x.test".into())).await);
    assert!(
        t.headers
            .iter()
            .any(|(h, v)| h == "x-vercel-protection-bypass" && v == "bypass-s3cr3t")
    );
}

// ---------------------------------------------------------------------------------------------
// Step 3: the GitHub deployment_status event

fn event_file(dir: &Path, event: Value) -> String {
    let path = dir.join("event.json");
    std::fs::write(&path, event.to_string()).unwrap();
    path.display().to_string()
}

fn status_event(state: &str, environment: &str, environment_url: &str, target_url: &str) -> Value {
    json!({
        "action": "created",
        "deployment": { "id": 1, "sha": SHA, "environment": environment },
        "deployment_status": {
            "state": state,
            "environment": environment,
            "environment_url": environment_url,
            "target_url": target_url,
        },
    })
}

#[tokio::test]
async fn deployment_status_event() {
    let dir = tempfile::tempdir().unwrap();
    let env = |event: Value| {
        owned(&[
            ("GITHUB_EVENT_NAME", "deployment_status"),
            ("GITHUB_EVENT_PATH", &event_file(dir.path(), event)),
        ])
    };

    let e = env(status_event(
        "success",
        "Preview",
        "app-git-x.vercel.app",
        "https://vercel.com/inspect/1",
    ));
    let t = ok(preview(&e, None, |_| {}).await);
    assert_eq!(
        (t.base_url.as_str(), t.source.as_str()),
        ("https://app-git-x.vercel.app", "deployment_status")
    );

    // An empty environment_url: target_url. "Preview – app" also starts with Preview.
    let e = env(status_event(
        "success",
        "Preview – agentcache-ai",
        "",
        "https://app-target.vercel.app",
    ));
    let t = ok(preview(&e, None, |_| {}).await);
    assert_eq!(t.base_url, "https://app-target.vercel.app");

    // Not a success, or not a preview: the step does not apply and the failure says why.
    let e = env(status_event("pending", "Preview", "app.vercel.app", ""));
    let err = env_error(preview(&e, None, |_| {}).await);
    assert!(
        err.contains("3. GitHub deployment_status event: deployment_status.state is `pending`"),
        "{err}"
    );
    let e = env(status_event("success", "Production", "app.vercel.app", ""));
    let err = env_error(preview(&e, None, |_| {}).await);
    assert!(
        err.contains("`Production`, which does not start with `Preview`"),
        "{err}"
    );

    // The runtime variables come first.
    let mut e = env(status_event("success", "Preview", "from-event.vercel.app", ""));
    e.push(("VERCEL_URL", "from-runtime.vercel.app".into()));
    let t = ok(preview(&e, None, |_| {}).await);
    assert_eq!(t.source, "VERCEL_URL");

    // A missing event file is a reason, not a crash.
    let e = owned(&[
        ("GITHUB_EVENT_NAME", "deployment_status"),
        ("GITHUB_EVENT_PATH", "/nonexistent/event.json"),
    ]);
    let err = env_error(preview(&e, None, |_| {}).await);
    assert!(
        err.contains("cannot read the event file /nonexistent/event.json"),
        "{err}"
    );
}

#[tokio::test]
async fn deployment_status_beats_the_api() {
    let mock = Mock::with_deployments(vec![deployment(
        "dpl_1",
        "READY",
        1000,
        Value::Null,
        SHA,
        "feature/x",
    )]);
    let api = mock.start();
    let dir = tempfile::tempdir().unwrap();
    let mut env = api_env(&api);
    env.push(("GITHUB_EVENT_NAME", "deployment_status".into()));
    env.push((
        "GITHUB_EVENT_PATH",
        event_file(
            dir.path(),
            status_event("success", "Preview", "from-event.vercel.app", ""),
        ),
    ));
    let t = ok(preview(&env, Some(&example_file()), |_| {}).await);
    assert_eq!(t.source, "deployment_status");
    assert!(mock.requests().is_empty(), "the API must not be asked");
}

// ---------------------------------------------------------------------------------------------
// Step 4: the Vercel REST API

#[tokio::test]
async fn api_matches_the_commit_and_ignores_production() {
    let mock = Mock::with_deployments(vec![
        // Newest, same commit, but production: ignored.
        deployment("dpl_prod", "READY", 5000, json!("production"), SHA, "feature/x"),
        // Same branch, older commit.
        deployment("dpl_branch", "READY", 4000, Value::Null, OLD_SHA, "feature/x"),
        deployment("dpl_sha", "READY", 3000, json!("preview"), SHA, "feature/x"),
    ]);
    let api = mock.start();
    let t = ok(preview(&api_env(&api), Some(&example_file()), |_| {}).await);
    assert_eq!(t.base_url, url_of("dpl_sha"));
    assert_eq!(t.source, "vercel-api");
    assert!(t.warnings.is_empty(), "{:?}", t.warnings);

    let requests = mock.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.path, "/v6/deployments");
    assert!(query_has(r, "projectId=prj_123"), "{}", r.query);
    assert!(query_has(r, "limit=20"), "{}", r.query);
    assert!(query_has(r, "teamId=team_456"), "{}", r.query);
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

#[tokio::test]
async fn api_falls_back_to_the_newest_branch_deployment_with_a_warning() {
    let mock = Mock::with_deployments(vec![
        deployment("dpl_older", "READY", 1000, Value::Null, "1111111111", "feature/x"),
        deployment("dpl_other", "READY", 9000, Value::Null, "2222222222", "main"),
        deployment("dpl_newer", "READY", 2000, Value::Null, OLD_SHA, "feature/x"),
    ]);
    let api = mock.start();
    let t = ok(preview(&api_env(&api), Some(&example_file()), |_| {}).await);
    assert_eq!(t.base_url, url_of("dpl_newer"));
    assert_eq!(t.source, "vercel-api");
    assert_eq!(t.warnings.len(), 1, "{:?}", t.warnings);
    let w = &t.warnings[0];
    assert!(w.contains("matched by branch `feature/x`"), "{w}");
    assert!(w.contains("0123456"), "{w}");
    assert!(w.contains("stale"), "{w}");
}

#[tokio::test]
async fn api_project_from_the_environment_and_team_id_only_for_teams() {
    let mock = Mock::with_deployments(vec![deployment("dpl_1", "READY", 1, Value::Null, SHA, "main")]);
    let api = mock.start();
    let mut env = api_env(&format!("{api}/"));
    env.push(("VERCEL_PROJECT_ID", "prj_env".into()));
    env.push(("VERCEL_ORG_ID", "user_abc".into()));
    let t = ok(preview(&env, None, |_| {}).await);
    assert_eq!(t.base_url, url_of("dpl_1"));
    let r = &mock.requests()[0];
    assert!(query_has(r, "projectId=prj_env"), "{}", r.query);
    assert!(!r.query.contains("teamId"), "{}", r.query);

    // environments.yaml's project_id wins over VERCEL_PROJECT_ID.
    let t = ok(preview(&env, Some(&example_file()), |_| {}).await);
    assert_eq!(t.source, "vercel-api");
    let r = &mock.requests()[1];
    assert!(query_has(r, "projectId=prj_123"), "{}", r.query);
    assert!(query_has(r, "teamId=team_456"), "{}", r.query);
}

#[tokio::test]
async fn api_project_from_vercel_project_json_up_to_the_git_root() {
    let mock = Mock::with_deployments(vec![deployment("dpl_1", "READY", 1, Value::Null, SHA, "main")]);
    let api = mock.start();
    let root = tempfile::tempdir().unwrap();
    let repo = root.path().join("repo");
    let web = repo.join("apps").join("web");
    std::fs::create_dir_all(&web).unwrap();
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::create_dir_all(repo.join(".vercel")).unwrap();
    std::fs::write(
        repo.join(".vercel/project.json"),
        r#"{"projectId":"prj_linked","orgId":"team_linked","settings":{}}"#,
    )
    .unwrap();
    let t = ok(preview_in(&web, &api_env(&api), None, |_| {}).await);
    assert_eq!(t.source, "vercel-api");
    let r = &mock.requests()[0];
    assert!(query_has(r, "projectId=prj_linked"), "{}", r.query);
    assert!(query_has(r, "teamId=team_linked"), "{}", r.query);

    assert_eq!(find_project_json(&web), Some(repo.join(".vercel/project.json")));
    assert_eq!(find_project_json(&repo), Some(repo.join(".vercel/project.json")));
}

#[test]
fn project_json_is_not_searched_above_the_git_root() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join(".vercel")).unwrap();
    std::fs::write(
        root.path().join(".vercel/project.json"),
        r#"{"projectId":"prj_outside"}"#,
    )
    .unwrap();
    let repo = root.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::create_dir_all(repo.join("sub")).unwrap();
    assert_eq!(find_project_json(&repo.join("sub")), None);
    // Outside a git checkout only the folder itself counts.
    let plain = root.path().join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    assert_eq!(find_project_json(&plain), None);
    assert_eq!(
        find_project_json(root.path()),
        Some(root.path().join(".vercel/project.json"))
    );
}

#[tokio::test]
async fn building_deployment_turns_ready_under_wait() {
    let mock = Mock::with_deployments(vec![deployment(
        "dpl_b",
        "BUILDING",
        1,
        Value::Null,
        SHA,
        "feature/x",
    )])
    .details(
        "dpl_b",
        vec![
            detail_answer("dpl_b", "BUILDING"),
            detail_answer("dpl_b", "BUILDING"),
            detail_answer("dpl_b", "READY"),
        ],
    );
    let api = mock.start();
    let run = preview(&api_env(&api), Some(&example_file()), |o| {
        o.wait = Some(Duration::from_secs(120));
    })
    .await;
    let progress = run.progress.clone();
    let t = ok(run);
    assert_eq!(t.base_url, url_of("dpl_b"));
    assert_eq!(t.source, "vercel-api");
    let polls: Vec<Recorded> = mock
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v13/deployments/dpl_b")
        .collect();
    assert_eq!(polls.len(), 3);
    assert!(polls.iter().all(|r| query_has(r, "teamId=team_456")));
    assert!(
        polls
            .iter()
            .all(|r| r.header("authorization") == Some(&format!("Bearer {TOKEN}")))
    );
    let text = progress.join("\n");
    assert!(text.contains("is BUILDING; waiting up to 2m"), "{text}");
    assert!(text.contains("READY"), "{text}");
}

#[tokio::test]
async fn building_deployment_without_wait_or_past_it() {
    let mock = Mock::with_deployments(vec![deployment(
        "dpl_b",
        "QUEUED",
        1,
        Value::Null,
        SHA,
        "feature/x",
    )])
    .details("dpl_b", vec![detail_answer("dpl_b", "BUILDING")]);
    let api = mock.start();
    let err = env_error(preview(&api_env(&api), Some(&example_file()), |_| {}).await);
    assert!(err.contains("still QUEUED"), "{err}");
    assert!(err.contains("--wait"), "{err}");
    assert!(
        err.contains("https://vercel.com/drgnflai-jetty/agentcache-ai/dpl_b"),
        "{err}"
    );
    assert!(mock.requests().iter().all(|r| r.path == "/v6/deployments"));

    let err = env_error(
        preview(&api_env(&api), Some(&example_file()), |o| {
            o.wait = Some(Duration::from_millis(300));
        })
        .await,
    );
    assert!(err.contains("still BUILDING after waiting 300ms"), "{err}");
}

#[tokio::test]
async fn failed_or_canceled_deployment_names_state_and_inspector() {
    for state in ["ERROR", "CANCELED"] {
        let mock = Mock::with_deployments(vec![
            deployment("dpl_bad", state, 2, Value::Null, SHA, "feature/x"),
            deployment("dpl_good", "READY", 1, Value::Null, OLD_SHA, "feature/x"),
        ]);
        let api = mock.start();
        let err = env_error(preview(&api_env(&api), Some(&example_file()), |_| {}).await);
        assert!(err.contains(&format!("in state {state}")), "{err}");
        assert!(
            err.contains("https://vercel.com/drgnflai-jetty/agentcache-ai/dpl_bad"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn error_state_under_wait_stops_polling() {
    let mock = Mock::with_deployments(vec![deployment(
        "dpl_b",
        "BUILDING",
        1,
        Value::Null,
        SHA,
        "feature/x",
    )])
    .details("dpl_b", vec![detail_answer("dpl_b", "ERROR")]);
    let api = mock.start();
    let err = env_error(
        preview(&api_env(&api), Some(&example_file()), |o| {
            o.wait = Some(Duration::from_secs(120))
        })
        .await,
    );
    assert!(err.contains("in state ERROR"), "{err}");
}

#[tokio::test]
async fn no_match_goes_on_to_the_guessed_alias() {
    let mock = Mock::with_deployments(vec![
        deployment("dpl_prod", "READY", 3, json!("production"), SHA, "feature/x"),
        deployment("dpl_main", "READY", 2, Value::Null, OLD_SHA, "main"),
    ]);
    let api = mock.start();
    let t = ok(preview(&api_env(&api), Some(&example_file()), |_| {}).await);
    assert_eq!(t.source, "guessed");
    assert_eq!(
        t.base_url,
        "https://agentcache-ai-git-feature-x-drgnflai-jetty.vercel.app"
    );
    assert_eq!(mock.requests().len(), 1);
}

#[tokio::test]
async fn no_match_and_nothing_to_guess_lists_every_step() {
    let mock = Mock::with_deployments(vec![deployment(
        "dpl_main",
        "READY",
        2,
        Value::Null,
        OLD_SHA,
        "main",
    )]);
    let api = mock.start();
    let f = file("environments:\n  preview:\n    vercel: { project_id: prj_123 }\n");
    let err = env_error(preview(&api_env(&api), Some(&f), |_| {}).await);
    assert!(
        err.starts_with("preview URL not found. Tried, in order:"),
        "{err}"
    );
    for line in [
        "1. explicit base URL: --base-url not given, ENDPOINT_CHECK_BASE_URL not set, suites/environments.yaml sets no preview base_url",
        "2. Vercel runtime variables: VERCEL_BRANCH_URL and VERCEL_URL are not set",
        "3. GitHub deployment_status event: GITHUB_EVENT_NAME is not set",
        "4. Vercel REST API: none of the 1 latest preview deployments of project prj_123",
        "is for commit 0123456 or branch `feature/x`",
        "5. guessed branch alias: vercel.project and vercel.team are not set",
    ] {
        assert!(err.contains(line), "missing {line:?} in:\n{err}");
    }

    // An empty list says so.
    let mock = Mock::with_deployments(vec![]);
    let api = mock.start();
    let err = env_error(preview(&api_env(&api), Some(&f), |_| {}).await);
    assert!(
        err.contains("has no preview deployment among its 20 latest"),
        "{err}"
    );
}

#[tokio::test]
async fn nothing_configured_lists_every_step() {
    let err = env_error(preview(&[], None, |_| {}).await);
    for line in [
        "1. explicit base URL: --base-url not given, ENDPOINT_CHECK_BASE_URL not set, no environments.yaml",
        "2. Vercel runtime variables:",
        "3. GitHub deployment_status event:",
        "4. Vercel REST API: VERCEL_TOKEN is not set",
        "5. guessed branch alias: vercel.project and vercel.team are not set",
    ] {
        assert!(err.contains(line), "missing {line:?} in:\n{err}");
    }

    // A token without a project.
    let err = env_error(preview(&owned(&[("VERCEL_TOKEN", TOKEN)]), None, |_| {}).await);
    assert!(err.contains("4. Vercel REST API: no project known"), "{err}");
}

#[tokio::test]
async fn api_errors_end_detection_with_their_cause() {
    let cases: Vec<(Mock, &str)> = vec![
        (
            Mock::raw(
                401,
                r#"{"error":{"code":"forbidden","message":"Not authorized"}}"#,
            ),
            "HTTP 401: Not authorized",
        ),
        (Mock::raw(403, "{}"), "HTTP 403"),
        (
            Mock::raw(
                404,
                r#"{"error":{"code":"not_found","message":"Project not found"}}"#,
            ),
            "project prj_123 not found (HTTP 404: Project not found",
        ),
        (Mock::raw(500, "oops"), "answered HTTP 500"),
        (Mock::raw(200, "<html>not json</html>"), "malformed answer from"),
        (
            Mock::raw(200, r#"{"deployments": "nope"}"#),
            "malformed answer from",
        ),
    ];
    for (mock, expected) in cases {
        let api = mock.start();
        // The guessed alias is configured: an API error must not fall through to it.
        let err = env_error(preview(&api_env(&api), Some(&example_file()), |_| {}).await);
        assert!(
            err.starts_with("preview URL detection, Vercel REST API:"),
            "{err}"
        );
        assert!(err.contains(expected), "expected {expected:?} in {err}");
        if expected.contains("401") {
            assert!(err.contains("VERCEL_TOKEN"), "{err}");
        }
    }
}

#[tokio::test]
async fn api_timeout_is_an_error() {
    let mock = Mock::with_deployments(vec![]).delay(Duration::from_secs(30));
    let api = mock.start();
    let err = env_error(
        preview(&api_env(&api), Some(&example_file()), |o| {
            o.timeout = Duration::from_millis(200)
        })
        .await,
    );
    assert!(err.contains("did not answer within 200ms (--timeout)"), "{err}");
}

#[tokio::test]
async fn api_unreachable_is_an_error() {
    let closed = RefusingPort::new();
    let err = env_error(preview(&api_env(&closed.url()), Some(&example_file()), |_| {}).await);
    assert!(err.contains("cannot reach"), "{err}");
    assert!(err.to_lowercase().contains("refused"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Step 5 and the current commit / branch

#[tokio::test]
async fn guessed_alias_from_the_branch() {
    let env = owned(&[("GITHUB_HEAD_REF", "feature/ABC_12")]);
    let t = ok(preview(&env, Some(&example_file()), |_| {}).await);
    assert_eq!(t.source, "guessed");
    assert_eq!(
        t.base_url,
        "https://agentcache-ai-git-feature-abc-12-drgnflai-jetty.vercel.app"
    );

    let long = owned(&[(
        "GITHUB_HEAD_REF",
        "feature/a-very-long-branch-name-that-goes-on-and-on",
    )]);
    let err = env_error(preview(&long, Some(&example_file()), |_| {}).await);
    assert!(err.contains("5. guessed branch alias: the alias label"), "{err}");
    assert!(err.contains("longer than 63"), "{err}");

    let err = env_error(preview(&[], Some(&example_file()), |_| {}).await);
    assert!(
        err.contains("5. guessed branch alias: the current branch is unknown"),
        "{err}"
    );
}

#[test]
fn slugs_and_the_label_rule() {
    assert_eq!(vercel::branch_slug("feature/ABC_12"), "feature-abc-12");
    assert_eq!(
        vercel::branch_slug("dependabot/npm_and_yarn/next-14.2.1"),
        "dependabot-npm-and-yarn-next-14-2-1"
    );
    assert_eq!(vercel::branch_slug("fix/ünïcödé—branch"), "fix-n-c-d-branch");
    assert_eq!(vercel::branch_slug("__Trim Me__"), "trim-me");
    assert_eq!(
        vercel::guessed_alias("app", "team", "main").unwrap(),
        "https://app-git-main-team.vercel.app"
    );
    let err = vercel::guessed_alias("agentcache-ai", "drgnflai-jetty", &"x".repeat(40)).unwrap_err();
    assert!(err.contains("is 73 characters, longer than 63"), "{err}");
}

fn with_opts<R>(env: &[(&str, &str)], cwd: &Path, f: impl FnOnce(&ResolveOptions<'_>) -> R) -> R {
    let lookup = vars(env);
    let client = client();
    let opts = ResolveOptions::new("preview", &lookup, cwd, &client);
    f(&opts)
}

#[test]
fn commit_sources_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let event = event_file(
        dir.path(),
        json!({ "pull_request": { "head": { "sha": "headsha" } } }),
    );
    let commit = |env: &[(&str, &str)]| with_opts(env, dir.path(), current_commit);

    assert_eq!(commit(&[]), None);
    assert_eq!(commit(&[("GITHUB_SHA", "mergesha")]).as_deref(), Some("mergesha"));
    let pr = [
        ("GITHUB_EVENT_NAME", "pull_request"),
        ("GITHUB_EVENT_PATH", event.as_str()),
        ("GITHUB_SHA", "mergesha"),
    ];
    assert_eq!(commit(&pr).as_deref(), Some("headsha"));
    let push = [
        ("GITHUB_EVENT_NAME", "push"),
        ("GITHUB_EVENT_PATH", event.as_str()),
        ("GITHUB_SHA", "pushsha"),
    ];
    assert_eq!(commit(&push).as_deref(), Some("pushsha"));
    let mut vercel = pr.to_vec();
    vercel.push(("VERCEL_GIT_COMMIT_SHA", "vercelsha"));
    assert_eq!(commit(&vercel).as_deref(), Some("vercelsha"));
    // Empty counts as unset.
    assert_eq!(
        commit(&[("VERCEL_GIT_COMMIT_SHA", ""), ("GITHUB_SHA", "g")]).as_deref(),
        Some("g")
    );
}

#[test]
fn branch_sources_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let branch = |env: &[(&str, &str)]| with_opts(env, dir.path(), current_branch);
    assert_eq!(branch(&[]), None);
    assert_eq!(branch(&[("GITHUB_REF_NAME", "main")]).as_deref(), Some("main"));
    assert_eq!(
        branch(&[("GITHUB_REF_NAME", "7/merge"), ("GITHUB_HEAD_REF", "feat")]).as_deref(),
        Some("feat")
    );
    assert_eq!(
        branch(&[("GITHUB_HEAD_REF", "feat"), ("VERCEL_GIT_COMMIT_REF", "vbranch")]).as_deref(),
        Some("vbranch")
    );
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.test",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn git_is_the_last_resort() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "feature/from-git"]);
    git(dir.path(), &["commit", "-q", "--allow-empty", "-m", "first"]);
    let head = git(dir.path(), &["rev-parse", "HEAD"]);
    let sub = dir.path().join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    assert_eq!(with_opts(&[], &sub, current_commit), Some(head.clone()));
    assert_eq!(
        with_opts(&[], &sub, current_branch).as_deref(),
        Some("feature/from-git")
    );
    // A variable wins over git.
    assert_eq!(
        with_opts(&[("GITHUB_SHA", "x")], &sub, current_commit).as_deref(),
        Some("x")
    );
    // A detached HEAD names no branch.
    git(dir.path(), &["checkout", "-q", "--detach"]);
    assert_eq!(with_opts(&[], &sub, current_branch), None);
    assert_eq!(with_opts(&[], &sub, current_commit), Some(head));
}
