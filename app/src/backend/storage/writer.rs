//! Writing one object as a streaming multipart upload with bounded memory. An upload that is
//! not finished (refused, failed, or its request cancelled) is aborted, so it leaves no object
//! and no open multipart upload behind.

use object_store::{MultipartUpload, WriteMultipart};

use crate::backend::BackendError;

/// Bytes per part in a bucket (S3's smallest part size, except the last one).
pub(super) const S3_PART_BYTES: usize = 5 * 1024 * 1024;

/// Bytes per part on local disk (written in place; no minimum).
pub(super) const LOCAL_PART_BYTES: usize = 1024 * 1024;

/// Parts uploading at once; with the part being filled, at most `(IN_FLIGHT + 1)` parts are
/// held in memory per upload (15 MB with S3, 3 MB on local disk), whatever the object's size.
const IN_FLIGHT: usize = 2;

/// An object being written; see [`super::Storage::writer`].
pub struct ObjectWriter {
    upload: Option<WriteMultipart>,
    written: u64,
}

fn failed(err: object_store::Error) -> BackendError {
    BackendError::Internal(format!("storage: cannot write an object: {err}"))
}

impl ObjectWriter {
    pub(super) fn new(upload: Box<dyn MultipartUpload>, part_bytes: usize) -> ObjectWriter {
        ObjectWriter {
            upload: Some(WriteMultipart::new_with_chunk_size(upload, part_bytes)),
            written: 0,
        }
    }

    /// Appends `chunk`, first waiting while too many parts are still uploading.
    pub async fn write(&mut self, chunk: bytes::Bytes) -> Result<(), BackendError> {
        let upload = self
            .upload
            .as_mut()
            .ok_or_else(|| BackendError::Internal("storage: write after the end".into()))?;
        upload.wait_for_capacity(IN_FLIGHT).await.map_err(failed)?;
        self.written = self
            .written
            .saturating_add(u64::try_from(chunk.len()).unwrap_or(u64::MAX));
        upload.put(chunk);
        Ok(())
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Completes the upload: the object becomes visible under its key.
    pub async fn finish(mut self) -> Result<(), BackendError> {
        match self.upload.take() {
            Some(upload) => upload.finish().await.map(|_| ()).map_err(failed),
            None => Ok(()),
        }
    }

    /// Aborts the upload now and waits for it (dropping the writer does the same in the
    /// background).
    pub async fn abort(mut self) {
        if let Some(upload) = self.upload.take() {
            if let Err(err) = upload.abort().await {
                tracing::warn!(error = %err, "aborting an upload failed");
            }
        }
    }
}

impl Drop for ObjectWriter {
    fn drop(&mut self) {
        let Some(upload) = self.upload.take() else {
            return;
        };
        // Dropped unfinished (an early return or a cancelled request): abort in the background.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Err(err) = upload.abort().await {
                        tracing::warn!(error = %err, "aborting an abandoned upload failed");
                    }
                });
            }
            Err(_) => tracing::warn!("an unfinished upload was dropped outside the runtime"),
        }
    }
}

/// An object not yet recorded in the database: removed when discarded or dropped (a refusal or
/// a cancelled request), kept only by [`Uncommitted::keep`]. Its upload is completed by a task
/// of its own, so a request cancelled while the last part is sent still ends with the upload
/// either aborted or completed and then deleted, never left open or orphaned.
pub struct Uncommitted {
    storage: super::Storage,
    key: String,
    finishing: Option<tokio::task::JoinHandle<Result<(), BackendError>>>,
    armed: bool,
}

impl Uncommitted {
    /// Completes `writer`'s upload of `key` in the background and guards the object.
    pub fn finishing(storage: super::Storage, key: String, writer: ObjectWriter) -> Uncommitted {
        Uncommitted {
            storage,
            key,
            finishing: Some(tokio::spawn(writer.finish())),
            armed: true,
        }
    }

    /// Waits until the object is complete (an error means there is none).
    pub async fn finished(&mut self) -> Result<(), BackendError> {
        match self.finishing.as_mut() {
            Some(finishing) => {
                let outcome = finishing.await.unwrap_or_else(|err| {
                    Err(BackendError::Internal(format!(
                        "storage: completing an upload failed: {err}"
                    )))
                });
                self.finishing = None;
                outcome
            }
            None => Ok(()),
        }
    }

    /// The object is recorded: keep it.
    pub fn keep(mut self) {
        self.armed = false;
    }

    /// Removes the object now.
    pub async fn discard(mut self) {
        self.armed = false;
        if let Some(finishing) = self.finishing.take() {
            let _ = finishing.await;
        }
        if let Err(err) = self.storage.delete(&self.key).await {
            tracing::warn!(error = %err, "removing a refused object failed");
        }
    }
}

impl Drop for Uncommitted {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let storage = self.storage.clone();
        let key = std::mem::take(&mut self.key);
        let finishing = self.finishing.take();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                // Delete only once the completion has ended, or the object would reappear.
                if let Some(finishing) = finishing {
                    let _ = finishing.await;
                }
                if let Err(err) = storage.delete(&key).await {
                    tracing::warn!(error = %err, "removing an abandoned object failed");
                }
            });
        }
    }
}
