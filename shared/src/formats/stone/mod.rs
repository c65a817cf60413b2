//! Stone conciliation file ("Arquivo de Conciliação"), XML layout 2.x (2.2, 2.4): one document per StoneCode and
//! reference day. Layout and evidence: ../shared/formats/stone.md (Stone's own v2 pages plus secondary sources
//! that disagree in places: both spellings are accepted there); the derived sample in
//! ../shared/fixtures/stone. Streamed with `quick-xml` (a pull parser): elements this version does not use are
//! skipped and counted, empty elements are absent values, every leaf is text converted here.
//!
//! Mapped into the same domain as the other acquirers:
//! - `FinancialTransactions/Transaction` captured that day: one sale installment per `Installment`
//!   ([`CardTransaction`], gross and net as Stone states them, rounded to centavos) and its forecast
//!   ([`ReceivableUnit`] keyed by the `AcquirerTransactionKey`, due `PrevisionPaymentDate`, status `PREVISION`);
//!   its `Cancellation`s, an installment's `Chargeback` and `ChargebackRefund`: adjustments naming the sale;
//! - `FinancialTransactionsAccounts/Transaction`: each installment settled ([`ReceivableUnit`], paid on
//!   `PaymentDate`, status `PAID`);
//! - `FinancialEvents/Event` (rent, adjustments, transfers): an adjustment of its type (`EV` + |Type|);
//! - `Payments/Payment`: the deposit into the merchant's bank account that day (a [`ReceivablesNegotiation`]
//!   with payment form `PY` and its [`NegotiationCredit`]) — what the bank area looks for.
//!
//! Stone writes amounts with up to 6 decimals; each is rounded to centavos, half away from zero, as Stone's
//! own example needs for its payment total to add up (stone.md, section 4). The trailer's counters are not
//! checked: Stone's own full example does not add up.

pub mod sample;

use crate::formats::ParseContext;
use crate::model::{
    Acquirer, CardTransaction, FileType, NegotiationCredit, ReceivableUnit, ReceivablesNegotiation, Record,
    StatementHeader,
};
use chrono::{NaiveDate, NaiveDateTime};
use quick_xml::events::Event;
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::BTreeMap;
use std::str::FromStr;

/// The code set of Stone's codes.
pub const CODE_SET: &str = "stone-v2";
/// The file type of a conciliation file (sales and payments in one).
pub const FILE_TYPE: &str = "STONE";
/// The largest document read (one StoneCode's day).
pub const MAX_DOCUMENT_BYTES: usize = 256 << 20;

/// Whether a document is Stone's: XML whose root is `Conciliation`.
pub fn recognise(head: &[u8]) -> bool {
    let start = head.iter().position(|b| !b.is_ascii_whitespace()).map_or(&head[..0], |i| &head[i..]);
    let start = start.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(start);
    start.first() == Some(&b'<') && head.windows(13).any(|w| w == b"<Conciliation")
}

/// `AccountType`: how a sale settles (`001` debit, `002` credit, `004` voucher, `000` neither).
pub const ACCOUNT_TYPES: &[(&str, &str, &str)] = &[
    ("1", "Débito", "001"),
    ("2", "Crédito", "002"),
    ("3", "Pré-pago débito", "001"),
    ("4", "Pré-pago crédito", "002"),
    ("5", "Voucher", "004"),
    ("10", "Boleto", "000"),
];

/// The product a merchant contracts, and the fee audit prices: the card's `AccountType` and how the sale is
/// paid (`InstallmentType`: 1 at once, 2 installments the merchant finances, 3 installments the issuer
/// finances), written `{AccountType}-{InstallmentType}`. `InstallmentType` alone made a debit sale and a
/// credit sale at once the same product, which no contract prices alike. Seeded by V34 (a test keeps the two
/// the same); any other pair is loaded raw and flagged.
pub const PRODUCTS: &[(&str, &str)] = &[
    ("1-1", "Débito"),
    ("2-1", "Crédito à vista"),
    ("2-2", "Crédito parcelado lojista"),
    ("2-3", "Crédito parcelado emissor"),
    ("3-1", "Pré-pago débito"),
    ("4-1", "Pré-pago crédito à vista"),
    ("4-2", "Pré-pago crédito parcelado lojista"),
    ("4-3", "Pré-pago crédito parcelado emissor"),
    ("5-1", "Voucher"),
];

/// The product code of a sale of `account_type` paid as `installment_type` (see [`PRODUCTS`]).
pub fn product(account_type: &str, installment_type: &str) -> String {
    format!("{account_type}-{installment_type}")
}

/// A leaf's value as read, with the line it is on.
#[derive(Debug, Clone, Default)]
struct Leaves(BTreeMap<String, (String, u64)>);

impl Leaves {
    fn get(&self, path: &str) -> &str {
        self.0.get(path).map_or("", |v| v.0.as_str())
    }
}

/// What is being read: the element path and the leaves of the record being collected.
struct Reader<'a, 'c> {
    cx: &'a mut ParseContext<'c>,
    header: Option<StatementHeader>,
    /// Records emitted so far: a record's number (its `line_no` in the facts) is its order in the document,
    /// as several can start on one line of XML.
    emitted: u64,
}

/// A record collected from the document: its section, its start line and its leaves by path below it.
struct Collected {
    section: String,
    line: u64,
    leaves: Leaves,
    /// Repeated children (installments, cancellations), each its own leaves, by the child's name.
    children: Vec<(String, u64, Leaves)>,
}

/// The elements a record is: `(section, record element, repeated children)`.
const RECORDS: &[(&str, &str, &[&str])] = &[
    ("Conciliation", "Header", &[]),
    ("FinancialTransactions", "Transaction", &["Installment", "Cancellation"]),
    ("FinancialTransactionsAccounts", "Transaction", &["Installment", "Cancellation"]),
    ("FinancialEvents", "Event", &[]),
    ("FinancialEventAccounts", "Event", &[]),
    ("FinancialEventsAccounts", "Event", &[]),
    ("Payments", "Payment", &[]),
    ("Conciliation", "Trailer", &[]),
];

/// Read a Stone conciliation file into records (see the module).
pub fn read_document(bytes: &[u8], cx: &mut ParseContext<'_>) {
    let line_of = {
        let newlines: Vec<usize> = memchr::memchr_iter(b'\n', bytes).collect();
        move |pos: usize| newlines.partition_point(|&n| n < pos) as u64 + 1
    };
    let mut xml = quick_xml::Reader::from_reader(bytes);
    xml.config_mut().trim_text(true);
    let mut r = Reader { cx, header: None, emitted: 0 };
    let mut path: Vec<String> = Vec::new();
    let mut current: Option<Collected> = None;
    let mut child: Option<(String, u64, Leaves)> = None;
    let mut unknown: BTreeMap<String, u64> = BTreeMap::new();
    let mut buf = Vec::new();
    loop {
        let pos = xml.buffer_position() as usize;
        let event = match xml.read_event_into(&mut buf) {
            Ok(e) => e,
            Err(e) => {
                let at = xml.error_position() as usize;
                r.cx.issue(line_of(at), None, "xml", format!("not a well-formed XML document: {e}"));
                return;
            }
        };
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(e) | Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).to_string();
                let line = line_of(pos);
                if path.is_empty() && name != "Conciliation" {
                    r.cx.issue(line, None, "xml", format!("the root element is <{name}>, not <Conciliation>"));
                    return;
                }
                let parent = path.last().map(String::as_str).unwrap_or("");
                if current.is_none() {
                    if let Some(&(section, _, _)) = RECORDS.iter().find(|(s, rec, _)| *s == parent && *rec == name) {
                        current = Some(Collected {
                            section: section.to_string(),
                            line,
                            leaves: Leaves::default(),
                            children: Vec::new(),
                        });
                    } else if !RECORDS.iter().any(|(s, _, _)| *s == name) && name != "Conciliation" && path.len() <= 1 {
                        *unknown.entry(name.clone()).or_default() += 1;
                    }
                } else if let Some(c) = &current {
                    // A repeated child is an element of its list (`Installments/Installment`), not a counter of
                    // the same name (`Events/Cancellation` in some files).
                    let kids = RECORDS.iter().find(|(s, _, _)| *s == c.section).map_or(&[][..], |r| r.2);
                    if child.is_none() && kids.contains(&name.as_str()) && parent == format!("{name}s") {
                        child = Some((name.clone(), line, Leaves::default()));
                    }
                }
                // An empty element (`<NetAmount />`) is an absent value: nothing is kept for it.
                if !empty {
                    path.push(name);
                } else if child.as_ref().is_some_and(|(kid, _, _)| *kid == name) {
                    if let (Some(k), Some(c)) = (child.take(), current.as_mut()) {
                        c.children.push(k);
                    }
                }
            }
            Event::Text(t) => {
                let text = match t.unescape() {
                    Ok(s) => s.trim().to_string(),
                    Err(e) => {
                        r.cx.issue(line_of(pos), None, "xml", format!("unreadable text: {e}"));
                        return;
                    }
                };
                let Some(leaf) = path.last().cloned() else { continue };
                let line = line_of(pos);
                if let Some((kid, _, leaves)) = child.as_mut() {
                    // The leaf's path below the child (`Chargeback/Amount`).
                    let below = path.iter().rposition(|p| p == kid).map_or(leaf.clone(), |i| path[i + 1..].join("/"));
                    leaves.0.insert(below, (text, line));
                } else if let Some(c) = current.as_mut() {
                    let rec = RECORDS.iter().find(|(s, _, _)| *s == c.section).map_or("", |r| r.1);
                    let below = path.iter().rposition(|p| p == rec).map_or(leaf.clone(), |i| path[i + 1..].join("/"));
                    c.leaves.0.insert(below, (text, line));
                }
            }
            Event::CData(t) => {
                if let (Some(leaf), Some(c)) = (path.last().cloned(), current.as_mut()) {
                    c.leaves.0.insert(leaf, (String::from_utf8_lossy(&t).trim().to_string(), line_of(pos)));
                }
            }
            Event::End(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).to_string();
                path.pop();
                if child.as_ref().is_some_and(|(kid, _, _)| *kid == name) {
                    if let (Some(k), Some(c)) = (child.take(), current.as_mut()) {
                        c.children.push(k);
                    }
                }
                let parent = path.last().map(String::as_str).unwrap_or("");
                let closes = current.as_ref().is_some_and(|c| {
                    c.section == parent && RECORDS.iter().any(|(s, rec, _)| *s == parent && *rec == name)
                });
                if closes {
                    if let Some(c) = current.take() {
                        r.record(&name, c);
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if r.header.is_none() {
        r.cx.issue(1, None, "Header", "no <Header>: the StoneCode and the reference day are not known");
    }
    // Elements this version does not read, counted where `parse` shows the record counts.
    for (name, n) in unknown {
        for _ in 0..n {
            r.cx.count_record_code(&format!("ignored <{name}>"));
        }
    }
}

/// An amount: decimal text with `.`, rounded to centavos (half away from zero); empty is none.
fn amount(text: &str) -> Result<Option<Decimal>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    Decimal::from_str(text)
        .map(|d| {
            let mut v = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
            v.rescale(2);
            Some(v)
        })
        .map_err(|_| format!("{text:?} is not an amount"))
}

fn date(text: &str) -> Result<Option<NaiveDate>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(text, "%Y%m%d").map(Some).map_err(|_| format!("{text:?} is not a date AAAAMMDD"))
}

fn datetime(text: &str) -> Result<Option<NaiveDateTime>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    NaiveDateTime::parse_from_str(text, "%Y%m%d%H%M%S")
        .map(Some)
        .map_err(|_| format!("{text:?} is not a date and time AAAAMMDDHHMMSS"))
}

/// A record's leaves, read with its problems collected.
struct Fields<'l> {
    leaves: &'l Leaves,
    record: String,
    errors: Vec<(u64, String, String)>,
}

impl Fields<'_> {
    fn text(&self, path: &str) -> String {
        self.leaves.get(path).to_string()
    }
    fn line(&self, path: &str, default: u64) -> u64 {
        self.leaves.0.get(path).map_or(default, |v| v.1)
    }
    fn fail(&mut self, path: &str, reason: String) {
        let line = self.line(path, 0);
        self.errors.push((line, format!("{}.{path}", self.record), reason));
    }
    fn money(&mut self, path: &str) -> Option<Decimal> {
        amount(self.leaves.get(path)).unwrap_or_else(|e| {
            self.fail(path, e);
            None
        })
    }
    fn date(&mut self, path: &str) -> Option<NaiveDate> {
        date(self.leaves.get(path)).unwrap_or_else(|e| {
            self.fail(path, e);
            None
        })
    }
    fn datetime(&mut self, path: &str) -> Option<NaiveDateTime> {
        datetime(self.leaves.get(path)).unwrap_or_else(|e| {
            self.fail(path, e);
            None
        })
    }
    fn number(&mut self, path: &str) -> u32 {
        let t = self.leaves.get(path);
        if t.is_empty() {
            return 0;
        }
        t.parse().unwrap_or_else(|_| {
            self.fail(path, format!("{t:?} is not a number"));
            0
        })
    }
}

impl Reader<'_, '_> {
    /// Hand a record over, numbered in document order.
    fn give(&mut self, mut record: Record) -> u64 {
        self.emitted += 1;
        let n = self.emitted;
        match &mut record {
            Record::Transaction(t) => t.line_no = n,
            Record::ReceivableUnit(u) => u.line_no = n,
            Record::Negotiation(g) => g.line_no = n,
            Record::NegotiationCredit(c) => c.line_no = n,
            _ => {}
        }
        self.cx.accept(n, "record", Vec::new(), record);
        n
    }

    fn report(&mut self, line: u64, errors: Vec<(u64, String, String)>) -> bool {
        let ok = errors.is_empty();
        for (l, field, reason) in errors {
            self.cx.issue(if l == 0 { line } else { l }, None, field, reason);
        }
        ok && self.cx.summary.is_valid()
    }

    fn merchant(&self) -> String {
        self.header.as_ref().map(|h| h.merchant_code.clone()).unwrap_or_default()
    }

    fn record(&mut self, name: &str, c: Collected) {
        match (c.section.as_str(), name) {
            ("Conciliation", "Header") => self.header(&c),
            ("Conciliation", "Trailer") => {}
            _ if self.header.is_none() => {
                self.cx.issue(c.line, None, format!("{}.{name}", c.section), "a record before the <Header>");
            }
            ("FinancialTransactions", _) => self.transaction(&c),
            ("FinancialTransactionsAccounts", _) => self.settlement(&c),
            ("FinancialEvents", _) => self.event(&c),
            ("Payments", _) => self.payment(&c),
            // Events paid or charged that day: their money is in the day's payment; listed by FinancialEvents.
            _ => {}
        }
    }

    fn header(&mut self, c: &Collected) {
        let mut f = Fields { leaves: &c.leaves, record: "Header".into(), errors: Vec::new() };
        let code = f.text("StoneCode");
        if code.is_empty() || !code.bytes().all(|b| b.is_ascii_digit()) {
            f.fail("StoneCode", format!("{code:?}: a StoneCode is digits"));
        }
        let day = f.date("ReferenceDate");
        if day.is_none() && f.errors.is_empty() {
            f.fail("ReferenceDate", "required, and absent".into());
        }
        let version = f.text("LayoutVersion");
        if !(version.starts_with('2') || version.is_empty()) {
            f.fail("LayoutVersion", format!("layout {version:?}: this version reads layout 2.x"));
        }
        let _ = f.datetime("GenerationDateTime");
        let sequence = f.text("FileId");
        let errors = std::mem::take(&mut f.errors);
        if !self.report(c.line, errors) {
            return;
        }
        let Some(day) = day else { return };
        let h = StatementHeader {
            acquirer: Acquirer::Stone,
            layout_version: version,
            code_set: CODE_SET,
            file_type: FileType { code: FILE_TYPE.into(), kind: "sales_and_payments" },
            merchant_code: code.trim_start_matches('0').to_string(),
            processing_date: day,
            period_start: day,
            period_end: day,
            sequence,
            mailbox: String::new(),
        };
        self.header = Some(h.clone());
        self.cx.emit(Record::Header(h));
    }

    /// A transaction of the day: its capture (the installments and their forecast), cancellations, chargebacks.
    fn transaction(&mut self, c: &Collected) {
        let mut f =
            Fields { leaves: &c.leaves, record: "FinancialTransactions.Transaction".into(), errors: Vec::new() };
        let key = f.text("AcquirerTransactionKey");
        if key.is_empty() {
            f.fail("AcquirerTransactionKey", "required, and absent".into());
        }
        let captures = f.number("Events/Captures");
        let account_type = f.text("AccountType");
        let settlement = ACCOUNT_TYPES.iter().find(|a| a.0 == account_type).map_or("000", |a| a.2);
        let product_code = product(&account_type, &f.text("InstallmentType"));
        let installments = f.number("NumberOfInstallments");
        let captured = f.money("CapturedAmount").unwrap_or_default();
        let authorized_at = f.datetime("AuthorizationDateTime");
        let captured_at = f.datetime("CaptureLocalDateTime");
        let currency = f.text("AuthorizationCurrencyCode");
        if !currency.is_empty() && currency.trim_start_matches('0') != "986" {
            f.fail("AuthorizationCurrencyCode", format!("currency {currency:?}: only reais (986) are supported"));
        }
        let brand = f.text("BrandId");
        let card = f.text("CardNumber");
        let (card_bin, card_last_digits) = crate::formats::rede::card_parts(&card);
        let authorization_code = f.text("IssuerAuthorizationCode");
        let terminal = f.text("Poi/SerialNumber");
        let capture_type = f.text("Poi/PoiType");
        let initiator = f.text("InitiatorTransactionKey");
        let merchant_code = self.merchant();
        let day = authorized_at.or(captured_at).map(|d| d.date());
        let base = CardTransaction {
            merchant_code: merchant_code.clone(),
            brand_code: brand.clone(),
            settlement_type_code: settlement.into(),
            product_code: product_code.clone(),
            installment_count: installments,
            authorization_code,
            ur_key: key.clone(),
            summary_number: key.clone(),
            transaction_code: key.clone(),
            unique_sale_code: key.clone(),
            order_reference: initiator,
            card_bin,
            card_last_digits,
            nsu: key.clone(),
            sale_total_amount: captured,
            authorization_date: day,
            capture_date: captured_at.map(|d| d.date()),
            sale_time: authorized_at.map(|d| d.time()),
            terminal,
            capture_type,
            ..Default::default()
        };
        let mut out: Vec<Record> = Vec::new();
        // An adjustment's own unit: the day it is charged (or credited), where the run lists it.
        let unit_of = |t: &Record| -> Option<Record> {
            let Record::Transaction(t) = t else { return None };
            Some(Record::ReceivableUnit(Box::new(ReceivableUnit {
                line_no: t.line_no,
                merchant_code: t.merchant_code.clone(),
                brand_code: t.brand_code.clone(),
                settlement_type_code: t.settlement_type_code.clone(),
                payment_status_code: "PREVISION".into(),
                gross_amount: t.gross_amount,
                net_amount: t.net_amount.unwrap_or(t.gross_amount),
                fee_amount: t.fee_amount.unwrap_or_default(),
                posting_type_code: t.posting_type_code.clone(),
                ur_key: t.ur_key.clone(),
                summary_number: t.summary_number.clone(),
                installment: t.installment.max(1),
                payment_date: t.original_due_date.or(t.posting_date),
                ..Default::default()
            })))
        };
        for (kid, line, leaves) in &c.children {
            let mut k = Fields { leaves, record: format!("{}.{kid}", f.record), errors: Vec::new() };
            if kid == "Installment" {
                let n = k.number("InstallmentNumber").max(1);
                let gross = k.money("GrossAmount").unwrap_or_default();
                let net = k.money("NetAmount");
                let mdr = k.money("MdrAmount").or(k.money("SaleFee"));
                let due = k.date("PrevisionPaymentDate");
                if captures > 0 {
                    // A sale cancelled the same day states no net (empty, or 0.00): its net is the gross less its
                    // MDR, and the cancellation takes it back.
                    let cancelled = f.money("CanceledAmount").is_some_and(|c| c > Decimal::ZERO);
                    let net = match net {
                        Some(n) if !(n.is_zero() && cancelled) => n,
                        _ => gross - mdr.unwrap_or_default(),
                    };
                    out.push(Record::Transaction(Box::new(CardTransaction {
                        line_no: *line,
                        installment: n,
                        posting_type_code: "CAPTURE".into(),
                        gross_amount: gross,
                        net_amount: Some(net),
                        fee_amount: Some(net - gross),
                        original_due_date: due,
                        ..base.clone()
                    })));
                    if due.is_some() {
                        out.push(Record::ReceivableUnit(Box::new(ReceivableUnit {
                            line_no: *line,
                            merchant_code: merchant_code.clone(),
                            brand_code: brand.clone(),
                            settlement_type_code: settlement.into(),
                            product_code: Some(product_code.clone()),
                            payment_status_code: "PREVISION".into(),
                            gross_amount: gross,
                            net_amount: net,
                            fee_amount: net - gross,
                            posting_type_code: "CAPTURE".into(),
                            ur_key: key.clone(),
                            summary_number: key.clone(),
                            installment: n,
                            installment_plan: installments.to_string(),
                            payment_date: due,
                            ..Default::default()
                        })));
                    }
                }
                for (what, sign, posting) in
                    [("Chargeback", -1, "CHARGEBACK"), ("ChargebackRefund", 1, "CHARGEBACK_REFUND")]
                {
                    let Some(a) = k.money(&format!("{what}/Amount")) else { continue };
                    let when = k.date(&format!("{what}/Date"));
                    let charged = k.date(&format!("{what}/ChargeDate")).or(k.date(&format!("{what}/PaymentDate")));
                    let v = a * Decimal::from(sign);
                    let t = self.adjustment(
                        &base,
                        *line,
                        n,
                        posting,
                        v,
                        when,
                        charged.or(when),
                        k.text(&format!("{what}/ReasonCode")),
                    );
                    out.extend(unit_of(&t));
                    out.push(t);
                }
            } else {
                // A cancellation: what is returned to the cardholder, and what the merchant is charged for it.
                let returned = k.money("ReturnedAmount").unwrap_or_default();
                let charged = k.money("Billing/ChargedAmount");
                let when = k.datetime("CancellationDateTime").map(|d| d.date());
                let charge_day = k.date("Billing/PrevisionChargeDate").or(k.date("Billing/ChargeDate"));
                let n = k.number("InstallmentNumber");
                let mut t = self.adjustment(
                    &base,
                    *line,
                    n,
                    "CANCELLATION",
                    -returned,
                    when,
                    charge_day.or(when),
                    String::new(),
                );
                if let (Record::Transaction(tx), Some(charged)) = (&mut t, charged) {
                    tx.net_amount = Some(-charged);
                    tx.fee_amount = Some(returned - charged);
                }
                out.extend(unit_of(&t));
                out.push(t);
            }
            f.errors.append(&mut k.errors);
        }
        let errors = std::mem::take(&mut f.errors);
        if !self.report(c.line, errors) {
            return;
        }
        for r in out {
            self.give(r);
        }
    }

    /// An adjustment of a sale (cancellation, chargeback, its refund), with the unit its date is read from.
    #[allow(clippy::too_many_arguments)]
    fn adjustment(
        &self,
        base: &CardTransaction,
        line: u64,
        installment: u32,
        posting: &str,
        amount: Decimal,
        when: Option<NaiveDate>,
        effective: Option<NaiveDate>,
        reason: String,
    ) -> Record {
        Record::Transaction(Box::new(CardTransaction {
            line_no: line,
            installment,
            ur_key: format!("{}/{posting}/{installment}", base.ur_key),
            posting_type_code: posting.into(),
            gross_amount: amount,
            net_amount: Some(amount),
            fee_amount: Some(Decimal::ZERO),
            unique_sale_code: String::new(),
            original_sale_code: base.unique_sale_code.clone(),
            posting_date: when,
            original_due_date: effective,
            adjustment_code: (!reason.is_empty()).then_some(reason),
            sale_total_amount: Decimal::ZERO,
            ..base.clone()
        }))
    }

    /// A transaction's installments settled that day.
    fn settlement(&mut self, c: &Collected) {
        let mut f = Fields {
            leaves: &c.leaves,
            record: "FinancialTransactionsAccounts.Transaction".into(),
            errors: Vec::new(),
        };
        let key = f.text("AcquirerTransactionKey");
        if key.is_empty() {
            f.fail("AcquirerTransactionKey", "required, and absent".into());
        }
        let merchant_code = self.merchant();
        let mut out = Vec::new();
        for (kid, line, leaves) in c.children.iter().filter(|k| k.0 == "Installment") {
            let mut k = Fields { leaves, record: format!("{}.{kid}", f.record), errors: Vec::new() };
            let n = k.number("InstallmentNumber").max(1);
            let gross = k.money("GrossAmount").unwrap_or_default();
            let paid = k.money("NetAmount").unwrap_or_default();
            let advance = k.money("AdvanceRateAmount").filter(|a| !a.is_zero());
            let on = k.date("PaymentDate");
            if on.is_none() && k.errors.is_empty() {
                k.fail("PaymentDate", "a settled installment has its payment date".into());
            }
            // Paid early: the installment as scheduled is what was paid plus the anticipation's cost (its fee).
            let (posting, scheduled) = match advance {
                Some(a) => ("ANTICIPATION", paid + a),
                None => ("CAPTURE", gross),
            };
            out.push(Record::ReceivableUnit(Box::new(ReceivableUnit {
                line_no: *line,
                merchant_code: merchant_code.clone(),
                payment_status_code: "PAID".into(),
                gross_amount: scheduled,
                net_amount: paid,
                fee_amount: paid - scheduled,
                posting_type_code: posting.into(),
                ur_key: key.clone(),
                summary_number: key.clone(),
                installment: n,
                payment_date: on,
                original_due_date: k.date("AdvancedReceivableOriginalPaymentDate"),
                credit_document: k.text("PaymentId"),
                settlement_type_code: "000".into(),
                ..Default::default()
            })));
            f.errors.append(&mut k.errors);
        }
        let errors = std::mem::take(&mut f.errors);
        if self.report(c.line, errors) {
            for r in out {
                self.give(r);
            }
        }
    }

    /// A financial event launched that day (rent, an adjustment, a transfer), listed at its forecast date.
    fn event(&mut self, c: &Collected) {
        let mut f = Fields { leaves: &c.leaves, record: "FinancialEvents.Event".into(), errors: Vec::new() };
        let id = f.text("EventId");
        let kind = f.text("Type").trim_start_matches('-').to_string();
        let amount = f.money("Amount").unwrap_or_default();
        let due = f.date("PrevisionPaymentDate");
        let description = f.text("Description");
        let errors = std::mem::take(&mut f.errors);
        if !self.report(c.line, errors) {
            return;
        }
        let merchant_code = self.merchant();
        let posting = format!("EV{kind}");
        let ur_key = format!("EV-{id}");
        let day = self.header.as_ref().map(|h| h.processing_date);
        self.give(Record::Transaction(Box::new(CardTransaction {
            line_no: c.line,
            merchant_code: merchant_code.clone(),
            posting_type_code: posting.clone(),
            ur_key: ur_key.clone(),
            processed_transaction_code: id.clone(),
            gross_amount: amount,
            net_amount: Some(amount),
            fee_amount: Some(Decimal::ZERO),
            adjustment_reason: description,
            posting_date: day,
            original_due_date: due,
            settlement_type_code: "000".into(),
            ..Default::default()
        })));
        self.give(Record::ReceivableUnit(Box::new(ReceivableUnit {
            line_no: c.line,
            merchant_code,
            payment_status_code: "PREVISION".into(),
            gross_amount: amount,
            net_amount: amount,
            posting_type_code: posting,
            ur_key,
            summary_number: id,
            payment_date: due.or(day),
            settlement_type_code: "000".into(),
            ..Default::default()
        })));
    }

    /// The deposit of the day into the merchant's bank account.
    fn payment(&mut self, c: &Collected) {
        let mut f = Fields { leaves: &c.leaves, record: "Payments.Payment".into(), errors: Vec::new() };
        let total = f.money("TotalAmount").unwrap_or_default();
        let id = f.text("Id");
        let wallet = f.text("WalletTypeId");
        let (bank, branch, account) = (
            f.text("FavoredBankAccount/BankCode"),
            f.text("FavoredBankAccount/BankBranch"),
            f.text("FavoredBankAccount/BankAccountNumber"),
        );
        let errors = std::mem::take(&mut f.errors);
        if !self.report(c.line, errors) || total <= Decimal::ZERO {
            return;
        }
        let merchant_code = self.merchant();
        let day = self.header.as_ref().map(|h| h.processing_date);
        let negotiation = self.give(Record::Negotiation(Box::new(ReceivablesNegotiation {
            line_no: c.line,
            merchant_code: merchant_code.clone(),
            negotiation_date: day,
            payment_date: day,
            holder_tax_id: String::new(),
            average_term_days: 0,
            nominal_rate: Decimal::ZERO,
            gross_amount: total,
            net_amount: total,
            operation_code: if wallet.is_empty() { id } else { format!("{id}/{wallet}") },
            payment_form_code: "PY".into(),
            effective_rate: None,
        })));
        self.give(Record::NegotiationCredit(Box::new(NegotiationCredit {
            line_no: 0,
            negotiation_line_no: negotiation,
            merchant_code,
            bank_code: bank,
            branch_code: branch,
            account_number: account,
            deposited_amount: total,
        })));
    }
}
