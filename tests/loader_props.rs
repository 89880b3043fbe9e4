//! Property (docs/behaviour.md, "Guarantees"): whatever a suite file turns into (a stray byte, a lost line, a
//! broken indentation, a swapped pair of characters, bytes that are not UTF-8), the loader
//! returns a suite or errors, never panics, and every error is one `FILE:LINE:COLUMN: message`
//! line whose position lies inside the file.
//!
//! The mutations start from the representative suite below and, when the crate holds them, from
//! the bundled suites (`suites/*.yaml`). Each case is written to a temporary folder (beside a
//! `upload.json`, for `body_file`) and loaded from there.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use endpoint_check::suite::load_file;
use proptest::prelude::*;
use proptest::sample::Index;

/// Close to a real suite, touching every part of the format.
const SUITE: &str = r#"# acme: the endpoints a deploy must not break.
customer: acme.dev
title: Acme Critical Endpoints
tags: [acme, critical]

variables:
  api_key: ${ACME_API_KEY:-demo-key}
  region: eu

defaults:
  timeout: 5s
  retries: 1
  follow_redirects: false
  headers: { Origin: "https://acme.dev", x-api-key: "${api_key}" }
  expect:
    latency: 2s
    headers:
      content-type: { contains: application/json }

checks:
  - name: GET /api/status
    tags: [status]
    request:
      path: /api/status
      query: { region: "${region}", verbose: true }
    expect:
      status: 200
      latency: { p50: 100ms, p95: 300ms, max: 1s }
      availability: 99.9
      json:
        $.status: ok
        $.edges: { type: array, min_length: 1, max_length: 50 }
        $.edges[0].id: { type: string, matches: '^edge-[a-z0-9]+$' }
        $.version: { one_of: [v1, v2] }
        $.uptime: { type: number, ge: 0 }
    samples: 20
    concurrency: 4

  - name: POST /api/jobs
    environments: [staging, preview, localhost, demo]
    request:
      method: POST
      path: /api/jobs
      json: { kind: transcode, input: "s3://bucket/${region}/in.wav", options: [1, 2.5, null] }
    expect:
      status: [201, 202]
      headers:
        location: { exists: true }
      body: { contains: jobId }
    capture:
      job_id: $.jobId
      etag: { header: etag }
      token: { regex: 'token=(\w+)' }

  - name: GET /api/jobs/:id
    needs: [POST /api/jobs]
    request:
      url: https://api.acme.dev/api/jobs/${job_id}
      headers: { If-None-Match: "${etag}", Authorization: "Bearer ${token}" }
    poll: { every: 1s, for: 30s }
    expect:
      status: "2xx"
      json:
        $.state: done
        $.id: "${job_id}"

  - name: POST /api/upload
    optional: true
    retries: 0
    timeout: 1500ms
    request:
      method: PUT
      path: /api/upload
      body_file: upload.json
    expect:
      status: 200

  - name: POST /api/login
    request:
      method: POST
      path: /api/login
      form: { user: demo, password: "${api_key}" }
    expect:
      status: 200
      headers:
        set-cookie: { matches: "session=" }
        x-rate-limit: { lt: 1000, gt: 0 }
      json:
        $.user.roles: { contains: reader, length: 2 }
        $.expires: { type: integer }

  - name: GET /health
    follow_redirects: true
    request:
      path: /health
      body: "ping $${literal}"
    expect:
      status: 200
      body: ok
"#;

/// The texts mutations start from: the suite above, then the bundled suites if there are any.
fn bases() -> &'static [Vec<u8>] {
    static BASES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    BASES.get_or_init(read_bases)
}

fn read_bases() -> Vec<Vec<u8>> {
    let mut bases = vec![SUITE.as_bytes().to_vec()];
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites");
    if let Ok(entries) = std::fs::read_dir(&bundled) {
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().is_some_and(|e| e == "yaml" || e == "yml")
                    && p.file_stem().is_some_and(|s| s != "environments")
            })
            .collect();
        files.sort();
        bases.extend(files.iter().filter_map(|f| std::fs::read(f).ok()));
    }
    bases
}

/// Bytes likely to matter to YAML or to the suite format.
const SNIPPETS: &[&str] = &[
    ":", ": ", "- ", "-", " ", "  ", "\t", "\n", "\n  ", "#", "[", "]", "{", "}", ",", "\"", "'", "&a ",
    "*a", "<<: *a", "? ", "|", ">", "!!str ", "!x ", "%", "@", "`", "~", "null", "---\n", "...\n", "${",
    "$${", "${x}", "}", "$.", "$..[?@", "[?@.a]", "(", ")", "0", "-1", "1e999", ".nan", "0x1F", "6xx",
    "fast", "-1s", "1.5.2s", "\u{FEFF}", "é", "\u{202E}", "\\", "\\u0000", "\r", "\r\n",
];

/// Values of every YAML kind, and the suite format's favourite mistakes.
const VALUES: &[&str] = &[
    "~",
    "null",
    "true",
    "0",
    "-1",
    "4294967296",
    "1.5",
    "1e999",
    ".nan",
    "\"\"",
    "[]",
    "{}",
    "[[1]]",
    "{a: 1}",
    "[a, {b: c}]",
    "fast",
    "-1s",
    "1.5.2s",
    "6xx",
    "\"2xx\"",
    "'('",
    "$..[",
    "$[?@.a]",
    "\"${\"",
    "\"${nope}\"",
    "{ header: etag }",
    "{ regex: 'x' }",
    "{ frobnicate: 1 }",
    "{ p50: soon }",
    "[self]",
    "!!binary aGk=",
    "&a [1]",
    "*a",
    "|\n  text",
];

#[derive(Debug, Clone)]
enum Mutation {
    /// Replaces what follows the first `: ` of a line (a value) with one of [`VALUES`].
    ReplaceValue(Index, &'static str),
    Delete(Index, usize),
    Insert(Index, Vec<u8>),
    Replace(Index, u8),
    SwapAdjacent(Index),
    DeleteLine(Index),
    DuplicateLine(Index),
    SwapLines(Index, Index),
    /// Adds (positive) or removes (negative) leading spaces.
    Reindent(Index, i8),
    /// Replaces a line's leading spaces with a tab.
    TabIndent(Index),
}

fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        4 => 0x20u8..0x7f,
        1 => Just(b'\n'),
        1 => Just(b'\t'),
        1 => any::<u8>(),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let inserted = prop_oneof![
        3 => prop::sample::select(SNIPPETS).prop_map(|s| s.as_bytes().to_vec()),
        2 => prop::collection::vec(byte(), 1..4),
    ];
    prop_oneof![
        4 => (any::<Index>(), prop::sample::select(VALUES)).prop_map(|(i, v)| Mutation::ReplaceValue(i, v)),
        3 => (any::<Index>(), 1usize..8).prop_map(|(i, n)| Mutation::Delete(i, n)),
        4 => (any::<Index>(), inserted).prop_map(|(i, b)| Mutation::Insert(i, b)),
        3 => (any::<Index>(), byte()).prop_map(|(i, b)| Mutation::Replace(i, b)),
        2 => any::<Index>().prop_map(Mutation::SwapAdjacent),
        2 => any::<Index>().prop_map(Mutation::DeleteLine),
        2 => any::<Index>().prop_map(Mutation::DuplicateLine),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        2 => (any::<Index>(), -4i8..=4).prop_map(|(i, d)| Mutation::Reindent(i, d)),
        1 => any::<Index>().prop_map(Mutation::TabIndent),
    ]
}

/// The text's lines, each with its `\n` (the last may lack one).
fn lines(text: &[u8]) -> Vec<Vec<u8>> {
    text.split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

fn apply(text: &mut Vec<u8>, m: &Mutation) {
    // An index into a non-empty range, or nothing to do.
    let at = |i: &Index, len: usize| (len > 0).then(|| i.index(len));
    match m {
        Mutation::ReplaceValue(i, value) => {
            let mut ls = lines(text);
            let with_value: Vec<usize> = (0..ls.len())
                .filter(|&n| ls[n].windows(2).any(|w| w == b": "))
                .collect();
            if let Some(k) = at(i, with_value.len()) {
                let line = &mut ls[with_value[k]];
                let start = line.windows(2).position(|w| w == b": ").unwrap_or(0) + 2;
                let newline = line.last() == Some(&b'\n');
                line.truncate(start);
                line.extend_from_slice(value.as_bytes());
                if newline {
                    line.push(b'\n');
                }
                *text = ls.concat();
            }
        }
        Mutation::Delete(i, n) => {
            if let Some(start) = at(i, text.len()) {
                let end = (start + n).min(text.len());
                text.drain(start..end);
            }
        }
        Mutation::Insert(i, bytes) => {
            let pos = i.index(text.len() + 1);
            text.splice(pos..pos, bytes.iter().copied());
        }
        Mutation::Replace(i, b) => {
            if let Some(pos) = at(i, text.len()) {
                text[pos] = *b;
            }
        }
        Mutation::SwapAdjacent(i) => {
            if let Some(pos) = at(i, text.len().saturating_sub(1)) {
                text.swap(pos, pos + 1);
            }
        }
        Mutation::DeleteLine(i)
        | Mutation::DuplicateLine(i)
        | Mutation::Reindent(i, _)
        | Mutation::TabIndent(i) => {
            let mut ls = lines(text);
            let Some(n) = at(i, ls.len()) else { return };
            match m {
                Mutation::DeleteLine(_) => {
                    ls.remove(n);
                }
                Mutation::DuplicateLine(_) => {
                    let copy = ls[n].clone();
                    ls.insert(n, copy);
                }
                Mutation::Reindent(_, d) if *d >= 0 => {
                    ls[n].splice(0..0, std::iter::repeat_n(b' ', *d as usize));
                }
                Mutation::Reindent(_, d) => {
                    let spaces = ls[n].iter().take_while(|&&b| b == b' ').count();
                    ls[n].drain(..spaces.min(d.unsigned_abs() as usize));
                }
                _ => {
                    let spaces = ls[n].iter().take_while(|&&b| b == b' ').count();
                    ls[n].splice(..spaces, [b'\t']);
                }
            }
            *text = ls.concat();
        }
        Mutation::SwapLines(a, b) => {
            let mut ls = lines(text);
            if let (Some(a), Some(b)) = (at(a, ls.len()), at(b, ls.len())) {
                ls.swap(a, b);
                // A last line without `\n` moved up would join the next one.
                for l in ls.iter_mut() {
                    if l.last() != Some(&b'\n') {
                        l.push(b'\n');
                    }
                }
                *text = ls.concat();
            }
        }
    }
}

/// Loads `text` from a file and checks the outcome; `Err` says what is wrong with it.
fn load(dir: &Path, text: &[u8]) -> Result<(), String> {
    let path = dir.join("mutated.yaml");
    std::fs::write(&path, text).map_err(|e| e.to_string())?;
    let known: Vec<String> = endpoint_check::env::BUILT_IN
        .iter()
        .map(|s| s.to_string())
        .collect();
    let outcome = catch_unwind(AssertUnwindSafe(|| load_file(&path, &known))).map_err(|p| {
        let text = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        format!("the loader panicked: {text}")
    })?;
    let Err(errors) = outcome else {
        return Ok(());
    };
    if errors.is_empty() {
        return Err("refused with no error".into());
    }
    let file = path.display().to_string();
    let line_count = text.split(|&b| b == b'\n').count();
    for e in &errors {
        let shown = e.to_string();
        let prefix = format!("{file}:{}:{}: ", e.line.max(1), e.column.max(1));
        if e.file != file || !shown.starts_with(&prefix) || shown.contains('\n') || e.message.is_empty() {
            return Err(format!("not one `FILE:LINE:COLUMN: message` line: {shown:?}"));
        }
        if e.line > line_count + 1 {
            return Err(format!(
                "line {} is past the end of a {line_count}-line file: {shown}",
                e.line
            ));
        }
    }
    Ok(())
}

#[test]
fn the_representative_suite_and_the_bundled_ones_load() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("upload.json"), b"{\"name\": \"demo\"}").unwrap();
    let path = dir.path().join("acme.yaml");
    std::fs::write(&path, SUITE).unwrap();
    let known: Vec<String> = endpoint_check::env::BUILT_IN
        .iter()
        .map(|s| s.to_string())
        .collect();
    let suite = load_file(&path, &known)
        .unwrap_or_else(|errors| panic!("{}", errors.iter().map(|e| format!("\n{e}")).collect::<String>()));
    assert_eq!(suite.checks.len(), 6);
    // Mutations from a valid start reach past the parser into validation.
    assert!(load(dir.path(), SUITE.as_bytes()).is_ok());
}

/// 200 cases keep the test to a few seconds; `LOADER_PROPS_CASES=20000` searches harder.
fn cases() -> u32 {
    std::env::var("LOADER_PROPS_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn a_mutated_suite_loads_or_is_refused_but_never_panics(
        base in any::<Index>(),
        mutations in prop::collection::vec(mutation(), 1..5),
    ) {
        let bases = bases();
        let mut text = bases[base.index(bases.len())].clone();
        for m in &mutations {
            apply(&mut text, m);
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("upload.json"), b"{}").unwrap();
        if let Err(why) = load(dir.path(), &text) {
            prop_assert!(false, "{why}\n--- mutated suite ---\n{}", String::from_utf8_lossy(&text));
        }
    }
}
