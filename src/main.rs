//! `citebot`: parse the command line, read the configuration, run the command, and turn any
//! error into one line on stderr and a non-zero exit code.

use std::process::ExitCode;

use clap::Parser;

use citebot::cli::{self, Cli, Command};
use citebot::config::Config;

fn main() -> ExitCode {
    let process_start = std::time::Instant::now();
    let cli = Cli::parse();
    // A missing .env is normal; a broken one is worth saying.
    if let Err(e) = dotenvy::dotenv() {
        if !e.not_found() {
            eprintln!("citebot: .env: {e}");
            return ExitCode::FAILURE;
        }
    }
    citebot::logs::init();
    match run(cli, process_start) {
        Ok(()) => ExitCode::SUCCESS,
        // `citebot ask ... | head`: the reader has all it wanted.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("citebot: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli, process_start: std::time::Instant) -> anyhow::Result<()> {
    let mut config = Config::from_env()?;
    cli.apply(&mut config);
    // Before any other thread starts: it sets what the model's thread pools read.
    citebot::threads::configure(config.threads);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => citebot::telegram::serve(config),
        Command::Ask(args) => cli::ask(&cli::engine(&config)?, &config, &args, cli.color),
        Command::Chat(args) => citebot::chat::run(
            &cli::engine(&config)?,
            args.json,
            cli.color.style(),
            config.max_question_chars,
        ),
        Command::Index(args) => cli::index(&cli::engine(&config)?, &args),
        Command::Add(args) => cli::add(&config, &args),
        Command::Eval(args) => cli::eval(&config, &args),
        Command::Fit(args) => cli::fit(&config, &args),
        Command::Bench(args) => cli::bench(&config, &args, process_start),
        Command::Report(args) => cli::report(&config, &args),
        Command::Webhook {
            action: cli::WebhookAction::Delete,
        } => citebot::telegram::delete_webhook(&config),
        Command::Spin => {
            citebot::bench::spin();
            Ok(())
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
