//! Vercel preview URL detection (docs/environments.md, "Preview URL detection").
//!
//! [`detect()`] runs steps 2–5 (step 1, the explicit URL, is [`super::resolve`]'s): the Vercel
//! runtime variables, the GitHub `deployment_status` event, the Vercel REST API and the guessed
//! branch alias. Every step that does not apply says why, so a failed detection can list them.
//!
//! The parts: `detect` (the step order and the "none worked" report), `config` (the `vercel:`
//! block, expanded), `github` (the event file, step 3), `git` (the current commit and branch),
//! `project` (which project step 4 asks about), `client` (one Vercel API call and what it
//! answers), `api` (step 4: choosing a deployment, following one that builds), `alias` (step 5)
//! and `protection` (the hint for a protected preview). They import `options` and `file` of
//! [`super`], never its parent.

mod alias;
mod api;
mod client;
mod config;
mod detect;
mod git;
mod github;
mod project;
mod protection;

pub use super::options::POLL_INTERVAL;
pub use alias::{MAX_LABEL_LEN, branch_slug, guessed_alias};
pub use api::DEFAULT_API_URL;
pub use detect::{Detected, detect};
pub use git::{current_branch, current_commit};
pub use project::{Project, find_project_json};
pub use protection::UnauthorizedHint;
