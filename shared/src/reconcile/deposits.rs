//! Did the money land? ("conferência bancária", issue 19, item 3): what the acquirers say they paid into
//! each account, against the credits the account's bank statements show. Pure and deterministic; each match
//! says which rule made it.
//!
//! Rules, tried in this order, each on what the earlier ones left:
//! 1. `same day` — one payment, one credit of the same account, day and amount (within the tolerance);
//! 2. `payments summed` — the payments of one acquirer into one account on one day, summed, are one credit
//!    (banks credit one line per acquirer × brand × day, or fewer);
//! 3. `credit split` — one payment is two to [`DepositSettings::max_combination`] credits of that day;
//! 4. `late` — one payment (or one acquirer's day summed) is one credit within the window of business days
//!    after its day: `deposited_late`, with the business days;
//! 5. `wrong account` — the amount landed, that day or within the window, in another account the statements
//!    cover, as card money: `wrong_account`;
//! 6. `short` — one acquirer's day has a card-money credit of its own below what it paid: `deposited_short`,
//!    the shortfall at stake;
//! 7. what is left: `not_deposited` when the statements cover the account over the window after the day
//!    (else it is left aside: no statement to tell), and every card-money credit nobody announced,
//!    `unexpected_credit`.
//!
//! A credit is *compatible* with a payment when its memo names no acquirer or names that one.

use chrono::{Datelike, NaiveDate, Weekday};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeSet;

/// A bank account's identity (see [`crate::formats::bank::BankAccount::key`]).
pub type AccountKey = (String, String);

/// What an acquirer says it paid a merchant into an account on a day (a Cielo UR, a Rede credit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub acquirer: String,
    pub merchant_code: String,
    pub account: AccountKey,
    pub date: NaiveDate,
    pub amount: Decimal,
    pub brand: String,
    /// Its statement line.
    pub source: (i64, i64),
}

/// A credit a bank statement shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    pub account: AccountKey,
    pub date: NaiveDate,
    pub amount: Decimal,
    /// The acquirer its memo names, if any.
    pub acquirer: Option<String>,
    /// Whether its memo or category says card money.
    pub card_money: bool,
    pub memo: String,
    /// Its bank statement file and entry.
    pub source: (i64, i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepositSettings {
    /// Business days after the pay day a deposit may come and still be the payment (late).
    pub window_business_days: u32,
    /// Days no bank works, besides weekends (national holidays: data).
    pub holidays: BTreeSet<NaiveDate>,
    pub tolerance: Decimal,
    /// The most credits one payment may be split into.
    pub max_combination: usize,
}

impl Default for DepositSettings {
    fn default() -> Self {
        DepositSettings {
            window_business_days: 2,
            holidays: BTreeSet::new(),
            tolerance: Decimal::new(1, 2),
            max_combination: 4,
        }
    }
}

impl DepositSettings {
    fn business_day(&self, d: NaiveDate) -> bool {
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&d)
    }

    /// Business days from `from` to `to` (0 when `to` is not after `from`).
    pub fn business_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut n = 0;
        let mut d = from;
        while d < to {
            d = d.succ_opt().unwrap_or(to);
            if self.business_day(d) {
                n += 1;
            }
        }
        n
    }

    fn within_window(&self, paid: NaiveDate, credited: NaiveDate) -> bool {
        credited > paid && self.business_days_between(paid, credited) <= self.window_business_days
    }

    /// The last day a deposit of a payment made on `d` may come.
    pub fn window_end(&self, d: NaiveDate) -> NaiveDate {
        let mut end = d;
        let mut left = self.window_business_days;
        while left > 0 {
            end = end.succ_opt().unwrap_or(end);
            if self.business_day(end) {
                left -= 1;
            }
        }
        end
    }
}

/// What became of a payment (or a credit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DepositStatus {
    Deposited,
    DepositedLate,
    DepositedShort,
    NotDeposited,
    WrongAccount,
    UnexpectedCredit,
}

/// One finding: the payments and credits it links, the money on each side, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deposit {
    pub status: DepositStatus,
    /// Indices into the payments and credits given.
    pub payments: Vec<usize>,
    pub credits: Vec<usize>,
    pub expected: Decimal,
    pub received: Decimal,
    pub business_days_late: u32,
    /// The rule that made it (`same day`, `payments summed`, …).
    pub rule: &'static str,
}

/// Payments left aside: their account is not covered by any bank statement over their window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matched {
    pub deposits: Vec<Deposit>,
    pub not_covered: Vec<usize>,
}

/// Match payments to credits (see the module's rules). `covered(account, from, to)` says whether the loaded
/// statements of that account cover every day of `[from, to]`.
pub fn match_deposits(
    payments: &[Payment],
    credits: &[Credit],
    covered: &dyn Fn(&AccountKey, NaiveDate, NaiveDate) -> bool,
    s: &DepositSettings,
) -> Matched {
    let mut out = Matched::default();
    let mut paid = vec![false; payments.len()];
    let mut used = vec![false; credits.len()];
    let close = |a: Decimal, b: Decimal| (a - b).abs() <= s.tolerance;
    let compatible = |p: &Payment, c: &Credit| c.acquirer.as_deref().is_none_or(|a| a == p.acquirer);
    // Payments in a fixed order: account, day, acquirer, amount (largest first), line.
    let mut order: Vec<usize> = (0..payments.len()).collect();
    order.sort_by(|&a, &b| {
        let (p, q) = (&payments[a], &payments[b]);
        (&p.account, p.date, &p.acquirer, std::cmp::Reverse(p.amount), p.source).cmp(&(
            &q.account,
            q.date,
            &q.acquirer,
            std::cmp::Reverse(q.amount),
            q.source,
        ))
    });
    let credit_order: Vec<usize> = {
        let mut o: Vec<usize> = (0..credits.len()).collect();
        o.sort_by(|&a, &b| {
            (&credits[a].account, credits[a].date, credits[a].source).cmp(&(
                &credits[b].account,
                credits[b].date,
                credits[b].source,
            ))
        });
        o
    };
    let groups = |paid: &[bool]| -> Vec<Vec<usize>> {
        let mut gs: Vec<Vec<usize>> = Vec::new();
        for &i in order.iter().filter(|&&i| !paid[i]) {
            let p = &payments[i];
            match gs.last_mut() {
                Some(g)
                    if {
                        let q = &payments[g[0]];
                        (&q.account, q.date, &q.acquirer) == (&p.account, p.date, &p.acquirer)
                    } =>
                {
                    g.push(i)
                }
                _ => gs.push(vec![i]),
            }
        }
        gs
    };
    let sum = |g: &[usize]| g.iter().map(|&i| payments[i].amount).sum::<Decimal>();
    let record = |out: &mut Matched, status, ps: Vec<usize>, cs: Vec<usize>, days, rule| {
        let expected = ps.iter().map(|&i| payments[i].amount).sum();
        let received = cs.iter().map(|&i| credits[i].amount).sum();
        out.deposits.push(Deposit {
            status,
            payments: ps,
            credits: cs,
            expected,
            received,
            business_days_late: days,
            rule,
        });
    };

    // 1. Same day, same amount.
    for &i in &order {
        let p = &payments[i];
        if let Some(&c) = credit_order.iter().find(|&&c| {
            let k = &credits[c];
            !used[c] && k.account == p.account && k.date == p.date && close(k.amount, p.amount) && compatible(p, k)
        }) {
            paid[i] = true;
            used[c] = true;
            record(&mut out, DepositStatus::Deposited, vec![i], vec![c], 0, "same day");
        }
    }
    // 2. One acquirer's day summed, one credit.
    for g in groups(&paid).into_iter().filter(|g| g.len() > 1) {
        let p = &payments[g[0]];
        let total = sum(&g);
        if let Some(&c) = credit_order.iter().find(|&&c| {
            let k = &credits[c];
            !used[c] && k.account == p.account && k.date == p.date && close(k.amount, total) && compatible(p, k)
        }) {
            used[c] = true;
            for &i in &g {
                paid[i] = true;
            }
            record(&mut out, DepositStatus::Deposited, g, vec![c], 0, "payments summed");
        }
    }
    // 3. One payment split into several credits of its day.
    for &i in &order {
        if paid[i] {
            continue;
        }
        let p = &payments[i];
        let candidates: Vec<usize> = credit_order
            .iter()
            .copied()
            .filter(|&c| {
                let k = &credits[c];
                !used[c] && k.account == p.account && k.date == p.date && compatible(p, k) && k.amount < p.amount
            })
            .take(16)
            .collect();
        if let Some(combo) =
            subset_summing(&candidates, |c| credits[c].amount, p.amount, s.max_combination, s.tolerance)
        {
            paid[i] = true;
            for &c in &combo {
                used[c] = true;
            }
            record(&mut out, DepositStatus::Deposited, vec![i], combo, 0, "credit split");
        }
    }
    // 4. Late: a payment, or one acquirer's day summed, within the window after its day.
    for g in groups(&paid) {
        let p = &payments[g[0]];
        let single = g.len() == 1;
        let tries: Vec<Vec<usize>> =
            if single { vec![g.clone()] } else { g.iter().map(|&i| vec![i]).chain([g.clone()]).collect() };
        for t in tries {
            if t.iter().any(|&i| paid[i]) {
                continue;
            }
            let total = sum(&t);
            if let Some(&c) = credit_order.iter().find(|&&c| {
                let k = &credits[c];
                !used[c]
                    && k.account == p.account
                    && s.within_window(p.date, k.date)
                    && close(k.amount, total)
                    && compatible(p, k)
            }) {
                used[c] = true;
                for &i in &t {
                    paid[i] = true;
                }
                let days = s.business_days_between(p.date, credits[c].date);
                record(&mut out, DepositStatus::DepositedLate, t, vec![c], days, "late");
            }
        }
    }
    // 5. Into another account, as card money.
    for &i in &order {
        if paid[i] {
            continue;
        }
        let p = &payments[i];
        if let Some(&c) = credit_order.iter().find(|&&c| {
            let k = &credits[c];
            !used[c]
                && k.account != p.account
                && k.card_money
                && (k.date == p.date || s.within_window(p.date, k.date))
                && close(k.amount, p.amount)
                && compatible(p, k)
        }) {
            paid[i] = true;
            used[c] = true;
            let days = s.business_days_between(p.date, credits[c].date);
            record(&mut out, DepositStatus::WrongAccount, vec![i], vec![c], days, "wrong account");
        }
    }
    // 6. Short: one acquirer's day has a card-money credit of its own below what it paid.
    for g in groups(&paid) {
        let p = &payments[g[0]];
        let total = sum(&g);
        let best = credit_order
            .iter()
            .copied()
            .filter(|&c| {
                let k = &credits[c];
                !used[c]
                    && k.account == p.account
                    && k.date == p.date
                    && k.card_money
                    && k.acquirer.as_deref() == Some(p.acquirer.as_str())
                    && k.amount < total
            })
            .max_by_key(|&c| (credits[c].amount, std::cmp::Reverse(credits[c].source)));
        if let Some(c) = best {
            used[c] = true;
            for &i in &g {
                paid[i] = true;
            }
            record(&mut out, DepositStatus::DepositedShort, g, vec![c], 0, "short");
        }
    }
    // 7. What is left.
    for &i in &order {
        if paid[i] {
            continue;
        }
        let p = &payments[i];
        if covered(&p.account, p.date, s.window_end(p.date)) {
            record(&mut out, DepositStatus::NotDeposited, vec![i], vec![], 0, "nothing deposited");
        } else {
            out.not_covered.push(i);
        }
    }
    for &c in &credit_order {
        if !used[c] && credits[c].card_money {
            record(&mut out, DepositStatus::UnexpectedCredit, vec![], vec![c], 0, "no payment announced");
        }
    }
    out
}

/// The first subset (in `candidates`' order, smallest first) of 2 to `max` items whose values sum to
/// `target` within `tolerance`. Bounded: at most 16 candidates are tried.
fn subset_summing(
    candidates: &[usize],
    value: impl Fn(usize) -> Decimal,
    target: Decimal,
    max: usize,
    tolerance: Decimal,
) -> Option<Vec<usize>> {
    /// The search: which candidates, what sum, and how many to pick.
    struct Search<'a> {
        candidates: &'a [usize],
        value: &'a dyn Fn(usize) -> Decimal,
        target: Decimal,
        tolerance: Decimal,
        size: usize,
    }
    impl Search<'_> {
        fn go(&self, start: usize, picked: &mut Vec<usize>, total: Decimal) -> bool {
            if picked.len() == self.size {
                return (total - self.target).abs() <= self.tolerance;
            }
            for i in start..self.candidates.len() {
                let v = (self.value)(self.candidates[i]);
                if total + v > self.target + self.tolerance {
                    continue;
                }
                picked.push(self.candidates[i]);
                if self.go(i + 1, picked, total + v) {
                    return true;
                }
                picked.pop();
            }
            false
        }
    }
    let candidates = &candidates[..candidates.len().min(16)];
    for size in 2..=max.min(candidates.len()) {
        let search = Search { candidates, value: &value, target, tolerance, size };
        let mut picked = Vec::new();
        if search.go(0, &mut picked, Decimal::ZERO) {
            return Some(picked);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }
    fn m(s: &str) -> Decimal {
        s.parse().unwrap()
    }
    fn acct(n: &str) -> AccountKey {
        ("341".into(), n.into())
    }
    fn pay(n: i64, account: &str, date: &str, amount: &str) -> Payment {
        Payment {
            acquirer: "cielo".into(),
            merchant_code: "0012345678".into(),
            account: acct(account),
            date: d(date),
            amount: m(amount),
            brand: "001".into(),
            source: (1, n),
        }
    }
    fn credit(n: i64, account: &str, date: &str, amount: &str, acquirer: Option<&str>) -> Credit {
        Credit {
            account: acct(account),
            date: d(date),
            amount: m(amount),
            acquirer: acquirer.map(Into::into),
            card_money: acquirer.is_some(),
            memo: String::new(),
            source: (9, n),
        }
    }

    /// A finding as the tests compare it: status, payments, credits, business days late, rule.
    type Found = (DepositStatus, Vec<usize>, Vec<usize>, u32, &'static str);

    #[test]
    fn every_status_with_its_rule_and_money() {
        let s = DepositSettings::default();
        // 2026-09-04 is a Friday: two business days later is Tuesday the 8th.
        let payments = vec![
            pay(1, "1", "2026-09-01", "100.00"), // same day
            pay(2, "1", "2026-09-02", "40.00"),  // summed with 3 into one credit of 100
            pay(3, "1", "2026-09-02", "60.00"),
            pay(4, "1", "2026-09-03", "90.00"),  // split into 50 + 40
            pay(5, "1", "2026-09-04", "70.00"),  // credited on Tuesday the 8th: 2 business days late
            pay(6, "1", "2026-09-09", "80.00"),  // into account 2
            pay(7, "1", "2026-09-10", "500.00"), // short: 480 credited
            pay(8, "1", "2026-09-11", "30.00"),  // nothing
            pay(9, "3", "2026-09-11", "30.00"),  // account 3: no statement covers it
        ];
        let credits = vec![
            credit(1, "1", "2026-09-01", "100.00", None),
            credit(2, "1", "2026-09-02", "100.00", Some("cielo")),
            credit(3, "1", "2026-09-03", "50.00", None),
            credit(4, "1", "2026-09-03", "40.00", None),
            credit(5, "1", "2026-09-08", "70.00", Some("cielo")),
            credit(6, "2", "2026-09-09", "80.00", Some("cielo")),
            credit(7, "1", "2026-09-10", "480.00", Some("cielo")),
            credit(8, "1", "2026-09-12", "12.34", Some("rede")), // nobody announced it
            credit(9, "1", "2026-09-12", "999.00", None),        // not card money: not ours to judge
        ];
        let covered = |a: &AccountKey, _: NaiveDate, _: NaiveDate| a.1 != "3";
        let r = match_deposits(&payments, &credits, &covered, &s);
        let got: Vec<Found> = r
            .deposits
            .iter()
            .map(|x| (x.status, x.payments.clone(), x.credits.clone(), x.business_days_late, x.rule))
            .collect();
        use DepositStatus::*;
        assert_eq!(
            got,
            [
                (Deposited, vec![0], vec![0], 0, "same day"),
                (Deposited, vec![2, 1], vec![1], 0, "payments summed"),
                (Deposited, vec![3], vec![2, 3], 0, "credit split"),
                (DepositedLate, vec![4], vec![4], 2, "late"),
                (WrongAccount, vec![5], vec![5], 0, "wrong account"),
                (DepositedShort, vec![6], vec![6], 0, "short"),
                (NotDeposited, vec![7], vec![], 0, "nothing deposited"),
                (UnexpectedCredit, vec![], vec![7], 0, "no payment announced"),
            ]
        );
        assert_eq!(r.not_covered, [8]);
        let short = &r.deposits[5];
        assert_eq!((short.expected, short.received), (m("500.00"), m("480.00")));
    }

    #[test]
    fn a_credit_naming_another_acquirer_is_not_its_payment_and_holidays_are_not_business_days() {
        let mut s = DepositSettings::default();
        let payments = vec![pay(1, "1", "2026-11-13", "10.00")]; // Friday
        let credits =
            vec![credit(1, "1", "2026-11-13", "10.00", Some("rede")), credit(2, "1", "2026-11-17", "10.00", None)];
        let covered = |_: &AccountKey, _: NaiveDate, _: NaiveDate| true;
        // Monday the 16th is an ordinary day: Tuesday the 17th is 2 business days later.
        let r = match_deposits(&payments, &credits, &covered, &s);
        assert_eq!((r.deposits[0].status, r.deposits[0].business_days_late), (DepositStatus::DepositedLate, 2));
        assert_eq!(r.deposits[1].status, DepositStatus::UnexpectedCredit, "Rede's credit is nobody's payment here");
        // With the 16th a holiday, the 17th is 1 business day later.
        s.holidays.insert(d("2026-11-16"));
        let r = match_deposits(&payments, &credits, &covered, &s);
        assert_eq!(r.deposits[0].business_days_late, 1);
        assert_eq!(s.window_end(d("2026-11-13")), d("2026-11-18"));
    }
}
