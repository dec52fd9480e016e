//! The browser files (`pkg/`: WASM, JS, CSS), served from memory.
//!
//! A release build embeds them, with brotli and gzip variants made at build time (`build.rs`);
//! otherwise, or when `KINEMA_SITE_ROOT` overrides it, they are read from the site directory at
//! start. Pages link them under `/assets/<version>/`, where the version is a digest of the files,
//! so browsers may keep them for good (`immutable`); `/pkg/<file>` stays for anything that asks
//! for the plain name, revalidated by `ETag`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// One embedded file and its precompressed variants.
pub struct EmbeddedFile {
    pub name: &'static str,
    pub etag: &'static str,
    pub raw: &'static [u8],
    pub br: Option<&'static [u8]>,
    pub gzip: Option<&'static [u8]>,
}

mod embedded {
    use super::EmbeddedFile;
    include!(concat!(env!("OUT_DIR"), "/embedded_site.rs"));
}

/// What `cargo leptos build --split` names the chunk list and the chunk loader.
const SPLIT_MANIFEST: &str = "__wasm_split_manifest.json";
const SPLIT_LOADER: &str = "__wasm_split.______________________.js";

/// The file every page needs to hydrate; its absence means the site was not built.
const WASM: &str = "kinema.wasm";

/// Where the browser files come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SiteSource {
    /// Built into this binary.
    Embedded,
    /// Read from this site directory (its `pkg/`) at start.
    Directory(PathBuf),
}

impl SiteSource {
    /// The embedded files unless `override_root` is given or the binary embeds none.
    pub fn choose(override_root: Option<PathBuf>) -> SiteSource {
        match override_root {
            Some(root) => SiteSource::Directory(root),
            None if !embedded::FILES.is_empty() => SiteSource::Embedded,
            None => SiteSource::Directory(PathBuf::from("target/site")),
        }
    }
}

struct Asset {
    raw: &'static [u8],
    br: Option<&'static [u8]>,
    gzip: Option<&'static [u8]>,
    etag: HeaderValue,
    content_type: HeaderValue,
}

/// The loaded browser files, cheap to clone.
#[derive(Clone)]
pub struct Assets {
    files: Arc<HashMap<String, Asset>>,
    version: Arc<str>,
}

impl Assets {
    /// Loads the files from `source`. A directory without the site is an error in release
    /// builds (pages would never hydrate); debug builds and tests run without one.
    pub fn load(source: &SiteSource) -> Result<Assets, String> {
        let (files, version) = match source {
            SiteSource::Embedded => {
                let files = embedded::FILES
                    .iter()
                    .map(|file| {
                        let asset = Asset {
                            raw: file.raw,
                            br: file.br,
                            gzip: file.gzip,
                            etag: quoted(file.etag),
                            content_type: content_type(file.name),
                        };
                        (file.name.to_string(), asset)
                    })
                    .collect();
                (files, embedded::VERSION.to_string())
            }
            SiteSource::Directory(root) => read_directory(&root.join("pkg"))?,
        };
        if !files.contains_key(WASM) && !cfg!(debug_assertions) {
            let SiteSource::Directory(root) = source else {
                return Err("this build embedded no kinema.wasm".into());
            };
            return Err(format!(
                "the browser files are missing: {} has no pkg/{WASM} (build them with `cargo leptos build --release`, or unset KINEMA_SITE_ROOT to use the embedded ones)",
                root.display()
            ));
        }
        Ok(Assets {
            files: Arc::new(files),
            version: version.into(),
        })
    }

    /// The path prefix pages link the files under (`assets/<version>`, no slashes around it).
    pub fn prefix(&self) -> String {
        format!("assets/{}", self.version)
    }

    /// Which WASM chunks each lazily loaded route needs (from `cargo leptos build --split`), so
    /// that a page of such a route asks the browser to preload them next to the main bundle.
    /// `None` when the site was built without splitting.
    pub fn split_manifest(&self) -> Option<leptos::WasmSplitManifest> {
        let manifest = self.files.get(SPLIT_MANIFEST)?;
        let preloads: HashMap<String, Vec<String>> = serde_json::from_slice(manifest.raw).ok()?;
        Some(leptos::WasmSplitManifest(
            leptos::prelude::ArcStoredValue::new((
                format!("/{}", self.prefix()),
                preloads,
                SPLIT_LOADER.to_string(),
            )),
        ))
    }

    /// `GET /assets/{version}/{file}`: the file for good, or 404 for another version's link.
    pub async fn versioned(
        State(assets): State<Assets>,
        UrlPath((version, file)): UrlPath<(String, String)>,
        headers: HeaderMap,
    ) -> Response {
        if version != *assets.version {
            return StatusCode::NOT_FOUND.into_response();
        }
        assets.answer(&file, &headers, "public, max-age=31536000, immutable")
    }

    /// `GET /pkg/{file}`: the file under its plain name, revalidated on every use.
    pub async fn plain(
        State(assets): State<Assets>,
        UrlPath(file): UrlPath<String>,
        headers: HeaderMap,
    ) -> Response {
        assets.answer(&file, &headers, "no-cache")
    }

    fn answer(&self, name: &str, headers: &HeaderMap, cache: &'static str) -> Response {
        let Some(asset) = self.files.get(name) else {
            return StatusCode::NOT_FOUND.into_response();
        };
        let mut response = if headers
            .get(header::IF_NONE_MATCH)
            .is_some_and(|tags| matches_etag(tags, &asset.etag))
        {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let (body, encoding) = match (accepted(headers), asset.br, asset.gzip) {
                (Accepted { br: true, .. }, Some(br), _) => (br, Some("br")),
                (Accepted { gzip: true, .. }, _, Some(gzip)) => (gzip, Some("gzip")),
                _ => (asset.raw, None),
            };
            let mut response = Response::new(Body::from(body));
            let out = response.headers_mut();
            out.insert(header::CONTENT_TYPE, asset.content_type.clone());
            out.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
            if let Some(encoding) = encoding {
                out.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
            }
            response
        };
        let out = response.headers_mut();
        out.insert(header::ETAG, asset.etag.clone());
        out.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        out.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        out.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        response
    }
}

/// Reads `pkg/` into memory (leaked: the files live as long as the process).
fn read_directory(pkg: &Path) -> Result<(HashMap<String, Asset>, String), String> {
    let mut names = Vec::new();
    if let Ok(entries) = std::fs::read_dir(pkg) {
        for entry in entries.flatten() {
            if entry.path().is_file() {
                names.push(entry.file_name().to_string_lossy().to_string());
            }
        }
    }
    names.sort();
    let mut version = Sha256::new();
    let mut files = HashMap::new();
    for name in names {
        let raw = std::fs::read(pkg.join(&name))
            .map_err(|err| format!("reading {}: {err}", pkg.join(&name).display()))?;
        version.update(name.as_bytes());
        version.update(&raw);
        let etag = hex::encode(&Sha256::digest(&raw)[..12]);
        let asset = Asset {
            raw: Vec::leak(raw),
            br: None,
            gzip: None,
            etag: quoted(&etag),
            content_type: content_type(&name),
        };
        files.insert(name, asset);
    }
    Ok((files, hex::encode(&version.finalize()[..8])))
}

fn quoted(etag: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{etag}\"")).expect("a hex ETag")
}

fn content_type(name: &str) -> HeaderValue {
    let kind = match name.rsplit('.').next().unwrap_or_default() {
        "wasm" => "application/wasm",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "html" => "text/html; charset=utf-8",
        _ => "application/octet-stream",
    };
    HeaderValue::from_static(kind)
}

/// The encodings a request accepts (q=0 means refused).
#[derive(Default)]
struct Accepted {
    br: bool,
    gzip: bool,
}

fn accepted(headers: &HeaderMap) -> Accepted {
    let mut accepted = Accepted::default();
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for part in value.split(',') {
            let mut pieces = part.split(';');
            let coding = pieces
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            let refused = pieces.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            match coding.as_str() {
                "br" => accepted.br = !refused,
                "gzip" => accepted.gzip = !refused,
                _ => {}
            }
        }
    }
    accepted
}

fn matches_etag(tags: &HeaderValue, etag: &HeaderValue) -> bool {
    let Ok(tags) = tags.to_str() else {
        return false;
    };
    let etag = etag.to_str().unwrap_or_default();
    tags.split(',').any(|tag| {
        let tag = tag.trim();
        tag == "*" || tag.trim_start_matches("W/") == etag
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_encoding(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        headers
    }

    #[test]
    fn accept_encoding_is_read_with_its_weights() {
        let both = accepted(&with_encoding("gzip, deflate, br, zstd"));
        assert!(both.br && both.gzip);
        let no_br = accepted(&with_encoding("br;q=0, gzip;q=0.5"));
        assert!(!no_br.br && no_br.gzip);
        let none = accepted(&HeaderMap::new());
        assert!(!none.br && !none.gzip);
    }

    #[test]
    fn etags_match_strong_weak_lists_and_star() {
        let etag = quoted("abc");
        for tags in ["\"abc\"", "W/\"abc\"", "\"x\", \"abc\"", "*"] {
            assert!(
                matches_etag(&HeaderValue::from_static(tags), &etag),
                "{tags}"
            );
        }
        assert!(!matches_etag(&HeaderValue::from_static("\"abd\""), &etag));
    }

    #[test]
    fn a_directory_site_gets_a_version_that_follows_its_contents() {
        let dir = tempfile::tempdir().unwrap();
        let pkg = dir.path().join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(pkg.join(WASM), b"\0asm one").unwrap();
        let source = SiteSource::Directory(dir.path().to_path_buf());
        let first = Assets::load(&source).unwrap();
        std::fs::write(pkg.join(WASM), b"\0asm two").unwrap();
        let second = Assets::load(&source).unwrap();
        assert_ne!(first.prefix(), second.prefix());
        assert!(first.prefix().starts_with("assets/"));
    }
}
