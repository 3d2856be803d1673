//! Users and their roles (`security`, `it`, `management`, `admin`). Role checks on the CLI
//! use these rows; they guard against mistakes, not against someone who can write the store.

use chrono::Utc;

use crate::db::{exec, get, opt_str, query, query_one, ts};
use crate::error::Result;
use crate::{Store, WriteTx};

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct User {
    pub name: String,
    pub display_name: Option<String>,
    pub roles: Vec<String>,
}

impl WriteTx<'_> {
    /// Creates the user if missing and sets their roles to exactly `roles`.
    pub async fn set_user(&mut self, name: &str, display_name: Option<&str>, roles: &[String]) -> Result<()> {
        let exists = query_one(self.conn(), "SELECT name FROM users WHERE name = $1", vec![name.into()]).await?;
        if exists.is_none() {
            exec(self.conn(), "INSERT INTO users (name, display_name, created_at) VALUES ($1, $2, $3)", vec![
                name.into(),
                opt_str(display_name),
                ts(Utc::now()),
            ])
            .await?;
        } else if display_name.is_some() {
            exec(self.conn(), "UPDATE users SET display_name = $2 WHERE name = $1", vec![name.into(), opt_str(display_name)]).await?;
        }
        exec(self.conn(), "DELETE FROM user_roles WHERE user_name = $1", vec![name.into()]).await?;
        let mut sorted = roles.to_vec();
        sorted.sort();
        sorted.dedup();
        for role in &sorted {
            exec(self.conn(), "INSERT INTO user_roles (user_name, role) VALUES ($1, $2)", vec![name.into(), role.clone().into()]).await?;
        }
        self.audit("user.set", &format!("user {name}"), serde_json::json!({ "roles": sorted })).await?;
        Ok(())
    }
}

impl Store {
    pub async fn user(&self, name: &str) -> Result<Option<User>> {
        let row = query_one(self.connection(), "SELECT name, display_name FROM users WHERE name = $1", vec![name.into()]).await?;
        let Some(row) = row else { return Ok(None) };
        let roles = query(self.connection(), "SELECT role FROM user_roles WHERE user_name = $1 ORDER BY role", vec![name.into()]).await?;
        Ok(Some(User {
            name: get(&row, "name")?,
            display_name: get(&row, "display_name")?,
            roles: roles.iter().map(|r| get(r, "role")).collect::<Result<_>>()?,
        }))
    }

    pub async fn users(&self) -> Result<Vec<User>> {
        let rows = query(self.connection(), "SELECT name FROM users ORDER BY name", vec![]).await?;
        let mut users = Vec::new();
        for row in rows {
            let name: String = get(&row, "name")?;
            if let Some(user) = self.user(&name).await? {
                users.push(user);
            }
        }
        Ok(users)
    }

    /// Sets a user's roles in its own write transaction.
    pub async fn set_user(&self, actor: &str, name: &str, roles: &[String]) -> Result<()> {
        let mut tx = self.begin_write(actor).await?;
        tx.set_user(name, None, roles).await?;
        tx.commit().await
    }
}
