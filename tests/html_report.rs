//! The HTML report (docs/reports.md#html) opened in a real browser, headless Chromium: the
//! demo's report shows every check, the p95 of every sampled check and every failure, draws its
//! charts as inline SVG and refers to nothing outside the page; screenshots at desktop and
//! phone widths are real pictures; markup in a check name or a response body stays text.
//! `--html` to a bad path is a usage error before any request.

mod support;

use regex::Regex;
use serde_json::Value;
use std::path::Path;
use std::sync::Mutex;
use support::browser::{self, as_dom_text};
use support::server::{Reply, TestServer};
use support::workspace::Workspace;

/// One demo run at a time: its suites hold 100 ms latency limits, and parallel full runs on a
/// small machine would test the machine.
static DEMO: Mutex<()> = Mutex::new(());

/// `demo --html DIR/report.html --json DIR/report.json`; returns the JSON report. The demo may
/// miss a latency limit on a loaded machine: whatever it reports, the page must show.
fn demo_report(dir: &Path) -> Value {
    let _one = DEMO.lock().unwrap_or_else(|p| p.into_inner());
    let mut cmd = support::bin::endpoint_check();
    cmd.current_dir(dir).args([
        "demo",
        "--color",
        "never",
        "-q",
        "--html",
        "report.html",
        "--json",
        "report.json",
    ]);
    let run = support::process::Run::of(&mut cmd);
    assert!(
        matches!(run.code, Some(0 | 1)),
        "demo did not run its checks:\n{}",
        run.all()
    );
    let text = std::fs::read_to_string(dir.join("report.json")).expect("the JSON report");
    serde_json::from_str(&text).expect("the JSON report parses")
}

fn checks(report: &Value) -> Vec<&Value> {
    report["suites"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["checks"].as_array().unwrap())
        .collect()
}

/// Every address the DOM would load or link to: the attribute values of its elements that hold
/// one, and the `url(…)`s of its styles. (Text is left out: the report shows URLs as text.)
fn addresses(dom: &str) -> Vec<String> {
    let tags = Regex::new(r"<[a-zA-Z][^>]*>").unwrap();
    let styles = Regex::new(r"(?is)<style[^>]*>(.*?)</style>").unwrap();
    let attrs = Regex::new(
        r#"(?i)\s(?:href|src|srcset|action|formaction|poster|data|xlink:href|background|ping|cite|manifest|longdesc)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))"#,
    )
    .unwrap();
    let urls = Regex::new(r#"(?i)url\(\s*['"]?([^'")]*)"#).unwrap();
    let mut found = Vec::new();
    for tag in tags.find_iter(dom).map(|m| m.as_str()) {
        for c in attrs.captures_iter(tag) {
            found.extend(c.iter().skip(1).flatten().next().map(|m| m.as_str().to_string()));
        }
        found.extend(urls.captures_iter(tag).map(|c| c[1].to_string()));
    }
    for style in styles.captures_iter(dom) {
        found.extend(urls.captures_iter(&style[1]).map(|c| c[1].to_string()));
        assert!(!style[1].contains("@import"), "no style sheet from elsewhere");
    }
    assert!(
        found.iter().any(|a| a.starts_with('#')),
        "the scan sees the page's own links"
    );
    found
}

#[test]
fn the_demo_report_in_a_browser_shows_every_check_figure_and_failure_and_loads_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let report = demo_report(dir.path());
    let page = dir.path().join("report.html");
    let dom = browser::dump_dom(&page);

    let all = checks(&report);
    assert!(all.len() >= 55, "the demo ran its checks");
    for c in &all {
        let name = as_dom_text(c["name"].as_str().unwrap());
        assert!(dom.contains(&format!(">{name}<")), "check {name} is in the DOM");
        for f in c["failures"].as_array().unwrap() {
            let f = as_dom_text(f.as_str().unwrap());
            assert!(dom.contains(&f), "failure {f:?} of {name} is in the DOM");
        }
    }
    let sampled: Vec<_> = all.iter().filter(|c| c["samples"].as_u64() > Some(1)).collect();
    assert!(sampled.len() >= 5, "the demo has sampled checks");
    for c in &sampled {
        let p95 = c["latency_ms"]["p95"].as_f64().unwrap();
        let shown = format!("<dt>p95</dt><dd>{p95:.1} ms</dd>");
        assert!(dom.contains(&shown), "p95 {shown} of {} is in the DOM", c["name"]);
    }
    let charts = dom.matches("<svg").count();
    assert!(
        charts >= sampled.len(),
        "an SVG per sampled check: {charts} for {}",
        sampled.len()
    );
    assert!(dom.contains("<rect") && dom.contains("<line") || dom.contains("<polyline"));
    let marked = |p: &str| Regex::new(&format!(r">\s*{p} [0-9<]")).unwrap().is_match(&dom);
    assert!(
        marked("p50") && marked("p95") && marked("p99"),
        "the percentiles are marked in the charts"
    );
    let failed = all.iter().filter(|c| c["status"] == "failed").count();
    if failed > 0 {
        assert!(
            dom.contains(r#"id="failures""#),
            "a list of links to the failures"
        );
        assert_eq!(
            dom.matches(r##"href="#check-"##).count(),
            failed,
            "one link per failure"
        );
    }

    assert!(!dom.to_ascii_lowercase().contains("<script"), "no script");
    assert!(
        !dom.to_ascii_lowercase().contains("<link"),
        "no style sheet or font from elsewhere"
    );
    assert!(!dom.contains("@import"));
    for address in addresses(&dom) {
        assert!(
            address.starts_with('#') || address.starts_with("data:"),
            "the page refers to {address:?}: only fragments and data: URLs are allowed"
        );
    }
}

/// The PNG's width and height (IHDR) and how many distinct colours a grid of its pixels holds.
fn picture(png: &[u8]) -> (u32, u32, usize) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("a PNG of a sane size")];
    let frame = reader.next_frame(&mut buf).expect("the PNG decodes");
    let channels = frame.color_type.samples();
    let (w, h) = (frame.width as usize, frame.height as usize);
    let mut colours = std::collections::HashSet::new();
    for y in (0..h).step_by(4) {
        for x in (0..w).step_by(4) {
            let i = (y * w + x) * channels;
            colours.insert(buf[i..i + channels.min(3)].to_vec());
        }
    }
    (frame.width, frame.height, colours.len())
}

#[test]
fn screenshots_at_desktop_and_phone_width_are_real_pictures() {
    let dir = tempfile::tempdir().unwrap();
    demo_report(dir.path());
    let page = dir.path().join("report.html");
    for (width, height) in [(1280, 2000), (375, 2000)] {
        let png = dir.path().join(format!("shot-{width}.png"));
        let bytes = browser::screenshot(&page, (width, height), &png);
        let (w, h, colours) = picture(&bytes);
        assert_eq!((w, h), (width, height), "the screenshot has the window's size");
        // A blank page is one colour; text, badges and charts give hundreds (anti-aliasing).
        assert!(
            colours >= 50,
            "{width}px: only {colours} colours: a blank or broken page"
        );
        assert!(
            bytes.len() > 20_000,
            "{width}px: {} bytes is too little for a report",
            bytes.len()
        );
    }
}

const HOSTILE_SUITE: &str = r#"
customer: hostile
checks:
  - name: "<script>alert(1)</script>"
    request: { path: /page }
    expect: { status: 200, body: { contains: "never there" } }
"#;

const HOSTILE_BODY: &str = r#"<h1 id="injected">Injected</h1><script>document.title="pwned"</script><img src="https://example.com/x.png">"#;

#[test]
fn markup_in_a_check_name_or_a_response_body_is_text_not_markup() {
    let server = TestServer::builder()
        .route(
            "/page",
            Reply::text(HOSTILE_BODY)
                .with_status(500)
                .header("content-type", "text/html"),
        )
        .start();
    let ws = Workspace::suite(HOSTILE_SUITE);
    let page = ws.path().join("report.html");
    ws.run(&server, &["-v", "--html", "report.html"]).code(1);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        !html.contains("<script"),
        "no script element in the file:\n{html}"
    );
    let dom = browser::dump_dom(&page);
    assert!(
        dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the name shows as text"
    );
    assert!(
        dom.contains(&as_dom_text(HOSTILE_BODY)),
        "the body shows as text (-v)"
    );
    assert!(
        !dom.contains(r#"<h1 id="injected""#) && !dom.contains("<img"),
        "no element from the body"
    );
    assert!(!dom.contains("<title>pwned"), "nothing ran");
    assert!(
        dom.contains("expected status 200, got 500"),
        "the failure with expected and found"
    );
    for address in addresses(&dom) {
        assert!(
            address.starts_with('#') || address.starts_with("data:"),
            "{address:?}"
        );
    }
}

#[test]
fn html_to_a_missing_folder_is_a_usage_error_before_any_request() {
    let server = TestServer::answering(200);
    let ws = Workspace::ping();
    ws.run(&server, &["--html", "no/such/folder/report.html"])
        .code(2)
        .stderr_has("does not exist");
    assert_eq!(server.requests(), 0, "nothing was sent");
}
