//! Getnet V10.x field positions (1-based, inclusive, as in Getnet's manual and ../shared/formats/getnet.md),
//! one module per record type. V10.1 fields (the UR key, the participant's name, the arrangement) sit in what
//! V10.0 left reserved: a V10.0 file reads them blank.

use crate::formats::field::Field;

/// A field from its first to its last byte.
const fn f(name: &'static str, start: usize, end: usize) -> Field {
    Field::new(name, start, end - start + 1)
}

/// Every record is 400 bytes.
pub const RECORD: usize = 400;

/// 0: header.
pub mod header {
    use super::*;
    pub const CREATED: Field = f("created_date", 2, 9);
    pub const CREATED_TIME: Field = f("created_time", 10, 15);
    pub const REFERENCE: Field = f("reference_date", 16, 23);
    pub const FILE: Field = f("file_and_version", 24, 31);
    pub const MERCHANT: Field = f("merchant_code", 32, 46);
    pub const ACQUIRER_TAX_ID: Field = f("acquirer_tax_id", 47, 60);
    pub const ACQUIRER_NAME: Field = f("acquirer_name", 61, 80);
    pub const SEQUENCE: Field = f("sequence", 81, 89);
    pub const ACQUIRER_CODE: Field = f("acquirer_code", 90, 91);
    pub const VERSION: Field = f("layout_version", 92, 116);
    /// The last byte a header's data reach.
    pub const END: usize = 116;
}

/// 1: resumo de vendas (RV).
pub mod rv {
    use super::*;
    pub const MERCHANT: Field = f("merchant_code", 2, 16);
    pub const PRODUCT: Field = f("product_code", 17, 18);
    pub const CAPTURE: Field = f("capture_type", 19, 21);
    pub const RV: Field = f("summary_number", 22, 30);
    pub const RV_DATE: Field = f("presentation_date", 31, 38);
    pub const PAYMENT_DATE: Field = f("payment_date", 39, 46);
    pub const BANK: Field = f("bank_code", 47, 49);
    pub const BRANCH: Field = f("branch_code", 50, 55);
    pub const ACCOUNT: Field = f("account_number", 56, 66);
    pub const ACCEPTED: Field = f("accepted_count", 67, 75);
    pub const REJECTED: Field = f("rejected_count", 76, 84);
    pub const GROSS: Field = f("gross_amount", 85, 96);
    pub const NET: Field = f("net_amount", 97, 108);
    pub const TARIFF: Field = f("tariff_amount", 109, 120);
    pub const DISCOUNT: Field = f("discount_amount", 121, 132);
    pub const REJECTED_AMOUNT: Field = f("rejected_amount", 133, 144);
    pub const CREDIT: Field = f("credit_amount", 145, 156);
    pub const CHARGES: Field = f("charges_amount", 157, 168);
    pub const STATUS: Field = f("payment_status_code", 169, 170);
    pub const INSTALLMENT: Field = f("installment", 171, 172);
    pub const PLAN: Field = f("installment_plan", 173, 174);
    pub const CENTRAL: Field = f("payment_merchant_code", 175, 189);
    pub const OPERATION: Field = f("operation_number", 190, 204);
    pub const ORIGINAL_DUE_DATE: Field = f("original_due_date", 205, 212);
    pub const CURRENCY: Field = f("currency", 282, 284);
    pub const SIGN: Field = f("sign", 286, 286);
    pub const ACCOUNT_TYPE: Field = f("account_type", 287, 288);
    pub const PAYMENT_ACCOUNT: Field = f("payment_account", 289, 308);
    pub const UR_KEY: Field = f("ur_key", 309, 333);
    pub const END: usize = 308;
}

/// 2: comprovante de venda (CV): a sale, or one installment of one.
pub mod cv {
    use super::*;
    pub const MERCHANT: Field = f("merchant_code", 2, 16);
    pub const RV: Field = f("summary_number", 17, 25);
    pub const NSU: Field = f("nsu", 26, 37);
    pub const DATE: Field = f("authorization_date", 38, 45);
    pub const TIME: Field = f("sale_time", 46, 51);
    pub const CARD: Field = f("card_number", 52, 70);
    pub const AMOUNT: Field = f("sale_total_amount", 71, 82);
    pub const WITHDRAWAL: Field = f("withdrawal_amount", 83, 94);
    pub const BOARDING: Field = f("boarding_fee_amount", 95, 106);
    pub const INSTALLMENTS: Field = f("installment_count", 107, 108);
    pub const INSTALLMENT: Field = f("installment", 109, 110);
    pub const INSTALLMENT_AMOUNT: Field = f("gross_amount", 111, 122);
    pub const PAYMENT_DATE: Field = f("original_due_date", 123, 130);
    pub const AUTHORIZATION: Field = f("authorization_code", 131, 140);
    pub const CAPTURE: Field = f("capture_type", 141, 143);
    pub const STATUS: Field = f("transaction_status", 144, 144);
    pub const CENTRAL: Field = f("payment_matrix_code", 145, 159);
    pub const TERMINAL: Field = f("terminal", 160, 167);
    pub const CURRENCY: Field = f("currency", 168, 170);
    pub const ORIGIN: Field = f("card_origin", 171, 171);
    pub const SIGN: Field = f("sign", 172, 172);
    pub const WALLET: Field = f("digital_wallet", 173, 175);
    pub const COMMISSION: Field = f("fee_amount", 176, 187);
    pub const CONTENT_ID: Field = f("content_id", 188, 189);
    pub const END: usize = 187;
    /// What the dynamic content holds, by its id (`01` recurrence, `02` e-commerce, `03` both, `04` soft
    /// descriptor, `05` idempotency key): the order id and the TID where it has them.
    pub const ORDER_01: Field = f("order_reference", 190, 225);
    pub const TID_02: Field = f("tid", 190, 231);
    pub const ORDER_02: Field = f("order_reference", 232, 267);
    pub const TID_03: Field = f("tid", 265, 306);
    pub const TID_05: Field = f("tid", 190, 231);
}

/// 3: ajuste financeiro.
pub mod adjustment {
    use super::*;
    pub const MERCHANT: Field = f("merchant_code", 2, 16);
    pub const RV: Field = f("summary_number", 17, 25);
    pub const RV_DATE: Field = f("posting_date", 26, 33);
    pub const PAYMENT_DATE: Field = f("original_due_date", 34, 41);
    pub const ID: Field = f("adjustment_id", 42, 61);
    pub const SIGN: Field = f("sign", 63, 63);
    pub const AMOUNT: Field = f("gross_amount", 64, 75);
    pub const REASON: Field = f("adjustment_code", 76, 77);
    pub const LETTER_DATE: Field = f("letter_date", 78, 85);
    pub const CARD: Field = f("card_number", 86, 104);
    pub const ORIGINAL_RV: Field = f("original_summary_number", 105, 113);
    pub const ORIGINAL_NSU: Field = f("nsu", 114, 125);
    pub const ORIGINAL_DATE: Field = f("authorization_date", 126, 133);
    pub const STATUS: Field = f("payment_status_code", 134, 135);
    pub const TERMINAL: Field = f("terminal", 136, 143);
    pub const ORIGINAL_PAYMENT_DATE: Field = f("original_payment_date", 144, 151);
    pub const CURRENCY: Field = f("currency", 152, 154);
    pub const COMMISSION: Field = f("commission_amount", 155, 166);
    pub const CONTENT_ID: Field = f("content_id", 167, 168);
    pub const END: usize = 166;
    pub const TID: Field = f("tid", 169, 210);
    pub const ORDER: Field = f("order_reference", 211, 246);
    pub const DESCRIPTION_03: Field = f("adjustment_reason", 169, 198);
    pub const DESCRIPTION_04: Field = f("adjustment_reason", 169, 228);
}

/// 4: antecipação de recebíveis (positions from the manual only: no real line seen).
pub mod anticipation {
    use super::*;
    pub const MERCHANT: Field = f("merchant_code", 2, 16);
    pub const DATE: Field = f("negotiation_date", 17, 24);
    pub const CREDIT_DATE: Field = f("payment_date", 25, 32);
    pub const OPERATION: Field = f("operation_code", 33, 47);
    pub const GROSS: Field = f("gross_amount", 48, 59);
    pub const COST: Field = f("cost_amount", 60, 71);
    pub const NET: Field = f("net_amount", 72, 83);
    pub const RATE: Field = f("nominal_rate", 84, 94);
    pub const CENTRAL: Field = f("payment_merchant_code", 95, 109);
    pub const BANK: Field = f("bank_code", 110, 112);
    pub const BRANCH: Field = f("branch_code", 113, 118);
    pub const ACCOUNT: Field = f("account_number", 119, 129);
    pub const CHANNEL: Field = f("channel", 130, 132);
    pub const STATUS: Field = f("payment_status_code", 133, 134);
    pub const ACCOUNT_TYPE: Field = f("account_type", 135, 136);
    pub const PAYMENT_ACCOUNT: Field = f("payment_account", 137, 156);
    pub const END: usize = 156;
}

/// 5: negociação (cessão, gravame) or the day's payment (`PG`).
pub mod negotiation {
    use super::*;
    pub const MERCHANT: Field = f("merchant_code", 2, 16);
    pub const DATE: Field = f("negotiation_date", 17, 24);
    pub const CREDIT_DATE: Field = f("payment_date", 25, 32);
    pub const OPERATION: Field = f("operation_code", 33, 52);
    pub const KIND: Field = f("operation_type", 53, 54);
    pub const TOTAL_GROSS: Field = f("total_gross_amount", 55, 66);
    pub const GROSS: Field = f("gross_amount", 67, 78);
    pub const COST: Field = f("cost_amount", 79, 90);
    pub const NET: Field = f("net_amount", 91, 102);
    pub const RATE: Field = f("nominal_rate", 103, 113);
    pub const ACCOUNT_TYPE: Field = f("account_type", 114, 115);
    pub const BANK: Field = f("bank_code", 116, 118);
    pub const BRANCH: Field = f("branch_code", 119, 124);
    pub const ACCOUNT: Field = f("account_number", 125, 144);
    pub const CHANNEL: Field = f("channel", 145, 147);
    pub const MOVEMENT: Field = f("movement_type", 148, 148);
    pub const PARTICIPANT_TYPE: Field = f("participant_type", 149, 151);
    pub const PARTICIPANT_DOCUMENT: Field = f("holder_tax_id", 171, 184);
    pub const CENTRAL: Field = f("payment_merchant_code", 216, 230);
    pub const PARTICIPANT_NAME: Field = f("participant_name", 231, 255);
    pub const ARRANGEMENT: Field = f("product_code", 256, 257);
    pub const UR_KEY: Field = f("ur_key", 258, 282);
    pub const END: usize = 230;
}

/// 6: unidade de recebível (UR) of a negotiation or a liquidation.
pub mod unit {
    use super::*;
    pub const MERCHANT: Field = f("merchant_code", 2, 16);
    pub const DATE: Field = f("negotiation_date", 17, 24);
    pub const OPERATION: Field = f("operation_code", 25, 44);
    pub const KIND: Field = f("operation_type", 45, 46);
    pub const PRODUCT: Field = f("product_code", 65, 66);
    pub const DUE_DATE: Field = f("original_due_date", 67, 74);
    pub const TOTAL_GROSS: Field = f("total_gross_amount", 75, 86);
    pub const GROSS: Field = f("gross_amount", 87, 98);
    pub const COST: Field = f("cost_amount", 99, 110);
    pub const NET: Field = f("net_amount", 111, 122);
    pub const BANK: Field = f("bank_code", 125, 127);
    pub const BRANCH: Field = f("branch_code", 128, 133);
    pub const ACCOUNT: Field = f("account_number", 134, 153);
    pub const MOVEMENT: Field = f("movement_type", 154, 154);
    pub const PARTICIPANT_DOCUMENT: Field = f("holder_tax_id", 177, 190);
    pub const CENTRAL: Field = f("payment_merchant_code", 222, 236);
    pub const PARTICIPANT_NAME: Field = f("financial_institution", 237, 261);
    pub const UR_KEY: Field = f("ur_key", 262, 286);
    pub const END: usize = 236;
}

/// 9: trailer.
pub mod trailer {
    use super::*;
    pub const RECORDS: Field = f("total_records", 2, 10);
    pub const END: usize = 10;
}
