//! `batch`: the one binary of the image; everything lives in the library.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(batchbox::cli::main(std::env::args_os().collect()))
}
