//! The `ratesim` binary: parses the command line, calls the library, maps errors to exit
//! codes (2 for bad input, 1 for anything else).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = ratesim::cli::Cli::parse();
    let mut stdout = std::io::stdout().lock();
    match ratesim::commands::execute(cli, &mut stdout) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(e.exit_code())
        }
    }
}
