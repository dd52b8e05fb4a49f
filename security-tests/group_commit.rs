//! Group commit: concurrent units share transactions without sharing fate.

use std::collections::BTreeSet;

use jaga::audit::AuditError;
use jaga::store::StoreError;

use crate::support::{Lib, Sandbox, backends, sample_event};

#[derive(Debug)]
enum UnitError {
    Refused,
    Audit(AuditError),
}

impl From<StoreError> for UnitError {
    fn from(e: StoreError) -> Self {
        UnitError::Audit(AuditError::Store(e))
    }
}

#[tokio::test]
async fn concurrent_units_commit_with_dense_sequence_numbers_and_failures_leave_no_trace() {
    for backend in backends() {
        let sandbox = Sandbox::new(backend).await;
        let lib = Lib::open(&sandbox).await;
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..300u64 {
            let writer = lib.writer.clone();
            let auditor = lib.auditor.clone();
            tasks.spawn(async move {
                writer
                    .write::<u64, UnitError, _>(move |tx| {
                        Box::pin(async move {
                            let seq = auditor
                                .record(tx, sample_event(i))
                                .await
                                .map_err(UnitError::Audit)?;
                            // Every third unit fails after writing its event.
                            if i % 3 == 0 {
                                Err(UnitError::Refused)
                            } else {
                                Ok(seq)
                            }
                        })
                    })
                    .await
            });
        }
        let mut committed = BTreeSet::new();
        let mut refused = 0;
        while let Some(r) = tasks.join_next().await {
            match r.unwrap() {
                Ok(seq) => assert!(committed.insert(seq), "sequence {seq} given twice"),
                Err(UnitError::Refused) => refused += 1,
                Err(UnitError::Audit(e)) => panic!("{backend:?}: {e}"),
            }
        }
        assert_eq!(refused, 100);
        assert_eq!(
            committed,
            (0..200).collect::<BTreeSet<u64>>(),
            "{backend:?}"
        );
        let stored = jaga::store::audit::events_from(&lib.db, 0, 1000)
            .await
            .unwrap();
        assert_eq!(
            stored.len(),
            200,
            "{backend:?}: a failed unit left its event"
        );
        // Only successful units' request ids are stored.
        assert!(stored.iter().all(|r| {
            let i: u64 = r.request_id.as_deref().unwrap()[3..].parse().unwrap();
            !i.is_multiple_of(3)
        }));
        lib.close().await;
        sandbox.drop_database().await;
    }
}

#[tokio::test]
async fn invalid_event_is_refused_and_nothing_is_written() {
    let sandbox = Sandbox::new(crate::support::Backend::Sqlite).await;
    let lib = Lib::open(&sandbox).await;
    let auditor = lib.auditor.clone();
    let mut event = sample_event(1);
    event.reason = Some("NIK 3171012345670001 did not match".to_owned());
    let result = lib
        .writer
        .write::<u64, AuditError, _>(move |tx| {
            Box::pin(async move { auditor.record(tx, event).await })
        })
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
