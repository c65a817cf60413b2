//! What the bank area of a run reads (issue 19): the payments the acquirers announced, per merchant, account,
//! day and brand; the credits the bank statements show around the scope; which days each account's
//! statements cover; the bank holidays. Read inside the run's snapshot; held in memory, as they are few (one
//! payment per account, brand and day; a year of 50 accounts' daily statements is some 10⁵ credits).

use super::inputs::{list, PAYMENT_FILES, RV_PAYMENT_FILES};
use crate::error::Result;
use crate::reconcile::deposits::{BankInputs, Coverage, Credit, Payment};
use crate::reconcile::Scope;
use chrono::NaiveDate;
use std::collections::BTreeSet;
use tokio_postgres::GenericClient;

/// An account number as dim_bank_account and acquirer_declared_account key it: digits only, no leading zeros.
fn norm(expr: &str) -> String {
    format!("coalesce(nullif(ltrim(regexp_replace({expr}, '[^0-9]', '', 'g'), '0'), ''), '0')")
}

/// The payments dated from `margin` days before the scope to its end (those before it are read to explain
/// the credits at its start): Cielo's URs of its payment files that were paid or sent to the bank, Rede's
/// credits, and the proceeds of receivables negotiations (Cielo 15's C records, keyed to the account the
/// acquirer declared when they carry its number without the check digit). One per merchant, acquirer,
/// account, day and brand, summed; a day whose sum is not a credit (a debit balance) is not a deposit.
async fn payments(db: &impl GenericClient, scope: &Scope, margin: i32) -> Result<Vec<Payment>> {
    let sql = format!(
        "SELECT merchant_code, acquirer, bank_norm, number_norm, min(label) AS label, date, brand,
                sum(amount) AS amount, min(source) AS source
           FROM (
             SELECT m.code AS merchant_code, a.code AS acquirer, {bank} AS bank_norm, {number} AS number_norm,
                    lpad(ltrim(u.bank_code, '0'), 3, '0') || ' / ' || u.branch_code || ' / ' || ltrim(u.account_number, '0')
                        || '-' || u.account_check_digit AS label,
                    u.payment_date AS date, pm.brand_code AS brand, u.net_amount AS amount,
                    ARRAY[u.file_id, u.line_no] AS source
               FROM fact_receivable_unit u {UNIT_JOINS}
               LEFT JOIN ref_payment_status ps ON ps.acquirer_key = e.acquirer_key
                    AND ps.code_set = 'cielo-v15' AND ps.code = u.payment_status_code
              WHERE u.account_number ~ '[1-9]' AND u.net_amount IS NOT NULL
                AND ((u.file_type IN ({payments}) AND ps.stage IN ('paid', 'sent', 'resent'))
                     OR (u.file_type IN ({rv_payments}) AND (pt.is_sale OR pt.category = 'anticipation')))
                AND u.payment_date BETWEEN $1::date - $4::int AND $2 AND ($3::text IS NULL OR m.code = $3)
             UNION ALL
             SELECT e.merchant_code, a.code, coalesce(d.bank_norm, {c_bank}), coalesce(d.number_norm, {c_number}),
                    lpad(ltrim(c.bank_code, '0'), 3, '0') || ' / ' || c.branch_code || ' / ' || ltrim(c.account_number, '0'),
                    n.payment_date, '', c.deposited_amount, ARRAY[c.file_id, c.line_no]
               FROM fact_negotiation_credit c
               JOIN fact_receivables_negotiation n ON n.file_id = c.file_id AND n.line_no = c.negotiation_line_no
               JOIN dim_establishment e ON e.establishment_key = c.establishment_key
               JOIN dim_acquirer a ON a.acquirer_key = e.acquirer_key
               LEFT JOIN LATERAL (
                    SELECT d.bank_norm, d.number_norm FROM acquirer_declared_account d
                     WHERE d.acquirer = a.code AND d.merchant_code = e.merchant_code AND d.bank_norm = {c_bank}
                       AND (d.number_norm = {c_number} OR d.number_norm LIKE {c_number} || '_')
                     ORDER BY d.number_norm = {c_number} DESC, d.number_norm LIMIT 1) d ON true
              WHERE c.account_number ~ '[1-9]' AND n.payment_date BETWEEN $1::date - $4::int AND $2
                AND ($3::text IS NULL OR e.merchant_code = $3)
           ) p
          GROUP BY merchant_code, acquirer, bank_norm, number_norm, date, brand
         HAVING sum(amount) > 0",
        UNIT_JOINS = super::inputs::UNIT_JOINS,
        bank = norm("u.bank_code"),
        number = norm("u.account_number || u.account_check_digit"),
        c_bank = norm("c.bank_code"),
        c_number = norm("c.account_number"),
        payments = list(PAYMENT_FILES),
        rv_payments = list(RV_PAYMENT_FILES),
    );
    let rows = db.query(&sql, &[&scope.from, &scope.to, &scope.merchant, &margin]).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let source: Vec<i64> = r.get("source");
            Payment {
                acquirer: r.get("acquirer"),
                merchant_code: r.get("merchant_code"),
                account: (r.get("bank_norm"), r.get("number_norm")),
                account_label: r.get("label"),
                date: r.get("date"),
                amount: r.get("amount"),
                brand: r.get("brand"),
                source: (source[0], source[1]),
            }
        })
        .collect())
}

/// The bank statements' credits from `margin` days before the scope to `margin` days after it, with whose
/// account each is (the merchant an acquirer declared it for; else Rede's PV in its memo). With a merchant in
/// the scope: the credits of its accounts, of accounts nobody declared (the money may have gone there), and
/// those naming it.
async fn credits(db: &impl GenericClient, scope: &Scope, margin: i32) -> Result<Vec<Credit>> {
    let rows = db
        .query(
            "SELECT b.bank_norm, b.number_norm, lpad(ltrim(b.bank, '0'), 3, '0') || ' / ' || b.branch || ' / ' || b.number AS label,
                    coalesce(o.merchant_code, be.acquirer_merchant, '') AS merchant_code, be.entry_date,
                    be.amount, be.acquirer, be.card_money_rule IS NOT NULL AS card_money, be.memo, be.file_id,
                    be.line_no
               FROM fact_bank_entry be
               JOIN dim_bank_account b ON b.bank_account_key = be.bank_account_key
               LEFT JOIN LATERAL (
                    SELECT min(d.merchant_code) AS merchant_code, bool_or(d.merchant_code = $3) AS theirs
                      FROM acquirer_declared_account d
                     WHERE d.bank_norm = b.bank_norm AND d.number_norm = b.number_norm) o ON true
              WHERE be.amount > 0 AND be.entry_date BETWEEN $1::date - $4::int AND $2::date + $4::int
                AND ($3::text IS NULL OR o.merchant_code IS NULL OR o.theirs OR be.acquirer_merchant = $3)",
            &[&scope.from, &scope.to, &scope.merchant, &margin],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Credit {
            account: (r.get("bank_norm"), r.get("number_norm")),
            account_label: r.get("label"),
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
