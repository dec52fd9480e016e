//! Users: members and admins.

use super::{audit::insert_audit, on_pool, NewAuditEntry, Store};
use crate::backend::BackendError;
use crate::model::{MemberView, Role, UserView};

/// A user row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: String,
    pub disabled: bool,
    pub created_at: i64,
    /// Bumped to end every session of this user; a session signed in under an older epoch
    /// is signed out.
    pub session_epoch: i64,
}

impl UserRecord {
    /// The role as an enum (an unknown stored value reads as the least privileged role).
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Member)
    }

    /// What the browser may see of this user.
    pub fn view(&self) -> UserView {
        UserView {
            id: self.id,
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            role: self.role(),
        }
    }

    /// What the admin pages show of this user.
    pub fn member_view(&self) -> MemberView {
        MemberView {
            id: self.id,
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            role: self.role(),
            disabled: self.disabled,
            created_at: self.created_at,
        }
    }
}

/// A user to create.
pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub created_at: i64,
}

/// The advisory lock key that serialises first-run setups on PostgreSQL ("KINEMA01").
const FIRST_ADMIN_LOCK: i64 = 0x4b49_4e45_4d41_3031;

/// The columns of [`UserRecord`], in order.
pub(super) const USER_COLUMNS: &str =
    "id, username, display_name, password_hash, role, disabled, created_at, session_epoch";

impl Store {
    /// True once any admin account exists.
    pub async fn has_admin(&self) -> Result<bool, BackendError> {
        let count: i64 = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE role = 'admin'"
        )
        .fetch_one(pool)
        .await)?;
        Ok(count > 0)
    }

    /// Creates the first admin; `None` when an admin already exists. Concurrent setups are
    /// serialised (SQLite: one writer at a time; PostgreSQL: a transaction-scoped advisory lock,
    /// since READ COMMITTED would let two inserts both see no admin), so exactly one wins.
    pub async fn create_first_admin(
        &self,
        user: &NewUser<'_>,
    ) -> Result<Option<UserRecord>, BackendError> {
        let sql = format!(
            "INSERT INTO users (username, display_name, password_hash, role, disabled, created_at) \
             SELECT $1, $2, $3, 'admin', FALSE, $4 \
             WHERE NOT EXISTS (SELECT 1 FROM users WHERE role = 'admin') \
             RETURNING {USER_COLUMNS}"
        );
        let row = match self {
            Store::Sqlite(pool) => {
                sqlx::query_as::<_, UserRecord>(&sql)
                    .bind(user.username)
                    .bind(user.display_name)
                    .bind(user.password_hash)
                    .bind(user.created_at)
                    .fetch_optional(pool)
                    .await?
            }
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(FIRST_ADMIN_LOCK)
                    .execute(&mut *tx)
                    .await?;
                let row = sqlx::query_as::<_, UserRecord>(&sql)
                    .bind(user.username)
                    .bind(user.display_name)
                    .bind(user.password_hash)
                    .bind(user.created_at)
                    .fetch_optional(&mut *tx)
                    .await?;
                tx.commit().await?;
                row
            }
        };
        Ok(row)
    }

    /// Creates a user with the given role.
    pub async fn create_user(&self, user: &NewUser<'_>) -> Result<UserRecord, BackendError> {
        let sql = format!(
            "INSERT INTO users (username, display_name, password_hash, role, disabled, created_at) \
             VALUES ($1, $2, $3, $4, FALSE, $5) RETURNING {USER_COLUMNS}"
        );
        let row = on_pool!(self, pool => sqlx::query_as::<_, UserRecord>(&sql)
            .bind(user.username)
            .bind(user.display_name)
            .bind(user.password_hash)
            .bind(user.role.as_str())
            .bind(user.created_at)
            .fetch_one(pool)
            .await)?;
        Ok(row)
    }

    /// Looks a user up by id.
    pub async fn user_by_id(&self, id: i64) -> Result<Option<UserRecord>, BackendError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row = on_pool!(self, pool => sqlx::query_as::<_, UserRecord>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    /// Looks a user up by normalised username.
    pub async fn user_by_username(
        &self,
        username: &str,
    ) -> Result<Option<UserRecord>, BackendError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
        let row = on_pool!(self, pool => sqlx::query_as::<_, UserRecord>(&sql)
            .bind(username)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    /// Every user, oldest first.
    pub async fn list_users(&self) -> Result<Vec<UserRecord>, BackendError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY id");
        let rows = on_pool!(self, pool => sqlx::query_as::<_, UserRecord>(&sql)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// Disables or re-enables a user, with its audit entry; false (nothing written) when no such
    /// user exists. Disabling also revokes the unused invites the user created, in the same
    /// transaction.
    pub async fn set_user_disabled(
        &self,
        id: i64,
        disabled: bool,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool, BackendError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let changed = sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
                .bind(disabled)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if disabled && changed == 1 {
                sqlx::query(
                    "UPDATE invites SET revoked_at = $1 \
                     WHERE created_by = $2 AND used_at IS NULL AND revoked_at IS NULL",
                )
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            if changed == 1 {
                insert_audit!(&mut *tx, audit)?;
            }
            tx.commit().await?;
            Ok(changed == 1)
        })
    }

    /// Replaces a user's password hash and ends all their sessions (the session epoch moves
    /// on in the same statement); false when no such user exists.
    pub async fn set_password_hash(&self, id: i64, hash: &str) -> Result<bool, BackendError> {
        let result = on_pool!(self, pool => sqlx::query(
            "UPDATE users SET password_hash = $1, session_epoch = session_epoch + 1 WHERE id = $2"
        )
        .bind(hash)
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(result == 1)
    }
}
