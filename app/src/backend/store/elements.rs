//! The team's element library. An element's state is its creation task's state.

use super::{audit::insert_audit, on_pool, NewAuditEntry, Store};
use crate::backend::BackendError;
use crate::rules::{
    element_inputs::ReferenceType,
    vocab::{ElementStatus, TaskState, UploadKind},
};

/// A new element row, written in the same transaction as its creation task.
#[derive(Debug, Clone)]
pub struct NewElement {
    pub id: String,
    pub owner_id: i64,
    pub name: String,
    pub description: String,
    pub reference_type: ReferenceType,
    pub voice_id: Option<String>,
    pub preview_upload_id: String,
    pub created_at: i64,
}

/// An element with its creator's name and its task's state.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ElementRecord {
    pub id: String,
    pub task_id: String,
    pub owner_id: i64,
    pub name: String,
    pub description: String,
    pub reference_type: ReferenceType,
    pub voice_id: Option<String>,
    pub preview_upload_id: String,
    pub upstream_element_id: Option<String>,
    pub created_at: i64,
    pub creator: String,
    pub task_state: TaskState,
    pub progress: i64,
    pub failure_message: Option<String>,
    pub preview_kind: UploadKind,
}

impl ElementRecord {
    /// Where the element is, from its creation task.
    pub fn status(&self) -> ElementStatus {
        ElementStatus::of(self.task_state, self.upstream_element_id.is_some())
    }
}

const ELEMENT_SELECT: &str = "SELECT e.id, e.task_id, e.owner_id, e.name, e.description, \
     e.reference_type, e.voice_id, e.preview_upload_id, e.upstream_element_id, e.created_at, \
     u.display_name AS creator, t.state AS task_state, t.progress, t.failure_message, \
     up.kind AS preview_kind FROM elements e JOIN users u ON u.id = e.owner_id \
     JOIN tasks t ON t.id = e.task_id JOIN uploads up ON up.id = e.preview_upload_id \
     WHERE e.removed_at IS NULL";

impl Store {
    /// The library (at most 1000 elements), newest first.
    pub async fn list_elements(&self) -> Result<Vec<ElementRecord>, BackendError> {
        let sql = format!("{ELEMENT_SELECT} ORDER BY e.created_at DESC, e.id DESC LIMIT 1000");
        let rows = on_pool!(self, pool => sqlx::query_as::<_, ElementRecord>(&sql)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// One element of the library (not removed).
    pub async fn element_by_id(&self, id: &str) -> Result<Option<ElementRecord>, BackendError> {
        let sql = format!("{ELEMENT_SELECT} AND e.id = $1");
        let row = on_pool!(self, pool => sqlx::query_as::<_, ElementRecord>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    /// The element a creation task makes, even if removed (the engine's view).
    pub async fn element_id_of_task(&self, task_id: &str) -> Result<Option<String>, BackendError> {
        let id = on_pool!(self, pool => sqlx::query_scalar("SELECT id FROM elements WHERE task_id = $1")
            .bind(task_id)
            .fetch_optional(pool)
            .await)?;
        Ok(id)
    }

    /// Changes the description, with its audit entry; `false` (nothing written) when there is
    /// no such element in the library.
    pub async fn update_element_description(
        &self,
        id: &str,
        description: &str,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool, BackendError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let changed = sqlx::query(
                "UPDATE elements SET description = $2, updated_at = $3 WHERE id = $1 AND removed_at IS NULL",
            )
            .bind(id)
            .bind(description)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 1 {
                insert_audit!(&mut *tx, audit)?;
            }
            tx.commit().await?;
            Ok(changed == 1)
        })
    }

    /// Removes the element from the library (Kinema only), with its audit entry; `false`
    /// (nothing written) when it was not there.
    pub async fn remove_element(
        &self,
        id: &str,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool, BackendError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let changed = sqlx::query(
                "UPDATE elements SET removed_at = $2, updated_at = $2 WHERE id = $1 AND removed_at IS NULL",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 1 {
                insert_audit!(&mut *tx, audit)?;
            }
            tx.commit().await?;
            Ok(changed == 1)
        })
    }
}
