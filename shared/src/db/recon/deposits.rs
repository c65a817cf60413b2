//! What the bank area of a run reads (issue 19): the payments the acquirers announced, per merchant, account,
//! day and brand; the credits the bank statements show around the scope; which days each account's
//! statements cover; the bank holidays. Read inside the run's snapshot; held in memory, as they are few (one
//! payment per account, brand and day; a year of 50 accounts' daily statements is some 10⁵ credits).

use super::inputs::{list, PAYMENT_FILES, RV_PAYMENT_FILES};
use crate::error::Result;
use crate::formats::bank::BankAccount;
use crate::reconcile::deposits::{AccountKey, BankInputs, Coverage, Credit, Payment};
use crate::reconcile::Scope;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use tokio_postgres::GenericClient;

/// The payments dated from `margin` days before the scope to its end (those before it are read to explain
/// the credits at its start): Cielo's URs of its payment files that were paid or sent to the bank, Rede's
/// credits, and the proceeds of negotiations (Cielo 15's C records, Getnet's anticipations and daily payments,
/// PagBank's cashouts). One per merchant, acquirer, account, day and brand, summed; a day whose sum is not a
/// credit (a debit balance) is not a deposit. The query groups the accounts as written (cheap: no expression
/// per row); they are keyed here ([`BankAccount::key`], as `dim_bank_account`), and a negotiation's account
/// written without its check digit (Cielo's C record) is taken as the one the merchant's URs name that it
/// begins.
async fn payments(db: &impl GenericClient, scope: &Scope, margin: i32) -> Result<Vec<Payment>> {
    let sql = format!(
        "SELECT merchant_code, acquirer, bank_code, branch_code, account_number, check_digit, date, brand,
                sum(amount) AS amount, min(source) AS source, partial
           FROM (
             SELECT m.code AS merchant_code, a.code AS acquirer, u.bank_code, u.branch_code, u.account_number,
                    u.account_check_digit AS check_digit, u.payment_date AS date, pm.brand_code AS brand,
                    u.net_amount AS amount, ARRAY[u.file_id, u.line_no] AS source, false AS partial
               FROM fact_receivable_unit u {UNIT_JOINS}
               LEFT JOIN ref_payment_status ps ON ps.acquirer_key = e.acquirer_key
                    AND ps.code_set = 'cielo-v15' AND ps.code = u.payment_status_code
              WHERE u.net_amount IS NOT NULL AND u.account_number <> ''
                AND ((u.file_type IN ({payments}) AND ps.stage IN ('paid', 'sent', 'resent'))
                     OR (u.file_type IN ({rv_payments}) AND (pt.is_sale OR pt.category = 'anticipation')))
                AND u.payment_date BETWEEN $1::date - $4::int AND $2 AND ($3::text IS NULL OR m.code = $3)
             UNION ALL
             SELECT e.merchant_code, a.code, c.bank_code, c.branch_code, c.account_number, '', n.payment_date, '',
                    c.deposited_amount, ARRAY[c.file_id, c.line_no], true
               FROM fact_negotiation_credit c
               JOIN fact_receivables_negotiation n ON n.file_id = c.file_id AND n.line_no = c.negotiation_line_no
               JOIN dim_establishment e ON e.establishment_key = c.establishment_key
               JOIN dim_acquirer a ON a.acquirer_key = e.acquirer_key
              WHERE c.account_number <> '' AND n.payment_date BETWEEN $1::date - $4::int AND $2
                AND ($3::text IS NULL OR e.merchant_code = $3)
           ) p
          GROUP BY merchant_code, acquirer, bank_code, branch_code, account_number, check_digit, date, brand, partial",
        UNIT_JOINS = super::inputs::UNIT_JOINS,
        payments = list(PAYMENT_FILES),
        rv_payments = list(RV_PAYMENT_FILES),
    );
    let rows = db.query(&sql, &[&scope.from, &scope.to, &scope.merchant, &margin]).await?;
    /// One grouped row: whose, the account as written, whether it lacks its check digit, and the payment.
    struct Row {
        merchant_code: String,
        acquirer: String,
        account: BankAccount,
        partial: bool,
        date: NaiveDate,
        brand: String,
        amount: Decimal,
        source: (i64, i64),
    }
    let read: Vec<Row> = rows
        .iter()
        .filter_map(|r| {
            let (number, digit): (String, String) = (r.get("account_number"), r.get("check_digit"));
            if !number.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
                return None;
            }
            let digits = number.trim_start_matches('0');
            let source: Vec<i64> = r.get("source");
            Some(Row {
                merchant_code: r.get("merchant_code"),
                acquirer: r.get("acquirer"),
                account: BankAccount {
                    bank: r.get("bank_code"),
                    branch: r.get("branch_code"),
                    number: if digit.trim().is_empty() {
                        digits.to_string()
                    } else {
                        format!("{digits}-{}", digit.trim())
                    },
                },
                partial: r.get("partial"),
                date: r.get("date"),
                brand: r.get("brand"),
                amount: r.get("amount"),
                source: (source[0], source[1]),
            })
        })
        .collect();
    // The accounts the URs name, per merchant, acquirer and bank: what a negotiation's short number completes to.
    let mut named: BTreeMap<(&str, &str, String), BTreeSet<AccountKey>> = BTreeMap::new();
    for r in read.iter().filter(|r| !r.partial) {
        let key = r.account.key();
        named.entry((&r.merchant_code, &r.acquirer, key.0.clone())).or_default().insert(key);
    }
    let mut merged: BTreeMap<(String, String, AccountKey, NaiveDate, String), Payment> = BTreeMap::new();
    for r in &read {
        let mut key = r.account.key();
        if r.partial {
            if let Some(full) =
                named.get(&(r.merchant_code.as_str(), r.acquirer.as_str(), key.0.clone())).and_then(|ks| {
                    ks.iter()
                        .find(|k| k.1 == key.1)
                        .or_else(|| ks.iter().find(|k| k.1.len() == key.1.len() + 1 && k.1.starts_with(&key.1)))
                })
            {
                key = full.clone();
            }
        }
        let label =
            format!("{:0>3} / {} / {}", r.account.bank.trim_start_matches('0'), r.account.branch, r.account.number);
        let p = merged
            .entry((r.merchant_code.clone(), r.acquirer.clone(), key.clone(), r.date, r.brand.clone()))
            .or_insert_with(|| Payment {
                acquirer: r.acquirer.clone(),
                merchant_code: r.merchant_code.clone(),
                account: key,
                account_label: label.clone(),
                date: r.date,
                amount: Decimal::ZERO,
                brand: r.brand.clone(),
                source: r.source,
            });
        p.amount += r.amount;
        p.source = p.source.min(r.source);
        if !r.partial && p.account_label.len() < label.len() {
            p.account_label = label;
        }
    }
    Ok(merged.into_values().filter(|p| p.amount > Decimal::ZERO).collect())
}

/// The bank statements' credits from `margin` days before the scope to `margin` days after it, with whose
/// account each is (the merchant an acquirer declared it for; else Rede's PV in its memo). With a merchant in
/// the scope: the credits of its accounts, of accounts nobody declared (the money may have gone there), and
/// those naming it.
async fn credits(db: &impl GenericClient, scope: &Scope, margin: i32) -> Result<Vec<Credit>> {
    // No statement entry in the window (most runs of a merchant without bank statements): nothing to read.
    let any: bool = db
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM fact_bank_entry WHERE amount > 0
                             AND entry_date BETWEEN $1::date - $3::int AND $2::date + $3::int)",
            &[&scope.from, &scope.to, &margin],
        )
        .await?
        .get(0);
    if !any {
        return Ok(Vec::new());
    }
    let rows = db
        .query(
            "WITH declared AS MATERIALIZED (
                SELECT bank_norm, number_norm, min(merchant_code) AS merchant_code,
                       bool_or(merchant_code = $3) AS theirs
                  FROM acquirer_declared_account GROUP BY bank_norm, number_norm)
             SELECT b.bank_norm, b.number_norm, ltrim(b.bank, '0') AS bank, b.branch, b.number,
                    coalesce(o.merchant_code, be.acquirer_merchant, '') AS merchant_code, be.entry_date,
                    be.amount, be.acquirer, be.card_money_rule IS NOT NULL AS card_money, be.memo, be.file_id,
                    be.line_no
               FROM fact_bank_entry be
               JOIN dim_bank_account b ON b.bank_account_key = be.bank_account_key
               LEFT JOIN declared o ON o.bank_norm = b.bank_norm AND o.number_norm = b.number_norm
              WHERE be.amount > 0 AND be.entry_date BETWEEN $1::date - $4::int AND $2::date + $4::int
                AND ($3::text IS NULL OR o.merchant_code IS NULL OR o.theirs OR be.acquirer_merchant = $3)",
            &[&scope.from, &scope.to, &scope.merchant, &margin],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Credit {
            account: (r.get("bank_norm"), r.get("number_norm")),
            account_label: format!(
                "{:0>3} / {} / {}",
                r.get::<_, String>("bank"),
                r.get::<_, String>("branch"),
                r.get::<_, String>("number")
            ),
            merchant_code: r.get("merchant_code"),
            date: r.get("entry_date"),
            amount: r.get("amount"),
            acquirer: r.get("acquirer"),
            card_money: r.get("card_money"),
            memo: r.get("memo"),
            source: (r.get("file_id"), r.get("line_no")),
        })
        .collect())
}

/// The days each account's loaded statements cover.
pub(super) async fn coverage(db: &impl GenericClient) -> Result<Coverage> {
    let rows = db
        .query(
            "SELECT b.bank_norm, b.number_norm, s.period_start, s.period_end
               FROM fact_bank_statement s JOIN dim_bank_account b ON b.bank_account_key = s.bank_account_key
              WHERE s.period_start IS NOT NULL AND s.period_end IS NOT NULL",
            &[],
        )
        .await?;
    let mut c = Coverage::default();
    for r in rows {
        c.add((r.get(0), r.get(1)), r.get(2), r.get(3));
    }
    Ok(c)
}

/// Everything the bank area reads, `margin` days around the scope.
pub(super) async fn inputs(db: &impl GenericClient, scope: &Scope, margin: i32) -> Result<BankInputs> {
    Ok(BankInputs {
        payments: payments(db, scope, margin).await?,
        credits: credits(db, scope, margin).await?,
        coverage: coverage(db).await?,
        holidays: holidays(db).await?,
    })
}

/// The days no bank clears, besides weekends.
async fn holidays(db: &impl GenericClient) -> Result<BTreeSet<NaiveDate>> {
    Ok(db.query("SELECT day FROM ref_bank_holiday", &[]).await?.iter().map(|r| r.get(0)).collect())
}

/// Calendar days read around the scope: enough for any window of business days (weekends, holidays).
pub(super) fn margin_days(settings: &crate::reconcile::Settings) -> i32 {
    (settings.deposit_window_business_days.min(1000) as i32) * 2 + 10
}
