//! Where a probe's bytes come from: anything that can read a range at an offset and knows its
//! total length. A local file and an in-memory slice implement it; a remote object store can too,
//! since the probes only ever ask for the few ranges they need.

use std::{fs::File, io};

/// A read-only run of bytes that can be read at any offset.
pub trait ByteSource {
    /// The total length in bytes.
    fn len(&self) -> u64;

    /// True when there are no bytes at all.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads bytes starting at `offset` into `buffer`; returns how many were read, which is fewer
    /// than asked only at the end (0 at or past the end).
    fn read_at(&mut self, offset: u64, buffer: &mut [u8]) -> io::Result<usize>;

    /// Fills `buffer` from `offset`; fails if the source ends first.
    fn read_exact_at(&mut self, offset: u64, buffer: &mut [u8]) -> io::Result<()> {
        let mut filled = 0;
        while filled < buffer.len() {
            let at = u64::try_from(filled)
                .ok()
                .and_then(|filled| offset.checked_add(filled))
                .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
            let rest = buffer.get_mut(filled..).unwrap_or_default();
            match self.read_at(at, rest) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(read) => filled = filled.saturating_add(read),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }
}

/// A local file, read with positioned reads.
pub struct FileSource {
    file: File,
    length: u64,
}

impl FileSource {
    /// Wraps an open file, taking its length now.
    pub fn new(file: File) -> io::Result<FileSource> {
        let length = file.metadata()?.len();
        Ok(FileSource { file, length })
    }
}

impl ByteSource for FileSource {
    fn len(&self) -> u64 {
        self.length
    }

    fn read_at(&mut self, offset: u64, buffer: &mut [u8]) -> io::Result<usize> {
        if offset >= self.length {
            return Ok(0);
        }
        read_file_at(&self.file, offset, buffer)
    }
}

#[cfg(unix)]
fn read_file_at(file: &File, offset: u64, buffer: &mut [u8]) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buffer, offset)
}

#[cfg(not(unix))]
fn read_file_at(mut file: &File, offset: u64, buffer: &mut [u8]) -> io::Result<usize> {
    use std::io::{Read, Seek, SeekFrom};
    file.seek(SeekFrom::Start(offset))?;
    file.read(buffer)
}

/// Bytes already in memory.
pub struct SliceSource<'a> {
    bytes: &'a [u8],
}

impl<'a> SliceSource<'a> {
    /// Reads from `bytes`.
    pub fn new(bytes: &'a [u8]) -> SliceSource<'a> {
        SliceSource { bytes }
    }
}

impl ByteSource for SliceSource<'_> {
    fn len(&self) -> u64 {
        // A slice is never longer than u64::MAX bytes on any supported platform.
        u64::try_from(self.bytes.len()).unwrap_or(u64::MAX)
    }

    fn read_at(&mut self, offset: u64, buffer: &mut [u8]) -> io::Result<usize> {
        let Some(rest) = usize::try_from(offset)
            .ok()
            .and_then(|offset| self.bytes.get(offset..))
        else {
            return Ok(0);
        };
        let count = rest.len().min(buffer.len());
        for (to, from) in buffer.iter_mut().zip(rest) {
            *to = *from;
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_read_ranges_and_stop_at_the_end() {
        let mut source = SliceSource::new(b"0123456789");
        assert_eq!(source.len(), 10);
        let mut buffer = [0u8; 4];
        assert_eq!(source.read_at(8, &mut buffer).unwrap(), 2);
        assert_eq!(&buffer[..2], b"89");
        assert_eq!(source.read_at(10, &mut buffer).unwrap(), 0);
        assert_eq!(source.read_at(u64::MAX, &mut buffer).unwrap(), 0);
        source.read_exact_at(3, &mut buffer).unwrap();
        assert_eq!(&buffer, b"3456");
        assert!(source.read_exact_at(7, &mut buffer).is_err());
        assert!(source.read_exact_at(u64::MAX - 1, &mut buffer).is_err());
    }

    #[test]
    fn files_read_the_same_as_slices() {
        let path = std::env::temp_dir().join(format!("kinema-source-{}", std::process::id()));
        std::fs::write(&path, b"0123456789").unwrap();
        let mut source = FileSource::new(File::open(&path).unwrap()).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(source.len(), 10);
        let mut buffer = [0u8; 4];
        source.read_exact_at(6, &mut buffer).unwrap();
        assert_eq!(&buffer, b"6789");
        assert!(source.read_exact_at(7, &mut buffer).is_err());
        assert_eq!(source.read_at(u64::MAX, &mut buffer).unwrap(), 0);
    }
}
