//! The batch's work under the runtime: a panic becomes its error, and the time limit and
//! signals ask it to stop, then abandon it after its grace.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures_util::FutureExt;

use super::RunFuture;
use super::panics;
use super::status::RunStatus;
use super::stop::{Signals, Stop, StopReason};
use crate::telemetry::RUN;

/// A panic in the batch's work becomes its error, so the run is recorded and logged as `failed`
/// instead of the process dying with its history row `running`.
pub(super) fn unwind_into_error(work: RunFuture) -> RunFuture {
    Box::pin(AssertUnwindSafe(work).catch_unwind().map(|result| {
        result.unwrap_or_else(|payload| {
            Err(anyhow::anyhow!(
                "the batch panicked: {}",
                panics::message(payload.as_ref())
            ))
        })
    }))
}

/// Runs the batch's work until it ends, its time limit passes, or a signal arrives. On a stop,
/// the batch gets `grace` to release what it holds; then its work is dropped.
pub(super) async fn drive(
    work: RunFuture,
    time_limit: Duration,
    grace: Duration,
    stop: &Stop,
    signals: &mut Signals,
) -> (RunStatus, Option<String>) {
    let mut work = work;
    let reason = tokio::select! {
        result = &mut work => {
            return match result {
                Ok(()) => (RunStatus::Succeeded, None),
                Err(e) => {
                    let error = format!("{e:#}");
                    tracing::error!(target: RUN, error, "batch failed");
                    (RunStatus::Failed, Some(error))
                }
            };
        }
        _ = tokio::time::sleep(time_limit) => StopReason::TimedOut,
        signal = signals.next() => StopReason::Interrupted(signal),
    };
    let (status, why) = match reason {
        StopReason::TimedOut => (
            RunStatus::TimedOut,
            format!(
                "time limit of {} reached",
                humantime::format_duration(time_limit)
            ),
        ),
        StopReason::Interrupted(signal) => (RunStatus::Interrupted, format!("stopped by {signal}")),
    };
    tracing::warn!(target: RUN,
        reason = why,
        grace_secs = grace.as_secs(),
        "asking the batch to stop: it stops taking new work and releases what it holds"
    );
    stop.request(reason);
    let error = tokio::select! {
        result = &mut work => match result {
            Ok(()) => why,
            Err(e) => format!("{why}; the batch then reported: {e:#}"),
        },
        _ = tokio::time::sleep(grace) => {
            tracing::warn!(target: RUN, "the batch did not stop within its grace period; abandoning its work");
            format!("{why}; the batch did not stop within {}s", grace.as_secs())
        }
        signal = signals.next() => {
            tracing::warn!(target: RUN, signal, "second signal: not waiting for the batch any longer");
            format!("{why}; abandoned on a second {signal}")
        }
    };
    (status, Some(error))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never_stops() -> RunFuture {
        Box::pin(std::future::pending())
    }

    #[tokio::test]
    async fn a_batch_that_ignores_the_stop_request_is_abandoned_after_its_grace() {
        let mut signals = Signals::install().unwrap();
        let stop = Stop::default();
        let started = std::time::Instant::now();
        let (status, error) = drive(
            never_stops(),
            Duration::from_millis(50),
            Duration::from_millis(200),
            &stop,
            &mut signals,
        )
        .await;
        assert_eq!(status, RunStatus::TimedOut);
        assert!(stop.is_requested());
        assert!(error.unwrap().contains("did not stop within"));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn a_batch_error_after_a_stop_keeps_the_stop_status_and_both_reasons() {
        let mut signals = Signals::install().unwrap();
        let stop = Stop::default();
        let watcher = stop.clone();
        let work: RunFuture = Box::pin(async move {
            watcher.requested().await;
            anyhow::bail!("could not release the job")
        });
        let (status, error) = drive(
            work,
            Duration::from_millis(10),
            Duration::from_secs(5),
            &stop,
            &mut signals,
        )
        .await;
        assert_eq!(status, RunStatus::TimedOut);
        let error = error.unwrap();
        assert!(
            error.contains("time limit") && error.contains("could not release the job"),
            "{error}"
        );
    }
}
