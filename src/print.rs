//! Human-readable output of the CLI.

use rust_decimal::Decimal;
use syncrocardpay_core::db::store;
use syncrocardpay_core::formats::cielo::sample::SampleFile;
use syncrocardpay_core::formats::{StatementSummary, Totals};
use syncrocardpay_core::pipeline::{IngestReport, RunSummary};
use syncrocardpay_core::source::printable_name;

fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map(|x| x.to_string()).unwrap_or_else(|| "?".into())
}

fn totals(label: &str, t: &Totals) {
    println!("  {label:<17} {:>9}  gross {:>15}  fee {:>13}  net {:>15}", t.count, t.gross, t.fee, t.net);
}

pub fn sample_files(files: &[SampleFile]) {
    for f in files {
        let extra = match f.file_type {
            "15" => format!("  {} negotiation records  negotiated {}", f.negotiation_records, f.negotiated_total),
            "16" => format!("  {} Pix", f.pix_transactions),
            _ => String::new(),
        };
        println!(
            "{}  type {}  merchant {}  {} URs  {} transactions  gross {}  net {}{extra}",
            f.path.display(),
            f.file_type,
            f.merchant_code,
            f.receivable_units,
            f.transactions,
            f.gross_total,
            f.net_total
        );
    }
}

/// The sample bank statements written, and the problems planted in them.
pub fn bank_sample(b: &syncrocardpay_core::formats::bank::sample::BankSample) {
    for f in &b.files {
        println!("{}  bank statement of the account the sample payments go to", f.display());
    }
    for p in &b.planted {
        let credited = p.credited.map(|c| format!(", credited {c}")).unwrap_or_default();
        println!("  planted: {} — merchant {}, {}, {}{credited}", p.status, p.merchant_code, p.date, p.amount);
    }
}

pub fn summary(s: &StatementSummary) {
    let verdict = if s.is_valid() { "VALID" } else { "REJECTED" };
    let file = printable_name(&s.file);
    println!("{file}: {verdict}");
    let file_type = s.file_type.as_ref().map(|t| format!("{} ({})", t.code, t.kind)).unwrap_or_else(|| "?".into());
    // Codes, versions and record types come from the file: printed escaped.
    let header = format!(
        "  acquirer {}, layout {}, file type {file_type}, merchant {}",
        s.acquirer.map(|a| a.code()).unwrap_or("?"),
        opt(&s.layout_version),
        opt(&s.merchant_code)
    );
    println!("{}", printable_name(&header));
    println!(
        "  processed {}, period {} .. {}, sequence {}",
        opt(&s.processing_date),
        opt(&s.period_start),
        opt(&s.period_end),
        printable_name(&opt(&s.sequence))
    );
    let counts: Vec<String> = s.record_counts.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!(
        "  {} lines: {} (ignored {})  {} bytes  sha256 {}",
        s.lines,
        printable_name(&counts.join(" ")),
        s.ignored_records,
        s.size_bytes,
        s.sha256
    );
    if s.file_type.as_ref().is_some_and(|t| t.kind == "bank_statement") {
        // A bank statement: its entries and accounts are counted above; its balances and trailers were checked.
        println!("  balances and trailers: checked");
        print_issues(s);
        return;
    }
    totals("receivable units", &s.receivable_units);
    totals("transactions", &s.transactions);
    for (label, t) in [
        ("pix", &s.pix),
        ("negotiations", &s.negotiations),
        ("negotiated recv.", &s.negotiated_receivables),
        ("negotiation cred.", &s.negotiation_credits),
        ("fin. reserves", &s.financial_reserves),
        ("antecip. offsets", &s.anticipation_offsets),
        ("merchant sales", &s.merchant_sales),
    ] {
        if t.count > 0 {
            totals(label, t);
        }
    }
    match &s.trailer {
        Some(t) => println!(
            "  trailer declared/computed: records {}/{}, E {}/{}, gross {}/{}, net {}/{}{} — {} (reading {})",
            t.declared.total_records,
            t.computed.total_records,
            t.declared.transaction_count,
            t.computed.transaction_count,
            t.declared.gross_total.map(|g| g.to_string()).unwrap_or_else(|| "(blank)".into()),
            opt(&t.computed.gross_total),
            t.declared.net_total,
            t.computed.net_total,
            match (t.declared.negotiated_total, t.computed.negotiated_total) {
                (Some(d), Some(c)) => format!(", negotiated {d}/{c}"),
                _ => String::new(),
            },
            if t.matches { "matches" } else { "DOES NOT MATCH" },
            t.reading
        ),
        None => println!("  trailer: not checked"),
    }
    print_issues(s);
}

/// A file's errors, then its anomalies.
fn print_issues(s: &StatementSummary) {
    let file = printable_name(&s.file);
    if s.error_count > 0 {
        println!("  errors: {} (showing {})", s.error_count, s.errors.len());
        for e in &s.errors {
            println!("    {file}: {}", printable_name(&e.to_string()));
        }
    }
    anomalies(s);
}

/// The deviations a valid file was loaded with (docs/formats.md lists every kind).
fn anomalies(s: &StatementSummary) {
    let file = printable_name(&s.file);
    if s.anomaly_count > 0 {
        println!("  anomalies (loaded, kept with the file): {} (showing {})", s.anomaly_count, s.anomalies.len());
        for a in &s.anomalies {
            println!("    {file}: {}", printable_name(&a.to_string()));
        }
    }
}

/// "202 URs + 2254 transactions + 2 Pix" (the kinds present; URs and transactions always, but for a bank
/// statement: "9 bank entries (2 already loaded from an overlapping statement)").
fn fact_counts(c: &store::LoadCounts) -> String {
    if c.bank_entries + c.bank_entries_already_loaded > 0 && c.receivable_units + c.transactions == 0 {
        let already = match c.bank_entries_already_loaded {
            0 => String::new(),
            n => format!(" ({n} already loaded from an overlapping statement)"),
        };
        return format!("{} bank entries{already}", c.bank_entries);
    }
    let mut parts = vec![format!("{} URs", c.receivable_units), format!("{} transactions", c.transactions)];
    for (n, label) in [
        (c.pix_transactions, "Pix"),
        (c.negotiations, "negotiations"),
        (c.negotiated_receivables, "negotiated receivables"),
        (c.negotiation_credits, "negotiation credits"),
        (c.financial_reserves, "financial reserves"),
        (c.anticipation_offsets, "anticipation offsets"),
        (c.merchant_sales, "merchant sales"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {label}"));
        }
    }
    parts.join(" + ")
}

pub fn ingest_report(r: &IngestReport) {
    if !r.members.is_empty() {
        println!(
            "{}: archive of {} statements: {} ({} rows, {:.2} s)",
            printable_name(&r.path.display().to_string()),
            r.members.len(),
            r.outcome.as_str(),
            r.rows.total(),
            r.seconds
        );
        for m in &r.members {
            ingest_line(m, &printable_name(&m.file));
        }
        return;
    }
    ingest_line(r, &printable_name(&r.path.display().to_string()));
}

/// One file's ingest, `label` naming it (its path, or `archive!member`).
fn ingest_line(r: &IngestReport, label: &str) {
    println!(
        "{}: {} (file {}, {} rows: {}, {:.2} s)",
        label,
        r.outcome.as_str(),
        r.file_id,
        r.rows.total(),
        fact_counts(&r.rows),
        r.seconds
    );
    if let Some(s) = &r.summary {
        if s.is_valid() {
            anomalies(s);
        } else {
            for e in &s.errors {
                eprintln!("  {label}: {}", printable_name(&e.to_string()));
            }
            if s.error_count as usize > s.errors.len() {
                eprintln!("  … {} more", s.error_count as usize - s.errors.len());
            }
        }
    }
}

pub fn run_summary(s: &RunSummary, source: &str) {
    println!("syncrocardpay run over {source}");
    for r in &s.reports {
        ingest_report(r);
    }
    for (file, err) in &s.failures {
        println!("{file}: FAILED: {err}");
    }
    let rows = s.facts.total();
    let rate = if s.seconds > 0.0 { rows as f64 / s.seconds } else { 0.0 };
    println!();
    println!(
        "files: {} seen, {} loaded, {} duplicate, {} rejected, {} failed",
        s.files_seen, s.loaded, s.duplicates, s.rejected, s.failed
    );
    // Rows only: a sales statement's gross, a payment's and an open balance's are not one money to add up
    // (the table below has them per file type).
    println!("facts added: {}", fact_counts(&s.facts));
    println!("time: {:.2} s ({rate:.0} rows/s)", s.seconds);
}

pub async fn database_totals(client: &tokio_postgres::Client) -> anyhow::Result<()> {
    let rows = store::fact_totals(client).await?;
    println!();
    println!("database now holds (per merchant and file type):");
    // The type column as wide as its longest name (`CEADM100 negotiations`).
    let w = rows.iter().map(|r| printable_name(&r.file_type).chars().count()).max().unwrap_or(0).max(4);
    println!(
        "  {:<10} {:>w$} {:>5} {:>7} {:>9} {:>7} {:>8} {:>15} {:>13} {:>15}",
        "merchant", "type", "files", "URs", "lines", "sales", "adjusts", "gross", "fee", "net"
    );
    use syncrocardpay_core::reconcile::brl;
    // Per file type: sales (03), payments (04), open balance (09)… are different money, never added together.
    let mut by_type: std::collections::BTreeMap<&str, (Decimal, Decimal, Decimal)> = Default::default();
    for r in &rows {
        println!(
            "  {:<10} {:>w$} {:>5} {:>7} {:>9} {:>7} {:>8} {:>15} {:>13} {:>15}",
            printable_name(&r.merchant_code),
            r.file_type,
            r.files,
            r.receivable_units,
            r.transactions,
            r.sales,
            r.adjustments,
            brl(r.gross),
            brl(r.fee),
            brl(r.net)
        );
        let t = by_type.entry(r.file_type.as_str()).or_default();
        t.0 += r.gross;
        t.1 += r.fee;
        t.2 += r.net;
    }
    if rows.iter().map(|r| &r.merchant_code).collect::<std::collections::BTreeSet<_>>().len() > 1 {
        for (file_type, (g, f, n)) in by_type {
            println!(
                "  {:<10} {:>w$} {:>40} {:>15} {:>13} {:>15}",
                "all",
                printable_name(file_type),
                "",
                brl(g),
                brl(f),
                brl(n)
            );
        }
    }
    Ok(())
}

/// A reconciliation run: scope, then per area the count and money at stake of each status, open ones marked.
pub fn recon_report(r: &syncrocardpay_core::db::recon::RunReport) {
    use syncrocardpay_core::reconcile::brl;
    println!(
        "reconciliation run {}: {} to {}{}, as of {} ({:.1} s)",
        r.run_id,
        r.scope.from,
        r.scope.to,
        r.scope.merchant.as_deref().map(|m| format!(", merchant {}", printable_name(m))).unwrap_or_default(),
        r.settings.as_of,
        r.seconds
    );
    let mut area = None;
    for t in &r.totals.by_status {
        if area != Some(t.area) {
            println!("  {}:", t.area.as_str());
            area = Some(t.area);
        }
        let mark = if t.open { "!" } else { " " };
        println!("    {mark} {:<22} {:>9}  {:>18}", t.status, t.count, brl(t.at_stake));
    }
    println!(
        "  {} item(s); {} need attention, {} at stake",
        r.totals.items,
        r.totals.open,
        brl(r.totals.open_at_stake)
    );
    not_reconciled(std::slice::from_ref(r));
}

/// The parts of runs not reconciled for want of an input, with what was left aside.
fn not_reconciled(reports: &[syncrocardpay_core::db::recon::RunReport]) {
    use syncrocardpay_core::reconcile::{brl, MissingInput};
    let parts: Vec<_> = reports.iter().flat_map(|r| &r.totals.not_reconciled).collect();
    if parts.is_empty() {
        return;
    }
    println!("  not reconciled — an input is missing:");
    for p in parts {
        let what = match p.missing {
            MissingInput::MerchantSales => "sale(s)",
            MissingInput::Contract => "sale fee(s)",
            MissingInput::PaymentStatement => "installment(s) due",
            MissingInput::BankStatement => "payment(s)",
        };
        println!(
            "    {:<6} merchant {} / {}: {} {what} of {} left aside: {}",
            p.area.as_str(),
            printable_name(&p.merchant_code),
            printable_name(&p.acquirer),
            p.lines,
            brl(p.amount),
            p.missing.describe()
        );
    }
}

/// The headline numbers of the reconciliations a run made, all scopes together.
pub fn reconciliation_headline(reports: &[syncrocardpay_core::db::recon::RunReport]) {
    use syncrocardpay_core::reconcile::{brl, Area};
    if reports.is_empty() {
        return;
    }
    let (mut items, mut open, mut stake) = (0u64, 0u64, rust_decimal::Decimal::ZERO);
    let mut by_area: std::collections::BTreeMap<Area, (u64, rust_decimal::Decimal)> = Default::default();
    for r in reports {
        items += r.totals.items;
        open += r.totals.open;
        stake += r.totals.open_at_stake;
        for t in r.totals.by_status.iter().filter(|t| t.open) {
            let e = by_area.entry(t.area).or_default();
            e.0 += t.count;
            e.1 += t.at_stake;
        }
    }
    println!(
        "reconciliation ({} scope(s), runs {}): {items} item(s), {open} need attention, {} at stake",
        reports.len(),
        reports.iter().map(|r| r.run_id.to_string()).collect::<Vec<_>>().join(", "),
        brl(stake)
    );
    for (area, (n, s)) in by_area {
        println!("  {:<12} {n:>8} open  {:>18}", area.as_str(), brl(s));
    }
    not_reconciled(reports);
}

/// Each account's statement of a loaded bank statement file.
pub fn bank_statements(statements: &[syncrocardpay_core::db::bank::StoredStatement]) {
    let opt =
        |d: Option<rust_decimal::Decimal>| d.map(syncrocardpay_core::reconcile::brl).unwrap_or_else(|| "—".into());
    let day = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_else(|| "?".into());
    for s in statements {
        let account = format!("bank {} branch {} account {}", s.bank, s.branch, s.number);
        println!(
            "  {}: {} .. {}, opening {}, closing {}, {} entries (credits {}, debits {}), {} card money",
            printable_name(&account),
            day(s.period_start),
            day(s.period_end),
            opt(s.opening_balance),
            opt(s.closing_balance),
            s.entries,
            syncrocardpay_core::reconcile::brl(s.credits),
            syncrocardpay_core::reconcile::brl(s.debits),
            s.card_money_entries
        );
    }
}
