//! Sales: the merchant's own sales (POS / ERP export) against the sales the acquirer captured. A sale is
//! matched by NSU + authorization code + date (within a window of days), else by amount + date + brand +
//! card's last digits; then its fields are compared.

use super::{brl, Area, ReconItem, Settings, SourceLine};
use chrono::NaiveDate;
use rust_decimal::Decimal;

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

    let mut items = Vec::new();
    let mut matched_ours: Vec<&MerchantSale> = Vec::new();
    let mut matched_theirs: Vec<usize> = Vec::new();
    for m in &ours {
        // 1. NSU + authorization code + date within the window (closest date first).
        let by_codes = (known(&m.nsu) && known(&m.authorization_code))
            .then(|| {
                (0..theirs.len())
                    .filter(|&i| !taken[i])
                    .filter(|&i| {
                        let a = theirs[i];
                        a.merchant_code == m.merchant_code
                            && a.nsu == m.nsu
                            && a.authorization_code == m.authorization_code
                            && close(m, a)
                    })
                    .min_by_key(|&i| ((theirs[i].date - m.date).num_days().abs(), i))
            })
            .flatten();
        // 2. Amount + date + brand + last digits, within the tolerances.
        let found = by_codes.or_else(|| {
            (0..theirs.len())
                .filter(|&i| !taken[i])
                .filter(|&i| {
                    let a = theirs[i];
                    a.merchant_code == m.merchant_code
                        && close(m, a)
                        && (a.gross - m.gross).abs() <= settings.amount_tolerance
                        && (!known(&m.brand) || canonical_brand(&m.brand) == canonical_brand(&a.brand_name))
                        && (!known(&m.card_last_digits)
                            || !known(&a.card_last_digits)
                            || a.card_last_digits.ends_with(m.card_last_digits.trim())
                            || m.card_last_digits.ends_with(a.card_last_digits.trim()))
                })
                .min_by_key(|&i| ((theirs[i].date - m.date).num_days().abs(), i))
        });
        let base = |status: &str| ReconItem {
            area: Area::Sales,
            status: status.into(),
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
            // The same sale twice in the merchant's books?
            let twin = matched_ours.iter().any(|o| {
                o.merchant_code == m.merchant_code
                    && o.date == m.date
                    && o.gross == m.gross
                    && ((known(&m.nsu) && o.nsu == m.nsu && o.authorization_code == m.authorization_code)
                        || (known(&m.card_last_digits) && o.card_last_digits == m.card_last_digits))
            });
            let mut item = base(if twin { "duplicate" } else { "missing_at_acquirer" });
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
        matched_ours.push(m);
        matched_theirs.push(i);
        let a = theirs[i];
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
        let mut item = base(if fields.is_empty() { "matched" } else { "divergent" });
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

    for (i, a) in theirs.iter().enumerate().filter(|(i, _)| !taken[*i]) {
        // Captured twice: the same amount, card and day as a sale already matched.
        let twin = matched_theirs.iter().map(|&j| theirs[j]).any(|o| {
            o.merchant_code == a.merchant_code
                && o.date == a.date
                && o.gross == a.gross
                && o.brand == a.brand
                && o.card_last_digits == a.card_last_digits
        });
        let _ = i;
        items.push(ReconItem {
            area: Area::Sales,
            status: if twin { "duplicate" } else { "missing_in_merchant" }.into(),
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
