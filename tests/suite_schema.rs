//! `endpoint-check schema` stays true to the loader (README, "Editor support"): every suite that
//! loads validates against the suite schema — the bundled suites, the README's and docs' examples,
//! and every suite the tests write — and the bad-suite corpus files with unknown or mistyped
//! fields fail it. The schemas are checked-in files (`schemas/`); these tests are what holds them.

mod support;

use endpoint_check::contract::suite_format::{ENVIRONMENTS, SUITE};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn validator(text: &str) -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(text).expect("the schema is JSON");
    jsonschema::validator_for(&schema).expect("the schema compiles")
}

fn known() -> Vec<String> {
    let mut names: Vec<String> = endpoint_check::env::BUILT_IN
        .iter()
        .map(|s| s.to_string())
        .collect();
    names.extend(["production", "staging", "preview", "eu", "us"].map(String::from));
    names
}

/// The schema's complaints about `yaml`, or `None` when the text is not a YAML map of strings.
fn violations(v: &jsonschema::Validator, yaml: &str) -> Option<Vec<String>> {
    // Read as the loader reads it: an integer of 2^64 or more is a number, not an error.
    let yaml = endpoint_check::yaml::lenient::value(serde_yaml::Deserializer::from_str(yaml)).ok()?;
    let doc: Value = serde_json::to_value(yaml).ok()?;
    Some(
        v.iter_errors(&doc)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect(),
    )
}

/// Whether `text`, written as `dir/suites/s.yaml`, loads without a suite error.
fn loads(dir: &Path, text: &str) -> bool {
    let file = dir.join("suites/s.yaml");
    std::fs::write(&file, text).unwrap();
    endpoint_check::suite::load_file(&file, &known()).is_ok()
}

/// String literals of a Rust file that look like suites: raw strings and plain ones with
/// `customer:` and `checks:` in them, plain ones unescaped.
fn suite_literals(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    let bytes = source.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if source[i..].starts_with("r#\"") || source[i..].starts_with("r\"") {
            let hashes = if bytes[i + 1] == b'#' { "#" } else { "" };
            let start = i + 2 + hashes.len();
            let end_mark = format!("\"{hashes}");
            if let Some(len) = source[start..].find(&end_mark) {
                found.push(source[start..start + len].to_string());
                i = start + len + end_mark.len();
                continue;
            }
        } else if bytes[i] == b'"' && (i == 0 || bytes[i - 1] != b'\'') {
            let mut j = i + 1;
            let mut text = String::new();
            while j < bytes.len() && bytes[j] != b'"' {
                if bytes[j] == b'\\' && j + 1 < bytes.len() {
                    match bytes[j + 1] {
                        b'n' => text.push('\n'),
                        b't' => text.push('\t'),
                        b'\n' => {
                            j += 2;
                            while j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'\n') {
                                j += 1;
                            }
                            continue;
                        }
                        c => text.push(c as char),
                    }
                    j += 2;
                    continue;
                }
                let c = source[j..].chars().next().unwrap();
                text.push(c);
                j += c.len_utf8();
            }
            found.push(text);
            i = j + 1;
            continue;
        }
        i += source[i..].chars().next().map_or(1, char::len_utf8);
    }
    found
}

fn suite_like(s: &str) -> bool {
    s.contains("customer:") && s.contains("checks:")
}

fn environments_like(s: &str) -> bool {
    s.contains("environments:") && !s.contains("checks:")
}

#[test]
fn every_bundled_suite_and_environments_file_validates() {
    let suites = validator(SUITE);
    for (name, text) in endpoint_check::fixture::BUNDLE {
        if !name.starts_with("suites/") {
            continue;
        }
        let v = if name.ends_with("environments.yaml") {
            validator(ENVIRONMENTS)
        } else {
            suites.clone()
        };
        assert_eq!(violations(&v, text), Some(vec![]), "{name}");
    }
}

#[test]
fn every_suite_the_tests_and_docs_write_that_loads_validates() {
    let v = validator(SUITE);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("suites")).unwrap();
    let mut texts: Vec<(String, String)> = Vec::new();
    for entry in std::fs::read_dir(root().join("tests")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            let source = std::fs::read_to_string(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let suites = suite_literals(&source).into_iter().filter(|s| suite_like(s));
            texts.extend(suites.map(|t| (name.clone(), t)));
        }
    }
    let mut docs = vec![root().join("README.md")];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            docs.push(path);
        }
    }
    let mut readme_examples = 0;
    for doc in docs {
        let text = std::fs::read_to_string(&doc).unwrap();
        for block in text.split("```yaml\n").skip(1) {
            let block = block.split("```").next().unwrap_or("");
            if block.contains("customer:") {
                texts.push((doc.display().to_string(), block.to_string()));
                readme_examples += doc.ends_with("README.md") as usize;
            }
        }
    }
    let mut loaded = 0;
    let mut wrong = Vec::new();
    for (from, text) in &texts {
        if !loads(dir.path(), text) {
            continue;
        }
        loaded += 1;
        match violations(&v, text) {
            Some(errors) if errors.is_empty() => {}
            other => wrong.push(format!("{from}: {other:?}\n{text}")),
        }
    }
    assert!(readme_examples >= 1, "the README shows a suite");
    assert!(
        loaded >= 50,
        "only {loaded} of {} collected suites load",
        texts.len()
    );
    assert!(
        wrong.is_empty(),
        "suites that load but fail the schema:\n{}",
        wrong.join("\n---\n")
    );
}

#[test]
fn every_environments_file_the_tests_and_docs_write_that_loads_validates() {
    let v = validator(ENVIRONMENTS);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("environments.yaml");
    let mut texts: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(root().join("tests")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            let source = std::fs::read_to_string(&path).unwrap();
            texts.extend(
                suite_literals(&source)
                    .into_iter()
                    .filter(|s| environments_like(s)),
            );
        }
    }
    for doc in [root().join("README.md"), root().join("docs/environments.md")] {
        let text = std::fs::read_to_string(doc).unwrap();
        for block in text.split("```yaml\n").skip(1) {
            texts.push(block.split("```").next().unwrap_or("").to_string());
        }
    }
    let mut loaded = 0;
    let mut wrong = Vec::new();
    for text in texts.iter().filter(|t| environments_like(t)) {
        std::fs::write(&file, text).unwrap();
        if !matches!(
            endpoint_check::env::EnvironmentsFile::load(&file, "environments.yaml"),
            Ok(Some(_))
        ) {
            continue;
        }
        loaded += 1;
        match violations(&v, text) {
            Some(errors) if errors.is_empty() => {}
            other => wrong.push(format!("{other:?}\n{text}")),
        }
    }
    assert!(loaded >= 10, "only {loaded} environments files load");
    assert!(
        wrong.is_empty(),
        "environments files that load but fail the schema:\n{}",
        wrong.join("\n---\n")
    );
}

#[test]
fn corpus_files_with_unknown_or_mistyped_fields_fail_the_schema() {
    let v = validator(SUITE);
    let corpus = root().join("tests/bad-suites");
    let table = std::fs::read_to_string(corpus.join("expected.txt")).unwrap();
    let mut checked = 0;
    for line in table.lines().filter(|l| !l.starts_with('#') && l.contains('|')) {
        let cols: Vec<&str> = line.splitn(3, '|').map(str::trim).collect();
        let (file, fragment) = (cols[0], cols[2]);
        if !(fragment.contains("unknown field") || fragment.contains("invalid type")) {
            continue;
        }
        let text = std::fs::read_to_string(corpus.join(file)).unwrap();
        let Some(errors) = violations(&v, &text) else {
            continue; // not YAML the schema can see (a syntax error, a non-string key)
        };
        assert!(!errors.is_empty(), "{file} ({fragment}) passes the schema");
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} corpus files checked");
}

#[test]
fn every_field_has_a_one_line_description() {
    fn walk(v: &Value, at: &str, missing: &mut Vec<String>) {
        if let Some(map) = v.as_object() {
            for key in ["properties"] {
                if let Some(props) = map.get(key).and_then(Value::as_object) {
                    for (name, prop) in props {
                        let d = prop.get("description").and_then(Value::as_str).unwrap_or("");
                        if d.is_empty() || d.contains('\n') {
                            missing.push(format!("{at}.{name}"));
                        }
                    }
                }
            }
            for (k, child) in map {
                walk(child, &format!("{at}.{k}"), missing);
            }
        } else if let Some(items) = v.as_array() {
            for (i, child) in items.iter().enumerate() {
                walk(child, &format!("{at}[{i}]"), missing);
            }
        }
    }
    for text in [SUITE, ENVIRONMENTS] {
        let schema: Value = serde_json::from_str(text).unwrap();
        let mut missing = Vec::new();
        walk(&schema, "$", &mut missing);
        assert!(
            missing.is_empty(),
            "fields without a one-line description: {missing:?}"
        );
    }
}

#[test]
fn the_schema_command_prints_both_and_refuses_other_words() {
    let out = support::bin::endpoint_check().arg("schema").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), SUITE);
    let out = support::bin::endpoint_check()
        .args(["schema", "environments"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), ENVIRONMENTS);
    let out = support::bin::endpoint_check()
        .args(["schema", "checks"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown schema `checks`"));
}
