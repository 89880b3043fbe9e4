//! `environments.yaml`: its model and its parsing, with the suite files' guards (read cap, UTF-8,
//! nesting limit) and `FILE:LINE:COLUMN` errors (README, "Environments").

use super::{BUILT_IN, RESERVED};
use crate::error::SuiteError;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

/// `environments.yaml`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnvironmentsFile {
    /// Path as the user would name it, for error messages.
    pub file: String,
    pub title: Option<String>,
    pub environments: BTreeMap<String, EnvironmentDef>,
}

/// One entry of `environments:`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnvironmentDef {
    /// As written: may hold `${VAR}` references, expanded at resolution.
    pub base_url: Option<String>,
    pub safety_delay: Option<Duration>,
    /// As written (values may hold `${VAR}`, expanded at resolution), in file order.
    pub headers: Vec<(String, String)>,
    pub vercel: Option<VercelConfig>,
    /// `resolve:` entries, as `--resolve` takes them (docs/environments.md#where-requests-go).
    pub resolve: Vec<crate::http::route::Resolve>,
    /// `connect_to:` entries, as `--connect-to` takes them.
    pub connect_to: Vec<crate::http::route::ConnectTo>,
    /// `client_cert:`/`client_key:` as written (may hold `${VAR}`), relative to the file's folder.
    pub client_cert: Option<String>,
    pub client_key: Option<String>,
}

/// The `vercel:` block of an environment (docs/environments.md#preview-url-detection). Values may hold `${VAR}` references.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VercelConfig {
    pub project: Option<String>,
    pub team: Option<String>,
    pub project_id: Option<String>,
    pub team_id: Option<String>,
}

impl EnvironmentsFile {
    /// Reads `path` (the `environments.yaml` beside the first `--suites` path). `Ok(None)` when it
    /// does not exist. Errors are suite errors with `FILE:LINE:COLUMN` (exit 2).
    pub fn load(path: &Path, display: &str) -> Result<Option<EnvironmentsFile>, SuiteError> {
        if !path.exists() {
            return Ok(None);
        }
        let text = crate::yaml::read_file(path, display)?;
        Self::parse(&text, display).map(Some)
    }

    /// Parses the text of an `environments.yaml`; `display` names it in errors.
    pub fn parse(text: &str, display: &str) -> Result<EnvironmentsFile, SuiteError> {
        crate::yaml::check_nesting(text, display)?;
        let raw: Option<RawFile> = serde_yaml::from_str(text).map_err(|e| crate::yaml::error(&e, display))?;
        let raw = raw.unwrap_or_default();
        Ok(EnvironmentsFile {
            file: display.to_string(),
            title: raw.title,
            environments: raw.environments.map(|m| m.0).unwrap_or_default(),
        })
    }

    /// Every environment name a suite may mention: the built-ins plus the file's.
    pub fn known_names(file: Option<&EnvironmentsFile>) -> Vec<String> {
        let mut names: Vec<String> = BUILT_IN.iter().map(|s| s.to_string()).collect();
        if let Some(f) = file {
            for name in f.environments.keys() {
                if !names.contains(name) {
                    names.push(name.clone());
                }
            }
        }
        names
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing `environments.yaml`

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, expecting = "a map with `title` and `environments`")]
struct RawFile {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    environments: Option<EnvMap>,
}

#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a map with any of `base_url`, `safety_delay`, `headers`, `vercel`, `resolve`, `connect_to`, `client_cert`, `client_key`"
)]
struct RawEnv {
    #[serde(default)]
    base_url: Option<Template>,
    #[serde(default)]
    safety_delay: Option<DurationValue>,
    #[serde(default)]
    headers: Option<Headers>,
    #[serde(default)]
    vercel: Option<RawVercel>,
    #[serde(default)]
    resolve: Vec<Route<crate::http::route::Resolve>>,
    #[serde(default)]
    connect_to: Vec<Route<crate::http::route::ConnectTo>>,
    #[serde(default)]
    client_cert: Option<Template>,
    #[serde(default)]
    client_key: Option<Template>,
}

/// A `resolve:` or `connect_to:` entry, checked where it is written.
struct Route<T>(T);

trait RouteEntry: Sized {
    fn parse(text: &str) -> Result<Self, String>;
}

impl RouteEntry for crate::http::route::Resolve {
    fn parse(text: &str) -> Result<Self, String> {
        crate::http::route::Resolve::parse(text).map_err(|e| e.replacen("--resolve", "resolve:", 1))
    }
}

impl RouteEntry for crate::http::route::ConnectTo {
    fn parse(text: &str) -> Result<Self, String> {
        crate::http::route::ConnectTo::parse(text).map_err(|e| e.replacen("--connect-to", "connect_to:", 1))
    }
}

impl<'de, T: RouteEntry> Deserialize<'de> for Route<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        T::parse(&text).map(Route).map_err(de::Error::custom)
    }
}

#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a map with any of `project`, `team`, `project_id`, `team_id`"
)]
struct RawVercel {
    #[serde(default)]
    project: Option<Template>,
    #[serde(default)]
    team: Option<Template>,
    #[serde(default)]
    project_id: Option<Template>,
    #[serde(default)]
    team_id: Option<Template>,
}

/// `environments:`: names checked, duplicates refused, an empty entry allowed.
struct EnvMap(BTreeMap<String, EnvironmentDef>);

impl<'de> Deserialize<'de> for EnvMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = EnvMap;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of environment names to their settings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EnvMap, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(name) = map.next_key::<String>()? {
                    check_env_name(&name).map_err(de::Error::custom)?;
                    if out.contains_key(&name) {
                        return Err(de::Error::custom(format!(
                            "environment `{name}` is defined twice"
                        )));
                    }
                    let raw: Option<RawEnv> = map.next_value()?;
                    out.insert(name, raw.map(RawEnv::into_def).unwrap_or_default());
                }
                Ok(EnvMap(out))
            }
        }
        d.deserialize_map(V)
    }
}

impl RawEnv {
    fn into_def(self) -> EnvironmentDef {
        EnvironmentDef {
            base_url: self.base_url.map(|t| t.0),
            safety_delay: self.safety_delay.map(|d| d.0),
            headers: self.headers.map(|h| h.0).unwrap_or_default(),
            vercel: self.vercel.map(|v| VercelConfig {
                project: v.project.map(|t| t.0),
                team: v.team.map(|t| t.0),
                project_id: v.project_id.map(|t| t.0),
                team_id: v.team_id.map(|t| t.0),
            }),
            resolve: self.resolve.into_iter().map(|r| r.0).collect(),
            connect_to: self.connect_to.into_iter().map(|c| c.0).collect(),
            client_cert: self.client_cert.map(|t| t.0),
            client_key: self.client_key.map(|t| t.0),
        }
    }
}

fn check_env_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("an environment name cannot be empty".into());
    }
    if RESERVED.contains(&name) {
        return Err(format!(
            "`{name}` is a subcommand and cannot name an environment (reserved: {})",
            RESERVED.join(", ")
        ));
    }
    if name.starts_with('-')
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(format!(
            "invalid environment name `{name}`: use letters, digits, `_`, `-` and `.`, not starting with `-`"
        ));
    }
    Ok(())
}

/// A string that may hold `${VAR}` references; its syntax is checked when read.
struct Template(String);

impl<'de> Deserialize<'de> for Template {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = d.deserialize_any(ScalarText)?;
        crate::vars::parse(&text).map_err(de::Error::custom)?;
        Ok(Template(text))
    }
}

/// Accepts any YAML scalar and gives its text (`x-extra: 1` is the header value `1`).
struct ScalarText;

impl Visitor<'_> for ScalarText {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
}

/// `5s`, `250ms`, `1.5s`, `1m`, or a bare integer of milliseconds.
struct DurationValue(Duration);

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A visitor keeps the value's own position in the error; the rule is the suite files'.
        struct V;
        impl Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as `5s`, `250ms` or a number of milliseconds")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                crate::duration::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
                Ok(Duration::from_millis(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
                crate::duration::from_yaml(&serde_yaml::Value::from(v)).map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
                crate::duration::from_yaml(&serde_yaml::Value::from(v)).map_err(E::custom)
            }
        }
        d.deserialize_any(V).map(DurationValue)
    }
}

/// `headers:`: name → scalar, names checked, duplicates (case-insensitive) refused, order kept.
struct Headers(Vec<(String, String)>);

impl<'de> Deserialize<'de> for Headers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Headers;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of header names to values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Headers, A::Error> {
                let mut out: Vec<(String, String)> = Vec::new();
                while let Some(name) = map.next_key::<String>()? {
                    if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                        return Err(de::Error::custom(format!("invalid header name `{name}`")));
                    }
                    if out.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
                        return Err(de::Error::custom(format!("header `{name}` is set twice")));
                    }
                    let value: Template = map.next_value()?;
                    out.push((name, value.0));
                }
                Ok(Headers(out))
            }
        }
        d.deserialize_map(V)
    }
}
