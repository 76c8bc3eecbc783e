//! [`PlanRepository`]: the async handle of the store. One dedicated OS thread owns the
//! [`Store`]; callers send boxed closures over a channel and await the reply on a oneshot, so
//! rusqlite never blocks a tokio worker.
//!
//! A panic inside a job is caught on the database thread and returned as an error; the thread
//! keeps serving. The thread ends when the last handle is dropped. No SQL lives here.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;

use tokio::sync::oneshot;

use super::{OpenReport, Store, StoreError};

/// A unit of work for the database thread; it sends its own reply.
type Job = Box<dyn FnOnce(&mut Store) + Send>;

/// A job and whether it may have written (only those make the idle thread checkpoint).
type Queued = (Job, bool);

/// How long the database thread waits without work before it checkpoints the write-ahead log.
const IDLE_BEFORE_CHECKPOINT: std::time::Duration = std::time::Duration::from_millis(200);

/// The async handle: a dedicated thread owns the [`Store`]; cheap to clone.
#[derive(Clone)]
pub struct PlanRepository {
    jobs: mpsc::Sender<Queued>,
    path: Arc<PathBuf>,
}

impl PlanRepository {
    /// Opens the store on its own thread.
    pub async fn open(path: PathBuf) -> Result<(PlanRepository, OpenReport), StoreError> {
        let (jobs, job_receiver) = mpsc::channel::<Queued>();
        let (opened_sender, opened) = oneshot::channel();
        let thread_path = path.clone();
        std::thread::Builder::new()
            .name("codelab-store".to_owned())
            .spawn(move || serve(thread_path, job_receiver, opened_sender))
            .map_err(|error| StoreError::Open {
                path: path.clone(),
                cause: format!("cannot start database thread: {error}"),
            })?;
        let report = opened.await.map_err(|_| StoreError::Closed)??;
        Ok((PlanRepository { jobs, path: Arc::new(path) }, report))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `job` on the database thread and returns its result. A panic in `job` comes back
    /// as `StoreError::Sqlite` naming the panic; `Closed` if the thread has stopped.
    pub async fn call<R, F>(&self, job: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Store) -> Result<R, StoreError> + Send + 'static,
    {
        self.queue(job, true).await
    }

    /// [`Self::call`] for a job that only reads: it does not make the idle thread checkpoint (a
    /// poll of the event log every few hundred milliseconds must not cost a checkpoint each).
    pub async fn read<R, F>(&self, job: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Store) -> Result<R, StoreError> + Send + 'static,
    {
        self.queue(job, false).await
    }

    async fn queue<R, F>(&self, job: F, may_write: bool) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Store) -> Result<R, StoreError> + Send + 'static,
    {
        let (reply_sender, reply) = oneshot::channel();
        let path = Arc::clone(&self.path);
        let boxed: Job = Box::new(move |store: &mut Store| {
            let outcome = catch_unwind(AssertUnwindSafe(|| job(store)))
                .unwrap_or_else(|panic| Err(panicked(&path, "job", panic.as_ref())));
            // The caller may have stopped waiting; nothing to do then.
            let _ = reply_sender.send(outcome);
        });
        self.jobs.send((boxed, may_write)).map_err(|_| StoreError::Closed)?;
        reply.await.map_err(|_| StoreError::Closed)?
    }

    /// Shorthand for `call(|store| store.commit(&ops))`.
    pub async fn commit(&self, ops: Vec<super::WriteOp>) -> Result<(), StoreError> {
        self.call(move |store| store.commit(&ops)).await
    }

    /// Truncating checkpoint before the process exits (see [`Store::checkpoint_truncate`]).
    pub async fn checkpoint_on_exit(&self) {
        if let Err(error) = self.call(Store::checkpoint_truncate).await {
            tracing::warn!(%error, "checkpoint on exit failed");
        }
    }

    pub async fn get_plan(&self, id: crate::model::PlanId) -> Result<Option<crate::model::Plan>, StoreError> {
        self.call(move |store| store.get_plan(&id)).await
    }
}

/// The database thread: open, report, then run jobs until every handle is dropped.
fn serve(path: PathBuf, jobs: mpsc::Receiver<Queued>, opened: oneshot::Sender<Result<OpenReport, StoreError>>) {
    let outcome =
        catch_unwind(|| Store::open(&path)).unwrap_or_else(|panic| Err(panicked(&path, "open", panic.as_ref())));
    let mut store = match outcome {
        Ok((store, report)) => {
            if opened.send(Ok(report)).is_err() {
                return;
            }
            store
        }
        Err(error) => {
            let _ = opened.send(Err(error));
            return;
        }
    };
    let mut jobs_since_checkpoint = 0_u64;
    loop {
        match jobs.recv_timeout(IDLE_BEFORE_CHECKPOINT) {
            Ok((job, may_write)) => {
                // `call` already catches panics of the caller's closure; this guards the wrapper.
                if catch_unwind(AssertUnwindSafe(|| job(&mut store))).is_err() {
                    tracing::error!(path = %path.display(), "database job wrapper panicked");
                }
                jobs_since_checkpoint += u64::from(may_write);
            }
            // Quiet for a moment: move the write-ahead log into the database now, so that the
            // checkpoint's disk sync does not land on a request later.
            Err(mpsc::RecvTimeoutError::Timeout) if jobs_since_checkpoint > 0 => {
                if let Err(error) = store.checkpoint() {
                    tracing::warn!(%error, "idle checkpoint failed");
                }
                jobs_since_checkpoint = 0;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                if let Err(error) = store.checkpoint_truncate() {
                    tracing::warn!(%error, "checkpoint on close failed");
                }
                break;
            }
        }
    }
}

fn panicked(path: &Path, what: &str, panic: &(dyn Any + Send)) -> StoreError {
    let message = crate::panics::panic_message(panic);
    StoreError::Sqlite { path: path.to_path_buf(), cause: format!("database {what} panicked: {message}") }
}
