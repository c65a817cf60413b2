//! FEBRABAN CNAB 240 "extrato de conta corrente para conciliação bancária" (layout 08.2, serviço 04,
//! operação E): a header de arquivo (0), per account a lote — header de lote (1) with the opening balance,
//! one segmento E (3) per entry, trailer de lote (5) with the closing balance, the count and the sums of
//! debits and credits — and a trailer de arquivo (9) with the counts of lotes, records and accounts.
//! Positions from docs/formats.md (checked against real Itaú and Santander lines).
//!
//! Checked on load: every lote's count and sums against its trailer, opening balance ± entries = closing
//! balance, the file's counts against its trailer. A line shorter than 240 bytes is read when every field
//! read lies within it (tools trim trailing blanks: a real Santander trailer came 35 bytes long), kept as
//! an anomaly; a field beyond it is an error.

use super::{emit, AccountStatement, BankAccount, BankEntry, BankFormat, BankStatementSummary, Occurrences};
use crate::formats::field::{Field, FieldReader};
use crate::formats::AnomalyKind;
use rust_decimal::Decimal;

const RECORD: usize = 240;

const fn f(name: &'static str, start: usize, end: usize) -> Field {
    Field::new(name, start, end - start + 1)
}

const BANK: Field = f("banco", 1, 3);
const LOT: Field = f("lote", 4, 7);
const KIND: Field = f("registro", 8, 8);

/// Header de lote.
mod lot {
    use super::{f, Field};
    pub const OPERATION: Field = f("1.operacao", 9, 9);
    pub const SERVICE: Field = f("1.servico", 10, 11);
    pub const BRANCH: Field = f("1.agencia", 53, 57);
    pub const BRANCH_DV: Field = f("1.dv_agencia", 58, 58);
    pub const ACCOUNT: Field = f("1.conta", 59, 70);
    pub const ACCOUNT_DV: Field = f("1.dv_conta", 71, 71);
    pub const BRANCH_ACCOUNT_DV: Field = f("1.dv_agencia_conta", 72, 72);
    pub const OPENING_DATE: Field = f("1.data_saldo_inicial", 143, 150);
    pub const OPENING: Field = f("1.saldo_inicial", 151, 168);
    pub const OPENING_SIDE: Field = f("1.situacao_saldo_inicial", 169, 169);
    pub const OPENING_POSITION: Field = f("1.posicao_saldo_inicial", 170, 170);
}

/// Segmento E.
mod entry {
    use super::{f, Field};
    pub const SEQUENCE: Field = f("E.sequencial", 9, 13);
    pub const SEGMENT: Field = f("E.segmento", 14, 14);
    pub const DATE: Field = f("E.data_lancamento", 143, 150);
    pub const AMOUNT: Field = f("E.valor", 151, 168);
    pub const SIDE: Field = f("E.tipo", 169, 169);
    pub const CATEGORY: Field = f("E.categoria", 170, 172);
    pub const BANK_CODE: Field = f("E.codigo_historico", 173, 176);
    pub const MEMO: Field = f("E.historico", 177, 201);
    pub const DOCUMENT: Field = f("E.documento", 202, 240);
}

/// Trailer de lote.
mod lot_trailer {
    use super::{f, Field};
    pub const CLOSING_DATE: Field = f("5.data_saldo_final", 143, 150);
    pub const CLOSING: Field = f("5.saldo_final", 151, 168);
    pub const CLOSING_SIDE: Field = f("5.situacao_saldo_final", 169, 169);
    pub const CLOSING_POSITION: Field = f("5.posicao_saldo_final", 170, 170);
    pub const RECORDS: Field = f("5.qtde_registros", 171, 176);
    pub const DEBITS: Field = f("5.somatoria_debitos", 177, 194);
    pub const CREDITS: Field = f("5.somatoria_creditos", 195, 212);
}

/// Trailer de arquivo.
mod file_trailer {
    use super::{f, Field};
    pub const LOTS: Field = f("9.qtde_lotes", 18, 23);
    pub const RECORDS: Field = f("9.qtde_registros", 24, 29);
    pub const ACCOUNTS: Field = f("9.qtde_contas", 30, 35);
}

/// A lote being read.
struct Lot {
    line: u64,
    number: String,
    account: usize,
    opening: Decimal,
    /// Whether the opening balance is a final one (`F`), not partial or intra-day.
    opening_final: bool,
    records: u64,
    debits: Decimal,
    credits: Decimal,
    next_sequence: u64,
}

/// A balance signed by its side (`C` credor: positive, `D` devedor: negative).
fn signed(r: &mut FieldReader, amount: Field, side: Field) -> Decimal {
    let v = r.unsigned_decimal(amount, 2);
    match r.raw(side) {
        b"C" => v,
        b"D" => -v,
        other => {
            let found = crate::formats::field::escaped_line(other);
            r.fail(side.start, side.name, format!("{found:?} is neither C (credor) nor D (devedor)"));
            v
        }
    }
}

pub(super) fn read(bytes: &[u8], summary: &mut BankStatementSummary, sink: &mut dyn FnMut(BankEntry)) {
    summary.format = Some(BankFormat::Cnab240);
    summary.encoding = "latin-1";
    let mut occurrences = Occurrences::default();
    let mut lot: Option<Lot> = None;
    let (mut records, mut lots, mut trailer_seen) = (0u64, 0u64, false);
    let mut lines = bytes.split(|&b| b == b'\n').peekable();
    let mut n = 0u64;
    while let Some(raw) = lines.next() {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.is_empty() && lines.peek().is_none() {
            break;
        }
        n += 1;
        summary.lines = n;
        if raw.iter().all(|&b| b == b' ') {
            summary.error(n, None, "line", "a blank line inside the file".into());
            continue;
        }
        if trailer_seen {
            summary.error(n, None, "line", "a record after the trailer de arquivo".into());
            break;
        }
        records += 1;
        // Which fields this record needs decides how short it may be.
        let kind = raw.get(KIND.start - 1).copied();
        let needed = match kind {
            Some(b'0') => 166,
            Some(b'1') => 170,
            Some(b'3') => 201,
            Some(b'5') => 212,
            Some(b'9') => 35,
            _ => RECORD,
        };
        if raw.len() > RECORD {
            summary.error(n, Some(RECORD + 1), "line", format!("{} bytes: a CNAB 240 record has 240", raw.len()));
            continue;
        }
        if raw.len() < needed {
            summary.error(
                n,
                Some(raw.len() + 1),
                "line",
                format!("{} bytes: this record's fields reach byte {needed} (a CNAB 240 record has 240)", raw.len()),
            );
            continue;
        }
        if raw.len() < RECORD {
            summary.anomaly(
                (n, Some(raw.len() + 1), "line"),
                AnomalyKind::RightTrimmedLine,
                format!("{} bytes", raw.len()),
                "240 bytes, blank-padded".into(),
                "every field read lies within the line; what is missing is the trailing filler",
            );
        }
        let mut padded = raw.to_vec();
        padded.resize(RECORD, b' ');
        let mut r = FieldReader::new(&padded);
        let lot_number = r.digits(LOT);
        match kind {
            Some(b'0') => {
                if n != 1 {
                    r.fail(KIND.start, KIND.name, "a second header de arquivo".into());
                }
            }
            Some(b'1') => {
                if let Some(open) = &lot {
                    r.fail(
                        KIND.start,
                        KIND.name,
                        format!("a header de lote while lote {} (line {}) is open", open.number, open.line),
                    );
                }
                if r.raw(lot::OPERATION) != b"E" || r.raw(lot::SERVICE) != b"04" {
                    let found = crate::formats::field::escaped_line(&padded[8..11]);
                    r.fail(
                        lot::OPERATION.start,
                        lot::OPERATION.name,
                        format!("operação/serviço {found:?}: not an extrato para conciliação (E04)"),
                    );
                }
                let account = BankAccount {
                    bank: r.digits(BANK),
                    branch: format!("{}{}", r.digits(lot::BRANCH), suffix(&r.text(lot::BRANCH_DV))),
                    number: format!(
                        "{}{}{}",
                        r.digits(lot::ACCOUNT),
                        suffix(&r.text(lot::ACCOUNT_DV)),
                        r.text(lot::BRANCH_ACCOUNT_DV)
                    ),
                };
                let opening_date = r.date_dmy(lot::OPENING_DATE);
                let opening = signed(&mut r, lot::OPENING, lot::OPENING_SIDE);
                let opening_final = r.raw(lot::OPENING_POSITION) == b"F";
                summary.accounts.push(AccountStatement {
                    line: n,
                    account,
                    period_start: opening_date,
                    period_end: None,
                    opening_balance: Some(opening),
                    closing_balance: None,
                    entries: 0,
                    credits: Decimal::ZERO,
                    debits: Decimal::ZERO,
                });
                lots += 1;
                lot = Some(Lot {
                    line: n,
                    number: lot_number.clone(),
                    account: summary.accounts.len() - 1,
                    opening,
                    opening_final,
                    records: 1,
                    debits: Decimal::ZERO,
                    credits: Decimal::ZERO,
                    next_sequence: 1,
                });
            }
            Some(b'3') => {
                let Some(open) = lot.as_mut() else {
                    r.fail(KIND.start, KIND.name, "a detail outside any lote (no header de lote before it)".into());
                    flush(summary, n, r);
                    continue;
                };
                open.records += 1;
                if lot_number != open.number {
                    r.fail(LOT.start, LOT.name, format!("lote {lot_number} inside lote {}", open.number));
                }
                if r.raw(entry::SEGMENT) != b"E" {
                    let found = crate::formats::field::escaped_line(r.raw(entry::SEGMENT));
                    r.fail(
                        entry::SEGMENT.start,
                        entry::SEGMENT.name,
                        format!("segment {found:?}: an extrato has segment E only"),
                    );
                }
                let sequence = r.number(entry::SEQUENCE);
                if sequence != open.next_sequence {
                    summary.anomaly(
                        (n, Some(entry::SEQUENCE.start), entry::SEQUENCE.name),
                        AnomalyKind::UnreadableOptionalField,
                        sequence.to_string(),
                        open.next_sequence.to_string(),
                        "the sequence number within the lote is not the next one; entries are taken in file order",
                    );
                }
                open.next_sequence = sequence + 1;
                let date = r.date_dmy(entry::DATE);
                if date.is_none() && r.errors.is_empty() {
                    r.fail(entry::DATE.start, entry::DATE.name, "an entry without its date".into());
                }
                let amount = r.unsigned_decimal(entry::AMOUNT, 2);
                let amount = match r.raw(entry::SIDE) {
                    b"C" => amount,
                    b"D" => -amount,
                    other => {
                        let found = crate::formats::field::escaped_line(other);
                        r.fail(
                            entry::SIDE.start,
                            entry::SIDE.name,
                            format!("{found:?} is neither C (crédito) nor D (débito)"),
                        );
                        amount
                    }
                };
                let category = r.opt_text(entry::CATEGORY);
                let bank_code = r.text(entry::BANK_CODE);
                let memo = r.text(entry::MEMO).split_whitespace().collect::<Vec<_>>().join(" ");
                let document = r.text(entry::DOCUMENT);
                let account = open.account;
                if amount >= Decimal::ZERO {
                    open.credits += amount;
                } else {
                    open.debits -= amount;
                }
                if !r.errors.is_empty() {
                    flush(summary, n, r);
                    continue;
                }
                if let Some(date) = date {
                    let e = BankEntry {
                        line: n,
                        account,
                        date,
                        amount,
                        bank_id: document,
                        memo,
                        bank_code,
                        category,
                        occurrence: 0,
                    };
                    emit(summary, &mut occurrences, e, sink);
                }
            }
            Some(b'5') => {
                let Some(open) = lot.take() else {
                    r.fail(KIND.start, KIND.name, "a trailer de lote with no lote open".into());
                    flush(summary, n, r);
                    continue;
                };
                let closing_date = r.date_dmy(lot_trailer::CLOSING_DATE);
                let closing = signed(&mut r, lot_trailer::CLOSING, lot_trailer::CLOSING_SIDE);
                let declared_records = r.number(lot_trailer::RECORDS);
                let declared_debits = r.unsigned_decimal(lot_trailer::DEBITS, 2);
                let declared_credits = r.unsigned_decimal(lot_trailer::CREDITS, 2);
                let records_here = open.records + 1;
                if declared_records != records_here {
                    r.fail(lot_trailer::RECORDS.start, lot_trailer::RECORDS.name, format!("declares {declared_records} records, the lote has {records_here} (header, details, trailer)"));
                }
                if declared_debits != open.debits {
                    r.fail(
                        lot_trailer::DEBITS.start,
                        lot_trailer::DEBITS.name,
                        format!("declares debits of {declared_debits}, the entries add up to {}", open.debits),
                    );
                }
                if declared_credits != open.credits {
                    r.fail(
                        lot_trailer::CREDITS.start,
                        lot_trailer::CREDITS.name,
                        format!("declares credits of {declared_credits}, the entries add up to {}", open.credits),
                    );
                }
                // Both balances final: the entries must take one to the other. A partial or intra-day position
                // (`P`, `I`) may hold what is not among the entries (blocked amounts, the day still open).
                let computed = open.opening + open.credits - open.debits;
                let closing_final = r.raw(lot_trailer::CLOSING_POSITION) == b"F";
                if computed != closing {
                    let why = format!(
                        "closing balance {closing}, but opening {} + credits {} − debits {} = {computed}",
                        open.opening, open.credits, open.debits
                    );
                    if open.opening_final && closing_final {
                        r.fail(lot_trailer::CLOSING.start, lot_trailer::CLOSING.name, why);
                    } else {
                        summary.anomaly(
                            (n, Some(lot_trailer::CLOSING.start), lot_trailer::CLOSING.name),
                            AnomalyKind::BalanceNotFinal,
                            why,
                            closing.to_string(),
                            "a balance is partial or intra-day (position P or I), so the entries need not add up to it; the entries agree with the trailer's count and sums",
                        );
                    }
                }
                if let Some(a) = summary.accounts.get_mut(open.account) {
                    a.closing_balance = Some(closing);
                    a.period_end = closing_date;
                }
            }
            Some(b'9') => {
                trailer_seen = true;
                if let Some(open) = &lot {
                    r.fail(
                        KIND.start,
                        KIND.name,
                        format!("the trailer de arquivo while lote {} (line {}) is open", open.number, open.line),
                    );
                }
                let declared_lots = r.number(file_trailer::LOTS);
                let declared_records = r.number(file_trailer::RECORDS);
                let declared_accounts = r.number(file_trailer::ACCOUNTS);
                if declared_lots != lots {
                    r.fail(
                        file_trailer::LOTS.start,
                        file_trailer::LOTS.name,
                        format!("declares {declared_lots} lotes, the file has {lots}"),
                    );
                }
                if declared_records != records {
                    r.fail(
                        file_trailer::RECORDS.start,
                        file_trailer::RECORDS.name,
                        format!("declares {declared_records} records, the file has {records}"),
                    );
                }
                if declared_accounts != lots {
                    r.fail(
                        file_trailer::ACCOUNTS.start,
                        file_trailer::ACCOUNTS.name,
                        format!("declares {declared_accounts} accounts, the file has {lots} lotes of extrato"),
                    );
                }
            }
            _ => {
                let found = crate::formats::field::escaped_line(r.raw(KIND));
                r.fail(
                    KIND.start,
                    KIND.name,
                    format!("record type {found:?}: a CNAB 240 extrato has 0, 1, 3, 5 and 9"),
                );
            }
        }
        flush(summary, n, r);
    }
    if !trailer_seen {
        summary.error(n + 1, None, "9", "no trailer de arquivo (record 9): the file may be cut short".into());
    }
}

/// A check digit, when there is one, after a dash.
fn suffix(dv: &str) -> String {
    if dv.is_empty() {
        String::new()
    } else {
        format!("-{dv}")
    }
}

/// Move a line's field errors into the summary.
fn flush(summary: &mut BankStatementSummary, line: u64, r: FieldReader) {
    for e in r.errors {
        summary.error(line, Some(e.column), e.field, e.reason);
    }
}
