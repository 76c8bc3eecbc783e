//! The threads that start steps. Starting a child waits for it to reach `exec` (`launch`), and
//! on a busy machine that wait is mostly the child's wait for a CPU: done on the runtime's
//! workers it would stall every other task, and done one at a time it would cap how fast steps
//! start. So starts run here, side by side, on plain threads that live as long as the server —
//! a step's parent-death signal follows the thread that started it, so that thread must never
//! end while the step runs (the blocking pool's threads end when idle).
//!
//! A thread is added when every one is busy, up to [`MAX_STARTERS`]; past that, starts queue.

use std::collections::VecDeque;
use std::sync::{Condvar, LazyLock, Mutex};

/// Starts that may wait for their child side by side.
const MAX_STARTERS: usize = 16;

type Job = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    threads: usize,
    idle: usize,
}

struct Starters {
    queue: Mutex<Queue>,
    work: Condvar,
}

static STARTERS: LazyLock<Starters> =
    LazyLock::new(|| Starters { queue: Mutex::new(Queue::default()), work: Condvar::new() });

/// Runs `start` on a starter thread and returns its result (`None` when it panicked). When no
/// thread can be made, it runs on the calling thread instead.
pub async fn on_starter_thread<T: Send + 'static>(start: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        // A dropped receiver (the step was abandoned) drops the result: a child is killed then.
        let _ = sender.send(start());
    });
    let rejected = {
        let mut queue = STARTERS.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        queue.jobs.push_back(job);
        if queue.jobs.len() > queue.idle && queue.threads < MAX_STARTERS {
            match std::thread::Builder::new().name("codelab-start".into()).spawn(serve) {
                Ok(_) => {
                    queue.threads += 1;
                    None
                }
                Err(error) if queue.threads == 0 => {
                    tracing::warn!(%error, "cannot make a thread to start steps; starting on the caller's");
                    queue.jobs.pop_back()
                }
                Err(_) => None,
            }
        } else {
            None
        }
    };
    STARTERS.work.notify_one();
    if let Some(job) = rejected {
        job();
    }
    // The job always sends, unless it panicked.
    receiver.await.ok()
}

/// A starter thread's life: take the next start, run it, wait for more; never ends.
fn serve() {
    let starters = &*STARTERS;
    let mut queue = starters.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    loop {
        if let Some(job) = queue.jobs.pop_front() {
            drop(queue);
            // A panic in one start must not end the thread (its steps would die with it).
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            queue = starters.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            continue;
        }
        queue.idle += 1;
        queue = starters.work.wait(queue).unwrap_or_else(std::sync::PoisonError::into_inner);
        queue.idle -= 1;
    }
}
