//! Group commit: concurrent units share transactions without sharing fate.

use std::collections::BTreeSet;

use jaga::audit::AuditError;
use jaga::store::StoreError;
use jaga::store::audit::CheckpointRow;

use crate::support::backend_test;
use crate::support::{Lib, Sandbox, sample_event};

#[derive(Debug, thiserror::Error)]
enum UnitError {
    #[error("refused")]
    Refused,
    #[error(transparent)]
    Audit(AuditError),
}

impl From<StoreError> for UnitError {
    fn from(e: StoreError) -> Self {
        UnitError::Audit(AuditError::Store(e))
    }
}

/// A throwaway row: the units only need some statement to undo.
fn marker_row(i: u64) -> CheckpointRow {
    CheckpointRow {
        tree_size: 1_000_000 + i as i64,
        root_hash: vec![0; 32],
        time_s: 0,
        note: String::new(),
        frontier: Vec::new(),
    }
}

backend_test! {
    async fn concurrent_units_commit_with_dense_sequence_numbers_and_failures_leave_no_trace(backend) {
        let sandbox = Sandbox::new(backend).await;
        let lib = Lib::open(&sandbox).await;
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..300u64 {
            let writer = lib.writer.clone();
            tasks.spawn(async move {
                let result = writer
                    .write::<(), UnitError, _>(move |tx| {
                        Box::pin(async move {
                            jaga::store::audit::insert_checkpoint(tx, &marker_row(i)).await?;
                            jaga::audit::record(tx, sample_event(i))
                                .await
                                .map_err(UnitError::Audit)?;
                            // Every third unit fails after writing.
                            if i % 3 == 0 { Err(UnitError::Refused) } else { Ok(()) }
                        })
                    })
                    .await;
                (i, result)
            });
        }
        let mut committed = BTreeSet::new();
        let mut refused = 0;
        while let Some(r) = tasks.join_next().await {
            match r.unwrap() {
                (i, Ok(())) => assert!(committed.insert(i)),
                (_, Err(UnitError::Refused)) => refused += 1,
                (_, Err(UnitError::Audit(e))) => panic!("{backend:?}: {e}"),
            }
        }
        assert_eq!(refused, 100);
        let stored = jaga::store::audit::events_from(&lib.db, 0, 1000).await.unwrap();
        assert_eq!(stored.len(), 200, "{backend:?}: a failed unit left its event");
        let seqs: Vec<i64> = stored.iter().map(|r| r.seq).collect();
        assert_eq!(
            seqs,
            (0..200).collect::<Vec<i64>>(),
            "{backend:?}: sequence numbers not dense"
        );
        // Exactly the successful units' events and statements are stored.
        let events: BTreeSet<u64> = stored
            .iter()
            .map(|r| r.request_id.as_deref().unwrap()[3..].parse().unwrap())
            .collect();
        assert_eq!(events, committed);
        let rows: BTreeSet<u64> = jaga::store::audit::checkpoints(&lib.db)
            .await
            .unwrap()
            .iter()
            .map(|c| c.tree_size as u64 - 1_000_000)
            .collect();
        assert_eq!(rows, committed, "{backend:?}: a failed unit's statement survived");
        lib.close().await;
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn invalid_event_is_refused_and_nothing_is_written(backend) {
        let sandbox = Sandbox::new(backend).await;
        let lib = Lib::open(&sandbox).await;
        let mut event = sample_event(1);
        event.reason = Some("NIK 3171012345670001 did not match".to_owned());
        let result = lib
            .writer
            .write::<(), AuditError, _>(move |tx| Box::pin(jaga::audit::record(tx, event)))
            .await;
        assert!(matches!(result, Err(AuditError::Invalid(_))));
        assert!(
            jaga::store::audit::events_from(&lib.db, 0, 10)
                .await
                .unwrap()
                .is_empty()
        );
        lib.close().await;
    }
}

backend_test! {
    async fn a_panicking_unit_fails_alone_and_the_writer_goes_on(backend) {
        let sandbox = Sandbox::new(backend).await;
        let lib = Lib::open(&sandbox).await;
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..20u64 {
            let writer = lib.writer.clone();
            tasks.spawn(async move {
                writer
                    .write::<(), UnitError, _>(move |tx| {
                        Box::pin(async move {
                            jaga::store::audit::insert_checkpoint(tx, &marker_row(i)).await?;
                            jaga::audit::record(tx, sample_event(i))
                                .await
                                .map_err(UnitError::Audit)?;
                            assert!(i != 7, "unit 7 panics on purpose");
                            Ok(())
                        })
                    })
                    .await
                    .is_ok()
            });
        }
        let mut ok = 0;
        while let Some(r) = tasks.join_next().await {
            ok += usize::from(r.unwrap());
        }
        assert_eq!(ok, 19, "{backend:?}");
        let stored = jaga::store::audit::events_from(&lib.db, 0, 100).await.unwrap();
        assert_eq!(stored.len(), 19);
        assert!(stored.iter().all(|r| r.request_id.as_deref() != Some("req0007")));
        // Still writing afterwards.
        lib.record(sample_event(100)).await;
        lib.close().await;
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn attempt_events_survive_the_failure_of_their_unit(backend) {
        let sandbox = Sandbox::new(backend).await;
        let lib = Lib::open(&sandbox).await;
        let result = lib
            .writer
            .write::<(), UnitError, _>(move |tx| {
                Box::pin(async move {
                    jaga::store::audit::insert_checkpoint(tx, &marker_row(1)).await?;
                    jaga::audit::record(tx, sample_event(1))
                        .await
                        .map_err(UnitError::Audit)?;
                    let mut denial = sample_event(2);
                    denial.outcome = jaga::audit::Outcome::Denied;
                    jaga::audit::record_attempt(tx, denial)
                        .await
                        .map_err(UnitError::Audit)?;
                    Err(UnitError::Refused)
                })
            })
            .await;
        assert!(matches!(result, Err(UnitError::Refused)));
        let stored = jaga::store::audit::events_from(&lib.db, 0, 100).await.unwrap();
        assert_eq!(stored.len(), 1, "{backend:?}");
        assert_eq!(stored[0].outcome, "denied");
        assert_eq!(stored[0].request_id.as_deref(), Some("req0002"));
        assert!(jaga::store::audit::checkpoints(&lib.db).await.unwrap().is_empty());
        lib.close().await;
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn a_unit_that_swallows_a_database_error_does_not_poison_the_batch(backend) {
        let sandbox = Sandbox::new(backend).await;
        let lib = Lib::open(&sandbox).await;
        lib.writer
            .write::<(), UnitError, _>(|tx| {
                Box::pin(async move {
                    jaga::store::audit::insert_checkpoint(tx, &marker_row(0)).await?;
                    Ok(())
                })
            })
            .await
            .unwrap();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 1..30u64 {
            let writer = lib.writer.clone();
            tasks.spawn(async move {
                let r = writer
                    .write::<(), UnitError, _>(move |tx| {
                        Box::pin(async move {
                            jaga::audit::record(tx, sample_event(i))
                                .await
                                .map_err(UnitError::Audit)?;
                            if i == 5 {
                                // A duplicate key, error ignored: on PostgreSQL
                                // this leaves the transaction aborted.
                                let _ = sqlx_duplicate(tx).await;
                            }
                            Ok(())
                        })
                    })
                    .await;
                (i, r.is_ok())
            });
        }
        let mut ok = Vec::new();
        while let Some(r) = tasks.join_next().await {
            let (i, good) = r.unwrap();
            if good {
                ok.push(i);
            }
        }
        ok.sort();
        let stored = jaga::store::audit::events_from(&lib.db, 0, 100).await.unwrap();
        let expected: Vec<u64> = match backend {
            // SQLite keeps the transaction usable after a failed statement.
            crate::support::Backend::Sqlite => (1..30).collect(),
            crate::support::Backend::Postgres => (1..30).filter(|i| *i != 5).collect(),
        };
        assert_eq!(ok, expected, "{backend:?}");
        assert_eq!(stored.len(), expected.len(), "{backend:?}");
        lib.close().await;
        sandbox.drop_database().await;
    }
}

/// A statement that fails: a second row with tree size 1 000 000.
async fn sqlx_duplicate(tx: &mut jaga::store::Tx<'_>) -> Result<(), StoreError> {
    const SQL: &str = "insert into audit_checkpoint (tree_size, root_hash, time_s, note, frontier) \
         select tree_size, root_hash, time_s, note, frontier from audit_checkpoint where tree_size = 1000000";
    let result = match tx.conn().await? {
        jaga::store::Conn::Sqlite(c) => sqlx::raw_sql(SQL).execute(c).await.map(drop),
        jaga::store::Conn::Postgres(c) => sqlx::raw_sql(SQL).execute(c).await.map(drop),
    };
    assert!(result.is_err(), "the duplicate insert should fail");
    Ok(())
}
