//! The integration tests, one binary (linking the crate once, not once per area): each module
//! runs the real `batch` binary against real PostgreSQL, SQLite, S3 and SNS servers.

#[macro_use]
mod helpers;

mod catalog;
mod cli;
mod cron_judge;
mod excel_limits;
mod export;
mod history;
mod inputs;
mod launch;
mod log_contract;
mod missed_runs;
mod runs;
mod schema;
mod timeline;
mod worker_faults;
