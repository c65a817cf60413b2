//! PagBank (PagSeguro) EDI, API v3.00 (JSON; v1.x/2.x field names accepted): one response of the
//! transactional or the financial movement of a day. Layout and evidence: ../shared/formats/pagbank.md (the
//! official test-scenario responses in ../shared/fixtures/pagbank). A document, not lines: read whole (it is
//! one day of one establishment, paged), validated field by field, every problem named by record and field.
//!
//! Mapped into the same domain as the other acquirers, one JSON record ("detalhe") per installment:
//! - a transactional sale (`tipo_evento` 1): a [`CardTransaction`] (its installment's share of the total as
//!   gross, `valor_parcela` — the installment's net — as net) and the installment as forecast: a
//!   [`ReceivableUnit`] keyed by `codigo_transacao`, due on `data_prevista_pagamento`, status `1`;
//! - a financial record: the installment settled, a [`ReceivableUnit`] paid on `data_movimentacao`
//!   (`status_pagamento` 3); an automatic cashout (`tipo_evento` 4, `tipo_transacao` 4) also the deposit the
//!   bank statement should show ([`ReceivablesNegotiation`] + [`NegotiationCredit`], payment form `CO`);
//! - any other event (cancellation, chargeback, adjustment: codes with no public table) a transaction with the
//!   event as its posting type — unknown codes are loaded raw and flagged.
//!
//! Amounts are JSON numbers with at most 2 decimals, read from their decimal text (never through a float's
//! arithmetic); codes come as strings or bare numbers and are read as text, trimmed.

pub mod sample;

use crate::formats::ParseContext;
use crate::model::{
    Acquirer, CardTransaction, FileType, NegotiationCredit, ReceivableUnit, ReceivablesNegotiation, Record,
    StatementHeader,
};
use chrono::{NaiveDate, NaiveTime};
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;

/// The code set of PagBank's codes (events, payment statuses).
pub const CODE_SET: &str = "pagbank-v3";
/// File types: the transactional and the financial movement.
pub const TRANSACTIONAL: &str = "PAGBANK-T";
pub const FINANCIAL: &str = "PAGBANK-F";

/// The largest response read (a day of one establishment, one page: megabytes at most).
pub const MAX_DOCUMENT_BYTES: usize = 64 << 20;

/// Whether a document is a PagBank EDI response: a JSON object whose `detalhes` is a list.
pub fn recognise(bytes: &[u8]) -> bool {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).map_or(&bytes[..0], |i| &bytes[i..]);
    let start = start.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(start);
    start.first() == Some(&b'{') && bytes.windows(10).any(|w| w == b"\"detalhes\"")
}

/// `meio_pagamento`: the product (seeded as `dim_product`) and how it settles (`001` debit, `002` credit,
/// `011` Pix, `000` neither); per emerbot citing PagBank's EDI manual, p. 31.
pub const PAYMENT_MEANS: &[(&str, &str, &str)] = &[
    ("1", "Débito online", "001"),
    ("2", "Boleto", "000"),
    ("3", "Cartão de crédito", "002"),
    ("8", "Cartão de débito", "001"),
    ("11", "Pix", "011"),
    ("14", "Crédito pré-pago", "002"),
    ("15", "Débito pré-pago", "001"),
];

/// A record's fields, each located by its record (1-based) and name.
struct Detail<'a> {
    index: usize,
    /// The line the record starts on.
    line: u64,
    map: &'a serde_json::Map<String, Value>,
    errors: Vec<(String, String)>,
}

impl<'a> Detail<'a> {
    /// A field as text (a string, or a bare number written as the API sometimes does), trimmed; absent or
    /// null is empty.
    fn text(&mut self, names: &[&str]) -> String {
        for name in names {
            match self.map.get(*name) {
                Some(Value::String(s)) => return s.trim().to_string(),
                Some(Value::Number(n)) => return n.to_string(),
                Some(Value::Null) | None => continue,
                Some(other) => {
                    self.errors.push((name.to_string(), format!("expected text, found {other}")));
                    return String::new();
                }
            }
        }
        String::new()
    }

    /// A code: text without leading zeros (the API writes `"3"` where the positional file writes `"03"`).
    fn code(&mut self, name: &str) -> String {
        let t = self.text(&[name]);
        let trimmed = t.trim_start_matches('0');
        if trimmed.is_empty() && !t.is_empty() {
            "0".into()
        } else {
            trimmed.to_string()
        }
    }

    /// An amount: a JSON number (or numeric text) with at most 2 decimals; absent or null is zero.
    fn money(&mut self, name: &str) -> Decimal {
        let text = match self.map.get(name) {
            None | Some(Value::Null) => return Decimal::ZERO,
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            Some(Value::String(_)) => return Decimal::ZERO,
            Some(other) => {
                self.errors.push((name.into(), format!("expected an amount, found {other}")));
                return Decimal::ZERO;
            }
        };
        match Decimal::from_str(&text) {
            Ok(d) if d.scale() <= 2 || d.round_dp(2) == d => {
                let mut v = d.round_dp(2);
                v.rescale(2);
                v
            }
            Ok(d) => {
                self.errors.push((name.into(), format!("{d}: more than 2 decimals, not an amount in reais")));
                Decimal::ZERO
            }
            Err(_) => {
                self.errors.push((name.into(), format!("{text:?} is not an amount")));
                Decimal::ZERO
            }
        }
    }

    /// A date `AAAA-MM-DD`; absent, null or empty is none.
    fn date(&mut self, name: &str) -> Option<NaiveDate> {
        let t = self.text(&[name]);
        if t.is_empty() {
            return None;
        }
        match NaiveDate::parse_from_str(&t, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                self.errors.push((name.into(), format!("{t:?} is not a date AAAA-MM-DD")));
                None
            }
        }
    }

    fn time(&mut self, name: &str) -> Option<NaiveTime> {
        let t = self.text(&[name]);
        if t.is_empty() {
            return None;
        }
        match NaiveTime::parse_from_str(&t, "%H:%M:%S") {
            Ok(v) => Some(v),
            Err(_) => {
                self.errors.push((name.into(), format!("{t:?} is not a time HH:MM:SS")));
                None
            }
        }
    }

    /// A count (installments): digits, absent or empty is 0.
    fn number(&mut self, names: &[&str]) -> u32 {
        let t = self.text(names);
        if t.is_empty() {
            return 0;
        }
        t.parse().unwrap_or_else(|_| {
            self.errors.push((names[0].into(), format!("{t:?} is not a number")));
            0
        })
    }

    fn required(&mut self, name: &str, value: &str) {
        if value.is_empty() {
            self.errors.push((name.into(), "required, and absent or empty".into()));
        }
    }

    /// Report this record's problems, each at its record and field.
    fn report(&mut self, cx: &mut ParseContext<'_>) -> bool {
        for (field, reason) in self.errors.drain(..) {
            cx.issue(self.line, None, format!("detalhes[{}].{field}", self.index - 1), reason);
        }
        cx.summary.is_valid()
    }
}

/// Read a PagBank response: its records to the context's sink, the summary in the context. "Lines" are the
/// records (`detalhes[i]` is record i + 1): an error names the record's index and the field.
pub fn read_document(bytes: &[u8], cx: &mut ParseContext<'_>) {
    let doc: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            // The column where it is one a line can have (a response written on one long line has none).
            let column = Some(e.column().max(1)).filter(|&c| c <= crate::formats::MAX_LINE_BYTES);
            cx.issue((e.line() as u64).max(1), column, "json", format!("not a JSON document: {e}"));
            return;
        }
    };
    let Some(details) = doc.get("detalhes").and_then(Value::as_array) else {
        cx.issue(1, None, "detalhes", "a PagBank EDI response has a list `detalhes`");
        return;
    };
    if let Some(p) = doc.get("pagination") {
        let page = p.get("page").and_then(Value::as_u64);
        let pages = p.get("totalPages").and_then(Value::as_u64);
        if let (Some(page), Some(pages)) = (page, pages) {
            if page != pages {
                cx.issue(
                    1,
                    None,
                    "pagination.page",
                    format!("page {page} of {pages}: a day's movement is all its pages, fetched together"),
                );
                return;
            }
        }
    }
    let maps: Vec<&serde_json::Map<String, Value>> = match details.iter().map(Value::as_object).collect() {
        Some(m) => m,
        None => {
            cx.issue(1, None, "detalhes", "every element of `detalhes` is an object");
            return;
        }
    };
    if maps.is_empty() {
        cx.issue(
            1,
            None,
            "detalhes",
            "no record: an empty response names neither the establishment nor the day (nothing to load)",
        );
        return;
    }
    // A financial record says when it moved; the file is financial when its records do.
    let financial = maps.iter().any(|m| m.get("data_movimentacao").is_some_and(|v| !v.is_null()));
    let starts = record_lines(bytes);
    let line_of = |i: usize| starts.get(i).copied().unwrap_or(1);
    let mut merchants = std::collections::BTreeSet::new();
    let mut dates = std::collections::BTreeSet::new();
    for (i, m) in maps.iter().enumerate() {
        let mut d = Detail { index: i + 1, line: line_of(i), map: m, errors: Vec::new() };
        merchants.insert(d.code("estabelecimento"));
        let day = if financial { d.date("data_movimentacao") } else { d.date("data_venda_ajuste") };
        dates.extend(day);
    }
    if merchants.len() != 1 {
        cx.issue(
            1,
            None,
            "estabelecimento",
            format!("{} establishments in one response: {merchants:?}", merchants.len()),
        );
        return;
    }
    let merchant_code = merchants.into_iter().next().unwrap_or_default();
    let (Some(&first), Some(&last)) = (dates.first(), dates.last()) else {
        cx.issue(1, None, if financial { "data_movimentacao" } else { "data_venda_ajuste" }, "no record is dated");
        return;
    };
    cx.emit(Record::Header(StatementHeader {
        acquirer: Acquirer::Pagbank,
        layout_version: if maps.iter().any(|m| m.contains_key("quantidade_parcelas")) { "v3.00" } else { "2.x" }.into(),
        code_set: CODE_SET,
        file_type: FileType {
            code: if financial { FINANCIAL } else { TRANSACTIONAL }.into(),
            kind: if financial { "payments" } else { "sales" },
        },
        merchant_code: merchant_code.clone(),
        processing_date: last,
        period_start: first,
        period_end: last,
        sequence: String::new(),
        mailbox: String::new(),
    }));
    for (i, m) in maps.iter().enumerate() {
        let mut d = Detail { index: i + 1, line: line_of(i), map: m, errors: Vec::new() };
        record(&mut d, financial, &merchant_code, cx);
    }
}

/// One record into the domain (see the module).
fn record(d: &mut Detail<'_>, financial: bool, merchant_code: &str, cx: &mut ParseContext<'_>) {
    // A record's number in the facts is its order in the response.
    let line_no = d.index as u64;
    let transaction = d.text(&["codigo_transacao"]);
    d.required("codigo_transacao", &transaction);
    let event = d.code("tipo_evento");
    d.required("tipo_evento", &event);
    let kind = d.code("tipo_transacao");
    let installment = d.number(&["parcela"]).max(1);
    let installments = d.number(&["quantidade_parcelas", "quantidade_parcela"]);
    let total = d.money("valor_total_transacao");
    let net = d.money("valor_parcela");
    let net_total = d.money("valor_liquido_transacao");
    let means = d.code("meio_pagamento");
    let settlement = PAYMENT_MEANS.iter().find(|p| p.0 == means).map_or("000", |p| p.2);
    let brand = d.text(&["instituicao_financeira"]).to_uppercase();
    let status = d.code("status_pagamento");
    let due = d.date("data_prevista_pagamento");
    let moved = d.date("data_movimentacao");
    let sale_day = d.date("data_inicial_transacao");
    let posted = d.date("data_venda_ajuste");
    let time = d.time("hora_inicial_transacao");
    let _ = d.time("hora_venda_ajuste");
    let fee_total = d.money("taxa_intermediacao") + d.money("tarifa_intermediacao");
    let anticipation_fee = d.money("taxa_antecipacao");
    let (bank, branch, account) = (d.text(&["cod_banco"]), d.text(&["banco_agencia"]), d.text(&["conta_banco"]));
    let (card_bin, card_last_digits) = (d.text(&["cartao_bin"]), d.text(&["cartao_holder"]));
    let tid = d.text(&["tid"]);
    let nsu = d.text(&["nsu"]);
    let authorization_code = d.text(&["codigo_autorizacao"]);
    let sale_reference = d.text(&["codigo_venda"]);
    let ur = d.text(&["codigo_ur"]);
    let movement_id = d.text(&["movimento_api_codigo"]);
    let capture = d.text(&["canal_entrada"]);
    let terminal = d.text(&["num_logico"]);
    // The whole transaction's net is its total less the fees (the worked example: 300.00 − 8.97 − 2.00).
    if d.errors.is_empty() && !net_total.is_zero() && total - fee_total != net_total {
        d.errors.push((
            "valor_liquido_transacao".into(),
            format!("net {net_total} is not the total {total} less the fees {fee_total}"),
        ));
    }
    if !d.report(cx) {
        return;
    }
    let ur_key = transaction.clone();
    let unit = |status: &str, payment_date: Option<NaiveDate>, net: Decimal, gross: Decimal| ReceivableUnit {
        line_no,
        merchant_code: merchant_code.to_string(),
        brand_code: brand.clone(),
        settlement_type_code: settlement.into(),
        product_code: Some(means.clone()),
        payment_status_code: status.into(),
        gross_amount: gross,
        fee_amount: net - gross,
        net_amount: net,
        bank_code: bank.clone(),
        branch_code: branch.clone(),
        account_number: account.clone(),
        posting_type_code: event.clone(),
        ur_key: ur_key.clone(),
        summary_number: transaction.clone(),
        installment,
        installment_plan: installments.to_string(),
        payment_date,
        original_due_date: due,
        credit_document: ur.clone(),
        transaction_type: kind.clone(),
        ..Default::default()
    };
    // The installment's share of the total: the total split evenly, the last installment taking the rest.
    let n = Decimal::from(installments.max(1));
    let share = (total / n).round_dp(2);
    let gross = if installment >= installments.max(1) { total - share * (n - Decimal::ONE) } else { share };
    if event == "4" && kind == "4" {
        // An automatic cashout to the merchant's bank account: the deposit the bank statement shows.
        let negotiation = ReceivablesNegotiation {
            line_no,
            merchant_code: merchant_code.to_string(),
            negotiation_date: posted,
            payment_date: moved.or(posted),
            holder_tax_id: String::new(),
            average_term_days: 0,
            nominal_rate: Decimal::ZERO,
            gross_amount: total.max(net),
            net_amount: net.max(total),
            operation_code: movement_id,
            payment_form_code: "CO".into(),
            effective_rate: None,
        };
        let amount = negotiation.net_amount;
        cx.accept(line_no, "detalhe", Vec::new(), Record::Negotiation(Box::new(negotiation)));
        let credit = NegotiationCredit {
            line_no,
            negotiation_line_no: line_no,
            merchant_code: merchant_code.to_string(),
            bank_code: bank,
            branch_code: branch,
            account_number: account,
            deposited_amount: amount,
        };
        cx.accept(line_no, "detalhe", Vec::new(), Record::NegotiationCredit(Box::new(credit)));
        return;
    }
    if financial {
        // The installment settled: paid on its movement day, net of any anticipation cost.
        let paid = net - anticipation_fee;
        cx.accept(line_no, "detalhe", Vec::new(), Record::ReceivableUnit(Box::new(unit(&status, moved, paid, net))));
        return;
    }
    let t = CardTransaction {
        line_no,
        merchant_code: merchant_code.to_string(),
        brand_code: brand.clone(),
        settlement_type_code: settlement.into(),
        product_code: means.clone(),
        installment,
        installment_count: installments,
        authorization_code,
        posting_type_code: event.clone(),
        ur_key: ur_key.clone(),
        summary_number: transaction.clone(),
        transaction_code: transaction.clone(),
        order_reference: sale_reference,
        card_bin,
        card_last_digits,
        nsu,
        tid,
        sale_total_amount: total,
        gross_amount: gross,
        net_amount: Some(net),
        fee_amount: Some(net - gross),
        sale_time: time,
        authorization_date: sale_day,
        posting_date: posted,
        original_due_date: due,
        capture_type: capture,
        terminal,
        ..Default::default()
    };
    cx.accept(line_no, "detalhe", Vec::new(), Record::Transaction(Box::new(t)));
    // What it will pay (or take) and when: a sale's installment is a forecast the financial movement settles;
    // any other event's date is where its adjustment is listed.
    cx.accept(
        line_no,
        "detalhe",
        Vec::new(),
        Record::ReceivableUnit(Box::new(unit(&status, due.or(posted), net, gross))),
    );
}

/// The line each element of the `detalhes` list starts on (a scan of the text: strings and nesting followed,
/// nothing parsed), for errors that point at the record.
fn record_lines(bytes: &[u8]) -> Vec<u64> {
    let Some(key) = bytes.windows(10).position(|w| w == b"\"detalhes\"") else { return Vec::new() };
    let mut out = Vec::new();
    let mut line = 1 + bytes[..key].iter().filter(|&&b| b == b'\n').count() as u64;
    let (mut depth, mut in_string, mut escaped, mut started) = (0i32, false, false, false);
    for &b in &bytes[key + 10..] {
        if b == b'\n' {
            line += 1;
        }
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                if b == b'[' && !started {
                    started = true;
                } else if started && depth == 1 && b == b'{' {
                    out.push(line);
                }
                depth += 1;
            }
            b']' | b'}' => {
                depth -= 1;
                if started && depth == 0 {
                    break;
                }
            }
            _ => {}
        }
    }
    out
}
