use std::path::PathBuf;

/// Errors of the store. Messages name the store and the next step.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("invalid store URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },

    #[error("cannot create the store folder {path}: {source}")]
    CreateFolder { path: PathBuf, source: std::io::Error },

    #[error("cannot open the store {url}: {source}")]
    Open { url: String, source: sea_orm::DbErr },

    #[error(
        "the store {url} has schema version {found}, but this tocsin knows versions up to {known}: \
         a newer tocsin has upgraded it; use that version (or a newer one) with this store"
    )]
    NewerSchema { url: String, found: i64, known: i64 },

    #[error("store query failed: {0}")]
    Db(#[from] sea_orm::DbErr),

    #[error("{what} {id} not found in the store")]
    NotFound { what: &'static str, id: String },

    #[error("{0}")]
    Invalid(String),

    #[error("{action} {path}: {source}")]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },

    #[error("invalid JSON in column {column}: {source}")]
    Json { column: &'static str, source: serde_json::Error },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
