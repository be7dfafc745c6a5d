//! The database: PostgreSQL in production, an embedded SQLite file when `DATABASE_URL` is unset.
//!
//! Both backends run the same SQL text (`$1` placeholders work on both) through `on_pool!`, which
//! expands one query once per backend. Timestamps are always bound from Rust in UTC, never
//! produced by SQL (`now()` differs per backend); on SQLite they are stored as RFC 3339 text,
//! which orders correctly as text because every value comes through the same encoder.

use std::path::PathBuf;

use anyhow::{Context, bail};
use log::LevelFilter;
use sqlx::ConnectOptions;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{PgPool, SqlitePool};
use std::time::Duration;

use crate::config::{DatabaseConfig, DatabaseUrl};

pub mod reconnect;

static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");
static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");

const PG_HAS_MIGRATIONS_TABLE: &str = "SELECT count(*) FROM pg_tables WHERE tablename = '_sqlx_migrations' AND schemaname = current_schema()";

/// Names the advisory lock `migrate` runs hold on PostgreSQL.
const MIGRATION_LOCK: &str = "batchbox migrate";

fn unapplied(migrator: &Migrator, applied: &[i64]) -> Vec<i64> {
    migrator
        .iter()
        .map(|m| m.version)
        .filter(|v| !applied.contains(v))
        .collect()
}

/// SQLITE_BUSY or one of its extended codes (the primary code is the low byte).
fn is_sqlite_busy(error: &sqlx::Error) -> bool {
    const SQLITE_BUSY: i64 = 5;
    let code = match error {
        sqlx::Error::Database(db) => db.code(),
        _ => None,
    };
    code.and_then(|c| c.parse::<i64>().ok())
        .is_some_and(|c| c & 0xff == SQLITE_BUSY)
}

/// File name of the embedded database inside `BATCH_DATA_DIR`.
const EMBEDDED_FILE: &str = "batchbox.sqlite3";

/// A bounded pool on one of the two backends.
#[derive(Debug, Clone)]
pub enum Db {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

/// Runs `$body` with `$pool` bound to the backend's pool; the body is compiled once per backend.
#[macro_export]
macro_rules! on_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Postgres($pool) => $body,
            $crate::db::Db::Sqlite($pool) => $body,
        }
    };
}

/// What a batch needs of the schema before it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaNeed {
    /// The schema must be current; a batch never migrates silently.
    Current,
    /// The batch applies the migrations itself (`migrate`).
    Migrates,
}

/// An export streams all of a job's records through one statement that lasts as long as the
/// job: sqlx's "slow statement" warning (its default level) would fire on every job, on either
/// backend, and teach on-call to ignore warnings. It stays visible with RUST_LOG=debug.
const SLOW_STATEMENT_LEVEL: LevelFilter = LevelFilter::Debug;
const SLOW_STATEMENT: Duration = Duration::from_secs(1);

impl Db {
    /// Opens the pool. `application_name` shows on PostgreSQL's `pg_stat_activity`, so a DBA
    /// sees which batch holds which connection.
    pub async fn open(config: &DatabaseConfig, application_name: &str) -> anyhow::Result<Db> {
        match &config.url {
            Some(DatabaseUrl::Postgres(options)) => {
                let options = (**options)
                    .clone()
                    .application_name(application_name)
                    .log_slow_statements(SLOW_STATEMENT_LEVEL, SLOW_STATEMENT);
                let pool = PgPoolOptions::new()
                    .max_connections(config.max_connections)
                    .min_connections(0)
                    .acquire_timeout(config.acquire_timeout)
                    .connect_with(options)
                    .await
                    .context("could not connect to the PostgreSQL database in DATABASE_URL")?;
                Ok(Db::Postgres(pool))
            }
            Some(DatabaseUrl::Sqlite(options)) => {
                Self::open_sqlite((**options).clone(), config).await
            }
            None => {
                let dir = &config.data_dir;
                std::fs::create_dir_all(dir).with_context(|| {
                    format!(
                        "could not create the data directory {} (BATCH_DATA_DIR)",
                        dir.display()
                    )
                })?;
                let options = SqliteConnectOptions::new()
                    .filename(dir.join(EMBEDDED_FILE))
                    .create_if_missing(true);
                let db = Self::open_sqlite(options, config).await?;
                // The embedded default is one person's local file: created and migrated on first
                // use, so `batch demo` works on a fresh machine with no setup step.
                let applied = db.migrate().await?;
                if applied > 0 {
                    tracing::info!(applied, path = %db.describe(), "embedded database migrated");
                }
                Ok(db)
            }
        }
    }

    async fn open_sqlite(
        options: SqliteConnectOptions,
        config: &DatabaseConfig,
    ) -> anyhow::Result<Db> {
        // WAL and a busy timeout let several local processes (workers, a second run of an
        // exclusive batch) share the file the way tasks share a server.
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(config.acquire_timeout)
            .foreign_keys(true)
            .log_slow_statements(SLOW_STATEMENT_LEVEL, SLOW_STATEMENT);
        // Opening is retried while the file is busy: SQLite returns SQLITE_BUSY without waiting
        // for the busy timeout when another process is switching a fresh file to WAL or
        // recovering its WAL, and sqlx does not count that as transient. Two batches started
        // together on a fresh file would otherwise fail one of them.
        let deadline = tokio::time::Instant::now() + config.acquire_timeout;
        let mut pause = Duration::from_millis(10);
        loop {
            let opened = SqlitePoolOptions::new()
                .max_connections(config.max_connections)
                .acquire_timeout(config.acquire_timeout)
                .connect_with(options.clone())
                .await;
            match opened {
                Ok(pool) => return Ok(Db::Sqlite(pool)),
                Err(error) if is_sqlite_busy(&error) && tokio::time::Instant::now() < deadline => {
                    tracing::debug!(%error, "the SQLite file is busy; opening it again");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(500));
                }
                Err(error) => return Err(error).context("could not open the SQLite database"),
            }
        }
    }

    /// Which backend, and for SQLite the file, for messages (never the URL: it holds a password).
    pub fn describe(&self) -> String {
        match self {
            Db::Postgres(_) => "postgresql".into(),
            Db::Sqlite(pool) => format!("sqlite:{}", self.sqlite_file(pool).display()),
        }
    }

    /// The SQLite database file (for lock files beside it).
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match self {
            Db::Postgres(_) => None,
            Db::Sqlite(pool) => Some(self.sqlite_file(pool)),
        }
    }

    fn sqlite_file(&self, pool: &SqlitePool) -> PathBuf {
        pool.connect_options().get_filename().to_path_buf()
    }

    fn migrator(&self) -> &'static Migrator {
        match self {
            Db::Postgres(_) => &POSTGRES_MIGRATIONS,
            Db::Sqlite(_) => &SQLITE_MIGRATIONS,
        }
    }

    /// Applies pending migrations; returns how many THIS call applied. Concurrent callers (two
    /// `migrate` runs, two batches on a fresh embedded file) take turns: the second finds nothing
    /// pending and reports 0, instead of both applying, or reporting, the same migrations.
    pub async fn migrate(&self) -> anyhow::Result<usize> {
        match self {
            Db::Postgres(pool) => {
                // On one connection, which holds the turn: the pool may have a single connection.
                let mut conn = pool
                    .acquire()
                    .await
                    .context("could not connect to migrate")?;
                sqlx::query("SELECT pg_advisory_lock(hashtextextended($1, 0))")
                    .bind(MIGRATION_LOCK)
                    .execute(&mut *conn)
                    .await
                    .context("could not take the migration lock")?;
                let result = async {
                    let pending = self.pending_on(&mut conn).await?.len();
                    // `run` on a borrowed connection trips a higher-ranked lifetime error in a
                    // Send future; `run_direct` is sqlx's own way around it.
                    POSTGRES_MIGRATIONS
                        .run_direct(None, &mut *conn, false)
                        .await
                        .context("migration failed")?;
                    anyhow::Ok(pending)
                }
                .await;
                // Closing the session drops its advisory lock, whatever happened above.
                let _ = conn.close().await;
                result
            }
            Db::Sqlite(pool) => {
                let _turn = self.sqlite_migration_lock().await?;
                let pending = self.pending_migrations().await?.len();
                SQLITE_MIGRATIONS
                    .run(pool)
                    .await
                    .context("migration failed")?;
                Ok(pending)
            }
        }
    }

    /// PostgreSQL's pending versions, read on the connection that holds the migration lock.
    async fn pending_on(&self, conn: &mut sqlx::PgConnection) -> anyhow::Result<Vec<i64>> {
        let exists: i64 = sqlx::query_scalar(PG_HAS_MIGRATIONS_TABLE)
            .fetch_one(&mut *conn)
            .await?;
        let applied: Vec<i64> = if exists > 0 {
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&mut *conn)
                .await?
        } else {
            Vec::new()
        };
        Ok(unapplied(self.migrator(), &applied))
    }

    /// An exclusive lock on a file beside the database, waited for; dropped with the file.
    async fn sqlite_migration_lock(&self) -> anyhow::Result<Option<std::fs::File>> {
        let Some(db_file) = self.sqlite_path() else {
            return Ok(None);
        };
        if db_file.as_os_str().is_empty() || db_file.as_os_str() == ":memory:" {
            return Ok(None);
        }
        let mut name = db_file.into_os_string();
        name.push(".migrations.lock");
        let path = PathBuf::from(name);
        tokio::task::spawn_blocking(move || {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .with_context(|| format!("could not open {}", path.display()))?;
            file.lock()
                .with_context(|| format!("could not lock {}", path.display()))?;
            Ok(Some(file))
        })
        .await?
    }

    /// Versions this binary knows that the database has not applied yet.
    pub async fn pending_migrations(&self) -> anyhow::Result<Vec<i64>> {
        let applied: Vec<i64> = if self.has_migrations_table().await? {
            on_pool!(self, |pool| sqlx::query_scalar(
                "SELECT version FROM _sqlx_migrations WHERE success"
            )
            .fetch_all(pool)
            .await)?
        } else {
            Vec::new()
        };
        Ok(unapplied(self.migrator(), &applied))
    }

    async fn has_migrations_table(&self) -> anyhow::Result<bool> {
        let count: i64 = match self {
            Db::Postgres(pool) => {
                sqlx::query_scalar(PG_HAS_MIGRATIONS_TABLE)
                    .fetch_one(pool)
                    .await?
            }
            Db::Sqlite(pool) => {
                sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'")
                    .fetch_one(pool)
                    .await?
            }
        };
        Ok(count > 0)
    }

    /// Fails with a clear message when the schema is behind this binary.
    pub async fn ensure(&self, need: SchemaNeed) -> anyhow::Result<()> {
        if need == SchemaNeed::Migrates {
            return Ok(());
        }
        let pending = self.pending_migrations().await?;
        if !pending.is_empty() {
            bail!(
                "the database schema is behind this binary ({} migration(s) pending: {:?}); run `batch migrate` first",
                pending.len(),
                pending
            );
        }
        Ok(())
    }

    pub async fn close(&self) {
        on_pool!(self, |pool| pool.close().await)
    }
}
