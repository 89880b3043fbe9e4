//! Monitor mode (docs/monitor.md): the run repeated in rounds by one process with one client,
//! each check judged after every round on the rounds inside the window ([`window`]), its state
//! changes ([`alert`]) printed ([`output`]) and posted to webhooks ([`webhook`]), the latest
//! round handed to the listen server ([`publish`], [`listen`]).

pub mod listen;
pub mod publish;
pub mod webhook;

pub use publish::{Published, Publisher, Subscriber};
