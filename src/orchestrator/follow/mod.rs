//! Following runs from any face, whichever process runs them: `follow` (one plan's current run)
//! and `follow_other_runs` (every run another process starts on this database, as it starts).
//!
//! A run of this process is followed live: the actor adds the follower to the run's fan-out
//! (`runs.rs`). A run another process owns is followed through the store: [`Tail`] reads the event
//! log (`plan_events`) as it grows and turns its rows into the same [`RunEvent`]s (`derive.rs`),
//! ending each run with exactly one `planFinished`. It polls only while someone follows: one
//! `PRAGMA data_version` every [`POLL_INTERVAL`] on the store thread, which reads no page; the log
//! is read only after another process committed. Output and agents' activity are not stored, so
//! they are seen only by followers in the run's own process. A followed run whose process dies is
//! recovered (`interrupted`) by the tail, as the next start would, so it still ends.

mod derive;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::mpsc;

use super::{Orchestrator, OrchestratorError, RunStarted};
use crate::engine::events::{DEFAULT_OUTPUT_EVENT_CAP, EventSender, event_queue};
use crate::engine::{RunEvent, RunEventKind};
use crate::model::{Plan, PlanId, PlanStatus, Progress, RunId, Timestamp};
use crate::store::{LoggedEvent, PlanRepository, Store, StoreError};

/// How often the tail asks whether another process committed, while someone follows.
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);
/// Every this many polls, the followed runs' processes are checked for life (about a second).
const OWNER_CHECK_EVERY: u32 = 5;
/// Most rows read per poll (the next poll goes on at once when it was full). Far more than a
/// poll interval's worth; a fuller page only makes that poll's progress counts approximate.
const ROWS_PER_POLL: usize = 10_000;
/// Ended runs remembered, so that a late row of one never starts it again.
const ENDED_REMEMBERED: usize = 4_096;

/// The runs this process owns (the actor adds a run's id before its claim is committed), so the
/// tail leaves their rows to the live events.
pub(super) type LocalRuns = Arc<Mutex<HashSet<RunId>>>;

pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Orchestrator {
    /// The plan's current run, with its events from now on (a `planStarted` with the progress so
    /// far comes first, `planFinished` last); `None` when the plan is not running. Works for a run
    /// of this process (live events, output included) and for one another process owns on the
    /// same database (events from the store: subtasks' starts, waits, retries and ends).
    pub async fn follow(&self, plan_id: PlanId) -> Result<Option<RunStarted>, OrchestratorError> {
        let lookup = plan_id.clone();
        if let Some(run) = self.ask(|reply| super::actor::Command::Follow(lookup, reply)).await?? {
            return Ok(Some(run));
        }
        let plan = self.get(plan_id).await?;
        let Some(run_id) = plan.run_id.clone().filter(|_| plan.status == PlanStatus::Running) else { return Ok(None) };
        if lock(&self.local_runs).contains(&run_id) {
            return Ok(None); // It ended here between the two looks.
        }
        Ok(Some(self.tail.follow_run(&plan, run_id).await?))
    }

    /// Every run another process owns on this database: those running now, then each one as it
    /// starts, each with its events until its one `planFinished`. For a face that shows every run
    /// (the language server shows an MCP server's or a command line's runs like its own).
    /// Returns once the log is being followed: every run another process starts from then on is
    /// announced.
    pub async fn follow_other_runs(&self) -> Result<mpsc::UnboundedReceiver<RunStarted>, OrchestratorError> {
        Ok(self.tail.watch_other_runs().await?)
    }
}

/// Events of runs other processes own, derived from the event log. Cheap to clone.
#[derive(Clone)]
pub(super) struct Tail {
    inner: Arc<TailInner>,
}

struct TailInner {
    repository: PlanRepository,
    local_runs: LocalRuns,
    state: Mutex<TailState>,
}

#[derive(Default)]
struct TailState {
    polling: bool,
    /// Faces that follow every other run.
    watchers: Vec<mpsc::UnboundedSender<RunStarted>>,
    /// Runs of other processes seen starting and not yet ended.
    runs: HashMap<RunId, ForeignRun>,
    /// Runs that ended, with their `planFinished`: a late row never starts one again.
    ended: HashMap<RunId, RunEventKind>,
}

/// A run another process owns, as the tail follows it.
struct ForeignRun {
    plan_id: PlanId,
    title: String,
    total: u32,
    progress: Progress,
    followers: Vec<EventSender>,
}

impl ForeignRun {
    fn emit(&mut self, run_id: &RunId, at: Timestamp, kind: RunEventKind) {
        self.followers.retain(|follower| !follower.is_closed());
        let event =
            RunEvent { plan_id: self.plan_id.clone(), run_id: run_id.clone(), at, progress: self.progress, kind };
        for follower in &self.followers {
            follower.send(event.clone());
        }
    }

    /// A new follower's queue, starting with `planStarted` and the progress so far.
    fn add_follower(&mut self, run_id: &RunId) -> RunStarted {
        let (sender, events) = event_queue(DEFAULT_OUTPUT_EVENT_CAP);
        let kind = RunEventKind::PlanStarted { title: self.title.clone(), total: self.total };
        let at = Timestamp::now();
        sender.send(RunEvent {
            plan_id: self.plan_id.clone(),
            run_id: run_id.clone(),
            at,
            progress: self.progress,
            kind,
        });
        self.followers.push(sender);
        let (plan_id, title) = (self.plan_id.clone(), self.title.clone());
        RunStarted { plan_id, run_id: run_id.clone(), title, events, elsewhere: true }
    }
}

/// What one poll read on the store thread.
struct Poll {
    version: i64,
    rows: Vec<LoggedEvent>,
    /// The plans the rows name and the followed runs' plans, as stored now (`None`: deleted).
    plans: HashMap<PlanId, Option<Plan>>,
    /// The page was full: poll again at once.
    more: bool,
}

impl Tail {
    pub(super) fn new(repository: PlanRepository, local_runs: LocalRuns) -> Self {
        Self { inner: Arc::new(TailInner { repository, local_runs, state: Mutex::new(TailState::default()) }) }
    }

    /// Follows the run `run_id` of `plan` (running under another process) from now on.
    async fn follow_run(&self, plan: &Plan, run_id: RunId) -> Result<RunStarted, StoreError> {
        let started = {
            let mut state = lock(&self.inner.state);
            if !state.runs.contains_key(&run_id) {
                self.inner.track(&mut state, plan, run_id.clone(), plan.progress());
            }
            let TailState { runs, ended, .. } = &mut *state;
            match (runs.get_mut(&run_id), ended.get(&run_id)) {
                (Some(run), _) => run.add_follower(&run_id),
                // It ended meanwhile: a follower that gets its start and its end.
                (None, ended) => {
                    let mut run = ForeignRun::of(plan);
                    let started = run.add_follower(&run_id);
                    let end = ended.cloned().unwrap_or_else(|| derive::finished(plan, PlanStatus::Interrupted));
                    run.emit(&run_id, Timestamp::now(), end);
                    started
                }
            }
        };
        self.ensure_polling().await?;
        Ok(started)
    }

    async fn watch_other_runs(&self) -> Result<mpsc::UnboundedReceiver<RunStarted>, StoreError> {
        let (sender, receiver) = mpsc::unbounded_channel();
        {
            let mut state = lock(&self.inner.state);
            for (run_id, run) in &mut state.runs {
                let _ = sender.send(run.add_follower(run_id));
            }
            state.watchers.push(sender);
        }
        self.ensure_polling().await?;
        Ok(receiver)
    }

    /// Starts the loop unless it runs: the log's end and the runs of other processes are read
    /// first (followers are registered before, so none misses a run that starts meanwhile).
    async fn ensure_polling(&self) -> Result<(), StoreError> {
        if lock(&self.inner.state).polling {
            return Ok(());
        }
        let (cursor, version, plans) = self
            .inner
            .repository
            .read(|store| {
                let version = store.data_version()?;
                store.read_consistently(|store| Ok((store.last_event_seq()?, version, plans_run_by_others(store)?)))
            })
            .await?;
        let mut state = lock(&self.inner.state);
        if state.polling {
            return Ok(());
        }
        state.polling = true;
        for plan in plans {
            self.inner.discover(&mut state, &plan, plan.progress());
        }
        tokio::spawn(poll(self.inner.clone(), cursor, version));
        Ok(())
    }
}

impl ForeignRun {
    fn of(plan: &Plan) -> Self {
        Self {
            plan_id: plan.id.clone(),
            title: plan.title.clone(),
            total: u32::try_from(plan.subtasks.len()).unwrap_or(u32::MAX),
            progress: plan.progress(),
            followers: Vec::new(),
        }
    }
}

/// The tail's loop from the log's position `cursor`: runs while anyone follows, then ends (the
/// next follower starts it again). Its first poll reads the followed plans whatever the version,
/// so a run that ended before `cursor` still ends for its followers.
async fn poll(inner: Arc<TailInner>, mut cursor: i64, mut version: i64) {
    let mut force = true;
    let mut ticks: u32 = 0;
    loop {
        if !inner.still_followed() {
            return;
        }
        if !force {
            tokio::time::sleep(POLL_INTERVAL).await;
        }
        ticks = ticks.wrapping_add(1);
        if ticks % OWNER_CHECK_EVERY == 0 && inner.follows_runs() {
            match inner.repository.call(|store| store.recover_dead_runs(Timestamp::now())).await {
                Ok(recovered) if !recovered.is_empty() => {
                    tracing::info!(plans = ?recovered, "runs whose process is gone are now interrupted");
                    force = true;
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "cannot check the followed runs' processes"),
            }
        }
        let followed = inner.followed_plans();
        let polled = inner.repository.read(move |store| read_poll(store, cursor, version, force, &followed)).await;
        force = false;
        match polled {
            Ok(Some(polled)) => {
                version = polled.version;
                cursor = polled.rows.last().map_or(cursor, |row| row.seq);
                force = polled.more;
                inner.apply(&polled);
            }
            Ok(None) => {}
            Err(StoreError::Closed) => return inner.stop_polling(&StoreError::Closed),
            Err(error) => tracing::warn!(%error, "cannot read the event log"),
        }
    }
}

/// The plans other live processes run, as stored now.
fn plans_run_by_others(store: &Store) -> Result<Vec<Plan>, StoreError> {
    let ids = store.plans_run_by_others()?;
    ids.iter().filter_map(|id| store.get_plan(id).transpose()).collect()
}

/// One poll on the store thread: nothing when no other process committed since `version`.
fn read_poll(
    store: &mut Store,
    cursor: i64,
    version: i64,
    force: bool,
    followed: &[PlanId],
) -> Result<Option<Poll>, StoreError> {
    let now = store.data_version()?;
    if now == version && !force {
        return Ok(None);
    }
    // The rows and the plans as of one moment, so the plans are what the rows left.
    store.read_consistently(|store| {
        let rows = store.events_after(cursor, ROWS_PER_POLL)?;
        let mut plans = HashMap::new();
        let named = rows.iter().map(|row| &row.event.plan_id).chain(followed);
        for id in named {
            if !plans.contains_key(id) {
                plans.insert(id.clone(), store.get_plan(id)?);
            }
        }
        let more = rows.len() == ROWS_PER_POLL;
        Ok(Some(Poll { version: now, rows, plans, more }))
    })
}

impl TailInner {
    fn stop_polling(&self, error: &StoreError) {
        tracing::warn!(%error, "stopped following other processes' runs");
        let mut state = lock(&self.state);
        state.polling = false;
        state.watchers.clear();
        state.runs.clear();
    }

    /// Whether anyone still follows; when not, the loop ends (atomically with `polling`).
    fn still_followed(&self) -> bool {
        let mut state = lock(&self.state);
        state.watchers.retain(|watcher| !watcher.is_closed());
        let watched = !state.watchers.is_empty();
        state.runs.retain(|_, run| {
            run.followers.retain(|follower| !follower.is_closed());
            watched || !run.followers.is_empty()
        });
        let followed = watched || !state.runs.is_empty();
        if !followed {
            state.polling = false;
        }
        followed
    }

    fn follows_runs(&self) -> bool {
        !lock(&self.state).runs.is_empty()
    }

    fn followed_plans(&self) -> Vec<PlanId> {
        lock(&self.state).runs.values().map(|run| run.plan_id.clone()).collect()
    }

    /// Starts following `plan`'s current run (another process's), announced to every watcher.
    fn discover(&self, state: &mut TailState, plan: &Plan, progress: Progress) {
        if let Some(run_id) = plan.run_id.clone() {
            self.track(state, plan, run_id, progress);
        }
    }

    /// Starts following the run `run_id` of `plan`, announced to every watcher; nothing when it is
    /// followed already, has ended, or is this process's.
    fn track(&self, state: &mut TailState, plan: &Plan, run_id: RunId, progress: Progress) {
        if state.runs.contains_key(&run_id)
            || state.ended.contains_key(&run_id)
            || lock(&self.local_runs).contains(&run_id)
        {
            return;
        }
        let mut run = ForeignRun::of(plan);
        run.progress = progress;
        state.watchers.retain(|watcher| !watcher.is_closed());
        for watcher in &state.watchers {
            let _ = watcher.send(run.add_follower(&run_id));
        }
        state.runs.insert(run_id, run);
    }

    /// Turns the polled rows into events, in order, and ends the runs that ended. Each event's
    /// progress is its plan's as read with the rows, taken back over the rows after it.
    fn apply(&self, polled: &Poll) {
        let mut state = lock(&self.state);
        let local = lock(&self.local_runs).clone();
        let mut progress: HashMap<&PlanId, Progress> = HashMap::new();
        for (plan_id, plan) in &polled.plans {
            if let Some(plan) = plan {
                let rows = polled.rows.iter().map(|logged| &logged.event).filter(|row| &row.plan_id == plan_id);
                progress.insert(plan_id, derive::progress_before(plan.progress(), rows));
            }
        }
        for logged in &polled.rows {
            let row = &logged.event;
            let Some(Some(plan)) = polled.plans.get(&row.plan_id) else { continue };
            let current = progress.entry(&row.plan_id).or_insert_with(|| plan.progress());
            if let Some((from, to)) = derive::shift_of(row) {
                current.shift(from, to);
            }
            let current = *current;
            let Some(run_id) = &row.run_id else { continue };
            if local.contains(run_id) || state.ended.contains_key(run_id) {
                continue;
            }
            if !state.runs.contains_key(run_id) {
                let running = plan.status == PlanStatus::Running;
                if plan.run_id.as_ref() != Some(run_id) || !(derive::starts_run(row) || running) {
                    continue;
                }
                self.discover(&mut state, plan, current);
            }
            let Some(run) = state.runs.get_mut(run_id) else { continue };
            run.progress = current;
            if derive::ends_run(row) {
                let status = row.to_status.as_deref().and_then(PlanStatus::parse).unwrap_or(plan.status);
                if plan.run_id.as_ref() == Some(run_id) {
                    run.progress = plan.progress();
                }
                let finished = derive::finished(plan, status);
                run.emit(run_id, row.at, finished.clone());
                end(&mut state, run_id, finished);
                continue;
            }
            if let Some(kind) = derive::subtask_event(row, plan) {
                run.emit(run_id, row.at, kind);
            }
        }
        // A followed run that ended without a row this tail saw (it began following late).
        let stale: Vec<RunId> = state
            .runs
            .iter()
            .filter(|(run_id, run)| match polled.plans.get(&run.plan_id) {
                Some(Some(plan)) => plan.run_id.as_ref() != Some(*run_id) || plan.status != PlanStatus::Running,
                Some(None) => true,
                None => false, // Not looked at by this poll (followed after it read).
            })
            .map(|(run_id, _)| run_id.clone())
            .collect();
        for run_id in stale {
            let Some(run) = state.runs.get_mut(&run_id) else { continue };
            let plan = polled.plans.get(&run.plan_id).and_then(Option::as_ref);
            let status = plan
                .filter(|plan| plan.run_id.as_ref() == Some(&run_id) && plan.status != PlanStatus::Running)
                .map_or(PlanStatus::Interrupted, |plan| plan.status);
            let finished = match plan {
                Some(plan) => {
                    run.progress = plan.progress();
                    derive::finished(plan, status)
                }
                None => RunEventKind::PlanFinished { status, duration_ms: 0, usage: Default::default(), summary: None },
            };
            run.emit(&run_id, Timestamp::now(), finished.clone());
            end(&mut state, &run_id, finished);
        }
    }
}

/// Forgets an ended run (its followers' queues end after the `planFinished` they were sent),
/// remembering how it ended.
fn end(state: &mut TailState, run_id: &RunId, finished: RunEventKind) {
    state.runs.remove(run_id);
    if state.ended.len() >= ENDED_REMEMBERED {
        state.ended.clear();
    }
    state.ended.insert(run_id.clone(), finished);
}
