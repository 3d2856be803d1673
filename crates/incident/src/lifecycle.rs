//! The incident lifecycle and the roles that own each state.
//!
//! ```text
//! identified → classified → responding → investigating → recovering → in review → closed
//!      └────────────┴────────────┴──→ false positive
//! closed, false positive → reopened → classified | responding | investigating
//! ```
//!
//! The role that owns the target state makes the move. Security owns classified, responding
//! and false positive. IT owns investigating and recovering. Management owns in review and
//! closed. Security or management may reopen. These checks run in tocsin itself; they guard
//! against mistakes, not against someone who can write the store directly.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tocsin_store::Store;
use tocsin_store::incidents::Transition;

use crate::error::{IncidentError, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Identified,
    Classified,
    Responding,
    Investigating,
    Recovering,
    InReview,
    Closed,
    FalsePositive,
    Reopened,
}

impl State {
    pub const ALL: [State; 9] = [
        State::Identified,
        State::Classified,
        State::Responding,
        State::Investigating,
        State::Recovering,
        State::InReview,
        State::Closed,
        State::FalsePositive,
        State::Reopened,
    ];

    /// Returns the name stored and accepted on the command line (`in_review`).
    pub fn name(self) -> &'static str {
        match self {
            State::Identified => "identified",
            State::Classified => "classified",
            State::Responding => "responding",
            State::Investigating => "investigating",
            State::Recovering => "recovering",
            State::InReview => "in_review",
            State::Closed => "closed",
            State::FalsePositive => "false_positive",
            State::Reopened => "reopened",
        }
    }

    /// Parses a state name; `-` and spaces count as `_` (`in-review`, `false positive`).
    pub fn parse(name: &str) -> Option<State> {
        let normal = name.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        State::ALL.into_iter().find(|s| s.name() == normal)
    }

    /// Returns whether an incident in this state still takes new alerts.
    pub fn is_open(self) -> bool {
        !matches!(self, State::Closed | State::FalsePositive)
    }

    /// Returns the states this one may move to.
    pub fn next(self) -> &'static [State] {
        match self {
            State::Identified => &[State::Classified, State::FalsePositive],
            State::Classified => &[State::Responding, State::FalsePositive],
            State::Responding => &[State::Investigating, State::FalsePositive],
            State::Investigating => &[State::Recovering],
            State::Recovering => &[State::InReview],
            State::InReview => &[State::Closed],
            State::Closed | State::FalsePositive => &[State::Reopened],
            State::Reopened => &[State::Classified, State::Responding, State::Investigating],
        }
    }

    /// Returns the roles that may move an incident into this state.
    pub fn owners(self) -> &'static [Role] {
        match self {
            State::Identified => &[],
            State::Classified | State::Responding | State::FalsePositive => &[Role::Security],
            State::Investigating | State::Recovering => &[Role::It],
            State::InReview | State::Closed => &[Role::Management],
            State::Reopened => &[Role::Security, Role::Management],
        }
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name().replace('_', " "))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Security,
    It,
    Management,
    /// Manages users and roles; owns no lifecycle state.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Security, Role::It, Role::Management, Role::Admin];

    pub fn name(self) -> &'static str {
        match self {
            Role::Security => "security",
            Role::It => "it",
            Role::Management => "management",
            Role::Admin => "admin",
        }
    }

    pub fn parse(name: &str) -> Option<Role> {
        let lower = name.trim().to_ascii_lowercase();
        Role::ALL.into_iter().find(|r| r.name() == lower)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::It => "IT",
            other => other.name(),
        })
    }
}

/// The acting user, with the roles the store gives them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub name: String,
    pub roles: Vec<Role>,
}

impl Actor {
    /// Loads `name`'s roles from the store. An unknown user has none, and role names this
    /// build does not define are ignored.
    pub async fn load(store: &Store, name: &str) -> Result<Actor> {
        let roles = match store.user(name).await? {
            Some(user) => user.roles.iter().filter_map(|r| Role::parse(r)).collect(),
            None => Vec::new(),
        };
        Ok(Actor { name: name.to_string(), roles })
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    fn roles_text(&self) -> String {
        if self.roles.is_empty() {
            "no roles".to_string()
        } else {
            format!("roles {}", self.roles.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", "))
        }
    }

    /// Fails unless the actor has one of `roles`; `what` completes "cannot …".
    pub fn require(&self, roles: &[Role], what: &str) -> Result<()> {
        if roles.iter().any(|r| self.has(*r)) {
            return Ok(());
        }
        Err(IncidentError::NotPermitted {
            user: self.name.clone(),
            what: what.to_string(),
            rule: format!("that needs the {} role, and {} has {}", join_roles(roles), self.name, self.roles_text()),
        })
    }
}

fn join_roles(roles: &[Role]) -> String {
    roles.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(" or ")
}

fn join_states(states: &[State]) -> String {
    states.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(" or ")
}

/// Checks a move against the lifecycle and the actor's roles, without touching the store.
pub fn check_move(id: i64, actor: &Actor, from: State, to: State) -> Result<()> {
    if !from.next().contains(&to) {
        let rule = if from.next().is_empty() {
            format!("{from} is final")
        } else {
            format!("the lifecycle allows {from} → {} only", join_states(from.next()))
        };
        return Err(IncidentError::IllegalTransition { id, from: from.to_string(), to: to.to_string(), rule });
    }
    let owners = to.owners();
    if !owners.iter().any(|r| actor.has(*r)) {
        return Err(IncidentError::WrongRole {
            user: actor.name.clone(),
            id,
            to: to.to_string(),
            rule: format!("only the {} role moves an incident to {to}, and {} has {}", join_roles(owners), actor.name, actor.roles_text()),
        });
    }
    Ok(())
}

/// Moves an incident to `to` after checking the lifecycle and the actor's roles, records the
/// transition with the actor and `at` (default now), and audits it, all in one transaction.
pub async fn move_incident(
    store: &Store,
    actor: &Actor,
    id: i64,
    to: State,
    at: Option<DateTime<Utc>>,
    reason: Option<&str>,
) -> Result<Transition> {
    let mut tx = store.begin_write(&actor.name).await?;
    let checked = async {
        let incident = tx.incident(id).await?;
        let from = State::parse(&incident.state)
            .ok_or_else(|| IncidentError::Invalid(format!("incident {id} has an unknown state {:?} in the store", incident.state)))?;
        check_move(id, actor, from, to)
    }
    .await;
    if let Err(error) = checked {
        tx.rollback().await?;
        return Err(error);
    }

    let transition = tx.set_state(id, to.name(), at.unwrap_or_else(Utc::now), reason).await?;
    tx.commit().await?;
    Ok(transition)
}
