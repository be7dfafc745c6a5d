//! Records to xlsx to S3: the queue, the record source, the workbook and the worker that ties
//! them together. `export-enqueue` fills the queue; `export-worker` tasks empty it.

pub mod config;
pub mod enqueue;
pub mod excel_limits;
pub mod form;
pub mod queue;
pub mod records;
pub mod workbook;
pub mod worker;

use crate::calendar::Period;
use crate::storage::{KeyPrefix, KeySegment, ObjectKey};

/// The content type every workbook is stored with.
pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

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
    /// The job can never succeed as it is (its tenant slug cannot be a folder of an object key):
    /// failed at once, its other attempts not spent on waiting.
    #[error(transparent)]
    Invalid(anyhow::Error),
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

/// The one place an export's object key is made: `{prefix}{tenant slug}/form-{id}/{period}.xlsx`.
/// Deterministic, so a re-run overwrites the same object instead of adding a second one. The slug
/// is used as it is (spaces, Japanese text); a slug that cannot be one segment of a key (empty,
/// `.`, `..`, a `/`, ...) fails the job instead of writing anywhere else.
pub fn object_key(
    prefix: &KeyPrefix,
    tenant_slug: &str,
    form_id: i64,
    period: &Period,
) -> anyhow::Result<ObjectKey> {
    let tenant = KeySegment::new(tenant_slug).map_err(|why| {
        anyhow::anyhow!(
            "the tenant slug {tenant_slug:?} cannot be a folder of an object key: it {why}"
        )
    })?;
    let fixed = |text: String| KeySegment::new(&text).expect("made of digits, dashes and letters");
    Ok(ObjectKey::new(
        prefix,
        [
            tenant,
            fixed(format!("form-{form_id}")),
            fixed(format!("{}.xlsx", period.label())),
        ],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix(raw: &str) -> KeyPrefix {
        KeyPrefix::parse(raw).unwrap()
    }

    #[test]
    fn object_keys_are_deterministic_and_keep_the_slug_as_it_is() {
        let day = Period::day("2026-11-20".parse().unwrap());
        let key = |slug| {
            object_key(&prefix("exports/"), slug, 12, &day)
                .unwrap()
                .to_string()
        };
        assert_eq!(key("acme"), "exports/acme/form-12/2026-11-20.xlsx");
        assert_eq!(
            key("東京 支社"),
            "exports/東京 支社/form-12/2026-11-20.xlsx"
        );
        let month = Period::month(2026, 11).unwrap();
        assert_eq!(
            object_key(&prefix(""), "acme", 3, &month)
                .unwrap()
                .to_string(),
            "acme/form-3/2026-11.xlsx"
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

    #[test]
    fn a_slug_that_is_not_one_segment_fails_naming_the_slug() {
        let day = Period::day("2026-11-20".parse().unwrap());
        for slug in ["", ".", "..", "a/../b", "a\\b", "x\n"] {
            let error = object_key(&prefix("exports/"), slug, 7, &day).unwrap_err();
            assert!(error.to_string().contains(&format!("{slug:?}")), "{error}");
        }
    }
}
