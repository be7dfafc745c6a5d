//! Before a worker claims anything, it proves it can do the work: its temporary directory and
//! its store must take a file. A misconfigured worker would otherwise use up every attempt of
//! every job it claims.

use std::path::PathBuf;

use super::Worker;
use crate::runtime::status::Misconfigured;
use crate::storage::Storage;

impl Worker {
    /// The temporary directory and the store must take a file before any job is claimed: a
    /// misconfigured worker would otherwise use up every attempt of every job it claims.
    pub(super) async fn preflight(&self) -> anyhow::Result<()> {
        let temp_dir = self.temp_dir();
        let temp = tempfile::Builder::new()
            .prefix("batchbox-probe-")
            .tempfile_in(&temp_dir)
            .and_then(|mut file| std::io::Write::write_all(&mut file, b"probe"));
        if let Err(e) = temp {
            return Err(misconfigured(
                "EXPORT_TEMP_DIR",
                format!("{} is not a writable directory: {e}", temp_dir.display()),
            ));
        }
        if let Err(e) = self
            .storage
            .probe(&self.settings.prefix, &self.run_id)
            .await
        {
            let variable = match self.storage {
                Storage::S3(_) => "EXPORT_BUCKET",
                Storage::Local(_) => "EXPORT_LOCAL_DIR",
            };
            return Err(misconfigured(
                variable,
                format!(
                    "the write probe under {} failed (check the bucket, the credentials and \
                     AWS_ENDPOINT_URL, or the directory): {e:#}",
                    self.storage.locate(&self.settings.prefix.to_string())
                ),
            ));
        }
        Ok(())
    }

    pub(super) fn temp_dir(&self) -> PathBuf {
        self.settings
            .temp_dir
            .clone()
            .unwrap_or_else(std::env::temp_dir)
    }
}

/// A configuration problem found by trying: logged like the configuration check's, exit 2.
fn misconfigured(variable: &str, problem: String) -> anyhow::Error {
    tracing::error!(variable, problem, "invalid configuration");
    anyhow::Error::new(Misconfigured(format!("{variable}: {problem}")))
}
