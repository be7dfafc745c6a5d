//! One test's world: a fresh database, a scratch directory, and the variables every `batch`
//! it runs gets.

use std::process::Command;

use serde_json::Value;

use super::database::{Backend, admin_url, create_postgres_database};
use super::process::{Output, Running};

/// A test's world: a fresh, empty database, a scratch directory, and the variables every
/// `batch` it runs gets.
pub struct Sandbox {
    pub backend: Backend,
    pub url: String,
    pub dir: tempfile::TempDir,
    /// Variables every `batch` of this test gets (e.g. an S3 server's).
    env: std::cell::RefCell<Vec<(String, String)>>,
}

impl Sandbox {
    pub fn new(backend: Backend) -> Sandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = match backend {
            Backend::Postgres => create_postgres_database(&admin_url()),
            Backend::Sqlite => format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("test.sqlite3").display()
            ),
        };
        Sandbox {
            backend,
            url,
            dir,
            env: Default::default(),
        }
    }

    /// A fresh database with the schema applied through `batch migrate`, as an operator would.
    pub fn migrated(backend: Backend) -> Sandbox {
        let db = Sandbox::new(backend);
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

    /// Every later `batch` of this test gets these variables (one set again takes its new value).
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
    pub fn migrated_on(admin: &str) -> Sandbox {
        let db = Sandbox {
            backend: Backend::Postgres,
            url: create_postgres_database(admin),
            dir: tempfile::tempdir().expect("temp dir"),
            env: Default::default(),
        };
        db.run(&["migrate"]).assert_code(0);
        db
    }
}
