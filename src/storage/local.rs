//! The embedded default's "bucket": a directory. Written atomically: a temporary file in the
//! same directory, then a rename, so a reader never sees half a workbook.

use std::path::{Path, PathBuf};

use anyhow::Context;

#[derive(Debug, Clone)]
pub struct LocalStorage {
    root: PathBuf,
}

impl LocalStorage {
    pub fn new(root: &Path) -> LocalStorage {
        LocalStorage {
            root: root.to_path_buf(),
        }
    }

    pub fn path_of(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    pub async fn put_file(&self, key: &str, file: &Path) -> anyhow::Result<u64> {
        let target = self.path_of(key);
        let dir = target
            .parent()
            .context("object key has no directory")?
            .to_path_buf();
        let source = file.to_path_buf();
        tokio::task::spawn_blocking(move || -> anyhow::Result<u64> {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("could not create {}", dir.display()))?;
            let partial = tempfile::NamedTempFile::new_in(&dir)?;
            std::fs::copy(&source, partial.path())
                .with_context(|| format!("could not write into {}", dir.display()))?;
            partial.as_file().sync_all()?;
            let bytes = partial.as_file().metadata()?.len();
            partial
                .persist(&target)
                .with_context(|| format!("could not move the workbook to {}", target.display()))?;
            Ok(bytes)
        })
        .await?
    }

    /// Creates the key's directory and a file in it, then removes both (the directory only if
    /// it is empty: another worker may be probing at the same time).
    pub async fn probe(&self, key: &str) -> anyhow::Result<()> {
        let dir = self
            .path_of(key)
            .parent()
            .context("probe key has no directory")?
            .to_path_buf();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            std::fs::create_dir_all(&dir).with_context(|| {
                format!("could not create {} (EXPORT_LOCAL_DIR)", dir.display())
            })?;
            tempfile::NamedTempFile::new_in(&dir)
                .with_context(|| {
                    format!("could not write into {} (EXPORT_LOCAL_DIR)", dir.display())
                })?
                .close()?;
            let _ = std::fs::remove_dir(&dir);
            Ok(())
        })
        .await?
    }
}
