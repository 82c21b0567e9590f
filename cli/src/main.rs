//! `ai-billing`: the command line of the ai-billing library.
//!
//! - `preview FILE`: bills a scenario file and prints its invoices (`--json` for the scorer's
//!   contract);
//! - `interpret PROMPT`: the pricing program a plan prompt compiles to, and its reading;
//! - `demo`: three plain-language plans billed for six months from an embedded SQLite file.
//!
//! Exit status: 0 success; 1 any other failure; 2 malformed input (the message names the field);
//! 3 a plan prompt that could not be interpreted (nothing is billed). See [`failure`].

mod demo;
mod failure;
mod interpret;
mod preview;
mod render;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Plain-language billing plans, compiled to exact pricing programs and billed deterministically.
#[derive(Debug, Parser)]
#[command(
    name = "ai-billing",
    version,
    about = "Plain-language billing plans, compiled to exact pricing programs and billed deterministically",
    long_about = "ai-billing turns a billing rule written in plain language (\"Bill $5 for the first month \
                  and increase by $1 per month\", \"$0.75 per weekday delivery and $2.50 per Sunday \
                  delivery\") into a typed pricing program, and bills every period of a subscription by \
                  it: on time, to the cent, with tax and a revenue schedule. The offline interpreter \
                  needs no network and no key; a prompt it does not understand is refused, never guessed.",
    after_help = "Exit status: 0 success; 1 any other failure; 2 malformed input (the message names the \
                  field); 3 the plan prompt could not be interpreted (nothing is billed).\n\n\
                  Start with `ai-billing demo`."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Preview(preview::Args),
    Interpret(interpret::Args),
    Demo(demo::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Preview(args) => preview::run(args),
        Command::Interpret(args) => interpret::run(args),
        Command::Demo(args) => demo::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.exit(),
    }
}
