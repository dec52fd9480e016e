//! The backend's error type, mapped once to what people see in [`crate::backend::context::respond`].

/// Anything that can go wrong below the server functions.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("not signed in")]
    Unauthorized,
    #[error("admin role required")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// Refused input; the text is shown to the person as it is.
    #[error("{0}")]
    Invalid(String),
    /// A budget would be passed; the text is shown to the person as it is.
    #[error("{0}")]
    OverBudget(String),
    /// Too many attempts; the text is shown to the person as it is.
    #[error("{0}")]
    Throttled(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

impl BackendError {
    /// True when a database error is a unique-constraint violation.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            BackendError::Database(err) => err
                .as_database_error()
                .is_some_and(|db| db.is_unique_violation()),
            _ => false,
        }
    }
}
