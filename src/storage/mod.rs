//! Where finished files (the export's workbooks) go: S3 in production, a local directory on the
//! embedded default. Both write a key completely or not at all, and writing the same key again
//! replaces it. Storage knows nothing of what it stores: its callers name the key, the file and
//! the content type.

pub mod key;
mod local;
mod s3;

use std::path::{Path, PathBuf};

use crate::runtime::stop::Stop;

pub use key::{KeyError, KeyPrefix, KeySegment, ObjectKey};
pub use local::LocalStorage;
pub use s3::{PART_SIZE, S3Storage};

/// Where storage writes, as its user configured it (the export reads it from `EXPORT_*`).
#[derive(Debug, Clone)]
pub struct StorageConfig {
    /// The S3 bucket; `None` means the local directory `local_dir`.
    pub bucket: Option<String>,
    /// Path-style addressing, for local S3 servers (the endpoint is `AWS_ENDPOINT_URL`).
    pub s3_force_path_style: bool,
    /// Server-side encryption with this KMS key, if set.
    pub kms_key_id: Option<String>,
    /// The local directory's root: keys are files under it.
    pub local_dir: PathBuf,
}

/// Where the write probe goes, under the caller's prefix: `{prefix}.batchbox-probe/{run id}`.
pub const PROBE_DIR: &str = ".batchbox-probe";

/// The store refused this worker, whatever the object: denied access, bad credentials, a
/// missing bucket, a directory it may not write. No job can succeed here until the environment
/// is fixed, so callers stop instead of failing job after job.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

#[derive(Debug, Clone)]
pub enum Storage {
    S3(S3Storage),
    Local(LocalStorage),
}

impl Storage {
    /// S3 when a bucket is configured, else the local directory.
    pub async fn from_config(config: &StorageConfig) -> Storage {
        match &config.bucket {
            Some(bucket) => Storage::S3(S3Storage::new(bucket, config).await),
            None => Storage::Local(LocalStorage::new(&config.local_dir)),
        }
    }

    /// Stores `file` under `key` (with `content_type` where the store keeps one); returns its
    /// size in bytes. An error that is the store's refusal of this worker has a `Refused` in its
    /// chain.
    pub async fn put_file(
        &self,
        key: &ObjectKey,
        file: &Path,
        content_type: &str,
        stop: &Stop,
    ) -> anyhow::Result<u64> {
        match self {
            Storage::S3(s3) => s3.put_file(key.as_str(), file, content_type, stop).await,
            Storage::Local(local) => local.put_file(key, file).await,
        }
    }

    /// Proves that this worker may write under `prefix`: writes a small object at
    /// `{prefix}.batchbox-probe/{name}` the way files are written (same encryption), then
    /// deletes it, so a successful probe leaves nothing behind.
    pub async fn probe(&self, prefix: &KeyPrefix, name: &str) -> anyhow::Result<()> {
        let segment = |text: &str| {
            KeySegment::new(text).map_err(|why| anyhow::anyhow!("probe name {text:?}: it {why}"))
        };
        let key = ObjectKey::new(prefix, [segment(PROBE_DIR)?, segment(name)?]);
        match self {
            Storage::S3(s3) => s3.probe(key.as_str()).await,
            Storage::Local(local) => local.probe(&key).await,
        }
    }

    /// Where a key is, for people: `s3://bucket/key` or a file path.
    pub fn locate(&self, key: &str) -> String {
        match self {
            Storage::S3(s3) => format!("s3://{}/{key}", s3.bucket()),
            Storage::Local(local) => local.path_of(key).display().to_string(),
        }
    }
}

/// The I/O error kinds that mean the disk or directory refuses this process (no space, no
/// permission, read-only), as opposed to one file's problem.
pub const REFUSING_IO_KINDS: [std::io::ErrorKind; 5] = {
    use std::io::ErrorKind::*;
    [
        PermissionDenied,
        ReadOnlyFilesystem,
        StorageFull,
        QuotaExceeded,
        NotADirectory,
    ]
};

/// Whether an I/O error is one of `REFUSING_IO_KINDS`.
pub fn io_refused(error: &std::io::Error) -> bool {
    REFUSING_IO_KINDS.contains(&error.kind())
}
