//! The `kinema-server` binary as a child process: a clean environment, ready once it prints its
//! address, its output collected line by line, killed when dropped.

use std::{
    io::{BufRead, BufReader, Read},
    path::Path,
    process::{Child, Command, ExitStatus, Stdio},
    sync::mpsc,
    thread::JoinHandle,
    time::{Duration, Instant},
};

/// The server binary Cargo built for these tests.
pub const SERVER_BIN: &str = env!("CARGO_BIN_EXE_kinema-server");

/// What the server prints once it listens.
const RUNNING_AT: &str = "Kinema is running at ";

/// A `kinema-server` command with only `PATH` and `KINEMA_DATA_DIR` set, run in `data_dir`.
pub fn server_command(data_dir: &Path) -> Command {
    let mut command = Command::new(SERVER_BIN);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("KINEMA_DATA_DIR", data_dir)
        .current_dir(data_dir);
    command
}

/// Waits for `child` to exit; kills it and panics if it takes longer than `deadline`.
fn wait_with_deadline(child: &mut Child, deadline: Duration) -> ExitStatus {
    let until = Instant::now() + deadline;
    loop {
        if let Some(status) = child.try_wait().expect("child status") {
            return status;
        }
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            panic!("process did not stop within {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A running `kinema-server` on a free local port.
pub struct ServerProcess {
    child: Child,
    /// Where it listens, e.g. `http://127.0.0.1:40123`.
    pub base: String,
    startup: Vec<String>,
    lines: mpsc::Receiver<String>,
    readers: Vec<JoinHandle<()>>,
}

impl ServerProcess {
    /// Starts the server on `data_dir` listening on port 0 with `env` added to the clean
    /// environment, and waits up to 30 s for it to print its address.
    pub fn start(data_dir: &Path, env: &[(&str, &str)]) -> ServerProcess {
        let mut child = server_command(data_dir)
            .env("KINEMA_LISTEN", "127.0.0.1:0")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start kinema-server");
        let (tx, lines) = mpsc::channel::<String>();
        let streams: [Box<dyn Read + Send>; 2] = [
            Box::new(child.stdout.take().expect("stdout")),
            Box::new(child.stderr.take().expect("stderr")),
        ];
        let readers = streams
            .into_iter()
            .map(|stream| {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    for line in BufReader::new(stream).lines().map_while(Result::ok) {
                        let _ = tx.send(line);
                    }
                })
            })
            .collect();
        drop(tx);
        let mut startup = Vec::new();
        let until = Instant::now() + Duration::from_secs(30);
        let base = loop {
            let left = until.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    let url = line.strip_prefix(RUNNING_AT).map(str::to_string);
                    startup.push(line);
                    if let Some(url) = url {
                        break url;
                    }
                }
                Err(why) => {
                    let _ = child.kill();
                    let status = child.wait();
                    panic!(
                        "kinema-server never printed its address ({why}; {status:?}): {startup:#?}"
                    );
                }
            }
        };
        ServerProcess {
            child,
            base,
            startup,
            lines,
            readers,
        }
    }

    /// The lines it printed (stdout and stderr) up to and including its address.
    pub fn startup_lines(&self) -> &[String] {
        &self.startup
    }

    /// Takes the lines it printed (stdout and stderr) after its address that were not taken yet;
    /// after [`Self::terminate`] or [`Self::kill`] that is all of them.
    pub fn take_log_lines(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }

    /// Sends SIGTERM and waits up to `deadline` for it to exit; returns how it exited.
    pub fn terminate(&mut self, deadline: Duration) -> ExitStatus {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "SIGTERM delivered");
        let status = wait_with_deadline(&mut self.child, deadline);
        self.join_readers();
        status
    }

    /// Kills it (SIGKILL) and waits for it to be gone.
    pub fn kill(&mut self) {
        self.child.kill().expect("kill kinema-server");
        self.child.wait().expect("reap kinema-server");
        self.join_readers();
    }

    fn join_readers(&mut self) {
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
