//! From loaded suites to what will run: filters, the dependency closure, `environments:`, and a
//! check that every variable resolves (docs/variables.md) before any request.

use crate::error::{Error, SuiteError};
use crate::redact::{Redactor, is_secret_variable};
use crate::suite::Suite;
use crate::vars::{BuiltIns, EnvLookup, Scope};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// Which checks to run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// `--customer`, matched case-insensitively.
    pub customers: Vec<String>,
    /// `--tag`: a check runs when it carries any of them.
    pub tags: Vec<String>,
    /// `--filter`: case-insensitive substring of the check's name.
    pub filter: Option<String>,
}

/// A check the plan keeps, and whether it will be skipped from the start.
#[derive(Debug, Clone)]
pub struct PlannedCheck {
    /// Index into the suite's `checks`.
    pub index: usize,
    /// `Some(reason)`: reported skipped without sending anything (`environments:`).
    pub skip: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PlannedSuite {
    pub suite: Arc<Suite>,
    /// The suite's `variables`, expanded against the process environment.
    pub variables: HashMap<String, Value>,
    pub checks: Vec<PlannedCheck>,
    /// The suite's cookie jar: none in the plan; [`super::execute`] gives each suite a new one
    /// (unless it says `cookies: false`), so every run starts with no cookies.
    pub jar: Option<Arc<super::cookies::Jar>>,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub suites: Vec<PlannedSuite>,
}

impl Plan {
    pub fn check_count(&self) -> usize {
        self.suites.iter().map(|s| s.checks.len()).sum()
    }
}

/// Plans the run. `cli_vars` are `--var`s; `env_lookup` reads the process environment.
pub fn plan(
    suites: Vec<Suite>,
    selection: &Selection,
    environment: &str,
    cli_vars: &[(String, String)],
    env_lookup: &EnvLookup<'_>,
    built_ins: &BuiltIns,
    redactor: &Redactor,
) -> Result<Plan, Error> {
    for (name, value) in cli_vars {
        if is_secret_variable(name) {
            redactor.add(value);
        }
    }
    // A secret the suites take from the process environment is masked from the start.
    let env = |name: &str| {
        let value = env_lookup(name);
        if let Some(v) = &value {
            // So the `-v` curl line can write a secret holding this value as `$NAME`.
            redactor.note_origin(name, v);
            if is_secret_variable(name) {
                redactor.add(v);
            }
        }
        value
    };
    let mut errors = Vec::new();
    let mut planned = Vec::new();
    for suite in suites {
        if !selection.customers.is_empty()
            && !selection
                .customers
                .iter()
                .any(|c| c.eq_ignore_ascii_case(&suite.customer))
        {
            continue;
        }
        let selected = select_checks(&suite, selection);
        if selected.is_empty() {
            continue;
        }
        let variables = suite_variables(&suite, &env, built_ins, redactor, &mut errors);
        let scope = Scope {
            captures: &HashMap::new(),
            cli_vars,
            suite_vars: &variables,
            env: &env,
            built_ins,
        };
        check_references(&suite, &selected, &scope, &mut errors);
        let checks = selected
            .into_iter()
            .map(|index| {
                let skip = suite.checks[index].environments.as_ref().and_then(|envs| {
                    (!envs.iter().any(|e| e == environment))
                        .then(|| format!("not in this environment (runs in: {})", envs.join(", ")))
                });
                PlannedCheck { index, skip }
            })
            .collect();
        planned.push(PlannedSuite {
            suite: Arc::new(suite),
            variables,
            checks,
            jar: None,
        });
    }
    if !errors.is_empty() {
        errors.dedup();
        return Err(Error::Suite(errors));
    }
    let plan = Plan { suites: planned };
    if plan.check_count() == 0 {
        return Err(Error::Usage(
            "no check selected: the --customer, --tag and --filter options matched nothing".to_string(),
        ));
    }
    Ok(plan)
}

/// The suite's `variables`, expanded: they may use the process environment and the built-ins.
fn suite_variables(
    suite: &Suite,
    env: &EnvLookup<'_>,
    built_ins: &BuiltIns,
    redactor: &Redactor,
    errors: &mut Vec<SuiteError>,
) -> HashMap<String, Value> {
    let none = HashMap::new();
    let scope = Scope {
        captures: &none,
        cli_vars: &[],
        suite_vars: &none,
        env,
        built_ins,
    };
    let mut variables = HashMap::new();
    for v in &suite.variables {
        // Typed: `five: 5` stays the number 5, and a string that is exactly one `${x}` takes
        // x's type (docs/variables.md, "Suite variables").
        match crate::vars::expand_json(&v.value, &|n| scope.get(n)) {
            Ok(value) => {
                if is_secret_variable(&v.name) {
                    add_secret(redactor, &value);
                }
                variables.insert(v.name.clone(), value);
            }
            Err(undefined) => errors.push(SuiteError::new(
                &suite.file,
                v.pos.line,
                v.pos.column,
                format!("variable `{}` uses undefined variable `{}`", v.name, undefined.0),
            )),
        }
    }
    variables
}

/// A secret variable's value is masked as it can appear: as a whole (how `${x}` reads inside a
/// longer string) and each string or number inside a list or map (a `true` is no secret).
fn add_secret(redactor: &Redactor, value: &Value) {
    match value {
        Value::Null | Value::Bool(_) => return,
        Value::Array(items) => items.iter().for_each(|v| add_secret(redactor, v)),
        Value::Object(map) => map.values().for_each(|v| add_secret(redactor, v)),
        Value::String(_) | Value::Number(_) => {}
    }
    redactor.add(crate::vars::value_to_text(value));
}

/// Every `${x}` of the selected checks has a value somewhere, a default, or is captured by a
/// check of the suite (docs/variables.md): an undefined one is a suite error before any request.
fn check_references(suite: &Suite, selected: &[usize], scope: &Scope, errors: &mut Vec<SuiteError>) {
    let captured: Vec<&str> = suite
        .checks
        .iter()
        .flat_map(|c| c.captures.iter().map(|k| k.name.as_str()))
        .collect();
    for &i in selected {
        let check = &suite.checks[i];
        for site in &check.templates {
            for (name, has_default) in crate::vars::references(&site.text) {
                if has_default || captured.contains(&name.as_str()) || scope.defines(&name) {
                    continue;
                }
                errors.push(SuiteError::new(
                    &suite.file,
                    site.pos.line,
                    site.pos.column,
                    format!(
                        "check {:?} uses undefined variable `{name}` (define it in `variables`, pass --var {name}=…, set it in the environment, or write ${{{name}:-default}})",
                        check.name
                    ),
                ));
            }
        }
    }
}

/// The checks of `suite` that the selection picks, plus everything they depend on, in file order.
fn select_checks(suite: &Suite, selection: &Selection) -> Vec<usize> {
    let filter = selection.filter.as_ref().map(|f| f.to_lowercase());
    let mut chosen = vec![false; suite.checks.len()];
    let mut stack: Vec<usize> = Vec::new();
    for (i, check) in suite.checks.iter().enumerate() {
        let tag_ok = selection.tags.is_empty()
            || check
                .tags
                .iter()
                .any(|t| selection.tags.iter().any(|s| s.eq_ignore_ascii_case(t)));
        let name_ok = filter
            .as_ref()
            .is_none_or(|f| check.name.to_lowercase().contains(f));
        if tag_ok && name_ok {
            stack.push(i);
        }
    }
    while let Some(i) = stack.pop() {
        if !chosen[i] {
            chosen[i] = true;
            stack.extend(&suite.checks[i].depends_on);
        }
    }
    (0..suite.checks.len()).filter(|&i| chosen[i]).collect()
}
