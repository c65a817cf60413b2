//! `reconcile`, `report`, `rates import`: the reconciliation of what is loaded, its report, the contract it
//! audits fees against.

use super::database;
use crate::args::{DbArgs, ReconcileArgs, ReportArgs, ScopeArgs};
use crate::print;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use syncrocardpay_core::db;
use syncrocardpay_core::reconcile::fees::{read_rates, resolve_rates};
use syncrocardpay_core::reconcile::{report::Lang, Scope, Settings};
use syncrocardpay_core::source::printable_name;

pub async fn reconcile(a: ReconcileArgs) -> Result<ExitCode> {
    let (url, mut client) = database(&a.db).await?;
    let today = chrono::Local::now().date_naive();
    let as_of = match a.as_of {
        Some(d) => d,
        None => db::recon::default_as_of(&client, a.scope.merchant.as_deref(), today).await?,
    };
    let scope = scope_of(&client, a.scope).await?;
    let mut settings = Settings::new(as_of);
    settings.sale_date_window_days = a.date_window;
    settings.amount_tolerance = a.tolerance;
    settings.daily_cost_percent = a.daily_cost;
    settings.deposit_window_business_days = a.deposit_window;
    // The areas' inputs are read by connections of their own, sharing the run's snapshot.
    let connect: Box<db::recon::Connect> = Box::new(move || {
        let url = url.clone();
        Box::pin(async move { db::connect(&url).await })
    });
    let report = db::recon::run_parallel(&mut client, &scope, &settings, &*connect).await?;
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print::recon_report(&report);
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn report(a: ReportArgs) -> Result<ExitCode> {
    anyhow::ensure!(a.html.is_some() || a.csv.is_some(), "say where to write the report: --html FILE and/or --csv DIR");
    let (_, mut client) = database(&a.db).await?;
    let scope = scope_of(&client, a.scope).await?;
    write_report(&mut client, &scope, a.refresh, a.lang, a.html.as_deref(), a.csv.as_deref()).await?;
    Ok(ExitCode::SUCCESS)
}

/// Write and name the report of `scope`: the stored run over it, or a new one when there is none or
/// `refresh`.
pub async fn write_report(
    client: &mut tokio_postgres::Client,
    scope: &Scope,
    refresh: bool,
    lang: Lang,
    html: Option<&Path>,
    csv: Option<&Path>,
) -> Result<Option<PathBuf>> {
    let request = db::recon::ReportRequest { refresh, lang, html, csv };
    let written = db::recon::write_report(client, scope, &request, chrono::Local::now().date_naive()).await?;
    if let Some(path) = &written.html {
        println!(
            "{}: report of run {} ({} items, {} open)",
            path.display(),
            written.run_id,
            written.items,
            written.open
        );
    }
    for path in &written.csv {
        println!("{}", path.display());
    }
    Ok(written.html)
}

pub async fn import_rates(file: PathBuf, o: DbArgs) -> Result<ExitCode> {
    let name = printable_name(&file.display().to_string());
    let input = std::fs::File::open(&file).with_context(|| format!("cannot open {name}"))?;
    let refuse = |issues: Vec<syncrocardpay_core::reconcile::fees::RateIssue>| {
        for i in &issues {
            eprintln!("{name}: {}", printable_name(&i.to_string()));
        }
        anyhow::anyhow!("{name}: {} problem(s), nothing imported", issues.len())
    };
    let rates = read_rates(input).map_err(refuse)?;
    let (_, mut client) = database(&o).await?;
    // What was typed (a brand's name, a product's, a merchant code a spreadsheet cut) resolved against the
    // reference tables; a row that matches nothing is refused, naming the valid choices.
    let vocabulary = db::recon::rate_vocabulary(&client).await?;
    let rates = resolve_rates(rates, &vocabulary).map_err(refuse)?;
    let done = db::recon::import_rates(&mut client, &rates, &name).await?;
    if done.added + done.changed == 0 {
        println!("{name}: unchanged ({} contracted rate(s), all already imported as they are)", done.unchanged);
    } else {
        println!(
            "{name}: {} contracted rate(s) added, {} changed, {} unchanged",
            done.added, done.changed, done.unchanged
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The scope of a `reconcile` or `report`: the days given, else the whole period the loaded facts cover (for
/// the merchant, when one is given). A scope with nothing loaded in it is refused, saying why — never
/// reconciled into "0 items, nothing wrong".
pub async fn scope_of(client: &tokio_postgres::Client, scope: ScopeArgs) -> Result<Scope> {
    let ScopeArgs { from, to, merchant } = scope;
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
