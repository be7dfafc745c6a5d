//! Panics. Rust's default hook prints plain text on stderr, which CloudWatch shows as lines
//! without `batch` or `run_id` and no query finds. Here a panic, on any thread, is logged as one
//! ERROR line like every other, and remembered: a run during which something panicked ends
//! `failed`, even when the panic was in a task whose end the batch never looked at.

use std::any::Any;
use std::backtrace::{Backtrace, BacktraceStatus};
use std::sync::OnceLock;

use crate::telemetry::RUN;

/// The first panic of the process (one process is one run).
static FIRST: OnceLock<String> = OnceLock::new();

/// Replaces the default panic hook; call once the log subscriber is installed.
pub fn log_and_remember() {
    std::panic::set_hook(Box::new(|info| {
        let message = info.payload_as_str().unwrap_or("a panic without a message");
        let location = info.location().map(ToString::to_string).unwrap_or_default();
        // Only when RUST_BACKTRACE asks for it, as the default hook does.
        let backtrace = Backtrace::capture();
        let backtrace =
            (backtrace.status() == BacktraceStatus::Captured).then(|| backtrace.to_string());
        tracing::error!(target: RUN, error = message, location, backtrace, "panic");
        let _ = FIRST.set(format!("panicked at {location}: {message}"));
    }));
}

/// The first panic of this process, if there was one.
pub fn first() -> Option<&'static str> {
    FIRST.get().map(String::as_str)
}

/// The message of a panic caught with `catch_unwind`.
pub fn message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message")
}
