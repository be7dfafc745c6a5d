//! batchbox: every scheduled batch of the company in one binary, `batch`.
//!
//! Layers (dependencies only point down):
//! `cli` -> `batches` (the registry) -> `runtime` (one run: history, lock, time limit, signals)
//! -> `db` -> `config`, `telemetry`.

pub mod batches;
pub mod cli;
pub mod config;
pub mod db;
pub mod runtime;
pub mod telemetry;
