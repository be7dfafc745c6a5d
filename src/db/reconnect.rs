//! Riding out a database restart or an Aurora/RDS failover: a statement that failed because the
//! connection broke (or none could be made) is tried again, with doubling pauses, until the
//! database answers or a budget of the order of a failover has passed. A statement the database
//! rejected is never retried here.

use std::future::Future;
use std::time::{Duration, Instant};

/// How long a lane keeps trying before it gives up on the database: an Aurora failover or a
/// PostgreSQL restart takes seconds to about a minute.
pub const BUDGET: Duration = Duration::from_secs(120);
const FIRST_PAUSE: Duration = Duration::from_millis(100);
const MAX_PAUSE: Duration = Duration::from_secs(5);

/// Whether `error` means the connection to the database broke or could not be made (restart,
/// failover, network, a pool with no free connection in time), rather than a rejected statement.
pub fn is_disconnect(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<sqlx::Error>())
        .any(sqlx_disconnect)
}

fn sqlx_disconnect(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut => true,
        // Class 08: connection exceptions; 57P01-57P03: the server is shutting down or starting
        // (a restart, a failover); 53300: too many connections, while clients reconnect at once.
        sqlx::Error::Database(e) => e.code().is_some_and(|code| {
            code.starts_with("08") || ["57P01", "57P02", "57P03", "53300"].contains(&code.as_ref())
        }),
        _ => false,
    }
}

/// Runs `attempt` until it succeeds, fails with anything but a disconnect, or `budget` has
/// passed since the first try; `what` names the statement in the WARN line of each retry.
pub async fn retry<T, F, Fut>(what: &str, budget: Duration, mut attempt: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let started = Instant::now();
    let mut pause = FIRST_PAUSE;
    loop {
        match attempt().await {
            Err(e) if is_disconnect(&e) => {
                if started.elapsed() + pause > budget {
                    return Err(e.context(format!(
                        "{what}: the database did not answer for {}s",
                        budget.as_secs()
                    )));
                }
                tracing::warn!(
                    operation = what,
                    error = format!("{e:#}"),
                    retry_in_ms = pause.as_millis() as u64,
                    "the database connection failed; trying again"
                );
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_PAUSE);
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn refused() -> anyhow::Error {
        anyhow::Error::new(sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )))
        .context("claiming a job")
    }

    #[test]
    fn a_refused_connection_is_a_disconnect_and_a_missing_row_is_not() {
        assert!(is_disconnect(&refused()));
        assert!(is_disconnect(&anyhow::Error::new(
            sqlx::Error::PoolTimedOut
        )));
        assert!(!is_disconnect(&anyhow::Error::new(
            sqlx::Error::RowNotFound
        )));
        assert!(!is_disconnect(&anyhow::anyhow!("bad data in record 7")));
    }

    #[tokio::test]
    async fn a_disconnect_is_retried_until_the_database_answers() {
        let tries = AtomicU32::new(0);
        let answer = retry("test", BUDGET, || async {
            match tries.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(refused()),
                _ => Ok(42),
            }
        })
        .await
        .unwrap();
        assert_eq!((answer, tries.load(Ordering::SeqCst)), (42, 3));
    }

    #[tokio::test]
    async fn other_errors_and_an_exhausted_budget_are_returned() {
        let tries = AtomicU32::new(0);
        let rejected = retry("test", BUDGET, || async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(anyhow::anyhow!("duplicate key"))
        })
        .await;
        assert!(rejected.is_err());
        assert_eq!(tries.load(Ordering::SeqCst), 1, "not retried");

        let gave_up = retry("claim", Duration::from_millis(250), || async {
            Err::<(), _>(refused())
        })
        .await
        .unwrap_err();
        assert!(
            format!("{gave_up:#}").contains("did not answer"),
            "{gave_up:#}"
        );
    }
}
