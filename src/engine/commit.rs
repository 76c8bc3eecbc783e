//! Committing a run's changes when the database may fail for a while (disk full, I/O errors, a
//! lock held too long): [`commit_with_retry`] tries again with backoff until the commit lands,
//! and gives up only on an error that waiting cannot heal. It decides nothing about the run.

use std::time::Duration;

use crate::store::{PlanRepository, StoreError, WriteOp};

/// First wait before a failed commit is tried again; it doubles up to [`RETRY_CAP`].
const RETRY_FIRST: Duration = Duration::from_millis(50);
const RETRY_CAP: Duration = Duration::from_secs(2);

/// Commits `ops` in one transaction. A SQLite failure (`StoreError::Sqlite`: full, I/O, busy)
/// is retried with backoff for as long as it takes; `on_retrying` hears about each one before the
/// wait. Any other error (the store thread gone, a conflict) is returned at once.
pub(super) async fn commit_with_retry(
    repository: &PlanRepository,
    ops: Vec<WriteOp>,
    mut on_retrying: impl FnMut(&StoreError, u64),
) -> Result<(), StoreError> {
    let mut ops = ops;
    let mut delay = RETRY_FIRST;
    for failures in 0_u64.. {
        let attempt = repository.call(move |store| Ok(store.commit(&ops).map_err(|error| (error, ops)))).await;
        match attempt {
            Ok(Ok(())) => return Ok(()),
            Ok(Err((error @ StoreError::Sqlite { .. }, returned))) => {
                ops = returned;
                on_retrying(&error, failures);
            }
            Ok(Err((error, _))) | Err(error) => return Err(error),
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(RETRY_CAP);
    }
    Err(StoreError::Closed)
}
