//! batchbox: every scheduled batch of the company in one binary, `batch`.
//!
//! Layers (dependencies only point down):
//! `cli` -> `batches` (the registry; `demo` and its sample data) -> `export` (its configuration,
//! queue, records, workbook, worker) and `runtime` (one run: history, lock, time limit, signals)
//! -> `db`, `storage`, `calendar` (business days in the company's time zone) -> `config`,
//! `telemetry`.

pub mod batches;
pub mod calendar;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod db;
pub mod export;
pub mod launch;
pub mod missed_runs;
pub mod runtime;
pub mod storage;
pub mod telemetry;
pub mod timeline;
