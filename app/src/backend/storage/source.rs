//! A probe's [`ByteSource`] over a stored object: probes run on a blocking thread and ask for a
//! few small ranges (a header, box headers, the index), so each read fetches one aligned block
//! by a ranged GET and the last few blocks are kept. Nothing else of the object is read.

use std::io;

use bytes::Bytes;

use super::Storage;
use crate::backend::media::ByteSource;

/// Bytes fetched per ranged read.
const BLOCK: u64 = 64 * 1024;

/// Blocks kept (the start of a file and its index at the end are read in turns).
const KEPT_BLOCKS: usize = 4;

/// A stored object read range by range; use only from a blocking thread (it waits on the
/// runtime for each read).
pub struct StoreSource {
    storage: Storage,
    key: String,
    size: u64,
    runtime: tokio::runtime::Handle,
    blocks: Vec<(u64, Bytes)>,
    /// Ranged reads made (tests check that a probe reads little).
    pub fetches: usize,
}

impl StoreSource {
    /// Must be made inside the runtime (it keeps a handle to it).
    pub(super) fn new(storage: Storage, key: String, size: u64) -> StoreSource {
        StoreSource {
            storage,
            key,
            size,
            runtime: tokio::runtime::Handle::current(),
            blocks: Vec::with_capacity(KEPT_BLOCKS),
            fetches: 0,
        }
    }

    fn block(&mut self, start: u64) -> io::Result<Bytes> {
        if let Some(position) = self.blocks.iter().position(|(at, _)| *at == start) {
            let found = self.blocks.remove(position);
            let bytes = found.1.clone();
            self.blocks.push(found);
            return Ok(bytes);
        }
        let end = start.saturating_add(BLOCK).min(self.size);
        let bytes = self
            .runtime
            .block_on(self.storage.read_range(&self.key, start..end))
            .map_err(|err| io::Error::other(err.to_string()))?;
        self.fetches = self.fetches.saturating_add(1);
        if self.blocks.len() >= KEPT_BLOCKS {
            self.blocks.remove(0);
        }
        self.blocks.push((start, bytes.clone()));
        Ok(bytes)
    }
}

impl ByteSource for StoreSource {
    fn len(&self) -> u64 {
        self.size
    }

    fn read_at(&mut self, offset: u64, buffer: &mut [u8]) -> io::Result<usize> {
        let mut filled = 0usize;
        while filled < buffer.len() {
            let at = offset.saturating_add(u64::try_from(filled).unwrap_or(u64::MAX));
            if at >= self.size {
                break;
            }
            let start = at - at % BLOCK;
            let block = self.block(start)?;
            let within = usize::try_from(at - start).unwrap_or(usize::MAX);
            let Some(available) = block.get(within..).filter(|rest| !rest.is_empty()) else {
                // The object is shorter than it was said to be.
                break;
            };
            let rest = buffer.get_mut(filled..).unwrap_or_default();
            let count = rest.len().min(available.len());
            for (to, from) in rest.iter_mut().zip(available) {
                *to = *from;
            }
            filled = filled.saturating_add(count);
        }
        Ok(filled)
    }
}
