//! The embedded default's "bucket": a directory. Written atomically: a temporary file in the
//! same directory, then a rename, so a reader never sees half a workbook.
//!
//! Nothing is ever written outside the directory, whatever the key: a key's segments cannot climb
//! (`ObjectKey`), and a symbolic link inside the directory that points elsewhere is refused too,
//! since following it would write where the key does not say.

use std::path::{Component, Path, PathBuf};

use anyhow::{Context, bail};

use super::ObjectKey;

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

    /// Where a key's file is, for people (a key as recorded on its job); writing goes through
    /// `put_file`'s checks.
    pub fn path_of(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    /// The file of a key: its segments joined under the root.
    fn file_of(&self, key: &ObjectKey) -> PathBuf {
        key.segments()
            .fold(self.root.clone(), |path, s| path.join(s))
    }

    pub async fn put_file(&self, key: &ObjectKey, file: &Path) -> anyhow::Result<u64> {
        let root = self.root.clone();
        let target = self.file_of(key);
        let source = file.to_path_buf();
        tokio::task::spawn_blocking(move || -> anyhow::Result<u64> {
            let dir = target
                .parent()
                .context("object key has no directory")?
                .to_path_buf();
            std::fs::create_dir_all(&root)
                .with_context(|| format!("could not create {}", root.display()))?;
            let root = root
                .canonicalize()
                .with_context(|| format!("could not resolve {}", root.display()))?;
            // Before creating anything: the part of the path that exists must already be inside.
            confine(&root, &target, &deepest_existing(&dir))?;
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("could not create {}", dir.display()))?;
            confine(&root, &target, &dir)?;
            let partial = tempfile::NamedTempFile::new_in(&dir)?;
            std::fs::copy(&source, partial.path())
                .with_context(|| format!("could not write into {}", dir.display()))?;
            partial.as_file().sync_all()?;
            let bytes = partial.as_file().metadata()?.len();
            // A rename replaces a symbolic link at `target` itself; it never writes through it.
            partial
                .persist(&target)
                .with_context(|| format!("could not move the workbook to {}", target.display()))?;
            Ok(bytes)
        })
        .await?
    }

    /// Creates the key's directory and a file in it, then removes both (the directory only if
    /// it is empty: another worker may be probing at the same time).
    pub async fn probe(&self, key: &ObjectKey) -> anyhow::Result<()> {
        let dir = self
            .file_of(key)
            .parent()
            .context("probe key has no directory")?
            .to_path_buf();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            // Workers started together probe the same directory, and each removes it when it
            // is empty: one may remove it between another's creating it and writing into it.
            // That is not a failure of this directory, so a vanished directory is made again.
            // (create_dir_all itself can then fail with "exists": it found the directory, and
            // it was gone when it looked again.)
            let raced = |e: &std::io::Error| {
                matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::AlreadyExists
                )
            };
            let mut attempts = 0;
            loop {
                attempts += 1;
                let written = std::fs::create_dir_all(&dir)
                    .map_err(|e| (e, "create"))
                    .and_then(|()| {
                        tempfile::NamedTempFile::new_in(&dir).map_err(|e| (e, "write into"))
                    });
                match written {
                    Ok(file) => {
                        file.close()?;
                        break;
                    }
                    Err((e, _)) if raced(&e) && attempts < 10 => {}
                    Err((e, what)) => {
                        return Err(anyhow::Error::new(e).context(format!(
                            "could not {what} {} (EXPORT_LOCAL_DIR)",
                            dir.display()
                        )));
                    }
                }
            }
            let _ = std::fs::remove_dir(&dir);
            Ok(())
        })
        .await?
    }
}

/// Fails unless `dir`, with every link resolved, is `root` or inside it, and `target` has only
/// plain components.
fn confine(root: &Path, target: &Path, dir: &Path) -> anyhow::Result<()> {
    if target
        .components()
        .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
    {
        bail!("refusing to write {}: the path climbs", target.display());
    }
    let resolved = dir
        .canonicalize()
        .with_context(|| format!("could not resolve {}", dir.display()))?;
    if !resolved.starts_with(root) {
        bail!(
            "refusing to write {}: it resolves to {}, outside the export directory {}",
            target.display(),
            resolved.display(),
            root.display()
        );
    }
    Ok(())
}

/// `path` itself or its closest ancestor that exists.
fn deepest_existing(path: &Path) -> PathBuf {
    path.ancestors()
        .find(|p| p.exists())
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{KeyPrefix, KeySegment};

    fn key(prefix: &str, rest: &[&str]) -> ObjectKey {
        ObjectKey::new(
            &KeyPrefix::parse(prefix).unwrap(),
            rest.iter().map(|s| KeySegment::new(s).unwrap()),
        )
    }

    #[tokio::test]
    async fn a_symlink_inside_the_directory_cannot_carry_a_workbook_outside() {
        let outside = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("exports")).unwrap();
        let source = tempfile::NamedTempFile::new().unwrap();
        let storage = LocalStorage::new(root.path());

        let error = storage
            .put_file(&key("exports/", &["acme", "a.xlsx"]), source.path())
            .await
            .unwrap_err();

        assert!(format!("{error:#}").contains("outside"), "{error:#}");
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn workers_probing_together_all_pass_and_leave_nothing() {
        // Each probe removes the shared probe directory when it is empty; another one may be
        // between creating it and writing into it (seen with workers launched together).
        let root = tempfile::tempdir().unwrap();
        let storage = LocalStorage::new(root.path());
        for _ in 0..50 {
            let probes: Vec<_> = (0..8)
                .map(|n| {
                    let storage = storage.clone();
                    let key = key("exports/", &[".batchbox-probe", &format!("run-{n}")]);
                    tokio::spawn(async move { storage.probe(&key).await })
                })
                .collect();
            for probe in probes {
                probe.await.unwrap().unwrap();
            }
        }
        assert!(!root.path().join("exports/.batchbox-probe").exists());
    }

    #[tokio::test]
    async fn a_key_is_written_under_the_root() {
        let root = tempfile::tempdir().unwrap();
        let source = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(source.path(), b"xlsx").unwrap();
        let storage = LocalStorage::new(root.path());
        let key = key("a/b", &["東京", "x.xlsx"]);
        assert_eq!(storage.put_file(&key, source.path()).await.unwrap(), 4);
        assert!(root.path().join("a/b/東京/x.xlsx").is_file());
    }
}
