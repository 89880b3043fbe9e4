//! Running checks: [`plan`] (filters, dependency closure, variables), [`execute`] (scheduling,
//! retries, samples, cancellation), [`http`] (client, timing, body cap), [`stats`] (percentiles).

pub mod execute;

pub mod plan;
pub mod stats;

pub use execute::{Control, Details, Observer, Settings, Silent, execute};
pub use plan::{BuiltIns, Plan, Selection, plan};
