//! `syncrocardpay`: the command-line adapter of the core library. Arguments in, core calls, printed
//! results out; nothing here parses statements or talks SQL.

mod bench;
mod print;
mod progress_ui;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;
use syncrocardpay_core::config::{Config, EnvParameters, SsmParameters, DEFAULT_PREFIX};
use syncrocardpay_core::db::{self, localpg::LocalPostgres};
use syncrocardpay_core::formats::bank::sample as bank_sample;
use syncrocardpay_core::formats::cielo::sample::{self, SampleSpec};
use syncrocardpay_core::formats::merchant::{read_merchant_sales, Mapping};
use syncrocardpay_core::pipeline::{self, IngestMode, Outcome};
use syncrocardpay_core::reconcile::fees::read_rates;
use syncrocardpay_core::reconcile::{report, Scope, Settings};
use syncrocardpay_core::source::ftps::{FtpsSettings, FtpsSource};
use syncrocardpay_core::source::s3::S3Store;
use syncrocardpay_core::source::{printable_name, FolderSource, StatementSource};

#[derive(Parser)]
#[command(name = "syncrocardpay", version, about = "Card-payment reconciliation: acquirer statements into PostgreSQL")]
struct Cli {
    /// PostgreSQL connection URL (postgres://user:password@host:port/db).
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    database_url: Option<String>,
    /// Read the database settings from AWS SSM Parameter Store under this prefix (e.g. /syncrocardpay:
    /// PREFIX/db/{host,port,user,password,name}) when no database URL is given. Without it, the
    /// SYNCROCARDPAY_DB_{HOST,PORT,USER,PASSWORD,NAME} environment variables are used if set.
    #[arg(long, env = "SYNCROCARDPAY_SSM_PREFIX", global = true)]
    ssm_prefix: Option<String>,
    /// No progress (bars on a terminal, a line every 10 s otherwise): only results and errors.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply the database migrations (also done automatically before every load).
    Migrate,
    /// Write realistic, internally consistent Cielo v15 statements: sales (03), payments (04), open balance
    /// (09), receivables negotiation (15) and Pix (16) for each merchant.
    Sample {
        #[arg(long)]
        out: PathBuf,
        /// Number of sales across all merchants (installments multiply the lines).
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
        transactions: u64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Merchants (1 to 1000).
        #[arg(long, default_value_t = 3, value_parser = count_between::<1, 1000>)]
        merchants: usize,
        /// Also write, under OUT/quirks, the quirks real files show (docs/formats.md): an E-only CIELO03, a
        /// blank product, a `+` fee sign, a CIELO16 counting no Pix, a layout-001 file, a zip, a re-sent 04.
        #[arg(long)]
        quirks: bool,
        /// Also write PagBank EDI responses (v3.00 JSON) of this many sales of one establishment over the same
        /// days: each day's transactional movement, the financial movement of each day an installment settles
        /// with its automatic cashout, and the bank statement that credits the cashouts.
        #[arg(long, default_value_t = 0)]
        pagbank_sales: usize,
        /// Also write Stone conciliation files (XML 2.4) of this many sales of one StoneCode over the same days:
        /// a file per day with its captures, the installments paid and the deposit, and the bank statement
        /// that credits the deposits.
        #[arg(long, default_value_t = 0)]
        stone_sales: usize,
        /// Also write Getnet statements (V10.1, 400 bytes) of this many sales of one EC over the same days:
        /// a file per day with its RVs forecast and their CVs, the RV installments paid that day and the day's
        /// payment (type 5 `PG`), and the bank statement that credits the payments.
        #[arg(long, default_value_t = 0)]
        getnet_sales: usize,
    },
    /// Validate statements without loading them; exit status 1 if any is rejected.
    Parse {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// One JSON object per file (amounts as decimal strings).
        #[arg(long)]
        json: bool,
    },
    /// Parse, validate and load statements (one transaction per file); exit status 1 if any is rejected.
    Ingest {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Load the merchant's bank statements (OFX, CNAB 240 extrato) and say, per account, the period, the
    /// balances, the entries and how many say they are card money; then reconcile again the merchants whose
    /// accounts they cover (their bank area). Files that are not bank statements are refused (use `ingest`).
    /// Exit status 1 if any is rejected or refused.
    BankStatement {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Load the merchant's own sales export (POS / ERP CSV), read through a mapping file (see
    /// `docs/merchant-sales.md`); with --check, validate only. Exit status 1 if any file is rejected.
    MerchantSales {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// TOML mapping: delimiter, date and decimal formats, which column is what.
        #[arg(long)]
        mapping: PathBuf,
        /// Validate without loading (no database needed).
        #[arg(long)]
        check: bool,
        #[arg(long)]
        json: bool,
    },
    /// Fetch the statements of the acquirers that publish them by API (Stone's conciliation API, PagBank's EDI
    /// API) for a range of days, each day's raw answer written to the inbox folder as a file (load them with
    /// `ingest` or `run --inbox`). Credentials from SSM (--ssm-prefix: PREFIX/stone/{stone_code,secret_key},
    /// PREFIX/pagbank/{user,token}) or SYNCROCARDPAY_STONE_{STONE_CODE,SECRET_KEY},
    /// SYNCROCARDPAY_PAGBANK_{USER,TOKEN}. Exit status 1 if a day could not be fetched.
    Fetch {
        /// `stone` or `pagbank`.
        acquirer: String,
        /// First day (YYYY-MM-DD).
        #[arg(long)]
        from: chrono::NaiveDate,
        /// Last day, included (default: the first).
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
        /// Where the files are written: an inbox folder, or `s3://BUCKET/PREFIX` (its `PREFIX/inbox/`, which
        /// the deployment discovers; the AWS SDK's standard environment).
        #[arg(long)]
        out: String,
        /// The API's address (default: the acquirer's production API).
        #[arg(long)]
        base_url: Option<String>,
        /// Trust only this CA bundle (PEM) for the API's certificate, instead of the system's CAs.
        #[arg(long)]
        ca_file: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// List what the sources hold that is not loaded yet, without downloading or loading anything.
    Discover {
        #[command(flatten)]
        sources: SourceArgs,
        #[arg(long)]
        json: bool,
    },
    /// The whole local pipeline over a folder: discover new files → ingest and load in parallel → summary.
    /// Without --inbox, runs on generated sample statements; without a database, starts a throwaway one.
    Run {
        #[command(flatten)]
        sources: SourceArgs,
        /// Files processed in parallel (default: number of CPUs).
        #[arg(long, value_parser = count_between::<1, 256>)]
        jobs: Option<usize>,
        /// Sales in the generated sample when there is no --inbox.
        #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..))]
        sample_transactions: u64,
        /// Then write the HTML report of everything loaded (all merchants, the whole period) here.
        #[arg(long)]
        report: Option<PathBuf>,
        /// The report's language: pt-BR or en.
        #[arg(long, default_value = "pt-BR", value_parser = clap::builder::ValueParser::new(|s: &str| s.parse::<report::Lang>()))]
        lang: report::Lang,
        #[arg(long)]
        json: bool,
    },
    /// Reconcile what is loaded: the merchant's sales against the acquirers', forecast installments against
    /// payments (with adjustments), fees against the contracted rates, the acquirers' payments against the bank
    /// statements' credits. The result replaces the previous run over the same scope. Without --from/--to, the
    /// whole period the loaded facts cover.
    Reconcile {
        /// First day (sales and fees by sale date, installments by due date, adjustments by posting date,
        /// bank deposits by pay date).
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// Last day.
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
        /// One merchant (EC code), else all.
        #[arg(long)]
        merchant: Option<String>,
        /// The day to look from: unpaid installments due by then are overdue (default: today, or the end of
        /// the last payment statement loaded if earlier).
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        /// How many days a merchant's sale date may differ from the acquirer's (0 to 31).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i64).range(0..=31))]
        date_window: i64,
        /// Differences of money up to this are rounding, not divergence (0 to 100.00, in reais).
        #[arg(long, default_value = "0.01", value_parser = tolerance)]
        tolerance: rust_decimal::Decimal,
        /// What a day without the money costs, in percent a day (0 to 1): a payment made in full but late puts
        /// at stake the cost of its delay, not the installment (0.04 ≈ 14.6 % a year).
        #[arg(long, default_value = "0.04", value_parser = daily_percent)]
        daily_cost: rust_decimal::Decimal,
        /// Business days after the pay day a bank credit may come and still be the acquirer's payment, late
        /// (0 to 10; weekends and the bank holidays of `ref_bank_holiday` are not business days).
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=10))]
        deposit_window: u32,
        #[arg(long)]
        json: bool,
    },
    /// The reconciliation of a period as a report: one self-contained HTML file in Brazilian Portuguese or
    /// English (the period per merchant and acquirer, totals by status, money at stake, expected vs received
    /// per day, fee overcharge by brand and product, the open divergences to sort, filter and group, the
    /// source files) and/or the same tables as CSV. Uses the stored run over exactly this scope, reconciling first if there is none
    /// (or with --refresh). Without --from/--to, the whole period the loaded facts cover (as `reconcile`).
    Report {
        /// First day (YYYY-MM-DD).
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// Last day (YYYY-MM-DD).
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
        /// One merchant (EC code), else all.
        #[arg(long)]
        merchant: Option<String>,
        /// Write the HTML report here.
        #[arg(long)]
        html: Option<PathBuf>,
        /// Write totals.csv, open_items.csv, expected_vs_received.csv and fee_overcharge.csv here.
        #[arg(long)]
        csv: Option<PathBuf>,
        /// Reconcile again even if a run over this scope is stored.
        #[arg(long)]
        refresh: bool,
        /// The report's language: pt-BR (Brazilian Portuguese) or en.
        #[arg(long, default_value = "pt-BR", value_parser = clap::builder::ValueParser::new(|s: &str| s.parse::<report::Lang>()))]
        lang: report::Lang,
    },
    /// Withdraw loaded files — statements or merchant exports — with all their facts, each in one
    /// transaction, then reconcile again what they touched. The control row stays (`withdrawn`); the same
    /// content may be ingested again later.
    Unload {
        /// Each a file id (`statement_file.file_id`, as `ingest` and `run` print) or the sha256 of its content
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Contracted rates (merchant, acquirer, brand, product, installment range, rate %, validity).
    Rates {
        #[command(subcommand)]
        action: RatesAction,
    },
    /// Measure, side by side on one generated sales statement: our parse rate and file → facts load rate, raw
    /// binary COPY and `psql \copy` of the same rows, the pandas + psycopg2 path and the cielo-edi parser (when
    /// Python has them), and the peak memory of `ingest` at several sizes (see docs/performance.md).
    Bench {
        /// Sales in the measured statement (installments make about 3.4 transaction lines per sale).
        #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
        sales: u64,
        /// Sizes (in sales) at which the peak memory of `syncrocardpay ingest` is measured, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "3000,300000")]
        memory_sales: Vec<u64>,
        /// Sizes (in sales of one merchant, with installments, payments, open balance, the merchant's own
        /// sales and a contract) at which `syncrocardpay reconcile` is timed and its peak memory read,
        /// comma-separated (300000 sales ≈ 1 M sales lines).
        #[arg(long, value_delimiter = ',', default_value = "30000,300000")]
        reconcile_sales: Vec<u64>,
        /// Accounts whose year of daily bank statements the bank area matches against their acquirers'
        /// payments (five brands a day each), in memory; 0 leaves it out.
        #[arg(long, default_value_t = 50)]
        deposit_accounts: u64,
        /// Sales in each other acquirer's sample (Getnet V10.1, PagBank EDI, Stone XML) whose parse and load
        /// rates are measured; 0 leaves them out.
        #[arg(long, default_value_t = 20_000)]
        acquirer_sales: u64,
        /// Where the generated files and exports go (default: the system's temp dir).
        #[arg(long)]
        work_dir: Option<PathBuf>,
        /// Do not measure the Python peers even when installed.
        #[arg(long)]
        no_python: bool,
        #[arg(long)]
        json: bool,
    },
    /// A throwaway local PostgreSQL cluster (for scripts and tests).
    Db {
        #[command(subcommand)]
        action: DbAction,
    },
}

/// Where statements come from (`discover` and `run`): a folder, an S3 inbox, an FTPS server, in any combination.
#[derive(Args)]
struct SourceArgs {
    /// A folder of statement files.
    #[arg(long)]
    inbox: Option<PathBuf>,
    /// An S3 inbox: s3://BUCKET/PREFIX (objects under PREFIX/inbox/, archived to PREFIX/processed/ and
    /// PREFIX/rejected/). Defaults to S3_BUCKET and S3_PREFIX when set. Endpoint, region and credentials
    /// come from the standard AWS environment (AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID…).
    #[arg(long)]
    s3: Option<String>,
    /// An acquirer's FTPS server: ftps://USER:PASSWORD@HOST:PORT/DIR (explicit TLS, certificate verified).
    /// Without it, the FTPS settings of --ssm-prefix / SYNCROCARDPAY_FTPS_* are used if present. With --s3,
    /// every download is also copied to PREFIX/raw/<acquirer>/<merchant>/<date>/<name>.
    #[arg(long, env = "SYNCROCARDPAY_FTPS_URL", hide_env_values = true)]
    ftps: Option<String>,
    /// PEM bundle of the CAs to trust for FTPS instead of the system's.
    #[arg(long)]
    ftps_ca_file: Option<PathBuf>,
    /// Only FTPS files whose names start with this (e.g. CIELO), case-insensitive.
    #[arg(long)]
    ftps_prefix: Option<String>,
}

#[derive(Subcommand)]
enum RatesAction {
    /// Import a rates CSV (header: merchant_code, acquirer, brand, product, installments_from,
    /// installments_to, rate_percent, valid_from, valid_to, and optionally fixed_fee — reais per sale beside
    /// the rate; `*` = any brand / product). All or nothing:
    /// every bad value is reported with its line and column, and nothing is imported.
    Import { file: PathBuf },
}

#[derive(Subcommand)]
enum DbAction {
    /// Start a cluster in DIR and leave it running; its DATABASE_URL is written to DIR/env.
    Start {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        port: Option<u16>,
    },
    /// Stop the cluster in DIR and delete DIR.
    Stop {
        #[arg(long)]
        dir: PathBuf,
    },
}

/// The database URL: --database-url / DATABASE_URL, else SSM (with --ssm-prefix), else the
/// SYNCROCARDPAY_DB_* environment; `None` when none of them is set.
async fn database_url(o: &DbOptions) -> Result<Option<String>> {
    if let Some(u) = o.url.as_ref().filter(|u| !u.is_empty()) {
        return Ok(Some(u.clone()));
    }
    let config = match &o.ssm_prefix {
        Some(prefix) => Config::load(&SsmParameters::from_env().await, prefix).await?,
        None => Config::load(&EnvParameters, DEFAULT_PREFIX).await?,
    };
    Ok(config.db.map(|d| d.url()).transpose()?)
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
    o: &DbOptions,
    url: Option<String>,
    ca_file: Option<PathBuf>,
    prefix: Option<String>,
) -> Result<Option<FtpsSettings>> {
    let settings = match url {
        Some(url) => Some(FtpsSettings::from_url(&url)?),
        None => configured_ftps(o).await?,
    };
    Ok(settings.map(|mut f| {
        f.ca_file = ca_file;
        f.name_prefix = prefix;
        f
    }))
}

/// FTPS settings from SSM (with --ssm-prefix) or the SYNCROCARDPAY_FTPS_* environment, if configured there.
async fn configured_ftps(o: &DbOptions) -> Result<Option<FtpsSettings>> {
    let config = match &o.ssm_prefix {
        Some(prefix) => Config::load(&SsmParameters::from_env().await, prefix).await?,
        None => Config::load(&EnvParameters, DEFAULT_PREFIX).await?,
    };
    Ok(config.ftps.map(|f| FtpsSettings {
        dir: std::env::var("SYNCROCARDPAY_FTPS_DIR").ok().filter(|d| !d.is_empty()),
        ..FtpsSettings::from_config(f)
    }))
}

/// The scope of a `reconcile` or `report`: the days given, else the whole period the loaded facts cover (for
/// the merchant, when one is given). A scope with nothing loaded in it is refused, saying why — never
/// reconciled into "0 items, nothing wrong".
async fn scope_of(
    client: &tokio_postgres::Client,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
    merchant: Option<String>,
) -> Result<Scope> {
    let who = merchant.as_deref().map_or("any merchant".to_string(), |m| format!("merchant {}", printable_name(m)));
    let Some((first, last)) = db::recon::covered_dates(client, merchant.as_deref()).await? else {
        let known = db::recon::known_merchants(client, 10).await?;
        anyhow::bail!(
            "nothing to reconcile: no statement or merchant export of {who} is loaded{}",
            if known.is_empty() {
                " (load statements first)".to_string()
            } else {
                format!(" (loaded: {})", printable_name(&known.join(", ")))
            }
        );
    };
    let (from, to) = (from.unwrap_or(first), to.unwrap_or(last));
    anyhow::ensure!(from <= to, "--from {from} is after --to {to}");
    anyhow::ensure!(
        from <= last && first <= to,
        "nothing to reconcile: nothing of {who} is loaded between {from} and {to} (what is loaded covers {first} to \
         {last})"
    );
    Ok(Scope { from, to, merchant })
}

/// Where the database settings come from (global options).
struct DbOptions {
    url: Option<String>,
    ssm_prefix: Option<String>,
}

async fn require_db(o: &DbOptions) -> Result<String> {
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

/// Write the report of `scope` (the stored run over it, or a new one when there is none or `refresh`): HTML
/// and/or CSV; each path written is printed.
async fn write_report(
    client: &mut tokio_postgres::Client,
    scope: &Scope,
    refresh: bool,
    lang: report::Lang,
    html: Option<&std::path::Path>,
    csv: Option<&std::path::Path>,
) -> Result<()> {
    let stored = if refresh { None } else { db::recon::find_run(client, scope).await? };
    let (run_id, settings, totals) = match stored {
        Some(found) => found,
        None => {
            let today = chrono::Local::now().date_naive();
            let as_of = db::recon::default_as_of(client, scope.merchant.as_deref(), today).await?;
            let r = db::recon::run(client, scope, &Settings::new(as_of)).await?;
            (r.run_id, r.settings, r.totals)
        }
    };
    let items = db::recon::items(client, run_id).await?;
    let received_by_day = db::recon::expected_vs_received(client, run_id).await?;
    let anomalies = db::recon::anomaly_count(client, scope).await?;
    let facts = db::recon::scope_facts(client, scope).await?;
    let data = report::ReportData {
        run_id,
        scope,
        settings: &settings,
        totals: &totals,
        items: &items,
        received_by_day: &received_by_day,
        anomalies,
        facts: &facts,
        lang,
        generated_at: chrono::Local::now().fixed_offset(),
    };
    if let Some(path) = html {
        std::fs::write(path, report::html(&data)).with_context(|| format!("writing {}", path.display()))?;
        println!("{}: report of run {run_id} ({} items, {} open)", path.display(), totals.items, totals.open);
    }
    if let Some(dir) = csv {
        for path in report::write_csv(dir, &data).with_context(|| format!("writing {}", dir.display()))? {
            println!("{}", path.display());
        }
    }
    Ok(())
}

/// The samples of the acquirers that are one merchant's days (Getnet, PagBank, Stone: `sales(name)` sales
/// each, none at 0), over the days of the Cielo sample `spec` describes, each with the bank statement that
/// credits its deposits (accounts of their own).
fn write_day_samples(
    out: &std::path::Path,
    spec: &SampleSpec,
    sales: impl Fn(&str) -> usize,
) -> Result<Vec<(&'static str, bank_sample::AcquirerSample, bank_sample::BankSample)>> {
    let (first, days, settle_until) = sample::calendar(spec);
    let mut written = Vec::new();
    for &(name, what, write) in syncrocardpay_core::formats::DAY_SAMPLES {
        let sales = sales(name);
        if sales == 0 {
            continue;
        }
        let day_spec = bank_sample::AcquirerSampleSpec { seed: spec.seed, sales, first, days, settle_until };
        let files = write(out, &day_spec).with_context(|| format!("writing {what} samples to {}", out.display()))?;
        let bank = bank_sample::write(out, &files.deposits, false)
            .with_context(|| format!("writing the bank statement of the {what} deposits"))?;
        written.push((what, files, bank));
    }
    Ok(written)
}

/// The merchants' side of the samples: the POS export of every sale (Cielo's merchants' and the other
/// acquirers') with its mapping, and the contracted rates; their paths.
fn write_books(
    dir: &std::path::Path,
    spec: &SampleSpec,
    others: &[(&str, bank_sample::AcquirerSample, bank_sample::BankSample)],
) -> Result<(PathBuf, PathBuf, PathBuf)> {
    let (csv, mapping) = sample::write_merchant_sales(dir, spec)?;
    let rates = sample::write_contract_rates(dir, spec)?;
    for (what, written, _) in others {
        sample::append_books(dir, &written.books, &written.rates)
            .with_context(|| format!("adding the {what} sales to the merchants' books in {}", dir.display()))?;
    }
    Ok((csv, mapping, rates))
}

#[tokio::main]
async fn main() -> Result<std::process::ExitCode> {
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
    let cli = Cli::parse();
    if !cli.quiet {
        progress_ui::install();
    }
    let db_opts = DbOptions { url: cli.database_url.clone(), ssm_prefix: cli.ssm_prefix.clone() };
    match cli.command {
        Command::Migrate => {
            let url = require_db(&db_opts).await?;
            let mut client = db::connect(&url).await?;
            let applied = db::migrate(&mut client).await?;
            if applied.is_empty() {
                println!("database is up to date ({})", db::redact_url(&url));
            }
            for m in applied {
                println!("applied {m}");
            }
        }
        Command::Sample { out, transactions, seed, merchants, quirks, pagbank_sales, stone_sales, getnet_sales } => {
            let spec = SampleSpec { transactions, seed, merchants, ..SampleSpec::default() };
            let files =
                sample::generate(&out, &spec).with_context(|| format!("writing samples to {}", out.display()))?;
            print::sample_files(&files);
            let bank = bank_sample::write(&out, &sample::announced_payments(&files), spec.anomalies)
                .with_context(|| format!("writing sample bank statements to {}", out.display()))?;
            print::bank_sample(&bank);
            let counts = [("getnet", getnet_sales), ("pagbank", pagbank_sales), ("stone", stone_sales)];
            let others = write_day_samples(&out, &spec, |name| counts.iter().find(|c| c.0 == name).map_or(0, |c| c.1))?;
            for (what, written, bank) in &others {
                for f in &written.files {
                    println!("{}  {what}", f.display());
                }
                print::bank_sample(bank);
            }
            if quirks {
                let first = files.first().map(|f| f.merchant_code.clone()).unwrap_or_default();
                let of_one: Vec<_> = files.iter().filter(|f| f.merchant_code == first).cloned().collect();
                for q in sample::write_quirks(&out.join("quirks"), &of_one)? {
                    println!("{}  quirk: {}", q.path.display(), q.quirk);
                }
            }
            // The other side of a reconciliation: the merchants' own sales and their contract.
            let (csv, mapping, rates) = write_books(&out.join("merchant"), &spec, &others)?;
            println!(
                "{}  the merchants' POS export (load: merchant-sales --mapping {})",
                csv.display(),
                mapping.display()
            );
            println!("{}  the contracted rates (load: rates import)", rates.display());
        }
        Command::Parse { files, json } => {
            let mut rejected = 0;
            for path in &files {
                let name = path.display().to_string();
                let summaries = pipeline::validate_path(path, &name)
                    .with_context(|| format!("cannot read {}", printable_name(&name)))?;
                for summary in summaries {
                    if !summary.is_valid() {
                        rejected += 1;
                    }
                    if json {
                        println!("{}", serde_json::to_string(&summary)?);
                    } else {
                        print::summary(&summary);
                    }
                }
            }
            if rejected > 0 {
                // Returned, never `process::exit`: what this command holds (a throwaway PostgreSQL, temp
                // folders) is dropped, so stopped and removed, on the way out.
                return Ok(std::process::ExitCode::FAILURE);
            }
        }
        Command::BankStatement { files, json } => {
            let url = require_db(&db_opts).await?;
            let mut client = connect_and_migrate(&url).await?;
            let mut bad = 0;
            for path in &files {
                let name = printable_name(&path.display().to_string());
                let mut head = Vec::with_capacity(4096);
                std::io::Read::read_to_end(
                    &mut std::io::Read::take(
                        std::fs::File::open(path).with_context(|| format!("reading {name}"))?,
                        4096,
                    ),
                    &mut head,
                )?;
                if syncrocardpay_core::formats::bank::detect(&head).is_none() {
                    eprintln!(
                        "{name}: not a bank statement (OFX or CNAB 240 extrato); `ingest` loads acquirer statements"
                    );
                    bad += 1;
                    continue;
                }
                let report = pipeline::ingest_file(&mut client, path, "cli", IngestMode::StageAndLoad)
                    .await
                    .with_context(|| format!("loading {name}"))?;
                bad += usize::from(report.outcome == Outcome::Rejected);
                let statements = db::bank::statements_of(&client, report.file_id).await?;
                if json {
                    println!("{}", serde_json::json!({ "file": &report, "accounts": &statements }));
                } else {
                    print::ingest_report(&report);
                    print::bank_statements(&statements);
                }
            }
            // The merchants whose accounts the statements cover are reconciled again: their bank area changed.
            let reconciled = db::recon::reconcile_pending(&mut client, chrono::Local::now().date_naive()).await?;
            if !json {
                print::reconciliation_headline(&reconciled);
            }
            if bad > 0 {
                return Ok(std::process::ExitCode::FAILURE);
            }
        }
        Command::Ingest { files, json } => {
            let url = require_db(&db_opts).await?;
            let mut client = connect_and_migrate(&url).await?;
            let policy = db::RetryPolicy::from_env();
            let mut rejected = 0;
            let mut failed = 0;
            for path in &files {
                let what = format!("ingesting {}", printable_name(&path.display().to_string()));
                let result = db::retrying(&url, &mut client, &policy, &what, |db| {
                    let path = path.clone();
                    Box::pin(async move { pipeline::ingest_file(db, &path, "cli", IngestMode::StageAndLoad).await })
                })
                .await;
                // One file failing (unreadable, refused, the database refusing its data) never stops the others.
                let report = match result {
                    Ok(report) => report,
                    Err(e) if !e.is_retryable_db() => {
                        progress_ui::suspend(|| eprintln!("{what}: FAILED: {}", printable_name(&e.to_string())));
                        failed += 1;
                        continue;
                    }
                    Err(e) => return Err(e).context(what),
                };
                if report.outcome == Outcome::Rejected {
                    rejected += 1;
                }
                if json {
                    println!("{}", serde_json::to_string(&report)?);
                } else {
                    progress_ui::suspend(|| print::ingest_report(&report));
                }
            }
            if rejected > 0 || failed > 0 {
                // Returned, never `process::exit`: what this command holds (a throwaway PostgreSQL, temp
                // folders) is dropped, so stopped and removed, on the way out.
                return Ok(std::process::ExitCode::FAILURE);
            }
        }
        Command::Reconcile { from, to, merchant, as_of, date_window, tolerance, daily_cost, deposit_window, json } => {
            let url = require_db(&db_opts).await?;
            let mut client = connect_and_migrate(&url).await?;
            let today = chrono::Local::now().date_naive();
            let as_of = match as_of {
                Some(d) => d,
                None => db::recon::default_as_of(&client, merchant.as_deref(), today).await?,
            };
            let scope = scope_of(&client, from, to, merchant).await?;
            let mut settings = Settings::new(as_of);
            settings.sale_date_window_days = date_window;
            settings.amount_tolerance = tolerance;
            settings.daily_cost_percent = daily_cost;
            settings.deposit_window_business_days = deposit_window;
            // The areas' inputs are read by connections of their own, sharing the run's snapshot.
            let connect_url = url.clone();
            let connect: Box<db::recon::Connect> = Box::new(move || {
                let url = connect_url.clone();
                Box::pin(async move { db::connect(&url).await })
            });
            let report = db::recon::run_parallel(&mut client, &scope, &settings, &*connect).await?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                print::recon_report(&report);
            }
        }
        Command::Report { from, to, merchant, html, csv, refresh, lang } => {
            anyhow::ensure!(
                html.is_some() || csv.is_some(),
                "say where to write the report: --html FILE and/or --csv DIR"
            );
            let url = require_db(&db_opts).await?;
            let mut client = connect_and_migrate(&url).await?;
            let scope = scope_of(&client, from, to, merchant).await?;
            write_report(&mut client, &scope, refresh, lang, html.as_deref(), csv.as_deref()).await?;
        }
        Command::Unload { files } => {
            let url = require_db(&db_opts).await?;
            let mut client = connect_and_migrate(&url).await?;
            let mut refused = 0;
            for file in &files {
                match db::store::withdraw(&mut client, file).await {
                    Ok(w) => {
                        println!(
                            "file {} ({}): withdrawn (was {}): {} fact row(s) removed",
                            w.file_id,
                            printable_name(&w.file_name),
                            w.was.as_str(),
                            w.facts.total()
                        );
                        for (id, name) in &w.had_replaced {
                            println!(
                                "  note: it had replaced facts of file {id} ({}); they are not brought back — ingest \
                                 that file again to have them",
                                printable_name(name)
                            );
                        }
                    }
                    Err(e) => {
                        refused += 1;
                        eprintln!("{}: {}", printable_name(file), printable_name(&e.to_string()));
                    }
                }
            }
            let today = chrono::Local::now().date_naive();
            let reconciled = db::recon::reconcile_pending(&mut client, today).await?;
            print::reconciliation_headline(&reconciled);
            if refused > 0 {
                anyhow::bail!("{refused} of {} file(s) not withdrawn", files.len());
            }
        }
        Command::Rates { action: RatesAction::Import { file } } => {
            let name = printable_name(&file.display().to_string());
            let input = std::fs::File::open(&file).with_context(|| format!("cannot open {name}"))?;
            let rates = match read_rates(input) {
                Ok(rates) => rates,
                Err(issues) => {
                    for i in &issues {
                        eprintln!("{name}: {}", printable_name(&i.to_string()));
                    }
                    anyhow::bail!("{name}: {} problem(s), nothing imported", issues.len());
                }
            };
            let url = require_db(&db_opts).await?;
            let mut client = connect_and_migrate(&url).await?;
            // What was typed (a brand's name, a product's, a merchant code a spreadsheet cut) resolved against
            // the reference tables; a row that matches nothing is refused, naming the valid choices.
            let vocabulary = db::recon::rate_vocabulary(&client).await?;
            let rates = match syncrocardpay_core::reconcile::fees::resolve_rates(rates, &vocabulary) {
                Ok(rates) => rates,
                Err(issues) => {
                    for i in &issues {
                        eprintln!("{name}: {}", printable_name(&i.to_string()));
                    }
                    anyhow::bail!("{name}: {} problem(s), nothing imported", issues.len());
                }
            };
            let done = db::recon::import_rates(&mut client, &rates, &name).await?;
            if done.added + done.changed == 0 {
                println!("{name}: unchanged ({} contracted rate(s), all already imported as they are)", done.unchanged);
            } else {
                println!(
                    "{name}: {} contracted rate(s) added, {} changed, {} unchanged",
                    done.added, done.changed, done.unchanged
                );
            }
        }
        Command::MerchantSales { files, mapping, check, json } => {
            let mapping = Mapping::from_file(&mapping).map_err(anyhow::Error::msg)?;
            let mut client = match check {
                true => None,
                false => Some(connect_and_migrate(&require_db(&db_opts).await?).await?),
            };
            let mut rejected = 0;
            for path in &files {
                let name = path.display().to_string();
                let (valid, out) = match client.as_mut() {
                    None => {
                        let file = std::fs::File::open(path).with_context(|| format!("cannot open {name}"))?;
                        let s =
                            read_merchant_sales(file, &name, &mapping, &mut |_| std::ops::ControlFlow::Continue(()))
                                .with_context(|| format!("cannot read {name}"))?;
                        if !json {
                            print::summary(&s);
                        }
                        (s.is_valid(), serde_json::to_string(&s)?)
                    }
                    Some(c) => {
                        let r = pipeline::ingest_merchant_sales(c, path, "cli", &mapping)
                            .await
                            .with_context(|| format!("loading {name}"))?;
                        if !json {
                            progress_ui::suspend(|| print::ingest_report(&r));
                        }
                        (r.outcome != Outcome::Rejected, serde_json::to_string(&r)?)
                    }
                };
                if !valid {
                    rejected += 1;
                }
                if json {
                    println!("{out}");
                }
            }
            if rejected > 0 {
                // Returned, never `process::exit`: what this command holds (a throwaway PostgreSQL, temp
                // folders) is dropped, so stopped and removed, on the way out.
                return Ok(std::process::ExitCode::FAILURE);
            }
        }
        Command::Fetch { acquirer, from, to, out, base_url, ca_file, json } => {
            use syncrocardpay_core::source::api::{self, Api, ApiClient, Fetched, Inbox, PagbankApi, StoneApi};
            let config = match &db_opts.ssm_prefix {
                Some(prefix) => Config::load(&SsmParameters::from_env().await, prefix).await?,
                None => Config::load(&EnvParameters, DEFAULT_PREFIX).await?,
            };
            let to = to.unwrap_or(from);
            if to < from {
                bail!("--to {to} is before --from {from}");
            }
            let api = match acquirer.as_str() {
                "stone" => {
                    let c = config.stone.context(
                        "no Stone credentials: set PREFIX/stone/{stone_code,secret_key} in SSM (with --ssm-prefix) or \
                         SYNCROCARDPAY_STONE_STONE_CODE and SYNCROCARDPAY_STONE_SECRET_KEY",
                    )?;
                    let client = ApiClient::new(base_url.as_deref().unwrap_or(api::STONE_URL), ca_file.as_deref())?;
                    Api::Stone(StoneApi::new(client, &c.stone_code, c.secret_key)?)
                }
                "pagbank" => {
                    let c = config.pagbank.context(
                        "no PagBank credentials: set PREFIX/pagbank/{user,token} in SSM (with --ssm-prefix) or \
                         SYNCROCARDPAY_PAGBANK_USER and SYNCROCARDPAY_PAGBANK_TOKEN",
                    )?;
                    let client = ApiClient::new(base_url.as_deref().unwrap_or(api::PAGBANK_URL), ca_file.as_deref())?;
                    Api::Pagbank(PagbankApi::new(client, &c.user, c.token)?)
                }
                other => bail!("{:?}: fetch knows stone and pagbank (the others deliver files)", printable_name(other)),
            };
            let inbox = if out.starts_with("s3://") {
                let (bucket, prefix) = S3Store::parse_url(&out)?;
                Inbox::S3(Arc::new(S3Store::from_env(&bucket, &prefix).await))
            } else {
                Inbox::Folder(PathBuf::from(&out))
            };
            // Without a database at hand, only the folder tells what is already there (`unchanged`); what was
            // loaded before comes in again as a `duplicate` of it, never a second fact.
            let fetched = api.fetch(from, to, &inbox, &Default::default()).await;
            let mut failed = 0;
            for f in &fetched {
                if json {
                    println!("{}", serde_json::to_string(f)?);
                    failed += usize::from(matches!(f, Fetched::Failed { .. }));
                    continue;
                }
                match f {
                    Fetched::Written { name, bytes, .. } => println!("written    {name} ({bytes} bytes)"),
                    Fetched::Unchanged { name } => println!("unchanged  {name}"),
                    Fetched::Nothing { what, reason } => println!("nothing    {what}: {reason}"),
                    Fetched::Failed { what, error } => {
                        failed += 1;
                        eprintln!("FAILED     {what}: {error}");
                    }
                }
            }
            if failed > 0 {
                return Ok(std::process::ExitCode::FAILURE);
            }
        }
        Command::Discover { sources: SourceArgs { inbox, s3, ftps, ftps_ca_file, ftps_prefix }, json } => {
            let url = require_db(&db_opts).await?;
            let client = connect_and_migrate(&url).await?;
            let mut listing = Vec::new();
            if let Some(s3_url) = s3_url(s3) {
                let (bucket, prefix) = S3Store::parse_url(&s3_url)?;
                listing.extend(pipeline::discover_s3(&S3Store::from_env(&bucket, &prefix).await).await?);
            }
            if let Some(settings) = ftps_settings(&db_opts, ftps, ftps_ca_file, ftps_prefix).await? {
                listing.extend(pipeline::discover_ftps(&client, &FtpsSource::new(settings)?).await?);
            }
            if let Some(dir) = inbox {
                let source = FolderSource::new(&dir);
                let found = pipeline::discover(&client, &source).await?;
                for (name, why) in &found.failed {
                    eprintln!("{}: {}", printable_name(name), printable_name(why));
                }
                listing.extend(found.new.into_iter().map(|d| pipeline::RemoteListing {
                    source: source.label(),
                    name: d.name,
                    size: d.size,
                    status: pipeline::ListingStatus::New,
                }));
            }
            for l in &listing {
                if json {
                    println!("{}", serde_json::to_string(l)?);
                } else {
                    println!("{:<6} {:>12}  {}  {}", l.status, l.size, l.source, printable_name(&l.name));
                }
            }
            if !json {
                let new = listing.iter().filter(|l| l.status == pipeline::ListingStatus::New).count();
                println!("{new} new of {} listed", listing.len());
            }
        }
        Command::Run {
            sources: SourceArgs { inbox, s3, ftps, ftps_ca_file, ftps_prefix },
            jobs,
            sample_transactions,
            report,
            lang,
            json,
        } => {
            let s3 = s3_url(s3);
            let ftps = ftps_settings(&db_opts, ftps, ftps_ca_file, ftps_prefix).await?;
            let mut _throwaway = None;
            let url = match database_url(&db_opts).await? {
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
            let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2));
            let mut summaries = Vec::new();
            let store = match &s3 {
                Some(s3_url) => {
                    let (bucket, prefix) = S3Store::parse_url(s3_url)?;
                    Some(Arc::new(S3Store::from_env(&bucket, &prefix).await))
                }
                None => None,
            };
            if let Some(store) = &store {
                summaries.push((store.label(), pipeline::run_s3(&url, store.clone(), jobs).await?));
            }
            if let Some(settings) = ftps {
                let source = Arc::new(FtpsSource::new(settings)?);
                summaries.push((source.label(), pipeline::run_ftps(&url, source.clone(), store.clone(), jobs).await?));
            }
            let mut _sample_dir = None;
            let inbox = match inbox {
                Some(dir) => Some(dir),
                None if summaries.is_empty() => {
                    let dir = tempfile::Builder::new().prefix("syncrocardpay-inbox-").tempdir()?;
                    let spec = SampleSpec { transactions: sample_transactions, ..SampleSpec::default() };
                    let files = sample::generate(dir.path(), &spec)?;
                    let bank = bank_sample::write(dir.path(), &sample::announced_payments(&files), spec.anomalies)?;
                    // Getnet, PagBank and Stone too, a tenth of the sales each: the demo shows every acquirer.
                    let others = write_day_samples(dir.path(), &spec, |_| (sample_transactions / 10) as usize)?;
                    let other_files: usize = others.iter().map(|o| o.1.files.len()).sum();
                    let bank_files = bank.files.len() + others.iter().map(|o| o.2.files.len()).sum::<usize>();
                    eprintln!(
                        "no --inbox, --s3 or --ftps: generated {} sample Cielo statements, {other_files} Getnet, \
                         PagBank and Stone statements and {bank_files} bank statements in {}, with the merchants' POS \
                         export and contracted rates",
                        files.len(),
                        dir.path().display()
                    );
                    // The merchants' side, loaded before the statements so that the reconciliation sees it.
                    let books = dir.path().join("merchant");
                    let (csv, mapping, rates) = write_books(&books, &spec, &others)?;
                    let rates = read_rates(std::fs::File::open(rates)?)
                        .map_err(|issues| anyhow::anyhow!("sample rates: {issues:?}"))?;
                    let mut client = db::connect(&url).await?;
                    db::recon::import_rates(&mut client, &rates, "sample").await?;
                    let mapping = Mapping::from_file(&mapping).map_err(anyhow::Error::msg)?;
                    pipeline::ingest_merchant_sales(&mut client, &csv, "sample", &mapping).await?;
                    let path = dir.path().to_path_buf();
                    _sample_dir = Some(dir);
                    Some(path)
                }
                None => None,
            };
            if let Some(inbox) = inbox {
                let source = FolderSource::new(&inbox);
                let summary = tokio::select! {
                    summary = pipeline::run(&url, &source, jobs) => summary?,
                    _ = tokio::signal::ctrl_c() => {
                        // Returning drops the throwaway cluster (stopped, deleted); loads in flight roll back.
                        bail!("interrupted: files being loaded were rolled back; run again to finish");
                    }
                };
                summaries.push((inbox.display().to_string(), summary));
            }
            // Reconcile what this run loaded (and any load before it left pending): per merchant, over the
            // periods of its files.
            let mut client = db::connect(&url).await?;
            let today = chrono::Local::now().date_naive();
            let reconciled = db::recon::reconcile_pending(&mut client, today).await?;
            for (label, summary) in &summaries {
                if json {
                    println!("{}", serde_json::to_string(summary)?);
                } else {
                    print::run_summary(summary, label);
                }
            }
            if json {
                for r in &reconciled {
                    println!("{}", serde_json::to_string(r)?);
                }
            } else {
                print::database_totals(&client).await?;
                print::reconciliation_headline(&reconciled);
            }
            if let Some(path) = report {
                let scope = scope_of(&client, None, None, None).await?;
                write_report(&mut client, &scope, false, lang, Some(&path), None).await?;
                let shown = std::path::absolute(&path).unwrap_or(path);
                eprintln!("open the report in a browser: file://{}", shown.display());
            }
            if summaries.iter().any(|(_, s)| s.failed > 0 || s.rejected > 0) {
                // Returned, never `process::exit`: what this command holds (a throwaway PostgreSQL, temp
                // folders) is dropped, so stopped and removed, on the way out.
                return Ok(std::process::ExitCode::FAILURE);
            }
        }
        Command::Bench {
            sales,
            memory_sales,
            reconcile_sales,
            deposit_accounts,
            acquirer_sales,
            work_dir,
            no_python,
            json,
        } => {
            let url = database_url(&db_opts).await?;
            let options = bench::BenchOptions {
                sales,
                memory_sales,
                database_url: url,
                work_dir,
                python: !no_python,
                reconcile_sales,
                deposit_accounts,
                acquirer_sales,
            };
            let report = bench::run(options).await?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                bench::print(&report);
            }
        }
        Command::Db { action } => match action {
            DbAction::Start { dir, port } => {
                let pg = LocalPostgres::start(Some(&dir), port)?;
                let port = pg.port();
                pg.detach();
                println!(
                    "PostgreSQL running on 127.0.0.1:{port}; DATABASE_URL written to {}",
                    dir.join("env").display()
                );
            }
            DbAction::Stop { dir } => {
                db::localpg::stop_dir(&dir)?;
                println!("stopped and removed {}", dir.display());
            }
        },
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// A count option between `MIN` and `MAX` (clap's ranges do not cover `usize`).
fn count_between<const MIN: usize, const MAX: usize>(s: &str) -> Result<usize, String> {
    let n: usize = s.trim().parse().map_err(|_| format!("{s:?} is not a whole number"))?;
    if (MIN..=MAX).contains(&n) {
        Ok(n)
    } else {
        Err(format!("{n} is out of range: between {MIN} and {MAX}"))
    }
}

/// A money tolerance: a plain non-negative decimal of at most two places, at most 100.00 (a negative one
/// turned every fee into an overcharge).
fn tolerance(s: &str) -> Result<rust_decimal::Decimal, String> {
    let plain = !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.') && s.matches('.').count() <= 1;
    let v: rust_decimal::Decimal = if plain {
        s.parse().map_err(|_| format!("{s:?} is not an amount"))?
    } else {
        return Err(format!("{s:?} is not an amount like 0.01 (digits and one point, never negative)"));
    };
    if v.scale() > 2 {
        return Err(format!("{s} has more than two decimal places"));
    }
    if v > rust_decimal::Decimal::ONE_HUNDRED {
        return Err(format!("{s} is out of range: between 0 and 100.00"));
    }
    Ok(v)
}

/// A percentage a day: a plain decimal from 0 to 1 with at most 4 places.
fn daily_percent(s: &str) -> Result<rust_decimal::Decimal, String> {
    let plain = !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.') && s.matches('.').count() <= 1;
    let v: rust_decimal::Decimal = match (plain, s.parse()) {
        (true, Ok(v)) => v,
        _ => return Err(format!("{s:?} is not a percentage like 0.04 (digits and one point)")),
    };
    if v.scale() > 4 || v > rust_decimal::Decimal::ONE {
        return Err(format!("{s} is out of range: between 0 and 1 (% a day), at most 4 decimal places"));
    }
    Ok(v)
}
