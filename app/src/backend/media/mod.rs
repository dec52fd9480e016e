//! Media sniffing and probing: the type from the bytes (never the name or Content-Type), image
//! size, and video duration and display size (MP4/MOV with the index at either end, fragmented
//! MP4, rotation metadata; WEBM/Matroska from its Info and Tracks elements).
//!
//! Probes read through a [`ByteSource`] (a local file, bytes in memory) and always finish: every
//! length is checked before use, every loop charges a per-probe [`Budget`] of parts, steps and
//! time, and a panic inside a probe becomes a plain refusal.

// Lengths and offsets come from files anyone can upload: arithmetic on them is checked and
// slicing never panics. Clippy holds the production code of this module to that.
#![cfg_attr(
    not(test),
    warn(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        clippy::cast_possible_truncation
    )
)]

mod budget;
mod isobmff;
mod jpeg;
mod markup;
mod png;
mod sniff;
mod source;
mod webm;

#[cfg(test)]
mod fuzz_tests;

use std::{
    panic::{catch_unwind, AssertUnwindSafe},
    path::Path,
    sync::atomic::{AtomicUsize, Ordering},
};

pub use budget::{Budget, TOO_COMPLEX, TOO_SLOW};
pub use sniff::{sniff, Sniffed};
pub use source::{ByteSource, FileSource, SliceSource};

use crate::rules::motion_inputs::{ImageFacts, ImageFormat, VideoFacts, VideoFormat};

/// What a stored file turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probed {
    Image(ImageFacts),
    Video(VideoFacts),
}

/// Why a file could not be probed, in words for the uploader.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProbeError(pub String);

/// The plain words for a probe that failed inside (a bug, not the uploader's fault).
pub const PROBE_FAILED: &str = "This file could not be read: Kinema ran into a problem with it. \
Export it again from your camera or editing app and upload that; if it keeps happening, tell \
your admin.";

/// Probes running right now, in this process.
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// How many probes are running right now (a probe abandoned by a timeout counts until it ends).
pub fn probes_running() -> usize {
    RUNNING.load(Ordering::SeqCst)
}

/// Counts a probe as running while it lives.
struct Running;

impl Running {
    fn start() -> Running {
        RUNNING.fetch_add(1, Ordering::SeqCst);
        Running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Probes the file at `path`: its type from the first bytes, then its facts.
pub fn probe_file(path: &Path) -> Result<Probed, ProbeError> {
    let unreadable =
        |err: std::io::Error| ProbeError(format!("The file could not be read: {err}."));
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut source = FileSource::new(file).map_err(unreadable)?;
    probe(&mut source)
}

/// Probes `source` within a fresh [`Budget`]; a panic inside becomes [`PROBE_FAILED`].
pub fn probe(source: &mut dyn ByteSource) -> Result<Probed, ProbeError> {
    let _running = Running::start();
    let budget = Budget::default();
    catch_unwind(AssertUnwindSafe(|| probe_within(source, &budget))).unwrap_or_else(|_| {
        tracing::error!("a media probe panicked; the upload was refused");
        Err(ProbeError(PROBE_FAILED.into()))
    })
}

/// Sniffs and probes `source` within `budget`, letting a panic through (the fuzzer wants it).
fn probe_within(source: &mut dyn ByteSource, budget: &Budget) -> Result<Probed, ProbeError> {
    let bytes = source.len();
    let mut head = [0u8; 64];
    let read = source
        .read_at(0, &mut head)
        .map_err(|err| ProbeError(format!("The file could not be read: {err}.")))?;
    let sniffed = sniff(head.get(..read).unwrap_or_default());
    match sniffed {
        Sniffed::Jpeg | Sniffed::Png => {
            let (format, size) = if sniffed == Sniffed::Png {
                (ImageFormat::Png, png::size(source, budget))
            } else {
                (ImageFormat::Jpeg, jpeg::size(source, budget))
            };
            let (width, height) = size.map_err(ProbeError)?;
            Ok(Probed::Image(ImageFacts {
                format,
                bytes,
                width,
                height,
            }))
        }
        Sniffed::Mp4 | Sniffed::Mov => {
            let format = if sniffed == Sniffed::Mov {
                VideoFormat::Mov
            } else {
                VideoFormat::Mp4
            };
            let info = isobmff::probe(source, budget).map_err(ProbeError)?;
            Ok(Probed::Video(VideoFacts {
                format,
                bytes,
                width: info.display_width,
                height: info.display_height,
                duration_ms: info.duration_ms,
            }))
        }
        Sniffed::Webm => {
            let info = webm::probe(source, budget).map_err(ProbeError)?;
            Ok(Probed::Video(VideoFacts {
                format: VideoFormat::Webm,
                bytes,
                width: info.width,
                height: info.height,
                duration_ms: info.duration_ms,
            }))
        }
        Sniffed::Unknown => Err(ProbeError(
            "This file is neither a JPG/PNG image nor an MP4/MOV video nor a WEBM video (its contents decide, not its name).".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_explained() {
        let err = probe_file(Path::new("/no/such/kinema/file.mp4")).unwrap_err();
        assert!(err.0.starts_with("The file could not be read"), "{err}");
    }

    #[test]
    fn memory_and_files_probe_alike() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/tests/fixtures/media");
        for name in [
            "valid.jpg",
            "valid.png",
            "valid.mov",
            "element-face.webm",
            "truncated.mp4",
        ] {
            let bytes = std::fs::read(path.join(name)).unwrap();
            assert_eq!(
                probe(&mut SliceSource::new(&bytes)),
                probe_file(&path.join(name)),
                "{name}"
            );
        }
    }
}
