//! Media sniffing and probing: the type from the bytes (never the name or Content-Type), image
//! size, and video duration and display size (MP4/MOV with the index at either end, fragmented
//! MP4, rotation metadata; WEBM/Matroska from its Info and Tracks elements).

mod image;
mod isobmff;
mod sniff;
mod webm;

use std::path::Path;

pub use sniff::{sniff, Sniffed};

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

/// Probes the file at `path`: its type from the first bytes, then its facts.
pub fn probe_file(path: &Path) -> Result<Probed, ProbeError> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)
        .map_err(|err| ProbeError(format!("The file could not be read: {err}.")))?;
    let bytes = file
        .metadata()
        .map_err(|err| ProbeError(format!("The file could not be read: {err}.")))?
        .len();
    let mut head = vec![0u8; 64];
    let read = file
        .read(&mut head)
        .map_err(|err| ProbeError(format!("The file could not be read: {err}.")))?;
    head.truncate(read);
    let sniffed = sniff(&head);
    match sniffed {
        Sniffed::Jpeg | Sniffed::Png => {
            let (format, size) = if sniffed == Sniffed::Png {
                (ImageFormat::Png, image::png_size(path))
            } else {
                (ImageFormat::Jpeg, image::jpeg_size(path))
            };
            let (width, height) = size.ok_or_else(|| {
                ProbeError("The image is damaged: its size could not be read.".into())
            })?;
            Ok(Probed::Image(ImageFacts { format, bytes, width, height }))
        }
        Sniffed::Mp4 | Sniffed::Mov => {
            let format = if sniffed == Sniffed::Mov { VideoFormat::Mov } else { VideoFormat::Mp4 };
            let info = isobmff::probe(path).map_err(ProbeError)?;
            Ok(Probed::Video(VideoFacts {
                format,
                bytes,
                width: info.display_width,
                height: info.display_height,
                duration_ms: info.duration_ms,
            }))
        }
        Sniffed::Webm => {
            let info = webm::probe(path).map_err(ProbeError)?;
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
