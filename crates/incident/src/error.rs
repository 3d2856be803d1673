use tocsin_store::StoreError;

/// Errors of incident operations. Lifecycle and role errors name the rule that was broken.
#[derive(Debug, thiserror::Error)]
pub enum IncidentError {
    #[error(transparent)]
    Store(#[from] StoreError),

    #[error("cannot move incident {id} from {from} to {to}: {rule}")]
    IllegalTransition { id: i64, from: String, to: String, rule: String },

    #[error("{user} cannot move incident {id} to {to}: {rule}")]
    WrongRole { user: String, id: i64, to: String, rule: String },

    #[error("{user} cannot {what}: {rule}")]
    NotPermitted { user: String, what: String, rule: String },

    #[error("invalid {what} {source_name}: {message}")]
    InvalidInput { what: &'static str, source_name: String, message: String },

    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = IncidentError> = std::result::Result<T, E>;
