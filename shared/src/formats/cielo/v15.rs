//! Cielo EDI layout 015: UR agenda `D` (400 bytes), transaction detail `E` (760), Pix `8` (400),
//! receivables negotiation `A`/`B`/`C` (250) and financial reserve `R` (250). Header and trailer are shared
//! with the older layouts (see the parent module). Positions are 1-based and inclusive, as in Cielo's manual;
//! 8/A/B/C were checked against lines of Cielo's official v15 test kit.

use crate::formats::field::{AmountField, Field, FieldReader};
use crate::model::{
    CardTransaction, FinancialReserve, NegotiatedReceivable, NegotiationCredit, PixTransaction, ReceivableUnit,
    ReceivablesNegotiation,
};
use rust_decimal::Decimal;

const fn f(name: &'static str, start: usize, len: usize) -> Field {
    Field::new(name, start, len)
}
const fn money(name: &'static str, sign_col: usize) -> AmountField {
    AmountField::new(name, sign_col, 13, 2)
}

/// Width of each record type this layout validates (types not listed are unknown, hence ignored).
pub const RECORD_WIDTHS: &[(u8, usize)] = &[
    (b'0', 250),
    (b'D', 400),
    (b'E', 760),
    (b'8', 400),
    (b'A', 250),
    (b'B', 250),
    (b'C', 250),
    (b'R', 250),
    (b'9', 250),
];

/// Record D: UR agenda.
pub mod ur {
    use super::*;
    pub const MERCHANT: Field = f("merchant_code", 2, 10);
    pub const HOLDER_TAX_ID: Field = f("holder_tax_id", 12, 14);
    pub const MOVEMENT_TAX_ID: Field = f("movement_holder_tax_id", 26, 14);
    pub const RECEIVER_TAX_ID: Field = f("receiver_tax_id", 40, 14);
    pub const BRAND: Field = f("brand_code", 54, 3);
    pub const SETTLEMENT_TYPE: Field = f("settlement_type_code", 57, 3);
    pub const PAYMENT_MATRIX: Field = f("payment_matrix_code", 60, 10);
    pub const PAYMENT_STATUS: Field = f("payment_status_code", 70, 2);
    pub const GROSS: AmountField = money("gross_amount", 72);
    pub const FEE: AmountField = money("fee_amount", 86);
    pub const NET: AmountField = money("net_amount", 100);
    pub const BANK: Field = f("bank_code", 114, 4);
    pub const BRANCH: Field = f("branch_code", 118, 5);
    pub const ACCOUNT: Field = f("account_number", 123, 20);
    pub const ACCOUNT_DIGIT: Field = f("account_check_digit", 143, 1);
    pub const ENTRY_COUNT: Field = f("entry_count", 144, 6);
    pub const POSTING_TYPE: Field = f("posting_type_code", 150, 2);
    pub const UR_KEY: Field = f("ur_key", 152, 100);
    pub const PAYMENT_DATE: Field = f("payment_date", 268, 8);
    pub const SENT_TO_BANK_DATE: Field = f("sent_to_bank_date", 276, 8);
    pub const ORIGINAL_DUE_DATE: Field = f("original_due_date", 284, 8);
    pub const PAYMENT_MERCHANT: Field = f("payment_merchant_code", 292, 10);
    pub const PENDING_FLAG: Field = f("pending_flag", 302, 1);
    pub const RESEND_FLAG: Field = f("payment_resend_flag", 303, 1);
    pub const NEGOTIATION_FLAG: Field = f("negotiation_flag", 304, 1);
    pub const NEGOTIATOR_TAX_ID: Field = f("negotiator_tax_id", 305, 14);
    pub const OPEN_BALANCE_FLAG: Field = f("open_balance_flag", 319, 1);
}

/// Record E: detalhe do lançamento.
pub mod tx {
    use super::*;
    pub const MERCHANT: Field = f("merchant_code", 2, 10);
    pub const BRAND: Field = f("brand_code", 12, 3);
    pub const SETTLEMENT_TYPE: Field = f("settlement_type_code", 15, 3);
    pub const INSTALLMENT: Field = f("installment", 18, 2);
    pub const INSTALLMENT_COUNT: Field = f("installment_count", 20, 2);
    pub const AUTHORIZATION: Field = f("authorization_code", 22, 6);
    pub const POSTING_TYPE: Field = f("posting_type_code", 28, 2);
    pub const UR_KEY: Field = f("ur_key", 30, 100);
    pub const TRANSACTION_CODE: Field = f("transaction_code", 130, 22);
    pub const ADJUSTMENT_CODE: Field = f("adjustment_code", 152, 4);
    pub const PRODUCT: Field = f("product_code", 156, 3);
    pub const INDICATORS: Field = f("indicators", 159, 7);
    pub const BIN: Field = f("card_bin", 166, 6);
    pub const CARD_LAST: Field = f("card_last_digits", 172, 4);
    pub const NSU: Field = f("nsu", 176, 6);
    pub const INVOICE: Field = f("invoice_number", 182, 10);
    pub const TID: Field = f("tid", 192, 20);
    pub const ORDER_REF: Field = f("order_reference", 212, 20);
    pub const MDR_RATE: Field = f("mdr_rate", 232, 5);
    pub const AUTO_RECEIPT_RATE: Field = f("auto_receipt_rate", 237, 5);
    pub const SALE_RATE: Field = f("sale_rate", 242, 5);
    pub const SALE_TOTAL: AmountField = money("sale_total_amount", 247);
    pub const GROSS: AmountField = money("gross_amount", 261);
    pub const NET: AmountField = money("net_amount", 275);
    pub const FEE: AmountField = money("fee_amount", 289);
    pub const MINIMUM_FEE: AmountField = money("minimum_fee_amount", 303);
    pub const DOWN_PAYMENT: AmountField = money("down_payment_amount", 317);
    pub const MDR_TARIFF: AmountField = money("mdr_tariff_amount", 331);
    pub const FAST_RECEIPT: AmountField = money("fast_receipt_amount", 345);
    pub const WITHDRAWAL: AmountField = money("withdrawal_amount", 359);
    pub const BOARDING_FEE: AmountField = money("boarding_fee_amount", 373);
    pub const PENDING: AmountField = money("pending_amount", 387);
    pub const TOTAL_DEBT: AmountField = money("total_debt_amount", 401);
    pub const CHARGED: AmountField = money("charged_amount", 415);
    pub const ADMIN_TARIFF: AmountField = money("admin_tariff_amount", 429);
    pub const PROMO: AmountField = money("promo_amount", 443);
    pub const DCC: AmountField = money("dcc_amount", 457);
    pub const SALE_TIME: Field = f("sale_time", 471, 6);
    pub const CARD_GROUP: Field = f("card_group", 477, 2);
    pub const RECEIVER_TAX_ID: Field = f("receiver_tax_id", 479, 14);
    pub const AUTHORIZATION_BRAND: Field = f("authorization_brand_code", 493, 3);
    pub const UNIQUE_SALE_CODE: Field = f("unique_sale_code", 496, 15);
    pub const ORIGINAL_SALE_CODE: Field = f("original_sale_code", 511, 15);
    pub const NEGOTIATION_EFFECT: Field = f("negotiation_effect_id", 526, 15);
    pub const SALES_CHANNEL: Field = f("sales_channel", 541, 3);
    pub const TERMINAL: Field = f("terminal", 544, 8);
    pub const ORIGINAL_POSTING_TYPE: Field = f("original_posting_type_code", 552, 2);
    pub const TRANSACTION_TYPE: Field = f("transaction_type", 554, 3);
    // 557-560: "uso Cielo" (since 15.11): not mapped, nothing to read.
    pub const PRICING_MODALITY: Field = f("pricing_modality", 561, 5);
    pub const AUTHORIZATION_DATE: Field = f("authorization_date", 566, 8);
    pub const CAPTURE_DATE: Field = f("capture_date", 574, 8);
    pub const POSTING_DATE: Field = f("posting_date", 582, 8);
    pub const ORIGINAL_POSTING_DATE: Field = f("original_posting_date", 590, 8);
    pub const BATCH: Field = f("batch_number", 598, 7);
    pub const PROCESSED_TRANSACTION: Field = f("processed_transaction_code", 605, 22);
    pub const REJECTION_REASON: Field = f("rejection_reason", 627, 3);
    pub const ORIGINAL_DUE_DATE: Field = f("original_due_date", 630, 8);
    pub const PAYMENT_MATRIX: Field = f("payment_matrix_code", 638, 10);
    pub const CARD_TYPE: Field = f("card_type", 648, 2);
    pub const CARD_ORIGIN: Field = f("card_origin", 650, 1);
    // 651 "indicativo MDR por tipo de cartão" and 652 "indicativo parcelado cliente": S/N flags, "NN" in every
    // line of Cielo's v15 kit and of the real lines at hand. Not mapped yet: no reconciliation rule reads them
    // (the MDR charged is in 289-302 and the plan in 18-21); mapping them is a model field, a staging column
    // and a fact column.
    pub const BANK: Field = f("bank_code", 653, 4);
    pub const BRANCH: Field = f("branch_code", 657, 5);
    pub const ACCOUNT: Field = f("account_number", 662, 20);
    pub const ACCOUNT_DIGIT: Field = f("account_check_digit", 682, 1);
    pub const ARN: Field = f("arn", 683, 23);
    pub const NEGOTIATION_FLAG: Field = f("negotiation_flag", 706, 1);
    pub const CAPTURE_TYPE: Field = f("capture_type", 707, 2);
    pub const NEGOTIATOR_TAX_ID: Field = f("negotiator_tax_id", 709, 14);
    // 723-760: "uso Cielo": not mapped, nothing to read.
}

/// Record 8: Pix transaction (400 bytes since layout 15.9).
pub mod pix {
    use super::*;
    pub const MERCHANT: Field = f("merchant_code", 2, 10);
    pub const TRANSACTION_TYPE: Field = f("transaction_type_code", 12, 2);
    pub const DATE: Field = f("transaction_date", 14, 6);
    pub const TIME: Field = f("transaction_time", 20, 6);
    pub const PIX_ID: Field = f("pix_id", 26, 36);
    pub const NSU: Field = f("nsu", 62, 6);
    pub const PAYMENT_DATE: Field = f("payment_date", 68, 6);
    pub const GROSS: AmountField = money("gross_amount", 74);
    pub const FEE: AmountField = money("fee_amount", 88);
    pub const NET: AmountField = money("net_amount", 102);
    pub const BANK: Field = f("bank_code", 116, 4);
    pub const BRANCH: Field = f("branch_code", 120, 5);
    pub const ACCOUNT: Field = f("account_number", 125, 20);
    pub const CAPTURE_DATE: Field = f("capture_date", 145, 6);
    pub const FEE_RATE: Field = f("fee_rate", 151, 5);
    pub const TARIFF: Field = f("tariff_amount", 156, 4);
    pub const CHANNEL: Field = f("sales_channel", 160, 2);
    pub const TERMINAL: Field = f("terminal", 162, 8);
    pub const ORIGINAL_DATE: Field = f("original_transaction_date", 170, 6);
    pub const ORIGINAL_TIME: Field = f("original_transaction_time", 176, 6);
    pub const ORIGINAL_PIX_ID: Field = f("original_pix_id", 182, 36);
    pub const AUTOMATIC_TRANSFER: Field = f("automatic_transfer_flag", 222, 1);
    pub const TRANSFER_STATUS: Field = f("transfer_status_code", 223, 2);
    pub const CIELO_ACCOUNT_DATE: Field = f("cielo_account_date", 225, 6);
    pub const NSU_LONG: Field = f("nsu_long", 231, 8);
    pub const SCHEDULED_TRANSFER: Field = f("scheduled_transfer_flag", 239, 1);
    pub const TXID: Field = f("txid", 240, 36);
    pub const PAYOUT_PIX_ID: Field = f("payout_pix_id", 316, 32);
}

/// Record A: resumo da negociação de recebíveis. Rates have 3 implied decimals.
pub mod negotiation {
    use super::*;
    pub const DATE: Field = f("negotiation_date", 2, 6);
    pub const PAYMENT_DATE: Field = f("payment_date", 8, 6);
    pub const TAX_ID: Field = f("holder_tax_id", 14, 14);
    pub const AVERAGE_TERM: Field = f("average_term_days", 28, 3);
    pub const NOMINAL_RATE: Field = f("nominal_rate", 31, 5);
    pub const GROSS: AmountField = money("gross_amount", 36);
    pub const NET: AmountField = money("net_amount", 50);
    pub const OPERATION: Field = f("operation_code", 64, 20);
    pub const PAYMENT_FORM: Field = f("payment_form_code", 84, 3);
    pub const EFFECTIVE_RATE: Field = f("effective_rate", 87, 5);
}

/// Record B: detalhe da negociação (one negotiated receivable).
pub mod negotiated {
    use super::*;
    pub const DATE: Field = f("negotiation_date", 2, 6);
    pub const ORIGINAL_DUE_DATE: Field = f("original_due_date", 8, 6);
    pub const TAX_ID: Field = f("holder_tax_id", 14, 14);
    pub const BRAND: Field = f("brand_code", 28, 3);
    pub const SETTLEMENT_TYPE: Field = f("settlement_type_code", 31, 3);
    pub const GROSS: AmountField = money("gross_amount", 34);
    pub const NET: AmountField = money("net_amount", 48);
    pub const EFFECTIVE_RATE: Field = f("effective_rate", 62, 5);
    pub const INSTITUTION: Field = f("financial_institution", 67, 50);
    pub const MERCHANT: Field = f("merchant_code", 117, 10);
    pub const DISCOUNT: AmountField = money("discount_amount", 127);
}

/// Record C: conta de recebimento of a negotiation.
pub mod credit {
    use super::*;
    pub const BANK: Field = f("bank_code", 2, 4);
    pub const BRANCH: Field = f("branch_code", 6, 5);
    pub const ACCOUNT: Field = f("account_number", 11, 20);
    pub const DEPOSITED: AmountField = money("deposited_amount", 31);
}

/// Record R: reserva financeira (layout 15.7+).
pub mod reserve {
    use super::*;
    pub const MERCHANT: Field = f("merchant_code", 2, 10);
    pub const MOVEMENT_TAX_ID: Field = f("movement_holder_tax_id", 12, 14);
    pub const BRAND: Field = f("brand_code", 26, 3);
    pub const PAYMENT_MATRIX: Field = f("payment_matrix_code", 29, 10);
    pub const AMOUNT: AmountField = money("reserve_amount", 39);
    pub const UR_KEY: Field = f("ur_key", 53, 100);
    pub const ORIGINAL_DUE_DATE: Field = f("original_due_date", 153, 8);
    pub const PAYMENT_MERCHANT: Field = f("payment_merchant_code", 161, 10);
}

/// Parse a UR agenda line (record `D`).
pub fn parse_receivable_unit(line_no: u64, r: &mut FieldReader<'_>) -> ReceivableUnit {
    use ur::*;
    ReceivableUnit {
        line_no,
        merchant_code: r.digits(MERCHANT),
        holder_tax_id: r.text(HOLDER_TAX_ID),
        movement_holder_tax_id: r.text(MOVEMENT_TAX_ID),
        receiver_tax_id: r.text(RECEIVER_TAX_ID),
        brand_code: r.digits(BRAND),
        settlement_type_code: r.digits(SETTLEMENT_TYPE),
        payment_matrix_code: r.text(PAYMENT_MATRIX),
        payment_status_code: r.text(PAYMENT_STATUS),
        gross_amount: r.amount(GROSS),
        fee_amount: r.amount(FEE),
        net_amount: r.amount(NET),
        bank_code: r.text(BANK),
        branch_code: r.text(BRANCH),
        account_number: r.text(ACCOUNT),
        account_check_digit: r.text(ACCOUNT_DIGIT),
        entry_count: r.number_or_blank(ENTRY_COUNT),
        posting_type_code: r.digits(POSTING_TYPE),
        ur_key: r.text(UR_KEY),
        summary_number: String::new(),
        installment: 0,
        installment_plan: String::new(),
        product_code: None,
        adjustment_code: None,
        presentation_date: None,
        capture_date: None,
        rejected_amount: Decimal::ZERO,
        fee_rate: None,
        payment_date: r.date_dmy(PAYMENT_DATE),
        sent_to_bank_date: r.date_dmy(SENT_TO_BANK_DATE),
        original_due_date: r.date_dmy(ORIGINAL_DUE_DATE),
        payment_merchant_code: r.text(PAYMENT_MERCHANT),
        pending_flag: r.text(PENDING_FLAG),
        payment_resend_flag: r.text(RESEND_FLAG),
        negotiation_flag: r.text(NEGOTIATION_FLAG),
        negotiator_tax_id: r.text(NEGOTIATOR_TAX_ID),
        open_balance_flag: r.text(OPEN_BALANCE_FLAG),
        credit_document: String::new(),
        transaction_type: String::new(),
    }
}

/// Parse a transaction detail line (record `E`).
pub fn parse_transaction(line_no: u64, r: &mut FieldReader<'_>) -> CardTransaction {
    use tx::*;
    CardTransaction {
        line_no,
        merchant_code: r.digits(MERCHANT),
        brand_code: r.digits(BRAND),
        settlement_type_code: r.digits(SETTLEMENT_TYPE),
        installment: r.number_or_blank(INSTALLMENT) as u32,
        installment_count: r.number_or_blank(INSTALLMENT_COUNT) as u32,
        authorization_code: r.text(AUTHORIZATION),
        posting_type_code: r.digits(POSTING_TYPE),
        ur_key: r.text(UR_KEY),
        summary_number: String::new(),
        transaction_code: r.text(TRANSACTION_CODE),
        adjustment_code: r.opt_text(ADJUSTMENT_CODE),
        adjustment_reason: String::new(),
        product_code: r.code_or_blank(
            PRODUCT,
            "the product (forma de pagamento) is blank: loaded without a product. Cielo's own v15 test kit \
             leaves it blank on ARV debits (posting 49), which no product describes",
        ),
        indicators: r.text(INDICATORS),
        card_bin: r.text(BIN),
        card_last_digits: r.text(CARD_LAST),
        nsu: r.text(NSU),
        invoice_number: r.text(INVOICE),
        tid: r.text(TID),
        order_reference: r.text(ORDER_REF),
        mdr_rate: r.opt_unsigned_decimal(MDR_RATE, 2),
        auto_receipt_rate: r.opt_unsigned_decimal(AUTO_RECEIPT_RATE, 2),
        sale_rate: r.opt_unsigned_decimal(SALE_RATE, 2),
        sale_total_amount: r.amount(SALE_TOTAL),
        gross_amount: r.amount(GROSS),
        net_amount: Some(r.amount(NET)),
        fee_amount: Some(r.amount(FEE)),
        minimum_fee_amount: optional_amount(r, MINIMUM_FEE),
        down_payment_amount: optional_amount(r, DOWN_PAYMENT),
        mdr_tariff_amount: optional_amount(r, MDR_TARIFF),
        fast_receipt_amount: optional_amount(r, FAST_RECEIPT),
        withdrawal_amount: optional_amount(r, WITHDRAWAL),
        boarding_fee_amount: optional_amount(r, BOARDING_FEE),
        pending_amount: optional_amount(r, PENDING),
        total_debt_amount: optional_amount(r, TOTAL_DEBT),
        charged_amount: optional_amount(r, CHARGED),
        admin_tariff_amount: optional_amount(r, ADMIN_TARIFF),
        promo_amount: optional_amount(r, PROMO),
        dcc_amount: optional_amount(r, DCC),
        sale_time: r.time_hms(SALE_TIME),
        card_group: r.text(CARD_GROUP),
        receiver_tax_id: r.text(RECEIVER_TAX_ID),
        authorization_brand_code: r.text(AUTHORIZATION_BRAND),
        unique_sale_code: r.text(UNIQUE_SALE_CODE),
        original_sale_code: r.text(ORIGINAL_SALE_CODE),
        negotiation_effect_id: r.text(NEGOTIATION_EFFECT),
        sales_channel: r.text(SALES_CHANNEL),
        terminal: r.text(TERMINAL),
        original_posting_type_code: r.text(ORIGINAL_POSTING_TYPE),
        transaction_type: r.text(TRANSACTION_TYPE),
        pricing_modality: r.text(PRICING_MODALITY),
        authorization_date: r.date_dmy(AUTHORIZATION_DATE),
        capture_date: r.date_dmy(CAPTURE_DATE),
        posting_date: r.date_dmy(POSTING_DATE),
        original_posting_date: r.date_dmy(ORIGINAL_POSTING_DATE),
        batch_number: r.text(BATCH),
        processed_transaction_code: r.text(PROCESSED_TRANSACTION),
        rejection_reason: r.text(REJECTION_REASON),
        original_due_date: r.date_dmy(ORIGINAL_DUE_DATE),
        payment_matrix_code: r.text(PAYMENT_MATRIX),
        card_type: r.text(CARD_TYPE),
        card_origin: r.text(CARD_ORIGIN),
        bank_code: r.text(BANK),
        branch_code: r.text(BRANCH),
        account_number: r.text(ACCOUNT),
        account_check_digit: r.text(ACCOUNT_DIGIT),
        arn: r.text(ARN),
        negotiation_flag: r.text(NEGOTIATION_FLAG),
        capture_type: r.text(CAPTURE_TYPE),
        negotiator_tax_id: r.text(NEGOTIATOR_TAX_ID),
    }
}

/// Parse a Pix line (record `8`).
pub fn parse_pix(line_no: u64, r: &mut FieldReader<'_>) -> PixTransaction {
    use pix::*;
    PixTransaction {
        line_no,
        merchant_code: r.digits(MERCHANT),
        transaction_type_code: r.digits(TRANSACTION_TYPE),
        transaction_date: r.date_yymmdd(DATE),
        transaction_time: r.time_hms(TIME),
        pix_id: r.text(PIX_ID),
        nsu: r.text(NSU),
        payment_date: r.date_yymmdd(PAYMENT_DATE),
        gross_amount: r.amount(GROSS),
        fee_amount: r.amount(FEE),
        net_amount: r.amount(NET),
        bank_code: r.text(BANK),
        branch_code: r.text(BRANCH),
        account_number: r.text(ACCOUNT),
        capture_date: r.date_yymmdd(CAPTURE_DATE),
        fee_rate: r.opt_unsigned_decimal(FEE_RATE, 2).unwrap_or_default(),
        tariff_amount: r.opt_unsigned_decimal(TARIFF, 2).unwrap_or_default(),
        sales_channel: r.text(CHANNEL),
        terminal: r.text(TERMINAL),
        original_transaction_date: r.date_yymmdd(ORIGINAL_DATE),
        original_transaction_time: r.time_hms(ORIGINAL_TIME),
        original_pix_id: r.text(ORIGINAL_PIX_ID),
        automatic_transfer_flag: r.text(AUTOMATIC_TRANSFER),
        transfer_status_code: r.text(TRANSFER_STATUS),
        cielo_account_date: r.date_yymmdd(CIELO_ACCOUNT_DATE),
        nsu_long: r.text(NSU_LONG),
        scheduled_transfer_flag: r.text(SCHEDULED_TRANSFER),
        txid: r.text(TXID),
        payout_pix_id: r.text(PAYOUT_PIX_ID),
    }
}

/// Parse a negotiation summary (record `A`); the record carries no EC, so the statement's is given.
pub fn parse_negotiation(line_no: u64, r: &mut FieldReader<'_>, merchant_code: &str) -> ReceivablesNegotiation {
    use negotiation::*;
    ReceivablesNegotiation {
        line_no,
        merchant_code: merchant_code.to_string(),
        negotiation_date: r.date_yymmdd(DATE),
        payment_date: r.date_yymmdd(PAYMENT_DATE),
        holder_tax_id: r.text(TAX_ID),
        average_term_days: r.number_or_blank(AVERAGE_TERM) as u32,
        nominal_rate: r.unsigned_decimal(NOMINAL_RATE, 3),
        gross_amount: r.amount(GROSS),
        net_amount: r.amount(NET),
        operation_code: r.text(OPERATION),
        payment_form_code: r.text(PAYMENT_FORM),
        effective_rate: r.opt_unsigned_decimal(EFFECTIVE_RATE, 3),
    }
}

/// Parse a negotiation detail (record `B`) of the negotiation at `negotiation_line_no`.
pub fn parse_negotiated_receivable(
    line_no: u64,
    r: &mut FieldReader<'_>,
    negotiation_line_no: u64,
    statement_merchant: &str,
) -> NegotiatedReceivable {
    use negotiated::*;
    NegotiatedReceivable {
        line_no,
        negotiation_line_no,
        negotiation_date: r.date_yymmdd(DATE),
        original_due_date: r.date_yymmdd(ORIGINAL_DUE_DATE),
        holder_tax_id: r.text(TAX_ID),
        brand_code: r.digits(BRAND),
        settlement_type_code: r.digits(SETTLEMENT_TYPE),
        gross_amount: r.amount(GROSS),
        net_amount: r.amount(NET),
        effective_rate: r.unsigned_decimal(EFFECTIVE_RATE, 3),
        financial_institution: r.text(INSTITUTION),
        merchant_code: r.opt_digits(MERCHANT).unwrap_or_else(|| statement_merchant.to_string()),
        discount_amount: r.opt_amount(DISCOUNT),
        summary: None,
    }
}

/// Parse a negotiation credit account (record `C`).
pub fn parse_negotiation_credit(
    line_no: u64,
    r: &mut FieldReader<'_>,
    negotiation_line_no: u64,
    merchant_code: &str,
) -> NegotiationCredit {
    use credit::*;
    NegotiationCredit {
        line_no,
        negotiation_line_no,
        merchant_code: merchant_code.to_string(),
        bank_code: r.text(BANK),
        branch_code: r.text(BRANCH),
        account_number: r.text(ACCOUNT),
        deposited_amount: r.amount(DEPOSITED),
    }
}

/// Parse a financial reserve (record `R`).
pub fn parse_financial_reserve(line_no: u64, r: &mut FieldReader<'_>) -> FinancialReserve {
    use reserve::*;
    FinancialReserve {
        line_no,
        merchant_code: r.digits(MERCHANT),
        movement_holder_tax_id: r.text(MOVEMENT_TAX_ID),
        brand_code: r.digits(BRAND),
        payment_matrix_code: r.text(PAYMENT_MATRIX),
        reserve_amount: r.amount(AMOUNT),
        ur_key: r.text(UR_KEY),
        original_due_date: r.date_dmy(ORIGINAL_DUE_DATE),
        payment_merchant_code: r.text(PAYMENT_MERCHANT),
    }
}

/// The twelve secondary E amounts are optional in practice (blank in many real lines): blank means zero.
fn optional_amount(r: &mut FieldReader<'_>, a: AmountField) -> Decimal {
    r.opt_amount(a).unwrap_or(Decimal::ZERO)
}
