//! Records to xlsx to S3: the queue, the record source, the workbook and the worker that ties
//! them together. `export-enqueue` fills the queue; `export-worker` tasks empty it.

pub mod enqueue;
pub mod excel_limits;
pub mod form;
pub mod period;
pub mod queue;
pub mod records;
pub mod sample_data;
pub mod workbook;
pub mod worker;

use period::ExportPeriod;

/// Why one export attempt did not finish.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The worker is stopping (time limit, SIGTERM): the job is released, not failed.
    #[error("stopped before the export finished")]
    Stopped,
    /// Another worker took the job over after this one's lease expired.
    #[error("the job's lease was lost to another worker")]
    LeaseLost,
    /// This worker cannot export anything (the store refuses its credentials, the bucket is
    /// missing, the temporary disk is full or not writable): the job is released, its attempt not
    /// counted, and the worker stops. Retrying elsewhere, after a fix, is the job's due.
    #[error("this worker cannot export: {0:#}")]
    Refused(anyhow::Error),
    /// The database connection broke during the export (a restart, a failover): the job is
    /// released once the database answers again, its attempt not counted.
    #[error("the database connection broke during the export: {0:#}")]
    Disconnected(anyhow::Error),
    /// The job's own problem, or a transient one (S3 5xx, a timeout): retried with backoff
    /// until its last attempt, then the job is failed.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl JobError {
    /// Sorts an export error by whose fault it is: the worker's environment, the database
    /// connection, or the job (the default).
    pub fn classify(error: anyhow::Error) -> JobError {
        if is_refusal(&error) {
            JobError::Refused(error)
        } else if crate::db::reconnect::is_disconnect(&error) {
            JobError::Disconnected(error)
        } else {
            JobError::Failed(error)
        }
    }
}

/// A store's refusal, or a disk that refuses this process (full, read-only, no permission).
fn is_refusal(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.is::<crate::storage::Refused>()
            || cause
                .downcast_ref::<std::io::Error>()
                .is_some_and(crate::storage::io_refused)
    })
}

/// The one place an export's object key is made: `{prefix}{tenant}/form-{id}/{period}.xlsx`.
/// Deterministic, so a re-run overwrites the same object instead of adding a second one.
pub fn object_key(prefix: &str, tenant_slug: &str, form_id: i64, period: &ExportPeriod) -> String {
    let tenant: String = tenant_slug
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{prefix}{tenant}/form-{form_id}/{}.xlsx", period.label())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_keys_are_deterministic_and_safe() {
        let day = ExportPeriod::day("2026-11-20".parse().unwrap());
        assert_eq!(
            object_key("exports/", "acme", 12, &day),
            "exports/acme/form-12/2026-11-20.xlsx"
        );
        let month = ExportPeriod::month(2026, 11).unwrap();
        assert_eq!(
            object_key("", "a/../b", 3, &month),
            "a_.._b/form-3/2026-11.xlsx"
        );
    }

    #[test]
    fn a_full_disk_or_a_refusing_store_is_the_worker_fault_and_bad_data_is_the_job() {
        let full = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::StorageFull))
            .context("writing the workbook");
        assert!(matches!(JobError::classify(full), JobError::Refused(_)));
        let denied = anyhow::Error::new(crate::storage::Refused("AccessDenied".into()));
        assert!(matches!(JobError::classify(denied), JobError::Refused(_)));
        let gone = anyhow::Error::new(sqlx::Error::Io(std::io::ErrorKind::BrokenPipe.into()))
            .context("reading records");
        assert!(matches!(
            JobError::classify(gone),
            JobError::Disconnected(_)
        ));
        let data = anyhow::anyhow!("job 3: unknown time zone `Mars/Olympus`");
        assert!(matches!(JobError::classify(data), JobError::Failed(_)));
    }
}
