//! How a run ends: its `batch_runs` row completed (within a bound, so a stop ends in time) and
//! its one `run finished` line, whose level follows the status.

use chrono::Utc;

use super::history::{self, Ending};
use super::status::{RunStatus, exit_code};
use super::{CLOSE_TIMEOUT, RECORD_TIMEOUT, Recording, Run};
use crate::db::Db;
use crate::telemetry::RUN;

impl Run {
    /// Records and logs the end of a run that reached its database.
    pub(super) async fn end(
        self,
        db: &Db,
        recording: Recording,
        status: RunStatus,
        error: Option<String>,
    ) -> u8 {
        let ending = Ending {
            status,
            finished_at: Utc::now(),
            exit_code: match status {
                RunStatus::Failed if self.misconfigured => exit_code::USAGE,
                _ => status.exit_code(),
            },
            counts: self.counts.snapshot(),
            error,
        };
        let recorded = async {
            match recording {
                Recording::Started => history::record_end(db, &self.new_run.run_id, &ending).await,
                Recording::AtEnd => history::record_whole(db, &self.new_run, &ending).await,
            }
        };
        match tokio::time::timeout(RECORD_TIMEOUT, recorded).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(target: RUN,
                error = format!("{e:#}"),
                "could not record the end of the run in batch_runs"
            ),
            Err(_) => {
                tracing::error!(target: RUN, "recording the end of the run in batch_runs timed out")
            }
        }
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, db.close()).await;
        self.log_finished(&ending)
    }

    /// Ends a run that has no database to record in (bad configuration, unreachable database):
    /// the log line is all that remains of it.
    pub(super) fn end_unrecorded(self, code: u8, error: String) -> u8 {
        let ending = Ending {
            status: RunStatus::Failed,
            finished_at: Utc::now(),
            exit_code: code,
            counts: self.counts.snapshot(),
            error: Some(error),
        };
        self.log_finished(&ending)
    }

    fn log_finished(&self, ending: &Ending) -> u8 {
        let duration_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let counts = serde_json::to_string(&ending.counts).unwrap_or_default();
        let status = ending.status.as_str();
        let exit_code = ending.exit_code;
        let error = ending.error.as_deref();
        match ending.status {
            RunStatus::Succeeded | RunStatus::Skipped | RunStatus::Running => {
                tracing::info!(target: RUN, status, exit_code, duration_ms, counts, "run finished")
            }
            RunStatus::Interrupted => {
                tracing::warn!(target: RUN,
                    status,
                    exit_code,
                    duration_ms,
                    counts,
                    error,
                    "run finished"
                )
            }
            RunStatus::Failed | RunStatus::TimedOut => {
                tracing::error!(target: RUN,
                    status,
                    exit_code,
                    duration_ms,
                    counts,
                    error,
                    "run finished"
                )
            }
        }
        exit_code
    }
}
