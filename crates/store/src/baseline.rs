//! The baseline of terms seen per host, for new-terms detection ("a Python script never run on
//! this host before"). A term is new when `(host, kind, term)` has no row yet.

use chrono::{DateTime, Utc};

use crate::db::{exec, get, query, query_one, ts};
use crate::error::Result;
use crate::{Store, WriteTx};

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BaselineTerm {
    pub host: String,
    /// The term's kind, as the detection names it (`process.executable`, `python.script`).
    pub kind: String,
    pub term: String,
    pub first_seen: DateTime<Utc>,
    /// The place it was first seen: a rule id, a file, `learning`.
    pub source: String,
}

impl WriteTx<'_> {
    /// Adds the terms not yet in the baseline and returns those that were new, in input order.
    /// Audited as one entry per call when anything was added.
    pub async fn learn_terms(&mut self, terms: &[BaselineTerm]) -> Result<Vec<BaselineTerm>> {
        let mut added = Vec::new();
        for term in terms {
            let known = query_one(
                self.conn(),
                "SELECT term FROM baseline WHERE host = $1 AND kind = $2 AND term = $3",
                vec![term.host.clone().into(), term.kind.clone().into(), term.term.clone().into()],
            )
            .await?;
            if known.is_some() || added.iter().any(|a: &BaselineTerm| a.host == term.host && a.kind == term.kind && a.term == term.term) {
                continue;
            }
            exec(self.conn(), "INSERT INTO baseline (host, kind, term, first_seen, source) VALUES ($1, $2, $3, $4, $5)", vec![
                term.host.clone().into(),
                term.kind.clone().into(),
                term.term.clone().into(),
                ts(term.first_seen),
                term.source.clone().into(),
            ])
            .await?;
            added.push(term.clone());
        }
        if !added.is_empty() {
            self.audit("baseline.learn", &format!("{} terms", added.len()), serde_json::json!({ "added": added.len() })).await?;
        }
        Ok(added)
    }

    /// Removes one term; returns whether it was there. Audited when it was.
    pub async fn forget_term(&mut self, host: &str, kind: &str, term: &str) -> Result<bool> {
        let known = query_one(
            self.conn(),
            "SELECT term FROM baseline WHERE host = $1 AND kind = $2 AND term = $3",
            vec![host.into(), kind.into(), term.into()],
        )
        .await?;
        if known.is_none() {
            return Ok(false);
        }
        exec(self.conn(), "DELETE FROM baseline WHERE host = $1 AND kind = $2 AND term = $3", vec![host.into(), kind.into(), term.into()])
            .await?;
        self.audit("baseline.forget", &format!("{host} {kind}"), serde_json::json!({ "host": host, "kind": kind, "term": term })).await?;
        Ok(true)
    }
}

impl Store {
    pub async fn baseline_contains(&self, host: &str, kind: &str, term: &str) -> Result<bool> {
        let row = query_one(
            self.connection(),
            "SELECT term FROM baseline WHERE host = $1 AND kind = $2 AND term = $3",
            vec![host.into(), kind.into(), term.into()],
        )
        .await?;
        Ok(row.is_some())
    }

    /// Returns every term of `kind` known for `host`, oldest first.
    pub async fn baseline_terms(&self, host: &str, kind: &str) -> Result<Vec<BaselineTerm>> {
        let rows = query(
            self.connection(),
            "SELECT host, kind, term, first_seen, source FROM baseline WHERE host = $1 AND kind = $2 ORDER BY first_seen, term",
            vec![host.into(), kind.into()],
        )
        .await?;
        terms_of(&rows)
    }

    /// Returns every term of `kind`, for all hosts, sorted by host then first seen.
    pub async fn baseline_all(&self, kind: &str) -> Result<Vec<BaselineTerm>> {
        let rows = query(
            self.connection(),
            "SELECT host, kind, term, first_seen, source FROM baseline WHERE kind = $1 ORDER BY host, first_seen, term",
            vec![kind.into()],
        )
        .await?;
        terms_of(&rows)
    }

    /// Removes one term in its own write transaction; see [`WriteTx::forget_term`].
    pub async fn forget_term(&self, actor: &str, host: &str, kind: &str, term: &str) -> Result<bool> {
        let mut tx = self.begin_write(actor).await?;
        let removed = tx.forget_term(host, kind, term).await?;
        tx.commit().await?;
        Ok(removed)
    }

    /// Adds terms in their own write transaction; see [`WriteTx::learn_terms`].
    pub async fn learn_terms(&self, actor: &str, terms: &[BaselineTerm]) -> Result<Vec<BaselineTerm>> {
        let mut tx = self.begin_write(actor).await?;
        let added = tx.learn_terms(terms).await?;
        tx.commit().await?;
        Ok(added)
    }
}

fn terms_of(rows: &[sea_orm::QueryResult]) -> Result<Vec<BaselineTerm>> {
    rows.iter()
        .map(|row| {
            Ok(BaselineTerm {
                host: get(row, "host")?,
                kind: get(row, "kind")?,
                term: get(row, "term")?,
                first_seen: get(row, "first_seen")?,
                source: get(row, "source")?,
            })
        })
        .collect()
}
