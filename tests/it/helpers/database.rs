//! The test databases: a fresh PostgreSQL database per test on the server in
//! `TEST_DATABASE_URL`, or a fresh SQLite file.

use super::block_on;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

pub(super) fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "TEST_DATABASE_URL is not set: PostgreSQL tests need a server. \
             Run scripts/test.sh, which starts one, or set TEST_DATABASE_URL to an admin URL."
        )
    })
}

pub(super) fn create_postgres_database(admin: &str) -> String {
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
