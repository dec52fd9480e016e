//! The server process the restart scenario starts, kills and starts again, and how it calls it.

use std::path::Path;

use super::database::Database;
use crate::helpers::{ServerProcess, TestBucket};

/// The team's EvoLink key (the simulator's).
pub const KEY: &str = "restart-test-key";

/// Starts the server on `dir` and `database` against the simulator at `sim`, with a short task
/// lease, its media in `bucket` when given (else on local disk).
pub fn start(
    dir: &Path,
    database: &Database,
    sim: &str,
    bucket: Option<&TestBucket>,
) -> ServerProcess {
    let mut storage = bucket.map(TestBucket::env).unwrap_or_default();
    storage.extend(database.server_env());
    let mut env = vec![
        ("KINEMA_LOG", "warn"),
        ("KINEMA_TASK_LEASE_SECONDS", "2"),
        ("EVOLINK_API_KEY", KEY),
        ("EVOLINK_BASE_URL", sim),
        ("EVOLINK_FILES_BASE_URL", sim),
    ];
    env.extend(storage.iter().map(|(name, value)| (*name, value.as_str())));
    ServerProcess::start(dir, &env)
}

/// Calls server function `function` on the server at `base`.
pub async fn post(
    client: &reqwest::Client,
    base: &str,
    function: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client
        .post(format!("{base}/api/{function}"))
        .header("Accept", "application/json")
        .form(form)
        .send()
        .await
        .unwrap()
}
