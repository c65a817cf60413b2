//! `parse`, `ingest`, `bank-statement`, `merchant-sales`, `unload`: files in and out of the database, one at
//! a time; one file failing never stops the others, and makes the exit status 1.

use super::{connect_and_migrate, database, exit_code, require_db};
use crate::args::{IngestArgs, MerchantSalesArgs, ParseArgs, UnloadArgs};
use crate::{print, progress_ui};
use anyhow::{Context, Result};
use std::process::ExitCode;
use syncrocardpay_core::db;
use syncrocardpay_core::formats::merchant::{read_merchant_sales, Mapping};
use syncrocardpay_core::pipeline::{self, IngestMode, Outcome};
use syncrocardpay_core::source::printable_name;

pub fn parse(a: ParseArgs) -> Result<ExitCode> {
    let mut rejected = 0;
    for path in &a.files {
        let name = path.display().to_string();
        let summaries =
            pipeline::validate_path(path, &name).with_context(|| format!("cannot read {}", printable_name(&name)))?;
        for summary in summaries {
            rejected += usize::from(!summary.is_valid());
            if a.json {
                println!("{}", serde_json::to_string(&summary)?);
            } else {
                print::summary(&summary);
            }
        }
    }
    Ok(exit_code(rejected))
}

pub async fn ingest(a: IngestArgs) -> Result<ExitCode> {
    let (url, mut client) = database(&a.db).await?;
    let policy = db::RetryPolicy::from_env();
    let mut failed = 0;
    for path in &a.files {
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
        failed += usize::from(report.outcome == Outcome::Rejected);
        if a.json {
            println!("{}", serde_json::to_string(&report)?);
        } else {
            progress_ui::suspend(|| print::ingest_report(&report));
        }
    }
    Ok(exit_code(failed))
}

pub async fn bank_statement(a: IngestArgs) -> Result<ExitCode> {
    let (_, mut client) = database(&a.db).await?;
    let mut bad = 0;
    for path in &a.files {
        let name = printable_name(&path.display().to_string());
        let mut head = Vec::with_capacity(4096);
        let file = std::fs::File::open(path).with_context(|| format!("reading {name}"))?;
        std::io::Read::read_to_end(&mut std::io::Read::take(file, 4096), &mut head)?;
        if syncrocardpay_core::formats::bank::detect(&head).is_none() {
            eprintln!("{name}: not a bank statement (OFX or CNAB 240 extrato); `ingest` loads acquirer statements");
            bad += 1;
            continue;
        }
        let report = pipeline::ingest_file(&mut client, path, "cli", IngestMode::StageAndLoad)
            .await
            .with_context(|| format!("loading {name}"))?;
        bad += usize::from(report.outcome == Outcome::Rejected);
        let statements = db::bank::statements_of(&client, report.file_id).await?;
        if a.json {
            println!("{}", serde_json::json!({ "file": &report, "accounts": &statements }));
        } else {
            print::ingest_report(&report);
            print::bank_statements(&statements);
        }
    }
    // The merchants whose accounts the statements cover are reconciled again: their bank area changed.
    let reconciled = db::recon::reconcile_pending(&mut client, chrono::Local::now().date_naive()).await?;
    if !a.json {
        print::reconciliation_headline(&reconciled);
    }
    Ok(exit_code(bad))
}

pub async fn merchant_sales(a: MerchantSalesArgs) -> Result<ExitCode> {
    let mapping = Mapping::from_file(&a.mapping).map_err(anyhow::Error::msg)?;
    let mut client = match a.check {
        true => None,
        false => Some(connect_and_migrate(&require_db(&a.db).await?).await?),
    };
    let mut rejected = 0;
    for path in &a.files {
        let name = path.display().to_string();
        let (valid, out) = match client.as_mut() {
            None => {
                let file = std::fs::File::open(path).with_context(|| format!("cannot open {name}"))?;
                let s = read_merchant_sales(file, &name, &mapping, &mut |_| std::ops::ControlFlow::Continue(()))
                    .with_context(|| format!("cannot read {name}"))?;
                if !a.json {
                    print::summary(&s);
                }
                (s.is_valid(), serde_json::to_string(&s)?)
            }
            Some(c) => {
                let r = pipeline::ingest_merchant_sales(c, path, "cli", &mapping)
                    .await
                    .with_context(|| format!("loading {name}"))?;
                if !a.json {
                    progress_ui::suspend(|| print::ingest_report(&r));
                }
                (r.outcome != Outcome::Rejected, serde_json::to_string(&r)?)
            }
        };
        rejected += usize::from(!valid);
        if a.json {
            println!("{out}");
        }
    }
    Ok(exit_code(rejected))
}

pub async fn unload(a: UnloadArgs) -> Result<ExitCode> {
    let (_, mut client) = database(&a.db).await?;
    let mut refused = 0;
    for file in &a.files {
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
                        "  note: it had replaced facts of file {id} ({}); they are not brought back — ingest that \
                         file again to have them",
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
    let reconciled = db::recon::reconcile_pending(&mut client, chrono::Local::now().date_naive()).await?;
    print::reconciliation_headline(&reconciled);
    if refused > 0 {
        anyhow::bail!("{refused} of {} file(s) not withdrawn", a.files.len());
    }
    Ok(ExitCode::SUCCESS)
}
