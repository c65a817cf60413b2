//! `migrate`, `sample`, `bench`, `db start|stop`: the database and the data to try it on.

use super::{database_url, require_db};
use crate::args::{BenchArgs, DbArgs, SampleArgs};
use crate::{bench, print};
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;
use syncrocardpay_core::db::{self, localpg::LocalPostgres};
use syncrocardpay_core::formats::cielo::sample::{self, SampleSpec};
use syncrocardpay_core::formats::sample_world;

pub async fn migrate(o: DbArgs) -> Result<ExitCode> {
    let url = require_db(&o).await?;
    let mut client = db::connect(&url).await?;
    let applied = db::migrate(&mut client).await?;
    if applied.is_empty() {
        println!("database is up to date ({})", db::redact_url(&url));
    }
    for m in applied {
        println!("applied {m}");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn sample(a: SampleArgs) -> Result<ExitCode> {
    let spec =
        SampleSpec { transactions: a.transactions, seed: a.seed, merchants: a.merchants, ..SampleSpec::default() };
    let counts = [("getnet", a.getnet_sales), ("pagbank", a.pagbank_sales), ("stone", a.stone_sales)];
    let world = sample_world::write(&a.out, &spec, |name| counts.iter().find(|c| c.0 == name).map_or(0, |c| c.1))?;
    print::sample_files(&world.cielo);
    print::bank_sample(&world.cielo_bank);
    for o in &world.others {
        for f in &o.statements.files {
            println!("{}  {}", f.display(), o.what);
        }
        print::bank_sample(&o.bank);
    }
    if a.quirks {
        let first = world.cielo.first().map(|f| f.merchant_code.clone()).unwrap_or_default();
        let of_one: Vec<_> = world.cielo.iter().filter(|f| f.merchant_code == first).cloned().collect();
        for q in sample::write_quirks(&a.out.join("quirks"), &of_one)? {
            println!("{}  quirk: {}", q.path.display(), q.quirk);
        }
    }
    // The other side of a reconciliation: the merchants' own sales and their contract.
    let books = &world.books;
    println!(
        "{}  the merchants' POS export (load: merchant-sales --mapping {})",
        books.merchant_sales.display(),
        books.mapping.display()
    );
    println!("{}  the contracted rates (load: rates import)", books.rates.display());
    Ok(ExitCode::SUCCESS)
}

pub async fn bench(a: BenchArgs) -> Result<ExitCode> {
    let options = bench::BenchOptions {
        sales: a.sales,
        memory_sales: a.memory_sales,
        database_url: database_url(&a.db).await?,
        work_dir: a.work_dir,
        python: !a.no_python,
        reconcile_sales: a.reconcile_sales,
        deposit_accounts: a.deposit_accounts,
        acquirer_sales: a.acquirer_sales,
    };
    let report = bench::run(options).await?;
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        bench::print(&report);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn db_start(dir: PathBuf, port: Option<u16>) -> Result<ExitCode> {
    let pg =
        LocalPostgres::start(Some(&dir), port).with_context(|| format!("starting PostgreSQL in {}", dir.display()))?;
    let port = pg.port();
    pg.detach();
    println!("PostgreSQL running on 127.0.0.1:{port}; DATABASE_URL written to {}", dir.join("env").display());
    Ok(ExitCode::SUCCESS)
}

pub fn db_stop(dir: PathBuf) -> Result<ExitCode> {
    db::localpg::stop_dir(&dir)?;
    println!("stopped and removed {}", dir.display());
    Ok(ExitCode::SUCCESS)
}
