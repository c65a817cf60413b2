//! `fetch`, `discover`, `run`: statements from where the acquirers put them (APIs, a folder, S3, FTPS) into
//! the database, and the reconciliation of what came.

use super::reconcile::{scope_of, write_report};
use super::{config, connect_and_migrate, database, database_url, exit_code, ftps_settings, s3_url};
use crate::args::{DiscoverArgs, FetchArgs, RunArgs, SourceArgs};
use crate::print;
use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use syncrocardpay_core::db::{self, localpg::LocalPostgres};
use syncrocardpay_core::formats::cielo::sample::SampleSpec;
use syncrocardpay_core::formats::sample_world;
use syncrocardpay_core::intake::{self, ListingStatus};
use syncrocardpay_core::pipeline::RunSummary;
use syncrocardpay_core::source::api::{self, Api, ApiClient, Fetched, Inbox, PagbankApi, StoneApi};
use syncrocardpay_core::source::ftps::FtpsSource;
use syncrocardpay_core::source::s3::S3Store;
use syncrocardpay_core::source::{printable_name, FolderSource, StatementSource};

pub async fn fetch(a: FetchArgs) -> Result<ExitCode> {
    let config = config(a.ssm_prefix.as_deref()).await?;
    let to = a.to.unwrap_or(a.from);
    if to < a.from {
        bail!("--to {to} is before --from {}", a.from);
    }
    let client = |default: &str| ApiClient::new(a.base_url.as_deref().unwrap_or(default), a.ca_file.as_deref());
    let api = match a.acquirer.as_str() {
        "stone" => {
            let c = config.stone.context(
                "no Stone credentials: set PREFIX/stone/{stone_code,secret_key} in SSM (with --ssm-prefix) or \
                 SYNCROCARDPAY_STONE_STONE_CODE and SYNCROCARDPAY_STONE_SECRET_KEY",
            )?;
            Api::Stone(StoneApi::new(client(api::STONE_URL)?, &c.stone_code, c.secret_key)?)
        }
        "pagbank" => {
            let c = config.pagbank.context(
                "no PagBank credentials: set PREFIX/pagbank/{user,token} in SSM (with --ssm-prefix) or \
                 SYNCROCARDPAY_PAGBANK_USER and SYNCROCARDPAY_PAGBANK_TOKEN",
            )?;
            Api::Pagbank(PagbankApi::new(client(api::PAGBANK_URL)?, &c.user, c.token)?)
        }
        other => bail!("{:?}: fetch knows stone and pagbank (the others deliver files)", printable_name(other)),
    };
    let inbox = if a.out.starts_with("s3://") {
        let (bucket, prefix) = S3Store::parse_url(&a.out)?;
        Inbox::S3(Arc::new(S3Store::from_env(&bucket, &prefix).await))
    } else {
        Inbox::Folder(PathBuf::from(&a.out))
    };
    // Without a database at hand, only the folder tells what is already there (`unchanged`); what was loaded
    // before comes in again as a `duplicate` of it, never a second fact.
    let fetched = api.fetch(a.from, to, &inbox, &Default::default()).await;
    let mut failed = 0;
    for f in &fetched {
        failed += usize::from(matches!(f, Fetched::Failed { .. }));
        if a.json {
            println!("{}", serde_json::to_string(f)?);
            continue;
        }
        match f {
            Fetched::Written { name, bytes, .. } => println!("written    {name} ({bytes} bytes)"),
            Fetched::Unchanged { name } => println!("unchanged  {name}"),
            Fetched::Nothing { what, reason } => println!("nothing    {what}: {reason}"),
            Fetched::Failed { what, error } => eprintln!("FAILED     {what}: {error}"),
        }
    }
    Ok(exit_code(failed))
}

pub async fn discover(a: DiscoverArgs) -> Result<ExitCode> {
    let (_, client) = database(&a.db).await?;
    let mut listing = Vec::new();
    for source in sources(&a.db, a.sources).await? {
        listing.extend(intake::preview(&client, &*source).await?);
    }
    for l in &listing {
        if a.json {
            println!("{}", serde_json::to_string(l)?);
        } else {
            let why = l.reason.as_deref().map(|r| format!(" ({})", printable_name(r))).unwrap_or_default();
            println!("{:<6} {:>12}  {}  {}{why}", l.status, l.size, l.source, printable_name(&l.name));
        }
    }
    if !a.json {
        let new = listing.iter().filter(|l| l.status == ListingStatus::New).count();
        println!("{new} new of {} listed", listing.len());
    }
    Ok(ExitCode::SUCCESS)
}

/// The sources given, in the order a run reads them: the S3 inbox, the FTPS server (its raw copies kept in
/// the bucket, when one is given), the folder.
async fn sources(db: &crate::args::DbArgs, given: SourceArgs) -> Result<Vec<Arc<dyn StatementSource>>> {
    let SourceArgs { inbox, s3, ftps, ftps_ca_file, ftps_prefix } = given;
    let mut sources: Vec<Arc<dyn StatementSource>> = Vec::new();
    let store = match s3_url(s3) {
        Some(s3_url) => {
            let (bucket, prefix) = S3Store::parse_url(&s3_url)?;
            Some(Arc::new(S3Store::from_env(&bucket, &prefix).await))
        }
        None => None,
    };
    if let Some(store) = &store {
        sources.push(store.clone());
    }
    if let Some(settings) = ftps_settings(db, ftps, ftps_ca_file, ftps_prefix).await? {
        sources.push(Arc::new(FtpsSource::new(settings)?.with_copies(store)));
    }
    if let Some(dir) = inbox {
        sources.push(Arc::new(FolderSource::new(dir)));
    }
    Ok(sources)
}

/// `run`: every source given (without any, a generated sample of every acquirer with the merchants' books),
/// loaded in parallel, then reconciled; a throwaway PostgreSQL when no database is configured.
pub async fn run(a: RunArgs) -> Result<ExitCode> {
    let mut sources = sources(&a.db, a.sources).await?;
    // Held to the end: dropped (stopped, deleted) on the way out, whatever the outcome.
    let mut _throwaway = None;
    let url = match database_url(&a.db).await? {
        Some(u) => u,
        None => {
            eprintln!("no DATABASE_URL: starting a throwaway PostgreSQL (deleted when this run ends)…");
            let pg = tokio::task::spawn_blocking(|| LocalPostgres::start(None, None)).await??;
            eprintln!("throwaway PostgreSQL on 127.0.0.1:{}", pg.port());
            let url = pg.url().to_string();
            _throwaway = Some(pg);
            url
        }
    };
    connect_and_migrate(&url).await?;
    let jobs = a.jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2));
    let mut _sample_dir = None;
    if sources.is_empty() {
        let dir = tempfile::Builder::new().prefix("syncrocardpay-inbox-").tempdir()?;
        seed_sample(dir.path(), a.sample_transactions, &url).await?;
        sources.push(Arc::new(FolderSource::new(dir.path())));
        _sample_dir = Some(dir);
    }
    let mut summaries: Vec<(String, RunSummary)> = Vec::new();
    for source in sources {
        let label = source.label();
        let summary = tokio::select! {
            summary = intake::run(&url, source, jobs) => summary?,
            _ = tokio::signal::ctrl_c() => {
                // Returning drops the throwaway cluster (stopped, deleted); loads in flight roll back.
                bail!("interrupted: files being loaded were rolled back; run again to finish");
            }
        };
        summaries.push((label, summary));
    }
    // Reconcile what this run loaded (and any load before it left pending): per merchant, over the periods of
    // its files.
    let mut client = db::connect(&url).await?;
    let reconciled = db::recon::reconcile_pending(&mut client, chrono::Local::now().date_naive()).await?;
    for (label, summary) in &summaries {
        if a.json {
            println!("{}", serde_json::to_string(summary)?);
        } else {
            print::run_summary(summary, label);
        }
    }
    if a.json {
        for r in &reconciled {
            println!("{}", serde_json::to_string(r)?);
        }
    } else {
        print::database_totals(&client).await?;
        print::reconciliation_headline(&reconciled);
    }
    if let Some(path) = a.report {
        let scope = scope_of(&client, crate::args::ScopeArgs::default()).await?;
        write_report(&mut client, &scope, false, a.lang, Some(&path), None).await?;
        let shown = std::path::absolute(&path).unwrap_or(path);
        eprintln!("open the report in a browser: file://{}", shown.display());
    }
    Ok(exit_code(summaries.iter().filter(|(_, s)| s.failed > 0 || s.rejected > 0).count()))
}

/// The demo's inbox: every acquirer's sample statements (Getnet, PagBank and Stone a tenth of the Cielo sales
/// each) and their bank statements, with the merchants' POS export and contract loaded first, so that the
/// reconciliation sees them.
async fn seed_sample(dir: &std::path::Path, transactions: u64, url: &str) -> Result<()> {
    let spec = SampleSpec { transactions, ..SampleSpec::default() };
    let world = sample_world::write(dir, &spec, |_| (transactions / 10) as usize)?;
    let (statements, bank) = world.statement_count();
    eprintln!(
        "no --inbox, --s3 or --ftps: generated {} sample Cielo statements, {} Getnet, PagBank and Stone statements \
         and {bank} bank statements in {}, with the merchants' POS export and contracted rates",
        world.cielo.len(),
        statements - world.cielo.len(),
        dir.display()
    );
    let mut client = db::connect(url).await?;
    syncrocardpay_core::pipeline::load_books(&mut client, &world.books, "sample").await?;
    Ok(())
}
