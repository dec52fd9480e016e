//! The measurements: starts the given `kinema-server` binary as the server under test against an
//! in-process simulator, and measures (1) upload throughput and the server's peak memory growth
//! for a large video over loopback, next to a plain loopback copy of the same bytes, and (2) the
//! time from the simulator finishing a task to the member's history showing it. Prints the
//! figures; asserts nothing.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use tokio::io::AsyncWriteExt;

use evolink_sim::{RunningSimulator, SimulatorConfig};

pub const KEY: &str = "bench-key";
pub const PASSWORD: &str = "bench password 123";
/// A small valid MP4 with its index at the start; padded to the wanted size for the upload.
pub const SEED_VIDEO: &[u8] =
    include_bytes!("../../server/tests/fixtures/media/valid-index-at-start.mp4");
pub const SEED_IMAGE: &[u8] = include_bytes!("../../server/tests/fixtures/media/valid.png");

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `VmRSS` or `VmHWM` of a process, in kB.
pub fn proc_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Starts the server under test against the simulator at `sim`, with `env` on top; returns the
/// process and its address.
pub fn start_server(
    server_bin: &Path,
    dir: &Path,
    sim: &str,
    env: &[(&str, String)],
) -> Result<(Child, String), String> {
    use std::io::BufRead;
    let mut child = Command::new(server_bin)
        .envs(env.iter().map(|(name, value)| (name, value)))
        .env("KINEMA_DATA_DIR", dir)
        .env("KINEMA_LISTEN", "127.0.0.1:0")
        .env("KINEMA_LOG", "warn")
        .env("EVOLINK_API_KEY", KEY)
        .env("EVOLINK_BASE_URL", sim)
        .env("EVOLINK_FILES_BASE_URL", sim)
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the server {}: {e}", server_bin.display()))?;
    let mut reader = std::io::BufReader::new(child.stdout.take().ok_or("no stdout")?);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            return Err("the server exited during start-up".into());
        }
        if let Some(url) = line.trim().strip_prefix("Kinema is running at ") {
            let url = url.to_string();
            std::thread::spawn(move || for _ in reader.lines() {});
            return Ok((child, url));
        }
    }
}

/// Writes a valid MP4 of exactly `bytes` bytes: the seed file plus a `free` box.
fn padded_video(path: &Path, bytes: usize) -> Result<(), String> {
    let padding = bytes.saturating_sub(SEED_VIDEO.len());
    let mut data = Vec::with_capacity(bytes);
    data.extend_from_slice(SEED_VIDEO);
    data.extend_from_slice(&(padding as u32).to_be_bytes());
    data.extend_from_slice(b"free");
    data.resize(bytes, 0);
    std::fs::write(path, data).map_err(|e| e.to_string())
}

/// Submits a 720p motion task from the two uploads as the signed-in client; returns its id.
pub async fn submit_task(
    client: &reqwest::Client,
    base: &str,
    image_id: &str,
    video_id: &str,
    prompt: &str,
    idempotency_key: &str,
) -> Result<String, String> {
    let task = post(
        client,
        base,
        "submit_motion",
        &[
            ("image_upload_id", image_id),
            ("video_upload_id", video_id),
            ("quality", "720p"),
            ("orientation", "image"),
            ("keep_sound", "true"),
            ("prompt", prompt),
            ("idempotency_key", idempotency_key),
        ],
    )
    .await?;
    Ok(task["id"].as_str().unwrap_or_default().to_string())
}

/// Calls the server function `function` with a form; its JSON answer, or why it failed.
pub async fn post(
    client: &reqwest::Client,
    base: &str,
    function: &str,
    form: &[(&str, &str)],
) -> Result<serde_json::Value, String> {
    let response = client
        .post(format!("{base}/api/{function}"))
        .header("Accept", "application/json")
        .form(form)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or(serde_json::Value::Null);
    if !status.is_success() {
        return Err(format!("{function}: HTTP {status}: {body}"));
    }
    Ok(body)
}

/// Uploads the file at `path` for `purpose`; the upload id and how long it took.
pub async fn upload_file(
    client: &reqwest::Client,
    base: &str,
    purpose: &str,
    path: &Path,
) -> Result<(String, Duration), String> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| e.to_string())?;
    let length = file.metadata().await.map_err(|e| e.to_string())?.len();
    let started = Instant::now();
    let response = client
        .post(format!("{base}/api/uploads?purpose={purpose}&name=bench"))
        .header("Content-Length", length)
        .body(reqwest::Body::from(file))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let elapsed = started.elapsed();
    let status = response.status();
    let body: serde_json::Value = response.json().await.map_err(|e| e.to_string())?;
    if status.as_u16() != 201 {
        return Err(format!("upload refused: HTTP {status}: {body}"));
    }
    Ok((body["id"].as_str().unwrap_or_default().to_string(), elapsed))
}

/// A plain loopback copy: a listener that writes what it receives to a file.
async fn plain_copy(source: &Path, target: PathBuf) -> Result<Duration, String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let sink = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let mut file = tokio::fs::File::create(&target)
            .await
            .map_err(|e| e.to_string())?;
        tokio::io::copy(&mut socket, &mut file)
            .await
            .map_err(|e| e.to_string())?;
        file.flush().await.map_err(|e| e.to_string())?;
        Ok::<(), String>(())
    });
    let started = Instant::now();
    let mut socket = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let mut file = tokio::fs::File::open(source)
        .await
        .map_err(|e| e.to_string())?;
    tokio::io::copy(&mut file, &mut socket)
        .await
        .map_err(|e| e.to_string())?;
    socket.shutdown().await.map_err(|e| e.to_string())?;
    sink.await.map_err(|e| e.to_string())??;
    Ok(started.elapsed())
}

/// Runs the benchmark against the `kinema-server` binary at `server_bin` and prints its figures.
pub async fn run(server_bin: &Path, size_mb: u64, tasks: usize) -> Result<(), String> {
    let work = std::env::temp_dir().join(format!("kinema-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let outcome = measure(server_bin, &work, size_mb, tasks).await;
    let _ = std::fs::remove_dir_all(&work);
    outcome
}

async fn measure(server_bin: &Path, work: &Path, size_mb: u64, tasks: usize) -> Result<(), String> {
    let sim = RunningSimulator::start(
        SimulatorConfig::new(KEY, Duration::from_secs(1)),
        ([127, 0, 0, 1], 0).into(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let data = work.join("data");
    let (mut server, base) = start_server(server_bin, &data, &sim.base_url, &[])?;
    let pid = server.id();
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .build()
        .map_err(|e| e.to_string())?;
    post(
        &client,
        &base,
        "setup_admin",
        &[
            ("username", "bench"),
            ("display_name", "Bench"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ],
    )
    .await?;

    // (1) Upload throughput and memory.
    let bytes = (size_mb * 1024 * 1024) as usize - 1024;
    let video = work.join("big.mp4");
    padded_video(&video, bytes)?;
    let image = work.join("image.png");
    std::fs::write(&image, SEED_IMAGE).map_err(|e| e.to_string())?;
    let (_, _) = upload_file(&client, &base, "character_image", &image).await?; // warm-up
    let rss_before = proc_kb(pid, "VmRSS").unwrap_or(0);
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5"); // resets VmHWM to the current RSS
    let (_, upload_time) = upload_file(&client, &base, "motion_video", &video).await?;
    let peak = proc_kb(pid, "VmHWM").unwrap_or(0);
    let growth_mb = peak.saturating_sub(rss_before) as f64 / 1024.0;
    let megabytes = bytes as f64 / (1024.0 * 1024.0);
    let copy_time = plain_copy(&video, work.join("copy.bin")).await?;
    println!(
        "bench upload: {megabytes:.1} MB in {:.3} s = {:.1} MB/s through Kinema; plain loopback copy {:.3} s = {:.1} MB/s",
        upload_time.as_secs_f64(),
        megabytes / upload_time.as_secs_f64(),
        copy_time.as_secs_f64(),
        megabytes / copy_time.as_secs_f64(),
    );
    println!(
        "bench memory: server RSS {:.1} MB before, peak {:.1} MB during the upload: growth {growth_mb:.1} MB (target below 32 MB)",
        rss_before as f64 / 1024.0,
        peak as f64 / 1024.0,
    );

    // (1b) Four uploads at once: aggregate throughput and memory.
    let rss_before = proc_kb(pid, "VmRSS").unwrap_or(0);
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
    let started = Instant::now();
    let parallel = futures_util::future::join_all(
        (0..4).map(|_| upload_file(&client, &base, "motion_video", &video)),
    )
    .await;
    let parallel_time = started.elapsed();
    for outcome in parallel {
        outcome?;
    }
    let peak = proc_kb(pid, "VmHWM").unwrap_or(0);
    println!(
        "bench upload x4: {:.1} MB in {:.3} s = {:.1} MB/s through Kinema (4 at once; {:.2}x the plain copy's rate); memory growth {:.1} MB",
        4.0 * megabytes,
        parallel_time.as_secs_f64(),
        4.0 * megabytes / parallel_time.as_secs_f64(),
        (4.0 * megabytes / parallel_time.as_secs_f64()) / (megabytes / copy_time.as_secs_f64()),
        peak.saturating_sub(rss_before) as f64 / 1024.0,
    );

    // (2) Simulator finished → history shows it.
    let small = work.join("small.mp4");
    std::fs::write(&small, SEED_VIDEO).map_err(|e| e.to_string())?;
    let (image_id, _) = upload_file(&client, &base, "character_image", &image).await?;
    let (video_id, _) = upload_file(&client, &base, "motion_video", &small).await?;
    let mut latencies = Vec::new();
    for n in 0..tasks {
        let key = format!("bench-{n}");
        let id = submit_task(&client, &base, &image_id, &video_id, "", &key).await?;
        let deadline = Instant::now() + Duration::from_secs(120);
        let seen = loop {
            let page = post(&client, &base, "list_tasks", &[("page", "1")]).await?;
            let done = page["items"]
                .as_array()
                .and_then(|items| items.iter().find(|t| t["id"] == id.as_str()))
                .is_some_and(|t| t["state"] == "completed");
            if done {
                break now_ms();
            }
            if Instant::now() > deadline {
                return Err(format!("task {id} did not complete in 120 s"));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let stats = sim.stats();
        let Some(finished) = stats.finished_at_ms.values().copied().max() else {
            return Err("the simulator recorded no finish time".into());
        };
        if std::env::var_os("KINEMA_BENCH_DEBUG").is_some() {
            eprintln!("task {n}: simulator finished at {finished}, history showed it at {seen}");
        }
        latencies.push(seen.saturating_sub(finished));
    }
    latencies.sort_unstable();
    if !latencies.is_empty() {
        println!(
            "bench task: simulator finished → history shows it: median {} ms, min {} ms, max {} ms over {} tasks (polling, no callbacks)",
            latencies[latencies.len() / 2],
            latencies[0],
            latencies[latencies.len() - 1],
            latencies.len()
        );
    }
    // (3) Pages at 64 connections next to /healthz, for a member with 50 tasks.
    seed_tasks(&client, &base, &image_id, &video_id, 50).await?;
    let url: reqwest::Url = base.parse().map_err(|e| format!("{e}"))?;
    let cookie = reqwest::cookie::CookieStore::cookies(jar.as_ref(), &url)
        .and_then(|value| value.to_str().ok().map(str::to_string))
        .ok_or("no session cookie after signing in")?;
    pages_report(&base, &cookie)?;

    let _ = server.kill();
    let _ = server.wait();
    sim.stop().await;
    Ok(())
}

/// Submits tasks until the member has `count`, and waits until every one has finished.
async fn seed_tasks(
    client: &reqwest::Client,
    base: &str,
    image_id: &str,
    video_id: &str,
    count: usize,
) -> Result<(), String> {
    for n in 0..count {
        let key = format!("bench-seed-{n}");
        submit_task(
            client,
            base,
            image_id,
            video_id,
            "a seeded task for the page benchmark",
            &key,
        )
        .await?;
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let page = post(
            client,
            base,
            "list_tasks",
            &[("page", "1"), ("status", "running")],
        )
        .await?;
        if page["items"]
            .as_array()
            .is_some_and(|items| items.is_empty())
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err("the seeded tasks did not finish in 120 s".into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Loads /healthz, the history page and the studio page, and prints each next to /healthz.
fn pages_report(base: &str, cookie: &str) -> Result<(), String> {
    let Some(tool) = crate::pages::wrk_version() else {
        println!(
            "bench pages: skipped, wrk is not installed (scripts/setup.sh --test installs it)"
        );
        return Ok(());
    };
    let seconds = 5;
    let baseline = crate::pages::load(&format!("{base}/healthz"), None, seconds)?;
    println!(
        "bench pages ({tool}, -t2 -c64, {seconds} s each, keep-alive): /healthz {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms",
        baseline.requests_per_s, baseline.p50_ms, baseline.p99_ms
    );
    for (name, path, signed_in) in [
        ("signed-in /healthz", "/healthz", true),
        ("history (50 tasks)", "/history", true),
        ("studio", "/", true),
    ] {
        let load = crate::pages::load(
            &format!("{base}{path}"),
            signed_in.then_some(cookie),
            seconds,
        )?;
        println!(
            "bench pages: {name}: {:.0} req/s = {:.1} % of /healthz, p50 {:.2} ms, p99 {:.2} ms{}",
            load.requests_per_s,
            100.0 * load.requests_per_s / baseline.requests_per_s,
            load.p50_ms,
            load.p99_ms,
            if load.non_2xx > 0 {
                format!(", {} answers not 2xx/3xx", load.non_2xx)
            } else {
                String::new()
            },
        );
    }
    Ok(())
}
