//! The two backends' migrations define the same schema: every table and column that one has,
//! the other has too (types differ on purpose: timestamps are TEXT on SQLite).

use std::collections::BTreeSet;

use crate::helpers::{Backend, Sandbox, block_on};
use batchbox::db::Db;

/// `table.column` for every column of the migrated schema (sqlx's own bookkeeping excluded).
fn columns(backend: Backend) -> BTreeSet<String> {
    let db = Sandbox::migrated(backend);
    block_on(async {
        let pool = db.open().await;
        let rows: Vec<(String, String)> = match &pool {
            Db::Postgres(pg) => sqlx::query_as(
                "SELECT table_name::text, column_name::text FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'",
            )
            .fetch_all(pg)
            .await
            .unwrap(),
            Db::Sqlite(lite) => sqlx::query_as(
                "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
                 WHERE m.type = 'table' AND m.name <> '_sqlx_migrations' AND m.name NOT LIKE 'sqlite_%'",
            )
            .fetch_all(lite)
            .await
            .unwrap(),
        };
        pool.close().await;
        rows.into_iter().map(|(t, c)| format!("{t}.{c}")).collect()
    })
}

#[test]
fn postgres_and_sqlite_migrations_define_the_same_tables_and_columns() {
    let postgres = columns(Backend::Postgres);
    let sqlite = columns(Backend::Sqlite);
    assert!(
        postgres.contains("batch_runs.run_id") && postgres.contains("missed_runs.seen"),
        "{postgres:?}"
    );
    let only_postgres: Vec<_> = postgres.difference(&sqlite).collect();
    let only_sqlite: Vec<_> = sqlite.difference(&postgres).collect();
    assert!(
        only_postgres.is_empty() && only_sqlite.is_empty(),
        "only in migrations/postgres: {only_postgres:?}; only in migrations/sqlite: {only_sqlite:?}"
    );
}
