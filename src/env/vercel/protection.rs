//! The hint for a preview behind Vercel's deployment protection (docs/environments.md,
//! "Protected previews").

/// A hint for a 401 answer, by what the target is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnauthorizedHint {
    /// A preview deployment may sit behind Vercel's deployment protection.
    VercelProtection,
}

impl UnauthorizedHint {
    /// The hint for an answer with `status` to a request that carried `sent`, if it applies: a
    /// 401 to a request without the bypass header (docs/environments.md, "Protected previews").
    pub fn for_answer(self, status: u16, sent: &reqwest::header::HeaderMap) -> Option<&'static str> {
        match self {
            UnauthorizedHint::VercelProtection => (status == 401
                && !sent.contains_key("x-vercel-protection-bypass"))
            .then_some(
                "hint: this preview deployment is protected (401); set VERCEL_AUTOMATION_BYPASS_SECRET to the project's \"Protection Bypass for Automation\" secret so requests carry x-vercel-protection-bypass",
            ),
        }
    }
}
