//! The human report (spec 5).
