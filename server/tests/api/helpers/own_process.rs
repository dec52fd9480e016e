//! Running one test alone in a process of its own, for the few tests that measure the whole
//! process (its CPU time, its global counters) while this binary runs every area's tests at once.

use std::process::Command;

/// Set in the process [`run_in_own_process`] starts.
const OWN_PROCESS: &str = "KINEMA_TEST_OWN_PROCESS";

/// Whether this process was started by [`run_in_own_process`] to run one test alone.
pub fn in_own_process() -> bool {
    std::env::var_os(OWN_PROCESS).is_some()
}

/// Runs the test `name` (its path in this binary, e.g. `area::test_name`) alone in a new process
/// of this test binary, and panics with that process's output unless exactly that test passed.
pub fn run_in_own_process(name: &str) {
    let binary = std::env::current_exe().expect("path of the test binary");
    let output = Command::new(binary)
        .args([name, "--exact", "--test-threads=1", "--nocapture"])
        .env(OWN_PROCESS, "1")
        .output()
        .expect("start the test binary again");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("test result: ok. 1 passed;"),
        "{name} alone in its own process ({}):\n{stdout}\n{stderr}",
        output.status
    );
    // The figures it printed reach the CI log (the parent's own output is captured).
    let figures: String = stdout
        .lines()
        .chain(stderr.lines())
        .filter(|line| {
            let harness = ["running ", "test ", "test result", "successes", "failures"];
            !line.trim().is_empty() && !harness.iter().any(|word| line.starts_with(word))
        })
        .map(|line| format!("{name}: {line}\n"))
        .collect();
    let _ = std::io::Write::write_all(&mut std::io::stderr(), figures.as_bytes());
}
