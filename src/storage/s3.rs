//! S3 through aws-sdk-s3 with the default credential chain (the ECS task role in production;
//! `AWS_ENDPOINT_URL` and `EXPORT_S3_FORCE_PATH_STYLE` for a local S3 server).
//!
//! Small files go up in one PUT. Larger ones go up as a multipart upload, which S3 only makes
//! visible on completion; if any part fails (or the worker is asked to stop), the upload is
//! aborted so no half-done upload is left behind. An upload orphaned by a killed process stays
//! invisible and is removed by the bucket's lifecycle rule.

use std::path::Path;

use anyhow::{Context, bail};
use aws_sdk_s3::Client;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, ServerSideEncryption};
use tokio::io::AsyncReadExt;

use super::{Refused, StorageConfig};
use crate::runtime::stop::Stop;

/// S3 error codes that mean this worker's credentials, permissions or bucket are wrong, whatever
/// the object: retrying another job cannot help.
const REFUSALS: [&str; 11] = [
    "AccessDenied",
    "AllAccessDisabled",
    "InvalidAccessKeyId",
    "NotSignedUp",
    "SignatureDoesNotMatch",
    "RequestTimeTooSkewed",
    "InvalidToken",
    "ExpiredToken",
    "NoSuchBucket",
    "KMS.DisabledException",
    "KMS.NotFoundException",
];

/// Files up to this size go up in one PUT; larger ones in parts of this size. 8 MiB keeps a
/// worker's memory small (one part in flight per job) and allows files up to 80 GB.
pub const PART_SIZE: usize = 8 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct S3Storage {
    client: Client,
    bucket: String,
    kms_key_id: Option<String>,
}

impl S3Storage {
    /// With the default credential chain and the `AWS_*` environment.
    pub async fn new(bucket: &str, config: &StorageConfig) -> S3Storage {
        S3Storage::with_sdk_config(bucket, &aws_config::load_from_env().await, config)
    }

    pub fn with_sdk_config(
        bucket: &str,
        shared: &aws_config::SdkConfig,
        config: &StorageConfig,
    ) -> S3Storage {
        let s3_config = aws_sdk_s3::config::Builder::from(shared)
            .force_path_style(config.s3_force_path_style)
            .build();
        S3Storage {
            client: Client::from_conf(s3_config),
            bucket: bucket.to_owned(),
            kms_key_id: config.kms_key_id.clone(),
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// An S3 error with what was attempted on which object, and the SDK's whole cause chain;
    /// a `Refused` when its code says the worker, not the object, is the problem.
    fn failed<E: std::error::Error + ProvideErrorMetadata + 'static>(
        &self,
        operation: &str,
        key: &str,
        error: E,
    ) -> anyhow::Error {
        let refused = error.code().is_some_and(|code| REFUSALS.contains(&code));
        let message = format!(
            "S3 {operation} s3://{}/{key} failed: {}",
            self.bucket,
            DisplayErrorContext(error)
        );
        if refused {
            anyhow::Error::new(Refused(message))
        } else {
            anyhow::anyhow!(message)
        }
    }

    /// Puts a one-line object at `key` with the workbooks' encryption settings, then deletes it.
    pub async fn probe(&self, key: &str) -> anyhow::Result<()> {
        let (sse, kms) = self.encryption();
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("text/plain")
            .set_server_side_encryption(sse)
            .set_ssekms_key_id(kms)
            .body(ByteStream::from_static(b"batchbox write probe\n"))
            .send()
            .await
            .map_err(|e| self.failed("PutObject (write probe)", key, e))?;
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| self.failed("DeleteObject (write probe)", key, e))?;
        Ok(())
    }

    fn encryption(&self) -> (Option<ServerSideEncryption>, Option<String>) {
        match &self.kms_key_id {
            Some(key) => (Some(ServerSideEncryption::AwsKms), Some(key.clone())),
            None => (None, None),
        }
    }

    pub async fn put_file(
        &self,
        key: &str,
        file: &Path,
        content_type: &str,
        stop: &Stop,
    ) -> anyhow::Result<u64> {
        let size = tokio::fs::metadata(file).await?.len();
        if size <= PART_SIZE as u64 {
            self.put_whole(key, file, content_type).await?;
        } else {
            self.put_multipart(key, file, content_type, stop).await?;
        }
        Ok(size)
    }

    async fn put_whole(&self, key: &str, file: &Path, content_type: &str) -> anyhow::Result<()> {
        let (sse, kms) = self.encryption();
        let body = ByteStream::from_path(file)
            .await
            .context("could not read the workbook")?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .set_server_side_encryption(sse)
            .set_ssekms_key_id(kms)
            .body(body)
            .send()
            .await
            .map_err(|e| self.failed("PutObject", key, e))?;
        Ok(())
    }

    async fn put_multipart(
        &self,
        key: &str,
        file: &Path,
        content_type: &str,
        stop: &Stop,
    ) -> anyhow::Result<()> {
        let (sse, kms) = self.encryption();
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .set_server_side_encryption(sse)
            .set_ssekms_key_id(kms)
            .send()
            .await
            .map_err(|e| self.failed("CreateMultipartUpload", key, e))?;
        let upload_id = created
            .upload_id()
            .context("S3 returned no upload id")?
            .to_owned();
        let result = self.upload_parts(key, &upload_id, file, stop).await;
        if result.is_err() {
            let aborted = self
                .client
                .abort_multipart_upload()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(&upload_id)
                .send()
                .await;
            match aborted {
                Ok(_) => tracing::info!(key, upload_id, "multipart upload aborted"),
                Err(e) => tracing::warn!(
                    key,
                    upload_id,
                    error = %DisplayErrorContext(e),
                    "could not abort the multipart upload; the bucket's lifecycle rule will remove it"
                ),
            }
        }
        result
    }

    async fn upload_parts(
        &self,
        key: &str,
        upload_id: &str,
        file: &Path,
        stop: &Stop,
    ) -> anyhow::Result<()> {
        let mut reader = tokio::fs::File::open(file).await?;
        let mut parts = Vec::new();
        for number in 1.. {
            if stop.is_requested() {
                bail!("stopped during the upload");
            }
            let mut part = Vec::with_capacity(PART_SIZE);
            (&mut reader)
                .take(PART_SIZE as u64)
                .read_to_end(&mut part)
                .await?;
            if part.is_empty() {
                break;
            }
            let uploaded = self
                .client
                .upload_part()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(upload_id)
                .part_number(number)
                .body(ByteStream::from(part))
                .send()
                .await
                .map_err(|e| self.failed(&format!("UploadPart {number} of"), key, e))?;
            parts.push(
                CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(uploaded.e_tag().map(str::to_owned))
                    .build(),
            );
        }
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| self.failed("CompleteMultipartUpload", key, e))?;
        Ok(())
    }
}
