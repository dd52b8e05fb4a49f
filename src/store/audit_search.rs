//! The audit search of the security officers' console: filters, newest
//! first by (time, sequence number), keyset pagination.

use sqlx::QueryBuilder;

use super::audit::{EVENT, EventRow};
use super::{Db, StoreError};

/// What to look for; every filter given must hold.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// Microseconds since the epoch: `from_us <= time < to_us`.
    pub from_us: Option<i64>,
    pub to_us: Option<i64>,
    pub actor_kind: Option<String>,
    pub actor_id: Option<String>,
    /// The citizen as the target of an event, or as its actor.
    pub citizen: Option<String>,
    pub action: Option<String>,
    pub purpose: Option<String>,
    /// The module as the event's actor.
    pub module: Option<String>,
    pub outcome: Option<String>,
    pub request_id: Option<String>,
    /// Only events older than this (time, sequence number): the last one
    /// of the page before.
    pub before: Option<(i64, i64)>,
    pub limit: i64,
}

/// Events matching `s`, newest first (time, then sequence number).
pub async fn search(db: &Db, s: &Search) -> Result<Vec<EventRow>, StoreError> {
    // With a citizen, SQLite must start from the citizen's events: the
    // other columns are written `+column`, which keeps their indexes out
    // of the plan (SQLite has no statistics here to choose by itself;
    // PostgreSQL has, and no such operator on text).
    let pin = if s.citizen.is_some() && matches!(db, Db::Sqlite(_)) {
        "+"
    } else {
        ""
    };
    on_db!(db, |pool| {
        let mut q = QueryBuilder::new(EVENT);
        q.push(" where 1 = 1");
        if let Some(v) = s.from_us {
            q.push(format!(" and {pin}time_us >= ")).push_bind(v);
        }
        if let Some(v) = s.to_us {
            q.push(format!(" and {pin}time_us < ")).push_bind(v);
        }
        if let Some(v) = &s.actor_kind {
            q.push(format!(" and {pin}actor_kind = ")).push_bind(v.clone());
        }
        if let Some(v) = &s.actor_id {
            q.push(format!(" and {pin}actor_id = ")).push_bind(v.clone());
        }
        if let Some(v) = &s.citizen {
            // As a set of sequence numbers, each side by its own index, so
            // the citizen's (few) events are found first whatever else is
            // asked (an OR here would let a broad index be scanned instead).
            q.push(" and seq in (select seq from audit_event where target_id = ")
                .push_bind(v.clone())
                .push(" union all select seq from audit_event where actor_kind = 'citizen' and actor_id = ")
                .push_bind(v.clone())
                .push(")");
        }
        if let Some(v) = &s.action {
            q.push(format!(" and {pin}action = ")).push_bind(v.clone());
        }
        if let Some(v) = &s.purpose {
            q.push(format!(" and {pin}purpose = ")).push_bind(v.clone());
        }
        if let Some(v) = &s.module {
            q.push(format!(" and {pin}actor_kind = 'module' and {pin}actor_id = "))
                .push_bind(v.clone());
        }
        if let Some(v) = &s.outcome {
            q.push(format!(" and {pin}outcome = ")).push_bind(v.clone());
        }
        if let Some(v) = &s.request_id {
            q.push(format!(" and {pin}request_id = ")).push_bind(v.clone());
        }
        if let Some((time_us, seq)) = s.before {
            // (time, seq) < cursor, written so that `time_us <= t` bounds
            // the index range and the rest only filters its first time.
            q.push(format!(" and {pin}time_us <= "))
                .push_bind(time_us)
                .push(" and (time_us < ")
                .push_bind(time_us)
                .push(" or seq < ")
                .push_bind(seq)
                .push(")");
        }
        q.push(" order by time_us desc, seq desc limit ").push_bind(s.limit);
        Ok(q.build_query_as::<EventRow>().fetch_all(pool).await?)
    })
}

/// The event with sequence number `seq`.
pub async fn event(db: &Db, seq: i64) -> Result<Option<EventRow>, StoreError> {
    on_db!(db, |pool| {
        let sql = sqlx::AssertSqlSafe(format!("{EVENT} where seq = $1"));
        Ok(sqlx::query_as(sql).bind(seq).fetch_optional(pool).await?)
    })
}
