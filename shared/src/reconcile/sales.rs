//! Sales: the merchant's own sales (POS / ERP export) against the sales the acquirer captured. A sale is
//! matched by NSU + authorization code + date (within a window of days), else by amount + date + brand +
//! card's last digits; then its fields are compared.

use super::{brl, Area, ReconItem, Settings, SourceLine, Status};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

/// A sale in the merchant's books.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantSale {
    pub merchant_code: String,
    pub sale_id: String,
    pub date: NaiveDate,
    pub nsu: String,
    pub authorization_code: String,
    pub gross: Decimal,
    /// 1 for a sale paid at once.
    pub installments: i32,
    /// As the merchant writes it ("VISA", "Master"…); may be empty.
    pub brand: String,
    pub card_last_digits: String,
    /// "crédito", "debito", "C", "D"…; may be empty.
    pub payment_method: String,
    pub source: SourceLine,
}

/// A sale as the acquirer captured it (its installments taken together).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcquirerSale {
    pub merchant_code: String,
    pub acquirer: String,
    pub sale_code: String,
    pub date: NaiveDate,
    pub nsu: String,
    pub authorization_code: String,
    /// The sale's total.
    pub gross: Decimal,
    /// 1 for a sale paid at once.
    pub installments: i32,
    /// The acquirer's brand code and its name ("001", "Visa").
    pub brand: String,
    pub brand_name: String,
    pub product: String,
    /// "credit" or "debit" when the settlement type says; else empty.
    pub settlement: String,
    pub card_last_digits: String,
    pub source: SourceLine,
}

/// Brand spellings seen in merchants' exports, and the brand they mean.
const BRAND_ALIASES: &[(&str, &str)] = &[
    ("MASTER", "MASTERCARD"),
    ("MC", "MASTERCARD"),
    ("MAESTRO", "MASTERCARD"),
    ("AMERICANEXPRESS", "AMEX"),
    ("HIPER", "HIPERCARD"),
    ("VISAELECTRON", "VISA"),
    ("ELECTRON", "VISA"),
    ("DINERSCLUB", "DINERS"),
    ("ELODEBITO", "ELO"),
    ("ELOCREDITO", "ELO"),
];

/// A character upper-cased with Portuguese accents and the cedilla dropped (`ã` → `A`, `ç` → `C`); other
/// non-ASCII characters as they are.
pub fn plain_upper(c: char) -> char {
    match c {
        'á' | 'à' | 'â' | 'ã' | 'Á' | 'À' | 'Â' | 'Ã' => 'A',
        'é' | 'ê' | 'É' | 'Ê' => 'E',
        'í' | 'Í' => 'I',
        'ó' | 'ô' | 'õ' | 'Ó' | 'Ô' | 'Õ' => 'O',
        'ú' | 'Ú' => 'U',
        'ç' | 'Ç' => 'C',
        c => c.to_ascii_uppercase(),
    }
}

/// A brand name reduced for comparison: upper case, letters and digits only, aliases resolved.
pub fn canonical_brand(name: &str) -> String {
    let s: String = name.chars().filter(|c| c.is_alphanumeric()).map(plain_upper).collect();
    BRAND_ALIASES.iter().find(|(alias, _)| *alias == s).map_or(s, |(_, brand)| brand.to_string())
}

/// "credit" / "debit" from a merchant's payment method, or empty when it does not say.
pub fn canonical_method(method: &str) -> &'static str {
    let m = canonical_brand(method);
    if m.starts_with("CRED") || m == "C" || m.starts_with("PARCEL") {
        "credit"
    } else if m.starts_with("DEB") || m == "D" {
        "debit"
    } else {
        ""
    }
}

/// Reconcile the merchant's sales with the acquirer's. Each merchant sale and each acquirer sale ends in
/// exactly one item: `matched`, `divergent` (with the fields that differ), `missing_at_acquirer`,
/// `missing_in_merchant` or `duplicate`. Deterministic for the same inputs; in [`super::item_order`].
pub fn reconcile(merchant: &[MerchantSale], acquirer: &[AcquirerSale], settings: &Settings) -> Vec<ReconItem> {
    let mut ours: Vec<&MerchantSale> = merchant.iter().collect();
    ours.sort_by(|a, b| merchant_order(a, b));
    let mut theirs: Vec<&AcquirerSale> = acquirer.iter().collect();
    theirs.sort_by(|a, b| acquirer_order(a, b));
    let mut items = Vec::new();
    let mut matcher = Matcher::new(settings);
    let mut theirs = theirs.into_iter().peekable();
    let mut out = |i| items.push(i);
    for m in ours {
        while let Some(a) = theirs.next_if(|a| matcher.needs_before(a, m)) {
            matcher.push(a.clone(), Some(m), &mut out);
        }
        matcher.match_sale(m, &mut out);
    }
    for a in theirs {
        matcher.push(a.clone(), None, &mut out);
    }
    matcher.finish(&mut out);
    items.sort_by(super::item_order);
    items
}

/// The order the merchant's sales are matched in: merchant, date, sale id, line.
pub fn merchant_order(a: &MerchantSale, b: &MerchantSale) -> std::cmp::Ordering {
    (&a.merchant_code, a.date, &a.sale_id, a.source).cmp(&(&b.merchant_code, b.date, &b.sale_id, b.source))
}

/// The order the acquirer's sales are offered in: merchant, date, sale code, line. Of two candidates equally
/// close in date, the first in this order is taken.
pub fn acquirer_order(a: &AcquirerSale, b: &AcquirerSale) -> std::cmp::Ordering {
    (&a.merchant_code, a.date, &a.sale_code, a.source).cmp(&(&b.merchant_code, b.date, &b.sale_code, b.source))
}

/// An amount in centavos (a bucket of the amount index).
fn cents(d: Decimal) -> i64 {
    use rust_decimal::prelude::ToPrimitive;
    d.checked_mul(Decimal::ONE_HUNDRED).and_then(|c| c.round().to_i64()).unwrap_or(i64::MAX)
}

fn known(s: &str) -> bool {
    !s.trim().is_empty()
}

/// What tells a sale captured twice: its amount, brand and card's last digits (on the same merchant and day).
type CaptureKey = (Decimal, String, String);

/// An acquirer sale waiting in the matcher's window.
struct Slot {
    sale: AcquirerSale,
    taken: bool,
}

/// Matches the merchant's sales against the acquirer's as both stream by in date order, holding only the
/// acquirer's sales a coming sale can still match (those within the date window of it): memory follows a
/// few days of one merchant's sales, not the period.
///
/// Feed it the acquirer's sales in [`acquirer_order`] and the merchant's in [`merchant_order`], pushing every
/// acquirer sale [`Matcher::needs_before`] a merchant sale before matching that sale, then the acquirer's
/// sales left; then [`Matcher::finish`]. A merchant sale is matched by NSU + authorization code + date (closest date first),
/// else by amount + date + brand + card's last digits; an acquirer sale left over once no merchant sale can
/// reach it is `missing_in_merchant`, or `duplicate` when it repeats a matched sale's day, amount, brand and
/// card.
pub struct Matcher<'s> {
    settings: &'s Settings,
    window: VecDeque<Slot>,
    /// The number of the window's first sale: sale `n` is `window[n - base]`.
    base: u64,
    /// Sale numbers, ascending, by merchant + NSU + authorization code and by merchant + amount in centavos.
    by_codes: HashMap<(String, String, String), VecDeque<u64>>,
    by_amount: HashMap<(String, i64), VecDeque<u64>>,
    /// The merchant and day of the last sale matched, and the books' sales matched on it (amount, and codes
    /// or card), to tell a sale in the books twice.
    day: Option<(String, NaiveDate)>,
    matched_ours: HashSet<(Decimal, String)>,
    /// Per merchant and day, the acquirer's sales matched (amount, brand, card), to tell one captured twice.
    matched_theirs: BTreeMap<(String, NaiveDate), HashSet<CaptureKey>>,
}

impl<'s> Matcher<'s> {
    pub fn new(settings: &'s Settings) -> Matcher<'s> {
        Matcher {
            settings,
            window: VecDeque::new(),
            base: 0,
            by_codes: HashMap::new(),
            by_amount: HashMap::new(),
            day: None,
            matched_ours: HashSet::new(),
            matched_theirs: BTreeMap::new(),
        }
    }

    fn days(&self) -> chrono::Duration {
        chrono::Duration::days(self.settings.sale_date_window_days.clamp(0, 1_000_000))
    }

    /// Whether acquirer sale `a` (the next in [`acquirer_order`]) must be pushed before merchant sale `m`
    /// is matched: it is of an earlier merchant, or of the same one up to the window after `m`'s date.
    pub fn needs_before(&self, a: &AcquirerSale, m: &MerchantSale) -> bool {
        let last = m.date.checked_add_signed(self.days()).unwrap_or(NaiveDate::MAX);
        (a.merchant_code.as_str(), a.date) <= (m.merchant_code.as_str(), last)
    }

    /// Offer the next acquirer sale, in [`acquirer_order`], saying which merchant sale comes next (`None`:
    /// no more). What neither that sale nor any later one can match is let go of first, with an item for
    /// each sale nobody matched — so a merchant with many sales and none in the books passes through
    /// without piling up.
    pub fn push(&mut self, a: AcquirerSale, next: Option<&MerchantSale>, out: &mut dyn FnMut(ReconItem)) {
        match next {
            Some(m) => self.retire(Some((&m.merchant_code, self.first_day(m))), out),
            None => self.retire(None, out),
        }
        let n = self.base + self.window.len() as u64;
        self.by_codes
            .entry((a.merchant_code.clone(), a.nsu.clone(), a.authorization_code.clone()))
            .or_default()
            .push_back(n);
        self.by_amount.entry((a.merchant_code.clone(), cents(a.gross))).or_default().push_back(n);
        self.window.push_back(Slot { sale: a, taken: false });
        if next.is_none() {
            // Nothing will match it; it cannot repeat a matched sale either (those were all pushed before).
            self.retire(None, out);
        }
    }

    /// The first day of acquirer sales `m` can be matched with.
    fn first_day(&self, m: &MerchantSale) -> NaiveDate {
        m.date.checked_sub_signed(self.days()).unwrap_or(NaiveDate::MIN)
    }

    /// Let go of the acquirer's sales before `bound` (merchant, date) — of all of them without one — giving
    /// an item for each nobody matched.
    fn retire(&mut self, bound: Option<(&str, NaiveDate)>, out: &mut dyn FnMut(ReconItem)) {
        while let Some(front) = self.window.front() {
            if bound.is_some_and(|b| (front.sale.merchant_code.as_str(), front.sale.date) >= b) {
                break;
            }
            let Slot { sale: a, taken } = self.window.pop_front().expect("a front");
            self.base += 1;
            let codes = (a.merchant_code.clone(), a.nsu.clone(), a.authorization_code.clone());
            if let Some(list) = self.by_codes.get_mut(&codes) {
                list.pop_front();
                if list.is_empty() {
                    self.by_codes.remove(&codes);
                }
            }
            let amount = (a.merchant_code.clone(), cents(a.gross));
            if let Some(list) = self.by_amount.get_mut(&amount) {
                list.pop_front();
                if list.is_empty() {
                    self.by_amount.remove(&amount);
                }
            }
            if !taken {
                out(self.left_over(&a));
            }
        }
        while let Some(day) = self.matched_theirs.first_entry() {
            if bound.is_some_and(|b| (day.key().0.as_str(), day.key().1) >= b) {
                break;
            }
            day.remove();
        }
    }

    /// The item of an acquirer sale no sale in the books matched.
    fn left_over(&self, a: &AcquirerSale) -> ReconItem {
        // Captured twice: the same amount, card and day as a sale already matched.
        let twin = self
            .matched_theirs
            .get(&(a.merchant_code.clone(), a.date))
            .is_some_and(|day| day.contains(&(a.gross, a.brand.clone(), a.card_last_digits.clone())));
        ReconItem {
            area: Area::Sales,
            status: if twin { Status::Duplicate } else { Status::MissingInMerchant },
            merchant_code: a.merchant_code.clone(),
            acquirer: a.acquirer.clone(),
            ref_date: a.date,
            sale_code: a.sale_code.clone(),
            nsu: a.nsu.clone(),
            authorization_code: a.authorization_code.clone(),
            installment: 0,
            brand: if a.brand_name.is_empty() { a.brand.clone() } else { a.brand_name.clone() },
            product: a.product.clone(),
            expected: None,
            actual: Some(a.gross),
            difference: None,
            days_late: None,
            fields: Vec::new(),
            reason: if twin {
                format!(
                    "{} sale {} of {} on {} (card …{}) repeats a sale already matched: captured twice",
                    a.acquirer,
                    a.sale_code,
                    brl(a.gross),
                    a.date,
                    a.card_last_digits
                )
            } else {
                format!(
                    "{} sale {} of {} on {} (NSU {}, authorization {}) is not in the merchant's books",
                    a.acquirer,
                    a.sale_code,
                    brl(a.gross),
                    a.date,
                    a.nsu,
                    a.authorization_code
                )
            },
            expected_ref: None,
            actual_ref: Some(a.source),
        }
    }

    /// Match the next sale of the merchant's books, in [`merchant_order`]: its item, after the items of the
    /// acquirer's sales nothing can match any more.
    pub fn match_sale(&mut self, m: &MerchantSale, out: &mut dyn FnMut(ReconItem)) {
        self.retire(Some((&m.merchant_code, self.first_day(m))), out);
        if self.day.as_ref().is_none_or(|(merchant, day)| *merchant != m.merchant_code || *day != m.date) {
            self.day = Some((m.merchant_code.clone(), m.date));
            self.matched_ours.clear();
        }
        let settings = self.settings;
        let window = settings.sale_date_window_days;
        let close = |a: &AcquirerSale| (a.date - m.date).num_days().abs() <= window;
        let slot = |n: u64| &self.window[(n - self.base) as usize];
        let distance = |n: u64| ((slot(n).sale.date - m.date).num_days().abs(), n);

        // 1. NSU + authorization code + date within the window (closest date first).
        let by_codes = (known(&m.nsu) && known(&m.authorization_code))
            .then(|| {
                self.by_codes
                    .get(&(m.merchant_code.clone(), m.nsu.clone(), m.authorization_code.clone()))
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|&n| !slot(n).taken && close(&slot(n).sale))
                    .min_by_key(|&n| distance(n))
            })
            .flatten();
        // 2. Amount + date + brand + last digits, within the tolerances.
        let fallback = |n: u64| {
            let Slot { sale: a, taken } = slot(n);
            !taken
                && a.merchant_code == m.merchant_code
                && close(a)
                && (a.gross - m.gross).abs() <= settings.amount_tolerance
                && (!known(&m.brand) || canonical_brand(&m.brand) == canonical_brand(&a.brand_name))
                && (!known(&m.card_last_digits)
                    || !known(&a.card_last_digits)
                    || a.card_last_digits.ends_with(m.card_last_digits.trim())
                    || m.card_last_digits.ends_with(a.card_last_digits.trim()))
        };
        let found = by_codes.or_else(|| {
            // Amount buckets within the tolerance (a tolerance beyond R$ 10 looks at the whole window).
            let tolerance = cents(settings.amount_tolerance);
            let candidates: Vec<u64> = if tolerance > 1000 {
                (self.base..self.base + self.window.len() as u64).collect()
            } else {
                let (c, spread) = (cents(m.gross), tolerance.max(0));
                (c.saturating_sub(spread)..=c.saturating_add(spread))
                    .flat_map(|k| self.by_amount.get(&(m.merchant_code.clone(), k)).into_iter().flatten().copied())
                    .collect()
            };
            candidates.into_iter().filter(|&n| fallback(n)).min_by_key(|&n| distance(n))
        });
        let base = |status: Status| ReconItem {
            area: Area::Sales,
            status,
            merchant_code: m.merchant_code.clone(),
            acquirer: String::new(),
            ref_date: m.date,
            sale_code: m.sale_id.clone(),
            nsu: m.nsu.clone(),
            authorization_code: m.authorization_code.clone(),
            installment: 0,
            brand: m.brand.clone(),
            product: m.payment_method.clone(),
            expected: Some(m.gross),
            actual: None,
            difference: None,
            days_late: None,
            fields: Vec::new(),
            reason: String::new(),
            expected_ref: Some(m.source),
            actual_ref: None,
        };
        let codes_key = format!("codes:{}/{}", m.nsu, m.authorization_code);
        let card_key = format!("card:{}", m.card_last_digits);
        let Some(n) = found else {
            // The same sale twice in the merchant's books? (same day and amount, and the same codes or card)
            let twin = (known(&m.nsu) && self.matched_ours.contains(&(m.gross, codes_key)))
                || (known(&m.card_last_digits) && self.matched_ours.contains(&(m.gross, card_key)));
            let mut item = base(if twin { Status::Duplicate } else { Status::MissingAtAcquirer });
            item.reason = if twin {
                format!("sale {} of {} on {} is in the merchant's books twice", m.sale_id, brl(m.gross), m.date)
            } else {
                format!(
                    "sale {} of {} on {} (NSU {}, authorization {}) was not captured by any acquirer",
                    m.sale_id,
                    brl(m.gross),
                    m.date,
                    if known(&m.nsu) { m.nsu.as_str() } else { "-" },
                    if known(&m.authorization_code) { m.authorization_code.as_str() } else { "-" }
                )
            };
            out(item);
            return;
        };
        let i = (n - self.base) as usize;
        self.window[i].taken = true;
        self.matched_ours.insert((m.gross, codes_key));
        self.matched_ours.insert((m.gross, card_key));
        let a = &self.window[i].sale;
        self.matched_theirs.entry((a.merchant_code.clone(), a.date)).or_default().insert((
            a.gross,
            a.brand.clone(),
            a.card_last_digits.clone(),
        ));
        let mut fields = Vec::new();
        let mut notes = Vec::new();
        if (a.gross - m.gross).abs() > settings.amount_tolerance {
            fields.push("gross".to_string());
            notes.push(format!("gross {} in the books, {} captured", brl(m.gross), brl(a.gross)));
        }
        if m.installments.max(1) != a.installments.max(1) {
            fields.push("installments".into());
            notes.push(format!(
                "{} installment(s) in the books, {} captured",
                m.installments.max(1),
                a.installments.max(1)
            ));
        }
        if known(&m.brand) && canonical_brand(&m.brand) != canonical_brand(&a.brand_name) {
            fields.push("brand".into());
            notes.push(format!("brand {} in the books, {} captured", m.brand, a.brand_name));
        }
        let method = canonical_method(&m.payment_method);
        if !method.is_empty() && !a.settlement.is_empty() && method != a.settlement {
            fields.push("product".into());
            notes.push(format!("{method} in the books, {} captured", a.settlement));
        }
        if a.date != m.date {
            fields.push("date".into());
            notes.push(format!("sold on {} in the books, captured on {}", m.date, a.date));
        }
        let mut item = base(if fields.is_empty() { Status::Matched } else { Status::Divergent });
        item.acquirer = a.acquirer.clone();
        item.sale_code = a.sale_code.clone();
        item.brand = if a.brand_name.is_empty() { a.brand.clone() } else { a.brand_name.clone() };
        item.product = a.product.clone();
        item.actual = Some(a.gross);
        item.difference = Some(a.gross - m.gross);
        item.days_late = Some((a.date - m.date).num_days() as i32);
        item.actual_ref = Some(a.source);
        item.reason = if fields.is_empty() {
            format!("sale {} matched {} sale {}", m.sale_id, a.acquirer, a.sale_code)
        } else {
            format!("sale {} / {} sale {}: {}", m.sale_id, a.acquirer, a.sale_code, notes.join("; "))
        };
        item.fields = fields;
        out(item);
    }

    /// No more sales: an item for every acquirer sale nobody matched.
    pub fn finish(&mut self, out: &mut dyn FnMut(ReconItem)) {
        self.retire(None, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn ours(id: &str, date: &str, nsu: &str, gross: i64, n: i32) -> MerchantSale {
        MerchantSale {
            merchant_code: "1".into(),
            sale_id: id.into(),
            date: d(date),
            nsu: nsu.into(),
            authorization_code: format!("A{nsu}"),
            gross: Decimal::new(gross, 2),
            installments: n,
            brand: "VISA".into(),
            card_last_digits: "1234".into(),
            payment_method: "Crédito".into(),
            source: (1, id.len() as i64),
        }
    }

    fn theirs(code: &str, date: &str, nsu: &str, gross: i64, n: i32) -> AcquirerSale {
        AcquirerSale {
            merchant_code: "1".into(),
            acquirer: "cielo".into(),
            sale_code: code.into(),
            date: d(date),
            nsu: nsu.into(),
            authorization_code: format!("A{nsu}"),
            gross: Decimal::new(gross, 2),
            installments: n,
            brand: "001".into(),
            brand_name: "Visa".into(),
            product: "043".into(),
            settlement: "credit".into(),
            card_last_digits: "1234".into(),
            source: (2, code.len() as i64),
        }
    }

    #[test]
    fn each_sale_gets_one_status() {
        let settings = Settings::new(d("2026-10-01"));
        let merchant = vec![
            ours("S1", "2026-09-01", "000001", 10000, 1), // matched
            ours("S2", "2026-09-01", "000002", 20000, 3), // captured as 2 installments, R$ 190
            ours("S3", "2026-09-01", "000003", 30000, 1), // never captured
            ours("S4", "2026-09-02", "", 4000, 1),        // no codes: matched by amount/date/brand/card
            ours("S5", "2026-09-02", "000005", 5000, 1),  // captured a day later
        ];
        let mut acquirer = vec![
            theirs("C1", "2026-09-01", "000001", 10000, 1),
            theirs("C2", "2026-09-01", "000002", 19000, 2),
            theirs("C4", "2026-09-02", "999999", 4000, 1),
            theirs("C5", "2026-09-03", "000005", 5000, 1),
            theirs("C6", "2026-09-04", "000006", 6000, 1), // not in the books
            theirs("C1B", "2026-09-01", "000007", 10000, 1), // C1 captured twice
        ];
        acquirer[4].card_last_digits = "9999".into();
        let items = reconcile(&merchant, &acquirer, &settings);
        let got: Vec<(&str, &str, Vec<String>)> =
            items.iter().map(|i| (i.sale_code.as_str(), i.status.as_str(), i.fields.clone())).collect();
        assert_eq!(
            got,
            [
                ("C1", "matched", vec![]),
                ("C1B", "duplicate", vec![]),
                ("C2", "divergent", vec!["gross".to_string(), "installments".to_string()]),
                ("S3", "missing_at_acquirer", vec![]),
                ("C4", "matched", vec![]),
                ("C5", "divergent", vec!["date".to_string()]),
                ("C6", "missing_in_merchant", vec![]),
            ]
        );
        assert_eq!(items[2].difference, Some(Decimal::new(-1000, 2)));
        assert_eq!(
            items[2].reason,
            "sale S2 / cielo sale C2: gross R$ 200,00 in the books, R$ 190,00 captured; 3 installment(s) in the books, 2 captured"
        );
        assert!(items[1].reason.contains("captured twice"), "{}", items[1].reason);
    }

    #[test]
    fn brands_and_methods_compare_by_meaning() {
        assert_eq!(canonical_brand("Master Card"), "MASTERCARD");
        assert_eq!(canonical_brand("master"), "MASTERCARD");
        assert_eq!(canonical_brand("American Express"), "AMEX");
        assert_eq!(canonical_brand("Elo Débito"), "ELO");
        assert_eq!(canonical_method("Débito"), "debit");
        assert_eq!(canonical_method("CREDITO A VISTA"), "credit");
        assert_eq!(canonical_method("pix"), "");
    }
}
