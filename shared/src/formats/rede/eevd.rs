//! EEVD — Rede debit sales ("vendas a débito"): comma-separated, one record per line, the record type in the
//! first column. Columns from Rede's EEVD manual v1.04; each value is zero-padded (numbers) or space-padded
//! (text), amounts `9(13)V99` without a separator. Errors point at the byte column where the value starts.

use super::{card_parts, check_net, Declared, Parser};
use crate::formats::field::{Field, FieldError, FieldReader};
use crate::formats::ParseContext;
use crate::model::{Acquirer, CardTransaction, FileType, ReceivableUnit, Record, StatementHeader};

/// The columns of one CSV line: (byte offset, bytes).
struct Columns<'a>(Vec<(usize, &'a [u8])>);

impl<'a> Columns<'a> {
    fn split(line: &'a [u8]) -> Self {
        let mut out = Vec::new();
        let mut start = 0;
        for (i, &b) in line.iter().enumerate() {
            if b == b',' {
                out.push((start, &line[start..i]));
                start = i + 1;
            }
        }
        out.push((start, &line[start..]));
        Columns(out)
    }
}

/// Reads typed values out of numbered columns, reporting errors at the column's byte position.
struct ColumnReader<'a> {
    cols: Columns<'a>,
    errors: Vec<FieldError>,
}

impl<'a> ColumnReader<'a> {
    /// Run a [`FieldReader`] reading on column `n` (1-based), whatever its width.
    fn with<T>(&mut self, n: usize, name: &'static str, read: impl FnOnce(&mut FieldReader<'a>, Field) -> T) -> T {
        let (offset, bytes) = self.cols.0.get(n - 1).copied().unwrap_or((0, &[]));
        let bytes = trim_spaces(bytes);
        let mut r = FieldReader::new(bytes);
        let v = read(&mut r, Field::new(name, 1, bytes.len().max(1)));
        for mut e in r.errors {
            e.column += offset;
            self.errors.push(e);
        }
        v
    }
    fn text(&mut self, n: usize, name: &'static str) -> String {
        self.with(n, name, |r, f| r.text(f))
    }
    fn digits(&mut self, n: usize, name: &'static str) -> String {
        self.with(n, name, |r, f| r.digits(f))
    }
    fn number(&mut self, n: usize, name: &'static str) -> u64 {
        self.with(n, name, |r, f| r.number(f))
    }
    fn amount(&mut self, n: usize, name: &'static str) -> rust_decimal::Decimal {
        self.with(n, name, |r, f| r.record_amount(f, 2))
    }
    fn date(&mut self, n: usize, name: &'static str) -> Option<chrono::NaiveDate> {
        // The whole column: a 7- or 9-digit value is an error, never a date read from its first 8 bytes.
        self.with(n, name, |r, f| r.date_dmy(f))
    }
    fn time(&mut self, n: usize, name: &'static str) -> Option<chrono::NaiveTime> {
        self.with(n, name, |r, f| r.time_hms(f))
    }
}

fn trim_spaces(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|&c| c != b' ').unwrap_or(b.len());
    let end = b.iter().rposition(|&c| c != b' ').map_or(start, |i| i + 1);
    &b[start..end]
}

/// Columns each record type needs (the manual's count; later layouts may append more).
fn min_columns(code: &str) -> usize {
    match code {
        "00" => 10,
        "01" => 14,
        "04" => 11,
        "11" => 29,
        "05" => 19,
        _ => 1,
    }
}

/// 04: trailer columns, for error positions.
pub(super) fn trailer_column(_field: &str) -> usize {
    1
}

pub(super) fn line(p: &mut Parser, code: &str, line_no: u64, line: &[u8], cx: &mut ParseContext<'_>) {
    let cols = Columns::split(line);
    let need = min_columns(code);
    if cols.0.len() < need {
        cx.issue(
            line_no,
            Some(line.len() + 1),
            "line",
            format!("EEVD record {code} has {} columns, the layout has {need}", cols.0.len()),
        );
        if code == "04" {
            p.trailer_seen = true;
        }
        return;
    }
    let mut r = ColumnReader { cols, errors: Vec::new() };
    match code {
        "00" => {
            let merchant_code = r.digits(2, "merchant_code");
            let processing_date = r.date(3, "processing_date");
            let period = r.date(4, "movement_date");
            let sequence = r.digits(8, "sequence");
            let header = processing_date.map(|d| StatementHeader {
                acquirer: Acquirer::Rede,
                layout_version: p.layout_version.clone(),
                code_set: super::FileKind::Eevd.code_set(),
                file_type: FileType { code: "EEVD".into(), kind: "sales" },
                merchant_code,
                processing_date: d,
                period_start: period.unwrap_or(d),
                period_end: period.unwrap_or(d),
                sequence,
                mailbox: String::new(),
            });
            if processing_date.is_none() && r.errors.is_empty() {
                cx.issue(line_no, Some(r.cols.0[2].0 + 1), "header.processing_date", "date is required (DDMMAAAA)");
            }
            cx.field_errors(line_no, "header", std::mem::take(&mut r.errors));
            p.header(header, cx);
        }
        "01" => {
            let merchant_code = r.digits(2, "merchant_code");
            let payment_date = r.date(3, "payment_date");
            let presentation_date = r.date(4, "presentation_date");
            let rv = r.digits(5, "summary_number");
            let entry_count = r.number(6, "entry_count");
            let gross = r.amount(7, "gross_amount");
            let discount = r.amount(8, "discount_amount");
            let net = r.amount(9, "net_amount");
            let summary_type = r.text(10, "summary_type");
            let unit = ReceivableUnit {
                line_no,
                ur_key: format!("{merchant_code}-{rv}"),
                merchant_code,
                summary_number: rv,
                payment_date,
                original_due_date: payment_date,
                presentation_date,
                entry_count,
                gross_amount: gross,
                fee_amount: -discount,
                net_amount: net,
                // D = débito à vista, P = pré-datado.
                product_code: Some(if summary_type == "P" { "PRE" } else { "DEB" }.into()),
                bank_code: r.text(11, "bank_code"),
                branch_code: r.text(12, "branch_code"),
                account_number: r.text(13, "account_number"),
                brand_code: r.text(14, "brand_code"),
                settlement_type_code: "001".into(),
                posting_type_code: code.into(),
                ..Default::default()
            };
            if !matches!(summary_type.as_str(), "D" | "P") {
                let col = r.cols.0[9].0 + 1;
                r.errors.push(FieldError {
                    column: col,
                    field: "summary_type",
                    reason: format!("expected D (débito à vista) or P (pré-datado), found {summary_type:?}"),
                });
            }
            if r.errors.is_empty() && !check_net(cx, line_no, code, r.cols.0[8].0 + 1, (gross, discount, net)) {
                return;
            }
            if r.errors.is_empty() {
                p.sums.rv_count += 1;
                p.sums.rv_gross += gross;
                p.sums.rv_discount += discount;
                p.sums.rv_net += net;
            }
            cx.accept(line_no, code, std::mem::take(&mut r.errors), Record::ReceivableUnit(Box::new(unit)));
        }
        "05" => {
            p.sums.cv_count += 1;
            let merchant_code = r.digits(2, "merchant_code");
            let rv = r.digits(3, "summary_number");
            let card = r.text(8, "card_number");
            let (card_bin, card_last_digits) = card_parts(&card);
            let gross = r.amount(5, "gross_amount");
            // With a cash withdrawal ("saque"), the purchase is only part of the amount charged.
            let purchase = r.amount(17, "purchase_amount");
            let t = CardTransaction {
                line_no,
                ur_key: format!("{merchant_code}-{rv}"),
                merchant_code,
                summary_number: rv,
                authorization_date: r.date(4, "authorization_date"),
                gross_amount: gross,
                sale_total_amount: if purchase.is_zero() { gross } else { purchase },
                fee_amount: Some(-r.amount(6, "discount_amount")),
                net_amount: Some(r.amount(7, "net_amount")),
                card_bin,
                card_last_digits,
                transaction_type: r.text(9, "transaction_type"),
                nsu: r.digits(10, "nsu"),
                original_due_date: r.date(11, "payment_date"),
                rejection_reason: r.text(12, "status"),
                sale_time: r.time(13, "sale_time"),
                terminal: r.text(14, "terminal"),
                capture_type: r.text(15, "capture_type"),
                withdrawal_amount: r.amount(18, "withdrawal_amount"),
                brand_code: r.text(19, "brand_code"),
                settlement_type_code: "001".into(),
                posting_type_code: code.into(),
                product_code: "DEB".into(),
                ..Default::default()
            };
            if let (true, Some(fee), Some(net)) = (r.errors.is_empty(), t.fee_amount, t.net_amount) {
                // With a cash withdrawal ("saque") the layout does not say what the discount applies to.
                if t.withdrawal_amount.is_zero()
                    && !check_net(cx, line_no, code, r.cols.0[6].0 + 1, (t.gross_amount, -fee, net))
                {
                    return;
                }
            }
            cx.accept(line_no, code, std::mem::take(&mut r.errors), Record::Transaction(Box::new(t)));
        }
        "11" => {
            // Ajuste Net: a debit (or credit) on the merchant's receivables, pointing at the sale it adjusts.
            let merchant_code = r.digits(2, "merchant_code");
            let rv = r.digits(3, "summary_number");
            let amount = r.amount(5, "gross_amount");
            let debit = r.text(6, "debit_credit");
            if debit != "D" && debit != "C" {
                let column = r.cols.0[5].0 + 1;
                r.errors.push(FieldError {
                    column,
                    field: "debit_credit",
                    reason: format!("expected D or C, found {debit:?}"),
                });
            }
            let gross = if debit == "C" { amount } else { -amount };
            let card = r.text(9, "card_number");
            let (card_bin, card_last_digits) = card_parts(&card);
            let reason_code = r.digits(7, "adjustment_code");
            // Since 2023 a 4-digit reason code is appended as column 30.
            let code4 = if r.cols.0.len() >= 30 { Some(r.digits(30, "adjustment_code")) } else { None };
            let t = CardTransaction {
                line_no,
                ur_key: format!("{merchant_code}-{rv}"),
                merchant_code,
                summary_number: rv,
                posting_date: r.date(4, "posting_date"),
                gross_amount: gross,
                fee_amount: Some(rust_decimal::Decimal::ZERO),
                net_amount: Some(gross),
                adjustment_code: Some(code4.filter(|c| !c.is_empty() && c != "0000").unwrap_or(reason_code)),
                adjustment_reason: r.text(8, "adjustment_reason"),
                card_bin,
                card_last_digits,
                authorization_date: r.date(10, "authorization_date"),
                original_sale_code: {
                    let pv = r.digits(15, "original_merchant_code");
                    format!("{pv}-{}", r.digits(11, "original_summary_number"))
                },
                original_posting_date: r.date(16, "original_posting_date"),
                sale_total_amount: r.amount(17, "sale_total_amount"),
                indicators: r.text(18, "indicators"),
                original_due_date: r.date(19, "original_due_date"),
                nsu: r.digits(22, "nsu"),
                authorization_code: r.text(23, "authorization_code"),
                transaction_type: r.text(24, "transaction_type"),
                processed_transaction_code: r.text(25, "processed_transaction_code"),
                brand_code: r.text(29, "brand_code"),
                settlement_type_code: "001".into(),
                posting_type_code: code.into(),
                product_code: "000".into(),
                ..Default::default()
            };
            cx.accept(line_no, code, std::mem::take(&mut r.errors), Record::Transaction(Box::new(t)));
        }
        "04" => {
            p.trailer_seen = true;
            let d = Declared {
                rv_count: Some(r.number(3, "rv_count")),
                cv_count: Some(r.number(4, "cv_count")),
                gross: Some(r.amount(5, "gross_total")),
                discount: Some(r.amount(6, "discount_total")),
                net: Some(r.amount(7, "net_total")),
                records: r.number(11, "total_records"),
                ..Default::default()
            };
            p.set_trailer(line_no, d, line, r.errors, cx);
        }
        _ => {}
    }
}
