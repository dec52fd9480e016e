//! Stored media behind one API over [`object_store`]: the data directory on local disk (the
//! default) or an S3-compatible bucket. Objects are written by streaming multipart uploads that
//! are aborted when dropped unfinished ([`ObjectWriter`]), read whole or by byte range, and probed
//! through a [`StoreSource`] that reads only the ranges a probe asks for.
//!
//! With S3 the upstream fetches inputs through presigned GET URLs and results may be played from
//! short-lived presigned URLs; with local disk Kinema serves both itself (signed `/media` URLs
//! and the owner-only result route).

mod location;
mod signing_key;
mod source;
mod writer;

use std::{ops::Range, path::PathBuf, sync::Arc, time::Duration};

use futures_util::{StreamExt, TryStreamExt};
use object_store::{
    aws::{AmazonS3, AmazonS3Builder},
    local::LocalFileSystem,
    path::Path,
    signer::Signer,
    Attribute, Attributes, GetOptions, GetRange, GetResult, ObjectStore, ObjectStoreExt,
    PutMultipartOptions,
};

use super::BackendError;

pub use location::{
    S3Location, SecretKey, StorageLocation, StorageSettings, RESULT_REDIRECT_LIFETIME,
};
pub use signing_key::load_signing_key;
pub use source::StoreSource;
pub use writer::{ObjectWriter, Uncommitted};

/// Media storage shared by all requests (cheap to clone).
#[derive(Clone, Debug)]
pub struct Storage {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Arc<dyn ObjectStore>,
    /// The bucket's client again, for presigned URLs (`None` on local disk).
    signer: Option<Arc<AmazonS3>>,
    /// Prepended to every key (the `PREFIX` of `s3://BUCKET/PREFIX`).
    prefix: Option<Path>,
    /// The objects folder on local disk (`None` with S3).
    local_root: Option<PathBuf>,
    settings: StorageSettings,
    signing_key: Vec<u8>,
    /// The bucket's origin when results redirect there (pages allow it as a media source).
    result_origin: Option<String>,
}

/// An object being read: its total size, the byte range sent, and the bytes.
pub struct ObjectRead {
    /// The whole object's size.
    pub size: u64,
    /// The range of bytes in `body`.
    pub range: Range<u64>,
    /// When it was last written.
    pub last_modified: std::time::SystemTime,
    /// The bytes, streamed.
    pub body: futures_util::stream::BoxStream<'static, Result<bytes::Bytes, std::io::Error>>,
}

/// A byte range asked for (HTTP `Range: bytes=…`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteRange {
    /// From an offset to the end (`bytes=N-`).
    From(u64),
    /// `start..end`, end exclusive (`bytes=A-B` is `A..B+1`).
    Bounded(u64, u64),
    /// The last N bytes (`bytes=-N`).
    Last(u64),
}

impl ByteRange {
    fn to_get_range(self) -> GetRange {
        match self {
            ByteRange::From(start) => GetRange::Offset(start),
            ByteRange::Bounded(start, end) => GetRange::Bounded(start..end),
            ByteRange::Last(count) => GetRange::Suffix(count),
        }
    }

    /// True when an object of `size` bytes has at least one byte in the range.
    pub fn satisfiable(self, size: u64) -> bool {
        match self {
            ByteRange::From(start) | ByteRange::Bounded(start, _) => start < size,
            ByteRange::Last(count) => count > 0 && size > 0,
        }
    }
}

/// Why a read found nothing to send.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// No such object.
    #[error("not found")]
    NotFound,
    /// The range starts at or past the end (the object's size is given).
    #[error("range not satisfiable")]
    Unsatisfiable(u64),
    #[error(transparent)]
    Backend(#[from] BackendError),
}

fn failed(what: &str, err: impl std::fmt::Display) -> BackendError {
    BackendError::Internal(format!("storage: cannot {what}: {err}"))
}

impl Storage {
    /// Opens the configured storage: `data_dir/media/objects` on local disk (created here), or
    /// the bucket (not contacted until used; readiness checks it). `signing_key` signs `/media`
    /// URLs (see [`load_signing_key`]).
    pub async fn open(
        data_dir: &std::path::Path,
        settings: StorageSettings,
        signing_key: Vec<u8>,
    ) -> Result<Storage, BackendError> {
        let (store, signer, prefix, local_root): (Arc<dyn ObjectStore>, _, _, _) =
            match &settings.location {
                StorageLocation::Local => {
                    let root = data_dir.join("media").join("objects");
                    std::fs::create_dir_all(&root)
                        .map_err(|err| failed("create the media folder", err))?;
                    let local = LocalFileSystem::new_with_prefix(&root)
                        .map_err(|err| failed("open the media folder", err))?;
                    (Arc::new(local), None, None, Some(root))
                }
                StorageLocation::S3(s3) => {
                    let bucket = Arc::new(s3_client(s3)?);
                    let prefix = s3.prefix.as_deref().map(Path::from);
                    (bucket.clone(), Some(bucket), prefix, None)
                }
            };
        // Where presigned URLs point (made without a request), for the pages' media policy.
        let result_origin = match &signer {
            Some(signer) if settings.redirect_results => {
                let url = signer
                    .signed_url(
                        reqwest::Method::GET,
                        &Path::from("origin"),
                        Duration::from_secs(60),
                    )
                    .await
                    .map_err(|err| failed("presign a URL", err))?;
                Some(url.origin().ascii_serialization())
            }
            _ => None,
        };
        Ok(Storage {
            inner: Arc::new(Inner {
                store,
                signer,
                prefix,
                local_root,
                settings,
                signing_key,
                result_origin,
            }),
        })
    }

    /// The origin results are played from when they redirect to presigned URLs (`None` when
    /// Kinema serves them itself).
    pub fn result_origin(&self) -> Option<&str> {
        self.inner.result_origin.as_deref()
    }

    /// The secret that signs `/media` URLs (shared by every instance through the database).
    pub fn signing_key(&self) -> &[u8] {
        &self.inner.signing_key
    }

    /// True when media lives in an S3 bucket.
    pub fn is_s3(&self) -> bool {
        self.inner.signer.is_some()
    }

    /// How the storage was configured.
    pub fn settings(&self) -> &StorageSettings {
        &self.inner.settings
    }

    /// Where a key lives in the store (keys are checked: letters, digits, `-`, `_`).
    fn location(&self, key: &str) -> Result<Path, BackendError> {
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(BackendError::Internal(format!(
                "invalid storage key {key:?}"
            )));
        }
        Ok(match &self.inner.prefix {
            Some(prefix) => prefix.clone().join(key),
            None => Path::from(key),
        })
    }

    /// Starts writing the object `key` (replacing it when finished). Nothing is visible until
    /// [`ObjectWriter::finish`]; dropping the writer aborts the upload.
    pub async fn writer(
        &self,
        key: &str,
        content_type: &str,
    ) -> Result<ObjectWriter, BackendError> {
        let location = self.location(key)?;
        // Local disk keeps no attributes; the routes set the type from the database anyway.
        let attributes = if self.is_s3() {
            Attributes::from_iter([(Attribute::ContentType, content_type.to_string())])
        } else {
            Attributes::new()
        };
        let options = PutMultipartOptions {
            attributes,
            ..PutMultipartOptions::default()
        };
        let upload = self
            .inner
            .store
            .put_multipart_opts(&location, options)
            .await
            .map_err(|err| failed("start an upload", err))?;
        let part_bytes = if self.is_s3() {
            writer::S3_PART_BYTES
        } else {
            writer::LOCAL_PART_BYTES
        };
        Ok(ObjectWriter::new(upload, part_bytes))
    }

    /// The size of `key`, or `None` when it does not exist.
    pub async fn size(&self, key: &str) -> Result<Option<u64>, BackendError> {
        match self.inner.store.head(&self.location(key)?).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(err) => Err(failed("read an object's size", err)),
        }
    }

    /// Reads `key`, all of it or the bytes in `range` (an end past the object is cut to it).
    pub async fn read(&self, key: &str, range: Option<ByteRange>) -> Result<ObjectRead, ReadError> {
        let location = self.location(key)?;
        let options = GetOptions {
            range: range.map(ByteRange::to_get_range),
            ..GetOptions::default()
        };
        let result: GetResult = match self.inner.store.get_opts(&location, options).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Err(ReadError::NotFound),
            // A range the object cannot satisfy: the caller answers 416 with the size.
            Err(err) => match (range, self.size(key).await?) {
                (_, None) => return Err(ReadError::NotFound),
                (Some(range), Some(size)) if !range.satisfiable(size) => {
                    return Err(ReadError::Unsatisfiable(size))
                }
                _ => return Err(failed("read an object", err).into()),
            },
        };
        let size = result.meta.size;
        let range_read = result.range.clone();
        let last_modified = std::time::SystemTime::from(result.meta.last_modified);
        let body = result
            .into_stream()
            .map_err(|err| std::io::Error::other(err.to_string()))
            .boxed();
        Ok(ObjectRead {
            size,
            range: range_read,
            last_modified,
            body,
        })
    }

    /// The bytes of `key` in `range` (a probe's read).
    pub async fn read_range(
        &self,
        key: &str,
        range: Range<u64>,
    ) -> Result<bytes::Bytes, BackendError> {
        self.inner
            .store
            .get_range(&self.location(key)?, range)
            .await
            .map_err(|err| failed("read an object", err))
    }

    /// A probe's view of `key`, `size` bytes long, read range by range from a blocking thread.
    pub fn source(&self, key: &str, size: u64) -> Result<StoreSource, BackendError> {
        self.location(key)?;
        Ok(StoreSource::new(self.clone(), key.to_string(), size))
    }

    /// Removes an object (missing is fine).
    pub async fn delete(&self, key: &str) -> Result<(), BackendError> {
        match self.inner.store.delete(&self.location(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(failed(&format!("delete {key}"), err)),
        }
    }

    /// Every stored key (tests and checks; not for request paths).
    pub async fn keys(&self) -> Result<Vec<String>, BackendError> {
        let listed: Vec<_> = self
            .inner
            .store
            .list(self.inner.prefix.as_ref())
            .try_collect()
            .await
            .map_err(|err| failed("list objects", err))?;
        Ok(listed
            .into_iter()
            .filter_map(|meta| meta.location.filename().map(str::to_string))
            .collect())
    }

    /// Fails when the store cannot be reached (the bucket is missing, the credentials are
    /// refused, the folder is gone).
    pub async fn check_ready(&self) -> Result<(), BackendError> {
        self.inner
            .store
            .list_with_delimiter(self.inner.prefix.as_ref())
            .await
            .map(|_| ())
            .map_err(|err| failed("reach the media storage", err))
    }

    /// A presigned GET URL for `key` that works for `lifetime`; `None` on local disk.
    pub async fn presigned_get(
        &self,
        key: &str,
        lifetime: Duration,
    ) -> Result<Option<String>, BackendError> {
        let Some(signer) = &self.inner.signer else {
            return Ok(None);
        };
        let url = signer
            .signed_url(reqwest::Method::GET, &self.location(key)?, lifetime)
            .await
            .map_err(|err| failed("presign a URL", err))?;
        Ok(Some(url.to_string()))
    }

    /// The file of `key` on local disk (`None` with S3), for EvoLink's file-service upload.
    pub fn local_path(&self, key: &str) -> Option<PathBuf> {
        let root = self.inner.local_root.as_ref()?;
        self.location(key).ok()?;
        Some(root.join(key))
    }

    /// On local disk, removes partial files (`KEY#N`, left when a process died mid-upload)
    /// untouched for `age`; returns how many. A bucket's abandoned multipart uploads are
    /// cleaned by its lifecycle rule (see the README).
    pub fn remove_stale_partial_files(&self, age: Duration) -> usize {
        let Some(root) = &self.inner.local_root else {
            return 0;
        };
        let Ok(entries) = std::fs::read_dir(root) else {
            return 0;
        };
        let now = std::time::SystemTime::now();
        entries
            .filter_map(Result::ok)
            .filter(|entry| entry.file_name().to_string_lossy().contains('#'))
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
}

/// The bucket's client: `AWS_*` variables first (as every AWS tool reads them), then the values
/// the configuration read, path-style requests unless the endpoint is AWS itself.
fn s3_client(s3: &S3Location) -> Result<AmazonS3, BackendError> {
    // A bucket that does not answer fails a request within seconds, not after object_store's
    // default three minutes of retries (an upload or a page is waiting).
    let retry = object_store::RetryConfig {
        max_retries: 3,
        retry_timeout: Duration::from_secs(15),
        ..object_store::RetryConfig::default()
    };
    let mut builder = AmazonS3Builder::from_env()
        .with_bucket_name(&s3.bucket)
        .with_retry(retry);
    if let Some(key) = &s3.access_key_id {
        builder = builder.with_access_key_id(key);
    }
    if let Some(secret) = &s3.secret_access_key {
        builder = builder.with_secret_access_key(secret.expose());
    }
    if let Some(region) = &s3.region {
        builder = builder.with_region(region);
    }
    if let Some(endpoint) = &s3.endpoint {
        builder = builder.with_endpoint(endpoint);
    }
    if s3.allow_http {
        builder = builder.with_allow_http(true);
    }
    builder
        .build()
        .map_err(|err| failed("set up the S3 client", err))
}
