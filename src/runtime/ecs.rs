//! The ECS task ARN of this run, from the task metadata endpoint v4 that ECS announces in
//! `ECS_CONTAINER_METADATA_URI_V4`. It links a history row to the task in the ECS console.
//!
//! The endpoint is plain HTTP on a link-local address; one GET with HTTP/1.0 (no chunked
//! encoding) is all it takes, so no HTTP client library is pulled in for it.

use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Never delays a run by more than this.
const TIMEOUT: Duration = Duration::from_secs(2);

/// The task ARN, or `None` when not on ECS; a broken endpoint is logged and does not fail the run.
pub async fn task_arn(metadata_uri: Option<&str>) -> Option<String> {
    let uri = metadata_uri?;
    match tokio::time::timeout(TIMEOUT, fetch_task_arn(uri)).await {
        Ok(Ok(arn)) => Some(arn),
        Ok(Err(e)) => {
            tracing::warn!(
                error = format!("{e:#}"),
                "could not read the ECS task ARN; continuing without it"
            );
            None
        }
        Err(_) => {
            tracing::warn!(
                "the ECS task metadata endpoint did not answer in time; continuing without the task ARN"
            );
            None
        }
    }
}

async fn fetch_task_arn(uri: &str) -> anyhow::Result<String> {
    let rest = uri
        .strip_prefix("http://")
        .context("ECS_CONTAINER_METADATA_URI_V4 is not an http:// URL")?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let path = format!("/{}/task", path.trim_end_matches('/'));
    let path = path.replace("//", "/");

    let mut stream = TcpStream::connect(authority).await?;
    let request =
        format!("GET {path} HTTP/1.0\r\nHost: {authority}\r\nAccept: application/json\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;

    let text = String::from_utf8_lossy(&response);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .context("malformed HTTP response")?;
    let status_line = head.lines().next().unwrap_or_default();
    if status_line.split_whitespace().nth(1) != Some("200") {
        bail!("task metadata endpoint answered `{status_line}`");
    }
    let task: serde_json::Value =
        serde_json::from_str(body).context("task metadata is not JSON")?;
    task.get("TaskARN")
        .and_then(|arn| arn.as_str())
        .map(str::to_owned)
        .context("task metadata has no TaskARN")
}
