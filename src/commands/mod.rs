//! One function per command: its arguments in, core calls, printed results out, an exit code back. A
//! command that fails for some of its inputs returns `ExitCode::FAILURE`, never `process::exit`: what it
//! holds (a throwaway PostgreSQL, temp folders) is dropped, so stopped and removed, on the way out.

mod pipeline;
mod reconcile;
mod setup;
mod statements;

use crate::args::{Command, DbAction, DbArgs, RatesAction};
use anyhow::{bail, Result};
use std::path::PathBuf;
use std::process::ExitCode;
use syncrocardpay_core::config::{Config, EnvParameters, SsmParameters, DEFAULT_PREFIX};
use syncrocardpay_core::db;
use syncrocardpay_core::source::ftps::FtpsSettings;

pub async fn dispatch(command: Command) -> Result<ExitCode> {
    match command {
        Command::Migrate(db) => setup::migrate(db).await,
        Command::Sample(a) => setup::sample(a),
        Command::Parse(a) => statements::parse(a),
        Command::Ingest(a) => statements::ingest(a).await,
        Command::BankStatement(a) => statements::bank_statement(a).await,
        Command::MerchantSales(a) => statements::merchant_sales(a).await,
        Command::Unload(a) => statements::unload(a).await,
        Command::Fetch(a) => pipeline::fetch(a).await,
        Command::Discover(a) => pipeline::discover(a).await,
        Command::Run(a) => pipeline::run(a).await,
        Command::Reconcile(a) => reconcile::reconcile(a).await,
        Command::Report(a) => reconcile::report(a).await,
        Command::Rates { action: RatesAction::Import { file, db } } => reconcile::import_rates(file, db).await,
        Command::Bench(a) => setup::bench(a).await,
        Command::Db { action: DbAction::Start { dir, port } } => setup::db_start(dir, port),
        Command::Db { action: DbAction::Stop { dir } } => setup::db_stop(dir),
    }
}

/// `FAILURE` when any of a command's inputs failed, else `SUCCESS`.
fn exit_code(failed: usize) -> ExitCode {
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The settings in SSM (with --ssm-prefix) or the SYNCROCARDPAY_* environment.
async fn config(ssm_prefix: Option<&str>) -> Result<Config> {
    Ok(match ssm_prefix {
        Some(prefix) => Config::load(&SsmParameters::from_env().await, prefix).await?,
        None => Config::load(&EnvParameters, DEFAULT_PREFIX).await?,
    })
}

/// The database URL: --database-url / DATABASE_URL, else SSM (with --ssm-prefix), else the
/// SYNCROCARDPAY_DB_* environment; `None` when none of them is set.
async fn database_url(o: &DbArgs) -> Result<Option<String>> {
    if let Some(u) = o.database_url.as_ref().filter(|u| !u.is_empty()) {
        return Ok(Some(u.clone()));
    }
    Ok(config(o.ssm_prefix.as_deref()).await?.db.map(|d| d.url()).transpose()?)
}

async fn require_db(o: &DbArgs) -> Result<String> {
    match database_url(o).await? {
        Some(u) => Ok(u),
        None => bail!(
            "no database: set DATABASE_URL or pass --database-url (postgres://user:password@host:port/db), \
             or --ssm-prefix, or SYNCROCARDPAY_DB_{{HOST,PORT,USER,PASSWORD,NAME}}"
        ),
    }
}

async fn connect_and_migrate(url: &str) -> Result<tokio_postgres::Client> {
    let mut client = db::connect_retrying(url, &db::RetryPolicy::from_env()).await?;
    db::migrate(&mut client).await?;
    Ok(client)
}

/// The database the command's options name, migrated.
async fn database(o: &DbArgs) -> Result<(String, tokio_postgres::Client)> {
    let url = require_db(o).await?;
    let client = connect_and_migrate(&url).await?;
    Ok((url, client))
}

/// The S3 source: --s3, else S3_BUCKET and S3_PREFIX.
fn s3_url(arg: Option<String>) -> Option<String> {
    arg.or_else(|| {
        std::env::var("S3_BUCKET")
            .ok()
            .filter(|b| !b.is_empty())
            .map(|b| format!("s3://{b}/{}", std::env::var("S3_PREFIX").unwrap_or_default()))
    })
}

/// The FTPS source: --ftps, else the SSM / environment settings; with the CA bundle and name prefix options.
async fn ftps_settings(
    o: &DbArgs,
    url: Option<String>,
    ca_file: Option<PathBuf>,
    prefix: Option<String>,
) -> Result<Option<FtpsSettings>> {
    let settings = match url {
        Some(url) => Some(FtpsSettings::from_url(&url)?),
        None => config(o.ssm_prefix.as_deref()).await?.ftps.map(|f| FtpsSettings {
            dir: std::env::var("SYNCROCARDPAY_FTPS_DIR").ok().filter(|d| !d.is_empty()),
            ..FtpsSettings::from_config(f)
        }),
    };
    Ok(settings.map(|mut f| {
        f.ca_file = ca_file;
        f.name_prefix = prefix;
        f
    }))
}
