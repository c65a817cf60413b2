//! `syncrocardpay`: the command-line adapter of the core library. Arguments in ([`args`]), one function per
//! command ([`commands`]) calling the core, printed results out ([`print`], [`progress_ui`]); nothing here
//! parses statements or talks SQL ([`bench`] times the real commands and COPY paths).

mod args;
mod bench;
mod commands;
mod print;
mod progress_ui;

use clap::Parser;

/// mimalloc rather than glibc's malloc: see Cargo.toml (measured on the reconciliation, docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<std::process::ExitCode> {
    // `syncrocardpay parse … | head`: when the reader goes away, end quietly as Unix tools do (the default
    // SIGPIPE action), not with a broken-pipe panic and exit 101.
    // SAFETY: setting a signal's disposition to its default at start-up, before any thread writes.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    tracing_subscriber::fmt()
        .with_env_filter(syncrocardpay_core::logging::filter("warn"))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = args::Cli::parse();
    if !cli.quiet {
        progress_ui::install();
    }
    commands::dispatch(cli.command).await
}
