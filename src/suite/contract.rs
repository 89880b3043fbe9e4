//! The contract parts of a suite (docs/assertions.md#schema, #openapi, #certificate): schemas
//! and OpenAPI documents are read and compiled here, once each, so a bad one is a suite error
//! with its position and no response ever waits for a compiler.

use super::context::{Ctx, mapping_key, path, yaml_to_json};
use super::matcher::matcher;
use super::{Expect, TemplateSite};
use crate::contract::certificate::FIELDS;
use crate::contract::openapi::OpenApi;
use crate::contract::schema::{self, CompiledSchema};
use crate::yaml::Seg;
use serde_yaml::Value;
use std::path::Path;
use std::sync::Arc;

/// `expect.schema`: a file (relative to the suite file) or the schema inline. `at` is where the
/// `schema` key stands.
pub(super) fn schema(ctx: &mut Ctx, at: &[Seg], v: &Value, suite_file: &Path) -> Option<CompiledSchema> {
    let dir = suite_file.parent().unwrap_or(Path::new(""));
    let (key, compiled) = match v {
        Value::String(file) => {
            let resolved = dir.join(file);
            let key = format!("file:{}", resolved.display());
            if let Some(hit) = ctx.schemas.get(&key) {
                return hit.clone();
            }
            (key, schema::compile_file(&resolved))
        }
        Value::Mapping(_) | Value::Bool(_) => {
            let json = yaml_to_json(ctx, at, v);
            let key = format!("inline:{}:{json}", dir.display());
            if let Some(hit) = ctx.schemas.get(&key) {
                return hit.clone();
            }
            let compiled = schema::file_url(suite_file).and_then(|base| schema::compile(&json, &base, None));
            (key, compiled)
        }
        other => {
            ctx.error(
                at,
                format!(
                    "`schema` is a path to a .json or .yaml file, or a schema written as a map; found {}",
                    crate::yaml::kind(other)
                ),
            );
            return None;
        }
    };
    let compiled = match compiled {
        Ok(c) => Some(c),
        Err(e) => {
            ctx.error(at, format!("schema: {e}"));
            None
        }
    };
    ctx.schemas.insert(key, compiled.clone());
    compiled
}

/// `openapi:` on the suite or its `defaults`: the document, read and compiled.
pub(super) fn openapi(ctx: &mut Ctx, at: &[Seg], file: &str, suite_file: &Path) -> Option<Arc<OpenApi>> {
    let resolved = suite_file.parent().unwrap_or(Path::new("")).join(file);
    match OpenApi::load(&resolved) {
        Ok(doc) => Some(Arc::new(doc)),
        Err(e) => {
            ctx.error(at, format!("openapi: {e}"));
            None
        }
    }
}

/// `expect.certificate`: a map of certificate fields, each an assertion.
pub(super) fn certificate(
    ctx: &mut Ctx,
    at: &[Seg],
    v: &Value,
    templates: &mut Vec<TemplateSite>,
    expect: &mut Expect,
) {
    let Value::Mapping(map) = v else {
        ctx.error(
            at,
            format!(
                "`certificate` is a map of assertions on {}; found {}",
                FIELDS.join(", "),
                crate::yaml::kind(v)
            ),
        );
        return;
    };
    for (k, v) in map {
        let Some(field) = mapping_key(ctx, at, k) else {
            continue;
        };
        let here = path(at, &[Seg::Key(field.clone())]);
        if !FIELDS.contains(&field.as_str()) {
            let hint = ctx.hint(&field, FIELDS);
            ctx.error(
                &here,
                format!(
                    "unknown certificate field `{field}` ({}){hint}",
                    FIELDS.join(", ")
                ),
            );
            continue;
        }
        if let Some(m) = matcher(ctx, &here, v, templates) {
            expect.certificate.push((field, m));
        }
    }
}
