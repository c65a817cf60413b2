//! `syncrocardpay bench`: one run that measures, side by side on the same generated statement, our parse
//! rate, our file → facts load, the physical limit (raw binary COPY of the very rows we loaded), `psql \copy`
//! of them as CSV, and, where Python has them, the pandas + psycopg2 path and the `cielo-edi` parser; then
//! the peak memory of `syncrocardpay ingest` at several file sizes, and the time and peak memory of
//! `syncrocardpay reconcile` over one merchant's period at several sizes. Tooling at the edge: nothing here is used
//! by the pipeline.

use anyhow::{bail, Context, Result};
use futures_util::SinkExt;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;
use syncrocardpay_core::db::{self, localpg::LocalPostgres};
use syncrocardpay_core::formats::cielo::sample::{self, SampleFile, SampleSpec};
use syncrocardpay_core::formats::sample_world;
use syncrocardpay_core::formats::validate_statement;
use syncrocardpay_core::pipeline::{self, IngestMode, Outcome};
use syncrocardpay_core::source::FolderSource;
use tokio_postgres::Client;

/// The fact tables a sales statement loads, compared row for row.
const FACT_TABLES: [&str; 2] = ["fact_card_transaction", "fact_receivable_unit"];

/// One measured way of doing a step.
#[derive(Debug, Clone, Serialize)]
pub struct Measure {
    pub what: String,
    pub rows: u64,
    pub seconds: f64,
    pub rows_per_second: f64,
    pub mb_per_second: Option<f64>,
    pub note: String,
}

impl Measure {
    fn new(what: &str, rows: u64, seconds: f64, bytes: Option<u64>, note: impl Into<String>) -> Self {
        Measure {
            what: what.into(),
            rows,
            seconds,
            rows_per_second: rows as f64 / seconds.max(1e-9),
            mb_per_second: bytes.map(|b| b as f64 / 1e6 / seconds.max(1e-9)),
            note: note.into(),
        }
    }
}

/// Peak resident memory of one `syncrocardpay ingest` process.
#[derive(Debug, Clone, Serialize)]
pub struct MemoryPoint {
    pub sales: u64,
    pub transactions: u64,
    pub file_bytes: u64,
    pub rows_loaded: u64,
    pub seconds: f64,
    pub peak_rss_mib: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub cpus: usize,
    pub file: String,
    pub file_bytes: u64,
    pub lines: u64,
    pub fact_rows: u64,
    pub parse: Vec<Measure>,
    pub load: Vec<Measure>,
    /// `run` over a folder of 50 statements, one job then one per CPU.
    pub run: Vec<Measure>,
    pub memory: Vec<MemoryPoint>,
    /// `syncrocardpay reconcile` of one merchant at several sizes.
    pub reconcile: Vec<ReconcilePoint>,
    /// The bank area's matching over a year of daily statements of many accounts.
    pub deposits: Option<DepositPoint>,
    /// The other acquirers' formats (Getnet, PagBank, Stone): each one's sample of as many sales, parsed and
    /// validated (best of three), then loaded into a database of its own.
    pub acquirers: Vec<AcquirerPoint>,
}

/// One acquirer's format: its sample of `sales` sales in `files` files.
#[derive(Debug, Clone, Serialize)]
pub struct AcquirerPoint {
    pub acquirer: String,
    pub sales: u64,
    pub files: u64,
    pub bytes: u64,
    pub parse: Measure,
    pub load: Measure,
}

/// Each of [`syncrocardpay_core::formats::DAY_SAMPLES`]: its sample of `sales` sales over three days, its
/// parse and validate rate (records per second, best of three), its load rate (fact rows per second, every
/// file into the fresh database `url`).
async fn acquirers(work: &Path, sales: u64, url: &str) -> Result<Vec<AcquirerPoint>> {
    use syncrocardpay_core::formats::bank::sample::AcquirerSampleSpec;
    let first = chrono::NaiveDate::from_ymd_opt(2026, 9, 1).expect("a date");
    let spec = AcquirerSampleSpec {
        seed: 42,
        sales: sales as usize,
        first,
        days: 3,
        settle_until: first + chrono::Duration::days(33),
    };
    let mut client = db::connect(url).await?;
    let mut out = Vec::new();
    for &(name, what, write) in syncrocardpay_core::formats::DAY_SAMPLES {
        eprintln!("{what}: {sales} sales…");
        let dir = work.join(name);
        let written = write(&dir, &spec)?;
        let bytes: u64 = written.files.iter().map(|f| std::fs::metadata(f).map_or(0, |m| m.len())).sum();
        let (mut best, mut records) = (f64::MAX, 0);
        for _ in 0..3 {
            let t = Instant::now();
            let mut n = 0;
            for f in &written.files {
                let s = validate_statement(std::fs::File::open(f)?, "bench")?;
                anyhow::ensure!(s.is_valid(), "{}: the generated file is invalid: {:?}", f.display(), s.errors.first());
                // The domain records read (a JSON or XML document has no record lines to count).
                n += [
                    &s.receivable_units,
                    &s.transactions,
                    &s.negotiations,
                    &s.negotiated_receivables,
                    &s.negotiation_credits,
                ]
                .iter()
                .map(|t| t.count)
                .sum::<u64>();
            }
            best = best.min(t.elapsed().as_secs_f64());
            records = n;
        }
        let t = Instant::now();
        let mut rows = 0;
        for f in &written.files {
            let r = pipeline::ingest_file(&mut client, f, "bench", IngestMode::StageAndLoad).await?;
            anyhow::ensure!(r.outcome == Outcome::Loaded, "{}: {:?}", f.display(), r.outcome);
            rows += r.rows.total();
        }
        let load_seconds = t.elapsed().as_secs_f64();
        out.push(AcquirerPoint {
            acquirer: what.to_string(),
            sales,
            files: written.files.len() as u64,
            bytes,
            parse: Measure::new(&format!("parse + validate {what}"), records, best, Some(bytes), "domain records read"),
            load: Measure::new(&format!("file → facts {what}"), rows, load_seconds, Some(bytes), "fact rows"),
        });
        std::fs::remove_dir_all(&dir)?;
    }
    Ok(out)
}

/// The bank area (`reconcile::deposits`) over `accounts` accounts × `days` days of payments and credits.
#[derive(Debug, Clone, Serialize)]
pub struct DepositPoint {
    pub accounts: u64,
    pub days: u64,
    pub payments: u64,
    pub credits: u64,
    pub items: u64,
    /// Items per status, by name.
    pub by_status: std::collections::BTreeMap<String, u64>,
    pub seconds: f64,
    /// What the process's peak resident memory grew by while the inputs were built and matched.
    pub peak_rss_growth_mib: f64,
}

/// The process's resident and peak resident memory, in MiB (Linux).
fn rss_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// A year of one bank's life for `accounts` accounts: five brands paid every day into each, half the accounts
/// credited per brand and half per day, a transfer received every day; every 97th payment never credited,
/// every 101st a business day late, every 103rd R$ 1,00 short. Then the bank area's matching, timed.
pub fn deposits(accounts: u64, days: u64) -> DepositPoint {
    use rust_decimal::Decimal;
    use syncrocardpay_core::reconcile::deposits::{self, BankInputs, Credit, Payment};
    let (_, peak_before) = rss_mib();
    let started = std::time::Instant::now();
    let first = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("a date");
    let mut inputs = BankInputs::default();
    let mut n = 0u64;
    for a in 0..accounts {
        let account = ("341".to_string(), format!("{}", 100_000 + a));
        let label = format!("341 / 0001 / {}", 100_000 + a);
        inputs.coverage.add(account.clone(), first, first + chrono::Duration::days(days as i64 + 10));
        for d in 0..days {
            let date = first + chrono::Duration::days(d as i64);
            let mut day_total = Decimal::ZERO;
            for (b, brand) in ["001", "002", "003", "007", "040"].into_iter().enumerate() {
                n += 1;
                let amount = Decimal::new(((a * 7919 + d * 104_729 + b as u64 * 31) % 500_000 + 1_000) as i64, 2);
                inputs.payments.push(Payment {
                    acquirer: "cielo".into(),
                    merchant_code: format!("{:010}", a),
                    account: account.clone(),
                    account_label: label.clone(),
                    date,
                    amount,
                    brand: brand.into(),
                    source: (a as i64, n as i64),
                });
                let mut credit = Credit {
                    account: account.clone(),
                    account_label: label.clone(),
                    merchant_code: format!("{:010}", a),
                    date,
                    amount,
                    acquirer: Some("cielo".into()),
                    card_money: true,
                    memo: format!("CIELO {brand}"),
                    source: (1_000 + a as i64, n as i64),
                };
                if n % 97 == 0 {
                    continue;
                } else if n % 101 == 0 {
                    credit.date = date + chrono::Duration::days(1);
                } else if n % 103 == 0 {
                    credit.amount -= Decimal::ONE;
                } else if a % 2 == 1 {
                    day_total += amount;
                    continue;
                }
                inputs.credits.push(credit);
            }
            if day_total > Decimal::ZERO {
                inputs.credits.push(Credit {
                    account: account.clone(),
                    account_label: label.clone(),
                    merchant_code: format!("{:010}", a),
                    date,
                    amount: day_total,
                    acquirer: Some("cielo".into()),
                    card_money: true,
                    memo: "CIELO S.A.".into(),
                    source: (1_000 + a as i64, -(d as i64)),
                });
            }
            inputs.credits.push(Credit {
                account: account.clone(),
                account_label: label.clone(),
                merchant_code: format!("{:010}", a),
                date,
                amount: Decimal::new(250_000 + d as i64, 2),
                acquirer: None,
                card_money: false,
                memo: "TED RECEBIDA".into(),
                source: (2_000 + a as i64, d as i64),
            });
        }
    }
    let settings = syncrocardpay_core::reconcile::Settings::new(first + chrono::Duration::days(days as i64));
    let (items, _) = deposits::reconcile(&inputs, &settings);
    let seconds = started.elapsed().as_secs_f64();
    let mut by_status = std::collections::BTreeMap::new();
    for i in &items {
        *by_status.entry(i.status.as_str().to_string()).or_default() += 1;
    }
    let (_, peak_after) = rss_mib();
    DepositPoint {
        accounts,
        days,
        payments: inputs.payments.len() as u64,
        credits: inputs.credits.len() as u64,
        items: items.len() as u64,
        by_status,
        seconds,
        peak_rss_growth_mib: (peak_after - peak_before).max(0.0),
    }
}

/// Time and peak resident memory of one `syncrocardpay reconcile` process over one merchant's period.
#[derive(Debug, Clone, Serialize)]
pub struct ReconcilePoint {
    /// Sales in the sample (each with its installments, payments, open balance and the merchant's own sale).
    pub sales: u64,
    /// Sales lines of its sales statement (one per installment).
    pub sales_lines: u64,
    /// Every fact row the reconciliation reads from: transactions, receivable units, merchant sales.
    pub input_rows: u64,
    pub items: u64,
    /// Items that are not settled (kept whole); the others are kept as links.
    pub listed: u64,
    pub seconds: f64,
    pub rows_per_second: f64,
    pub peak_rss_mib: f64,
}

pub struct BenchOptions {
    /// Sales in the generated statement (installments multiply its transaction lines).
    pub sales: u64,
    /// Sales of each statement whose `ingest` peak memory is measured.
    pub memory_sales: Vec<u64>,
    pub database_url: Option<String>,
    pub work_dir: Option<PathBuf>,
    pub python: bool,
    /// Sizes (in sales of one merchant) at which `syncrocardpay reconcile` is measured.
    pub reconcile_sales: Vec<u64>,
    /// Accounts of the bank area's benchmark (a year of daily statements each); 0 leaves it out.
    pub deposit_accounts: u64,
    /// Sales of each other acquirer's sample (Getnet, PagBank, Stone) whose parse and load are measured.
    pub acquirer_sales: u64,
}

/// The sales statement (type 03) of a one-merchant sample of `sales` sales.
fn sales_statement(dir: &Path, sales: u64) -> Result<SampleFile> {
    let spec = SampleSpec { transactions: sales, seed: 42, merchants: 1, ..SampleSpec::default() };
    sample::generate(dir, &spec)?.into_iter().find(|f| f.file_type == "03").context("the sample has no sales statement")
}

/// A new empty, migrated database on the server of `admin_url`; its URL.
async fn fresh_database(admin_url: &str, name: &str) -> Result<String> {
    let url = db::recreate_database(admin_url, name).await?;
    db::migrate(&mut db::connect(&url).await?).await?;
    Ok(url)
}

async fn count_where(db: &Client, table: &str, condition: &str) -> Result<u64> {
    Ok(db.query_one(&format!("SELECT count(*) FROM {table} WHERE {condition}"), &[]).await?.get::<_, i64>(0) as u64)
}

async fn count(db: &Client, table: &str) -> Result<u64> {
    Ok(db.query_one(&format!("SELECT count(*) FROM {table}"), &[]).await?.get::<_, i64>(0) as u64)
}

/// Export a table's rows (binary COPY) to a file.
async fn copy_out(db: &Client, sql: &str, path: &Path) -> Result<u64> {
    use futures_util::StreamExt;
    use std::io::Write;
    let stream = db.copy_out(sql).await?;
    futures_util::pin_mut!(stream);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut bytes = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        bytes += chunk.len() as u64;
        out.write_all(&chunk)?;
    }
    out.flush()?;
    Ok(bytes)
}

/// Stream a file into `COPY … FROM STDIN` (1 MiB chunks).
async fn copy_in(db: &Client, sql: &str, path: &Path) -> Result<u64> {
    use std::io::Read;
    let sink = db.copy_in::<_, bytes::Bytes>(sql).await?;
    futures_util::pin_mut!(sink);
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        sink.send(bytes::Bytes::copy_from_slice(&buf[..n])).await?;
    }
    Ok(sink.finish().await?)
}

/// Empty copies of the fact tables (the tables under the fact views, `…_all`), indexes included: a fair
/// target for the raw loads.
async fn raw_tables(db: &Client) -> Result<()> {
    for t in FACT_TABLES {
        db.batch_execute(&format!("DROP TABLE IF EXISTS raw_{t}; CREATE TABLE raw_{t} (LIKE {t}_all INCLUDING ALL)"))
            .await?;
    }
    Ok(())
}

/// Run a child process and return its exit status, peak resident memory (wait4's ru_maxrss) and what it
/// wrote to its standard output when that is piped.
fn run_measuring_rss(cmd: &mut Command) -> Result<(std::process::ExitStatus, f64, String)> {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let mut child = cmd.spawn().context("starting the child process")?;
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout.read_to_string(&mut out).context("reading the child's output")?;
    }
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: wait4 on our own child, with valid pointers to locals; `child` is not waited for elsewhere.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if r != pid {
        bail!("wait4 failed: {}", std::io::Error::last_os_error());
    }
    std::mem::forget(child);
    Ok((std::process::ExitStatus::from_raw(status), usage.ru_maxrss as f64 / 1024.0, out))
}

fn python_has(modules: &str) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Run a Python script given as text; its last stdout line is JSON.
fn python_json(script: &str, args: &[&str]) -> Result<serde_json::Value> {
    let out = Command::new("python3").arg("-c").arg(script).args(args).output().context("running python3")?;
    if !out.status.success() {
        bail!("python3 failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().context("python3 printed nothing")?;
    Ok(serde_json::from_str(last)?)
}

const CIELO_EDI_RATE: &str = r#"
import json, sys, time
from cielo_edi.parser import CieloEDIParser
t = time.perf_counter(); n = 0
for record in CieloEDIParser().processar_streaming(sys.argv[1]):
    n += 1
print(json.dumps({"records": n, "seconds": time.perf_counter() - t}))
"#;

/// The replaced Lambda's way: pandas read_csv (types inferred) then psycopg2 execute_values, per table.
/// Also counts how many zero-padded codes pandas altered (NSU read as a number loses its leading zeros).
const PANDAS_LOAD: &str = r#"
import json, resource, sys, time
import pandas as pd, psycopg2
from psycopg2.extras import execute_values
url = sys.argv[1]
pairs = list(zip(sys.argv[2::2], sys.argv[3::2]))
t = time.perf_counter(); rows = 0; altered = 0; codes = 0
conn = psycopg2.connect(url)
with conn, conn.cursor() as cur:
    for table, csv in pairs:
        cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s AND is_nullable = 'NO'"
                    " AND data_type = 'text'", (table,))
        required_text = {r[0] for r in cur.fetchall()}
        df = pd.read_csv(csv, keep_default_na=False)
        if "nsu" in df.columns:
            original = pd.read_csv(csv, usecols=["nsu"], dtype=str, keep_default_na=False)["nsu"]
            codes += len(original)
            altered += int((df["nsu"].astype(str) != original).sum())
        blank_is_null = [c not in required_text for c in df.columns]
        values = [[None if (v == "" and b) else v for v, b in zip(row, blank_is_null)]
                  for row in df.astype(object).where(pd.notnull(df), None).values.tolist()]
        execute_values(cur, f"INSERT INTO {table} ({','.join(df.columns)}) VALUES %s", values, page_size=1000)
        rows += len(values)
print(json.dumps({"rows": rows, "seconds": time.perf_counter() - t, "altered": altered, "codes": codes,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"#;

pub async fn run(options: BenchOptions) -> Result<BenchReport> {
    let work = match &options.work_dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            tempfile::Builder::new().prefix("syncrocardpay-bench-").tempdir_in(d)?
        }
        None => tempfile::Builder::new().prefix("syncrocardpay-bench-").tempdir()?,
    };
    let mut _cluster = None;
    let admin_url = match &options.database_url {
        Some(u) => u.clone(),
        None => {
            eprintln!("no DATABASE_URL: starting a throwaway PostgreSQL for the benchmark…");
            let pg = tokio::task::spawn_blocking(|| LocalPostgres::start(None, None)).await??;
            let url = pg.url().to_string();
            _cluster = Some(pg);
            url
        }
    };
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    // First, while this process holds little: its peak memory is the matching's.
    let deposits = (options.deposit_accounts > 0).then(|| {
        eprintln!("matching a year of daily bank statements of {} accounts…", options.deposit_accounts);
        deposits(options.deposit_accounts, 365)
    });

    eprintln!("generating a sales statement of {} sales…", options.sales);
    let file = sales_statement(&work.path().join("in"), options.sales)?;
    let file_bytes = std::fs::metadata(&file.path)?.len();

    // Parse + validate: best of three, no database.
    let mut best = f64::MAX;
    let mut lines = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let s = validate_statement(std::fs::File::open(&file.path)?, "bench")?;
        best = best.min(t.elapsed().as_secs_f64());
        anyhow::ensure!(s.is_valid(), "the generated statement is invalid: {:?}", s.errors.first());
        lines = s.lines;
    }
    let mut parse = vec![Measure::new("parse + validate (syncrocardpay)", lines, best, Some(file_bytes), "")];
    if options.python && python_has("cielo_edi") {
        eprintln!("cielo-edi parser…");
        let v = python_json(CIELO_EDI_RATE, &[&file.path.to_string_lossy()])?;
        let records = v["records"].as_u64().unwrap_or(0);
        parse.push(Measure::new(
            "parse (cielo-edi, Python)",
            records,
            v["seconds"].as_f64().unwrap_or(f64::NAN),
            Some(file_bytes),
            "streaming; no trailer check, no signs",
        ));
    } else {
        eprintln!("note: cielo-edi is not installed (pip install cielo-edi): its rate is not measured");
    }

    // File → facts, in a fresh database.
    eprintln!("loading the statement…");
    let url = fresh_database(&admin_url, "syncro_bench").await?;
    let mut client = db::connect(&url).await?;
    let t = Instant::now();
    let report = pipeline::ingest_file(&mut client, &file.path, "bench", IngestMode::StageAndLoad).await?;
    let load_seconds = t.elapsed().as_secs_f64();
    anyhow::ensure!(report.outcome == Outcome::Loaded, "the statement did not load: {:?}", report.outcome);
    let fact_rows = report.rows.total();
    let mut load = vec![Measure::new(
        "file → facts (syncrocardpay ingest)",
        fact_rows,
        load_seconds,
        Some(file_bytes),
        "parse, validate, dimensions, facts, commit",
    )];

    // The AWS path: the ingest Lambda stages (other kinds through stage_record), the load Lambda adds the
    // staged rows to the dimensions and facts — in a database of its own.
    eprintln!("staging, then loading, the statement (the AWS path)…");
    let staged_url = fresh_database(&admin_url, "syncro_bench_staged").await?;
    let mut staged_client = db::connect(&staged_url).await?;
    let t = Instant::now();
    let staged = pipeline::ingest_file(&mut staged_client, &file.path, "bench", IngestMode::StageOnly).await?;
    let stage_seconds = t.elapsed().as_secs_f64();
    let loaded = pipeline::load_files(&mut staged_client, &[staged.file_id]).await?;
    let staged_seconds = t.elapsed().as_secs_f64();
    let staged_rows = match loaded.first() {
        Some((_, pipeline::FileLoad::Done(Outcome::Loaded, rows))) => rows.total(),
        other => bail!("the staged statement did not load: {other:?}"),
    };
    load.push(Measure::new(
        "staged path (ingest stages, load moves)",
        staged_rows,
        staged_seconds,
        Some(file_bytes),
        format!("stage {stage_seconds:.2} s, load {:.2} s: the Lambdas' two steps", staged_seconds - stage_seconds),
    ));
    drop(staged_client);

    // The physical limit: the same rows, pre-formatted, binary COPY into copies of the fact tables.
    raw_tables(&client).await?;
    let mut exported = Vec::new();
    for table in FACT_TABLES {
        let bin = work.path().join(format!("{table}.bin"));
        copy_out(&client, &format!("COPY {table}_all TO STDOUT (FORMAT binary)"), &bin).await?;
        let csv = work.path().join(format!("{table}.csv"));
        copy_out(&client, &format!("COPY {table}_all TO STDOUT (FORMAT csv, HEADER)"), &csv).await?;
        exported.push((table, bin, csv));
    }
    client.batch_execute("CHECKPOINT").await?;
    let t = Instant::now();
    let mut copied = 0;
    for (table, bin, _) in &exported {
        copied += copy_in(&client, &format!("COPY raw_{table} FROM STDIN (FORMAT binary)"), bin).await?;
    }
    load.push(Measure::new(
        "raw binary COPY of the same rows",
        copied,
        t.elapsed().as_secs_f64(),
        None,
        "pre-formatted rows, same indexes: the physical limit",
    ));

    // psql \copy of the same rows as CSV.
    raw_tables(&client).await?;
    client.batch_execute("CHECKPOINT").await?;
    if Command::new("psql").arg("--version").output().is_ok_and(|o| o.status.success()) {
        let mut script = String::from("BEGIN;\n");
        for (table, _, csv) in &exported {
            script.push_str(&format!("\\copy raw_{table} FROM '{}' WITH (FORMAT csv, HEADER)\n", csv.display()));
        }
        script.push_str("COMMIT;\n");
        let script_path = work.path().join("copy.sql");
        std::fs::write(&script_path, script)?;
        let t = Instant::now();
        let out = Command::new("psql")
            .args(["-v", "ON_ERROR_STOP=1", "-q", "-f"])
            .arg(&script_path)
            .arg(&url)
            .output()
            .context("running psql")?;
        let seconds = t.elapsed().as_secs_f64();
        anyhow::ensure!(out.status.success(), "psql failed: {}", String::from_utf8_lossy(&out.stderr));
        let mut rows = 0;
        for table in FACT_TABLES {
            rows += count(&client, &format!("raw_{table}")).await?;
        }
        load.push(Measure::new("psql \\copy CSV of the same rows", rows, seconds, None, ""));
    } else {
        eprintln!("note: psql is not installed: the \\copy rate is not measured");
    }

    // The replaced Python path.
    if options.python && python_has("pandas, psycopg2") {
        eprintln!("pandas + psycopg2…");
        raw_tables(&client).await?;
        client.batch_execute("CHECKPOINT").await?;
        let mut args = vec![url.clone()];
        for (table, _, csv) in &exported {
            args.push(format!("raw_{table}"));
            args.push(csv.to_string_lossy().to_string());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let v = python_json(PANDAS_LOAD, &args)?;
        load.push(Measure::new(
            "pandas read_csv + psycopg2 execute_values",
            v["rows"].as_u64().unwrap_or(0),
            v["seconds"].as_f64().unwrap_or(f64::NAN),
            None,
            format!(
                "peak RSS {:.0} MiB; {} of {} NSUs lost leading zeros",
                v["peak_rss_mib"].as_f64().unwrap_or(0.0),
                v["altered"],
                v["codes"]
            ),
        ));
    } else {
        eprintln!("note: pandas and psycopg2 are not installed (pip install pandas psycopg2-binary): not measured");
    }
    drop(client);

    // The local pipeline over 50 files (10 merchants × 5 statement types): one job, then one per CPU.
    eprintln!("run over 50 files…");
    let inbox = work.path().join("inbox");
    let spec =
        SampleSpec { transactions: (options.sales / 4).max(500), seed: 7, merchants: 10, ..SampleSpec::default() };
    let files = sample::generate(&inbox, &spec)?;
    let mut run = Vec::new();
    for jobs in [1, cpus] {
        let url = fresh_database(&admin_url, "syncro_bench_run").await?;
        let summary =
            syncrocardpay_core::intake::run(&url, std::sync::Arc::new(FolderSource::new(&inbox)), jobs).await?;
        anyhow::ensure!(summary.loaded == files.len(), "{} of {} files loaded", summary.loaded, files.len());
        run.push(Measure::new(
            &format!("run over {} files, {jobs} job(s)", files.len()),
            summary.facts.total(),
            summary.seconds,
            None,
            "",
        ));
        if cpus == 1 {
            break;
        }
    }
    std::fs::remove_dir_all(&inbox)?;

    // Peak memory of the real command at several sizes.
    let mut memory = Vec::new();
    for &n in &options.memory_sales {
        eprintln!("peak memory of `syncrocardpay ingest` on {n} sales…");
        let dir = work.path().join(format!("rss-{n}"));
        let f = sales_statement(&dir, n)?;
        let url = fresh_database(&admin_url, "syncro_bench_rss").await?;
        let t = Instant::now();
        let (status, rss, _) = run_measuring_rss(
            Command::new(std::env::current_exe()?)
                .args(["ingest", "--json"])
                .arg(&f.path)
                .env("DATABASE_URL", &url)
                .stdout(Stdio::null())
                .stderr(Stdio::inherit()),
        )?;
        anyhow::ensure!(status.success(), "ingest of {} failed ({status})", f.path.display());
        memory.push(MemoryPoint {
            sales: n,
            transactions: f.transactions,
            file_bytes: std::fs::metadata(&f.path)?.len(),
            rows_loaded: f.transactions + f.receivable_units,
            seconds: t.elapsed().as_secs_f64(),
            peak_rss_mib: rss,
        });
        std::fs::remove_dir_all(&dir)?;
    }
    // The real `reconcile` command over one merchant's period at several sizes: its time and peak memory.
    let mut reconcile = Vec::new();
    for &n in &options.reconcile_sales {
        eprintln!("reconciling one merchant's {n} sales…");
        let dir = work.path().join(format!("recon-{n}"));
        let url = fresh_database(&admin_url, "syncro_bench_recon").await?;
        let mut client = db::connect(&url).await?;
        let spec = SampleSpec { transactions: n, seed: 11, merchants: 1, ..SampleSpec::default() };
        let books = sample_world::write_books(&dir.join("merchant"), &spec, &[])?;
        pipeline::load_books(&mut client, &books, "bench").await?;
        for f in sample::generate(&dir.join("statements"), &spec)? {
            let r = pipeline::ingest_file(&mut client, &f.path, "bench", IngestMode::StageAndLoad).await?;
            anyhow::ensure!(r.outcome == Outcome::Loaded, "{} did not load: {:?}", f.path.display(), r.outcome);
        }
        let sales_lines = count_where(&client, "fact_card_transaction", "file_type = '03'").await?;
        let input_rows = count(&client, "fact_card_transaction").await?
            + count(&client, "fact_receivable_unit").await?
            + count(&client, "fact_merchant_sale").await?;
        drop(client);
        let (status, rss, out) = run_measuring_rss(
            Command::new(std::env::current_exe()?)
                .args(["reconcile", "--json"])
                .env("DATABASE_URL", &url)
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit()),
        )?;
        anyhow::ensure!(status.success(), "reconcile of {n} sales failed ({status})");
        let run: serde_json::Value = serde_json::from_str(&out).context("reading reconcile's report")?;
        let seconds = run["seconds"].as_f64().unwrap_or(f64::NAN);
        let by_status = run["totals"]["by_status"].as_array().cloned().unwrap_or_default();
        let settled: u64 = by_status
            .iter()
            .filter(|s| matches!(s["status"].as_str(), Some("matched" | "paid" | "ok")))
            .map(|s| s["count"].as_u64().unwrap_or(0))
            .sum();
        let items = run["totals"]["items"].as_u64().unwrap_or(0);
        reconcile.push(ReconcilePoint {
            sales: n,
            sales_lines,
            input_rows,
            items,
            listed: items - settled.min(items),
            seconds,
            rows_per_second: input_rows as f64 / seconds.max(1e-9),
            peak_rss_mib: rss,
        });
        std::fs::remove_dir_all(&dir)?;
    }

    let acquirers = if options.acquirer_sales > 0 {
        let url = fresh_database(&admin_url, "syncro_bench_acquirers").await?;
        acquirers(work.path(), options.acquirer_sales, &url).await?
    } else {
        Vec::new()
    };

    let admin = db::connect(&admin_url).await?;
    for name in [
        "syncro_bench",
        "syncro_bench_staged",
        "syncro_bench_rss",
        "syncro_bench_run",
        "syncro_bench_recon",
        "syncro_bench_acquirers",
    ] {
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).await?;
    }
    Ok(BenchReport {
        cpus,
        file: file.path.file_name().unwrap_or_default().to_string_lossy().to_string(),
        file_bytes,
        lines,
        fact_rows,
        parse,
        load,
        run,
        memory,
        reconcile,
        deposits,
        acquirers,
    })
}

/// The report as a table with ratios: parse rates against ours, load rates against the raw COPY.
pub fn print(r: &BenchReport) {
    println!(
        "syncrocardpay bench — {} ({:.1} MB, {} lines, {} fact rows), {} CPUs",
        r.file,
        r.file_bytes as f64 / 1e6,
        r.lines,
        r.fact_rows,
        r.cpus
    );
    println!();
    println!("{:<46} {:>12} {:>9} {:>10} {:>9}  note", "parse", "lines/s", "MB/s", "seconds", "ours ×");
    let ours = r.parse[0].rows_per_second;
    for m in &r.parse {
        println!(
            "{:<46} {:>12.0} {:>9} {:>10.3} {:>9.1}  {}",
            m.what,
            m.rows_per_second,
            m.mb_per_second.map_or("".into(), |v| format!("{v:.1}")),
            m.seconds,
            ours / m.rows_per_second,
            m.note
        );
    }
    println!();
    println!("{:<46} {:>12} {:>9} {:>10} {:>9}  note", "load", "rows/s", "", "seconds", "÷ COPY");
    let copy = r.load.iter().find(|m| m.what.starts_with("raw binary COPY")).map(|m| m.rows_per_second);
    for m in &r.load {
        println!(
            "{:<46} {:>12.0} {:>9} {:>10.3} {:>9}  {}",
            m.what,
            m.rows_per_second,
            "",
            m.seconds,
            copy.map_or("".into(), |c| format!("{:.2}", m.rows_per_second / c)),
            m.note
        );
    }
    if let (Some(ours), Some(py)) =
        (r.load.first(), r.load.iter().find(|m| m.what.starts_with("pandas")).map(|m| m.rows_per_second))
    {
        println!("syncrocardpay ingest is {:.1}× the pandas path", ours.rows_per_second / py);
    }
    if let Some(one) = r.run.first() {
        println!();
        println!("{:<46} {:>12} {:>9} {:>10} {:>9}", "local pipeline", "rows/s", "", "seconds", "speed-up");
        for m in &r.run {
            println!(
                "{:<46} {:>12.0} {:>9} {:>10.3} {:>9.2}",
                m.what,
                m.rows_per_second,
                "",
                m.seconds,
                m.rows_per_second / one.rows_per_second
            );
        }
    }
    if !r.reconcile.is_empty() {
        println!();
        println!(
            "{:<14} {:>10} {:>12} {:>12} {:>11} {:>9} {:>10} {:>10} {:>14}",
            "reconcile", "sales", "sales lines", "input rows", "items", "listed", "seconds", "rows/s", "peak RSS MiB"
        );
        for p in &r.reconcile {
            println!(
                "{:<14} {:>10} {:>12} {:>12} {:>11} {:>9} {:>10.1} {:>10.0} {:>14.1}",
                "one merchant",
                p.sales,
                p.sales_lines,
                p.input_rows,
                p.items,
                p.listed,
                p.seconds,
                p.rows_per_second,
                p.peak_rss_mib
            );
        }
    }
    if !r.acquirers.is_empty() {
        println!();
        println!(
            "{:<20} {:>8} {:>6} {:>9} {:>14} {:>9} {:>14} {:>9}",
            "other acquirers", "sales", "files", "MB", "records/s", "MB/s", "fact rows/s", "seconds"
        );
        for a in &r.acquirers {
            println!(
                "{:<20} {:>8} {:>6} {:>9.2} {:>14.0} {:>9.1} {:>14.0} {:>9.2}",
                a.acquirer,
                a.sales,
                a.files,
                a.bytes as f64 / 1e6,
                a.parse.rows_per_second,
                a.parse.mb_per_second.unwrap_or(f64::NAN),
                a.load.rows_per_second,
                a.load.seconds
            );
        }
    }
    if let Some(d) = &r.deposits {
        println!();
        println!(
            "{:<14} {:>10} {:>6} {:>10} {:>10} {:>10} {:>10} {:>10} {:>18}",
            "bank deposits",
            "accounts",
            "days",
            "payments",
            "credits",
            "items",
            "seconds",
            "items/s",
            "peak RSS growth MiB"
        );
        println!(
            "{:<14} {:>10} {:>6} {:>10} {:>10} {:>10} {:>10.2} {:>10.0} {:>18.1}",
            "matching",
            d.accounts,
            d.days,
            d.payments,
            d.credits,
            d.items,
            d.seconds,
            d.items as f64 / d.seconds.max(1e-9),
            d.peak_rss_growth_mib
        );
        let statuses: Vec<String> = d.by_status.iter().map(|(s, n)| format!("{s} {n}")).collect();
        println!("{:<14} {}", "", statuses.join(", "));
    }
    if !r.memory.is_empty() {
        println!();
        println!(
            "{:<14} {:>10} {:>13} {:>10} {:>10} {:>14}",
            "peak memory", "sales", "transactions", "file MB", "seconds", "peak RSS MiB"
        );
        for p in &r.memory {
            println!(
                "{:<14} {:>10} {:>13} {:>10.1} {:>10.1} {:>14.1}",
                "ingest",
                p.sales,
                p.transactions,
                p.file_bytes as f64 / 1e6,
                p.seconds,
                p.peak_rss_mib
            );
        }
    }
}
