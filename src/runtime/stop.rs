//! Stop requests: the time limit or a signal asks the batch to stop taking new work and release
//! what it holds. Batches poll `is_requested` between units of work or await `requested`.

use std::sync::{Arc, OnceLock};

use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    TimedOut,
    /// The name of the signal received (`SIGTERM` from ECS, `SIGINT` from a terminal).
    Interrupted(&'static str),
}

/// Shared by the runtime (which requests) and the batch (which obeys).
#[derive(Debug, Clone, Default)]
pub struct Stop {
    token: CancellationToken,
    reason: Arc<OnceLock<StopReason>>,
}

impl Stop {
    pub fn is_requested(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Completes once a stop is requested.
    pub async fn requested(&self) {
        self.token.cancelled().await
    }

    pub fn reason(&self) -> Option<StopReason> {
        self.reason.get().copied()
    }

    /// Asks the work to stop (the runtime does, on the time limit or a signal). The first reason
    /// wins: a SIGTERM after the time limit does not rewrite history.
    pub fn request(&self, reason: StopReason) {
        let _ = self.reason.set(reason);
        self.token.cancel();
    }
}

/// SIGTERM and SIGINT, installed when a run starts so neither kills the process outright.
pub struct Signals {
    term: Signal,
    int: Signal,
}

impl Signals {
    pub fn install() -> std::io::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// Waits for the next signal and names it.
    pub async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}
