//! Sales: the merchant's own sales (POS / ERP export) against the sales the acquirer captured. A sale is
//! matched by NSU + authorization code + date (within a window of days), else by amount + date + brand +
//! card's last digits; then its fields are compared.

use super::{brl, Area, ReconItem, Settings, SourceLine, Status};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::{HashMap, HashSet};

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

/// A brand name reduced for comparison: upper case, letters and digits only, aliases resolved.
pub fn canonical_brand(name: &str) -> String {
    let s: String = name
        .chars()
        .filter(|c| c.is_alphanumeric())
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ã' | 'Á' | 'À' | 'Â' | 'Ã' => 'A',
            'é' | 'ê' | 'É' | 'Ê' => 'E',
            'í' | 'Í' => 'I',
            'ó' | 'ô' | 'õ' | 'Ó' | 'Ô' | 'Õ' => 'O',
            'ú' | 'Ú' => 'U',
            'ç' | 'Ç' => 'C',
            c => c.to_ascii_uppercase(),
        })
        .collect();
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
/// `missing_in_merchant` or `duplicate`. Deterministic for the same inputs.
pub fn reconcile(merchant: &[MerchantSale], acquirer: &[AcquirerSale], settings: &Settings) -> Vec<ReconItem> {
    let mut ours: Vec<&MerchantSale> = merchant.iter().collect();
    ours.sort_by(|a, b| {
        (&a.merchant_code, a.date, &a.sale_id, a.source).cmp(&(&b.merchant_code, b.date, &b.sale_id, b.source))
    });
    let mut theirs: Vec<&AcquirerSale> = acquirer.iter().collect();
    theirs.sort_by(|a, b| {
        (&a.merchant_code, a.date, &a.sale_code, a.source).cmp(&(&b.merchant_code, b.date, &b.sale_code, b.source))
    });
    let mut taken = vec![false; theirs.len()];
    let window = settings.sale_date_window_days;
    let close = |m: &MerchantSale, a: &AcquirerSale| (a.date - m.date).num_days().abs() <= window;
    let known = |s: &str| !s.trim().is_empty();

    // Indexes: by merchant + NSU + authorization code, and by merchant + amount in centavos.
    let cents = |d: Decimal| (d * Decimal::ONE_HUNDRED).round().to_string().parse::<i64>().unwrap_or(i64::MAX);
    let mut by_codes: HashMap<(&str, &str, &str), Vec<usize>> = HashMap::new();
    let mut by_amount: HashMap<(&str, i64), Vec<usize>> = HashMap::new();
    for (i, a) in theirs.iter().enumerate() {
        by_codes.entry((&a.merchant_code, &a.nsu, &a.authorization_code)).or_default().push(i);
        by_amount.entry((&a.merchant_code, cents(a.gross))).or_default().push(i);
    }
    // Amount buckets within the tolerance (a tolerance beyond R$ 10 scans everything of the merchant).
    let spread = cents(settings.amount_tolerance).clamp(0, 1000);
    let wide = cents(settings.amount_tolerance) > 1000;

    let mut items = Vec::new();
    let mut matched_ours: HashSet<(&str, NaiveDate, Decimal, String)> = HashSet::new();
    let mut matched_theirs: HashSet<(&str, NaiveDate, Decimal, &str, &str)> = HashSet::new();
    for m in &ours {
        // 1. NSU + authorization code + date within the window (closest date first).
        let by_codes = (known(&m.nsu) && known(&m.authorization_code))
            .then(|| {
                by_codes
                    .get(&(m.merchant_code.as_str(), m.nsu.as_str(), m.authorization_code.as_str()))
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|&i| !taken[i] && close(m, theirs[i]))
                    .min_by_key(|&i| ((theirs[i].date - m.date).num_days().abs(), i))
            })
            .flatten();
        // 2. Amount + date + brand + last digits, within the tolerances.
        let fallback = |i: usize| {
            let a = theirs[i];
            !taken[i]
                && a.merchant_code == m.merchant_code
                && close(m, a)
                && (a.gross - m.gross).abs() <= settings.amount_tolerance
                && (!known(&m.brand) || canonical_brand(&m.brand) == canonical_brand(&a.brand_name))
                && (!known(&m.card_last_digits)
                    || !known(&a.card_last_digits)
                    || a.card_last_digits.ends_with(m.card_last_digits.trim())
                    || m.card_last_digits.ends_with(a.card_last_digits.trim()))
        };
        let found = by_codes.or_else(|| {
            let candidates: Vec<usize> = if wide {
                (0..theirs.len()).collect()
            } else {
                let c = cents(m.gross);
                (c - spread..=c + spread)
                    .flat_map(|k| by_amount.get(&(m.merchant_code.as_str(), k)).into_iter().flatten().copied())
                    .collect()
            };
            candidates
                .into_iter()
                .filter(|&i| fallback(i))
                .min_by_key(|&i| ((theirs[i].date - m.date).num_days().abs(), i))
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
        let Some(i) = found else {
            // The same sale twice in the merchant's books? (same day and amount, and the same codes or card)
            let twin = (known(&m.nsu)
                && matched_ours.contains(&(
                    m.merchant_code.as_str(),
                    m.date,
                    m.gross,
                    format!("codes:{}/{}", m.nsu, m.authorization_code),
                )))
                || (known(&m.card_last_digits)
                    && matched_ours.contains(&(
                        m.merchant_code.as_str(),
                        m.date,
                        m.gross,
                        format!("card:{}", m.card_last_digits),
                    )));
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
            items.push(item);
            continue;
        };
        taken[i] = true;
        matched_ours.insert((&m.merchant_code, m.date, m.gross, format!("codes:{}/{}", m.nsu, m.authorization_code)));
        matched_ours.insert((&m.merchant_code, m.date, m.gross, format!("card:{}", m.card_last_digits)));
        let a = theirs[i];
        matched_theirs.insert((&a.merchant_code, a.date, a.gross, &a.brand, &a.card_last_digits));
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
        items.push(item);
    }

    for a in theirs.iter().enumerate().filter(|(i, _)| !taken[*i]).map(|(_, a)| a) {
        // Captured twice: the same amount, card and day as a sale already matched.
        let twin = matched_theirs.contains(&(
            a.merchant_code.as_str(),
            a.date,
            a.gross,
            a.brand.as_str(),
            a.card_last_digits.as_str(),
        ));
        items.push(ReconItem {
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
        });
    }
    items.sort_by(|a, b| {
        (&a.merchant_code, a.ref_date, &a.sale_code, a.expected_ref, a.actual_ref).cmp(&(
            &b.merchant_code,
            b.ref_date,
            &b.sale_code,
            b.expected_ref,
            b.actual_ref,
        ))
    });
    items
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
