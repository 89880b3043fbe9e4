//! Environment resolution (docs/environments.md): `environments.yaml`, the lookup order, the safety delay,
//! headers, `--wait` and the countdown. Only 127.0.0.1; the process environment is never read or
//! changed (every test passes its own lookup).

mod support;

use endpoint_check::env::{
    self, EnvironmentsFile, ResolveOptions, Target, countdown, resolve, wait_until_up,
};
use endpoint_check::error::Error;
use std::collections::HashMap;
use std::time::Duration;
use support::server::{RefusingPort, Reply, TestServer};

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

fn parse_err(yaml: &str) -> String {
    EnvironmentsFile::parse(yaml, "suites/environments.yaml")
        .unwrap_err()
        .to_string()
}

const EXAMPLE_FILE: &str = r#"
title: AgentCache Customer Endpoint Tests       # banner title
environments:
  production:
    base_url: https://agentcache.ai
    safety_delay: 5s          # default 5s for `production`, 0 for every other
  staging:   { base_url: "${STAGING_URL:-https://staging.agentcache.ai}" }
  localhost: { base_url: http://localhost:3000 }
  preview:
    vercel:                   # all optional, see 3.1
      project: agentcache-ai  # project name and team (scope) slug, for the guessed alias
      team: drgnflai-jetty
      project_id: prj_123     # for the REST API; team_id: team_456
    headers: { x-extra: "1" }  # any environment may add headers to every request
"#;

async fn resolve_with(
    name: &str,
    environments: Option<&EnvironmentsFile>,
    lookup: &(dyn Fn(&str) -> Option<String> + Sync),
    tweak: impl FnOnce(&mut ResolveOptions<'_>),
) -> Result<Target, Error> {
    let client = client();
    let cwd = tempfile::tempdir().unwrap();
    let mut opts = ResolveOptions {
        environments,
        ..ResolveOptions::new(name, lookup, cwd.path(), &client)
    };
    tweak(&mut opts);
    resolve(&opts).await
}

fn env_error(result: Result<Target, Error>) -> String {
    match result {
        Err(Error::Environment(message)) => message,
        other => panic!("expected an environment error, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// environments.yaml

#[test]
fn loads_the_example_file() {
    let f = file(EXAMPLE_FILE);
    assert_eq!(f.file, "suites/environments.yaml");
    assert_eq!(f.title.as_deref(), Some("AgentCache Customer Endpoint Tests"));
    let prod = &f.environments["production"];
    assert_eq!(prod.base_url.as_deref(), Some("https://agentcache.ai"));
    assert_eq!(prod.safety_delay, Some(Duration::from_secs(5)));
    assert_eq!(
        f.environments["staging"].base_url.as_deref(),
        Some("${STAGING_URL:-https://staging.agentcache.ai}")
    );
    let preview = &f.environments["preview"];
    assert_eq!(preview.headers, vec![("x-extra".to_string(), "1".to_string())]);
    let vercel = preview.vercel.as_ref().unwrap();
    assert_eq!(vercel.project.as_deref(), Some("agentcache-ai"));
    assert_eq!(vercel.team.as_deref(), Some("drgnflai-jetty"));
    assert_eq!(vercel.project_id.as_deref(), Some("prj_123"));
    assert_eq!(vercel.team_id, None);
    assert_eq!(
        EnvironmentsFile::known_names(Some(&f)),
        ["production", "preview", "staging", "localhost", "demo"]
    );
}

#[test]
fn load_reads_a_file_and_a_missing_file_is_none() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("environments.yaml");
    assert_eq!(EnvironmentsFile::load(&path, "environments.yaml").unwrap(), None);
    std::fs::write(&path, "environments:\n  qa: { base_url: qa.example.test }\n").unwrap();
    let f = EnvironmentsFile::load(&path, "environments.yaml")
        .unwrap()
        .unwrap();
    assert_eq!(f.title, None);
    assert!(EnvironmentsFile::known_names(Some(&f)).contains(&"qa".to_string()));
    // An empty file (or only comments) is an empty configuration.
    std::fs::write(&path, "# nothing yet\n").unwrap();
    let f = EnvironmentsFile::load(&path, "environments.yaml")
        .unwrap()
        .unwrap();
    assert!(f.environments.is_empty());
}

#[test]
fn durations_in_the_file() {
    let f = file(
        "environments:\n  a: { safety_delay: 250ms }\n  b: { safety_delay: 1500 }\n  c: { safety_delay: 1.5s }\n  d: { safety_delay: 1m }\n  e:\n",
    );
    let delay = |n: &str| f.environments[n].safety_delay;
    assert_eq!(delay("a"), Some(Duration::from_millis(250)));
    assert_eq!(delay("b"), Some(Duration::from_millis(1500)));
    assert_eq!(delay("c"), Some(Duration::from_millis(1500)));
    assert_eq!(delay("d"), Some(Duration::from_secs(60)));
    assert_eq!(delay("e"), None);
}

#[test]
fn unknown_fields_are_named_with_a_suggestion_and_a_position() {
    let err = parse_err("environments:\n  production:\n    base_url: https://x.test\n    safty_delay: 5s\n");
    assert!(err.starts_with("suites/environments.yaml:4:5: "), "{err}");
    assert!(err.contains("unknown field `safty_delay`"), "{err}");
    assert!(err.contains("did you mean `safety_delay`?"), "{err}");

    let err = parse_err("titel: x\n");
    assert!(err.starts_with("suites/environments.yaml:1:1: "), "{err}");
    assert!(
        err.contains("unknown field `titel`, did you mean `title`?"),
        "{err}"
    );

    let err = parse_err("environments:\n  preview:\n    vercel: { projectId: prj_1 }\n");
    assert!(err.starts_with("suites/environments.yaml:3:15: "), "{err}");
    assert!(err.contains("did you mean `project_id`?"), "{err}");

    let err = parse_err("environments:\n  staging: { colour: blue }\n");
    assert!(err.contains("unknown field `colour`"), "{err}");
    assert!(!err.contains("did you mean"), "{err}");
}

#[test]
fn invalid_values_are_suite_errors_with_positions() {
    let err = parse_err("environments:\n  production:\n    safety_delay: soon\n");
    assert!(err.starts_with("suites/environments.yaml:3:19: "), "{err}");
    assert!(err.contains("invalid duration \"soon\""), "{err}");

    let err = parse_err("environments:\n  list: { base_url: https://x.test }\n");
    assert!(err.starts_with("suites/environments.yaml:2:"), "{err}");
    assert!(err.contains("`list` is a subcommand"), "{err}");

    let err = parse_err("environments:\n  staging:\n    headers: { x-a: \"1\", X-A: \"2\" }\n");
    assert!(err.contains("header `X-A` is set twice"), "{err}");

    let err = parse_err("environments:\n  staging:\n    headers: { \"bad header\": \"1\" }\n");
    assert!(err.contains("invalid header name `bad header`"), "{err}");

    let err = parse_err("environments:\n  staging: { base_url: \"${UNTERMINATED\" }\n");
    assert!(err.starts_with("suites/environments.yaml:2:"), "{err}");
    assert!(err.contains("unterminated"), "{err}");

    let err = parse_err("environments:\n  staging: [1, 2]\n");
    assert!(err.starts_with("suites/environments.yaml:2:12: "), "{err}");

    let err = parse_err("environments:\n  staging: { base_url: https://x.test\n  qa: {}\n");
    assert!(err.starts_with("suites/environments.yaml:3:"), "{err}");
    println!("{err}");
}

// ---------------------------------------------------------------------------------------------
// Resolution

#[tokio::test]
async fn unknown_environment_lists_the_existing_ones() {
    let f = file("environments:\n  qa: { base_url: https://qa.test }\n");
    let lookup = vars(&[]);
    let err = env_error(resolve_with("stagign", Some(&f), &lookup, |_| {}).await);
    assert!(err.contains("unknown environment `stagign`"), "{err}");
    assert!(err.contains("did you mean `staging`?"), "{err}");
    assert!(
        err.contains("production, preview, staging, localhost, demo, qa"),
        "{err}"
    );
}

#[tokio::test]
async fn an_environment_defined_only_in_the_file_resolves() {
    let f = file("environments:\n  qa-eu:\n    base_url: qa.example.test/api/\n    safety_delay: 2s\n");
    let lookup = vars(&[]);
    let t = resolve_with("qa-eu", Some(&f), &lookup, |_| {}).await.unwrap();
    assert_eq!(t.name, "qa-eu");
    assert_eq!(t.base_url, "https://qa.example.test/api");
    assert_eq!(t.source, "environments.yaml");
    assert_eq!(t.safety_delay, Duration::from_secs(2));
    assert!(t.unauthorized_hint.is_none());
}

#[tokio::test]
async fn no_base_url_says_where_to_set_it() {
    let lookup = vars(&[]);
    let err = env_error(resolve_with("staging", None, &lookup, |_| {}).await);
    assert!(err.contains("no base URL for environment `staging`"), "{err}");
    assert!(err.contains("base_url"), "{err}");
    assert!(err.contains("--base-url"), "{err}");

    let f = file("environments:\n  production: { safety_delay: 1s }\n");
    let err = env_error(resolve_with("production", Some(&f), &lookup, |_| {}).await);
    assert!(err.contains("suites/environments.yaml"), "{err}");
}

#[tokio::test]
async fn localhost_has_a_built_in_default_the_file_can_replace() {
    let lookup = vars(&[]);
    let t = resolve_with("localhost", None, &lookup, |_| {}).await.unwrap();
    assert_eq!(t.base_url, "http://localhost:3000");
    assert_eq!(t.source, "default");
    assert_eq!(t.safety_delay, Duration::ZERO);

    let f = file("environments:\n  localhost: { base_url: \"http://127.0.0.1:8080/\" }\n");
    let t = resolve_with("localhost", Some(&f), &lookup, |_| {})
        .await
        .unwrap();
    assert_eq!(t.base_url, "http://127.0.0.1:8080");
    assert_eq!(t.source, "environments.yaml");
}

#[tokio::test]
async fn explicit_sources_in_order() {
    let f = file(EXAMPLE_FILE);
    // The file.
    let none = vars(&[]);
    let t = resolve_with("production", Some(&f), &none, |_| {}).await.unwrap();
    assert_eq!(
        (t.base_url.as_str(), t.source.as_str()),
        ("https://agentcache.ai", "environments.yaml")
    );
    // ENDPOINT_CHECK_BASE_URL beats the file.
    let env = vars(&[("ENDPOINT_CHECK_BASE_URL", "https://from-env.test/")]);
    let t = resolve_with("production", Some(&f), &env, |_| {}).await.unwrap();
    assert_eq!(
        (t.base_url.as_str(), t.source.as_str()),
        ("https://from-env.test", "ENDPOINT_CHECK_BASE_URL")
    );
    // --base-url beats both; the rest of the environment (the safety delay) still applies.
    let t = resolve_with("production", Some(&f), &env, |o| {
        o.base_url_flag = Some("flag.test".into());
    })
    .await
    .unwrap();
    assert_eq!(
        (t.base_url.as_str(), t.source.as_str()),
        ("https://flag.test", "--base-url")
    );
    assert_eq!(t.safety_delay, Duration::from_secs(5));
    // An empty ENDPOINT_CHECK_BASE_URL counts as unset.
    let empty = vars(&[("ENDPOINT_CHECK_BASE_URL", "")]);
    let t = resolve_with("production", Some(&f), &empty, |_| {})
        .await
        .unwrap();
    assert_eq!(t.source, "environments.yaml");
}

#[tokio::test]
async fn base_url_variables_are_expanded() {
    let f = file(EXAMPLE_FILE);
    let none = vars(&[]);
    let t = resolve_with("staging", Some(&f), &none, |_| {}).await.unwrap();
    assert_eq!(t.base_url, "https://staging.agentcache.ai");
    assert_eq!(t.source, "environments.yaml");

    let set = vars(&[("STAGING_URL", "https://pr-7.staging.test")]);
    let t = resolve_with("staging", Some(&f), &set, |_| {}).await.unwrap();
    assert_eq!(t.base_url, "https://pr-7.staging.test");

    // Empty counts as unset: the default applies.
    let empty = vars(&[("STAGING_URL", "")]);
    let t = resolve_with("staging", Some(&f), &empty, |_| {}).await.unwrap();
    assert_eq!(t.base_url, "https://staging.agentcache.ai");

    let strict = file("environments:\n  staging: { base_url: \"https://${STAGING_HOST}/v1\" }\n");
    let err = env_error(resolve_with("staging", Some(&strict), &none, |_| {}).await);
    assert!(err.contains("STAGING_HOST"), "{err}");
    assert!(err.contains("not set"), "{err}");
    let host = vars(&[("STAGING_HOST", "s.test")]);
    let t = resolve_with("staging", Some(&strict), &host, |_| {})
        .await
        .unwrap();
    assert_eq!(t.base_url, "https://s.test/v1");
}

#[tokio::test]
async fn invalid_base_urls_are_environment_errors() {
    let lookup = vars(&[]);
    let err = env_error(
        resolve_with("staging", None, &lookup, |o| {
            o.base_url_flag = Some("ftp://x.test".into())
        })
        .await,
    );
    assert!(
        err.contains("invalid base URL `ftp://x.test` (from --base-url)"),
        "{err}"
    );
}

#[tokio::test]
async fn safety_delay_rules() {
    let f = file(
        "environments:\n  production: { base_url: https://p.test }\n  staging: { base_url: https://s.test }\n  slow: { base_url: https://x.test, safety_delay: 2s }\n",
    );
    let lookup = vars(&[]);
    let delay = |name: &'static str, tweak: fn(&mut ResolveOptions<'_>)| {
        let f = &f;
        let lookup = &lookup;
        async move {
            resolve_with(name, Some(f), lookup, tweak)
                .await
                .unwrap()
                .safety_delay
        }
    };
    assert_eq!(delay("production", |_| {}).await, Duration::from_secs(5));
    assert_eq!(delay("staging", |_| {}).await, Duration::ZERO);
    assert_eq!(delay("slow", |_| {}).await, Duration::from_secs(2));
    // --delay wins, for any environment.
    assert_eq!(
        delay("staging", |o| o.delay = Some(Duration::from_secs(3))).await,
        Duration::from_secs(3)
    );
    assert_eq!(
        delay("production", |o| o.delay = Some(Duration::from_millis(1500))).await,
        Duration::from_millis(1500)
    );
    assert_eq!(
        delay("production", |o| o.delay = Some(Duration::ZERO)).await,
        Duration::ZERO
    );
    // --yes wins over everything.
    assert_eq!(delay("production", |o| o.yes = true).await, Duration::ZERO);
    assert_eq!(
        delay("slow", |o| {
            o.yes = true;
            o.delay = Some(Duration::from_secs(9));
        })
        .await,
        Duration::ZERO
    );
}

#[tokio::test]
async fn headers_are_expanded_and_preview_gets_the_bypass_headers() {
    let f = file(
        "environments:\n  staging:\n    base_url: https://s.test\n    headers: { x-tenant: \"${TENANT:-acme}\", authorization: \"Bearer ${STAGING_TOKEN}\" }\n  preview:\n    base_url: https://p.test\n    headers: { x-extra: 1 }\n",
    );
    let lookup = vars(&[
        ("STAGING_TOKEN", "tok-123"),
        ("VERCEL_AUTOMATION_BYPASS_SECRET", "bypass-xyz"),
    ]);
    let t = resolve_with("staging", Some(&f), &lookup, |_| {}).await.unwrap();
    assert_eq!(
        t.headers,
        vec![
            ("x-tenant".to_string(), "acme".to_string()),
            ("authorization".to_string(), "Bearer tok-123".to_string()),
        ]
    );
    assert!(t.unauthorized_hint.is_none());

    let t = resolve_with("preview", Some(&f), &lookup, |_| {}).await.unwrap();
    assert!(t.unauthorized_hint.is_some());
    assert_eq!(t.source, "environments.yaml");
    assert_eq!(
        t.headers,
        vec![
            ("x-extra".to_string(), "1".to_string()),
            ("x-vercel-protection-bypass".to_string(), "bypass-xyz".to_string()),
            ("x-vercel-set-bypass-cookie".to_string(), "true".to_string()),
        ]
    );

    // Without the secret, no bypass headers; an undefined header variable is an error.
    let no_secret = vars(&[]);
    let t = resolve_with("preview", Some(&f), &no_secret, |_| {})
        .await
        .unwrap();
    assert_eq!(t.headers, vec![("x-extra".to_string(), "1".to_string())]);
    let err = env_error(resolve_with("staging", Some(&f), &no_secret, |_| {}).await);
    assert!(err.contains("STAGING_TOKEN"), "{err}");
}

#[test]
fn secrets_lists_what_resolution_may_touch() {
    let f = file(
        "environments:\n  staging:\n    base_url: \"https://${HOST}/?key=${API_KEY}\"\n    headers: { authorization: \"Bearer ${STAGING_CRED}\", x-api-key: literal-key }\n",
    );
    let lookup = vars(&[
        ("VERCEL_TOKEN", "vt"),
        ("VERCEL_AUTOMATION_BYPASS_SECRET", ""),
        ("HOST", "h.test"),
        ("API_KEY", "k-1"),
        ("STAGING_CRED", "cred-9"),
    ]);
    let secrets = env::secrets(Some(&f), &lookup);
    for s in ["vt", "k-1", "cred-9", "Bearer cred-9", "literal-key"] {
        assert!(secrets.contains(&s.to_string()), "{s} missing from {secrets:?}");
    }
    assert!(!secrets.contains(&"h.test".to_string()));
    assert!(!secrets.contains(&String::new()));
}

// ---------------------------------------------------------------------------------------------
// --wait and the countdown

/// Answers every request with `204 No Content`, listening only after `delay`.
fn answer_204(delay: Duration) -> TestServer {
    TestServer::builder()
        .fallback_fn(|_, _| Reply::status(204))
        .listening_after(delay)
        .start()
}

#[tokio::test]
async fn wait_until_up_waits_for_a_late_listener() {
    let server = answer_204(Duration::from_secs(1));
    let url = format!("{}/", server.url());
    let mut progress = Vec::new();
    wait_until_up(&client(), &url, Duration::from_secs(60), &mut progress)
        .await
        .unwrap();
    // It only returned once the listener existed.
    assert!(server.is_listening());
    let text = String::from_utf8(progress).unwrap();
    assert!(text.contains(&format!("Waiting up to 1m for {url}")), "{text}");
    assert!(text.contains("not up yet"), "{text}");
    assert!(text.contains("answered HTTP 204"), "{text}");
}

#[tokio::test]
async fn wait_until_up_answers_at_once_when_up() {
    let server = answer_204(Duration::ZERO);
    let mut progress = Vec::new();
    wait_until_up(&client(), &server.url(), Duration::from_secs(60), &mut progress)
        .await
        .unwrap();
    let text = String::from_utf8(progress).unwrap();
    assert!(text.contains("(1 attempt)"), "{text}");
    assert!(!text.contains("not up yet"), "{text}");
}

#[tokio::test]
async fn wait_until_up_gives_up_when_time_runs_out() {
    let closed = RefusingPort::new();
    let url = closed.url();
    let mut progress = Vec::new();
    let err = wait_until_up(&client(), &url, Duration::from_millis(500), &mut progress).await;
    let Err(err @ Error::Environment(_)) = err else {
        panic!("expected an environment error, got {err:?}");
    };
    assert_eq!(err.exit_code(), endpoint_check::exit::Code::Environment);
    let message = err.to_string();
    assert!(message.contains(&url), "{message}");
    assert!(message.contains("did not answer within 500ms"), "{message}");
    assert!(message.to_lowercase().contains("refused"), "{message}");
}

#[tokio::test]
async fn countdown_names_the_environment_and_counts() {
    let target = Target {
        name: "production".into(),
        base_url: "https://agentcache.ai".into(),
        source: "environments.yaml".into(),
        safety_delay: Duration::from_millis(1500),
        ..Target::default()
    };
    let mut out = Vec::new();
    countdown(&target, Duration::from_millis(1500), &mut out).await;
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("production"), "{text}");
    assert!(lines[0].contains("https://agentcache.ai"), "{text}");
    assert!(lines[0].contains("Ctrl-C"), "{text}");
    assert_eq!(&lines[1..], ["Starting in 2…", "Starting in 1…"]);

    let mut out = Vec::new();
    countdown(&target, Duration::ZERO, &mut out).await;
    assert!(out.is_empty());
}
