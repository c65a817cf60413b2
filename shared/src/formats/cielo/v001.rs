//! Cielo layout 001's anticipation file (CIELO06, "antecipação de recebíveis", ARV), from Cielo's 2013 manual
//! (sections 7.4-7.6), checked on a real 2016 file:
//! - record 5, the operation ("operação de antecipação"): what was anticipated, per agenda (à vista, parcelado,
//!   Electron pré-datado), gross and net, at what discount rate, into which account. Loaded as a
//!   [`ReceivablesNegotiation`] (the operation) and a [`NegotiationCredit`] (the deposit).
//! - record 6, one RO anticipated ("RO antecipado"): its due date, what it was worth and what the anticipation
//!   paid for it. Loaded as a [`NegotiatedReceivable`] that names its RO ([`AnticipatedSummary`]).
//! - record 7, a debit offset against the anticipated RO before it ("débito de RO antecipado"): an
//!   [`AnticipationOffset`].
//! - record 2 (CV): the sales of the RO anticipated (after a 6) or of the debit offset (after a 7).
//!
//! Checked, so that no figure loads unexplained: the agendas add up to the operation's totals; the ROs of an
//! operation add up to its gross and net; an RO's original net plus the debits offset against it is the gross
//! anticipated for it.

use super::v14::RoContext;
use crate::formats::field::{AmountField, Field, FieldReader};
use crate::formats::ParseContext;
use crate::model::{
    AnticipatedSummary, AnticipationOffset, NegotiatedReceivable, NegotiationCredit, ReceivablesNegotiation, Record,
};
use rust_decimal::Decimal;
use std::mem::take;

const fn f(name: &'static str, start: usize, len: usize) -> Field {
    Field::new(name, start, len)
}
const fn money(name: &'static str, sign_col: usize) -> AmountField {
    AmountField::new(name, sign_col, 13, 2)
}

/// Record 5: the anticipation operation.
pub mod operation {
    use super::*;
    pub const MERCHANT: Field = f("merchant_code", 2, 10);
    pub const NUMBER: Field = f("operation_code", 12, 9);
    pub const CREDIT_DATE: Field = f("payment_date", 21, 8);
    pub const GROSS_CASH: AmountField = money("gross_cash_amount", 29);
    pub const GROSS_INSTALLMENTS: AmountField = money("gross_installments_amount", 43);
    pub const GROSS_PREDATED: AmountField = money("gross_predated_amount", 57);
    pub const GROSS: AmountField = money("gross_amount", 71);
    pub const NET_CASH: AmountField = money("net_cash_amount", 85);
    pub const NET_INSTALLMENTS: AmountField = money("net_installments_amount", 99);
    pub const NET_PREDATED: AmountField = money("net_predated_amount", 113);
    pub const NET: AmountField = money("net_amount", 127);
    pub const RATE: Field = f("nominal_rate", 141, 5);
    pub const BANK: Field = f("bank_code", 146, 4);
    pub const BRANCH: Field = f("branch_code", 150, 5);
    pub const ACCOUNT: Field = f("account_number", 155, 14);
    pub const DEPOSIT: AmountField = money("deposited_amount", 169);
}

/// Record 6: one RO anticipated.
pub mod summary {
    use super::*;
    pub const MERCHANT: Field = f("merchant_code", 2, 10);
    pub const OPERATION: Field = f("operation_code", 12, 9);
    pub const DUE_DATE: Field = f("original_due_date", 21, 8);
    pub const NUMBER: Field = f("summary_number", 29, 7);
    pub const INSTALLMENT: Field = f("installment", 36, 2);
    pub const INSTALLMENT_COUNT: Field = f("installment_count", 38, 2);
    pub const ORIGINAL_GROSS: AmountField = money("original_gross_amount", 40);
    pub const ORIGINAL_NET: AmountField = money("original_net_amount", 54);
    pub const GROSS: AmountField = money("gross_amount", 68);
    pub const NET: AmountField = money("net_amount", 82);
    pub const BRAND: Field = f("brand_code", 96, 3);
    pub const UR_KEY: Field = f("ur_key", 99, 22);
}

/// Record 7: a debit offset against an anticipated RO.
pub mod offset {
    use super::*;
    pub const MERCHANT: Field = f("merchant_code", 2, 10);
    pub const UR_KEY: Field = f("ur_key", 12, 22);
    pub const NUMBER: Field = f("summary_number", 34, 7);
    pub const PAYMENT_DATE: Field = f("payment_date", 41, 8);
    pub const SUMMARY_AMOUNT: AmountField = money("summary_amount", 49);
    pub const ADJUSTMENT_UR_KEY: Field = f("adjustment_origin_ur_key", 63, 22);
    pub const ADJUSTMENT_NUMBER: Field = f("adjustment_summary_number", 85, 7);
    pub const ADJUSTMENT_DATE: Field = f("adjustment_payment_date", 92, 8);
    pub const ADJUSTMENT_AMOUNT: AmountField = money("adjustment_amount", 100);
    pub const OFFSET: AmountField = money("offset_amount", 114);
    pub const BALANCE: AmountField = money("balance_amount", 128);
}

/// How short each record may be when a tool removed its trailing blanks: the end of its last field.
pub const TRIMMED_WIDTHS: &[(u8, usize)] = &[(b'5', 182), (b'6', 120), (b'7', 141)];

/// Tipo de transação (Tabela II) given to the CVs of an anticipated RO (sales) and of a debit offset.
const SALE: &str = "01";
const DEBIT_ADJUSTMENT: &str = "03";

/// An operation (record 5) and the ROs (records 6) read for it so far.
struct Operation {
    number: String,
    line_no: u64,
    gross: Decimal,
    net: Decimal,
    rate: Decimal,
    bank_code: String,
    branch_code: String,
    account_number: String,
    ro_gross: Decimal,
    ro_net: Decimal,
    ro_count: u64,
}

/// The RO (record 6) whose offsets (records 7) may follow.
struct OpenSummary {
    line_no: u64,
    number: String,
    ur_key: String,
    original_net: Decimal,
    gross: Decimal,
    offsets: Decimal,
    context: RoContext,
}

/// The anticipation records of one layout-001 file as they are read. Holds one entry per operation (a file
/// has one per brand and day) and the RO being read, never the ROs themselves.
#[derive(Default)]
pub struct Anticipations {
    operations: Vec<Operation>,
    open: Option<OpenSummary>,
}

impl Anticipations {
    /// Record 5: an operation, emitted as a negotiation and the credit of its deposit.
    pub fn operation(&mut self, line_no: u64, r: &mut FieldReader<'_>, cx: &mut ParseContext<'_>) {
        use operation::*;
        self.close(cx);
        let merchant_code = r.digits(MERCHANT);
        let number = r.digits(NUMBER);
        let payment_date = r.required_date_ymd(CREDIT_DATE);
        let gross_parts = [r.amount(GROSS_CASH), r.amount(GROSS_INSTALLMENTS), r.amount(GROSS_PREDATED)];
        let gross = r.amount(GROSS);
        let net_parts = [r.amount(NET_CASH), r.amount(NET_INSTALLMENTS), r.amount(NET_PREDATED)];
        let net = r.amount(NET);
        let rate = r.unsigned_decimal(RATE, 2);
        let bank_code = r.text(BANK);
        let branch_code = r.text(BRANCH);
        let account_number = r.text(ACCOUNT);
        let deposited = r.amount(DEPOSIT);
        if r.errors.is_empty() {
            for (parts, total, field, what) in [(gross_parts, gross, GROSS, "gross"), (net_parts, net, NET, "net")] {
                let sum = parts.iter().try_fold(Decimal::ZERO, |a, b| a.checked_add(*b));
                if sum != Some(total) {
                    r.fail(
                        field.sign.start,
                        field.sign.name,
                        format!(
                            "the operation's {what} total {total} is not the sum of its agendas (à vista {}, \
                             parcelado {}, pré-datado {})",
                            parts[0], parts[1], parts[2]
                        ),
                    );
                }
            }
            if self.operations.iter().any(|o| o.number == number) {
                r.fail(NUMBER.start, NUMBER.name, format!("operation {number} appears twice in the file"));
            }
        }
        let valid = r.errors.is_empty();
        if valid {
            self.operations.push(Operation {
                number: number.clone(),
                line_no,
                gross,
                net,
                rate,
                bank_code: bank_code.clone(),
                branch_code: branch_code.clone(),
                account_number: account_number.clone(),
                ro_gross: Decimal::ZERO,
                ro_net: Decimal::ZERO,
                ro_count: 0,
            });
        }
        let a = ReceivablesNegotiation {
            line_no,
            merchant_code: merchant_code.clone(),
            negotiation_date: None,
            payment_date,
            holder_tax_id: String::new(),
            average_term_days: 0,
            nominal_rate: rate,
            gross_amount: gross,
            net_amount: net,
            operation_code: number,
            payment_form_code: String::new(),
            effective_rate: None,
        };
        cx.accept(line_no, "5", take(&mut r.errors), Record::Negotiation(Box::new(a)));
        if valid {
            let c = NegotiationCredit {
                line_no,
                negotiation_line_no: line_no,
                merchant_code,
                bank_code,
                branch_code,
                account_number,
                deposited_amount: deposited,
            };
            cx.accept(line_no, "5", Vec::new(), Record::NegotiationCredit(Box::new(c)));
        }
    }

    /// Record 6: an RO anticipated by an operation read before it. Returns what its CVs inherit.
    pub fn summary(&mut self, line_no: u64, r: &mut FieldReader<'_>, cx: &mut ParseContext<'_>) -> Option<RoContext> {
        use summary::*;
        self.close(cx);
        let merchant_code = r.digits(MERCHANT);
        let operation_code = r.digits(OPERATION);
        let original_due_date = r.required_date_ymd(DUE_DATE);
        let number = r.digits(NUMBER);
        let installment = r.number(INSTALLMENT) as u32;
        let installment_count = r.number(INSTALLMENT_COUNT) as u32;
        let original_gross_amount = r.amount(ORIGINAL_GROSS);
        let original_net_amount = r.amount(ORIGINAL_NET);
        let gross = r.amount(GROSS);
        let net = r.amount(NET);
        let brand_code = r.digits(BRAND);
        let ur_key = r.digits(UR_KEY);
        let operation = self.operations.iter_mut().find(|o| o.number == operation_code);
        if r.errors.is_empty() && operation.is_none() {
            r.fail(
                OPERATION.start,
                OPERATION.name,
                format!("RO {number} is anticipated by operation {operation_code}, whose record 5 is not before it"),
            );
        }
        let discount = net.checked_sub(gross);
        if r.errors.is_empty() && discount.is_none() {
            r.fail(NET.sign.start, NET.sign.name, format!("net {net} − gross {gross} is out of range"));
        }
        let (Some(operation), Some(discount), true) = (operation, discount, r.errors.is_empty()) else {
            cx.field_errors(line_no, "6", take(&mut r.errors));
            return None;
        };
        let (Some(ro_gross), Some(ro_net)) = (operation.ro_gross.checked_add(gross), operation.ro_net.checked_add(net))
        else {
            cx.issue(line_no, Some(GROSS.sign.start), "6.gross_amount", "the operation's ROs add up out of range");
            return None;
        };
        (operation.ro_gross, operation.ro_net) = (ro_gross, ro_net);
        operation.ro_count += 1;
        let context = RoContext {
            merchant_code: merchant_code.clone(),
            number: number.clone(),
            brand_code: brand_code.clone(),
            product_code: None,
            posting_type_code: SALE.into(),
            ur_key: ur_key.clone(),
            capture_date: None,
            payment_matrix_code: String::new(),
            bank_code: operation.bank_code.clone(),
            branch_code: operation.branch_code.clone(),
            account_number: operation.account_number.clone(),
            original_due_date,
            fee_rate: None,
        };
        let b = NegotiatedReceivable {
            line_no,
            negotiation_line_no: operation.line_no,
            merchant_code,
            negotiation_date: None,
            original_due_date,
            holder_tax_id: String::new(),
            brand_code,
            // The RO has no settlement type in this layout (its product would say débito/crédito).
            settlement_type_code: "000".into(),
            gross_amount: gross,
            net_amount: net,
            effective_rate: operation.rate,
            financial_institution: String::new(),
            discount_amount: Some(discount),
            summary: Some(AnticipatedSummary {
                summary_number: number.clone(),
                ur_key: ur_key.clone(),
                installment,
                installment_count,
                original_gross_amount,
                original_net_amount,
            }),
        };
        cx.accept(line_no, "6", Vec::new(), Record::NegotiatedReceivable(Box::new(b)));
        self.open = Some(OpenSummary {
            line_no,
            number,
            ur_key,
            original_net: original_net_amount,
            gross,
            offsets: Decimal::ZERO,
            context: context.clone(),
        });
        Some(context)
    }

    /// Record 7: a debit offset against the RO (record 6) before it. Returns what the debit's CVs inherit.
    pub fn offset(&mut self, line_no: u64, r: &mut FieldReader<'_>, cx: &mut ParseContext<'_>) -> Option<RoContext> {
        use offset::*;
        let o = AnticipationOffset {
            line_no,
            merchant_code: r.digits(MERCHANT),
            ur_key: r.digits(UR_KEY),
            summary_number: r.digits(NUMBER),
            payment_date: r.date_ymd(PAYMENT_DATE),
            summary_amount: r.amount(SUMMARY_AMOUNT),
            adjustment_origin_ur_key: r.digits(ADJUSTMENT_UR_KEY),
            adjustment_summary_number: r.digits(ADJUSTMENT_NUMBER),
            adjustment_payment_date: r.date_ymd(ADJUSTMENT_DATE),
            adjustment_amount: r.amount(ADJUSTMENT_AMOUNT),
            offset_amount: r.amount(OFFSET),
            balance_amount: r.amount(BALANCE),
        };
        let open = self.open.as_mut().filter(|s| s.ur_key == o.ur_key && s.number == o.summary_number);
        if r.errors.is_empty() && open.is_none() {
            r.fail(
                UR_KEY.start,
                UR_KEY.name,
                format!(
                    "debit offset against RO {} ({}) does not follow that RO's record 6",
                    o.summary_number, o.ur_key
                ),
            );
        }
        let offsets = open.as_ref().and_then(|s| s.offsets.checked_add(o.offset_amount));
        if r.errors.is_empty() && offsets.is_none() {
            r.fail(OFFSET.sign.start, OFFSET.sign.name, "the offsets against this RO add up out of range".into());
        }
        let (Some(open), Some(offsets), true) = (open, offsets, r.errors.is_empty()) else {
            cx.field_errors(line_no, "7", take(&mut r.errors));
            return None;
        };
        open.offsets = offsets;
        let context = RoContext {
            number: o.adjustment_summary_number.clone(),
            posting_type_code: DEBIT_ADJUSTMENT.into(),
            ur_key: o.adjustment_origin_ur_key.clone(),
            original_due_date: o.adjustment_payment_date,
            ..open.context.clone()
        };
        cx.accept(line_no, "7", Vec::new(), Record::AnticipationOffset(Box::new(o)));
        Some(context)
    }

    /// End of the file: the last RO's offsets, and every operation against its ROs.
    pub fn finish(&mut self, cx: &mut ParseContext<'_>) {
        self.close(cx);
        for o in take(&mut self.operations) {
            if o.ro_gross != o.gross || o.ro_net != o.net {
                cx.issue(
                    o.line_no,
                    Some(operation::GROSS.sign.start),
                    "5.gross_amount",
                    format!(
                        "operation {} declares gross {} and net {}, its {} ROs (records 6) add up to gross {} and \
                         net {}",
                        o.number, o.gross, o.net, o.ro_count, o.ro_gross, o.ro_net
                    ),
                );
            }
        }
    }

    /// The RO before is complete: what was anticipated for it is its original net less the debits offset.
    fn close(&mut self, cx: &mut ParseContext<'_>) {
        let Some(s) = self.open.take() else { return };
        if s.original_net.checked_add(s.offsets) != Some(s.gross) {
            cx.issue(
                s.line_no,
                Some(summary::GROSS.sign.start),
                "6.gross_amount",
                format!(
                    "RO {} ({}): original net {} with {} of debits offset (records 7) leaves {}, the record \
                     anticipates a gross of {}",
                    s.number,
                    s.ur_key,
                    s.original_net,
                    s.offsets,
                    s.original_net.checked_add(s.offsets).map_or("an out-of-range amount".into(), |d| d.to_string()),
                    s.gross
                ),
            );
        }
    }
}
