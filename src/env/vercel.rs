//! Vercel preview URL detection (spec 3.1).
