//! A mutation fuzzer for the media probes that runs with `cargo test` on stable Rust.
//!
//! Every committed media fixture and every saved regression input is mutated, for a seeded
//! number of iterations each, and fed to every probe (the sniffing entry point and each format's
//! parser directly, whatever the bytes look like). Each call must return within [`CALL_LIMIT`]
//! without panicking. An input that fails is saved under `regressions/` next to the fixtures
//! (commit it: every later run replays it before fuzzing) and the test fails with the seed.
//!
//! `KINEMA_FUZZ_SEED=<n>` replays a run; `KINEMA_FUZZ_ITERATIONS=<n>` sets the iterations per
//! input (default [`DEFAULT_ITERATIONS`], about half a minute in a debug build on two cores).

mod mutate;

use std::{
    io::Write,
    panic::{catch_unwind, AssertUnwindSafe},
    path::{Path, PathBuf},
    sync::mpsc,
    time::{Duration, Instant},
};

use rand::{rngs::StdRng, SeedableRng};

use super::{budget::Budget, isobmff, jpeg, png, probe_within, source::SliceSource, webm};

/// Iterations per input unless `KINEMA_FUZZ_ITERATIONS` says otherwise.
const DEFAULT_ITERATIONS: u64 = 1_500;
/// Longest one probe call may take (the budget's clock stops a probe at 3 s; a debug build on a
/// busy machine is slow, so the bound is loose but far below "for ever").
const CALL_LIMIT: Duration = Duration::from_secs(4);

/// One probe, fed raw bytes; true if it read them as media. Only returning matters; the count
/// of inputs still read shows the mutations get past the first checks.
type ProbeFn = fn(&[u8]) -> bool;

/// Every probe, by name.
const PROBES: [(&str, ProbeFn); 5] = [
    ("sniff and probe", |bytes| {
        probe_within(&mut SliceSource::new(bytes), &Budget::default()).is_ok()
    }),
    ("MP4/MOV", |bytes| {
        isobmff::probe(&mut SliceSource::new(bytes), &Budget::default()).is_ok()
    }),
    ("WEBM", |bytes| {
        webm::probe(&mut SliceSource::new(bytes), &Budget::default()).is_ok()
    }),
    ("PNG", |bytes| {
        png::size(&mut SliceSource::new(bytes), &Budget::default()).is_ok()
    }),
    ("JPEG", |bytes| {
        jpeg::size(&mut SliceSource::new(bytes), &Budget::default()).is_ok()
    }),
];

/// How one input went: the slowest call and whether any probe read it as media.
struct Passed {
    slowest: Duration,
    read: bool,
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/tests/fixtures/media")
}

fn regressions_dir() -> PathBuf {
    fixtures_dir().join("regressions")
}

/// The files in `dir`, sorted by name, as (name, bytes).
fn files_in(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_file()))
                .filter(|entry| entry.file_name().to_string_lossy() != "README.md")
                .filter_map(|entry| {
                    let bytes = std::fs::read(entry.path()).ok()?;
                    Some((entry.file_name().to_string_lossy().into_owned(), bytes))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn env_number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    let value = value.trim();
    match value.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => value.parse().ok(),
    }
}

/// Says something in the test log even when libtest captures output (it captures `print!`, not
/// writes to the standard error stream itself).
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// A stable number for a name, so each input gets its own stream of mutations from the seed.
fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xCBF2_9CE4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01B3)
    })
}

/// What went wrong with one input.
struct Failure {
    probe: &'static str,
    what: String,
}

/// Runs the probes on a worker thread, so a call that never returns is noticed and reported.
struct Harness {
    inputs: mpsc::Sender<Vec<u8>>,
    results: mpsc::Receiver<Result<Passed, Failure>>,
}

impl Harness {
    fn start() -> Harness {
        let (inputs, inbox) = mpsc::channel::<Vec<u8>>();
        let (outbox, results) = mpsc::channel();
        std::thread::spawn(move || {
            for bytes in inbox {
                let mut slowest = Duration::ZERO;
                let mut read = false;
                let mut outcome = Ok(());
                for (probe, run) in PROBES {
                    let started = Instant::now();
                    let call = catch_unwind(AssertUnwindSafe(|| run(&bytes)));
                    let took = started.elapsed();
                    slowest = slowest.max(took);
                    read |= call.as_ref().is_ok_and(|read| *read);
                    if let Err(panic) = call {
                        let message = panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_default();
                        outcome = Err(Failure {
                            probe,
                            what: format!("panicked: {message}"),
                        });
                        break;
                    }
                    if took > CALL_LIMIT {
                        outcome = Err(Failure {
                            probe,
                            what: format!("took {took:?}"),
                        });
                        break;
                    }
                }
                if outbox
                    .send(outcome.map(|()| Passed { slowest, read }))
                    .is_err()
                {
                    return;
                }
            }
        });
        Harness { inputs, results }
    }

    /// Runs every probe on `bytes`; how it went, or what went wrong.
    fn run(&self, bytes: Vec<u8>) -> Result<Passed, Failure> {
        self.inputs.send(bytes).expect("the fuzz worker is running");
        let all_probes = CALL_LIMIT * u32::try_from(PROBES.len()).unwrap_or(u32::MAX);
        match self.results.recv_timeout(all_probes) {
            Ok(outcome) => outcome,
            Err(_) => Err(Failure {
                probe: "one of the probes",
                what: format!("did not return within {all_probes:?}"),
            }),
        }
    }
}

/// Saves a failing input as a regression fixture and fails the test with how to replay it.
fn report(seed: u64, input: &str, iteration: u64, bytes: &[u8], failure: Failure) -> ! {
    let dir = regressions_dir();
    let path = dir.join(format!("found-{seed:016x}-{input}-{iteration}.bin"));
    let saved = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, bytes));
    let saved = match saved {
        Ok(()) => format!("saved as {} (commit it)", path.display()),
        Err(err) => format!("could not be saved: {err}"),
    };
    say(&format!(
        "media fuzzer: FAILED seed {seed:#018x}, input {input}, iteration {iteration}: the {} probe {}; the {}-byte input {saved}",
        failure.probe,
        failure.what,
        bytes.len()
    ));
    panic!(
        "{} probe {} on a mutation of {input} (seed {seed:#018x}, iteration {iteration}; replay with KINEMA_FUZZ_SEED={seed:#018x})",
        failure.probe, failure.what
    );
}

#[test]
fn saved_regressions_still_pass() {
    let harness = Harness::start();
    let regressions = files_in(&regressions_dir());
    assert!(!regressions.is_empty(), "the regression inputs are there");
    for (name, bytes) in regressions {
        if let Err(failure) = harness.run(bytes) {
            panic!(
                "regression {name}: the {} probe {}",
                failure.probe, failure.what
            );
        }
    }
}

#[test]
fn mutated_fixtures_never_hang_or_panic_any_probe() {
    let seed = env_number("KINEMA_FUZZ_SEED").unwrap_or_else(rand::random);
    let iterations = env_number("KINEMA_FUZZ_ITERATIONS").unwrap_or(DEFAULT_ITERATIONS);
    say(&format!(
        "media fuzzer: seed {seed:#018x}, {iterations} iterations per input (replay: KINEMA_FUZZ_SEED={seed:#018x})"
    ));
    let mut inputs = files_in(&fixtures_dir());
    inputs.extend(files_in(&regressions_dir()));
    assert!(inputs.len() >= 19, "the fixtures are there");
    let harness = Harness::start();
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    let mut total = 0u64;
    let mut still_read = 0u64;
    for (name, original) in &inputs {
        let mut rng = StdRng::seed_from_u64(seed ^ name_hash(name));
        for iteration in 0..iterations {
            let mut bytes = original.clone();
            mutate::mutate(&mut bytes, &mut rng);
            match harness.run(bytes.clone()) {
                Ok(passed) => {
                    slowest = slowest.max(passed.slowest);
                    still_read += u64::from(passed.read);
                }
                Err(failure) => report(seed, name, iteration, &bytes, failure),
            }
            total += 1;
        }
    }
    say(&format!(
        "media fuzzer: {total} iterations ({} probe calls) over {} inputs in {:.1} s, {still_read} \
         mutants still read as media, slowest call {} ms, seed {seed:#018x}",
        total * PROBES.len() as u64,
        inputs.len(),
        started.elapsed().as_secs_f64(),
        slowest.as_millis()
    ));
}
