//! Debian's Chromium, headless, on a local file: the DOM after the browser parsed the page
//! (`--dump-dom`), and screenshots (`--screenshot`). Each call gets its own throw-away profile,
//! the browser's background services are off, and every host name resolves to nothing, so a page
//! that tried to load something from elsewhere could not reach it (and the DOM checks say so).
//!
//! `scripts/test` installs `chromium` when it is missing; without it these tests fail saying how
//! to install it, never skip.

use super::process::{Run, Running};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// How long one browser run may take (a cold start on a loaded machine takes a few seconds).
const LIMIT: Duration = Duration::from_secs(90);

/// The browser: `/usr/bin/chromium`, else `chromium` on `PATH`.
#[track_caller]
pub fn chromium() -> PathBuf {
    let usual = PathBuf::from("/usr/bin/chromium");
    if usual.is_file() {
        return usual;
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("chromium"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "chromium is not installed: these tests open the HTML report in a real browser. \
                 Install it with `sudo apt-get install --no-install-recommends chromium` \
                 (scripts/test does this when it is missing)"
            )
        })
}

/// `chromium --headless …` on `page` with `args`, in a fresh profile; panics with its output
/// if it does not end well within [`LIMIT`].
#[track_caller]
fn headless(page: &Path, args: &[String]) -> Run {
    let profile = tempfile::tempdir().expect("a temporary browser profile");
    let mut cmd = Command::new(chromium());
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        // Nothing resolves: whatever the page asked for could only come from the file itself.
        "--host-resolver-rules=MAP * ~NOTFOUND",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(args)
    .arg(url_of(page))
    .current_dir(profile.path())
    .stdin(std::process::Stdio::null());
    let run = Running::spawn(cmd).wait(LIMIT);
    assert_eq!(
        run.code,
        Some(0),
        "chromium failed on {}:\n{}",
        page.display(),
        run.all()
    );
    run
}

/// `file://` and the absolute path.
pub fn url_of(page: &Path) -> String {
    let abs = std::fs::canonicalize(page).expect("the page exists");
    format!("file://{}", abs.display())
}

/// The page's DOM as the browser serialises it after parsing (scripts would have run by then).
#[track_caller]
pub fn dump_dom(page: &Path) -> String {
    let run = headless(page, &["--dump-dom".to_string()]);
    assert!(
        run.stdout.contains("</html>"),
        "no DOM from chromium:\n{}",
        run.all()
    );
    run.stdout
}

/// A PNG screenshot of the page in a window `width`×`height` CSS pixels.
#[track_caller]
pub fn screenshot(page: &Path, (width, height): (u32, u32), png: &Path) -> Vec<u8> {
    headless(
        page,
        &[
            format!("--screenshot={}", png.display()),
            format!("--window-size={width},{height}"),
        ],
    );
    std::fs::read(png).unwrap_or_else(|e| panic!("no screenshot at {}: {e}", png.display()))
}

/// Text as the browser serialises a text node: `&`, `<`, `>` and no-break spaces escaped.
pub fn as_dom_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\u{a0}', "&nbsp;")
}
