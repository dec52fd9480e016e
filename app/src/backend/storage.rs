//! Object storage on local disk: a temporary area for uploads in progress, and stored objects
//! by key. A temporary file is removed when its guard is dropped unless it was kept, so a failed
//! or cancelled upload leaves nothing behind.

use std::path::{Path, PathBuf};

use super::{accounts::random_token, BackendError};

/// Local-disk storage under the data directory.
#[derive(Clone, Debug)]
pub struct Storage {
    root: PathBuf,
    signing_key: std::sync::Arc<Vec<u8>>,
}

/// A file being written; deleted on drop unless [`TempFile::keep_as`] moved it into storage.
pub struct TempFile {
    path: PathBuf,
    kept: bool,
}

impl TempFile {
    /// Where the bytes go.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Storage {
    /// Storage rooted at `data_dir/media`; creates its folders.
    pub fn new(data_dir: &Path) -> Result<Storage, BackendError> {
        let root = data_dir.join("media");
        for dir in ["tmp", "objects"] {
            std::fs::create_dir_all(root.join(dir)).map_err(|err| {
                BackendError::Internal(format!("cannot create the media folder: {err}"))
            })?;
        }
        let key_path = root.join("signing.key");
        let signing_key = match std::fs::read(&key_path) {
            Ok(key) if key.len() >= 32 => key,
            _ => {
                let key = random_token().into_bytes();
                std::fs::write(&key_path, &key).map_err(|err| {
                    BackendError::Internal(format!("cannot write the media signing key: {err}"))
                })?;
                key
            }
        };
        Ok(Storage {
            root,
            signing_key: std::sync::Arc::new(signing_key),
        })
    }

    /// The secret that signs `/media` URLs (kept in the data directory, made on first start).
    pub fn signing_key(&self) -> &[u8] {
        &self.signing_key
    }

    /// A fresh temporary file path (the file is created by the writer).
    pub fn temp_file(&self) -> TempFile {
        TempFile {
            path: self.root.join("tmp").join(random_token()),
            kept: false,
        }
    }

    /// The folder of files in progress (tests check it is left empty).
    pub fn temp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Moves a finished temporary file into storage under `key`.
    pub fn keep_as(&self, mut temp: TempFile, key: &str) -> Result<(), BackendError> {
        let target = self.object_path(key)?;
        std::fs::rename(&temp.path, &target)
            .map_err(|err| BackendError::Internal(format!("cannot store the upload: {err}")))?;
        temp.kept = true;
        Ok(())
    }

    /// The path of a stored object.
    pub fn object_path(&self, key: &str) -> Result<PathBuf, BackendError> {
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(BackendError::Internal(format!(
                "invalid storage key {key:?}"
            )));
        }
        Ok(self.root.join("objects").join(key))
    }

    /// Removes a stored object (missing is fine).
    pub fn delete(&self, key: &str) -> Result<(), BackendError> {
        match std::fs::remove_file(self.object_path(key)?) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(BackendError::Internal(format!(
                "cannot delete {key}: {err}"
            ))),
        }
    }
}
