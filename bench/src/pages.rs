//! Page throughput: requests per second and latency of server-rendered pages at 64 kept-alive
//! connections, next to `/healthz` measured in the same run, with Debian's `wrk` as the load tool.

use std::process::Command;

/// What one `wrk` run measured.
#[derive(Clone, Debug)]
pub struct Load {
    pub requests_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub non_2xx: u64,
}

/// Connections and threads of every run (the figures of the issue are taken this way).
const CONNECTIONS: &str = "64";
const THREADS: &str = "2";

/// The `wrk` version line, or `None` when it is not installed (the setup script installs it).
pub fn wrk_version() -> Option<String> {
    let output = Command::new("wrk").arg("--version").output().ok()?;
    // wrk prints its version and usage to stdout or stderr and exits 1.
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    text.lines()
        .find(|line| line.starts_with("wrk "))
        .map(|line| line.split(" [").next().unwrap_or(line).trim().to_string())
}

/// Loads `url` for `seconds` with `cookie` (when signed in) and parses what `wrk` reports.
pub fn load(url: &str, cookie: Option<&str>, seconds: u32) -> Result<Load, String> {
    let mut command = Command::new("wrk");
    command.args([
        "-t",
        THREADS,
        "-c",
        CONNECTIONS,
        "-d",
        &format!("{seconds}s"),
        "--latency",
        // Like a browser: pages are asked for with compression allowed.
        "-H",
        "Accept-Encoding: br, gzip",
    ]);
    if let Some(cookie) = cookie {
        command.args(["-H", &format!("Cookie: {cookie}")]);
    }
    let output = command
        .arg(url)
        .output()
        .map_err(|e| format!("cannot run wrk: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "wrk failed: {}{}",
            text,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    parse(&text).ok_or_else(|| format!("cannot read wrk's report:\n{text}"))
}

fn parse(report: &str) -> Option<Load> {
    let mut load = Load {
        requests_per_s: 0.0,
        p50_ms: 0.0,
        p99_ms: 0.0,
        non_2xx: 0,
    };
    for line in report.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("Requests/sec:"), Some(value)) => load.requests_per_s = value.parse().ok()?,
            (Some("50%"), Some(value)) => load.p50_ms = millis(value)?,
            (Some("99%"), Some(value)) => load.p99_ms = millis(value)?,
            (Some("Non-2xx"), _) => {
                load.non_2xx = line.rsplit(' ').next()?.parse().ok()?;
            }
            _ => {}
        }
    }
    (load.requests_per_s > 0.0).then_some(load)
}

/// wrk's durations: `812.00us`, `1.20ms`, `2.01s`, `1.00m`.
fn millis(value: &str) -> Option<f64> {
    let split = value.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        "m" => number * 60_000.0,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "Running 5s test @ http://127.0.0.1:3000/healthz
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   812.00us  300.00us  10.00ms   90.00%
    Req/Sec    40.00k     2.00k   45.00k    70.00%
  Latency Distribution
     50%  790.00us
     75%    1.00ms
     90%    1.20ms
     99%    2.01s
  400000 requests in 5.00s, 50.00MB read
  Non-2xx or 3xx responses: 12
Requests/sec:  80000.12
Transfer/sec:     10.00MB
";

    #[test]
    fn reads_throughput_percentiles_and_failures_from_a_wrk_report() {
        let load = parse(REPORT).expect("a report");
        assert_eq!(load.requests_per_s, 80000.12);
        assert!((load.p50_ms - 0.79).abs() < 1e-9);
        assert!((load.p99_ms - 2010.0).abs() < 1e-9, "{}", load.p99_ms);
        assert_eq!(load.non_2xx, 12);
    }

    #[test]
    fn a_report_without_throughput_is_not_a_measurement() {
        assert!(parse("unable to connect to 127.0.0.1:1 Connection refused").is_none());
    }
}
