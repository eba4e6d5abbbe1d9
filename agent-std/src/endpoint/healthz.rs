//! `/healthz`: 200 while the agent can serve.

/// Always `ok`: a process that answers is healthy; collection errors show on the
/// endpoints that collect.
pub async fn handle() -> &'static str {
    "ok\n"
}
