//! `batch list`: every batch of this image, for people and (with `--json`) for machines such as
//! the Terraform catalog check.

use clap::{Arg, ArgAction, Command};
use serde::Serialize;

use crate::batches::REGISTRY;
use crate::runtime::status::exit_code;

pub fn command() -> Command {
    Command::new("list")
        .about("Lists every batch in this image with its description")
        .arg(
            Arg::new("json")
                .long("json")
                .action(ArgAction::SetTrue)
                .help("One JSON array, with each batch's options, exclusivity and time limit"),
        )
}

#[derive(Serialize)]
struct Listed {
    name: &'static str,
    description: &'static str,
    exclusive: bool,
    time_limit_secs: u64,
    options: Vec<String>,
}

pub fn print(json: bool) -> u8 {
    if json {
        let listed: Vec<Listed> = REGISTRY
            .iter()
            .map(|batch| Listed {
                name: batch.name,
                description: batch.about,
                exclusive: batch.exclusive,
                time_limit_secs: batch.time_limit.as_secs(),
                options: options_of(batch),
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&listed).expect("plain data serializes")
        );
    } else {
        for line in lines() {
            println!("{line}");
        }
    }
    exit_code::SUCCESS
}

/// One line per batch: its name and its description.
pub fn lines() -> impl Iterator<Item = String> {
    REGISTRY
        .iter()
        .map(|batch| format!("{:<18} {}", batch.name, batch.about))
}

/// The long options a batch accepts, as written on a command line (`--older-than-days`).
pub fn options_of(batch: &crate::batches::Batch) -> Vec<String> {
    batch
        .command()
        .get_arguments()
        .filter_map(|arg| arg.get_long().map(|long| format!("--{long}")))
        .collect()
}
