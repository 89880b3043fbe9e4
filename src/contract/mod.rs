//! Contract checks (docs/assertions.md#schema, #openapi, #certificate): what a response must be
//! beyond the assertions a suite spells out. Schemas and OpenAPI documents are read and compiled
//! when the suite loads; judging a response is a pure function of it, outside the timed span.

pub mod certificate;
pub mod openapi;
pub mod schema;
pub mod suite_format;
