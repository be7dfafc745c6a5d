//! `EXPORT_*`: the export's own configuration, read with the shared machinery so that its
//! problems are reported with every other group's.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::config::DatabaseConfig;
use crate::config::settings::{
    Bounded, DAY, HOUR, Problems, SECOND, Setting, Var, Within, field_names, read,
};
use crate::storage::{KeyPrefix, StorageConfig};

/// `EXPORT_*`: the records-to-xlsx export.
#[derive(Debug, Clone)]
pub struct ExportConfig {
    /// `EXPORT_TENANT_ALLOWLIST`: tenants (slugs) and `group:NAME` rollout groups that
    /// `export-enqueue` considers; empty means every tenant.
    pub tenant_allowlist: Vec<AllowEntry>,
    /// `EXPORT_CONCURRENCY`: jobs one worker task exports at once.
    pub concurrency: usize,
    /// `EXPORT_LEASE`: how long a claimed job stays a worker's without a heartbeat.
    pub lease: Duration,
    /// `EXPORT_MAX_ATTEMPTS`: attempts of a job before it is marked failed.
    pub max_attempts: u32,
    /// `EXPORT_RETRY_BASE`: first retry delay; doubled per attempt, with jitter.
    pub retry_base: Duration,
    /// `EXPORT_ZIP_LEVEL`: deflate level of the workbook (0-9).
    pub zip_level: u8,
    /// `EXPORT_TEMP_DIR`: where workbooks are assembled (needs about 700 MB per million rows).
    pub temp_dir: Option<PathBuf>,
    /// `EXPORT_PREFIX`: key prefix inside the bucket (or the directory).
    pub prefix: KeyPrefix,
    /// Where workbooks go: `EXPORT_BUCKET` (unset means the local directory `EXPORT_LOCAL_DIR`,
    /// `$BATCH_DATA_DIR` if unset), `EXPORT_S3_FORCE_PATH_STYLE`, `EXPORT_KMS_KEY_ID`.
    pub storage: StorageConfig,
}

/// One entry of `EXPORT_TENANT_ALLOWLIST`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowEntry {
    Tenant(String),
    Group(String),
}

/// An S3 bucket name, checked against S3's naming rules so a typo fails before any export.
#[derive(Debug, Clone)]
struct BucketName(String);

impl Setting for BucketName {
    fn parse(raw: &str) -> Result<Self, String> {
        let valid_chars = raw
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
        let valid_ends = raw.starts_with(|c: char| c.is_ascii_alphanumeric())
            && raw.ends_with(|c: char| c.is_ascii_alphanumeric());
        if (3..=63).contains(&raw.len()) && valid_chars && valid_ends {
            Ok(BucketName(raw.to_owned()))
        } else {
            Err(
                "expected an S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens"
                    .into(),
            )
        }
    }
}

/// `EXPORT_PREFIX`: checked with the same rules as every other part of an object key.
impl Setting for KeyPrefix {
    fn parse(raw: &str) -> Result<Self, String> {
        KeyPrefix::parse(raw).map_err(|why| {
            format!("expected a relative key prefix such as exports/ or a/b/, whose every part is a plain name (a part {why})")
        })
    }
}

/// Comma-separated tenant slugs and `group:NAME` entries.
impl Setting for Vec<AllowEntry> {
    fn parse(raw: &str) -> Result<Self, String> {
        raw.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| match entry.strip_prefix("group:") {
                Some("") => Err("`group:` needs a group name, e.g. group:beta".to_string()),
                Some(group) => Ok(AllowEntry::Group(group.to_owned())),
                None => Ok(AllowEntry::Tenant(entry.to_owned())),
            })
            .collect()
    }
}

/// `EXPORT_LEASE`: a heartbeat renews it every third of it, so below 2 s a slow query would let
/// another lane take a job that is still being worked on.
type Lease = Within<{ 2 * SECOND }, DAY>;
/// `EXPORT_RETRY_BASE`: doubled per attempt, so an hour already means days between late retries.
type RetryBase = Within<10, HOUR>;

#[derive(Deserialize)]
struct ExportVars {
    #[serde(default)]
    tenant_allowlist: Var<Vec<AllowEntry>>,
    #[serde(default)]
    concurrency: Var<Bounded<1, 16>>,
    #[serde(default)]
    lease: Var<Lease>,
    #[serde(default)]
    max_attempts: Var<Bounded<1, 20>>,
    #[serde(default)]
    retry_base: Var<RetryBase>,
    #[serde(default)]
    zip_level: Var<Bounded<0, 9>>,
    #[serde(default)]
    temp_dir: Var<PathBuf>,
    #[serde(default)]
    bucket: Var<BucketName>,
    #[serde(default)]
    prefix: Var<KeyPrefix>,
    #[serde(default)]
    kms_key_id: Var<String>,
    #[serde(default)]
    s3_force_path_style: Var<bool>,
    #[serde(default)]
    local_dir: Var<PathBuf>,
}

impl ExportConfig {
    /// The names this group reads after `EXPORT_`, for the unknown-variable check.
    pub(crate) fn variables() -> &'static [&'static str] {
        field_names::<ExportVars>()
    }

    /// Reads `EXPORT_*`, adding every problem to `p`; `None` when envy could not read the group
    /// at all. `data_dir` is the default of `EXPORT_LOCAL_DIR`.
    pub(crate) fn from_vars(
        vars: &[(String, String)],
        data_dir: &Path,
        p: &mut Problems,
    ) -> Option<ExportConfig> {
        let export: ExportVars = read("EXPORT_", vars, p)?;
        Some(ExportConfig {
            tenant_allowlist: p.or_default(
                "EXPORT_TENANT_ALLOWLIST",
                export.tenant_allowlist,
                Vec::new(),
            ),
            concurrency: p
                .or_default("EXPORT_CONCURRENCY", export.concurrency, Bounded(2))
                .0 as usize,
            lease: p
                .or_default(
                    "EXPORT_LEASE",
                    export.lease,
                    Within(Duration::from_secs(300)),
                )
                .0,
            max_attempts: p
                .or_default("EXPORT_MAX_ATTEMPTS", export.max_attempts, Bounded(3))
                .0,
            retry_base: p
                .or_default(
                    "EXPORT_RETRY_BASE",
                    export.retry_base,
                    Within(Duration::from_secs(30)),
                )
                .0,
            zip_level: p
                .or_default("EXPORT_ZIP_LEVEL", export.zip_level, Bounded(3))
                .0 as u8,
            temp_dir: p.optional("EXPORT_TEMP_DIR", export.temp_dir),
            prefix: p.or_default(
                "EXPORT_PREFIX",
                export.prefix,
                KeyPrefix::parse("exports/").expect("the default prefix is valid"),
            ),
            storage: StorageConfig {
                bucket: p.optional("EXPORT_BUCKET", export.bucket).map(|b| b.0),
                kms_key_id: p.optional("EXPORT_KMS_KEY_ID", export.kms_key_id),
                s3_force_path_style: p.or_default(
                    "EXPORT_S3_FORCE_PATH_STYLE",
                    export.s3_force_path_style,
                    false,
                ),
                local_dir: p.or_default(
                    "EXPORT_LOCAL_DIR",
                    export.local_dir,
                    data_dir.to_path_buf(),
                ),
            },
        })
    }

    /// What a run of a batch that writes exports needs besides valid variables. On ECS a missing
    /// bucket would send workbooks to the task's throwaway disk, so it is a configuration error
    /// like a missing DATABASE_URL.
    pub(crate) fn check_for_run(&self, database: &DatabaseConfig, on_ecs: bool, p: &mut Problems) {
        if on_ecs && self.storage.bucket.is_none() {
            p.add(
                "EXPORT_BUCKET",
                "is missing; it is required on ECS (the local export directory is for local runs only)".into(),
            );
        }
        // Each lane holds a connection for as long as it streams a job's records; lease renewals,
        // claims and the run's own bookkeeping need one more. With fewer, heartbeats wait for a
        // connection until leases expire and jobs are taken over or stranded.
        let lanes = self.concurrency as u32;
        if lanes + 1 > database.max_connections {
            p.add(
                "DATABASE_MAX_CONNECTIONS",
                format!(
                    "is {}, too small for EXPORT_CONCURRENCY={lanes}: the worker needs one connection \
                     per lane plus one (at least {}); raise DATABASE_MAX_CONNECTIONS or lower EXPORT_CONCURRENCY",
                    database.max_connections,
                    lanes + 1
                ),
            );
        }
    }
}
