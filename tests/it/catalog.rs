//! The Terraform catalog against this binary: every entry runs a real batch with options it
//! accepts, every rule has a description, every schedule is valid EventBridge syntax, every
//! `launch` names an entry of the batch it launches with arguments that batch accepts, every batch
//! is scheduled, manual or local-only. Broken catalogs in tests/fixtures/catalog and scratch
//! catalogs prove that the check fails, naming the entry and its batch.

use std::path::{Path, PathBuf};

use batchbox::catalog::check::check_against_registry;
use batchbox::catalog::zone::Engine;
use batchbox::catalog::{self, Catalog};

fn repo(path: &str) -> PathBuf {
    crate::helpers::repo_root().join(path)
}

#[test]
fn the_catalog_and_the_environments_match_this_binary() {
    let catalog = catalog::read_catalog(&repo(catalog::CATALOG_PATH)).unwrap();
    assert!(
        catalog.entries.iter().any(|e| e.schedule.is_some()),
        "the catalog schedules something"
    );
    let mut problems = Vec::new();
    for env in ["staging", "production"] {
        let tfvars = repo(&format!("terraform/envs/{env}/terraform.tfvars"));
        problems.extend(check_against_registry(
            &catalog,
            &catalog::read_overrides(&tfvars).unwrap(),
            catalog::read_engine(&tfvars).unwrap(),
            env,
        ));
    }
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
            check_against_registry(&real, &overrides, Engine::Rules, "the fixture")
        } else {
            let catalog = catalog::read_catalog(&path).unwrap();
            check_against_registry(&catalog, &[], Engine::Rules, "the fixture")
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
    let problems = check_against_registry(&Catalog::default(), &[], Engine::Rules, "none");
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
    assert_eq!(worker["batch"], "export-worker");
    assert_eq!(worker["task_count"], 1);
    assert_eq!(worker["grace_minutes"], 90);
    assert_eq!(worker["schedule_overridden"], false);
    assert!(worker["launch"].is_null());
    let manual = entry("export-requeue");
    assert!(manual["schedule"].is_null() && manual["next_fires"] == serde_json::json!([]));
    // Two entries of export-enqueue, each launching export-worker tasks.
    let monthly = entry("export-enqueue-monthly");
    assert_eq!(monthly["batch"], "export-enqueue");
    assert_eq!(monthly["args"], serde_json::json!(["--monthly"]));
    let launch = serde_json::json!({"batch": "export-worker", "args": [], "max_tasks": 20, "jobs_per_task": 25});
    assert_eq!(monthly["launch"], launch);
    assert_eq!(entry("export-enqueue")["launch"], launch);
}

/// A scratch catalog: every registered batch with a manual shorthand entry (the arguments it
/// needs), `local_only` as in the real one, and `extra` blocks.
fn scratch_catalog(dir: &Path, extra: &str) -> PathBuf {
    let mut blocks = String::new();
    for batch in batchbox::batches::REGISTRY {
        if ["demo", "demo-seed"].contains(&batch.name)
            || extra.contains(&format!("\"{}\" = {{", batch.name))
        {
            continue;
        }
        let args = if batch.name == "export-requeue" {
            r#"["--failed"]"#
        } else {
            "[]"
        };
        blocks.push_str(&format!(
            "    \"{}\" = {{\n      description = \"by hand\"\n      schedule    = null\n      args        = {args}\n    }}\n",
            batch.name
        ));
    }
    let file = dir.join("batches.tf");
    std::fs::write(
        &file,
        format!("locals {{\n  batches = {{\n{blocks}{extra}  }}\n  local_only = [\"demo\", \"demo-seed\"]\n}}\n"),
    )
    .unwrap();
    file
}

/// `batch schedule --check` of a catalog file: (exit code, stdout, stderr).
fn check_file(file: &Path) -> (Option<i32>, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_batch"))
        .args(["schedule", "--check", "--count", "1", "--catalog"])
        .arg(file)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn entries_of_one_batch_with_their_own_names_and_a_launch_pass_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let file = scratch_catalog(
        dir.path(),
        r#"    "export-enqueue" = {
      description = "daily"
      schedule    = "cron(30 15 * * ? *)"
      launch      = { batch = "export-worker", max_tasks = 20, jobs_per_task = 25 }
    }
    "export-enqueue-monthly" = {
      batch       = "export-enqueue"
      description = "monthly"
      schedule    = "cron(50 15 L * ? *)"
      args        = ["--monthly"]
      launch      = { batch = "export-worker", args = ["--max-runtime", "2h"], max_tasks = 100, jobs_per_task = 100000 }
    }
    "history-prune-weekly" = {
      batch       = "history-prune"
      description = "weekly, a year back"
      schedule    = "cron(0 19 ? * SUN *)"
      args        = ["--older-than-days", "365"]
    }
"#,
    );
    let (code, stdout, stderr) = check_file(&file);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("catalog check: no problems"), "{stderr}");
    assert!(
        stdout.contains("export-enqueue-monthly (batch export-enqueue)  cron(50 15 L * ? *)")
            && stdout.contains("history-prune-weekly (batch history-prune)  cron(0 19 ? * SUN *)")
            && stdout.contains("\nexport-enqueue  cron(30 15 * * ? *)"),
        "the batch beside the entry when it has another name:\n{stdout}"
    );
    assert!(
        stdout.contains(
            "launches up to 100 export-worker --max-runtime 2h tasks (one per 100000 jobs)"
        ),
        "{stdout}"
    );

    let json = std::process::Command::new(env!("CARGO_BIN_EXE_batch"))
        .args([
            "schedule",
            "--json",
            "--batch",
            "export-enqueue",
            "--catalog",
        ])
        .arg(&file)
        .output()
        .unwrap();
    let all: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let names: Vec<&str> = all["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["export-enqueue", "export-enqueue-monthly"],
        "--batch selects the batch's entries"
    );
}

#[test]
fn bad_entries_and_launches_fail_the_check_naming_the_entry_and_its_batch() {
    let dir = tempfile::tempdir().unwrap();
    let file = scratch_catalog(
        dir.path(),
        r#"    "export-enqueue" = {
      description = "launches an entry that does not exist"
      schedule    = "cron(30 15 * * ? *)"
      launch      = { batch = "export-wroker", max_tasks = 20, jobs_per_task = 25 }
    }
    "export-enqueue-monthly" = {
      batch       = "export-enqueue"
      description = "launches with arguments the worker refuses, too many tasks"
      schedule    = "cron(50 15 L * ? *)"
      args        = ["--monthly"]
      launch      = { batch = "export-worker", args = ["--lanes", "8"], max_tasks = 500, jobs_per_task = 0 }
    }
    "export-enqueue-weekly" = {
      batch       = "export-enqueue"
      description = "an option the batch does not have"
      schedule    = "cron(30 15 ? * MON *)"
      args        = ["--weekly"]
    }
    "canary-fast" = {
      batch       = "canary"
      description = "a launch on a batch that does not launch"
      schedule    = "rate(5 minutes)"
      launch      = { batch = "export-worker", max_tasks = 1, jobs_per_task = 1 }
    }
    "export-enqueue-demo" = {
      batch       = "export-enqueue"
      description = "a launch of a local_only batch"
      schedule    = null
      launch      = { batch = "demo", max_tasks = 1, jobs_per_task = 1 }
    }
    "reports" = {
      batch       = "report"
      description = "a batch this binary does not have"
      schedule    = null
    }
"#,
    );
    let (code, _, stderr) = check_file(&file);
    assert_eq!(code, Some(1), "{stderr}");
    for expected in [
        "catalog block `export-enqueue`: launch of `export-wroker`: no batch `export-wroker` in this binary",
        "catalog block `export-enqueue`: launch of `export-wroker`: no catalog block `export-wroker`",
        "catalog block `export-enqueue-monthly` (batch `export-enqueue`): launch of `export-worker`: args [\"--lanes\", \"8\"] are not accepted by `batch export-worker`",
        "catalog block `export-enqueue-monthly` (batch `export-enqueue`): launch of `export-worker`: max_tasks 500 is outside 1-100",
        "catalog block `export-enqueue-monthly` (batch `export-enqueue`): launch of `export-worker`: jobs_per_task 0 is outside 1-100000",
        "catalog block `export-enqueue-weekly` (batch `export-enqueue`): args [\"--weekly\"] are not accepted by `batch export-enqueue`",
        "catalog block `canary-fast` (batch `canary`): `launch` on batch `canary`, which does not launch tasks",
        "catalog block `export-enqueue-demo` (batch `export-enqueue`): launch of `demo`: `demo` is local_only",
        "catalog block `reports` (batch `report`): no batch `report` in this binary",
    ] {
        assert!(
            stderr.contains(expected),
            "expected a problem containing\n  {expected}\ngot:\n{stderr}"
        );
    }
}

#[test]
fn a_launch_of_an_entry_that_runs_another_batch_fails_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let file = scratch_catalog(
        dir.path(),
        r#"    "export-enqueue" = {
      description = "daily"
      schedule    = "cron(30 15 * * ? *)"
      launch      = { batch = "export-worker", max_tasks = 20, jobs_per_task = 25 }
    }
    "export-worker" = {
      batch       = "canary"
      description = "an entry named after the worker that runs something else"
      schedule    = null
    }
    "export-worker-sweep" = {
      batch       = "export-worker"
      description = "the worker, under another name"
      schedule    = "cron(5 * * * ? *)"
    }
"#,
    );
    let (code, _, stderr) = check_file(&file);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("catalog block `export-enqueue`: launch of `export-worker`: catalog block `export-worker` runs batch `canary`, not `export-worker`"),
        "{stderr}"
    );
}

#[test]
fn a_misspelt_launch_field_is_an_error_naming_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let file = scratch_catalog(
        dir.path(),
        r#"    "export-enqueue" = {
      description = "daily"
      schedule    = "cron(30 15 * * ? *)"
      launch      = { batch = "export-worker", max_task = 20, jobs_per_task = 25 }
    }
"#,
    );
    let (code, _, stderr) = check_file(&file);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("catalog block `export-enqueue`: `launch`: unknown field `max_task`"),
        "{stderr}"
    );
}

/// Entries written in local time: refused under the rules engine (the default) naming each entry,
/// accepted where the environment's tfvars choose the Scheduler engine, and previewed in their
/// own zone through a change of the clocks.
#[test]
fn local_time_entries_need_the_scheduler_engine_and_preview_in_their_zone() {
    let dir = tempfile::tempdir().unwrap();
    let file = scratch_catalog(
        dir.path(),
        r#"    "canary" = {
      description = "02:30 in New York"
      schedule    = "cron(30 2 * * ? *)"
      timezone    = "America/New_York"
    }
    "history-prune" = {
      description = "01:30 in Tokyo, the catalog's default zone"
      schedule    = "cron(30 1 * * ? *)"
      args        = ["--older-than-days", "90"]
    }
"#,
    );
    let text = std::fs::read_to_string(&file).unwrap().replace(
        "  local_only = [",
        "  default_timezone = \"Asia/Tokyo\"\n  local_only = [",
    );
    std::fs::write(&file, text).unwrap();

    let (code, _, stderr) = check_file(&file);
    assert_eq!(code, Some(1), "{stderr}");
    for entry in [
        "entry `canary`: its schedule cron(30 2 * * ? *) is written in America/New_York, but an environment that sets no schedule_engine (no --env given) uses the rules engine",
        "entry `history-prune`: its schedule cron(30 1 * * ? *) is written in Asia/Tokyo",
    ] {
        assert!(stderr.contains(entry), "{stderr}");
    }
    assert_eq!(
        stderr.matches("uses the rules engine").count(),
        2,
        "{stderr}"
    );

    // An environment that chooses EventBridge Scheduler: the same catalog passes.
    let env = dir.path().join("terraform/envs/east");
    std::fs::create_dir_all(&env).unwrap();
    std::fs::write(
        env.join("terraform.tfvars"),
        "schedule_engine = \"scheduler\"\n",
    )
    .unwrap();
    let batch = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_batch"))
            .arg("schedule")
            .args(args)
            .arg("--catalog")
            .arg(&file)
            .current_dir(dir.path())
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
        )
    };
    let (code, _, stderr) = batch(&["--env", "east", "--check"]);
    assert_eq!(code, Some(0), "{stderr}");

    // The preview through New York's spring change: 02:30 does not exist on 2027-03-14.
    let (code, stdout, stderr) = batch(&[
        "--env",
        "east",
        "--batch",
        "canary",
        "--from",
        "2027-03-13",
        "--count",
        "2",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("canary  cron(30 2 * * ? *) in America/New_York"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Sat 2027-03-13 07:30 UTC  =  Sat 2027-03-13 02:30 EST"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "Sun 2027-03-14 02:30: no run  (02:30 does not exist in America/New_York that day"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("Mon 2027-03-15 06:30 UTC  =  Mon 2027-03-15 02:30 EDT"),
        "{stdout}"
    );
    // JSON for scripts: the engine, each entry's zone, the fire times in UTC.
    let (_, stdout, _) = batch(&[
        "--env",
        "east",
        "--json",
        "--from",
        "2027-03-13",
        "--count",
        "2",
    ]);
    let all: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(all["engine"], "scheduler");
    let entry = |name: &str| {
        all["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(entry("canary")["timezone"], "America/New_York");
    assert_eq!(
        entry("canary")["next_fires"],
        serde_json::json!(["2027-03-13T07:30:00Z", "2027-03-15T06:30:00Z"])
    );
    assert_eq!(entry("history-prune")["timezone"], "Asia/Tokyo");
    assert_eq!(
        entry("history-prune")["next_fires"],
        serde_json::json!(["2027-03-13T16:30:00Z", "2027-03-14T16:30:00Z"])
    );
}

/// The overrides check-terraform plans staging with under EventBridge Scheduler (and sees the
/// rules engine refuse): this check agrees on both counts, entry by entry.
#[test]
fn the_scheduler_overrides_of_check_terraform_pass_here_and_the_rules_engine_refuses_the_same_entries()
 {
    let catalog = catalog::read_catalog(&repo(catalog::CATALOG_PATH)).unwrap();
    let tfvars = repo("scripts/check-terraform/scheduler.tfvars");
    let overrides = catalog::read_overrides(&tfvars).unwrap();
    let engine = catalog::read_engine(&tfvars).unwrap();
    assert_eq!(engine, Engine::Scheduler);
    let problems = check_against_registry(&catalog, &overrides, engine, "scheduler.tfvars");
    assert!(problems.is_empty(), "{problems:#?}");
    let refused = check_against_registry(&catalog, &overrides, Engine::Rules, "scheduler.tfvars");
    let mut named: Vec<&str> = refused
        .iter()
        .map(|p| {
            p.strip_prefix("entry `")
                .and_then(|p| p.split('`').next())
                .unwrap_or(p)
        })
        .collect();
    named.sort_unstable();
    // The entries in a zone other than UTC (Etc/UTC is UTC by another name), as
    // scripts/check-terraform/staging_plan.py expects Terraform's refusal to name them.
    assert_eq!(
        named,
        ["export-enqueue", "export-enqueue-monthly", "history-prune"],
        "{refused:#?}"
    );
}
