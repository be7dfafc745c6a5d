//! How a run ended, and the process exit code that tells ECS (and the failure notification).

use std::fmt;
use std::str::FromStr;

/// Exit codes of `batch`, documented in `docs/operations.md`.
pub mod exit_code {
    /// The run succeeded, or was skipped because another run of an exclusive batch holds its lock.
    pub const SUCCESS: u8 = 0;
    /// The batch failed (its error is in `run finished` and in history).
    pub const FAILURE: u8 = 1;
    /// Usage or configuration error: unknown batch, bad option, bad environment variable.
    pub const USAGE: u8 = 2;
    /// The time limit passed (the code GNU `timeout` uses).
    pub const TIMED_OUT: u8 = 124;
    /// Stopped by SIGTERM or SIGINT (128 + SIGTERM, what a shell shows for a terminated process).
    pub const INTERRUPTED: u8 = 143;
}

/// Every exit code of `batch` and what it means, in the words the help text, the failure
/// message (Terraform's input transformer) and docs/operations.md use; tests hold those to it.
pub const EXIT_CODES: [(u8, &str); 5] = [
    (exit_code::SUCCESS, "succeeded or skipped"),
    (exit_code::FAILURE, "failed"),
    (exit_code::USAGE, "usage or configuration error"),
    (exit_code::TIMED_OUT, "timed out"),
    (exit_code::INTERRUPTED, "interrupted"),
];

/// "0 succeeded or skipped, 1 failed, ...": the exit codes in one line.
pub fn exit_codes_line() -> String {
    EXIT_CODES
        .iter()
        .map(|(code, meaning)| format!("{code} {meaning}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A configuration problem that a batch can only find by trying (a directory it cannot write, a
/// bucket its credentials cannot reach), before it has touched any work: the run ends `failed`
/// with exit code 2, like a bad variable.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Misconfigured(pub String);

/// The status column of `batch_runs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Interrupted,
    Skipped,
}

impl RunStatus {
    pub const ALL: [RunStatus; 6] = [
        RunStatus::Running,
        RunStatus::Succeeded,
        RunStatus::Failed,
        RunStatus::TimedOut,
        RunStatus::Interrupted,
        RunStatus::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::TimedOut => "timed_out",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Skipped => "skipped",
        }
    }

    /// The exit code of a run that ended with this status (a configuration error is `failed`
    /// with `USAGE` instead).
    pub fn exit_code(self) -> u8 {
        match self {
            RunStatus::Running | RunStatus::Succeeded | RunStatus::Skipped => exit_code::SUCCESS,
            RunStatus::Failed => exit_code::FAILURE,
            RunStatus::TimedOut => exit_code::TIMED_OUT,
            RunStatus::Interrupted => exit_code::INTERRUPTED,
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RunStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        RunStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("unknown run status `{s}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The failure message (scheduled_batch's input transformer) and the runbook name each
    /// non-zero code as the table does, and the runbook's exit-code table has exactly its codes.
    #[test]
    fn the_failure_message_and_the_runbook_say_what_the_table_says() {
        let transformer = include_str!("../../terraform/modules/scheduled_batch/main.tf");
        let runbook = include_str!("../../docs/operations.md");
        for (code, meaning) in EXIT_CODES.iter().skip(1) {
            let words = format!("{code} {meaning}");
            assert!(
                transformer.contains(&words),
                "scheduled_batch/main.tf: `{words}`"
            );
            assert!(runbook.contains(&words), "docs/operations.md: `{words}`");
        }
        let table = runbook
            .split("## Exit codes")
            .nth(1)
            .expect("docs/operations.md has an Exit codes section");
        let documented: Vec<u8> = table
            .lines()
            .skip_while(|l| !l.starts_with("|---"))
            .skip(1)
            .take_while(|l| l.starts_with('|'))
            .filter_map(|l| l.split('|').nth(1)?.trim().parse().ok())
            .collect();
        let codes: Vec<u8> = EXIT_CODES.iter().map(|(code, _)| *code).collect();
        assert_eq!(documented, codes);
    }
}
