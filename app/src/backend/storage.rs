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
        let signing_key = load_or_create_signing_key(&root.join("signing.key"))?;
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

    /// Removes files in the temporary area untouched for `age` (partial uploads abandoned by a
    /// crash); returns how many were removed.
    pub fn remove_stale_temp_files(&self, age: std::time::Duration) -> usize {
        let Ok(entries) = std::fs::read_dir(self.temp_dir()) else {
            return 0;
        };
        let now = std::time::SystemTime::now();
        entries
            .filter_map(Result::ok)
            .filter(|entry| {
                entry
                    .metadata()
                    .and_then(|meta| meta.modified())
                    .ok()
                    .and_then(|modified| now.duration_since(modified).ok())
                    .is_some_and(|idle| idle >= age)
            })
            .filter(|entry| std::fs::remove_file(entry.path()).is_ok())
            .count()
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

/// The signing key at `path`, or a new one written there readable by this user only (mode 0600
/// from the moment the file exists). A key found readable by others is made private.
fn load_or_create_signing_key(path: &Path) -> Result<Vec<u8>, BackendError> {
    let failed = |err: std::io::Error| {
        BackendError::Internal(format!("cannot write the media signing key: {err}"))
    };
    match std::fs::read(path) {
        Ok(key) if key.len() >= 32 => {
            make_private(path).map_err(failed)?;
            return Ok(key);
        }
        // Too short to be a key Kinema wrote: replace it.
        Ok(_) => std::fs::remove_file(path).map_err(failed)?,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(failed(err)),
    }
    let key = random_token().into_bytes();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(failed)?;
    std::io::Write::write_all(&mut file, &key).map_err(failed)?;
    file.sync_all().map_err(failed)?;
    Ok(key)
}

/// Takes group and other permissions off a file (keys written by earlier versions).
fn make_private(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o700))?;
            tracing::warn!("the media signing key was readable by others; made it private");
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}
