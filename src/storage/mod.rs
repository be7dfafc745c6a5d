//! Where finished workbooks go: S3 in production, a local directory on the embedded default.
//! Both write a key completely or not at all, and writing the same key again replaces it.

pub mod key;
mod local;
mod s3;

use std::path::Path;

use crate::config::ExportConfig;
use crate::runtime::stop::Stop;

pub use key::{KeyError, KeyPrefix, KeySegment, ObjectKey};
pub use local::LocalStorage;
pub use s3::{PART_SIZE, S3Storage};

pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[derive(Debug, Clone)]
pub enum Storage {
    S3(S3Storage),
    Local(LocalStorage),
}

impl Storage {
    /// S3 when `EXPORT_BUCKET` is set, else the local directory.
    pub async fn from_config(config: &ExportConfig) -> Storage {
        match &config.bucket {
            Some(bucket) => Storage::S3(S3Storage::new(bucket, config).await),
            None => Storage::Local(LocalStorage::new(&config.local_dir)),
        }
    }

    /// Stores `file` under `key`; returns its size in bytes.
    pub async fn put_file(&self, key: &ObjectKey, file: &Path, stop: &Stop) -> anyhow::Result<u64> {
        match self {
            Storage::S3(s3) => s3.put_file(key.as_str(), file, stop).await,
            Storage::Local(local) => local.put_file(key, file).await,
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
