//! The reconciliation report a person reads: one self-contained HTML file (inline CSS and SVG charts, no
//! script, nothing fetched), and the same tables as CSV. Pure: items in, text out.

use super::{brl, Area, ReconItem, Scope, Settings, Status, Totals};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Open items shown in the HTML tables (all of them go to the CSV).
pub const MAX_HTML_ROWS: usize = 2000;

/// What a report is made of.
pub struct ReportData<'a> {
    pub run_id: i64,
    pub scope: &'a Scope,
    pub settings: &'a Settings,
    pub totals: &'a Totals,
    /// The run's items that are not settled (settled ones are only counted in the totals).
    pub items: &'a [ReconItem],
    /// Expected and received per due day, settled installments included (see [`expected_vs_received`]).
    pub received_by_day: &'a BTreeMap<NaiveDate, (Decimal, Decimal)>,
    /// Deviations the statements of the scope were loaded with (docs/formats.md), and in how many files.
    pub anomalies: AnomalyCount,
}

/// Anomalies kept with the loaded statements of a scope.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnomalyCount {
    pub anomalies: u64,
    pub files: u64,
}

/// Expected and received per due day (receivables), from a run's items in memory (a stored run sums them
/// in the database: `db::recon::expected_vs_received`).
pub fn expected_vs_received(items: &[ReconItem]) -> BTreeMap<NaiveDate, (Decimal, Decimal)> {
    let mut by_day: BTreeMap<NaiveDate, (Decimal, Decimal)> = BTreeMap::new();
    for i in items.iter().filter(|i| i.area == Area::Receivables) {
        let e = by_day.entry(i.ref_date).or_default();
        e.0 += i.expected.unwrap_or_default();
        e.1 += i.actual.unwrap_or_default();
    }
    by_day
}

/// Money overcharged in fees, by brand and product.
pub fn fee_overcharge(items: &[ReconItem]) -> BTreeMap<(String, String), (u64, Decimal)> {
    let mut by: BTreeMap<(String, String), (u64, Decimal)> = BTreeMap::new();
    for i in items.iter().filter(|i| i.area == Area::Fees && i.status == Status::Overcharged) {
        let e = by.entry((i.brand.clone(), i.product.clone())).or_default();
        e.0 += 1;
        e.1 += i.difference.unwrap_or_default();
    }
    by
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn money(d: Option<Decimal>) -> String {
    d.map(brl).unwrap_or_default()
}

fn to_f64(d: Decimal) -> f64 {
    d.to_string().parse().unwrap_or(0.0)
}

/// Bars of expected (grey) and received (green) per day.
fn day_chart(days: &BTreeMap<NaiveDate, (Decimal, Decimal)>) -> String {
    if days.is_empty() {
        return "<p class=\"none\">No installments due in this period.</p>".into();
    }
    let (w, h, pad) = (900.0, 260.0, 40.0);
    let max = days.values().map(|(e, r)| to_f64(*e).max(to_f64(*r))).fold(1.0, f64::max);
    let step = (w - 2.0 * pad) / days.len() as f64;
    let bar = (step / 2.5).max(1.0);
    let mut svg = format!(
        "<svg id=\"chart-days\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"Expected and received per day\">\
         <line x1=\"{pad}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\" class=\"axis\"/>",
        y = h - pad,
        x2 = w - pad
    );
    for (n, (day, (e, r))) in days.iter().enumerate() {
        let x = pad + n as f64 * step;
        let he = (to_f64(*e) / max) * (h - 2.0 * pad);
        let hr = (to_f64(*r) / max) * (h - 2.0 * pad);
        let _ = write!(
            svg,
            "<rect class=\"expected\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{he:.1}\"><title>{day}: expected {}</title></rect>\
             <rect class=\"received\" x=\"{:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{hr:.1}\"><title>{day}: received {}</title></rect>",
            h - pad - he,
            esc(&brl(*e)),
            x + bar,
            h - pad - hr,
            esc(&brl(*r)),
        );
    }
    let (first, last) = (days.keys().next().unwrap(), days.keys().last().unwrap());
    let _ = write!(
        svg,
        "<text x=\"{pad}\" y=\"{}\" class=\"label\">{first}</text><text x=\"{}\" y=\"{}\" class=\"label\" text-anchor=\"end\">{last}</text>\
         <text x=\"{pad}\" y=\"20\" class=\"label\">max {}</text></svg>",
        h - 15.0,
        w - pad,
        h - 15.0,
        esc(&brl(Decimal::from_f64_retain(max).unwrap_or_default()))
    );
    svg
}

/// Horizontal bars of fee overcharge by brand / product.
fn fee_chart(by: &BTreeMap<(String, String), (u64, Decimal)>) -> String {
    if by.is_empty() {
        return "<p class=\"none\">No fee charged above the contract.</p>".into();
    }
    let row_h = 26.0;
    let (w, label_w) = (900.0, 220.0);
    let h = row_h * by.len() as f64 + 10.0;
    let max = by.values().map(|(_, d)| to_f64(*d)).fold(0.01, f64::max);
    let mut svg = format!("<svg id=\"chart-fees\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"Fee overcharge by brand and product\">");
    for (n, ((brand, product), (count, amount))) in by.iter().enumerate() {
        let y = 5.0 + n as f64 * row_h;
        let bw = (to_f64(*amount) / max) * (w - label_w - 160.0);
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{:.1}\" class=\"label\">brand {} · product {}</text>\
             <rect class=\"over\" x=\"{label_w}\" y=\"{y:.1}\" width=\"{bw:.1}\" height=\"{:.1}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"label\">{} ({count})</text>",
            y + row_h * 0.65,
            esc(brand),
            esc(product),
            row_h - 8.0,
            label_w + bw + 6.0,
            y + row_h * 0.65,
            esc(&brl(*amount))
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The whole report as one HTML document.
pub fn html(data: &ReportData) -> String {
    let t = data.totals;
    let scope = data.scope;
    let title = format!(
        "Reconciliation {} to {}{}",
        scope.from,
        scope.to,
        scope.merchant.as_deref().map(|m| format!(" — merchant {m}")).unwrap_or_default()
    );
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>\
         body{{font-family:system-ui,sans-serif;margin:2rem;color:#1d2433;background:#fff}}\
         h1{{font-size:1.5rem}} h2{{font-size:1.15rem;margin-top:2rem}}\
         .cards{{display:flex;gap:1rem;flex-wrap:wrap}} .card{{border:1px solid #d0d7e2;border-radius:8px;padding:.8rem 1.2rem;min-width:12rem}}\
         .card b{{display:block;font-size:1.6rem}} .open{{color:#b3261e}}\
         table{{border-collapse:collapse;width:100%;font-size:.85rem}} th,td{{border-bottom:1px solid #e3e8ef;padding:.3rem .5rem;text-align:left}}\
         td.n{{text-align:right;font-variant-numeric:tabular-nums}} th{{background:#f3f6fa}}\
         svg{{width:100%;height:auto;max-width:900px;display:block}} .axis{{stroke:#888}} .label{{font-size:12px;fill:#333}}\
         .expected{{fill:#b8c2d1}} .received{{fill:#2e7d32}} .over{{fill:#b3261e}} .none{{color:#667}}\
         .legend span{{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 1rem;vertical-align:middle}}\
         </style></head><body><h1>{title}</h1>\
         <p>Run {run} · as of {as_of} · tolerance {tol} · sale dates matched within {win} day(s)</p>\
         <div class=\"cards\">\
         <div class=\"card\">Items<b id=\"items\">{items}</b></div>\
         <div class=\"card open\">Need attention<b id=\"open\">{open}</b></div>\
         <div class=\"card open\">At stake<b id=\"at-stake\">{stake}</b></div>\
         <div class=\"card\">Statement anomalies<b id=\"anomalies\">{anomalies}</b>in {anomaly_files} file(s)</div></div>",
        title = esc(&title),
        run = data.run_id,
        as_of = data.settings.as_of,
        tol = esc(&brl(data.settings.amount_tolerance)),
        win = data.settings.sale_date_window_days,
        items = t.items,
        open = t.open,
        stake = esc(&brl(t.open_at_stake)),
        anomalies = data.anomalies.anomalies,
        anomaly_files = data.anomalies.files,
    );
    out.push_str("<h2>Totals by status</h2><table id=\"totals\"><tr><th>Area</th><th>Status</th><th>Items</th><th>At stake</th></tr>");
    for s in &t.by_status {
        let _ = write!(
            out,
            "<tr{}><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            if s.open { " class=\"open\"" } else { "" },
            s.area.as_str(),
            esc(s.status.as_str()),
            s.count,
            esc(&brl(s.at_stake))
        );
    }
    out.push_str("</table>");
    if !t.not_reconciled.is_empty() {
        out.push_str(
            "<h2>Not reconciled: an input is missing</h2><table id=\"not-reconciled\"><tr><th>Area</th>\
             <th>Merchant</th><th>Acquirer</th><th>Left aside</th><th>Amount</th><th>Why</th></tr>",
        );
        for p in &t.not_reconciled {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                p.area.as_str(),
                esc(&p.merchant_code),
                esc(&p.acquirer),
                p.lines,
                esc(&brl(p.amount)),
                esc(p.missing.describe())
            );
        }
        out.push_str("</table>");
    }
    out.push_str(
        "<h2>Expected vs received, per due day</h2><p class=\"legend\"><span class=\"expected\" style=\"background:#b8c2d1\"></span>expected\
         <span style=\"background:#2e7d32\"></span>received</p>",
    );
    out.push_str(&day_chart(data.received_by_day));
    out.push_str("<h2>Fees charged above the contract, by brand and product</h2>");
    out.push_str(&fee_chart(&fee_overcharge(data.items)));
    let open: Vec<&ReconItem> = data.items.iter().filter(|i| i.is_open()).collect();
    let _ = write!(out, "<h2>Open divergences ({})</h2>", open.len());
    if open.len() > MAX_HTML_ROWS {
        let _ = write!(out, "<p>The first {MAX_HTML_ROWS} are shown; the CSV export has them all.</p>");
    }
    out.push_str(
        "<table id=\"open-items\"><tr><th>Area</th><th>Status</th><th>Merchant</th><th>Date</th><th>Sale</th><th>NSU</th>\
         <th>Auth.</th><th>Inst.</th><th>Brand</th><th>Product</th><th>Expected</th><th>Actual</th><th>Difference</th>\
         <th>Days</th><th>Fields</th><th>Reason</th></tr>",
    );
    for i in open.iter().take(MAX_HTML_ROWS) {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td>\
             <td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td>{}</td><td>{}</td></tr>",
            i.area.as_str(),
            esc(i.status.as_str()),
            esc(&i.merchant_code),
            i.ref_date,
            esc(&i.sale_code),
            esc(&i.nsu),
            esc(&i.authorization_code),
            i.installment,
            esc(&i.brand),
            esc(&i.product),
            esc(&money(i.expected)),
            esc(&money(i.actual)),
            esc(&money(i.difference)),
            i.days_late.map(|d| d.to_string()).unwrap_or_default(),
            esc(&i.fields.join(", ")),
            esc(&i.reason)
        );
    }
    out.push_str("</table><p class=\"none\">Generated by syncrocardpay.</p></body></html>\n");
    out
}

/// A text cell that came from a statement or a merchant's CSV, safe to open in a spreadsheet: one starting
/// with `=`, `+`, `-`, `@`, a tab or a carriage return would be run as a formula (CSV injection), so it is
/// prefixed with `'` (OWASP's advice). Numbers are written as they are, never through this.
pub fn csv_text(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// The report's tables as CSV files in `dir`: `totals.csv`, `open_items.csv` (every open item),
/// `statement_anomalies.csv`, `expected_vs_received.csv`, `fee_overcharge.csv`. Amounts are plain decimals (`1234.56`); text that came
/// from input is neutralised against formula injection ([`csv_text`]).
pub fn write_csv(dir: &std::path::Path, data: &ReportData) -> std::io::Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    let mut file = |name: &str, header: &[&str], rows: Vec<Vec<String>>| -> std::io::Result<()> {
        let path = dir.join(name);
        let mut w = csv::Writer::from_path(&path)?;
        w.write_record(header)?;
        for r in rows {
            w.write_record(&r)?;
        }
        w.flush()?;
        written.push(path);
        Ok(())
    };
    let opt = |d: Option<Decimal>| d.map(|d| d.to_string()).unwrap_or_default();
    file(
        "totals.csv",
        &["area", "status", "open", "items", "at_stake"],
        data.totals
            .by_status
            .iter()
            .map(|s| {
                vec![
                    s.area.as_str().into(),
                    csv_text(s.status.as_str()),
                    s.open.to_string(),
                    s.count.to_string(),
                    s.at_stake.to_string(),
                ]
            })
            .collect(),
    )?;
    file(
        "open_items.csv",
        &[
            "area",
            "status",
            "merchant_code",
            "acquirer",
            "date",
            "sale_code",
            "nsu",
            "authorization_code",
            "installment",
            "brand",
            "product",
            "expected",
            "actual",
            "difference",
            "at_stake",
            "days_late",
            "fields",
            "reason",
        ],
        data.items
            .iter()
            .filter(|i| i.is_open())
            .map(|i| {
                vec![
                    i.area.as_str().into(),
                    csv_text(i.status.as_str()),
                    csv_text(&i.merchant_code),
                    csv_text(&i.acquirer),
                    i.ref_date.to_string(),
                    csv_text(&i.sale_code),
                    csv_text(&i.nsu),
                    csv_text(&i.authorization_code),
                    i.installment.to_string(),
                    csv_text(&i.brand),
                    csv_text(&i.product),
                    opt(i.expected),
                    opt(i.actual),
                    opt(i.difference),
                    i.at_stake(data.settings).to_string(),
                    i.days_late.map(|d| d.to_string()).unwrap_or_default(),
                    csv_text(&i.fields.join(";")),
                    csv_text(&i.reason),
                ]
            })
            .collect(),
    )?;
    file(
        "statement_anomalies.csv",
        &["anomalies", "files"],
        vec![vec![data.anomalies.anomalies.to_string(), data.anomalies.files.to_string()]],
    )?;
    file(
        "expected_vs_received.csv",
        &["due_date", "expected", "received"],
        data.received_by_day.iter().map(|(d, (e, r))| vec![d.to_string(), e.to_string(), r.to_string()]).collect(),
    )?;
    file(
        "fee_overcharge.csv",
        &["brand", "product", "items", "overcharged"],
        fee_overcharge(data.items)
            .into_iter()
            .map(|((b, p), (n, d))| vec![csv_text(&b), csv_text(&p), n.to_string(), d.to_string()])
            .collect(),
    )?;
    Ok(written)
}

#[cfg(test)]
mod csv_tests {
    use super::*;
    use crate::reconcile::{Area, ReconItem, Scope, Settings};

    /// Cells from statements and merchant CSVs that a spreadsheet would run as formulas are neutralised;
    /// amounts (negative ones too) stay numbers.
    #[test]
    fn csv_cells_that_would_be_formulas_are_neutralised_and_numbers_stay_numbers() {
        let d = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
        let item = ReconItem {
            area: Area::Sales,
            status: Status::MissingAtAcquirer,
            merchant_code: "@SUM(A1)".into(),
            acquirer: "cielo".into(),
            ref_date: d,
            sale_code: "=HYPERLINK(\"http://x\",\"y\")".into(),
            nsu: "+123".into(),
            authorization_code: "-1".into(),
            installment: 0,
            brand: "\tVisa".into(),
            product: "\rDebit".into(),
            expected: Some(Decimal::new(-500, 2)),
            actual: None,
            difference: None,
            days_late: None,
            fields: vec![],
            reason: "=1+1".into(),
            expected_ref: None,
            actual_ref: None,
        };
        let items = vec![item];
        let scope = Scope { from: d, to: d, merchant: None };
        let settings = Settings::new(d);
        let totals = crate::reconcile::totals(&items, &settings);
        let data = ReportData {
            run_id: 1,
            scope: &scope,
            settings: &settings,
            totals: &totals,
            items: &items,
            received_by_day: &expected_vs_received(&items),
            anomalies: AnomalyCount::default(),
        };
        let dir = tempfile::tempdir().unwrap();
        write_csv(dir.path(), &data).unwrap();
        let mut r = csv::Reader::from_path(dir.path().join("open_items.csv")).unwrap();
        let headers = r.headers().unwrap().clone();
        let row = r.records().next().unwrap().unwrap();
        let col = |name: &str| {
            let i = headers.iter().position(|h| h == name).unwrap();
            row[i].to_string()
        };
        assert_eq!(col("merchant_code"), "'@SUM(A1)");
        assert_eq!(col("sale_code"), "'=HYPERLINK(\"http://x\",\"y\")");
        assert_eq!(col("nsu"), "'+123");
        assert_eq!(col("authorization_code"), "'-1");
        assert_eq!(col("brand"), "'\tVisa");
        assert_eq!(col("product"), "'\rDebit");
        assert_eq!(col("reason"), "'=1+1");
        assert_eq!(col("expected"), "-5.00", "an amount stays a number");
        assert_eq!(col("acquirer"), "cielo");
    }
}
