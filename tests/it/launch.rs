//! Batches that launch batches: `export-enqueue` starting `export-worker` tasks sized to its
//! queue, on ECS (RunTask against moto, the AWS API emulator, which records what it was asked
//! to start) and on the embedded default (child processes that drain the queue).

use serde_json::Value;

use crate::helpers::ecs::{EcsWorld, FAMILY, Throttler};
use crate::helpers::export::{self as ex, yesterday};
use crate::helpers::{Backend, Sandbox, finished_line, json_lines};

/// `demo-seed` for the last `days` days (four jobs a day: two tenants, two forms); returns the
/// first and last day, for `export-enqueue --from --to`.
fn seed(db: &Sandbox, days: u64) -> (String, String) {
    db.run(&["demo-seed", "--records", "400", "--days", &days.to_string()])
        .assert_code(0);
    let from = (yesterday() - chrono::Days::new(days - 1)).to_string();
    (from, yesterday().to_string())
}

fn pending_jobs(db: &Sandbox) -> usize {
    ex::jobs(db)
        .iter()
        .filter(|job| job.status == "pending")
        .count()
}

fn container_env(task: &aws_sdk_ecs::types::Task, name: &str) -> Option<String> {
    task.overrides()?
        .container_overrides()
        .first()?
        .environment()
        .iter()
        .find(|pair| pair.name() == Some(name))
        .and_then(|pair| pair.value().map(str::to_owned))
}

#[test]
fn an_enqueue_starts_ecs_tasks_sized_to_its_queue_and_bounded() {
    let world = EcsWorld::start();
    let db = Sandbox::migrated(Backend::Sqlite);
    let (from, to) = seed(&db, 3);
    // 12 jobs, one task per job, at most 11: two RunTask calls (ECS starts at most 10 per call).
    db.set_env(world.launch_env(&world.moto.endpoint(), 11, 1));
    let enqueue = db.run(&["export-enqueue", "--from", &from, "--to", &to]);
    enqueue.assert_code(0);
    let finished = enqueue.finished();
    assert_eq!(finished["counts"]["inserted"], 12);
    assert_eq!(finished["counts"]["waiting"], 12);
    assert_eq!(finished["counts"]["launched_tasks"], 11);

    let run_id = enqueue.run_id();
    let tasks = world.tasks_started_by(&run_id);
    assert_eq!(tasks.len(), 11, "tasks started by {run_id}");
    for task in &tasks {
        assert!(
            task.task_definition_arn()
                .unwrap_or_default()
                .contains(&format!(":task-definition/{FAMILY}:")),
            "{task:?}"
        );
        assert_eq!(task.started_by(), Some(run_id.as_str()));
        assert_eq!(task.launch_type().map(|t| t.as_str()), Some("FARGATE"));
        let container = &task.overrides().expect("overrides").container_overrides()[0];
        assert_eq!(container.name(), Some("batch"));
        assert_eq!(container.command(), ["export-worker"]);
        assert_eq!(
            container_env(task, "BATCH_PARENT_RUN_ID").as_deref(),
            Some(run_id.as_str())
        );
        let subnet = task
            .attachments()
            .iter()
            .flat_map(|a| a.details())
            .find(|d| d.name() == Some("subnetId"))
            .and_then(|d| d.value());
        assert_eq!(subnet, Some(world.subnet.as_str()), "{task:?}");
    }
    // Starting tasks consumes nothing: the jobs wait for the tasks.
    assert_eq!(pending_jobs(&db), 12);

    // Fewer jobs than the bound: one task per 5 jobs, rounded up.
    db.set_env([("LAUNCH_JOBS_PER_TASK", 5)]);
    let again = db.run(&["export-enqueue"]);
    again.assert_code(0);
    assert_eq!(again.finished()["counts"]["launched_tasks"], 3);
    assert_eq!(world.tasks_started_by(&again.run_id()).len(), 3);
}

#[test]
fn a_throttled_run_task_is_retried_and_each_refusal_is_named() {
    let world = EcsWorld::start();
    let throttler = Throttler::start(&world.moto, 2);
    let db = Sandbox::migrated(Backend::Sqlite);
    let (from, to) = seed(&db, 1);
    db.set_env(world.launch_env(&throttler.endpoint, 20, 25));
    let enqueue = db.run(&["export-enqueue", "--from", &from, "--to", &to]);
    enqueue.assert_code(0);
    assert_eq!(throttler.refused(), 2);
    assert_eq!(enqueue.finished()["counts"]["launched_tasks"], 1);
    assert_eq!(world.tasks_started_by(&enqueue.run_id()).len(), 1);
    let retries: Vec<Value> = enqueue
        .json_lines()
        .into_iter()
        .filter(|line| line["message"] == "RunTask did not start every task; retrying the rest")
        .collect();
    assert_eq!(retries.len(), 2, "{retries:#?}");
    for retry in &retries {
        assert_eq!(retry["level"], "WARN");
        let error = retry["error"].as_str().unwrap();
        assert!(
            error.contains("ThrottlingException: Rate exceeded"),
            "{error}"
        );
    }
}

#[test]
fn a_launch_that_keeps_failing_fails_the_run_and_leaves_every_job_queued() {
    let world = EcsWorld::start();
    let throttler = Throttler::start(&world.moto, usize::MAX / 2);
    let db = Sandbox::migrated(Backend::Sqlite);
    let (from, to) = seed(&db, 1);
    db.set_env(world.launch_env(&throttler.endpoint, 20, 25));
    let enqueue = db.run(&["export-enqueue", "--from", &from, "--to", &to]);
    enqueue.assert_code(1);
    assert_eq!(throttler.refused(), 5, "one call and four retries");
    let finished = enqueue.finished();
    let error = finished["error"].as_str().unwrap();
    assert!(
        error.contains("launching 1 `export-worker` task(s)"),
        "{error}"
    );
    assert!(error.contains("started 0 of 1"), "{error}");
    assert!(error.contains("ThrottlingException"), "{error}");
    assert_eq!(finished["counts"]["inserted"], 4);
    // The jobs are queued all the same: the sweeper (or a later run) takes them.
    assert_eq!(pending_jobs(&db), 4);
}

#[test]
fn a_refusal_no_retry_can_change_fails_at_once() {
    let world = EcsWorld::start();
    let db = Sandbox::migrated(Backend::Sqlite);
    let (from, to) = seed(&db, 1);
    db.set_env(world.launch_env(&world.moto.endpoint(), 20, 25));
    db.set_env([("LAUNCH_TASK_DEFINITION", "batchbox-test-no-such-family")]);
    let enqueue = db.run(&["export-enqueue", "--from", &from, "--to", &to]);
    enqueue.assert_code(1);
    let error = enqueue.finished()["error"].as_str().unwrap().to_owned();
    assert!(error.contains("RunTask refused"), "{error}");
    assert!(
        !enqueue
            .json_lines()
            .iter()
            .any(|l| l["message"] == "RunTask did not start every task; retrying the rest"),
        "a permanent refusal is not retried"
    );
}

crate::both_backends!(
    an_enqueue_launches_local_workers_that_drain_its_queue,
    |db| {
        let (from, to) = seed(db, 3);
        let enqueue = db.run_with(
            &["export-enqueue", "--from", &from, "--to", &to],
            &[
                ("LAUNCH_BATCH", "export-worker"),
                ("LAUNCH_MAX_TASKS", "3"),
                ("LAUNCH_JOBS_PER_TASK", "5"),
                ("BATCH_ENTRY", "export-enqueue-backfill"),
            ],
        );
        enqueue.assert_code(0);
        // The workers' lines are on the same stdout (child processes inherit it).
        let lines = json_lines(&enqueue.stdout);
        let parent: Vec<Value> = lines
            .iter()
            .filter(|l| l["batch"] == "export-enqueue")
            .cloned()
            .collect();
        let finished = finished_line(&parent);
        let run_id = finished["run_id"].as_str().unwrap().to_owned();
        assert_eq!(finished["entry"], "export-enqueue-backfill");
        assert_eq!(finished["counts"]["inserted"], 12);
        assert_eq!(finished["counts"]["launched_tasks"], 3);

        // When the enqueue ends, its workers have drained the queue: each job exactly once.
        let jobs = ex::jobs(db);
        assert_eq!(jobs.len(), 12);
        assert!(
            jobs.iter().all(|job| job.status == "succeeded"),
            "{jobs:#?}"
        );
        let worker_lines: Vec<&Value> = lines
            .iter()
            .filter(|l| l["batch"] == "export-worker")
            .collect();
        assert!(
            worker_lines
                .iter()
                .all(|l| l["parent_run_id"] == run_id.as_str() && l["entry"] == "export-worker")
        );
        let exported: i64 = worker_lines
            .iter()
            .filter(|l| l["message"] == "run finished")
            .map(|l| l["counts"]["succeeded"].as_i64().unwrap_or(0))
            .sum();
        assert_eq!(exported, 12);

        // History ties them together: the enqueue and its three workers.
        let family = db.history(&["--parent", &run_id]);
        assert_eq!(family.len(), 4, "{family:#?}");
        let workers: Vec<&Value> = family
            .iter()
            .filter(|r| r["batch"] == "export-worker")
            .collect();
        assert_eq!(workers.len(), 3);
        for worker in workers {
            assert_eq!(worker["parent_run_id"], run_id.as_str());
            assert_eq!(worker["entry"], "export-worker");
            assert_eq!(
                worker["status"], "succeeded",
                "{worker:#}\n{}",
                enqueue.stdout
            );
        }
        let own = family
            .iter()
            .find(|r| r["run_id"] == run_id.as_str())
            .unwrap();
        assert_eq!(own["entry"], "export-enqueue-backfill");
        assert!(own["parent_run_id"].is_null());
    }
);
