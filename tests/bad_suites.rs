//! Bad input (docs/suites.md#suite-errors): every malformed suite is refused with `FILE:LINE:COLUMN: message`
//! (exit 2), the position pointing at the mistake, and nothing panics, hangs or eats memory.
//!
//! `tests/bad-suites/` holds the corpus; `expected.txt` there gives, for each file, the position
//! of one of its errors and a fragment of that error's message. Cases not worth committing (bytes
//! that are not UTF-8, a 50 MB file, 100 000 nested brackets, suites that are only big) are
//! written to a temporary folder by the tests below.

use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use endpoint_check::error::{Error, SuiteError};
use endpoint_check::exit::Code;
use endpoint_check::suite::{MAX_INHERITED_COPIES, Suite, load_all, load_file};

fn known() -> Vec<String> {
    endpoint_check::env::BUILT_IN
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-suites")
}

/// One line of `expected.txt`.
struct Case {
    file: String,
    /// `LINE:COLUMN`, or `None` for `-`.
    at: Option<(usize, usize)>,
    fragment: String,
}

fn cases() -> Vec<Case> {
    let table = std::fs::read_to_string(corpus_dir().join("expected.txt")).expect("expected.txt");
    table
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let cols: Vec<&str> = l.splitn(3, '|').map(str::trim).collect();
            assert_eq!(
                cols.len(),
                3,
                "expected.txt: `FILE | LINE:COLUMN | fragment`, got {l:?}"
            );
            let at = match cols[1] {
                "-" => None,
                lc => {
                    let (line, column) = lc.split_once(':').expect("LINE:COLUMN");
                    Some((line.parse().expect("LINE"), column.parse().expect("COLUMN")))
                }
            };
            Case {
                file: cols[0].to_string(),
                at,
                fragment: cols[2].to_string(),
            }
        })
        .collect()
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

fn list(errors: &[SuiteError]) -> String {
    errors.iter().map(|e| format!("\n    {e}")).collect()
}

/// Loads `path` and checks that it is refused, without a panic, with an error at `at` (when
/// given) whose message contains `fragment`, every error printing as one
/// `FILE:LINE:COLUMN: message` line. Returns what went wrong, if anything.
fn refused(path: &Path, at: Option<(usize, usize)>, fragment: &str) -> Result<Vec<SuiteError>, String> {
    let errors = match catch_unwind(AssertUnwindSafe(|| load_file(path, &known()))) {
        Err(payload) => return Err(format!("panicked: {}", panic_text(payload.as_ref()))),
        Ok(Ok(_)) => return Err("loaded without an error".into()),
        Ok(Err(errors)) if errors.is_empty() => return Err("refused with no error".into()),
        Ok(Err(errors)) => errors,
    };
    let file = path.display().to_string();
    for e in &errors {
        let shown = e.to_string();
        let prefix = format!("{file}:{}:{}: ", e.line.max(1), e.column.max(1));
        if !shown.starts_with(&prefix) || shown.contains('\n') || e.file != file {
            return Err(format!("not one `FILE:LINE:COLUMN: message` line: {shown:?}"));
        }
    }
    let wanted = |e: &SuiteError| {
        e.message.contains(fragment) && at.is_none_or(|(line, column)| (e.line, e.column) == (line, column))
    };
    if !errors.iter().any(wanted) {
        let place = at.map(|(l, c)| format!("{l}:{c}: ")).unwrap_or_default();
        return Err(format!("wanted `{place}…{fragment}…`, got:{}", list(&errors)));
    }
    Ok(errors)
}

fn assert_refused(path: &Path, at: Option<(usize, usize)>, fragment: &str) -> Vec<SuiteError> {
    refused(path, at, fragment).unwrap_or_else(|why| panic!("{}: {why}", path.display()))
}

#[test]
fn corpus_and_expected_txt_list_the_same_files() {
    let mut on_disk: Vec<String> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = cases().into_iter().map(|c| c.file).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "every corpus file needs one line in expected.txt, and only those"
    );
    assert!(on_disk.len() >= 40, "the corpus holds {} files", on_disk.len());
}

#[test]
fn every_corpus_file_is_refused_at_its_position() {
    let cases = cases();
    let mut failures = Vec::new();
    for case in &cases {
        let path = corpus_dir().join(&case.file);
        let start = Instant::now();
        let outcome = refused(&path, case.at, &case.fragment);
        let took = start.elapsed();
        if let Err(why) = outcome {
            failures.push(format!("{}: {why}", case.file));
        } else if took > Duration::from_secs(5) {
            failures.push(format!("{}: took {took:?} to refuse", case.file));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus files are not refused as expected.txt says:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Every corpus file, alone and all together, is a suite error, which exits 2.
#[test]
fn corpus_files_are_suite_errors_exiting_2() {
    let all: Vec<PathBuf> = cases().iter().map(|c| corpus_dir().join(&c.file)).collect();
    for path in &all {
        match load_all(std::slice::from_ref(path), &known()) {
            Err(e @ Error::Suite(_)) => assert_eq!(e.exit_code(), Code::Usage, "{}", path.display()),
            Err(other) => panic!("{}: not a suite error: {other}", path.display()),
            Ok(_) => panic!("{}: loaded", path.display()),
        }
    }
    let Err(Error::Suite(errors)) = load_all(&all, &known()) else {
        panic!("the corpus loaded");
    };
    // All files are reported, not only the first broken one.
    for path in &all {
        let file = path.display().to_string();
        assert!(errors.iter().any(|e| e.file == file), "no error for {file}");
    }
    // The corpus folder itself: every suite in it fails; `no-suites/` is not looked into.
    let Err(e @ Error::Suite(_)) = load_all(&[corpus_dir()], &known()) else {
        panic!("the corpus folder loaded");
    };
    assert_eq!(e.exit_code(), Code::Usage);
}

#[test]
fn a_folder_without_suites_is_an_error() {
    // Only `environments.yaml` and a text file: neither is a suite.
    let no_suites = corpus_dir().join("no-suites");
    let Err(e @ Error::Suite(_)) = load_all(std::slice::from_ref(&no_suites), &known()) else {
        panic!("no-suites/ loaded");
    };
    assert_eq!(e.exit_code(), Code::Usage);
    let shown = e.to_string();
    assert!(
        shown.starts_with(&format!("{}:1:1: ", no_suites.display())) && shown.contains("no suite files"),
        "{shown}"
    );

    let empty = tempfile::tempdir().unwrap();
    let Err(e) = load_all(&[empty.path().to_path_buf()], &known()) else {
        panic!("an empty folder loaded");
    };
    assert!(e.to_string().contains("no suite files (*.yaml, *.yml)"), "{e}");

    let missing = empty.path().join("nope");
    let Err(e) = load_all(std::slice::from_ref(&missing), &known()) else {
        panic!("a missing path loaded");
    };
    assert!(
        e.to_string()
            .starts_with(&format!("{}:1:1: cannot read", missing.display())),
        "{e}"
    );
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn a_suite_that_is_not_utf8_is_refused_where_the_bad_byte_is() {
    let dir = tempfile::tempdir().unwrap();
    // Latin-1 `é` (0xE9) after a multi-byte `ü`: the column counts characters, as YAML positions do.
    let path = write(
        dir.path(),
        "latin1.yaml",
        b"customer: acme\nchecks:\n  - name: \xc3\xbc caf\xe9\n    request: { path: / }\n",
    );
    assert_refused(&path, Some((3, 16)), "file is not valid UTF-8");
    // A UTF-16 file (with its byte order mark) is not UTF-8 either.
    let utf16: Vec<u8> = std::iter::once(0xFEFF_u16)
        .chain("customer: acme\n".encode_utf16())
        .flat_map(u16::to_le_bytes)
        .collect();
    let path = write(dir.path(), "utf16.yaml", &utf16);
    assert_refused(&path, Some((1, 1)), "not valid UTF-8");
}

#[test]
fn deeply_nested_yaml_is_refused_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        // 100 000 nested flow sequences: libyaml alone would take minutes (its work per token grows
        // with the flow depth).
        (
            "brackets.yaml",
            format!("customer: acme\nchecks: {}\n", "[".repeat(100_000)),
        ),
        (
            "brackets-closed.yaml",
            format!(
                "customer: acme\nchecks: {}{}\n",
                "[".repeat(10_000),
                "]".repeat(10_000)
            ),
        ),
        (
            "braces.yaml",
            format!("customer: acme\nchecks: {}\n", "{a: ".repeat(10_000)),
        ),
        // Block nesting, by indentation.
        (
            "blocks.yaml",
            format!(
                "customer: acme\nchecks:\n{}",
                (0..300)
                    .map(|i| format!("{}- \n", "  ".repeat(i)))
                    .collect::<String>()
            ),
        ),
        // Nesting inside an otherwise valid check.
        (
            "in-json.yaml",
            format!(
                "customer: acme\nchecks:\n  - name: a\n    request: {{ path: /a }}\n    expect:\n      json:\n        $.a: {}{}\n",
                "[".repeat(200),
                "]".repeat(200)
            ),
        ),
    ];
    for (name, text) in cases {
        let path = write(dir.path(), name, text.as_bytes());
        let start = Instant::now();
        assert_refused(&path, None, "YAML nested more than 128 levels deep");
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{name}: {:?}",
            start.elapsed()
        );
    }
    // 120 levels are fine for the parser (the check then fails on its shape, not on depth).
    let path = write(
        dir.path(),
        "deep-but-allowed.yaml",
        format!(
            "customer: acme\nchecks:\n  - name: a\n    request: {{ path: /a }}\n    expect:\n      json:\n        $.a: {}{}\n",
            "[".repeat(120),
            "]".repeat(120)
        )
        .as_bytes(),
    );
    assert!(load_file(&path, &known()).is_ok());
}

#[test]
fn a_file_over_10_mib_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yaml");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    file.write_all(b"customer: acme\nchecks:\n").unwrap();
    let check = b"  - name: health\n    request: { path: /health }\n";
    let mut written = 0;
    let mut i = 0;
    while written < 50 * 1024 * 1024 {
        let line = format!("  - name: check {i}\n    request: {{ path: /health }}\n");
        file.write_all(line.as_bytes()).unwrap();
        written += line.len();
        i += 1;
    }
    file.write_all(check).unwrap();
    drop(file);
    let start = Instant::now();
    assert_refused(&path, None, "over the 10 MiB limit");
    assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
}

/// A device or a pipe has no size on disk: reading stops at the limit all the same.
#[cfg(unix)]
#[test]
fn an_endless_device_is_refused_at_the_limit() {
    let start = Instant::now();
    assert_refused(Path::new("/dev/zero"), None, "over the 10 MiB limit");
    assert!(start.elapsed() < Duration::from_secs(10), "{:?}", start.elapsed());
}

/// What every check inherits is copied into it: the product is capped.
#[test]
fn inheriting_too_much_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let tags: Vec<String> = (0..400).map(|i| format!("t{i}")).collect();
    let mut text = format!("customer: acme\ntags: [{}]\nchecks:\n", tags.join(", "));
    for i in 0..300 {
        text.push_str(&format!("  - {{ name: c{i}, request: {{ path: / }} }}\n"));
    }
    let path = write(dir.path(), "inherit.yaml", text.as_bytes());
    const { assert!(400 * 300 > MAX_INHERITED_COPIES) };
    assert_refused(&path, Some((2, 1)), "300 checks each inherit 400 suite tags");
}

/// Loading cost stays close to linear where it used to be quadratic (or worse).
#[test]
fn big_suites_load_in_bounded_time() {
    let dir = tempfile::tempdir().unwrap();
    let long = |c: char| c.to_string().repeat(50_000);
    let cases = [
        // One unknown `needs` name as long as the check name it is compared with.
        (
            "long-need.yaml",
            format!(
                "customer: acme\nchecks:\n  - {{ name: \"{}\", request: {{ path: / }}, needs: [\"{}\"] }}\n",
                long('a'),
                long('b')
            ),
            Some("`needs` names no check"),
        ),
        // 2 000 unknown `needs` in a suite of 2 000 checks.
        (
            "many-needs.yaml",
            format!(
                "customer: acme\nchecks:\n{}  - {{ name: last, request: {{ path: / }}, needs: [{}] }}\n",
                (0..2000)
                    .map(|i| format!("  - {{ name: c{i}, request: {{ path: / }} }}\n"))
                    .collect::<String>(),
                (0..2000).map(|i| format!("x{i}")).collect::<Vec<_>>().join(", ")
            ),
            Some("`needs` names no check of this suite: \"x0\""),
        ),
        // A check with 50 000 tags and 20 000 headers.
        (
            "wide-check.yaml",
            format!(
                "customer: acme\nchecks:\n  - name: a\n    request:\n      path: /\n      headers: {{ {} }}\n    tags: [{}]\n",
                (0..20_000)
                    .map(|i| format!("h{i}: v"))
                    .collect::<Vec<_>>()
                    .join(", "),
                (0..50_000)
                    .map(|i| format!("t{i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None,
        ),
    ];
    for (name, text, fragment) in cases {
        let path = write(dir.path(), name, text.as_bytes());
        let start = Instant::now();
        match fragment {
            Some(fragment) => {
                assert_refused(&path, None, fragment);
            }
            None => {
                let suite: Suite =
                    load_file(&path, &known()).unwrap_or_else(|e| panic!("{name}:{}", list(&e)));
                assert_eq!(suite.checks[0].tags.len(), 50_000);
                assert_eq!(suite.checks[0].request.headers.len(), 20_000);
            }
        }
        // Generous for a debug build on a busy machine; the old code took minutes on these.
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{name}: {:?}",
            start.elapsed()
        );
    }
}

/// A long chain of `needs` is walked without recursion (it used to overflow the stack).
#[test]
fn a_long_needs_chain_fits_a_small_stack() {
    let dir = tempfile::tempdir().unwrap();
    let n = 3000;
    let mut text = String::from("customer: acme\nchecks:\n");
    for i in 0..n {
        // Each check needs the next; the last needs the first: one cycle through all of them.
        text.push_str(&format!(
            "  - {{ name: c{i}, request: {{ path: / }}, needs: [c{}] }}\n",
            (i + 1) % n
        ));
    }
    let path = write(dir.path(), "chain.yaml", text.as_bytes());
    let errors = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || load_file(&path, &known()).err())
        .unwrap()
        .join()
        .expect("loading a long chain must not overflow the stack")
        .expect("a cycle is an error");
    assert!(
        errors
            .iter()
            .any(|e| e.message.starts_with("dependency cycle: \"c0\" -> \"c1\"")),
        "{}",
        list(&errors)
    );
}
