//! Uploaded inputs, always read together with their owner.

use super::{on_pool, Store};
use crate::backend::BackendError;
use crate::model::UploadView;
use crate::rules::{
    motion_inputs::{ImageFacts, ImageFormat, VideoFacts, VideoFormat},
    vocab::UploadKind,
};

/// An upload row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UploadRecord {
    pub id: String,
    pub owner_id: i64,
    pub kind: UploadKind,
    /// The image or video format the bytes were probed as (`png`, `jpeg`, `mp4`, `mov`, `webm`).
    pub format: String,
    pub original_name: String,
    pub bytes: i64,
    pub width: i64,
    pub height: i64,
    pub duration_ms: Option<i64>,
    pub storage_key: String,
    pub created_at: i64,
}

impl UploadRecord {
    /// The content type of the stored file, from the format its bytes were probed as.
    pub fn mime_type(&self) -> &'static str {
        match self.kind {
            UploadKind::Image => self.image_format().mime_type(),
            UploadKind::Video => self.video_format().mime_type(),
        }
    }

    fn image_format(&self) -> ImageFormat {
        ImageFormat::parse(&self.format).unwrap_or(ImageFormat::Other)
    }

    fn video_format(&self) -> VideoFormat {
        VideoFormat::parse(&self.format).unwrap_or(VideoFormat::Other)
    }

    /// The image facts the rules judge (an unknown format counts as "other").
    pub fn image_facts(&self) -> ImageFacts {
        ImageFacts {
            format: self.image_format(),
            bytes: self.bytes.max(0) as u64,
            width: self.width.max(0) as u32,
            height: self.height.max(0) as u32,
        }
    }

    /// The video facts the rules judge (an unknown format counts as "other").
    pub fn video_facts(&self) -> VideoFacts {
        VideoFacts {
            format: self.video_format(),
            bytes: self.bytes.max(0) as u64,
            width: self.width.max(0) as u32,
            height: self.height.max(0) as u32,
            duration_ms: self.duration_ms.unwrap_or(0).max(0) as u64,
        }
    }

    /// What the owner's browser sees.
    pub fn view(&self) -> UploadView {
        UploadView {
            id: self.id.clone(),
            kind: self.kind,
            format: self.format.clone(),
            name: self.original_name.clone(),
            bytes: self.bytes.max(0) as u64,
            width: self.width.max(0) as u32,
            height: self.height.max(0) as u32,
            duration_ms: self.duration_ms.map(|d| d.max(0) as u64),
        }
    }
}

const UPLOAD_COLUMNS: &str = "id, owner_id, kind, format, original_name, bytes, width, height, \
     duration_ms, storage_key, created_at";

impl Store {
    /// The upload, only if `owner_id` owns it.
    pub async fn upload_of_owner(
        &self,
        id: &str,
        owner_id: i64,
    ) -> Result<Option<UploadRecord>, BackendError> {
        let sql = format!("SELECT {UPLOAD_COLUMNS} FROM uploads WHERE id = $1 AND owner_id = $2");
        let row = on_pool!(self, pool => sqlx::query_as::<_, UploadRecord>(&sql)
            .bind(id)
            .bind(owner_id)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    /// Any upload by id (for signed media URLs, whose signature already authorises the read).
    pub async fn upload_by_id(&self, id: &str) -> Result<Option<UploadRecord>, BackendError> {
        let sql = format!("SELECT {UPLOAD_COLUMNS} FROM uploads WHERE id = $1");
        let row = on_pool!(self, pool => sqlx::query_as::<_, UploadRecord>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    /// Records a stored upload only if the owner's uploads, this one included, stay within
    /// `quota_bytes`; `false` (nothing written) when they would not. Concurrent uploads of one
    /// owner are serialised (SQLite: one statement under the write lock; PostgreSQL: a row lock
    /// on the owner), so together they can never pass the quota.
    pub async fn insert_upload_within_quota(
        &self,
        upload: &UploadRecord,
        quota_bytes: i64,
    ) -> Result<bool, BackendError> {
        let sql = format!(
            "INSERT INTO uploads ({UPLOAD_COLUMNS}) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 \
             WHERE (SELECT COALESCE(SUM(bytes), 0) FROM uploads WHERE owner_id = $2) + $6 <= $12"
        );
        // One statement for both backends; a macro because the query's type names the backend.
        macro_rules! insert {
            () => {
                sqlx::query(&sql)
                    .bind(&upload.id)
                    .bind(upload.owner_id)
                    .bind(upload.kind)
                    .bind(&upload.format)
                    .bind(&upload.original_name)
                    .bind(upload.bytes)
                    .bind(upload.width)
                    .bind(upload.height)
                    .bind(upload.duration_ms)
                    .bind(&upload.storage_key)
                    .bind(upload.created_at)
                    .bind(quota_bytes)
            };
        }
        let inserted = match self {
            Store::Sqlite(pool) => insert!().execute(pool).await?.rows_affected(),
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE")
                    .bind(upload.owner_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                let inserted = insert!().execute(&mut *tx).await?.rows_affected();
                tx.commit().await?;
                inserted
            }
        };
        Ok(inserted == 1)
    }

    /// The bytes of every upload `owner_id` has stored.
    pub async fn upload_bytes_of_owner(&self, owner_id: i64) -> Result<i64, BackendError> {
        let bytes = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(bytes), 0) AS BIGINT) FROM uploads WHERE owner_id = $1"
        )
        .bind(owner_id)
        .fetch_one(pool)
        .await)?;
        Ok(bytes)
    }

    /// Deletes up to `limit` uploads created before `created_before` (unix seconds) that no task
    /// and no element uses, in one statement, and returns the storage keys of the rows it
    /// deleted. A task or element that starts using one of them at the same moment either is
    /// seen by the statement or makes it fail on its foreign key; nothing in use is ever deleted.
    pub async fn delete_unused_uploads(
        &self,
        created_before: i64,
        limit: i64,
    ) -> Result<Vec<String>, BackendError> {
        let sql = "DELETE FROM uploads WHERE id IN (\
             SELECT u.id FROM uploads u WHERE u.created_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.image_upload_id = u.id) \
             AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.video_upload_id = u.id) \
             AND NOT EXISTS (SELECT 1 FROM task_uploads tu WHERE tu.upload_id = u.id) \
             AND NOT EXISTS (SELECT 1 FROM elements e WHERE e.preview_upload_id = u.id) \
             ORDER BY u.created_at LIMIT $2) \
             RETURNING storage_key";
        let keys = on_pool!(self, pool => sqlx::query_scalar(sql)
            .bind(created_before)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        Ok(keys)
    }

    /// How many uploads exist (tests use it to prove nothing was written).
    pub async fn count_uploads(&self) -> Result<i64, BackendError> {
        let count = on_pool!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM uploads")
            .fetch_one(pool)
            .await)?;
        Ok(count)
    }
}
