//! Receivables: what the acquirer promised (the forecast installments of its sales files, "agenda") against
//! what it paid (its payment files), installment by installment; and the adjustments it posted
//! (cancellations, chargebacks, rentals, anticipations…), each linked to the sale it touches.

use super::{brl, Area, ReconItem, Settings, SourceLine, Status};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// One sale installment line of a statement: a forecast (sales file) or a payment (payment file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallmentLine {
    pub merchant_code: String,
    pub acquirer: String,
    /// The acquirer's sale code; with the installment number, the installment's identity.
    pub sale_code: String,
    pub installment: i32,
    pub nsu: String,
    pub authorization_code: String,
    pub brand: String,
    pub product: String,
    /// Forecast: the due date. Payment: the date it was paid.
    pub date: NaiveDate,
    pub net: Decimal,
    pub source: SourceLine,
}

/// A posting that is not a sale: cancellation, chargeback, rental, anticipation, lien…
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdjustmentLine {
    pub merchant_code: String,
    pub acquirer: String,
    /// The posting type's category (`cancellation`, `chargeback`, `rental`, `adjustment`, …): the item's
    /// status.
    pub category: Status,
    /// The posting type as the acquirer names it ("Contestação do portador do cartão (chargeback)").
    pub posting_name: String,
    /// The day it was paid (or debited).
    pub date: NaiveDate,
    /// Its effect on what was paid (negative: a debit).
    pub net: Decimal,
    /// The sale it refers to (its sale code), when the acquirer says.
    pub original_sale_code: String,
    pub installment: i32,
    pub nsu: String,
    pub authorization_code: String,
    pub brand: String,
    pub product: String,
    pub source: SourceLine,
    /// What the loaded statements say of the sale it names (all of them, whatever their dates).
    pub history: SaleHistory,
}

/// What the loaded statements say of the sale an adjustment names: whether it is in one, and how often the
/// same installment was debited and reversed by a posting of the adjustment's category (the adjustment
/// itself included). Read for cancellations and chargebacks; what explains them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaleHistory {
    pub sale_found: bool,
    pub debits: i64,
    pub reversals: i64,
}

impl SaleHistory {
    /// A sale in the statements, adjusted once (by this posting, when it is a debit).
    pub fn known_once(net: Decimal) -> SaleHistory {
        SaleHistory { sale_found: true, debits: i64::from(net < Decimal::ZERO), reversals: 0 }
    }
}

impl AdjustmentLine {
    /// The adjustment's status: its category, unless it is a cancellation or chargeback nothing explains —
    /// it names no sale, or a sale in no loaded statement, or it debits an installment a posting of its kind
    /// still debits (charged back twice) — then `unexplained_*` and why.
    pub fn status(&self) -> (Status, Option<(Unexplained, String)>) {
        let (unexplained, kind) = match self.category {
            Status::Cancellation => (Status::UnexplainedCancellation, "cancelled"),
            Status::Chargeback => (Status::UnexplainedChargeback, "charged back"),
            other => return (other, None),
        };
        let h = self.history;
        let why = if self.original_sale_code.trim().is_empty() {
            (Unexplained::NoSale, "it names no sale".to_string())
        } else if !h.sale_found {
            (Unexplained::SaleNotFound, format!("sale {} is in no loaded statement", self.original_sale_code))
        } else if self.net < Decimal::ZERO && h.debits - h.reversals >= 2 {
            (
                Unexplained::DebitedTwice,
                format!(
                    "installment {} of sale {} was {kind} {} times and reversed {} time(s)",
                    self.installment, self.original_sale_code, h.debits, h.reversals
                ),
            )
        } else {
            return (self.category, None);
        };
        (unexplained, Some(why))
    }
}

/// Why a cancellation or chargeback is unexplained; kept in the item's `fields` after the posting type's
/// name, by [`Unexplained::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unexplained {
    /// It names no sale.
    NoSale,
    /// The sale it names is in no loaded statement.
    SaleNotFound,
    /// The installment is debited again while an earlier posting of its kind stands.
    DebitedTwice,
}

impl Unexplained {
    pub const ALL: [Unexplained; 3] = [Unexplained::NoSale, Unexplained::SaleNotFound, Unexplained::DebitedTwice];

    pub fn as_str(self) -> &'static str {
        match self {
            Unexplained::NoSale => "no_sale",
            Unexplained::SaleNotFound => "sale_not_found",
            Unexplained::DebitedTwice => "debited_twice",
        }
    }

    pub fn parse(s: &str) -> Option<Unexplained> {
        Unexplained::ALL.into_iter().find(|u| u.as_str() == s)
    }
}

/// Everything a run read about one sale at its acquirer (one merchant, acquirer and sale code): its forecast
/// installments, their payments, and the adjustments that name it (adjustments that name no sale come as a
/// group of their own, with an empty code). Sales never affect each other's items, so they can be
/// reconciled one at a time, in any number.
#[derive(Debug, Default)]
pub struct SaleLines<'a> {
    pub expected: Vec<&'a InstallmentLine>,
    pub paid: Vec<&'a InstallmentLine>,
    pub adjustments: Vec<&'a AdjustmentLine>,
}

/// Reconcile forecast installments with payments and list the adjustments. Forecasts are those whose due
/// date is in the run's range (the caller selects them); payments and adjustments are matched whatever their
/// date. Deterministic: the output is in [`super::item_order`].
pub fn reconcile(
    expected: &[InstallmentLine],
    paid: &[InstallmentLine],
    adjustments: &[AdjustmentLine],
    settings: &Settings,
) -> Vec<ReconItem> {
    let mut sales: BTreeMap<(&str, &str, &str), SaleLines> = BTreeMap::new();
    for e in expected {
        sales.entry((&e.merchant_code, &e.acquirer, &e.sale_code)).or_default().expected.push(e);
    }
    for p in paid {
        sales.entry((&p.merchant_code, &p.acquirer, &p.sale_code)).or_default().paid.push(p);
    }
    for a in adjustments {
        sales.entry((&a.merchant_code, &a.acquirer, &a.original_sale_code)).or_default().adjustments.push(a);
    }
    let mut items = Vec::new();
    for lines in sales.values() {
        reconcile_sale(lines, settings, &mut |i| items.push(i));
    }
    items.sort_by(super::item_order);
    items
}

/// Reconcile one sale's installments and adjustments (see [`SaleLines`]), handing each item to `out`.
pub fn reconcile_sale(sale: &SaleLines, settings: &Settings, out: &mut dyn FnMut(ReconItem)) {
    // The same installment forecast by two files (a re-sent agenda): the latest file's line counts.
    let mut forecasts: BTreeMap<i32, &InstallmentLine> = BTreeMap::new();
    for &e in &sale.expected {
        let slot = forecasts.entry(e.installment).or_insert(e);
        if e.source > slot.source {
            *slot = e;
        }
    }
    // Each installment's payments, the earliest last (taken first).
    let mut payments: BTreeMap<i32, Vec<&InstallmentLine>> = BTreeMap::new();
    for &p in &sale.paid {
        payments.entry(p.installment).or_default().push(p);
    }
    for list in payments.values_mut() {
        list.sort_by_key(|p| std::cmp::Reverse((p.date, p.source)));
    }

    // The day the sale's last paid installment was paid (adjustments say whether they came after it).
    let mut paid_on: Option<NaiveDate> = None;
    for (installment, e) in &forecasts {
        let item = |status: Status, actual: Option<&InstallmentLine>, reason: String| ReconItem {
            area: Area::Receivables,
            status,
            merchant_code: e.merchant_code.clone(),
            acquirer: e.acquirer.clone(),
            ref_date: e.date,
            sale_code: e.sale_code.clone(),
            nsu: e.nsu.clone(),
            authorization_code: e.authorization_code.clone(),
            installment: e.installment,
            brand: e.brand.clone(),
            product: e.product.clone(),
            expected: Some(e.net),
            actual: actual.map(|p| p.net),
            difference: actual.map(|p| p.net - e.net),
            days_late: actual.map(|p| (p.date - e.date).num_days().max(0) as i32),
            fields: Vec::new(),
            reason,
            expected_ref: Some(e.source),
            actual_ref: actual.map(|p| p.source),
        };
        let Some(p) = payments.get_mut(installment).and_then(|list| list.pop()) else {
            if e.date <= settings.as_of {
                let days = (settings.as_of - e.date).num_days();
                let mut i = item(
                    Status::Overdue,
                    None,
                    format!("{} due on {} not paid ({days} days overdue)", brl(e.net), e.date),
                );
                i.days_late = Some(days as i32);
                out(i);
            } else {
                out(item(Status::Pending, None, format!("{} due on {}, not yet due", brl(e.net), e.date)));
            }
            continue;
        };
        paid_on = Some(p.date);
        let difference = p.net - e.net;
        let late = (p.date - e.date).num_days();
        let (status, reason) = if difference.abs() > settings.amount_tolerance {
            let when = if late > 0 { format!(", {late} days late") } else { String::new() };
            (
                Status::PaidDivergent,
                format!(
                    "expected {}, paid {} on {} ({} {}){when}",
                    brl(e.net),
                    brl(p.net),
                    p.date,
                    if difference < Decimal::ZERO { "short by" } else { "over by" },
                    brl(difference.abs())
                ),
            )
        } else if late > 0 {
            let cost = settings.cost_of_delay(e.net, late as i32);
            (
                Status::PaidLate,
                format!(
                    "{} due on {}, paid on {} ({late} days late; the delay cost {} at {} % a day)",
                    brl(e.net),
                    e.date,
                    p.date,
                    brl(cost),
                    settings.daily_cost_percent.normalize()
                ),
            )
        } else {
            (Status::Paid, format!("{} paid on {}", brl(p.net), p.date))
        };
        out(item(status, Some(p), reason));
    }

    // Payments nobody forecast (or paid more than once).
    for (installment, list) in payments {
        let twice = forecasts.contains_key(&installment);
        for p in list.into_iter().rev() {
            let reason = if twice {
                format!("{} paid on {} for an installment already paid", brl(p.net), p.date)
            } else {
                format!("{} paid on {} for no known sale installment", brl(p.net), p.date)
            };
            out(ReconItem {
                area: Area::Receivables,
                status: Status::UnexpectedPayment,
                merchant_code: p.merchant_code.clone(),
                acquirer: p.acquirer.clone(),
                ref_date: p.date,
                sale_code: p.sale_code.clone(),
                nsu: p.nsu.clone(),
                authorization_code: p.authorization_code.clone(),
                installment: p.installment,
                brand: p.brand.clone(),
                product: p.product.clone(),
                expected: None,
                actual: Some(p.net),
                difference: None,
                days_late: None,
                fields: Vec::new(),
                reason,
                expected_ref: None,
                actual_ref: Some(p.source),
            });
        }
    }

    // Adjustments, linked to their sale and, when it was paid, to that payment.
    for a in &sale.adjustments {
        let link = if a.original_sale_code.trim().is_empty() {
            "no sale referred to".to_string()
        } else {
            match paid_on {
                Some(d) if d <= a.date => format!("sale {} (paid on {d}, before this)", a.original_sale_code),
                Some(d) => format!("sale {} (paid on {d})", a.original_sale_code),
                None => format!("sale {}", a.original_sale_code),
            }
        };
        let (status, unexplained) = a.status();
        let why = unexplained.as_ref().map(|(_, w)| format!("; unexplained: {w}")).unwrap_or_default();
        // The posting type's name, and why it is unexplained (for reports in any language).
        let mut fields = vec![a.posting_name.clone()];
        fields.extend(unexplained.map(|(u, _)| u.as_str().to_string()));
        out(ReconItem {
            area: Area::Adjustments,
            status,
            merchant_code: a.merchant_code.clone(),
            acquirer: a.acquirer.clone(),
            ref_date: a.date,
            sale_code: a.original_sale_code.clone(),
            nsu: a.nsu.clone(),
            authorization_code: a.authorization_code.clone(),
            installment: a.installment,
            brand: a.brand.clone(),
            product: a.product.clone(),
            expected: None,
            actual: Some(a.net),
            difference: None,
            days_late: None,
            fields,
            reason: format!("{}: {} on {}, against {link}{why}", a.posting_name, brl(a.net), a.date),
            expected_ref: None,
            actual_ref: Some(a.source),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn line(sale: &str, k: i32, date: &str, net: i64, src: i64) -> InstallmentLine {
        InstallmentLine {
            merchant_code: "0012345678".into(),
            acquirer: "cielo".into(),
            sale_code: sale.into(),
            installment: k,
            nsu: "000123".into(),
            authorization_code: "004455".into(),
            brand: "001".into(),
            product: "043".into(),
            date: d(date),
            net: Decimal::new(net, 2),
            source: (1, src),
        }
    }

    fn statuses(items: &[ReconItem]) -> Vec<(String, String, Option<i32>, Option<Decimal>)> {
        items.iter().map(|i| (i.sale_code.clone(), i.status.as_str().to_string(), i.days_late, i.difference)).collect()
    }

    #[test]
    fn every_installment_gets_exactly_one_status() {
        let settings = Settings::new(d("2026-10-15"));
        let expected = vec![
            line("A", 1, "2026-10-01", 10000, 1), // paid on time
            line("B", 1, "2026-10-01", 10000, 2), // paid 3 days late
            line("C", 1, "2026-10-01", 10000, 3), // paid short by 1.50
            line("D", 1, "2026-10-10", 10000, 4), // never paid: overdue
            line("E", 2, "2026-11-01", 10000, 5), // not yet due
            line("F", 1, "2026-10-01", 10001, 6), // paid 0.01 off: rounding, paid
        ];
        let mut paid = vec![
            line("A", 1, "2026-10-01", 10000, 11),
            line("B", 1, "2026-10-04", 10000, 12),
            line("C", 1, "2026-10-01", 9850, 13),
            line("F", 1, "2026-10-01", 10000, 16),
            line("Z", 1, "2026-10-02", 5000, 17),  // nobody forecast it
            line("A", 1, "2026-10-09", 10000, 18), // A paid twice
        ];
        paid[0].source = (2, 11);
        let items = reconcile(&expected, &paid, &[], &settings);
        assert_eq!(
            statuses(&items),
            vec![
                ("A".into(), "paid".into(), Some(0), Some(Decimal::ZERO)),
                ("B".into(), "paid_late".into(), Some(3), Some(Decimal::ZERO)),
                ("C".into(), "paid_divergent".into(), Some(0), Some(Decimal::new(-150, 2))),
                ("F".into(), "paid".into(), Some(0), Some(Decimal::new(-1, 2))),
                ("Z".into(), "unexpected_payment".into(), None, None),
                ("A".into(), "unexpected_payment".into(), None, None),
                ("D".into(), "overdue".into(), Some(5), None),
                ("E".into(), "pending".into(), None, None),
            ]
        );
        assert_eq!(items[2].reason, "expected R$ 100,00, paid R$ 98,50 on 2026-10-01 (short by R$ 1,50)");
        assert!(items[5].reason.contains("already paid"), "{}", items[5].reason);
        assert!(items[4].reason.contains("no known sale"), "{}", items[4].reason);
        assert_eq!(items.iter().filter(|i| i.is_open()).count(), 5);
    }

    #[test]
    fn adjustments_name_their_sale_and_whether_it_was_paid_before() {
        let settings = Settings::new(d("2026-10-15"));
        let expected = vec![line("A", 1, "2026-10-01", 10000, 1)];
        let paid = vec![line("A", 1, "2026-10-01", 10000, 2)];
        let chargeback = AdjustmentLine {
            merchant_code: "0012345678".into(),
            acquirer: "cielo".into(),
            category: Status::Chargeback,
            posting_name: "Contestação do portador do cartão (chargeback)".into(),
            date: d("2026-10-08"),
            net: Decimal::new(-10000, 2),
            original_sale_code: "A".into(),
            installment: 1,
            nsu: "000123".into(),
            authorization_code: "004455".into(),
            brand: "001".into(),
            product: "043".into(),
            source: (3, 7),
            history: SaleHistory::known_once(Decimal::new(-10000, 2)),
        };
        let items = reconcile(&expected, &paid, std::slice::from_ref(&chargeback), &settings);
        let adj = items.iter().find(|i| i.area == Area::Adjustments).unwrap();
        assert_eq!(adj.status, Status::Chargeback);
        assert!(!adj.is_open(), "a chargeback of a known sale is listed, not flagged");
        assert_eq!(adj.at_stake(&settings), Decimal::ZERO);
        assert_eq!(adj.actual, Some(Decimal::new(-10000, 2)));
        assert_eq!(
            adj.reason,
            "Contestação do portador do cartão (chargeback): -R$ 100,00 on 2026-10-08, against sale A (paid on 2026-10-01, before this)"
        );

        // Unexplained: no sale named, a sale in no statement, charged back again while the first stands.
        let status = |f: &dyn Fn(&mut AdjustmentLine)| {
            let mut a = chargeback.clone();
            f(&mut a);
            let items = reconcile(&expected, &paid, &[a], &settings);
            let adj = items.into_iter().find(|i| i.area == Area::Adjustments).unwrap();
            (adj.status, adj.is_open(), adj.at_stake(&settings), adj.reason)
        };
        let (s, open, stake, reason) = status(&|a| a.original_sale_code = "  ".into());
        assert_eq!((s, open, stake), (Status::UnexplainedChargeback, true, Decimal::new(10000, 2)));
        assert!(reason.ends_with("unexplained: it names no sale"), "{reason}");
        let (s, _, _, reason) = status(&|a| a.history.sale_found = false);
        assert_eq!(s, Status::UnexplainedChargeback);
        assert!(reason.ends_with("unexplained: sale A is in no loaded statement"), "{reason}");
        let (s, _, _, reason) = status(&|a| a.history.debits = 2);
        assert_eq!(s, Status::UnexplainedChargeback);
        assert!(
            reason.ends_with("installment 1 of sale A was charged back 2 times and reversed 0 time(s)"),
            "{reason}"
        );
        // Charged back, reversed, charged back again: one stands, explained.
        let (s, _, _, _) = status(&|a| (a.history.debits, a.history.reversals) = (2, 1));
        assert_eq!(s, Status::Chargeback);
        // A reversal is never "twice".
        let (s, _, _, _) = status(&|a| (a.net, a.history.debits) = (Decimal::new(10000, 2), 2));
        assert_eq!(s, Status::Chargeback);
        // A cancellation likewise; a rental is what it is.
        let (s, _, _, _) = status(&|a| (a.category, a.history.sale_found) = (Status::Cancellation, false));
        assert_eq!(s, Status::UnexplainedCancellation);
        let (s, open, _, _) = status(&|a| (a.category, a.original_sale_code) = (Status::Rental, String::new()));
        assert_eq!((s, open), (Status::Rental, true));
    }
}
