//! Bank statements ("extrato bancário"): the third leg of the reconciliation — did the money the acquirers
//! say they paid reach the merchant's account? Two formats, each in its own file: [`ofx`] (what merchants
//! download from internet banking, OFX 1.x SGML and 2.x XML, with every Brazilian bank's quirks) and
//! [`cnab240`] (FEBRABAN CNAB 240 "extrato para conciliação bancária", what banks send to ERPs).
//!
//! Pure and synchronous like the acquirer formats: bytes in, validated [`BankEntry`]s to a sink and a
//! [`BankStatementSummary`] out. What cannot be read unambiguously is an error naming line, column and field
//! (the file is rejected); a deviation whose meaning is clear is read and kept as an anomaly.
//! Layouts: `docs/formats.md` (bank statements) and the notes it cites.

pub mod cnab240;
pub mod ofx;
pub mod sample;

use super::{Anomaly, AnomalyKind, Issue, MAX_KEPT_ISSUES};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

/// The largest bank statement read (a bank statement is one account's day or month: kilobytes; a file this
/// large is not one). The whole file is decoded at once: its character set is known only from all its bytes.
pub const MAX_BANK_STATEMENT_BYTES: usize = 64 << 20;

/// Which bank statement format a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BankFormat {
    Ofx,
    Cnab240,
}

impl BankFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            BankFormat::Ofx => "ofx",
            BankFormat::Cnab240 => "cnab240",
        }
    }

    /// For people: `OFX`, `CNAB 240 extrato`.
    pub fn describe(self) -> &'static str {
        match self {
            BankFormat::Ofx => "OFX",
            BankFormat::Cnab240 => "CNAB 240 extrato",
        }
    }
}

/// Whether a file's first line is that of a bank statement: an OFX header or body start, or a CNAB 240
/// header de arquivo (lote 0000, registro 0) — for telling such a file apart from an acquirer's by name.
pub fn detect_first_line(line: &[u8]) -> Option<BankFormat> {
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    let start = line.iter().position(|b| !b.is_ascii_whitespace()).map_or(&line[..0], |i| &line[i..]);
    if start.starts_with(b"OFXHEADER")
        || start.starts_with(b"<OFX>")
        || start.starts_with(b"<?xml") && line.windows(5).any(|w| w == b"<?OFX")
    {
        return Some(BankFormat::Ofx);
    }
    let is_digits = |b: &[u8]| b.iter().all(u8::is_ascii_digit);
    (line.len() >= 143 && is_digits(&line[..8]) && &line[3..8] == b"00000").then_some(BankFormat::Cnab240)
}

/// A bank account as the statement names it ("conta"): the bank's code, the branch ("agência") and the
/// account number with its check digits, as written (formats differ: `54321-9`, `2713/8862`; normalised when
/// matched, never here).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct BankAccount {
    pub bank: String,
    pub branch: String,
    pub number: String,
}

impl BankAccount {
    /// The account's identity across files and formats: bank and number as digits without leading zeros
    /// (OFX `0341` / `56789-0` and CNAB `341` / `000000056789` + DV are the same account). The branch is not
    /// part of it: OFX files often leave it out.
    pub fn key(&self) -> (String, String) {
        let digits = |s: &str| {
            let d: String = s.chars().filter(char::is_ascii_digit).collect();
            let t = d.trim_start_matches('0');
            if t.is_empty() && !d.is_empty() {
                "0".to_string()
            } else {
                t.to_string()
            }
        };
        (digits(&self.bank), digits(&self.number))
    }
}

/// How an entry is told apart from the same entry in an overlapping statement of its account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DedupeRule {
    /// By the bank's id (an OFX FITID every entry of the file has, each distinct), with date and amount.
    BankId,
    /// By date, amount, memo (case and runs of blanks aside) and order among identical entries of its file.
    Content,
}

impl DedupeRule {
    pub fn as_str(self) -> &'static str {
        match self {
            DedupeRule::BankId => "bank_id",
            DedupeRule::Content => "content",
        }
    }
}

impl BankEntry {
    /// Its rule and key (see [`DedupeRule`]); `id_is_unique` says whether its id is non-empty and no other
    /// entry of its file has it.
    pub fn dedupe_key(&self, id_is_unique: bool) -> (DedupeRule, String) {
        let amount = format!("{:.2}", self.amount.round_dp(2));
        if id_is_unique {
            (DedupeRule::BankId, format!("{}|{amount}|{}", self.date, self.bank_id))
        } else {
            let memo = self.memo.split_whitespace().collect::<Vec<_>>().join(" ").to_uppercase();
            (DedupeRule::Content, format!("{}|{amount}|{memo}|{}", self.date, self.occurrence))
        }
    }
}

/// One account's statement over a period, as the file states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountStatement {
    /// 1-based line where it starts (OFX: its account element; CNAB 240: its header de lote).
    pub line: u64,
    pub account: BankAccount,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    /// Opening and closing balance (CNAB 240: both; OFX: the ledger balance as closing, when given).
    pub opening_balance: Option<Decimal>,
    pub closing_balance: Option<Decimal>,
    pub entries: u64,
    /// Σ of the credits (positive) and of the debits (as a positive amount).
    pub credits: Decimal,
    pub debits: Decimal,
}

/// One entry of a bank statement ("lançamento"): a credit (positive) or a debit (negative).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BankEntry {
    /// 1-based line of the file where the entry starts.
    pub line: u64,
    /// Its account: an index into [`BankStatementSummary::accounts`].
    pub account: usize,
    /// The day it was posted (times in bank files are fake: BB posts everything at 12:00).
    pub date: NaiveDate,
    pub amount: Decimal,
    /// The bank's id of the entry (OFX FITID, CNAB document number), trimmed; may be empty and is not unique.
    pub bank_id: String,
    /// What the bank wrote about it (OFX MEMO or NAME; CNAB "descrição do histórico"), trimmed.
    pub memo: String,
    /// The entry's kind as the bank codes it (OFX TRNTYPE; CNAB "código do histórico").
    pub bank_code: String,
    /// FEBRABAN category (CNAB 240 only: `205` lançamento avisado, `222` card receivables…): a hint.
    pub category: Option<String>,
    /// Among the entries of this file with the same account, date, amount, id and memo, which one this is
    /// (0 for the first): two identical lines are two entries, never merged.
    pub occurrence: u32,
}

/// What reading a bank statement found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BankStatementSummary {
    pub file: String,
    pub format: Option<BankFormat>,
    /// How the bytes were decoded (`utf-8`, `windows-1252`).
    pub encoding: &'static str,
    pub lines: u64,
    pub accounts: Vec<AccountStatement>,
    pub error_count: u64,
    pub errors: Vec<Issue>,
    pub anomalies: Vec<Anomaly>,
}

impl BankStatementSummary {
    fn new(file: &str) -> BankStatementSummary {
        BankStatementSummary {
            file: file.to_string(),
            format: None,
            encoding: "utf-8",
            lines: 0,
            accounts: Vec::new(),
            error_count: 0,
            errors: Vec::new(),
            anomalies: Vec::new(),
        }
    }

    pub fn is_valid(&self) -> bool {
        self.error_count == 0 && self.format.is_some()
    }

    /// The same findings as a [`super::StatementSummary`], for what prints and stores statements: file type
    /// `OFX` / `CNAB240` (kind `bank_statement`), the period its accounts cover, the entries and accounts
    /// counted, every error and anomaly.
    pub fn as_statement_summary(&self, size_bytes: u64, sha256: String) -> super::StatementSummary {
        let mut s = super::StatementSummary::new(&self.file);
        s.size_bytes = size_bytes;
        s.sha256 = sha256;
        s.file_type = self.format.map(|f| crate::model::FileType {
            code: match f {
                BankFormat::Ofx => "OFX".into(),
                BankFormat::Cnab240 => "CNAB240".into(),
            },
            kind: "bank_statement",
        });
        s.period_start = self.accounts.iter().filter_map(|a| a.period_start).min();
        s.period_end = self.accounts.iter().filter_map(|a| a.period_end).max();
        s.lines = self.lines;
        s.record_counts.insert("accounts".into(), self.accounts.len() as u64);
        s.record_counts.insert("entries".into(), self.entries());
        s.error_count = self.error_count;
        s.errors = self.errors.clone();
        s.anomaly_count = self.anomalies.len() as u64;
        s.anomalies = self.anomalies.clone();
        if !self.is_valid() {
            s.status = super::Validity::Rejected;
        }
        s
    }

    /// Entries of all accounts.
    pub fn entries(&self) -> u64 {
        self.accounts.iter().map(|a| a.entries).sum()
    }

    fn error(&mut self, line: u64, column: Option<usize>, field: &str, reason: String) {
        self.error_count += 1;
        if self.errors.len() < MAX_KEPT_ISSUES {
            self.errors.push(Issue { line, column, field: field.to_string(), reason, raw_line: None });
        }
    }

    /// Keep an anomaly found at (line, column, field).
    fn anomaly(
        &mut self,
        (line, column, field): (u64, Option<usize>, &str),
        kind: AnomalyKind,
        found: String,
        used: String,
        reason: &str,
    ) {
        if self.anomalies.len() < MAX_KEPT_ISSUES {
            self.anomalies.push(Anomaly {
                line,
                column,
                field: field.to_string(),
                kind,
                found,
                used,
                reason: reason.to_string(),
            });
        }
    }
}

/// Counts entries that repeat (account, date, amount, id, memo) within one file, for [`BankEntry::occurrence`].
#[derive(Default)]
struct Occurrences(std::collections::HashMap<(usize, NaiveDate, Decimal, String, String), u32>);

impl Occurrences {
    fn next(&mut self, e: &BankEntry) -> u32 {
        let n = self.0.entry((e.account, e.date, e.amount, e.bank_id.clone(), e.memo.clone())).or_insert(0);
        *n += 1;
        *n - 1
    }
}

/// Whether these bytes are a bank statement, and which.
pub fn detect(bytes: &[u8]) -> Option<BankFormat> {
    let start = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let head = &start[..start.len().min(4096)];
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start();
    if trimmed.starts_with("OFXHEADER") || trimmed.contains("<OFX>") || trimmed.contains("<?OFX") {
        return Some(BankFormat::Ofx);
    }
    // CNAB 240: a header de arquivo (lote 0000, registro 0) followed by a header de lote of an extrato
    // (operação E, serviço 04).
    let mut lines = start.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let first = lines.next()?;
    let second = lines.next()?;
    let is_digits = |b: &[u8]| !b.is_empty() && b.iter().all(u8::is_ascii_digit);
    (first.len() >= 143
        && is_digits(&first[..8])
        && &first[3..8] == b"00000"
        && second.len() >= 17
        && second[7] == b'1'
        && second[8] == b'E'
        && &second[9..11] == b"04")
        .then_some(BankFormat::Cnab240)
}

/// Read a bank statement: its entries to `sink` (in file order), its accounts, errors and anomalies in the
/// summary. An unknown format is one error saying so.
pub fn read_bank_statement(bytes: &[u8], file: &str, sink: &mut dyn FnMut(BankEntry)) -> BankStatementSummary {
    let mut summary = BankStatementSummary::new(file);
    if bytes.len() > MAX_BANK_STATEMENT_BYTES {
        summary.error(
            0,
            None,
            "file",
            format!("{} bytes: larger than any bank statement ({MAX_BANK_STATEMENT_BYTES} at most)", bytes.len()),
        );
        return summary;
    }
    match detect(bytes) {
        Some(BankFormat::Ofx) => ofx::read(bytes, &mut summary, sink),
        Some(BankFormat::Cnab240) => cnab240::read(bytes, &mut summary, sink),
        None => summary.error(
            1,
            None,
            "file",
            "neither an OFX statement (OFXHEADER / <OFX>) nor a CNAB 240 extrato (header de arquivo, then a \
             header de lote with operação E, serviço 04)"
                .into(),
        ),
    }
    summary
}

/// All of a file's entries, with its summary (for tests and tools; a load streams them).
pub fn read_all(bytes: &[u8], file: &str) -> (BankStatementSummary, Vec<BankEntry>) {
    let mut entries = Vec::new();
    let summary = read_bank_statement(bytes, file, &mut |e| entries.push(e));
    (summary, entries)
}

/// Add an entry to its account's figures and hand it on, numbered among its identical twins.
fn emit(
    summary: &mut BankStatementSummary,
    occurrences: &mut Occurrences,
    mut entry: BankEntry,
    sink: &mut dyn FnMut(BankEntry),
) {
    entry.occurrence = occurrences.next(&entry);
    if let Some(a) = summary.accounts.get_mut(entry.account) {
        a.entries += 1;
        if entry.amount >= Decimal::ZERO {
            a.credits += entry.amount;
        } else {
            a.debits -= entry.amount;
        }
    }
    sink(entry);
}

#[cfg(test)]
mod tests;
