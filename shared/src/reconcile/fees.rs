//! Fee audit ("auditoria de taxas"): each transaction's fee as charged against gross × the contracted rate
//! for its merchant, acquirer, brand, product, number of installments and date. Contracted rates are data,
//! imported from a CSV (`syncrocardpay rates import`).

use super::{brl, round2, Area, ReconItem, Settings, SourceLine, Status};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// A contracted rate ("taxa contratada"): `*` in brand or product means any.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContractRate {
    pub merchant_code: String,
    pub acquirer: String,
    pub brand: String,
    pub product: String,
    pub installments_from: i32,
    pub installments_to: i32,
    /// Percent of the gross amount (2.49 = 2,49 %).
    pub rate: Decimal,
    /// A fixed fee per sale in reais, beside the rate ("tarifa por transação": PagBank's R$ 0,40 on a credit
    /// sale); zero in most contracts.
    pub fixed_fee: Decimal,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

impl ContractRate {
    fn applies(&self, t: &ChargedFee) -> bool {
        self.merchant_code == t.merchant_code
            && self.acquirer == t.acquirer
            && (self.brand == "*" || self.brand == t.brand)
            && (self.product == "*" || self.product == t.product)
            && (self.installments_from..=self.installments_to).contains(&t.installments.max(1))
            && self.valid_from <= t.date
            && self.valid_to.is_none_or(|to| t.date <= to)
    }

    /// More specific rates win: exact brand, exact product, narrower installment range, later start.
    fn specificity(&self) -> (bool, bool, i32, NaiveDate) {
        (self.brand != "*", self.product != "*", -(self.installments_to - self.installments_from), self.valid_from)
    }
}

/// A sale with the fee it was charged: its installment lines taken together (a 12× sale is one fee, not
/// twelve), the gross and fee summed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargedFee {
    pub merchant_code: String,
    pub acquirer: String,
    pub brand: String,
    pub product: String,
    /// Installments of the sale (1 for a sale paid at once).
    pub installments: i32,
    /// How many statement lines were summed (each rounded to the centavo by the acquirer).
    pub lines: i64,
    pub date: NaiveDate,
    pub sale_code: String,
    pub nsu: String,
    pub authorization_code: String,
    pub gross: Decimal,
    /// The fee as a positive amount.
    pub fee: Decimal,
    /// The sale's first line.
    pub source: SourceLine,
}

/// Audits fees one sale at a time against the contracts (held in memory: a contract is a few
/// hundred rates at most), so the lines can stream through in any number.
pub struct Auditor<'a> {
    by_merchant: std::collections::HashMap<(&'a str, &'a str), Vec<&'a ContractRate>>,
    settings: &'a Settings,
}

impl<'a> Auditor<'a> {
    pub fn new(rates: &'a [ContractRate], settings: &'a Settings) -> Auditor<'a> {
        let mut by_merchant: std::collections::HashMap<(&str, &str), Vec<&ContractRate>> = Default::default();
        for r in rates {
            by_merchant.entry((&r.merchant_code, &r.acquirer)).or_default().push(r);
        }
        Auditor { by_merchant, settings }
    }

    /// The fee item of one sale: `ok`, `overcharged`, `undercharged` (beyond the amount tolerance for each
    /// line summed — each was rounded on its own — the difference being the amount at stake) or
    /// `no_contract` when no contracted rate applies.
    pub fn audit(&self, t: &ChargedFee) -> ReconItem {
        let candidates = self.by_merchant.get(&(t.merchant_code.as_str(), t.acquirer.as_str()));
        let rate = candidates.into_iter().flatten().filter(|r| r.applies(t)).max_by_key(|r| r.specificity());
        let (status, expected, reason) = match rate {
            None => (
                Status::NoContract,
                None,
                format!(
                    "no contracted rate for brand {} product {} in {} installment(s) on {}",
                    t.brand,
                    t.product,
                    t.installments.max(1),
                    t.date
                ),
            ),
            Some(r) => {
                let expected = round2(t.gross * r.rate / Decimal::ONE_HUNDRED) + r.fixed_fee;
                let difference = t.fee - expected;
                let charged_rate = if t.gross.is_zero() {
                    Decimal::ZERO
                } else {
                    (t.fee / t.gross * Decimal::ONE_HUNDRED).round_dp(2)
                };
                let tolerance =
                    self.settings.amount_tolerance.checked_mul(Decimal::from(t.lines.max(1))).unwrap_or(Decimal::MAX);
                let status = if difference > tolerance {
                    Status::Overcharged
                } else if -difference > tolerance {
                    Status::Undercharged
                } else {
                    Status::Ok
                };
                let lines = if t.lines > 1 { format!(", {} installment lines", t.lines) } else { String::new() };
                let fixed = if r.fixed_fee.is_zero() { String::new() } else { format!(" + {}", brl(r.fixed_fee)) };
                let reason = format!(
                    "fee {} ({}% of {}{lines}) against {} at the contracted {}%{fixed}",
                    brl(t.fee),
                    charged_rate,
                    brl(t.gross),
                    brl(expected),
                    r.rate.normalize()
                );
                (status, Some(expected), reason)
            }
        };
        ReconItem {
            area: Area::Fees,
            status,
            merchant_code: t.merchant_code.clone(),
            acquirer: t.acquirer.clone(),
            ref_date: t.date,
            sale_code: t.sale_code.clone(),
            nsu: t.nsu.clone(),
            authorization_code: t.authorization_code.clone(),
            installment: 0,
            brand: t.brand.clone(),
            product: t.product.clone(),
            expected,
            actual: Some(t.fee),
            difference: expected.map(|e| t.fee - e),
            days_late: None,
            fields: Vec::new(),
            reason,
            expected_ref: None,
            actual_ref: Some(t.source),
        }
    }
}

/// Audit every transaction (see [`Auditor::audit`]), in [`super::item_order`].
pub fn audit(charged: &[ChargedFee], rates: &[ContractRate], settings: &Settings) -> Vec<ReconItem> {
    let auditor = Auditor::new(rates, settings);
    let mut items: Vec<ReconItem> = charged.iter().map(|t| auditor.audit(t)).collect();
    items.sort_by(super::item_order);
    items
}

/// A problem in a rates file: line (1-based, header = 1), column name, reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateIssue {
    pub line: u64,
    pub column: String,
    pub reason: String,
}

impl std::fmt::Display for RateIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.column, self.reason)
    }
}

/// The columns of a rates CSV (header required, comma- or semicolon-separated, any order):
/// `merchant_code,acquirer,brand,product,installments_from,installments_to,rate_percent,valid_from,valid_to`,
/// and optionally `fixed_fee` (reais per sale; absent or empty is none). `valid_to` may be left out.
pub const RATE_COLUMNS: [&str; 10] = [
    "merchant_code",
    "acquirer",
    "brand",
    "product",
    "installments_from",
    "installments_to",
    "rate_percent",
    "valid_from",
    "valid_to",
    "fixed_fee",
];

/// Read contracted rates. Every bad value is reported (none is guessed); rates accept `2.49` or `2,49`;
/// dates are ISO (`2026-01-31`) or Brazilian (`31/01/2026`); an empty `valid_to` is open-ended.
pub fn read_rates(input: impl std::io::Read) -> Result<Vec<ContractRate>, Vec<RateIssue>> {
    let mut data = String::new();
    let mut input = input;
    if let Err(e) = input.read_to_string(&mut data) {
        return Err(vec![RateIssue { line: 0, column: String::new(), reason: format!("not UTF-8 text: {e}") }]);
    }
    let first = data.lines().next().unwrap_or_default();
    let delimiter = if first.matches(';').count() > first.matches(',').count() { b';' } else { b',' };
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).trim(csv::Trim::All).from_reader(data.as_bytes());
    let mut issues = Vec::new();
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|s| s.to_ascii_lowercase()).collect(),
        Err(e) => return Err(vec![RateIssue { line: 1, column: String::new(), reason: e.to_string() }]),
    };
    let mut position = std::collections::HashMap::new();
    for c in RATE_COLUMNS {
        match headers.iter().position(|h| h == c) {
            Some(i) => {
                position.insert(c, i);
            }
            None if c == "valid_to" || c == "fixed_fee" => {}
            None => issues.push(RateIssue { line: 1, column: c.into(), reason: "missing column".into() }),
        }
    }
    if !issues.is_empty() {
        return Err(issues);
    }
    let mut rates = Vec::new();
    let mut lines = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n as u64 + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                issues.push(RateIssue { line, column: String::new(), reason: e.to_string() });
                continue;
            }
        };
        let get = |c: &str| position.get(c).and_then(|&i| record.get(i)).unwrap_or("").to_string();
        let mut bad = |column: &str, reason: String| issues.push(RateIssue { line, column: column.into(), reason });
        let text = |c: &str, bad: &mut dyn FnMut(&str, String)| {
            let v = get(c);
            if v.is_empty() {
                bad(c, "empty".into());
            }
            v
        };
        let merchant_code = text("merchant_code", &mut bad);
        let acquirer = text("acquirer", &mut bad).to_ascii_lowercase();
        let brand = text("brand", &mut bad);
        let product = text("product", &mut bad);
        let int = |c: &str, bad: &mut dyn FnMut(&str, String)| match get(c).parse::<i32>() {
            Ok(n) if (1..=99).contains(&n) => n,
            _ => {
                bad(c, format!("{:?} is not a number of installments (1 to 99)", get(c)));
                0
            }
        };
        let installments_from = int("installments_from", &mut bad);
        let installments_to = int("installments_to", &mut bad);
        if installments_from > installments_to && installments_to > 0 {
            bad("installments_to", format!("{installments_to} is below installments_from {installments_from}"));
        }
        // A plain decimal (a comma or a point, an optional %), at most 4 places as stored: "1e1" is not 10 %,
        // and 2.123456789 is refused rather than rounded.
        let raw_rate = get("rate_percent").replace(',', ".");
        let plain = raw_rate.trim_end_matches('%').trim().to_string();
        let well_formed = !plain.is_empty()
            && plain.chars().all(|c| c.is_ascii_digit() || c == '.')
            && plain.matches('.').count() <= 1
            && plain.chars().any(|c| c.is_ascii_digit());
        let rate = match Decimal::from_str(&plain) {
            Ok(r) if well_formed && r.scale() > 4 => {
                bad(
                    "rate_percent",
                    format!("{:?} has more than 4 decimal places (the contract keeps 4)", get("rate_percent")),
                );
                Decimal::ZERO
            }
            Ok(r) if well_formed && r >= Decimal::ZERO && r < Decimal::ONE_HUNDRED => r,
            _ => {
                bad("rate_percent", format!("{:?} is not a percentage (e.g. 2.49)", get("rate_percent")));
                Decimal::ZERO
            }
        };
        // Reais per sale, 2 places at most: `0.40`, `0,40`, `R$ 0,40`.
        let raw_fixed = get("fixed_fee");
        let plain_fixed = raw_fixed.trim_start_matches("R$").trim().replace(',', ".");
        let fixed_fee = if plain_fixed.is_empty() {
            Decimal::ZERO
        } else {
            match Decimal::from_str(&plain_fixed) {
                Ok(v)
                    if plain_fixed.chars().all(|c| c.is_ascii_digit() || c == '.')
                        && v.scale() <= 2
                        && v < Decimal::ONE_HUNDRED =>
                {
                    v
                }
                _ => {
                    bad("fixed_fee", format!("{raw_fixed:?} is not a fee in reais per sale (e.g. 0.40)"));
                    Decimal::ZERO
                }
            }
        };
        let date = |c: &str, v: &str| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d").or_else(|_| NaiveDate::parse_from_str(v, "%d/%m/%Y")).map_err(
                |_| RateIssue {
                    line,
                    column: c.into(),
                    reason: format!("{v:?} is not a date (2026-01-31 or 31/01/2026)"),
                },
            )
        };
        let valid_from = match date("valid_from", &get("valid_from")) {
            Ok(d) => Some(d),
            Err(i) => {
                issues.push(i);
                None
            }
        };
        let to = get("valid_to");
        let valid_to = if to.is_empty() {
            Some(None)
        } else {
            match date("valid_to", &to) {
                Ok(d) => Some(Some(d)),
                Err(i) => {
                    issues.push(i);
                    None
                }
            }
        };
        if let (Some(from), Some(Some(to))) = (valid_from, valid_to) {
            if to < from {
                issues.push(RateIssue {
                    line,
                    column: "valid_to".into(),
                    reason: format!("{to} is before valid_from {from}"),
                });
            }
        }
        if let (Some(valid_from), Some(valid_to)) = (valid_from, valid_to) {
            lines.push(line);
            rates.push(ContractRate {
                merchant_code,
                acquirer,
                brand,
                product,
                installments_from,
                installments_to,
                rate,
                fixed_fee,
                valid_from,
                valid_to,
            });
        }
    }
    if issues.is_empty() {
        issues.extend(conflicts(&rates, &lines));
    }
    if issues.is_empty() {
        // The same row twice (same terms, same rate) says nothing new: kept once.
        let mut seen = std::collections::HashSet::new();
        rates.retain(|r| seen.insert(r.clone()));
        Ok(rates)
    } else {
        Err(issues)
    }
}

/// Rows that would decide a fee by their order in the file: two rates for the same merchant, acquirer, brand
/// and product whose installment ranges and validity periods overlap, neither more specific than the other
/// (the more specific rate wins; between equals nothing can decide), unless they say the same thing.
fn conflicts(rates: &[ContractRate], lines: &[u64]) -> Vec<RateIssue> {
    let mut groups: std::collections::HashMap<(&str, &str, &str, &str), Vec<usize>> = Default::default();
    for (i, r) in rates.iter().enumerate() {
        groups.entry((&r.merchant_code, &r.acquirer, &r.brand, &r.product)).or_default().push(i);
    }
    let mut issues = Vec::new();
    let overlap = |a: &ContractRate, b: &ContractRate| {
        let ranges = a.installments_from <= b.installments_to && b.installments_from <= a.installments_to;
        let ends_after = |r: &ContractRate, start: NaiveDate| r.valid_to.is_none_or(|to| to >= start);
        ranges && ends_after(a, b.valid_from) && ends_after(b, a.valid_from)
    };
    let mut keys: Vec<_> = groups.keys().copied().collect();
    keys.sort();
    for key in keys {
        let members = &groups[&key];
        for (x, &i) in members.iter().enumerate() {
            for &j in &members[x + 1..] {
                let (a, b) = (&rates[i], &rates[j]);
                if a == b || !overlap(a, b) || a.specificity() != b.specificity() {
                    continue;
                }
                let same_terms = (a.installments_from, a.installments_to, a.valid_from, a.valid_to)
                    == (b.installments_from, b.installments_to, b.valid_from, b.valid_to);
                let what =
                    if same_terms {
                        format!(
                            "the same terms as line {} with another rate ({} % there, {} % here)",
                            lines[i], a.rate, b.rate
                        )
                    } else {
                        format!(
                        "overlaps line {} (installments {}-{} from {} there, {}-{} from {} here) and neither is more \
                         specific: which rate applies would depend on the order of the rows",
                        lines[i], a.installments_from, a.installments_to, a.valid_from, b.installments_from,
                        b.installments_to, b.valid_from
                    )
                    };
                issues.push(RateIssue { line: lines[j], column: "rate_percent".into(), reason: what });
            }
        }
    }
    issues
}

/// What rates can be written in, per acquirer (read from the reference tables): the codes and names of
/// brands and products, their aliases, the merchants known and the digits of a merchant's code.
#[derive(Debug, Clone, Default)]
pub struct RateVocabulary {
    pub acquirers: Vec<AcquirerVocabulary>,
}

#[derive(Debug, Clone, Default)]
pub struct AcquirerVocabulary {
    pub code: String,
    /// Digits of a merchant's code at this acquirer (Cielo's EC: 10), when known.
    pub merchant_code_digits: Option<usize>,
    /// (code, name); empty when the acquirer's table is not known (anything is then taken as typed).
    pub brands: Vec<(String, String)>,
    pub products: Vec<(String, String)>,
    /// (kind `brand`/`product`, alias, code).
    pub aliases: Vec<(String, String, String)>,
    pub merchants: Vec<String>,
}

/// How people's spelling is compared: lower case, no accents, single spaces.
fn spelled(s: &str) -> String {
    let plain: String = s
        .chars()
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ã' | 'ä' | 'Á' | 'À' | 'Â' | 'Ã' | 'Ä' => 'a',
            'é' | 'ê' | 'è' | 'ë' | 'É' | 'Ê' | 'È' | 'Ë' => 'e',
            'í' | 'î' | 'ì' | 'ï' | 'Í' | 'Î' | 'Ì' | 'Ï' => 'i',
            'ó' | 'ô' | 'õ' | 'ò' | 'ö' | 'Ó' | 'Ô' | 'Õ' | 'Ò' | 'Ö' => 'o',
            'ú' | 'û' | 'ù' | 'ü' | 'Ú' | 'Û' | 'Ù' | 'Ü' => 'u',
            'ç' | 'Ç' => 'c',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    plain.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A code whose leading zeros a spreadsheet removed: `typed` is all digits, not a code, and padded with zeros
/// it is one of `codes`.
fn lost_zeros<'a>(typed: &str, codes: impl IntoIterator<Item = &'a String>) -> Option<&'a String> {
    if typed.is_empty() || !typed.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    codes.into_iter().find(|c| c.len() > typed.len() && c.trim_start_matches('0') == typed.trim_start_matches('0'))
}

/// "001 Visa, 002 Mastercard, …" (the first `max`, then how many more).
fn choices(list: &[&(String, String)], max: usize) -> String {
    let mut out: Vec<String> = list.iter().take(max).map(|(c, n)| format!("{c} {n}")).collect();
    if list.len() > max {
        out.push(format!("and {} more", list.len() - max));
    }
    out.join(", ")
}

/// Resolve rates as people write them — brand and product by code, name or alias, merchant codes checked for
/// lost leading zeros — into codes the facts carry. Every row that matches nothing is an issue naming the
/// valid choices; nothing is guessed. Rates are in file order, the first on line 2.
pub fn resolve_rates(
    rates: Vec<ContractRate>,
    vocabulary: &RateVocabulary,
) -> Result<Vec<ContractRate>, Vec<RateIssue>> {
    let mut issues = Vec::new();
    let mut out = Vec::with_capacity(rates.len());
    for (n, mut r) in rates.into_iter().enumerate() {
        let line = n as u64 + 2;
        let mut bad = |column: &str, reason: String| issues.push(RateIssue { line, column: column.into(), reason });
        let Some(v) = vocabulary.acquirers.iter().find(|a| a.code == r.acquirer) else {
            let known: Vec<&str> = vocabulary.acquirers.iter().map(|a| a.code.as_str()).collect();
            bad("acquirer", format!("{:?} is not an acquirer; valid: {}", r.acquirer, known.join(", ")));
            continue;
        };
        // Merchant: a code that lost its leading zeros is refused, naming the code it was.
        if !v.merchants.contains(&r.merchant_code) {
            if let Some(known) = lost_zeros(&r.merchant_code, &v.merchants) {
                bad(
                    "merchant_code",
                    format!(
                        "{:?} is not a known establishment, {known} is: its leading zeros were lost (a spreadsheet?); \
                         write it as text",
                        r.merchant_code
                    ),
                );
            } else if let Some(digits) = v
                .merchant_code_digits
                .filter(|&d| r.merchant_code.len() < d && r.merchant_code.bytes().all(|b| b.is_ascii_digit()))
            {
                bad(
                    "merchant_code",
                    format!(
                        "{:?} has {} digits, a {} merchant code has {digits}: its leading zeros were lost (a \
                         spreadsheet?); write it as text",
                        r.merchant_code,
                        r.merchant_code.len(),
                        v.code
                    ),
                );
            }
        }
        let alias = |kind: &str, typed: &str| {
            v.aliases.iter().find(|(k, a, _)| k == kind && spelled(a) == spelled(typed)).map(|(_, _, c)| c.clone())
        };
        // Brand: a code, a name or an alias; `*` is any.
        let mut brand_name = None;
        let mut brand_refused = false;
        if r.brand != "*" && !v.brands.is_empty() {
            let found = v
                .brands
                .iter()
                .find(|(c, _)| *c == r.brand)
                .or_else(|| v.brands.iter().find(|(_, name)| spelled(name) == spelled(&r.brand)))
                .map(|(c, _)| c.clone())
                .or_else(|| alias("brand", &r.brand));
            match found {
                Some(code) => {
                    brand_name = v.brands.iter().find(|(c, _)| *c == code).map(|(_, n)| n.clone());
                    r.brand = code;
                }
                None => {
                    let codes: Vec<&String> = v.brands.iter().map(|(c, _)| c).collect();
                    let hint = lost_zeros(&r.brand, codes)
                        .map(|c| format!(" ({c} is: its leading zeros were lost?)"))
                        .unwrap_or_default();
                    let all: Vec<&(String, String)> = v.brands.iter().collect();
                    brand_refused = true;
                    bad(
                        "brand",
                        format!(
                            "{:?} is no {} brand{hint}; valid: {} (a code, a name, or * for any)",
                            r.brand,
                            v.code,
                            choices(&all, 40)
                        ),
                    );
                }
            }
        }
        // Product: a code, a name, the brand's name and the product ("Visa" + "Crédito à vista"), or an alias.
        // (Not checked under a brand refused: its choices depend on the brand.)
        if r.product != "*" && !v.products.is_empty() && !brand_refused {
            let typed = spelled(&r.product);
            let qualified = brand_name.as_deref().map(|b| spelled(&format!("{b} {}", r.product)));
            let mut found: Vec<String> = Vec::new();
            if let Some((c, _)) = v.products.iter().find(|(c, _)| *c == r.product) {
                found.push(c.clone());
            } else {
                for (c, name) in &v.products {
                    let name = spelled(name);
                    let same = |q: &str| name == q || name == format!("{q} a vista");
                    if (same(&typed) || qualified.as_deref().is_some_and(same)) && !found.contains(c) {
                        found.push(c.clone());
                    }
                }
                if found.is_empty() {
                    found.extend(
                        alias("product", &r.product).or_else(|| {
                            brand_name.as_ref().and_then(|b| alias("product", &format!("{b} {}", r.product)))
                        }),
                    );
                }
            }
            match found.as_slice() {
                [code] => r.product = code.clone(),
                [] | [_, _, ..] => {
                    let of_brand: Vec<&(String, String)> = match &brand_name {
                        Some(b) => v.products.iter().filter(|(_, n)| spelled(n).starts_with(&spelled(b))).collect(),
                        None => v.products.iter().collect(),
                    };
                    let codes: Vec<&String> = v.products.iter().map(|(c, _)| c).collect();
                    let hint = lost_zeros(&r.product, codes)
                        .map(|c| format!(" ({c} is: its leading zeros were lost?)"))
                        .unwrap_or_default();
                    let what = if found.is_empty() { "matches no product" } else { "matches several products" };
                    bad(
                        "product",
                        format!(
                            "{:?} {what}{}{hint}; valid: {} (a code, a name, or * for any)",
                            r.product,
                            brand_name.as_deref().map(|b| format!(" of {b}")).unwrap_or_default(),
                            choices(&of_brand, 25)
                        ),
                    );
                }
            }
        }
        out.push(r);
    }
    if issues.is_empty() {
        Ok(out)
    } else {
        Err(issues)
    }
}

#[cfg(test)]
mod tests {

    fn vocabulary() -> RateVocabulary {
        let pairs = |v: &[(&str, &str)]| v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>();
        RateVocabulary {
            acquirers: vec![AcquirerVocabulary {
                code: "cielo".into(),
                merchant_code_digits: Some(10),
                brands: pairs(&[("001", "Visa"), ("007", "Elo")]),
                products: pairs(&[
                    ("040", "Visa crédito à vista"),
                    ("043", "Visa parcelado loja"),
                    ("071", "Elo débito à vista"),
                    ("900", "Crédito à vista"),
                    ("901", "crédito a vista"),
                ]),
                aliases: vec![("product".into(), "Visa débito".into(), "041".into())],
                merchants: vec!["0012345678".into()],
            }],
        }
    }

    fn typed(merchant: &str, brand: &str, product: &str) -> ContractRate {
        ContractRate {
            merchant_code: merchant.into(),
            acquirer: "cielo".into(),
            brand: brand.into(),
            product: product.into(),
            installments_from: 1,
            installments_to: 1,
            rate: Decimal::ONE,
            fixed_fee: Decimal::ZERO,
            valid_from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            valid_to: None,
        }
    }

    #[test]
    fn rates_are_resolved_as_people_write_them_and_nothing_is_guessed() {
        let v = vocabulary();
        let ok = resolve_rates(
            vec![
                typed("0012345678", "VISA", "parcelado LOJA"),
                typed("0012345678", "elo", "Débito"),
                typed("0012345678", "Visa", "débito"),
                typed("9999999999", "001", "040"),
            ],
            &v,
        )
        .unwrap();
        let codes: Vec<(&str, &str)> = ok.iter().map(|r| (r.brand.as_str(), r.product.as_str())).collect();
        assert_eq!(codes, [("001", "043"), ("007", "071"), ("001", "041"), ("001", "040")]);
        let issues = resolve_rates(
            vec![
                typed("12345678", "Visa", "*"),
                typed("7654321", "Visa", "*"),
                typed("0012345678", "1", "*"),
                typed("0012345678", "*", "Crédito à vista"),
                typed("0012345678", "*", "71"),
            ],
            &v,
        )
        .unwrap_err();
        let said: Vec<String> = issues.iter().map(|i| i.to_string()).collect();
        assert!(
            said[0]
                .starts_with("line 2, column merchant_code: \"12345678\" is not a known establishment, 0012345678 is"),
            "{said:?}"
        );
        assert!(said[1].contains("has 7 digits, a cielo merchant code has 10"), "{said:?}");
        assert!(said[2].contains("\"1\" is no cielo brand (001 is: its leading zeros were lost?)"), "{said:?}");
        assert!(said[3].contains("matches several products"), "two products spelled alike: {said:?}");
        assert!(said[4].contains("(071 is: its leading zeros were lost?)"), "{said:?}");
        assert_eq!(said.len(), 5);
    }

    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn fee(brand: &str, n: i32, gross: i64, fee: i64) -> ChargedFee {
        ChargedFee {
            merchant_code: "0012345678".into(),
            acquirer: "cielo".into(),
            brand: brand.into(),
            product: "043".into(),
            installments: n,
            lines: 1,
            date: d("2026-09-10"),
            sale_code: format!("{brand}-{n}-{gross}"),
            nsu: "000001".into(),
            authorization_code: "000002".into(),
            gross: Decimal::new(gross, 2),
            fee: Decimal::new(fee, 2),
            source: (1, gross),
        }
    }

    #[test]
    fn the_most_specific_contracted_rate_applies() {
        let csv =
            "merchant_code;acquirer;brand;product;installments_from;installments_to;rate_percent;valid_from;valid_to\n\
                   0012345678;Cielo;*;*;1;12;3,00;2026-01-01;\n\
                   0012345678;cielo;001;*;2;6;2,89;01/01/2026;\n\
                   0012345678;cielo;001;*;1;1;2.48%;2026-01-01;2026-12-31\n";
        let rates = read_rates(csv.as_bytes()).unwrap();
        assert_eq!(rates.len(), 3);
        assert_eq!(rates[0].acquirer, "cielo");
        assert_eq!(rates[1].rate, Decimal::new(289, 2));
        let settings = Settings::new(d("2026-10-01"));
        let items = audit(
            &[
                fee("001", 1, 10000, 248), // 2.48 % of 100.00: ok
                fee("001", 3, 10000, 319), // 2.89 % expected 2.89: over by 0.30
                fee("002", 3, 10000, 300), // brand without its own rate: 3 %: ok
                fee("001", 3, 10000, 288), // 0.01 under: rounding, ok
                fee("001", 3, 10000, 250), // under by 0.39
            ],
            &rates,
            &settings,
        );
        let got: Vec<(&str, Option<Decimal>)> = items.iter().map(|i| (i.status.as_str(), i.difference)).collect();
        assert_eq!(
            got,
            [
                ("ok", Some(Decimal::ZERO)),
                ("overcharged", Some(Decimal::new(30, 2))),
                ("ok", Some(Decimal::new(-1, 2))),
                ("undercharged", Some(Decimal::new(-39, 2))),
                ("ok", Some(Decimal::ZERO)),
            ]
        );
        assert_eq!(items[1].reason, "fee R$ 3,19 (3.19% of R$ 100,00) against R$ 2,89 at the contracted 2.89%");
        // Outside any validity: no contract.
        let mut late = fee("001", 1, 10000, 248);
        late.date = d("2027-02-01");
        assert_eq!(audit(&[late], &rates[2..], &settings)[0].status, Status::NoContract);
        // A 6× sale is one item: 6 lines each rounded on their own may be a centavo off each, no more.
        let mut six = fee("001", 6, 60000, 1740); // 2.89 % of 600.00 = 17.34: 0.06 over in 6 lines
        six.lines = 6;
        let item = &audit(std::slice::from_ref(&six), &rates, &settings)[0];
        assert_eq!((item.status, item.installment, item.difference), (Status::Ok, 0, Some(Decimal::new(6, 2))));
        assert_eq!(
            item.reason,
            "fee R$ 17,40 (2.90% of R$ 600,00, 6 installment lines) against R$ 17,34 at the contracted 2.89%"
        );
        six.fee = Decimal::new(1741, 2);
        assert_eq!(audit(&[six], &rates, &settings)[0].status, Status::Overcharged);
    }

    /// A fixed fee per sale beside the rate (PagBank's tariff): read as people write it, added once to the
    /// fee expected of a sale whatever its installment lines, and a bad one named.
    #[test]
    fn a_fixed_fee_per_sale_is_part_of_the_expected_fee() {
        let csv =
            "merchant_code;acquirer;brand;product;installments_from;installments_to;rate_percent;valid_from;fixed_fee\n\
                   0012345678;cielo;001;*;1;1;3,19;2026-01-01;R$ 0,40\n\
                   0012345678;cielo;001;*;2;3;4.19;2026-01-01;0.40\n\
                   0012345678;cielo;002;*;1;12;2;2026-01-01;\n";
        let rates = read_rates(csv.as_bytes()).unwrap();
        let fixed: Vec<Decimal> = rates.iter().map(|r| r.fixed_fee).collect();
        assert_eq!(fixed, [Decimal::new(40, 2), Decimal::new(40, 2), Decimal::ZERO]);
        let settings = Settings::new(d("2026-10-01"));
        let mut three = fee("001", 3, 80794, 4233); // 4.19 % of 807.94 = 33.85, + 0.40 = 34.25
        three.lines = 3;
        let items = audit(&[fee("001", 1, 110510, 3565), three, fee("002", 1, 10000, 200)], &rates, &settings);
        let got: Vec<(&str, Option<Decimal>)> = items.iter().map(|i| (i.status.as_str(), i.expected)).collect();
        assert_eq!(
            got,
            [
                ("ok", Some(Decimal::new(3565, 2))), // 3.19 % of 1 105.10 = 35.25, + 0.40
                ("overcharged", Some(Decimal::new(3425, 2))),
                ("ok", Some(Decimal::new(200, 2))),
            ]
        );
        assert!(items[0].reason.ends_with("at the contracted 3.19% + R$ 0,40"), "{}", items[0].reason);
        let bad = "merchant_code,acquirer,brand,product,installments_from,installments_to,rate_percent,valid_from,fixed_fee\n\
                   0001,cielo,001,*,1,1,2,2026-01-01,0.405\n";
        let shown: Vec<String> = read_rates(bad.as_bytes()).unwrap_err().iter().map(|i| i.to_string()).collect();
        assert_eq!(shown, ["line 2, column fixed_fee: \"0.405\" is not a fee in reais per sale (e.g. 0.40)"]);
    }

    #[test]
    fn every_bad_rate_value_is_named() {
        let csv =
            "merchant_code,acquirer,brand,product,installments_from,installments_to,rate_percent,valid_from,valid_to\n\
                   0001,cielo,001,*,1,12,abc,2026-02-30,\n\
                   0001,cielo,001,*,6,2,2.5,2026-01-01,2025-01-01\n";
        let issues = read_rates(csv.as_bytes()).unwrap_err();
        let shown: Vec<String> = issues.iter().map(|i| i.to_string()).collect();
        assert_eq!(
            shown,
            [
                "line 2, column rate_percent: \"abc\" is not a percentage (e.g. 2.49)",
                "line 2, column valid_from: \"2026-02-30\" is not a date (2026-01-31 or 31/01/2026)",
                "line 3, column installments_to: 2 is below installments_from 6",
                "line 3, column valid_to: 2025-01-01 is before valid_from 2026-01-01",
            ]
        );
        let missing = read_rates("merchant_code,acquirer\n".as_bytes()).unwrap_err();
        assert_eq!(missing[0].to_string(), "line 1, column brand: missing column");
    }

    /// A contract that could decide a fee by the order of its rows, or whose rate would be changed on the
    /// way in, is refused naming the rows (issue 14, item 9).
    #[test]
    fn conflicting_or_ambiguous_contract_rows_are_refused_naming_both() {
        let header =
            "merchant_code,acquirer,brand,product,installments_from,installments_to,rate_percent,valid_from,valid_to\n";
        let issues = |rows: &str| {
            read_rates(format!("{header}{rows}").as_bytes())
                .err()
                .unwrap_or_default()
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            issues("0001,cielo,001,*,1,1,2.48,2026-01-01,\n0001,cielo,001,*,1,1,2.52,2026-01-01,\n"),
            ["line 3, column rate_percent: the same terms as line 2 with another rate (2.48 % there, 2.52 % here)"]
        );
        let overlapping = issues("0001,cielo,001,*,1,6,2.9,2026-01-01,\n0001,cielo,001,*,4,9,3.1,2026-01-01,\n");
        assert_eq!(overlapping.len(), 1);
        assert!(overlapping[0].starts_with("line 3, column rate_percent: overlaps line 2"), "{overlapping:?}");
        assert_eq!(
            issues("0001,cielo,001,*,1,1,2.123456789,2026-01-01,\n0001,cielo,001,*,2,2,1e1,2026-01-01,\n"),
            [
                "line 2, column rate_percent: \"2.123456789\" has more than 4 decimal places (the contract keeps 4)",
                "line 3, column rate_percent: \"1e1\" is not a percentage (e.g. 2.49)"
            ]
        );
        // What is unambiguous loads: a more specific rate inside a general one, periods one after the other,
        // and the same row twice (kept once).
        let ok = format!(
            "{header}0001,cielo,001,*,1,12,3.0,2026-01-01,\n0001,cielo,001,043,1,12,2.5,2026-01-01,\n\
             0001,cielo,002,*,1,1,2.0,2026-01-01,2026-06-30\n0001,cielo,002,*,1,1,2.1,2026-07-01,\n\
             0001,cielo,002,*,1,1,2.1,2026-07-01,\n"
        );
        assert_eq!(read_rates(ok.as_bytes()).unwrap().len(), 4);
    }
}
