//! Test setup in one place: a fresh database per test (PostgreSQL or SQLite), and the real
//! `batch` binary run as a process with a clean environment.
//!
//! PostgreSQL comes from `TEST_DATABASE_URL` (an admin URL; `scripts/test.sh` starts a
//! throwaway server and sets it). Without it, PostgreSQL tests fail: they never skip.

#![allow(dead_code)] // each test file uses its own part of the helpers

pub mod export;
pub mod libreoffice;
pub mod postgres;
pub mod s3;
pub mod sns;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Runs one test body once per backend on a freshly migrated database:
/// `both_backends!(name, |db| { ... })` defines `name::postgres` and `name::sqlite`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            fn postgres() {
                let body: fn(&$crate::helpers::TestDb) = $body;
                body(&$crate::helpers::TestDb::migrated(
                    $crate::helpers::Backend::Postgres,
                ));
            }
            #[test]
            fn sqlite() {
                let body: fn(&$crate::helpers::TestDb) = $body;
                body(&$crate::helpers::TestDb::migrated(
                    $crate::helpers::Backend::Sqlite,
                ));
            }
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// A fresh, empty database for one test, and a scratch directory.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    pub dir: tempfile::TempDir,
    /// Variables every `batch` of this test gets (e.g. an S3 server's).
    env: std::cell::RefCell<Vec<(String, String)>>,
}

pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("test runtime")
        .block_on(future)
}

impl TestDb {
    pub fn new(backend: Backend) -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = match backend {
            Backend::Postgres => create_postgres_database(&admin_url()),
            Backend::Sqlite => format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("test.sqlite3").display()
            ),
        };
        TestDb {
            backend,
            url,
            dir,
            env: Default::default(),
        }
    }

    /// A fresh database with the schema applied through `batch migrate`, as an operator would.
    pub fn migrated(backend: Backend) -> TestDb {
        let db = TestDb::new(backend);
        db.run(&["migrate"]).assert_code(0);
        db
    }

    /// `batch ARGS` with only this test's environment (plus `extra`).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_batch"));
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DATABASE_URL", &self.url)
            .env("BATCH_DATA_DIR", self.dir.path().join("data"))
            .env("BATCH_STOP_GRACE", "5s")
            .current_dir(self.dir.path())
            .envs(
                self.env
                    .borrow()
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            );
        command
    }

    /// Every later `batch` of this test gets these variables.
    pub fn set_env<V: ToString>(&self, vars: impl IntoIterator<Item = (&'static str, V)>) {
        self.env
            .borrow_mut()
            .extend(vars.into_iter().map(|(k, v)| (k.to_owned(), v.to_string())));
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Output::of(self.command(args))
    }

    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = self.command(args);
        command.envs(env.iter().copied());
        Output::of(command)
    }

    pub fn spawn(&self, args: &[&str]) -> Running {
        Running::spawn(self.command(args))
    }

    pub fn spawn_with(&self, args: &[&str], env: &[(&str, &str)]) -> Running {
        let mut command = self.command(args);
        command.envs(env.iter().copied());
        Running::spawn(command)
    }

    /// `batch history --json ARGS`, parsed.
    pub fn history(&self, args: &[&str]) -> Vec<Value> {
        let mut all = vec!["history", "--json"];
        all.extend_from_slice(args);
        let output = self.run(&all);
        output.assert_code(0);
        serde_json::from_str::<Value>(&output.stdout)
            .unwrap_or_else(|e| panic!("history --json is not JSON ({e}): {}", output.stdout))
            .as_array()
            .expect("history --json is an array")
            .clone()
    }

    /// The history entry of one run.
    pub fn run_record(&self, run_id: &str) -> Value {
        self.history(&["--limit", "10000"])
            .into_iter()
            .find(|run| run["run_id"] == run_id)
            .unwrap_or_else(|| panic!("run {run_id} is not in history"))
    }

    /// The library's view of this database, for setting up rows a test cannot make by running.
    pub async fn open(&self) -> batchbox::db::Db {
        let config =
            batchbox::config::Config::from_vars(&[("DATABASE_URL".into(), self.url.clone())])
                .expect("test configuration is valid");
        batchbox::db::Db::open(&config.database, "batchbox-tests")
            .await
            .expect("test database opens")
    }

    /// A fresh, migrated database on another PostgreSQL server (its admin URL), e.g. one a test
    /// restarts.
    pub fn migrated_on(admin: &str) -> TestDb {
        let db = TestDb {
            backend: Backend::Postgres,
            url: create_postgres_database(admin),
            dir: tempfile::tempdir().expect("temp dir"),
            env: Default::default(),
        };
        db.run(&["migrate"]).assert_code(0);
        db
    }
}

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "TEST_DATABASE_URL is not set: PostgreSQL tests need a server. \
             Run scripts/test.sh, which starts one, or set TEST_DATABASE_URL to an admin URL."
        )
    })
}

fn create_postgres_database(admin: &str) -> String {
    let name = format!("batchbox_test_{}", uuid::Uuid::now_v7().simple());
    block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(admin)
            .await
            .expect("connect to TEST_DATABASE_URL");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
    });
    let (base, _) = admin
        .rsplit_once('/')
        .expect("TEST_DATABASE_URL ends with /DATABASE");
    format!("{base}/{name}")
}

/// A finished `batch` process.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    fn of(mut command: Command) -> Output {
        let output = command.output().expect("run batch");
        Output {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    pub fn assert_code(&self, code: i32) -> &Output {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Every stdout line as JSON; panics naming the first line that is not.
    pub fn json_lines(&self) -> Vec<Value> {
        json_lines(&self.stdout)
    }

    /// The one `run finished` line.
    pub fn finished(&self) -> Value {
        finished_line(&self.json_lines())
    }

    pub fn run_id(&self) -> String {
        self.finished()["run_id"]
            .as_str()
            .expect("run_id")
            .to_owned()
    }
}

pub fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"))
        })
        .collect()
}

pub fn finished_line(lines: &[Value]) -> Value {
    let finished: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "run finished")
        .collect();
    assert_eq!(
        finished.len(),
        1,
        "exactly one `run finished` line in {lines:#?}"
    );
    finished[0].clone()
}

/// A `batch` process still running, its stdout collected line by line.
pub struct Running {
    pub child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<thread::JoinHandle<()>>,
}

impl Running {
    fn spawn(mut command: Command) -> Running {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn batch");
        let stdout = child.stdout.take().expect("piped stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        let reader = thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Running {
            child,
            lines,
            reader: Some(reader),
        }
    }

    /// Waits (polling, with a deadline) for a log line with this message; returns it.
    pub fn wait_for_message(&self, message: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let found = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .find(|l| l["message"] == message);
            if let Some(line) = found {
                return line;
            }
            assert!(
                Instant::now() < deadline,
                "no `{message}` line within {within:?}; lines so far: {:#?}",
                self.lines.lock().unwrap()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits for the process to exit (with a deadline) and returns its code and all its lines.
    pub fn wait(mut self, within: Duration) -> (Option<i32>, Vec<String>, Duration) {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            if started.elapsed() > within {
                let _ = self.child.kill();
                panic!("batch did not exit within {within:?}");
            }
            thread::sleep(Duration::from_millis(20));
        };
        let waited = started.elapsed();
        if let Some(reader) = self.reader.take() {
            reader.join().expect("reader thread");
        }
        let lines = self.lines.lock().unwrap().clone();
        (status.code(), lines, waited)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` until it returns `Some`, or panics after `within` naming `what`.
pub fn eventually<T>(what: &str, within: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        thread::sleep(Duration::from_millis(100));
    }
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}
