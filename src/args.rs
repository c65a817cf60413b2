//! The command line: one struct of arguments per command, every option with its help text. The database
//! options are on the commands that use a database, and only there.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use syncrocardpay_core::reconcile::report;

#[derive(Parser)]
#[command(name = "syncrocardpay", version, about = "Card-payment reconciliation: acquirer statements into PostgreSQL")]
pub struct Cli {
    /// No progress (bars on a terminal, a line every 10 s otherwise): only results and errors.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Apply the database migrations (also done automatically before every load).
    Migrate(DbArgs),
    /// Write realistic, internally consistent Cielo v15 statements: sales (03), payments (04), open balance
    /// (09), receivables negotiation (15) and Pix (16) for each merchant, the bank statements crediting the
    /// payments, the merchants' POS export and their contracted rates.
    Sample(SampleArgs),
    /// Validate statements without loading them (no database needed); exit status 1 if any is rejected.
    Parse(ParseArgs),
    /// Parse, validate and load statements (one transaction per file); exit status 1 if any is rejected.
    Ingest(IngestArgs),
    /// Load the merchant's bank statements (OFX, CNAB 240 extrato) and say, per account, the period, the
    /// balances, the entries and how many say they are card money; then reconcile again the merchants whose
    /// accounts they cover (their bank area). Files that are not bank statements are refused (use `ingest`).
    /// Exit status 1 if any is rejected or refused.
    BankStatement(IngestArgs),
    /// Load the merchant's own sales export (POS / ERP CSV), read through a mapping file (see
    /// `docs/merchant-sales.md`); with --check, validate only. Exit status 1 if any file is rejected.
    MerchantSales(MerchantSalesArgs),
    /// Fetch the statements of the acquirers that publish them by API (Stone's conciliation API, PagBank's EDI
    /// API) for a range of days, each day's raw answer written to the inbox folder as a file (load them with
    /// `ingest` or `run --inbox`). Credentials from SSM (--ssm-prefix: PREFIX/stone/{stone_code,secret_key},
    /// PREFIX/pagbank/{user,token}) or SYNCROCARDPAY_STONE_{STONE_CODE,SECRET_KEY},
    /// SYNCROCARDPAY_PAGBANK_{USER,TOKEN}. Exit status 1 if a day could not be fetched.
    Fetch(FetchArgs),
    /// List what the sources hold that is not loaded yet, without downloading or loading anything.
    Discover(DiscoverArgs),
    /// The whole local pipeline over a folder: discover new files → ingest and load in parallel → reconcile →
    /// summary. Without --inbox, runs on generated sample statements; without a database, starts a
    /// throwaway one (stopped and deleted when the run ends).
    Run(RunArgs),
    /// Reconcile what is loaded: the merchant's sales against the acquirers', forecast installments against
    /// payments (with adjustments), fees against the contracted rates, the acquirers' payments against the bank
    /// statements' credits. The result replaces the previous run over the same scope. Without --from/--to, the
    /// whole period the loaded facts cover.
    Reconcile(ReconcileArgs),
    /// The reconciliation of a period as a report: one self-contained HTML file in Brazilian Portuguese or
    /// English (the period per merchant and acquirer, totals by status, money at stake, expected vs received
    /// per day, fee overcharge by brand and product, the open divergences to sort, filter and group, the
    /// source files) and/or the same tables as CSV. Uses the stored run over exactly this scope, reconciling
    /// first if there is none (or with --refresh). Without --from/--to, the whole period the loaded facts
    /// cover (as `reconcile`).
    Report(ReportArgs),
    /// Withdraw loaded files — statements or merchant exports — with all their facts, each in one
    /// transaction, then reconcile again what they touched. The control row stays (`withdrawn`); the same
    /// content may be ingested again later.
    Unload(UnloadArgs),
    /// Contracted rates (merchant, acquirer, brand, product, installment range, rate %, validity).
    Rates {
        #[command(subcommand)]
        action: RatesAction,
    },
    /// Measure, side by side on one generated sales statement: our parse rate and file → facts load rate, raw
    /// binary COPY and `psql \copy` of the same rows, the pandas + psycopg2 path and the cielo-edi parser (when
    /// Python has them), the peak memory of `ingest` and the time and memory of `reconcile` at several sizes
    /// (see docs/performance.md).
    Bench(BenchArgs),
    /// A throwaway local PostgreSQL cluster (for scripts and tests).
    Db {
        #[command(subcommand)]
        action: DbAction,
    },
}

/// Where the database settings come from.
#[derive(Args, Clone, Default)]
pub struct DbArgs {
    /// PostgreSQL connection URL (postgres://user:password@host:port/db).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Read the database settings from AWS SSM Parameter Store under this prefix (e.g. /syncrocardpay:
    /// PREFIX/db/{host,port,user,password,name}) when no database URL is given. Without it, the
    /// SYNCROCARDPAY_DB_{HOST,PORT,USER,PASSWORD,NAME} environment variables are used if set.
    #[arg(long, env = "SYNCROCARDPAY_SSM_PREFIX")]
    pub ssm_prefix: Option<String>,
}

#[derive(Args)]
pub struct SampleArgs {
    /// The folder the files are written to (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Number of sales across all merchants (installments multiply the lines).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub transactions: u64,
    /// The random generator's seed: the same seed writes the same files.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Merchants (1 to 1000).
    #[arg(long, default_value_t = 3, value_parser = count_between::<1, 1000>)]
    pub merchants: usize,
    /// Also write, under OUT/quirks, the quirks real files show (docs/formats.md): an E-only CIELO03, a
    /// blank product, a `+` fee sign, a CIELO16 counting no Pix, a layout-001 file, a zip, a re-sent 04.
    #[arg(long)]
    pub quirks: bool,
    /// Also write PagBank EDI responses (v3.00 JSON) of this many sales of one establishment over the same
    /// days: each day's transactional movement, the financial movement of each day an installment settles
    /// with its automatic cashout, and the bank statement that credits the cashouts.
    #[arg(long, default_value_t = 0)]
    pub pagbank_sales: usize,
    /// Also write Stone conciliation files (XML 2.4) of this many sales of one StoneCode over the same days:
    /// a file per day with its captures, the installments paid and the deposit, and the bank statement
    /// that credits the deposits.
    #[arg(long, default_value_t = 0)]
    pub stone_sales: usize,
    /// Also write Getnet statements (V10.1, 400 bytes) of this many sales of one EC over the same days:
    /// a file per day with its RVs forecast and their CVs, the RV installments paid that day and the day's
    /// payment (type 5 `PG`), and the bank statement that credits the payments.
    #[arg(long, default_value_t = 0)]
    pub getnet_sales: usize,
}

#[derive(Args)]
pub struct ParseArgs {
    /// Statement files (any acquirer's format, a bank statement, or a zip/gzip of them).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// One JSON object per file (amounts as decimal strings).
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct IngestArgs {
    /// The files to load, each in a transaction of its own.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// One JSON object per file (amounts as decimal strings).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Args)]
pub struct MerchantSalesArgs {
    /// The exports (CSV) to load.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// TOML mapping: delimiter, date and decimal formats, which column is what.
    #[arg(long)]
    pub mapping: PathBuf,
    /// Validate without loading (no database needed).
    #[arg(long)]
    pub check: bool,
    /// One JSON object per file (amounts as decimal strings).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Args)]
pub struct FetchArgs {
    /// `stone` or `pagbank`.
    pub acquirer: String,
    /// First day (YYYY-MM-DD).
    #[arg(long)]
    pub from: chrono::NaiveDate,
    /// Last day, included (YYYY-MM-DD; default: the first).
    #[arg(long)]
    pub to: Option<chrono::NaiveDate>,
    /// Where the files are written: an inbox folder, or `s3://BUCKET/PREFIX` (its `PREFIX/inbox/`, which
    /// the deployment discovers; the AWS SDK's standard environment).
    #[arg(long)]
    pub out: String,
    /// The API's address (default: the acquirer's production API).
    #[arg(long)]
    pub base_url: Option<String>,
    /// Trust only this CA bundle (PEM) for the API's certificate, instead of the system's CAs.
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
    /// One JSON object per day (what was written, unchanged, empty or failed).
    #[arg(long)]
    pub json: bool,
    /// Read the API credentials from AWS SSM Parameter Store under this prefix (e.g. /syncrocardpay).
    #[arg(long, env = "SYNCROCARDPAY_SSM_PREFIX")]
    pub ssm_prefix: Option<String>,
}

#[derive(Args)]
pub struct DiscoverArgs {
    #[command(flatten)]
    pub sources: SourceArgs,
    /// One JSON object per file listed.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub sources: SourceArgs,
    /// Files processed in parallel (default: number of CPUs).
    #[arg(long, value_parser = count_between::<1, 256>)]
    pub jobs: Option<usize>,
    /// Sales in the generated sample when there is no --inbox.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..))]
    pub sample_transactions: u64,
    /// Then write the HTML report of everything loaded (all merchants, the whole period) here.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// The report's language: pt-BR or en.
    #[arg(long, default_value = "pt-BR", value_parser = clap::builder::ValueParser::new(|s: &str| s.parse::<report::Lang>()))]
    pub lang: report::Lang,
    /// One JSON object per source's summary, then one per reconciliation.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

/// The scope of a reconciliation or report; without --from/--to, the whole period the loaded facts cover.
#[derive(Args, Default)]
pub struct ScopeArgs {
    /// First day (YYYY-MM-DD): sales and fees by sale date, installments by due date, adjustments by posting
    /// date, bank deposits by pay date.
    #[arg(long)]
    pub from: Option<chrono::NaiveDate>,
    /// Last day (YYYY-MM-DD).
    #[arg(long)]
    pub to: Option<chrono::NaiveDate>,
    /// One merchant (EC code), else all.
    #[arg(long)]
    pub merchant: Option<String>,
}

#[derive(Args)]
pub struct ReconcileArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// The day to look from (YYYY-MM-DD): unpaid installments due by then are overdue (default: today, or the
    /// end of the last payment statement loaded if earlier).
    #[arg(long)]
    pub as_of: Option<chrono::NaiveDate>,
    /// How many days a merchant's sale date may differ from the acquirer's (0 to 31).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i64).range(0..=31))]
    pub date_window: i64,
    /// Differences of money up to this are rounding, not divergence (0 to 100.00, in reais).
    #[arg(long, default_value = "0.01", value_parser = tolerance)]
    pub tolerance: rust_decimal::Decimal,
    /// What a day without the money costs, in percent a day (0 to 1): a payment made in full but late puts
    /// at stake the cost of its delay, not the installment (0.04 ≈ 14.6 % a year).
    #[arg(long, default_value = "0.04", value_parser = daily_percent)]
    pub daily_cost: rust_decimal::Decimal,
    /// Business days after the pay day a bank credit may come and still be the acquirer's payment, late
    /// (0 to 10; weekends and the bank holidays of `ref_bank_holiday` are not business days).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=10))]
    pub deposit_window: u32,
    /// The run's report as one JSON object.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Write the HTML report here.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Write totals.csv, open_items.csv, expected_vs_received.csv and fee_overcharge.csv here.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Reconcile again even if a run over this scope is stored.
    #[arg(long)]
    pub refresh: bool,
    /// The report's language: pt-BR (Brazilian Portuguese) or en.
    #[arg(long, default_value = "pt-BR", value_parser = clap::builder::ValueParser::new(|s: &str| s.parse::<report::Lang>()))]
    pub lang: report::Lang,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Args)]
pub struct UnloadArgs {
    /// Each a file id (`statement_file.file_id`, as `ingest` and `run` print) or the sha256 of its content.
    #[arg(required = true)]
    pub files: Vec<String>,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Args)]
pub struct BenchArgs {
    /// Sales in the measured statement (installments make about 3.4 transaction lines per sale).
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub sales: u64,
    /// Sizes (in sales) at which the peak memory of `syncrocardpay ingest` is measured, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "3000,300000")]
    pub memory_sales: Vec<u64>,
    /// Sizes (in sales of one merchant, with installments, payments, open balance, the merchant's own
    /// sales and a contract) at which `syncrocardpay reconcile` is timed and its peak memory read,
    /// comma-separated (300000 sales ≈ 1 M sales lines).
    #[arg(long, value_delimiter = ',', default_value = "30000,300000")]
    pub reconcile_sales: Vec<u64>,
    /// Accounts whose year of daily bank statements the bank area matches against their acquirers'
    /// payments (five brands a day each), in memory; 0 leaves it out.
    #[arg(long, default_value_t = 50)]
    pub deposit_accounts: u64,
    /// Sales in each other acquirer's sample (Getnet V10.1, PagBank EDI, Stone XML) whose parse and load
    /// rates are measured; 0 leaves them out.
    #[arg(long, default_value_t = 20_000)]
    pub acquirer_sales: u64,
    /// Where the generated files and exports go (default: the system's temp dir).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Do not measure the Python peers even when installed.
    #[arg(long)]
    pub no_python: bool,
    /// The measurements as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// The server the benchmark creates its databases in (without one, a throwaway PostgreSQL).
    #[command(flatten)]
    pub db: DbArgs,
}

/// Where statements come from (`discover` and `run`): a folder, an S3 inbox, an FTPS server, in any combination.
#[derive(Args)]
pub struct SourceArgs {
    /// A folder of statement files.
    #[arg(long)]
    pub inbox: Option<PathBuf>,
    /// An S3 inbox: s3://BUCKET/PREFIX (objects under PREFIX/inbox/, archived to PREFIX/processed/ and
    /// PREFIX/rejected/). Defaults to S3_BUCKET and S3_PREFIX when set. Endpoint, region and credentials
    /// come from the standard AWS environment (AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID…).
    #[arg(long)]
    pub s3: Option<String>,
    /// An acquirer's FTPS server: ftps://USER:PASSWORD@HOST:PORT/DIR (explicit TLS, certificate verified; DIR
    /// relative to the login directory, %2F for an absolute path). Without it, the FTPS settings of
    /// --ssm-prefix / SYNCROCARDPAY_FTPS_* are used if present. With --s3, every download is also copied to
    /// PREFIX/raw/<acquirer>/<merchant>/<date>/<name>.
    #[arg(long, env = "SYNCROCARDPAY_FTPS_URL", hide_env_values = true)]
    pub ftps: Option<String>,
    /// PEM bundle of the CAs to trust for FTPS instead of the system's.
    #[arg(long)]
    pub ftps_ca_file: Option<PathBuf>,
    /// Only FTPS files whose names start with this (e.g. CIELO), case-insensitive.
    #[arg(long)]
    pub ftps_prefix: Option<String>,
}

#[derive(Subcommand)]
pub enum RatesAction {
    /// Import a rates CSV (header: merchant_code, acquirer, brand, product, installments_from,
    /// installments_to, rate_percent, valid_from, valid_to, and optionally fixed_fee — reais per sale beside
    /// the rate; `*` = any brand / product). All or nothing: every bad value is reported with its line and
    /// column, and nothing is imported.
    Import {
        /// The rates CSV.
        file: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
pub enum DbAction {
    /// Start a cluster in DIR and leave it running; its DATABASE_URL is written to DIR/env.
    Start {
        /// The cluster's folder (created; must not hold a cluster already).
        #[arg(long)]
        dir: PathBuf,
        /// The port on 127.0.0.1 (default: a free one).
        #[arg(long)]
        port: Option<u16>,
    },
    /// Stop the cluster in DIR and delete DIR.
    Stop {
        /// The folder `db start` was given.
        #[arg(long)]
        dir: PathBuf,
    },
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every option and argument of every command says what it is (`--help` never shows a bare name).
    #[test]
    fn every_argument_has_help() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in cmd.get_arguments() {
                let builtin = matches!(a.get_id().as_str(), "help" | "version");
                if !builtin && a.get_help().is_none() && a.get_long_help().is_none() {
                    missing.push(format!("{path} {}", a.get_id()));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "syncrocardpay", &mut missing);
        assert!(missing.is_empty(), "without help: {missing:?}");
        Cli::command().debug_assert();
    }

    /// The database options are on the commands that use a database, and not on the others.
    #[test]
    fn database_options_only_where_a_database_is_used() {
        let cmd = Cli::command();
        let has = |name: &str| {
            let sub = cmd.find_subcommand(name).unwrap();
            sub.get_arguments().any(|a| a.get_id() == "database_url")
        };
        for name in ["migrate", "ingest", "bank-statement", "merchant-sales", "discover", "run", "reconcile"] {
            assert!(has(name), "{name}");
        }
        for name in ["report", "unload", "bench"] {
            assert!(has(name), "{name}");
        }
        for name in ["sample", "parse", "fetch"] {
            assert!(!has(name), "{name}");
        }
    }
}
