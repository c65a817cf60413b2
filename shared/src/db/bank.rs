//! Bank statements into facts (V27): the accounts (`dim_bank_account`), each account's statement in a file
//! (`fact_bank_statement`) and its entries (`fact_bank_entry`), written in the file's loading transaction. An
//! entry an overlapping statement of the same account already loaded is not written again (by its dedupe key:
//! see [`crate::formats::bank::DedupeRule`]); how many were is returned. What each entry says about card money
//! (the acquirer and brand its memo names, a Rede PV: [`crate::reconcile::bank::card_money`]) is kept with it.

use crate::error::Result;
use crate::formats::bank::{BankEntry, BankFormat, BankStatementSummary};
use tokio_postgres::Transaction;

/// What loading a bank statement wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BankLoad {
    /// Entries written.
    pub entries: u64,
    /// Entries already loaded from an overlapping statement of the same account, not written again.
    pub already_loaded: u64,
}

/// Write a validated bank statement's accounts, statements and entries for `file_id`.
pub async fn load(
    tx: &Transaction<'_>,
    file_id: i64,
    summary: &BankStatementSummary,
    entries: &[BankEntry],
) -> Result<BankLoad> {
    let mut keys = Vec::with_capacity(summary.accounts.len());
    for a in &summary.accounts {
        let (bank_norm, number_norm) = a.account.key();
        let key: i32 = tx
            .query_one(
                "INSERT INTO dim_bank_account (bank, branch, number, bank_norm, number_norm)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (bank_norm, number_norm) DO UPDATE
                    SET branch = CASE WHEN dim_bank_account.branch = '' THEN EXCLUDED.branch
                                      ELSE dim_bank_account.branch END
                 RETURNING bank_account_key",
                &[&a.account.bank, &a.account.branch, &a.account.number, &bank_norm, &number_norm],
            )
            .await?
            .get(0);
        tx.execute(
            "INSERT INTO fact_bank_statement (file_id, bank_account_key, period_start, period_end, opening_balance,
                                              closing_balance, entries, credits, debits, line_no)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (file_id, bank_account_key) DO UPDATE
                SET entries = fact_bank_statement.entries + EXCLUDED.entries,
                    credits = fact_bank_statement.credits + EXCLUDED.credits,
                    debits = fact_bank_statement.debits + EXCLUDED.debits",
            &[
                &file_id,
                &key,
                &a.period_start,
                &a.period_end,
                &a.opening_balance,
                &a.closing_balance,
                &(a.entries as i32),
                &a.credits,
                &a.debits,
                &(a.line as i64),
            ],
        )
        .await?;
        keys.push(key);
    }
    // An OFX entry's id is its key when it is there and no other entry of the file has it.
    let mut ids: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
    if summary.format == Some(BankFormat::Ofx) {
        for e in entries.iter().filter(|e| !e.bank_id.is_empty()) {
            *ids.entry(e.bank_id.as_str()).or_default() += 1;
        }
    }
    // What each entry says about card money (the words are data).
    let keywords: Vec<crate::reconcile::bank::MemoKeyword> = tx
        .query("SELECT keyword, acquirer, brand FROM ref_bank_memo_keyword", &[])
        .await?
        .iter()
        .map(|r| crate::reconcile::bank::MemoKeyword { keyword: r.get(0), acquirer: r.get(1), brand: r.get(2) })
        .collect();
    let n = entries.len();
    let (mut entry_no, mut line_no, mut account, mut date, mut amount) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut bank_id, mut memo, mut bank_code, mut category) =
        (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut occurrence, mut rule, mut key) = (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    let mut money: Vec<Option<crate::reconcile::bank::CardMoney>> = Vec::with_capacity(n);
    for (i, e) in entries.iter().enumerate() {
        let (r, k) = e.dedupe_key(ids.get(e.bank_id.as_str()) == Some(&1));
        entry_no.push(i as i32 + 1);
        line_no.push(e.line as i64);
        account.push(keys.get(e.account).copied().unwrap_or_default());
        date.push(e.date);
        amount.push(e.amount);
        bank_id.push(e.bank_id.as_str());
        memo.push(e.memo.as_str());
        bank_code.push(e.bank_code.as_str());
        category.push(e.category.as_deref());
        occurrence.push(e.occurrence as i32);
        rule.push(r.as_str());
        key.push(k);
        money.push(crate::reconcile::bank::card_money(&e.memo, e.category.as_deref(), &keywords));
    }
    let acquirer: Vec<Option<&str>> = money.iter().map(|m| m.as_ref().and_then(|m| m.acquirer.as_deref())).collect();
    let brand: Vec<Option<&str>> = money.iter().map(|m| m.as_ref().and_then(|m| m.brand.as_deref())).collect();
    let merchant: Vec<Option<&str>> = money.iter().map(|m| m.as_ref().and_then(|m| m.merchant.as_deref())).collect();
    let settlement: Vec<Option<&str>> = money.iter().map(|m| m.as_ref().and_then(|m| m.settlement)).collect();
    let money_rule: Vec<Option<&str>> = money.iter().map(|m| m.as_ref().map(|m| m.rule.as_str())).collect();
    let written = tx
        .execute(
            "INSERT INTO fact_bank_entry (file_id, entry_no, line_no, bank_account_key, entry_date, amount, bank_id,
                                          memo, bank_code, category, occurrence, dedupe_rule, dedupe_key, acquirer,
                                          acquirer_brand, acquirer_merchant, acquirer_settlement, card_money_rule)
             SELECT $1, * FROM unnest($2::int[], $3::bigint[], $4::int[], $5::date[], $6::numeric[], $7::text[],
                                      $8::text[], $9::text[], $10::text[], $11::int[], $12::text[], $13::text[],
                                      $14::text[], $15::text[], $16::text[], $17::text[], $18::text[])
             ON CONFLICT (bank_account_key, dedupe_key) DO NOTHING",
            &[
                &file_id,
                &entry_no,
                &line_no,
                &account,
                &date,
                &amount,
                &bank_id,
                &memo,
                &bank_code,
                &category,
                &occurrence,
                &rule,
                &key,
                &acquirer,
                &brand,
                &merchant,
                &settlement,
                &money_rule,
            ],
        )
        .await?;
    Ok(BankLoad { entries: written, already_loaded: entries.len() as u64 - written })
}

/// One account's statement in a loaded file, as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredStatement {
    pub bank: String,
    pub branch: String,
    pub number: String,
    pub period_start: Option<chrono::NaiveDate>,
    pub period_end: Option<chrono::NaiveDate>,
    pub opening_balance: Option<rust_decimal::Decimal>,
    pub closing_balance: Option<rust_decimal::Decimal>,
    pub entries: i32,
    pub credits: rust_decimal::Decimal,
    pub debits: rust_decimal::Decimal,
    /// Of its entries, those that say they are card money (an acquirer's name, Rede's PV, category 222).
    pub card_money_entries: i64,
}

/// The accounts' statements a loaded bank statement file holds, in the order of the file.
pub async fn statements_of(db: &impl tokio_postgres::GenericClient, file_id: i64) -> Result<Vec<StoredStatement>> {
    let rows = db
        .query(
            "SELECT a.bank, a.branch, a.number, s.period_start, s.period_end, s.opening_balance, s.closing_balance,
                    s.entries, s.credits, s.debits,
                    (SELECT count(*) FROM fact_bank_entry e
                      WHERE e.bank_account_key = s.bank_account_key AND e.file_id = s.file_id
                        AND e.card_money_rule IS NOT NULL)
               FROM fact_bank_statement s JOIN dim_bank_account a USING (bank_account_key)
              WHERE s.file_id = $1 ORDER BY s.line_no",
            &[&file_id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| StoredStatement {
            bank: r.get(0),
            branch: r.get(1),
            number: r.get(2),
            period_start: r.get(3),
            period_end: r.get(4),
            opening_balance: r.get(5),
            closing_balance: r.get(6),
            entries: r.get(7),
            credits: r.get(8),
            debits: r.get(9),
            card_money_entries: r.get(10),
        })
        .collect())
}
