//! Did the money land? ("conferência bancária", issue 19, item 3): what the acquirers say they paid into
//! each account, against the credits the account's bank statements show. Pure and deterministic; each match
//! says which rule made it.
//!
//! Rules, tried in this order, each on what the earlier ones left:
//! 1. `same day` — one payment, one credit of the same account, day and amount (within the tolerance);
//! 2. `payments summed` — the payments of one acquirer into one account on one day, summed, are one credit
//!    (banks credit one line per acquirer × brand × day, or fewer) — all of them, or all but up to
//!    [`DepositSettings::max_combination`] that the credit lacks (credited apart, late, or not at all);
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

use crate::reconcile::{Area, ReconItem, Status};
use chrono::{Datelike, NaiveDate, Weekday};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A bank account's identity (see [`crate::formats::bank::BankAccount::key`]).
pub type AccountKey = (String, String);

/// What an acquirer says it paid a merchant into an account on a day ("pagamento"): the receivable units of
/// one brand it paid that day (Cielo's URs, Rede's credits), summed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub acquirer: String,
    pub merchant_code: String,
    pub account: AccountKey,
    /// The account as the acquirer wrote it (bank, branch, number), for people.
    pub account_label: String,
    pub date: NaiveDate,
    pub amount: Decimal,
    pub brand: String,
    /// Its statement line.
    pub source: (i64, i64),
}

/// A credit a bank statement shows ("lançamento a crédito").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    pub account: AccountKey,
    /// The account as the bank wrote it, for people.
    pub account_label: String,
    /// Whose account it is, as far as is known (the merchant an acquirer declared it for, or Rede's PV in
    /// the memo); empty when unknown.
    pub merchant_code: String,
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
    /// A run's settings, with the bank holidays as loaded (`ref_bank_holiday`).
    pub fn of_run(settings: &crate::reconcile::Settings, holidays: BTreeSet<NaiveDate>) -> DepositSettings {
        DepositSettings {
            window_business_days: settings.deposit_window_business_days,
            holidays,
            tolerance: settings.amount_tolerance,
            max_combination: DepositSettings::default().max_combination,
        }
    }

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

/// One finding: the payments and credits it links, the money on each side, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deposit {
    /// One of the [`Area::Bank`] statuses.
    pub status: Status,
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
/// statements of that account cover every day of `[from, to]`. Credits are looked up by account and day (and
/// by day alone for the wrong-account rule), so a year of 50 accounts' statements is matched in one pass.
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
    // Credits in a fixed order (account, day, line), indexed by account and day, and by day.
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
    let mut by_day: HashMap<&AccountKey, HashMap<NaiveDate, Vec<usize>>> = HashMap::new();
    let mut by_date: BTreeMap<NaiveDate, Vec<usize>> = BTreeMap::new();
    for &c in &credit_order {
        by_day.entry(&credits[c].account).or_default().entry(credits[c].date).or_default().push(c);
        by_date.entry(credits[c].date).or_default().push(c);
    }
    let on_day = |account: &AccountKey, d: NaiveDate| -> &[usize] {
        by_day.get(account).and_then(|days| days.get(&d)).map(Vec::as_slice).unwrap_or(&[])
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
    // The first unused credit of an account's day that is `amount` and may be `p`'s.
    let first_of = |used: &[bool], p: &Payment, d: NaiveDate, amount: Decimal| {
        on_day(&p.account, d)
            .iter()
            .copied()
            .find(|&c| !used[c] && close(credits[c].amount, amount) && compatible(p, &credits[c]))
    };

    // 1. Same day, same amount.
    for &i in &order {
        let p = &payments[i];
        if let Some(c) = first_of(&used, p, p.date, p.amount) {
            paid[i] = true;
            used[c] = true;
            record(&mut out, Status::Deposited, vec![i], vec![c], 0, "same day");
        }
    }
    // 2. One acquirer's day summed, one credit: all its payments, or all but a few (a payment credited
    //    apart, late or not at all) — the few found by a bounded search for what the credit lacks.
    for g in groups(&paid).into_iter().filter(|g| g.len() > 1) {
        let p = &payments[g[0]];
        let total = sum(&g);
        if let Some(c) = first_of(&used, p, p.date, total) {
            used[c] = true;
            for &i in &g {
                paid[i] = true;
            }
            record(&mut out, Status::Deposited, g, vec![c], 0, "payments summed");
            continue;
        }
        if g.len() < 3 {
            continue;
        }
        let found = on_day(&p.account, p.date).iter().copied().find_map(|c| {
            let k = &credits[c];
            if used[c] || !k.card_money || !compatible(p, k) || k.amount >= total {
                return None;
            }
            let left_out = subset_summing(&g, |i| payments[i].amount, total - k.amount, s.max_combination, s.tolerance)
                .or_else(|| {
                    // A single payment left out (the search above looks for two or more).
                    g.iter().copied().find(|&i| close(payments[i].amount, total - k.amount)).map(|i| vec![i])
                })?;
            (left_out.len() + 2 <= g.len()).then_some((c, left_out))
        });
        if let Some((c, left_out)) = found {
            let summed: Vec<usize> = g.iter().copied().filter(|i| !left_out.contains(i)).collect();
            used[c] = true;
            for &i in &summed {
                paid[i] = true;
            }
            record(&mut out, Status::Deposited, summed, vec![c], 0, "payments summed");
        }
    }
    // 3. One payment split into several credits of its day.
    for &i in &order {
        if paid[i] {
            continue;
        }
        let p = &payments[i];
        let candidates: Vec<usize> = on_day(&p.account, p.date)
            .iter()
            .copied()
            .filter(|&c| !used[c] && compatible(p, &credits[c]) && credits[c].amount < p.amount)
            .take(16)
            .collect();
        if let Some(combo) =
            subset_summing(&candidates, |c| credits[c].amount, p.amount, s.max_combination, s.tolerance)
        {
            paid[i] = true;
            for &c in &combo {
                used[c] = true;
            }
            record(&mut out, Status::Deposited, vec![i], combo, 0, "credit split");
        }
    }
    // The days after a pay day a late deposit may come, in order.
    let window = |d: NaiveDate| {
        let end = s.window_end(d);
        d.iter_days().skip(1).take_while(move |&k| k <= end)
    };
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
            if let Some(c) = window(p.date).find_map(|d| first_of(&used, p, d, total)) {
                used[c] = true;
                for &i in &t {
                    paid[i] = true;
                }
                let days = s.business_days_between(p.date, credits[c].date);
                record(&mut out, Status::DepositedLate, t, vec![c], days, "late");
            }
        }
    }
    // 5. Into another account, as card money: that day or within the window, the earliest.
    for &i in &order {
        if paid[i] {
            continue;
        }
        let p = &payments[i];
        let found = std::iter::once(p.date).chain(window(p.date)).find_map(|d| {
            by_date.get(&d).and_then(|cs| {
                cs.iter().copied().find(|&c| {
                    let k = &credits[c];
                    !used[c] && k.account != p.account && k.card_money && close(k.amount, p.amount) && compatible(p, k)
                })
            })
        });
        if let Some(c) = found {
            paid[i] = true;
            used[c] = true;
            let days = s.business_days_between(p.date, credits[c].date);
            record(&mut out, Status::WrongAccount, vec![i], vec![c], days, "wrong account");
        }
    }
    // 6. Short: one acquirer's day has a card-money credit of its own below what it paid.
    for g in groups(&paid) {
        let p = &payments[g[0]];
        let total = sum(&g);
        let best = on_day(&p.account, p.date)
            .iter()
            .copied()
            .filter(|&c| {
                let k = &credits[c];
                !used[c] && k.card_money && k.acquirer.as_deref() == Some(p.acquirer.as_str()) && k.amount < total
            })
            .max_by_key(|&c| (credits[c].amount, std::cmp::Reverse(credits[c].source)));
        if let Some(c) = best {
            used[c] = true;
            for &i in &g {
                paid[i] = true;
            }
            record(&mut out, Status::DepositedShort, g, vec![c], 0, "short");
        }
    }
    // 7. What is left.
    for &i in &order {
        if paid[i] {
            continue;
        }
        let p = &payments[i];
        if covered(&p.account, p.date, s.window_end(p.date)) {
            record(&mut out, Status::NotDeposited, vec![i], vec![], 0, "nothing deposited");
        } else {
            out.not_covered.push(i);
        }
    }
    for &c in &credit_order {
        if !used[c] && credits[c].card_money {
            record(&mut out, Status::UnexpectedCredit, vec![], vec![c], 0, "no payment announced");
        }
    }
    out
}

/// The items of a run's [`Area::Bank`]: one per finding. Its `sale_code` is the account the payment was
/// announced into (the credit's, for an unexpected credit); `fields` are the rule, the account credited and
/// the first credit's memo; `expected` the payments summed, `actual` the credits summed; `days_late` the
/// business days late; the lines are the first payment's and the first credit's.
///
/// An account is named one way throughout: acquirers and banks write it differently (with or without its
/// check digit, leading zeros), so every item says it as its most complete announcement does (one with a
/// check digit, the longest), and a credit into an account no payment names as the bank wrote it.
pub fn items(found: &Matched, payments: &[Payment], credits: &[Credit]) -> Vec<ReconItem> {
    let mut names: HashMap<&AccountKey, &str> = HashMap::new();
    for p in payments {
        let name = names.entry(&p.account).or_insert(&p.account_label);
        let rank = |l: &str| (l.contains('-'), l.len(), std::cmp::Reverse(l.to_string()));
        if rank(&p.account_label) > rank(name) {
            *name = &p.account_label;
        }
    }
    let name_of = |account: &AccountKey, written: &str| names.get(account).copied().unwrap_or(written).to_string();
    found
        .deposits
        .iter()
        .map(|d| {
            let ps: Vec<&Payment> = d.payments.iter().map(|&i| &payments[i]).collect();
            let cs: Vec<&Credit> = d.credits.iter().map(|&i| &credits[i]).collect();
            let (p, c) = (ps.first().copied(), cs.first().copied());
            let expected = p.map(|_| d.expected);
            let actual = c.map(|_| d.received);
            let brand = match &ps[..] {
                [first, rest @ ..] if rest.iter().all(|q| q.brand == first.brand) => first.brand.clone(),
                _ => String::new(),
            };
            let announced = p
                .map(|p| name_of(&p.account, &p.account_label))
                .or_else(|| c.map(|c| name_of(&c.account, &c.account_label)));
            let credited = c.map(|c| name_of(&c.account, &c.account_label)).unwrap_or_default();
            let ref_date = p.map(|p| p.date).or_else(|| c.map(|c| c.date)).unwrap_or_default();
            let acquirer = p.map(|p| p.acquirer.clone()).or_else(|| c.and_then(|c| c.acquirer.clone()));
            let acquirer = acquirer.unwrap_or_default();
            let money = crate::reconcile::brl;
            let what = if ps.len() > 1 { format!(" ({} payments)", ps.len()) } else { String::new() };
            let into = if cs.len() > 1 { format!(" in {} credits", cs.len()) } else { String::new() };
            let reason = match d.status {
                Status::Deposited => format!(
                    "{}{what} paid by {acquirer} on {ref_date} credited that day{into} ({})",
                    money(d.expected),
                    d.rule
                ),
                Status::DepositedLate => format!(
                    "{}{what} paid by {acquirer} on {ref_date} credited on {}, {} business day(s) late",
                    money(d.expected),
                    c.map(|c| c.date.to_string()).unwrap_or_default(),
                    d.business_days_late
                ),
                Status::DepositedShort => format!(
                    "{}{what} paid by {acquirer} on {ref_date}, {} credited: {} short",
                    money(d.expected),
                    money(d.received),
                    money(d.expected - d.received)
                ),
                Status::NotDeposited => format!(
                    "{} paid by {acquirer} on {ref_date} into {}: no credit of it in the bank statements",
                    money(d.expected),
                    announced.clone().unwrap_or_default()
                ),
                Status::WrongAccount => format!(
                    "{} paid by {acquirer} on {ref_date} into {}, credited to {credited} on {}",
                    money(d.expected),
                    announced.clone().unwrap_or_default(),
                    c.map(|c| c.date.to_string()).unwrap_or_default()
                ),
                _ => format!(
                    "credit of {} on {ref_date} ({}) that no acquirer announced",
                    money(d.received),
                    c.map(|c| c.memo.as_str()).unwrap_or_default()
                ),
            };
            ReconItem {
                area: Area::Bank,
                status: d.status,
                merchant_code: p
                    .map(|p| p.merchant_code.clone())
                    .or_else(|| c.map(|c| c.merchant_code.clone()))
                    .unwrap_or_default(),
                acquirer,
                ref_date,
                sale_code: announced.unwrap_or_default(),
                nsu: String::new(),
                authorization_code: String::new(),
                installment: 0,
                brand,
                product: String::new(),
                expected,
                actual,
                difference: expected.zip(actual).map(|(e, a)| a - e),
                days_late: (d.business_days_late > 0).then_some(d.business_days_late as i32),
                fields: vec![d.rule.to_string(), credited, c.map(|c| c.memo.clone()).unwrap_or_default()],
                reason,
                expected_ref: p.map(|p| p.source),
                actual_ref: c.map(|c| c.source),
            }
        })
        .collect()
}

/// The payments no loaded bank statement could tell about (see [`Matched::not_covered`]), as the
/// `not_deposited` items they would be: for counting what was left aside, never to be kept.
pub fn not_covered_items(found: &Matched, payments: &[Payment]) -> Vec<ReconItem> {
    let aside = Matched {
        deposits: found
            .not_covered
            .iter()
            .map(|&i| Deposit {
                status: Status::NotDeposited,
                payments: vec![i],
                credits: vec![],
                expected: payments[i].amount,
                received: Decimal::ZERO,
                business_days_late: 0,
                rule: "no bank statement",
            })
            .collect(),
        not_covered: vec![],
    };
    items(&aside, payments, &[])
}

/// Which days each account's loaded bank statements cover ("período do extrato"), as disjoint ranges: two
/// statements that meet or overlap are one range.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage(BTreeMap<AccountKey, Vec<(NaiveDate, NaiveDate)>>);

impl Coverage {
    /// Add a statement of `account` covering `[from, to]`.
    pub fn add(&mut self, account: AccountKey, from: NaiveDate, to: NaiveDate) {
        let ranges = self.0.entry(account).or_default();
        ranges.push((from.min(to), from.max(to)));
        ranges.sort();
        let mut merged: Vec<(NaiveDate, NaiveDate)> = Vec::with_capacity(ranges.len());
        for &(a, b) in ranges.iter() {
            match merged.last_mut() {
                Some(last) if a <= last.1.succ_opt().unwrap_or(last.1) => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        *ranges = merged;
    }

    /// Whether every day of `[from, to]` is in a statement of the account.
    pub fn covers(&self, account: &AccountKey, from: NaiveDate, to: NaiveDate) -> bool {
        self.0.get(account).is_some_and(|ranges| ranges.iter().any(|&(a, b)| a <= from && to <= b))
    }
}

/// What the bank area of a run reads (see [`crate::db::recon`]): the payments announced and the credits
/// around the scope, the statements' coverage and the bank holidays.
#[derive(Debug, Clone, Default)]
pub struct BankInputs {
    pub payments: Vec<Payment>,
    pub credits: Vec<Credit>,
    pub coverage: Coverage,
    pub holidays: BTreeSet<NaiveDate>,
}

/// Reconcile the bank area: its items, and the `not_deposited` items a missing bank statement leaves
/// unanswered (to be counted as left aside, never kept).
pub fn reconcile(inputs: &BankInputs, settings: &crate::reconcile::Settings) -> (Vec<ReconItem>, Vec<ReconItem>) {
    let s = DepositSettings::of_run(settings, inputs.holidays.clone());
    let found =
        match_deposits(&inputs.payments, &inputs.credits, &|a, from, to| inputs.coverage.covers(a, from, to), &s);
    (items(&found, &inputs.payments, &inputs.credits), not_covered_items(&found, &inputs.payments))
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
            account_label: format!("341 / 0001 / {account}"),
            date: d(date),
            amount: m(amount),
            brand: "001".into(),
            source: (1, n),
        }
    }
    fn credit(n: i64, account: &str, date: &str, amount: &str, acquirer: Option<&str>) -> Credit {
        Credit {
            account: acct(account),
            account_label: format!("0341 / {account}"),
            merchant_code: String::new(),
            date: d(date),
            amount: m(amount),
            acquirer: acquirer.map(Into::into),
            card_money: acquirer.is_some(),
            memo: String::new(),
            source: (9, n),
        }
    }

    /// A finding as the tests compare it: status, payments, credits, business days late, rule.
    type Found = (Status, Vec<usize>, Vec<usize>, u32, &'static str);

    fn found(r: &Matched) -> Vec<Found> {
        r.deposits
            .iter()
            .map(|x| (x.status, x.payments.clone(), x.credits.clone(), x.business_days_late, x.rule))
            .collect()
    }

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
        let got = found(&r);
        use Status::*;
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
        assert_eq!((r.deposits[0].status, r.deposits[0].business_days_late), (Status::DepositedLate, 2));
        assert_eq!(r.deposits[1].status, Status::UnexpectedCredit, "Rede's credit is nobody's payment here");
        // With the 16th a holiday, the 17th is 1 business day later.
        s.holidays.insert(d("2026-11-16"));
        let r = match_deposits(&payments, &credits, &covered, &s);
        assert_eq!(r.deposits[0].business_days_late, 1);
        assert_eq!(s.window_end(d("2026-11-13")), d("2026-11-18"));
    }

    #[test]
    fn items_say_the_account_the_rule_the_money_and_what_is_at_stake() {
        let s = DepositSettings::default();
        let payments = vec![pay(1, "1", "2026-09-01", "100.00"), pay(2, "1", "2026-09-02", "70.00")];
        let credits = vec![
            credit(1, "2", "2026-09-01", "100.00", Some("cielo")),
            credit(2, "1", "2026-09-04", "5.00", Some("cielo")),
        ];
        let covered = |_: &AccountKey, _: NaiveDate, _: NaiveDate| true;
        let r = match_deposits(&payments, &credits, &covered, &s);
        let items = items(&r, &payments, &credits);
        let settings = crate::reconcile::Settings::new(d("2026-09-30"));
        let wrong = &items[0];
        assert_eq!((wrong.status, wrong.area), (Status::WrongAccount, Area::Bank));
        assert_eq!((wrong.sale_code.as_str(), wrong.fields[1].as_str()), ("341 / 0001 / 1", "0341 / 2"));
        assert_eq!(
            (wrong.expected, wrong.actual, wrong.difference),
            (Some(m("100.00")), Some(m("100.00")), Some(m("0")))
        );
        assert_eq!(wrong.at_stake(&settings), m("100.00"), "the money is not where it should be");
        assert_eq!((wrong.expected_ref, wrong.actual_ref), (Some((1, 1)), Some((9, 1))));
        let missing = &items[1];
        assert_eq!((missing.status, missing.expected, missing.actual), (Status::NotDeposited, Some(m("70.00")), None));
        assert!(missing.reason.contains("R$ 70,00") && missing.reason.contains("341 / 0001 / 1"), "{}", missing.reason);
        assert_eq!(missing.at_stake(&settings), m("70.00"));
        let unexpected = &items[2];
        assert_eq!(
            (unexpected.status, unexpected.ref_date, unexpected.actual),
            (Status::UnexpectedCredit, d("2026-09-04"), Some(m("5.00")))
        );
        assert!(items.iter().all(|i| i.link().is_none()), "bank items are kept whole");
    }

    #[test]
    fn coverage_joins_statements_that_meet_and_leaves_gaps() {
        let mut c = Coverage::default();
        let a = acct("1");
        c.add(a.clone(), d("2026-09-01"), d("2026-09-10"));
        c.add(a.clone(), d("2026-09-11"), d("2026-09-20"));
        c.add(a.clone(), d("2026-09-25"), d("2026-09-30"));
        assert!(c.covers(&a, d("2026-09-05"), d("2026-09-15")), "two statements that meet");
        assert!(!c.covers(&a, d("2026-09-19"), d("2026-09-26")), "a gap of four days");
        assert!(!c.covers(&acct("2"), d("2026-09-05"), d("2026-09-05")));
    }

    /// V30 seeds the movable bank holidays from Easter Sundays it lists: each must be the Easter of its year
    /// (the anonymous Gregorian computus), and the year range the fixed ones cover.
    #[test]
    fn the_seeded_easter_sundays_are_right() {
        let sql = include_str!("../../../migrations/V30__bank_reconciliation.sql");
        let easter = |y: i32| {
            let (a, b, c) = (y % 19, y / 100, y % 100);
            let (d, e) = (b / 4, b % 4);
            let g = (8 * b + 13) / 25;
            let h = (19 * a + b - d - g + 15) % 30;
            let (i, k) = (c / 4, c % 4);
            let l = (32 + 2 * e + 2 * i - h - k) % 7;
            let m = (a + 11 * h + 22 * l) / 451;
            let month = (h + l - 7 * m + 114) / 31;
            let day = (h + l - 7 * m + 114) % 31 + 1;
            NaiveDate::from_ymd_opt(y, month as u32, day as u32).unwrap()
        };
        let listed: Vec<NaiveDate> = sql.split("DATE '").skip(1).map(|rest| rest[..10].parse().unwrap()).collect();
        assert_eq!(listed.len(), 11);
        for date in listed {
            assert_eq!(date, easter(date.year()));
        }
    }

    #[test]
    fn a_day_credited_in_one_line_without_the_payment_that_never_came() {
        let s = DepositSettings::default();
        let payments = vec![
            pay(1, "1", "2026-09-01", "100.00"),
            pay(2, "1", "2026-09-01", "200.00"),
            pay(3, "1", "2026-09-01", "350.00"), // never credited
            pay(4, "1", "2026-09-01", "400.00"), // credited apart, the next day
        ];
        let credits =
            vec![credit(1, "1", "2026-09-01", "300.00", Some("cielo")), credit(2, "1", "2026-09-02", "400.00", None)];
        let covered = |_: &AccountKey, _: NaiveDate, _: NaiveDate| true;
        let r = match_deposits(&payments, &credits, &covered, &s);
        let got = found(&r);
        use Status::*;
        assert_eq!(
            got,
            [
                (Deposited, vec![1, 0], vec![0], 0, "payments summed"),
                (DepositedLate, vec![3], vec![1], 1, "late"),
                (NotDeposited, vec![2], vec![], 0, "nothing deposited"),
            ]
        );
    }
}
