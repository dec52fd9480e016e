//! Embeds the built browser files in the binary, so that the one binary is the whole app.
//!
//! When `KINEMA_EMBED_SITE` names a site directory (as `cargo leptos build` leaves it), every
//! file under its `pkg/` (but TypeScript declarations) is copied to `OUT_DIR` with brotli and
//! gzip variants (brotli from cargo-leptos's `--precompress` when present), and
//! `embedded_site.rs` lists them for `include_bytes!`. Without it (debug builds, tests) the list
//! is empty and the server reads the site directory instead.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

fn main() {
    println!("cargo:rerun-if-env-changed=KINEMA_EMBED_SITE");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let mut table = String::from("&[\n");
    let mut version = Sha256::new();
    if let Some(site) = std::env::var_os("KINEMA_EMBED_SITE").filter(|s| !s.is_empty()) {
        let pkg = Path::new(&site).join("pkg");
        println!("cargo:rerun-if-changed={}", pkg.display());
        let mut files = Vec::new();
        collect(&pkg, &mut files);
        files.sort();
        assert!(
            !files.is_empty(),
            "KINEMA_EMBED_SITE={} has no pkg/ files: run `cargo leptos build --release` first",
            Path::new(&site).display()
        );
        let embed = out.join("site");
        std::fs::create_dir_all(&embed).expect("the embed directory");
        for (index, file) in files.iter().enumerate() {
            println!("cargo:rerun-if-changed={}", file.display());
            let name = file
                .strip_prefix(&pkg)
                .expect("a file under pkg/")
                .to_string_lossy()
                .replace('\\', "/");
            let raw = std::fs::read(file).expect("a readable site file");
            version.update(name.as_bytes());
            version.update(&raw);
            let etag = hex::encode(&Sha256::digest(&raw)[..12]);
            let stored = embed.join(format!("{index}"));
            std::fs::write(&stored, &raw).expect("a copy of the site file");
            let (br, gz) = if compressible(&name) {
                // Brotli at its strongest is slow, so cargo-leptos's `--precompress` copy is used
                // when present; gzip is made here (flate2 at level 9 beats that copy by a fifth).
                let sibling = PathBuf::from(format!("{}.br", file.display()));
                let br = std::fs::read(&sibling).unwrap_or_else(|_| brotli(&raw));
                (
                    variant(&stored, "br", &br, raw.len()),
                    variant(&stored, "gz", &gzip(&raw), raw.len()),
                )
            } else {
                (None, None)
            };
            let _ = writeln!(
                table,
                "    EmbeddedFile {{ name: {name:?}, etag: {etag:?}, raw: include_bytes!({raw:?}), br: {br}, gzip: {gz} }},",
                raw = stored.display().to_string(),
                br = option_bytes(br),
                gz = option_bytes(gz),
            );
        }
    }
    table.push(']');
    let version = hex::encode(&version.finalize()[..8]);
    let code = format!(
        "/// The embedded `pkg/` files (empty when the build embedded none).\npub static FILES: &[EmbeddedFile] = {table};\n/// A digest of the embedded files' names and contents.\npub static VERSION: &str = {version:?};\n"
    );
    std::fs::write(out.join("embedded_site.rs"), code).expect("the embedded file table");
}

fn collect(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path.to_string_lossy();
        if path.is_dir() {
            collect(&path, found);
        } else if ![".br", ".gz", ".d.ts"]
            .iter()
            .any(|ext| name.ends_with(ext))
        {
            found.push(path);
        }
    }
}

/// Text, scripts and WASM shrink; pictures and video are compressed already.
fn compressible(name: &str) -> bool {
    [
        ".wasm", ".js", ".css", ".html", ".json", ".svg", ".txt", ".map",
    ]
    .iter()
    .any(|ext| name.ends_with(ext))
}

fn brotli(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, 22);
        writer.write_all(raw).expect("brotli");
    }
    out
}

fn gzip(raw: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(raw).expect("gzip");
    encoder.finish().expect("gzip")
}

/// Writes a compressed variant next to `stored` when it is smaller; returns its path.
fn variant(stored: &Path, ext: &str, bytes: &[u8], raw_len: usize) -> Option<String> {
    if bytes.len() >= raw_len {
        return None;
    }
    let path = stored.with_extension(ext);
    std::fs::write(&path, bytes).expect("a compressed variant");
    Some(path.display().to_string())
}

fn option_bytes(path: Option<String>) -> String {
    match path {
        Some(path) => format!("Some(include_bytes!({path:?}))"),
        None => "None".into(),
    }
}
