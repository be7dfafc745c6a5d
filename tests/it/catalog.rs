//! The Terraform catalog against this binary: every scheduled command names a real batch with
//! options it accepts, every rule has a description, every schedule is valid EventBridge syntax,
//! every batch is scheduled, manual or local-only. Broken catalogs in tests/fixtures/catalog
//! prove that the check fails, naming the block.

use std::path::{Path, PathBuf};

use batchbox::catalog::check::check_against_registry;
use batchbox::catalog::{self, Catalog};

fn repo(path: &str) -> PathBuf {
    crate::helpers::repo_root().join(path)
}

fn environment_overrides() -> Vec<catalog::Override> {
    ["staging", "production"]
        .iter()
        .flat_map(|env| {
            catalog::read_overrides(&repo(&format!("terraform/envs/{env}/terraform.tfvars")))
                .unwrap()
        })
        .collect()
}

#[test]
fn the_catalog_and_the_environments_match_this_binary() {
    let catalog = catalog::read_catalog(&repo(catalog::CATALOG_PATH)).unwrap();
    assert!(
        catalog.entries.iter().any(|e| e.schedule.is_some()),
        "the catalog schedules something"
    );
    let problems = check_against_registry(&catalog, &environment_overrides());
    assert!(
        problems.is_empty(),
        "catalog problems:\n{}",
        problems.join("\n")
    );
}

/// The `# expect:` lines of a fixture.
fn expectations(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|line| line.strip_prefix("# expect: ").map(str::to_owned))
        .collect()
}

#[test]
fn every_broken_catalog_fixture_fails_naming_its_block() {
    let fixtures = repo("tests/fixtures/catalog");
    let real = catalog::read_catalog(&repo(catalog::CATALOG_PATH)).unwrap();
    let mut checked = 0;
    for file in std::fs::read_dir(&fixtures).unwrap() {
        let path = file.unwrap().path();
        let expected = expectations(&path);
        assert!(
            !expected.is_empty(),
            "{} has no `# expect:` line",
            path.display()
        );
        let problems = if path.extension().is_some_and(|e| e == "tfvars") {
            let overrides: Vec<_> = catalog::read_overrides(&path)
                .unwrap()
                .into_iter()
                .map(|mut o| {
                    o.file = path.file_name().unwrap().to_string_lossy().into_owned();
                    o
                })
                .collect();
            check_against_registry(&real, &overrides)
        } else {
            check_against_registry(&catalog::read_catalog(&path).unwrap(), &[])
        };
        for expectation in expected {
            assert!(
                problems.iter().any(|p| p.contains(&expectation)),
                "{}: expected a problem containing\n  {expectation}\ngot:\n  {}",
                path.display(),
                problems.join("\n  ")
            );
        }
        checked += 1;
    }
    assert!(checked >= 9, "all fixtures read ({checked})");
}

#[test]
fn an_empty_catalog_names_every_batch_as_missing() {
    let problems = check_against_registry(&Catalog::default(), &[]);
    assert_eq!(problems.len(), batchbox::batches::REGISTRY.len());
}

#[test]
fn schedule_shows_a_utc_cron_in_tokyo_time() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("batches.tf");
    std::fs::write(
        &file,
        r#"locals {
  batches = {
    "canary" = {
      description = "09:10 in Tokyo"
      schedule    = "cron(10 0 * * ? *)"
      args        = []
    }
  }
}"#,
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_batch"))
        .args(["schedule", "--count", "2", "--catalog"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout).unwrap();
    let fires: Vec<&str> = text.lines().filter(|l| l.contains(" = ")).collect();
    assert_eq!(fires.len(), 2, "{text}");
    assert!(
        fires
            .iter()
            .all(|l| l.contains("00:10 UTC") && l.contains("09:10 JST")),
        "{text}"
    );

    let checked = std::process::Command::new(env!("CARGO_BIN_EXE_batch"))
        .args(["schedule", "--check", "--catalog"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        checked.status.code(),
        Some(1),
        "a one-batch catalog misses the others"
    );
    assert!(
        String::from_utf8_lossy(&checked.stderr).contains("is registered but has no catalog block")
    );
}

/// `batch schedule --json` is how scripts read the catalog: every entry as an environment runs
/// it, overrides applied, with the fields Terraform uses.
#[test]
fn schedule_json_gives_every_entry_as_the_environment_runs_it() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_batch"))
        .args(["schedule", "--env", "staging", "--json", "--count", "2"])
        .current_dir(repo("."))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let all: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let entries = all["entries"].as_array().unwrap();
    let entry = |name: &str| entries.iter().find(|e| e["name"] == name).unwrap().clone();
    let catalog = catalog::read_catalog(&repo(catalog::CATALOG_PATH)).unwrap();
    assert_eq!(entries.len(), catalog.entries.len());
    assert_eq!(all["local_only"], serde_json::json!(catalog.local_only));
    // staging's override of canary wins; the rest is the catalog's.
    let canary = entry("canary");
    assert_eq!(canary["schedule"], "rate(15 minutes)");
    assert_eq!(canary["schedule_overridden"], true);
    assert_eq!(canary["next_fires"].as_array().unwrap().len(), 2);
    let worker = entry("export-worker");
    assert_eq!(worker["task_count"], 4);
    assert_eq!(worker["grace_minutes"], 120);
    assert_eq!(worker["schedule_overridden"], false);
    let manual = entry("export-requeue");
    assert!(manual["schedule"].is_null() && manual["next_fires"] == serde_json::json!([]));
}
