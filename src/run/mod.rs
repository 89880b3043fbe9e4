//! Running checks, split as Hurl's runner is: [`plan`] (filters, dependency closure, variables),
//! [`execute`] (scheduling, cancellation through [`control`]), [`request`] (building a check's
//! request), [`exchange`] (one send with retries and `poll`), [`judge`] and [`capture`] (one
//! recorded response judged), [`sampled`] (N samples) and [`tally`] (their SLA verdict);
//! [`cookies`] is a suite's cookie jar and [`curl`] the command line `-v` shows for an exchange.

mod capture;
mod control;
pub mod cookies;
pub mod curl;
mod exchange;
pub mod execute;
mod judge;
pub mod plan;
mod request;
mod sampled;
mod tally;

pub use crate::vars::BuiltIns;
pub use control::Control;
pub use execute::{CheckDefaults, Details, Observer, Settings, execute};
pub(crate) use execute::{Ctx, Finished};
pub use plan::{Plan, PlannedSuite, Selection, plan};
