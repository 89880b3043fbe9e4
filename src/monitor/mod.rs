//! Monitor mode (docs/monitor.md).

pub mod listen;
