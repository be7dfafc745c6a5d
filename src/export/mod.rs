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
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
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
}
