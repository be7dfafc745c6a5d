//! The `batch` command line: `batch <batch> [options]` runs a batch; `list` and `history` read.

mod history;
mod list;
mod schedule;

use std::ffi::OsString;
use std::time::Duration;

use clap::error::ErrorKind;
use clap::{ArgMatches, Command};

use crate::batches::{self, REGISTRY};
use crate::runtime::{self, status, status::exit_code};

const ABOUT: &str = "Runs one scheduled batch of the company, or tells about them";
/// The help text's last sentence is built from the exit-code table (`status::EXIT_CODES`).
fn long_about() -> String {
    format!(
        "Runs one scheduled batch of the company: `batch <batch> [options]`. On ECS the task \
definition's command names the batch, e.g. [\"history-prune\"].\n\n\
Configuration comes from environment variables (see docs/configuration.md); logs are JSON lines \
on stdout (LOG_FORMAT=pretty for a terminal). Exit codes: {}.",
        status::exit_codes_line()
    )
}

/// The whole program: parse, run, return the exit code.
pub fn main(args: Vec<OsString>) -> u8 {
    // Recorded with the run: the command line after the program name.
    let arguments: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let matches = match command().try_get_matches_from(args) {
        Ok(matches) => matches,
        Err(e) => return usage_error(e),
    };
    let Some((name, sub)) = matches.subcommand() else {
        return usage_error(
            command().error(ErrorKind::MissingSubcommand, "name a batch or command"),
        );
    };
    if matches!(name, "list" | "history" | "schedule") {
        end_quietly_on_a_closed_pipe();
    }
    match name {
        "list" => list::print(sub.get_flag("json")),
        "history" => history::print(sub),
        "schedule" => schedule::print(sub),
        _ => run_batch(name, sub, arguments),
    }
}

/// The reading commands print for people and pipes (`batch history | head`): when the reader goes
/// away, end quietly as `ls` does, instead of panicking on the write. Batch runs keep Rust's
/// default (SIGPIPE ignored): their log writes must never kill a run.
fn end_quietly_on_a_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called before any thread is started; SIG_DFL is a valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn command() -> Command {
    let mut command = Command::new("batch")
        .about(ABOUT)
        .long_about(long_about())
        .version(env!("CARGO_PKG_VERSION"))
        .subcommand_required(true)
        .arg_required_else_help(true)
        .subcommand(list::command())
        .subcommand(history::command())
        .subcommand(schedule::command());
    for batch in REGISTRY {
        command = command.subcommand(batch.command());
    }
    command
}

fn run_batch(name: &str, matches: &ArgMatches, arguments: Vec<String>) -> u8 {
    let Some(batch) = batches::find(name) else {
        return unknown_batch(name);
    };
    let work = match (batch.prepare)(matches) {
        Ok(work) => work,
        Err(e) => return usage_error(e),
    };
    let max_runtime = matches.get_one::<Duration>("max-runtime").copied();
    runtime::launch(batch.spec(), arguments, max_runtime, work)
}

fn usage_error(error: clap::Error) -> u8 {
    if error.kind() == ErrorKind::InvalidSubcommand {
        let name = error
            .get(clap::error::ContextKind::InvalidSubcommand)
            .map(ToString::to_string)
            .unwrap_or_default();
        return unknown_batch(&name);
    }
    let _ = error.print();
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => exit_code::SUCCESS,
        _ => exit_code::USAGE,
    }
}

fn unknown_batch(name: &str) -> u8 {
    eprintln!("error: unknown batch `{name}`\n\nKnown batches:");
    for line in list::lines() {
        eprintln!("  {line}");
    }
    eprintln!("\nOther commands: list, history, schedule. Run `batch --help` for more.");
    exit_code::USAGE
}
