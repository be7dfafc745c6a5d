//! Test setup in one place: a `Sandbox` per test (a fresh database, PostgreSQL or SQLite, a
//! scratch directory, and the real `batch` binary run in it with a clean environment), the
//! processes it runs (`process`), and real servers (`postgres`, `s3`, `sns`).
//!
//! PostgreSQL comes from `TEST_DATABASE_URL` (an admin URL; `scripts/test.sh` starts a
//! throwaway server and sets it). Without it, PostgreSQL tests fail: they never skip.

pub mod chromium;
mod database;
pub mod ecs;
pub mod export;
pub mod libreoffice;
pub mod moto;
pub mod postgres;
mod process;
pub mod s3;
mod sandbox;
pub mod sns;

pub use database::Backend;
pub use process::{Output, finished_line, json_lines};
pub use sandbox::Sandbox;

use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

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
                let body: fn(&$crate::helpers::Sandbox) = $body;
                body(&$crate::helpers::Sandbox::migrated(
                    $crate::helpers::Backend::Postgres,
                ));
            }
            #[test]
            fn sqlite() {
                let body: fn(&$crate::helpers::Sandbox) = $body;
                body(&$crate::helpers::Sandbox::migrated(
                    $crate::helpers::Backend::Sqlite,
                ));
            }
        }
    };
}

pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("test runtime")
        .block_on(future)
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

/// A TCP port nobody listens on right now, on 127.0.0.1, for a server a test starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free local port")
        .port()
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}
