//! The reconciliation report a person reads: one self-contained HTML file (inline CSS, SVG charts and a
//! small inline script for sorting, filtering and grouping the table; nothing fetched), in Brazilian
//! Portuguese or English, and the same tables as CSV. Pure: items and what the database says of the scope
//! in, text out.

use super::receivables::Unexplained;
use super::{brl, Area, ReconItem, Scope, Settings, Status, Totals};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

/// Open items shown in the HTML tables (all of them go to the CSV).
pub const MAX_HTML_ROWS: usize = 2000;
/// Source files listed in the HTML (the count says how many there are).
pub const MAX_HTML_FILES: usize = 500;

/// The language of a report: Brazilian Portuguese (the default: the people who read it) or English.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    PtBr,
    En,
}

impl Lang {
    /// The text in this language.
    fn pick<'a>(self, pt: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::PtBr => pt,
            Lang::En => en,
        }
    }

    pub fn tag(self) -> &'static str {
        self.pick("pt-BR", "en")
    }
}

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Lang, String> {
        match s.to_ascii_lowercase().as_str() {
            "pt-br" | "pt" | "pt_br" => Ok(Lang::PtBr),
            "en" | "en-us" | "en-gb" => Ok(Lang::En),
            _ => Err(format!("{s:?} is not a report language: pt-BR or en")),
        }
    }
}

/// Names of the codes a report shows, per acquirer (`ref_brand`, `dim_product`, `dim_acquirer`).
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// (acquirer, brand code) → name.
    pub brands: HashMap<(String, String), String>,
    /// (acquirer, product code) → name.
    pub products: HashMap<(String, String), String>,
    /// acquirer code → name.
    pub acquirers: HashMap<String, String>,
}

impl Names {
    fn brand(&self, acquirer: &str, code: &str) -> String {
        self.brands.get(&(acquirer.to_string(), code.to_string())).cloned().unwrap_or_else(|| code.to_string())
    }
    fn product(&self, acquirer: &str, code: &str) -> String {
        self.products.get(&(acquirer.to_string(), code.to_string())).cloned().unwrap_or_else(|| code.to_string())
    }
    fn acquirer(&self, code: &str) -> String {
        self.acquirers.get(code).cloned().unwrap_or_else(|| code.to_string())
    }
}

/// One merchant's business with one acquirer over the period: its sales (by sale date) at gross, fee and
/// net; what was paid to it (by payment date); the adjustments posted (cancellations, chargebacks, rentals…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodLine {
    pub merchant_code: String,
    pub acquirer: String,
    pub sales: u64,
    pub gross: Decimal,
    /// As a positive amount.
    pub fee: Decimal,
    pub net: Decimal,
    pub received: Decimal,
    /// Their net effect (negative: debited).
    pub adjustments: Decimal,
}

/// A statement or merchant export whose facts a report is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub file_id: i64,
    pub name: String,
    pub acquirer: String,
    /// The statement's type (`03`, `04`, `EEVC`…) or kind.
    pub kind: String,
    pub merchant_code: String,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub lines: Option<i64>,
    /// When it was loaded.
    pub loaded_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// What the database says of a scope besides the run: names, the period's business, the files read, and —
/// for an empty scope — why it is empty.
#[derive(Debug, Clone, Default)]
pub struct ScopeFacts {
    pub names: Names,
    pub period: Vec<PeriodLine>,
    pub sources: Vec<SourceFile>,
    /// Whether the scope's merchant has ever had a statement loaded (`None`: all merchants).
    pub merchant_known: Option<bool>,
    /// The first and last sale dates loaded for the scope's merchant (or all).
    pub coverage: Option<(NaiveDate, NaiveDate)>,
}

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
    pub facts: &'a ScopeFacts,
    pub lang: Lang,
    /// When the report was written.
    pub generated_at: chrono::DateTime<chrono::FixedOffset>,
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

/// Money overcharged in fees, by acquirer, brand and product: (sales, amount).
pub fn fee_overcharge(items: &[ReconItem]) -> BTreeMap<(String, String, String), (u64, Decimal)> {
    let mut by: BTreeMap<(String, String, String), (u64, Decimal)> = BTreeMap::new();
    for i in items.iter().filter(|i| i.area == Area::Fees && i.status == Status::Overcharged) {
        let e = by.entry((i.acquirer.clone(), i.brand.clone(), i.product.clone())).or_default();
        e.0 += 1;
        e.1 += i.difference.unwrap_or_default();
    }
    by
}

/// The name of a status for people.
pub fn status_label(s: Status, l: Lang) -> &'static str {
    use Status::*;
    match s {
        Matched => l.pick("conciliada", "matched"),
        Divergent => l.pick("divergente", "divergent"),
        MissingAtAcquirer => l.pick("não capturada pela adquirente", "not captured by the acquirer"),
        MissingInMerchant => l.pick("ausente no PDV/ERP", "missing in the books"),
        Duplicate => l.pick("duplicada", "duplicate"),
        Paid => l.pick("paga", "paid"),
        PaidLate => l.pick("paga com atraso", "paid late"),
        PaidDivergent => l.pick("paga com diferença", "paid, amount differs"),
        Overdue => l.pick("vencida e não paga", "overdue"),
        Pending => l.pick("a vencer", "not yet due"),
        UnexpectedPayment => l.pick("pagamento sem parcela prevista", "unexpected payment"),
        Adjustment => l.pick("ajuste", "adjustment"),
        Cancellation => l.pick("cancelamento", "cancellation"),
        Chargeback => l.pick("chargeback", "chargeback"),
        UnexplainedCancellation => l.pick("cancelamento sem explicação", "unexplained cancellation"),
        UnexplainedChargeback => l.pick("chargeback sem explicação", "unexplained chargeback"),
        Rental => l.pick("aluguel de equipamento", "terminal rental"),
        Negotiation => l.pick("negociação de recebíveis", "receivables negotiation"),
        Lien => l.pick("gravame / bloqueio", "lien"),
        Compensation => l.pick("compensação", "compensation"),
        Anticipation => l.pick("antecipação", "anticipation"),
        Other => l.pick("outro lançamento", "other posting"),
        Ok => l.pick("taxa conforme contrato", "fee as contracted"),
        Overcharged => l.pick("taxa acima do contrato", "fee above the contract"),
        Undercharged => l.pick("taxa abaixo do contrato", "fee below the contract"),
        NoContract => l.pick("sem taxa contratada", "no contracted rate"),
        Deposited => l.pick("creditado no banco", "deposited"),
        DepositedLate => l.pick("creditado com atraso", "deposited late"),
        DepositedShort => l.pick("creditado a menos", "deposited short"),
        NotDeposited => l.pick("não creditado", "not deposited"),
        WrongAccount => l.pick("creditado em outra conta", "deposited into another account"),
        UnexpectedCredit => l.pick("crédito não anunciado", "unexpected credit"),
    }
}

/// The name of the rule that made a deposit (see [`super::deposits`]) for people.
pub fn deposit_rule_label(rule: &str, l: Lang) -> String {
    let pt = match rule {
        "same day" => "no dia",
        "payments summed" => "pagamentos do dia somados",
        "credit split" => "pagamento em vários créditos",
        "late" => "com atraso",
        "wrong account" => "em outra conta",
        "short" => "a menos",
        "nothing deposited" => "nada creditado",
        "no payment announced" => "nenhum pagamento anunciado",
        other => other,
    };
    l.pick(pt, rule).to_string()
}

pub fn area_label(a: Area, l: Lang) -> &'static str {
    match a {
        Area::Sales => l.pick("Vendas", "Sales"),
        Area::Receivables => l.pick("Recebíveis", "Receivables"),
        Area::Adjustments => l.pick("Ajustes", "Adjustments"),
        Area::Fees => l.pick("Taxas", "Fees"),
        Area::Bank => l.pick("Banco", "Bank"),
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// Money as people of the language write it: `R$ 1.234,56` or `R$ 1,234.56`.
pub fn money(l: Lang, d: Decimal) -> String {
    let pt = brl(d);
    match l {
        Lang::PtBr => pt,
        Lang::En => pt
            .chars()
            .map(|c| {
                if c == '.' {
                    ','
                } else if c == ',' {
                    '.'
                } else {
                    c
                }
            })
            .collect(),
    }
}

fn money_opt(l: Lang, d: Option<Decimal>) -> String {
    d.map(|d| money(l, d)).unwrap_or_default()
}

/// A date as people of the language write it: `31/01/2026` or `2026-01-31`.
pub fn date(l: Lang, d: NaiveDate) -> String {
    match l {
        Lang::PtBr => d.format("%d/%m/%Y").to_string(),
        Lang::En => d.to_string(),
    }
}

fn to_f64(d: Decimal) -> f64 {
    d.to_string().parse().unwrap_or(0.0)
}

/// What an item is about, in the report's language: the stored reason in English; in Portuguese, said again
/// from the item's figures.
pub fn describe(i: &ReconItem, data: &ReportData) -> String {
    let l = data.lang;
    if l == Lang::En {
        return i.reason.clone();
    }
    let m = |d: Option<Decimal>| money(l, d.unwrap_or_default());
    let abs = |d: Option<Decimal>| money(l, d.unwrap_or_default().abs());
    let day = date(l, i.ref_date);
    let days = i.days_late.unwrap_or(0);
    let names = &data.facts.names;
    use Status::*;
    match i.status {
        Matched => format!("venda de {} conciliada", m(i.expected)),
        Divergent => {
            let fields: Vec<&str> = i
                .fields
                .iter()
                .map(|f| match f.as_str() {
                    "gross" => "valor",
                    "installments" => "parcelas",
                    "brand" => "bandeira",
                    "product" => "produto",
                    "date" => "data",
                    other => other,
                })
                .collect();
            format!("PDV/ERP {} × adquirente {}: difere em {}", m(i.expected), m(i.actual), fields.join(", "))
        }
        MissingAtAcquirer => {
            format!("venda de {} em {day} no PDV/ERP, não capturada por nenhuma adquirente", m(i.expected))
        }
        MissingInMerchant => format!("venda de {} em {day} capturada pela adquirente, ausente no PDV/ERP", m(i.actual)),
        Duplicate => format!("venda de {} em {day} capturada (ou registrada) duas vezes", m(i.actual.or(i.expected))),
        Paid => format!("{} pagos no vencimento", m(i.actual)),
        PaidLate => format!(
            "{} com vencimento em {day}, pagos {days} dia(s) depois; custo do atraso {} a {} % ao dia",
            m(i.expected),
            money(l, i.at_stake(data.settings)),
            data.settings.daily_cost_percent.normalize().to_string().replace('.', ",")
        ),
        PaidDivergent => {
            let late = if days > 0 { format!(", {days} dia(s) de atraso") } else { String::new() };
            let short = if i.difference.unwrap_or_default() < Decimal::ZERO { "a menos" } else { "a mais" };
            format!("esperado {}, pago {} ({} {short}){late}", m(i.expected), m(i.actual), abs(i.difference))
        }
        Overdue => format!("{} vencidos em {day}, não pagos ({days} dia(s) de atraso)", m(i.expected)),
        Pending => format!("{} a vencer em {day}", m(i.expected)),
        UnexpectedPayment => format!("{} pagos em {day} sem parcela prevista (ou já paga)", m(i.actual)),
        Adjustment
        | Cancellation
        | Chargeback
        | UnexplainedCancellation
        | UnexplainedChargeback
        | Rental
        | Negotiation
        | Lien
        | Compensation
        | Anticipation
        | Other => {
            let posting = i.fields.first().cloned().unwrap_or_else(|| status_label(i.status, l).to_string());
            let sale = if i.sale_code.trim().is_empty() { String::new() } else { format!(", venda {}", i.sale_code) };
            let why = match i.fields.get(1).and_then(|f| Unexplained::parse(f)) {
                Some(Unexplained::NoSale) => "; sem explicação: não indica a venda",
                Some(Unexplained::SaleNotFound) => "; sem explicação: a venda não está em nenhum extrato carregado",
                Some(Unexplained::DebitedTwice) => {
                    "; sem explicação: a mesma parcela já tinha sido debitada, sem estorno"
                }
                None => "",
            };
            format!("{posting}: {} em {day}{sale}{why}", m(i.actual))
        }
        Ok => format!("taxa {} conforme contrato", m(i.actual)),
        Overcharged | Undercharged => format!(
            "taxa cobrada {}, contratada {} ({} {})",
            m(i.actual),
            m(i.expected),
            abs(i.difference),
            if i.status == Overcharged { "a mais" } else { "a menos" }
        ),
        NoContract => format!(
            "sem taxa contratada para {} · {} em {} parcela(s) em {day}",
            names.brand(&i.acquirer, &i.brand),
            names.product(&i.acquirer, &i.product),
            i.installment.max(1)
        ),
        Deposited => format!(
            "{} pagos por {} em {day}, creditados no dia ({})",
            m(i.expected),
            names.acquirer(&i.acquirer),
            deposit_rule_label(i.fields.first().map(String::as_str).unwrap_or_default(), l)
        ),
        DepositedLate => format!(
            "{} pagos por {} em {day}, creditados {days} dia(s) útil(eis) depois; custo do atraso {} a {} % ao dia",
            m(i.expected),
            names.acquirer(&i.acquirer),
            money(l, i.at_stake(data.settings)),
            data.settings.daily_cost_percent.normalize().to_string().replace('.', ",")
        ),
        DepositedShort => format!(
            "{} pagos por {} em {day}, creditados {} ({} a menos)",
            m(i.expected),
            names.acquirer(&i.acquirer),
            m(i.actual),
            abs(i.difference)
        ),
        NotDeposited => format!(
            "{} pagos por {} em {day} na conta {}: nenhum crédito nos extratos bancários",
            m(i.expected),
            names.acquirer(&i.acquirer),
            i.sale_code
        ),
        WrongAccount => format!(
            "{} pagos por {} em {day} na conta {}, creditados na conta {}",
            m(i.expected),
            names.acquirer(&i.acquirer),
            i.sale_code,
            i.fields.get(1).map(String::as_str).unwrap_or_default()
        ),
        UnexpectedCredit => format!(
            "crédito de {} em {day} ({}) que nenhuma adquirente anunciou",
            m(i.actual),
            i.fields.get(2).map(String::as_str).unwrap_or_default()
        ),
    }
}

/// A round step for an axis from 0 to `max` in about `ticks` steps (1, 2 or 5 × a power of ten).
fn nice_step(max: f64, ticks: f64) -> f64 {
    let raw = (max / ticks).max(0.01);
    let power = 10f64.powf(raw.log10().floor());
    let f = raw / power;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * power
}

/// A short amount for an axis label: `R$ 12 mil`, `R$ 1,5 mi` (`R$ 12k`, `R$ 1.5M`).
fn short_money(l: Lang, v: f64) -> String {
    let (n, unit) = if v >= 1e6 {
        (v / 1e6, l.pick(" mi", "M"))
    } else if v >= 1e3 {
        (v / 1e3, l.pick(" mil", "k"))
    } else {
        (v, "")
    };
    let s = if n.fract().abs() < 1e-9 { format!("{n:.0}") } else { format!("{n:.1}") };
    let s = if l == Lang::PtBr { s.replace('.', ",") } else { s };
    format!("R$ {s}{unit}")
}

/// Bars of expected (grey) and received (green) per due day, on a time axis (days without installments
/// leave their gap), with an amount axis.
fn day_chart(days: &BTreeMap<NaiveDate, (Decimal, Decimal)>, l: Lang) -> String {
    let (Some(first), Some(last)) = (days.keys().next().copied(), days.keys().last().copied()) else {
        return format!(
            "<p class=\"none\">{}</p>",
            l.pick("Nenhuma parcela vence neste período.", "No installments due in this period.")
        );
    };
    let (w, h) = (1000.0, 300.0);
    let (left, right, top, bottom) = (80.0, 20.0, 20.0, 40.0);
    let span = (last - first).num_days() as f64 + 1.0;
    let max = days.values().map(|(e, r)| to_f64(*e).max(to_f64(*r))).fold(0.0, f64::max).max(1.0);
    let step = nice_step(max, 4.0);
    let top_value = (max / step).ceil() * step;
    let plot_w = w - left - right;
    let plot_h = h - top - bottom;
    let day_w = plot_w / span;
    let bar = (day_w * 0.4).clamp(0.5, 18.0);
    let y = |v: f64| top + plot_h - v / top_value * plot_h;
    let x = |d: NaiveDate| left + (d - first).num_days() as f64 * day_w + day_w / 2.0;
    let mut svg = format!(
        "<svg id=\"chart-days\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\">",
        l.pick("Esperado e recebido por dia de vencimento", "Expected and received per due day")
    );
    // Amount axis: gridlines and labels.
    let mut v = 0.0;
    while v <= top_value + step / 2.0 {
        let _ = write!(
            svg,
            "<line x1=\"{left}\" y1=\"{yv:.1}\" x2=\"{x2}\" y2=\"{yv:.1}\" class=\"grid\"/>\
             <text x=\"{lx}\" y=\"{ty:.1}\" class=\"label\" text-anchor=\"end\">{}</text>",
            esc(&short_money(l, v)),
            yv = y(v),
            x2 = w - right,
            lx = left - 6.0,
            ty = y(v) + 4.0
        );
        v += step;
    }
    let _ = write!(
        svg,
        "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{b}\" class=\"axis\"/>\
         <line x1=\"{left}\" y1=\"{b}\" x2=\"{x2}\" y2=\"{b}\" class=\"axis\"/>",
        b = top + plot_h,
        x2 = w - right
    );
    // Time axis: a tick a day, a label every few days (at most about 10).
    let every = ((span / 10.0).ceil() as i64).max(1);
    let mut d = first;
    while d <= last {
        let n = (d - first).num_days();
        let xd = x(d);
        let _ = write!(
            svg,
            "<line x1=\"{xd:.1}\" y1=\"{b}\" x2=\"{xd:.1}\" y2=\"{b2}\" class=\"axis\"/>",
            b = top + plot_h,
            b2 = top + plot_h + 4.0
        );
        if n % every == 0 {
            let label = match l {
                Lang::PtBr => d.format("%d/%m").to_string(),
                Lang::En => d.format("%m-%d").to_string(),
            };
            let _ = write!(
                svg,
                "<text x=\"{xd:.1}\" y=\"{ty}\" class=\"label\" text-anchor=\"middle\">{label}</text>",
                ty = top + plot_h + 18.0
            );
        }
        d = d.succ_opt().unwrap_or(NaiveDate::MAX);
        if d == NaiveDate::MAX {
            break;
        }
    }
    for (day, (e, r)) in days {
        let xd = x(*day);
        let (ye, yr) = (y(to_f64(*e)), y(to_f64(*r)));
        let _ = write!(
            svg,
            "<rect class=\"expected\" x=\"{:.1}\" y=\"{ye:.1}\" width=\"{bar:.1}\" height=\"{:.1}\"><title>{}: {} {}</title></rect>\
             <rect class=\"received\" x=\"{xd:.1}\" y=\"{yr:.1}\" width=\"{bar:.1}\" height=\"{:.1}\"><title>{}: {} {}</title></rect>",
            xd - bar,
            top + plot_h - ye,
            date(l, *day),
            l.pick("esperado", "expected"),
            esc(&money(l, *e)),
            top + plot_h - yr,
            date(l, *day),
            l.pick("recebido", "received"),
            esc(&money(l, *r)),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars of fee overcharge by acquirer, brand and product (by name), with an amount axis.
fn fee_chart(by: &BTreeMap<(String, String, String), (u64, Decimal)>, names: &Names, l: Lang) -> String {
    if by.is_empty() {
        return format!(
            "<p class=\"none\">{}</p>",
            l.pick("Nenhuma taxa cobrada acima do contrato.", "No fee charged above the contract.")
        );
    }
    let row_h = 26.0;
    let (w, label_w, right) = (1000.0, 300.0, 170.0);
    let h = row_h * by.len() as f64 + 30.0;
    let max = by.values().map(|(_, d)| to_f64(*d)).fold(0.01, f64::max);
    let step = nice_step(max, 4.0);
    let top_value = (max / step).ceil() * step;
    let plot_w = w - label_w - right;
    let bottom = row_h * by.len() as f64 + 5.0;
    let mut svg = format!(
        "<svg id=\"chart-fees\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\">",
        l.pick("Taxa cobrada acima do contrato por bandeira e produto", "Fee overcharge by brand and product")
    );
    let mut v = 0.0;
    while v <= top_value + step / 2.0 {
        let xv = label_w + v / top_value * plot_w;
        let _ = write!(
            svg,
            "<line x1=\"{xv:.1}\" y1=\"0\" x2=\"{xv:.1}\" y2=\"{bottom}\" class=\"grid\"/>\
             <text x=\"{xv:.1}\" y=\"{ty}\" class=\"label\" text-anchor=\"middle\">{}</text>",
            esc(&short_money(l, v)),
            ty = bottom + 16.0
        );
        v += step;
    }
    for (n, ((acquirer, brand, product), (count, amount))) in by.iter().enumerate() {
        let y = 2.0 + n as f64 * row_h;
        let bw = (to_f64(*amount) / top_value) * plot_w;
        let _ = write!(
            svg,
            "<text x=\"{lx}\" y=\"{:.1}\" class=\"label\" text-anchor=\"end\">{} · {}</text>\
             <rect class=\"over\" x=\"{label_w}\" y=\"{y:.1}\" width=\"{bw:.1}\" height=\"{:.1}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"label\">{} ({count} {})</text>",
            y + row_h * 0.6,
            esc(&names.brand(acquirer, brand)),
            esc(&names.product(acquirer, product)),
            row_h - 8.0,
            label_w + bw + 6.0,
            y + row_h * 0.6,
            esc(&money(l, *amount)),
            l.pick("vendas", "sales"),
            lx = label_w - 8.0,
        );
    }
    let _ = write!(svg, "<line x1=\"{label_w}\" y1=\"0\" x2=\"{label_w}\" y2=\"{bottom}\" class=\"axis\"/></svg>");
    svg
}

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:1.5rem;color:#1d2433;background:#fff;max-width:1232px}\
h1{font-size:1.45rem;margin-bottom:.2rem} h2{font-size:1.1rem;margin-top:2rem} .meta{color:#4a5568;margin:.2rem 0}\
.cards{display:flex;gap:1rem;flex-wrap:wrap;margin-top:1rem} .card{border:1px solid #d0d7e2;border-radius:8px;padding:.7rem 1.1rem;min-width:11rem}\
.card b{display:block;font-size:1.5rem;white-space:nowrap} .open{color:#b3261e}\
.empty{border:2px solid #b26a00;background:#fff8e6;border-radius:8px;padding:1rem;margin-top:1rem}\
table{border-collapse:collapse;width:100%;font-size:.8rem} th,td{border-bottom:1px solid #e3e8ef;padding:.3rem .35rem;text-align:left;vertical-align:top}\
th{background:#f3f6fa} td.n,th.n{text-align:right;font-variant-numeric:tabular-nums} .nw,td.n,td.d{white-space:nowrap}\
tr.total td{font-weight:600;border-top:2px solid #c5ceda}\
#open-items{table-layout:fixed} #open-items th{cursor:pointer;user-select:none;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}\
#open-items th[aria-sort=ascending]::after{content:' ▲'} #open-items th[aria-sort=descending]::after{content:' ▼'}\
#open-items td{overflow:hidden;text-overflow:ellipsis;white-space:nowrap} #open-items td.r{white-space:normal;overflow-wrap:anywhere}\
#open-items small{display:block;color:#556;font-size:.72rem} #open-items td small{white-space:normal;overflow-wrap:anywhere}\
#open-items tr.group td{background:#eef2f7;font-weight:600;white-space:nowrap}\
.tools{display:flex;gap:.8rem;flex-wrap:wrap;align-items:center;margin:.6rem 0;font-size:.85rem}\
.tools input{width:16rem} svg{width:100%;height:auto;max-width:1000px;display:block}\
.axis{stroke:#666} .grid{stroke:#e3e8ef} .label{font-size:12px;fill:#333}\
.expected{fill:#b8c2d1} .received{fill:#2e7d32} .over{fill:#b3261e} .none{color:#667}\
.legend span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 1rem;vertical-align:middle}\
details{margin-top:1rem} summary{cursor:pointer}";

/// Sorting, filtering and grouping of the divergence table, with the view kept in the address's `#`
/// (`#sort=6:desc&q=visa&area=fees&group=status`), so a view can be linked to. No network, no library.
const SCRIPT: &str = r#"(function(){
var table=document.getElementById('open-items');if(!table)return;
var body=table.tBodies[0],heads=table.tHead.rows[0].cells,rows=Array.prototype.slice.call(body.rows);
var q=document.getElementById('filter-text'),area=document.getElementById('filter-area'),group=document.getElementById('group-by'),shown=document.getElementById('shown');
var state={sort:null,dir:'asc'};
function key(r,c){var v=r.cells[c].getAttribute('data-v');return v===null?r.cells[c].textContent:v;}
function cmp(a,b,c,num){var x=key(a,c),y=key(b,c);if(num){x=parseFloat(x);y=parseFloat(y);if(isNaN(x))x=-Infinity;if(isNaN(y))y=-Infinity;return x<y?-1:x>y?1:0;}return x.localeCompare(y,document.documentElement.lang);}
function render(){
 var text=q.value.trim().toLowerCase(),a=area.value,g=group.value;
 var list=rows.filter(function(r){return(!a||r.getAttribute('data-area')===a)&&(!text||r.textContent.toLowerCase().indexOf(text)>=0);});
 if(state.sort!==null){var c=state.sort,num=heads[c].classList.contains('n'),s=state.dir==='desc'?-1:1;list.sort(function(x,y){return s*cmp(x,y,c,num)||(rows.indexOf(x)-rows.indexOf(y));});}
 for(var i=0;i<heads.length;i++)heads[i].setAttribute('aria-sort',i===state.sort?(state.dir==='desc'?'descending':'ascending'):'none');
 while(body.firstChild)body.removeChild(body.firstChild);
 if(g){var groups={},order=[];list.forEach(function(r){var k=r.getAttribute('data-'+g)||'';if(!groups[k]){groups[k]=[];order.push(k);}groups[k].push(r);});
  order.forEach(function(k){var tr=document.createElement('tr');tr.className='group';var td=document.createElement('td');td.colSpan=heads.length;
   var stake=groups[k].reduce(function(s,r){return s+(parseFloat(r.getAttribute('data-stake'))||0);},0);
   td.textContent=k+' — '+groups[k].length+' · '+table.getAttribute('data-stake-label')+' '+fmt(stake);tr.appendChild(td);body.appendChild(tr);
   groups[k].forEach(function(r){body.appendChild(r);});});}
 else list.forEach(function(r){body.appendChild(r);});
 shown.textContent=list.length;
 var h=[];if(state.sort!==null)h.push('sort='+state.sort+':'+state.dir);if(text)h.push('q='+encodeURIComponent(q.value.trim()));if(a)h.push('area='+a);if(g)h.push('group='+g);
 try{history.replaceState(null,'',h.length?'#'+h.join('&'):location.pathname+location.search);}catch(e){}
}
function fmt(v){return 'R$ '+v.toLocaleString(document.documentElement.lang,{minimumFractionDigits:2,maximumFractionDigits:2});}
for(var i=0;i<heads.length;i++)(function(c){heads[c].addEventListener('click',function(){if(state.sort===c)state.dir=state.dir==='asc'?'desc':'asc';else{state.sort=c;state.dir=heads[c].classList.contains('n')?'desc':'asc';}render();});})(i);
q.addEventListener('input',render);area.addEventListener('change',render);group.addEventListener('change',render);
location.hash.replace(/^#/,'').split('&').forEach(function(p){var kv=p.split('='),v=decodeURIComponent(kv[1]||'');
 if(kv[0]==='sort'){var s=v.split(':'),c=parseInt(s[0],10);if(c>=0&&c<heads.length){state.sort=c;state.dir=s[1]==='desc'?'desc':'asc';}}
 else if(kv[0]==='q')q.value=v;else if(kv[0]==='area')area.value=v;else if(kv[0]==='group')group.value=v;});
render();})();"#;

/// A section's title, then a table's opening and head: each column's (Portuguese, English) label, numeric
/// columns right-aligned.
fn table_head(out: &mut String, l: Lang, title: (&str, &str), id: &str, columns: &[(&str, &str, bool)]) {
    let _ = write!(out, "<h2>{}</h2><table id=\"{id}\"><thead><tr>", l.pick(title.0, title.1));
    for (pt, en, numeric) in columns {
        let class = if *numeric { " class=\"n\"" } else { "" };
        let _ = write!(out, "<th{class}>{}</th>", l.pick(pt, en));
    }
    out.push_str("</tr></thead><tbody>");
}

/// One account's day in the bank section: what the acquirers announced and what the statements credited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BankDay {
    pub acquirers: std::collections::BTreeSet<String>,
    pub announced: Decimal,
    pub credited: Decimal,
    pub at_stake: Decimal,
    /// How many items of each status.
    pub statuses: BTreeMap<&'static str, u64>,
    /// The credits' memos.
    pub memos: std::collections::BTreeSet<String>,
}

/// The bank area per account (as announced; the credited account for an unexpected credit) and day.
pub fn bank_days(items: &[ReconItem], settings: &Settings) -> BTreeMap<(String, NaiveDate), BankDay> {
    let mut days: BTreeMap<(String, NaiveDate), BankDay> = BTreeMap::new();
    for i in items.iter().filter(|i| i.area == Area::Bank) {
        let d = days.entry((i.sale_code.clone(), i.ref_date)).or_default();
        if !i.acquirer.is_empty() {
            d.acquirers.insert(i.acquirer.clone());
        }
        d.announced += i.expected.unwrap_or_default();
        d.credited += i.actual.unwrap_or_default();
        d.at_stake += i.at_stake(settings);
        *d.statuses.entry(i.status.as_str()).or_default() += 1;
        if let Some(memo) = i.fields.get(2).filter(|m| !m.is_empty()) {
            d.memos.insert(memo.clone());
        }
    }
    days
}

/// "Acquirer payments vs bank": per account, then per account and day, the payments announced and the credits
/// the bank statements show side by side, with what became of them.
fn bank_section(out: &mut String, data: &ReportData) {
    let l = data.lang;
    let days = bank_days(data.items, data.settings);
    if days.is_empty() {
        return;
    }
    let names = &data.facts.names;
    let mut accounts: BTreeMap<&str, (Decimal, Decimal, u64, Decimal)> = BTreeMap::new();
    for ((account, _), d) in &days {
        let a = accounts.entry(account).or_default();
        a.0 += d.announced;
        a.1 += d.credited;
        a.2 += d
            .statuses
            .iter()
            .filter(|(s, _)| Status::parse(s).is_some_and(Status::is_open))
            .map(|(_, n)| n)
            .sum::<u64>();
        a.3 += d.at_stake;
    }
    table_head(
        out,
        l,
        ("Pagamentos das adquirentes × banco, por conta", "Acquirer payments vs bank, per account"),
        "bank-accounts",
        &[
            ("Conta (banco / agência / conta)", "Account (bank / branch / number)", false),
            ("Anunciado", "Announced", true),
            ("Creditado", "Credited", true),
            ("Pedem atenção", "Need attention", true),
            ("Em risco", "At stake", true),
        ],
    );
    for (account, (announced, credited, open, stake)) in &accounts {
        let _ = write!(
            out,
            "<tr><td class=\"nw\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{open}</td><td class=\"n\">{}</td></tr>",
            esc(account),
            esc(&money(l, *announced)),
            esc(&money(l, *credited)),
            esc(&money(l, *stake))
        );
    }
    out.push_str("</tbody></table>");
    table_head(
        out,
        l,
        ("Pagamentos das adquirentes × banco, por conta e dia", "Acquirer payments vs bank, per account and day"),
        "bank-days",
        &[
            ("Conta", "Account", false),
            ("Dia", "Day", false),
            ("Adquirente", "Acquirer", false),
            ("Anunciado", "Announced", true),
            ("Creditado", "Credited", true),
            ("Diferença", "Difference", true),
            ("Situação", "Status", false),
            ("Histórico no extrato", "Statement memo", false),
        ],
    );
    for ((account, day), d) in days.iter().take(MAX_HTML_ROWS) {
        let statuses: Vec<String> = d
            .statuses
            .iter()
            .map(|(s, n)| {
                let label = Status::parse(s).map(|s| status_label(s, l)).unwrap_or(s);
                if *n > 1 {
                    format!("{label} ×{n}")
                } else {
                    label.to_string()
                }
            })
            .collect();
        let open = d.statuses.keys().any(|s| Status::parse(s).is_some_and(Status::is_open));
        let acquirers: Vec<String> = d.acquirers.iter().map(|a| names.acquirer(a)).collect();
        let memos: Vec<&str> = d.memos.iter().map(String::as_str).collect();
        let _ = write!(
            out,
            "<tr{}><td class=\"nw\">{}</td><td class=\"nw\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
            if open { " class=\"open\"" } else { "" },
            esc(account),
            esc(&date(l, *day)),
            esc(&acquirers.join(", ")),
            esc(&money(l, d.announced)),
            esc(&money(l, d.credited)),
            esc(&money(l, d.credited - d.announced)),
            esc(&statuses.join(" · ")),
            esc(&memos.join(" · "))
        );
    }
    out.push_str("</tbody></table>");
    if days.len() > MAX_HTML_ROWS {
        let _ = write!(
            out,
            "<p>{}</p>",
            match l {
                Lang::PtBr => format!("Os primeiros {MAX_HTML_ROWS} dias são mostrados; o CSV (--csv) traz todos."),
                Lang::En => format!("The first {MAX_HTML_ROWS} days are shown; the CSV export (--csv) has them all."),
            }
        );
    }
}

/// The whole report as one HTML document.
pub fn html(data: &ReportData) -> String {
    let l = data.lang;
    let t = data.totals;
    let scope = data.scope;
    let facts = data.facts;
    let names = &facts.names;
    let title = format!(
        "{} {} {} {}{}",
        l.pick("Conciliação de", "Reconciliation"),
        date(l, scope.from),
        l.pick("a", "to"),
        date(l, scope.to),
        scope
            .merchant
            .as_deref()
            .map(|m| format!(" — {} {m}", l.pick("estabelecimento", "merchant")))
            .unwrap_or_default()
    );
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>{STYLE}</style></head><body>\
         <h1>{title}</h1>\
         <p class=\"meta\" id=\"generated\">{gen} {generated} · {run_l} {run} · {as_of_l} {as_of} · {tol_l} {tol} · {win_l} {win} {days}</p>",
        lang = l.tag(),
        title = esc(&title),
        gen = l.pick("Gerado em", "Generated"),
        generated = esc(&match l {
            Lang::PtBr => data.generated_at.format("%d/%m/%Y %H:%M (UTC%:z)").to_string(),
            Lang::En => data.generated_at.format("%Y-%m-%d %H:%M (UTC%:z)").to_string(),
        }),
        run_l = l.pick("execução", "run"),
        run = data.run_id,
        as_of_l = l.pick("posição em", "as of"),
        as_of = date(l, data.settings.as_of),
        tol_l = l.pick("tolerância", "tolerance"),
        tol = esc(&money(l, data.settings.amount_tolerance)),
        win_l = l.pick("janela de datas de venda ±", "sale date window ±"),
        win = data.settings.sale_date_window_days,
        days = l.pick("dia(s)", "day(s)"),
    );
    let empty = t.items == 0 && t.not_reconciled.is_empty();
    if empty {
        let merchant = scope.merchant.clone().unwrap_or_default();
        let why = match (facts.merchant_known, facts.coverage) {
            (Some(false), _) => match l {
                Lang::PtBr => format!("Nenhum extrato do estabelecimento {merchant} foi carregado: confira o código (com os zeros à esquerda) ou carregue os extratos dele."),
                Lang::En => format!("No statement of merchant {merchant} was ever loaded: check the code (with its leading zeros) or load its statements."),
            },
            (_, None) => l
                .pick(
                    "Nenhum extrato foi carregado ainda: carregue os arquivos das adquirentes (syncrocardpay run --inbox DIR).",
                    "No statement is loaded yet: load the acquirers' files (syncrocardpay run --inbox DIR).",
                )
                .to_string(),
            (_, Some((first, last))) => match l {
                Lang::PtBr => format!(
                    "Nenhuma venda, parcela ou ajuste dos extratos carregados cai neste período; eles cobrem vendas de {} a {}.",
                    date(l, first),
                    date(l, last)
                ),
                Lang::En => format!(
                    "No sale, installment or adjustment of the loaded statements falls in this period; they cover sales from {} to {}.",
                    date(l, first),
                    date(l, last)
                ),
            },
        };
        let _ = write!(
            out,
            "<div class=\"empty\" id=\"empty\"><b>{}</b> {}</div>",
            l.pick("Nada a conciliar neste escopo.", "Nothing to reconcile in this scope."),
            esc(&why)
        );
    }
    let _ = write!(
        out,
        "<div class=\"cards\">\
         <div class=\"card\">{items_l}<b id=\"items\">{items}</b></div>\
         <div class=\"card open\">{open_l}<b id=\"open\">{open}</b></div>\
         <div class=\"card open\">{stake_l}<b id=\"at-stake\">{stake}</b></div>\
         <div class=\"card\">{anomalies_l}<b id=\"anomalies\">{anomalies}</b>{in_l} {anomaly_files} {files_l}</div></div>",
        items_l = l.pick("Itens conciliados", "Items reconciled"),
        items = t.items,
        open_l = l.pick("Pedem atenção", "Need attention"),
        open = t.open,
        stake_l = l.pick("Em risco", "At stake"),
        stake = esc(&money(l, t.open_at_stake)),
        anomalies_l = l.pick("Anomalias nos extratos", "Statement anomalies"),
        anomalies = data.anomalies.anomalies,
        in_l = l.pick("em", "in"),
        anomaly_files = data.anomalies.files,
        files_l = l.pick("arquivo(s)", "file(s)"),
    );

    // The period's business, per merchant and acquirer, and in all.
    table_head(
        &mut out,
        l,
        ("Resumo do período", "The period in figures"),
        "period",
        &[
            ("Estabelecimento", "Merchant", false),
            ("Adquirente", "Acquirer", false),
            ("Vendas", "Sales", true),
            ("Bruto", "Gross", true),
            ("Taxa", "Fee", true),
            ("Líquido", "Net", true),
            ("Recebido no período", "Received in the period", true),
            ("Ajustes no período", "Adjustments in the period", true),
        ],
    );
    let mut all = (0u64, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    for p in &facts.period {
        all =
            (all.0 + p.sales, all.1 + p.gross, all.2 + p.fee, all.3 + p.net, all.4 + p.received, all.5 + p.adjustments);
        let _ = write!(
            out,
            "<tr><td class=\"nw\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&p.merchant_code),
            esc(&names.acquirer(&p.acquirer)),
            p.sales,
            esc(&money(l, p.gross)),
            esc(&money(l, p.fee)),
            esc(&money(l, p.net)),
            esc(&money(l, p.received)),
            esc(&money(l, p.adjustments)),
        );
    }
    let _ = write!(
        out,
        "</tbody><tfoot><tr class=\"total\"><td colspan=\"2\">{}</td><td class=\"n\" id=\"period-sales\">{}</td>\
         <td class=\"n\" id=\"period-gross\">{}</td><td class=\"n\" id=\"period-fee\">{}</td><td class=\"n\" id=\"period-net\">{}</td>\
         <td class=\"n\">{}</td><td class=\"n\">{}</td></tr></tfoot></table>",
        l.pick("Total", "Total"),
        all.0,
        esc(&money(l, all.1)),
        esc(&money(l, all.2)),
        esc(&money(l, all.3)),
        esc(&money(l, all.4)),
        esc(&money(l, all.5)),
    );

    // Per status.
    table_head(
        &mut out,
        l,
        ("Totais por situação", "Totals by status"),
        "totals",
        &[
            ("Área", "Area", false),
            ("Situação", "Status", false),
            ("Itens", "Items", true),
            ("Em risco", "At stake", true),
        ],
    );
    for s in &t.by_status {
        let _ = write!(
            out,
            "<tr{} data-status=\"{}\"><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            if s.open { " class=\"open\"" } else { "" },
            s.status.as_str(),
            area_label(s.area, l),
            status_label(s.status, l),
            s.count,
            esc(&money(l, s.at_stake))
        );
    }
    out.push_str("</tbody></table>");

    // Per merchant and acquirer: what needs attention.
    let mut per: BTreeMap<(&str, &str), (u64, Decimal)> = BTreeMap::new();
    for i in data.items.iter().filter(|i| i.is_open()) {
        let e = per.entry((&i.merchant_code, &i.acquirer)).or_default();
        e.0 += 1;
        e.1 += i.at_stake(data.settings);
    }
    if !per.is_empty() {
        table_head(
            &mut out,
            l,
            ("O que pede atenção, por estabelecimento e adquirente", "What needs attention, per merchant and acquirer"),
            "per-merchant",
            &[
                ("Estabelecimento", "Merchant", false),
                ("Adquirente", "Acquirer", false),
                ("Itens", "Items", true),
                ("Em risco", "At stake", true),
            ],
        );
        for ((m, a), (n, stake)) in &per {
            let acquirer =
                if a.is_empty() { l.pick("— (PDV/ERP)", "— (books)").to_string() } else { names.acquirer(a) };
            let _ = write!(
                out,
                "<tr><td class=\"nw\">{}</td><td>{}</td><td class=\"n\">{n}</td><td class=\"n\">{}</td></tr>",
                esc(m),
                esc(&acquirer),
                esc(&money(l, *stake))
            );
        }
        out.push_str("</tbody></table>");
    }

    if !t.not_reconciled.is_empty() {
        table_head(
            &mut out,
            l,
            ("Não conciliado: falta um insumo", "Not reconciled: an input is missing"),
            "not-reconciled",
            &[
                ("Área", "Area", false),
                ("Estabelecimento", "Merchant", false),
                ("Adquirente", "Acquirer", false),
                ("Deixados de lado", "Left aside", true),
                ("Valor", "Amount", true),
                ("Por quê", "Why", false),
            ],
        );
        for p in &t.not_reconciled {
            let why = match (l, p.missing) {
                (Lang::En, m) => m.describe(),
                (Lang::PtBr, super::MissingInput::MerchantSales) => {
                    "as vendas do próprio estabelecimento (PDV/ERP) não estão carregadas para este período (syncrocardpay merchant-sales)"
                }
                (Lang::PtBr, super::MissingInput::Contract) => {
                    "nenhuma taxa contratada do estabelecimento com esta adquirente (syncrocardpay rates import)"
                }
                (Lang::PtBr, super::MissingInput::PaymentStatement) => {
                    "nenhum extrato de pagamentos desta adquirente está carregado para o estabelecimento: o que vence não se sabe se foi pago"
                }
                (Lang::PtBr, super::MissingInput::BankStatement) => {
                    "nenhum extrato bancário da conta cobre os dias em que o crédito podia entrar (syncrocardpay bank-statement)"
                }
            };
            let _ = write!(
                out,
                "<tr><td>{}</td><td class=\"nw\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                area_label(p.area, l),
                esc(&p.merchant_code),
                esc(&names.acquirer(&p.acquirer)),
                p.lines,
                esc(&money(l, p.amount)),
                esc(why)
            );
        }
        out.push_str("</tbody></table>");
    }

    let _ = write!(
        out,
        "<h2>{}</h2><p class=\"legend\"><span style=\"background:#b8c2d1\"></span>{}<span style=\"background:#2e7d32\"></span>{}</p>",
        l.pick("Esperado × recebido, por dia de vencimento", "Expected vs received, per due day"),
        l.pick("esperado", "expected"),
        l.pick("recebido", "received"),
    );
    out.push_str(&day_chart(data.received_by_day, l));
    let _ = write!(
        out,
        "<h2>{}</h2>",
        l.pick(
            "Taxas cobradas acima do contrato, por bandeira e produto",
            "Fees charged above the contract, by brand and product"
        )
    );
    out.push_str(&fee_chart(&fee_overcharge(data.items), names, l));
    bank_section(&mut out, data);

    // Every open item: sortable, filterable, groupable.
    let open: Vec<&ReconItem> = data.items.iter().filter(|i| i.is_open()).collect();
    let _ = write!(out, "<h2>{} ({})</h2>", l.pick("Divergências em aberto", "Open divergences"), open.len());
    if open.len() > MAX_HTML_ROWS {
        let _ = write!(
            out,
            "<p>{}</p>",
            match l {
                Lang::PtBr => format!("As primeiras {MAX_HTML_ROWS} são mostradas; o CSV (--csv) traz todas."),
                Lang::En => format!("The first {MAX_HTML_ROWS} are shown; the CSV export (--csv) has them all."),
            }
        );
    }
    let mut areas: Vec<Area> = open.iter().map(|i| i.area).collect();
    areas.dedup();
    areas.sort();
    areas.dedup();
    let _ = write!(
        out,
        "<div class=\"tools\"><label>{} <input id=\"filter-text\" type=\"search\"></label>\
         <label>{} <select id=\"filter-area\"><option value=\"\">{}</option>{}</select></label>\
         <label>{} <select id=\"group-by\"><option value=\"\">{}</option><option value=\"status\">{}</option>\
         <option value=\"merchant\">{}</option><option value=\"acquirer\">{}</option><option value=\"brand\">{}</option>\
         <option value=\"date\">{}</option></select></label><span><span id=\"shown\">{}</span> {}</span></div>",
        l.pick("Filtrar", "Filter"),
        l.pick("Área", "Area"),
        l.pick("todas", "all"),
        areas
            .iter()
            .map(|a| format!("<option value=\"{}\">{}</option>", a.as_str(), area_label(*a, l)))
            .collect::<String>(),
        l.pick("Agrupar por", "Group by"),
        l.pick("nada", "nothing"),
        l.pick("situação", "status"),
        l.pick("estabelecimento", "merchant"),
        l.pick("adquirente", "acquirer"),
        l.pick("bandeira", "brand"),
        l.pick("data", "date"),
        open.len().min(MAX_HTML_ROWS),
        l.pick("itens mostrados", "items shown"),
    );
    // Column widths add up to the page (1 232 px inside its margins): the status column carries the reason
    // under it, which wraps; codes, amounts and dates never do.
    let columns: [(&str, &str, &str, u32); 10] = [
        ("Situação e motivo", "Status and reason", "", 290),
        ("Estab.", "Merchant", "", 108),
        ("Data", "Date", "", 88),
        ("Venda", "Sale", "", 138),
        ("Parc.", "Inst.", "n", 48),
        ("Bandeira · produto", "Brand · product", "", 156),
        ("Esperado", "Expected", "n", 102),
        ("Obtido", "Actual", "n", 102),
        ("Diferença", "Difference", "n", 100),
        ("Em risco", "At stake", "n", 100),
    ];
    let _ = write!(out, "<table id=\"open-items\" data-stake-label=\"{}\"><colgroup>", l.pick("em risco", "at stake"));
    for (_, _, _, w) in &columns {
        let _ = write!(out, "<col style=\"width:{w}px\">");
    }
    out.push_str("</colgroup><thead><tr>");
    for (pt, en, class, _) in &columns {
        let class = if class.is_empty() { String::new() } else { format!(" class=\"{class}\"") };
        let _ = write!(out, "<th{class} aria-sort=\"none\">{}</th>", l.pick(pt, en));
    }
    out.push_str("</tr></thead><tbody>");
    let num = |d: Option<Decimal>| d.map(|d| d.to_string()).unwrap_or_default();
    for i in open.iter().take(MAX_HTML_ROWS) {
        let brand = names.brand(&i.acquirer, &i.brand);
        let stake = i.at_stake(data.settings);
        let status = status_label(i.status, l);
        let acquirer =
            if i.acquirer.is_empty() { l.pick("PDV/ERP", "books").to_string() } else { names.acquirer(&i.acquirer) };
        let codes = [("NSU", &i.nsu), (l.pick("Aut.", "Auth."), &i.authorization_code)]
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| format!("{k} {}", esc(v)))
            .collect::<Vec<_>>()
            .join(" · ");
        let product = names.product(&i.acquirer, &i.product);
        let bp =
            if i.brand.is_empty() && i.product.is_empty() { String::new() } else { format!("{brand} · {product}") };
        let _ = write!(
            out,
            "<tr data-area=\"{area}\" data-status=\"{status_e}\" data-merchant=\"{merchant}\" data-acquirer=\"{acq}\" \
             data-brand=\"{brand_e}\" data-date=\"{day}\" data-stake=\"{stake}\">\
             <td class=\"r\" data-v=\"{status_e}\"><b>{status_e}</b><small>{area_l} · {reason}</small></td>\
             <td data-v=\"{merchant}\"><span class=\"nw\">{merchant}</span><small>{acq}</small></td>\
             <td class=\"d\" data-v=\"{iso}\">{day}</td><td data-v=\"{sale}\" title=\"{sale}\">{sale}<small>{codes}</small></td>\
             <td class=\"n\" data-v=\"{inst}\">{inst}</td><td title=\"{bp}\">{bp}</td>\
             <td class=\"n\" data-v=\"{ev}\">{e}</td><td class=\"n\" data-v=\"{av}\">{a}</td>\
             <td class=\"n\" data-v=\"{dv}\">{d}</td><td class=\"n\" data-v=\"{stake}\">{s}</td></tr>",
            area = i.area.as_str(),
            area_l = area_label(i.area, l),
            status_e = esc(status),
            merchant = esc(&i.merchant_code),
            acq = esc(&acquirer),
            brand_e = esc(&brand),
            day = date(l, i.ref_date),
            iso = i.ref_date,
            sale = esc(&i.sale_code),
            inst = i.installment,
            bp = esc(&bp),
            ev = num(i.expected),
            e = esc(&money_opt(l, i.expected)),
            av = num(i.actual),
            a = esc(&money_opt(l, i.actual)),
            dv = num(i.difference),
            d = esc(&money_opt(l, i.difference)),
            s = esc(&money(l, stake)),
            reason = esc(&describe(i, data)),
        );
    }
    out.push_str("</tbody></table>");

    // The files it is made from.
    let _ = write!(
        out,
        "<details id=\"sources\"><summary>{} ({})</summary><table><thead><tr><th class=\"n\">{}</th><th>{}</th><th>{}</th>\
         <th>{}</th><th>{}</th><th>{}</th><th class=\"n\">{}</th><th>{}</th></tr></thead><tbody>",
        l.pick("Arquivos de origem", "Source files"),
        facts.sources.len(),
        l.pick("Id", "Id"),
        l.pick("Arquivo", "File"),
        l.pick("Adquirente", "Acquirer"),
        l.pick("Tipo", "Type"),
        l.pick("Estabelecimento", "Merchant"),
        l.pick("Período", "Period"),
        l.pick("Linhas", "Lines"),
        l.pick("Carregado em", "Loaded"),
    );
    for f in facts.sources.iter().take(MAX_HTML_FILES) {
        let period = match (f.period_start, f.period_end) {
            (Some(a), Some(b)) if a != b => format!("{} – {}", date(l, a), date(l, b)),
            (Some(a), _) | (None, Some(a)) => date(l, a),
            (None, None) => String::new(),
        };
        let _ = write!(
            out,
            "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"nw\">{}</td><td class=\"nw\">{}</td>\
             <td class=\"n\">{}</td><td class=\"nw\">{}</td></tr>",
            f.file_id,
            esc(&f.name),
            esc(&names.acquirer(&f.acquirer)),
            esc(&f.kind),
            esc(&f.merchant_code),
            period,
            f.lines.map(|n| n.to_string()).unwrap_or_default(),
            f.loaded_at.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default(),
        );
    }
    out.push_str("</tbody></table>");
    if facts.sources.len() > MAX_HTML_FILES {
        let _ = write!(out, "<p>{} {MAX_HTML_FILES}.</p>", l.pick("Mostrados os primeiros", "The first shown:"));
    }
    let _ = write!(
        out,
        "</details><p class=\"none\">{} syncrocardpay.</p><script>{SCRIPT}</script></body></html>",
        l.pick("Gerado pelo", "Generated by")
    );
    out.push('\n');
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
/// `statement_anomalies.csv`, `expected_vs_received.csv`, `fee_overcharge.csv`, `bank_deposits.csv` (every item
/// of the bank area, deposited ones too). Codes and names both (the names
/// and the `description` in the report's language); amounts are plain decimals (`1234.56`); text that came
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
        &["area", "status", "status_name", "open", "items", "at_stake"],
        data.totals
            .by_status
            .iter()
            .map(|s| {
                vec![
                    s.area.as_str().into(),
                    csv_text(s.status.as_str()),
                    status_label(s.status, data.lang).to_string(),
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
            "status_name",
            "merchant_code",
            "acquirer",
            "date",
            "sale_code",
            "nsu",
            "authorization_code",
            "installment",
            "brand",
            "brand_name",
            "product",
            "product_name",
            "expected",
            "actual",
            "difference",
            "at_stake",
            "days_late",
            "fields",
            "reason",
            "description",
        ],
        data.items
            .iter()
            .filter(|i| i.is_open())
            .map(|i| {
                vec![
                    i.area.as_str().into(),
                    csv_text(i.status.as_str()),
                    status_label(i.status, data.lang).to_string(),
                    csv_text(&i.merchant_code),
                    csv_text(&i.acquirer),
                    i.ref_date.to_string(),
                    csv_text(&i.sale_code),
                    csv_text(&i.nsu),
                    csv_text(&i.authorization_code),
                    i.installment.to_string(),
                    csv_text(&i.brand),
                    csv_text(&data.facts.names.brand(&i.acquirer, &i.brand)),
                    csv_text(&i.product),
                    csv_text(&data.facts.names.product(&i.acquirer, &i.product)),
                    opt(i.expected),
                    opt(i.actual),
                    opt(i.difference),
                    i.at_stake(data.settings).to_string(),
                    i.days_late.map(|d| d.to_string()).unwrap_or_default(),
                    csv_text(&i.fields.join(";")),
                    csv_text(&i.reason),
                    csv_text(&describe(i, data)),
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
        &["acquirer", "brand", "brand_name", "product", "product_name", "sales", "overcharged"],
        fee_overcharge(data.items)
            .into_iter()
            .map(|((a, b, p), (n, d))| {
                let names = &data.facts.names;
                vec![
                    csv_text(&a),
                    csv_text(&b),
                    csv_text(&names.brand(&a, &b)),
                    csv_text(&p),
                    csv_text(&names.product(&a, &p)),
                    n.to_string(),
                    d.to_string(),
                ]
            })
            .collect(),
    )?;
    file(
        "bank_deposits.csv",
        &[
            "account",
            "date",
            "merchant_code",
            "acquirer",
            "status",
            "status_name",
            "rule",
            "brand",
            "announced",
            "credited",
            "difference",
            "business_days_late",
            "credited_account",
            "memo",
            "at_stake",
            "description",
        ],
        data.items
            .iter()
            .filter(|i| i.area == Area::Bank)
            .map(|i| {
                let field = |k: usize| csv_text(i.fields.get(k).map(String::as_str).unwrap_or_default());
                vec![
                    csv_text(&i.sale_code),
                    i.ref_date.to_string(),
                    csv_text(&i.merchant_code),
                    csv_text(&i.acquirer),
                    i.status.as_str().to_string(),
                    status_label(i.status, data.lang).to_string(),
                    field(0),
                    csv_text(&i.brand),
                    opt(i.expected),
                    opt(i.actual),
                    opt(i.difference),
                    i.days_late.map(|d| d.to_string()).unwrap_or_default(),
                    field(1),
                    field(2),
                    i.at_stake(data.settings).to_string(),
                    csv_text(&describe(i, data)),
                ]
            })
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
            facts: &ScopeFacts::default(),
            lang: Lang::PtBr,
            generated_at: chrono::DateTime::from_timestamp(0, 0).unwrap().fixed_offset(),
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
