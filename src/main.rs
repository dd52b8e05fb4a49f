use std::process::ExitCode;

use clap::Parser as _;

#[tokio::main]
async fn main() -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = jaga::cli::Cli::parse();
    match jaga::cli::run(cli).await {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let reason = format!("{e:#}").replace('\n', " ");
            eprintln!("jaga: {reason}");
            ExitCode::FAILURE
        }
    }
}
