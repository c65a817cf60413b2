//! OFX as Brazilian banks emit it: OFX 1.x SGML (leaf elements without end tags, or with them — the same
//! bank mixes both) and 2.x XML. A tolerant tokenizer of our own rather than a crate: the crates tried fail
//! on real files (a header split by carriage returns only, a zero `DTSERVER`, an empty FITID) or silently
//! return no transaction (a card statement without `BANKTRANLIST`); see docs/formats.md.
//!
//! What is read, and how:
//! - the bytes are UTF-8 when they are valid UTF-8, else Windows-1252 — whatever `ENCODING`/`CHARSET` say
//!   (every sample declares 1252; some are UTF-8), the difference kept as an anomaly;
//! - line breaks `\r\n` and a lone `\r` are both line breaks (for line numbers); tags are tokens, not lines;
//! - every `STMTTRN` under a statement is an entry, inside a `BANKTRANLIST` or not;
//! - an entry's date is the date part of `DTPOSTED` (banks put fake times); its amount `TRNAMT`, signed,
//!   with `.` or — kept as an anomaly — `,` as the decimal separator; its id the trimmed FITID (empty, or
//!   repeated within the file: both kept, as anomalies — an id is never a key on its own);
//! - the account is `BANKACCTFROM` (`BANKID`, `BRANCHID`, `ACCTID`) or a card's `CCACCTFROM`; the period
//!   `DTSTART`/`DTEND`; the closing balance `LEDGERBAL`/`BALAMT`;
//! - `DTSERVER` carries no statement data: unreadable (`00000000000000`), it is ignored as an anomaly.

use super::{emit, AccountStatement, BankAccount, BankEntry, BankFormat, BankStatementSummary, Occurrences};
use crate::formats::AnomalyKind;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::str::FromStr;

/// Decode the bytes: strict UTF-8, else Windows-1252 (a superset of Latin-1 for text).
fn decode(bytes: &[u8]) -> (String, &'static str) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_string(), "utf-8"),
        Err(_) => (encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned(), "windows-1252"),
    }
}

/// One token of the body: a start tag, an end tag, or the text between tags, with its 1-based line.
#[derive(Debug, PartialEq)]
enum Token<'a> {
    Start(&'a str, u64),
    End(&'a str, u64),
    Text(&'a str, u64),
}

/// Split the body into tags and texts, skipping `<?…?>` processing instructions and `<!…>` declarations.
fn tokens(body: &str, first_line: u64) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut line = first_line;
    let mut rest = body;
    while !rest.is_empty() {
        match rest.find('<') {
            Some(0) => {
                let end = rest.find('>').unwrap_or(rest.len());
                let tag = &rest[1..end];
                if !(tag.starts_with('?') || tag.starts_with('!')) {
                    match tag.strip_prefix('/') {
                        Some(name) => out.push(Token::End(name.trim(), line)),
                        // `<TAG/>` (XML, empty) is a start and an end.
                        None => match tag.strip_suffix('/') {
                            Some(name) => {
                                out.push(Token::Start(name.trim(), line));
                                out.push(Token::End(name.trim(), line));
                            }
                            None => out.push(Token::Start(tag.split_whitespace().next().unwrap_or(""), line)),
                        },
                    }
                }
                line += rest[..end].matches('\n').count() as u64;
                rest = rest.get(end + 1..).unwrap_or("");
            }
            found => {
                let end = found.unwrap_or(rest.len());
                let text = &rest[..end];
                if !text.trim().is_empty() {
                    out.push(Token::Text(text, line + leading_newlines(text)));
                }
                line += text.matches('\n').count() as u64;
                rest = &rest[end..];
            }
        }
    }
    out
}

/// Newlines before the first non-blank character of a text.
fn leading_newlines(text: &str) -> u64 {
    let lead = text.len() - text.trim_start().len();
    text[..lead].matches('\n').count() as u64
}

/// XML character entities in a 2.x file's text.
fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

/// An OFX date-time's date: `YYYYMMDD[HHMMSS[.XXX]][[±hh[:mm]:TZ]]` — the time and zone are not used (bank
/// times are fake); `None` when the date part is not a calendar date.
pub fn ofx_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let digits = s.get(..8)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDate::from_ymd_opt(digits[..4].parse().ok()?, digits[4..6].parse().ok()?, digits[6..8].parse().ok()?)
}

/// An OFX amount: optional sign, digits, `.` (or `,`) and decimals. The bool says a comma was the separator.
fn ofx_amount(s: &str) -> Option<(Decimal, bool)> {
    let t = s.trim();
    let comma = t.contains(',') && !t.contains('.');
    let t = if comma { t.replace(',', ".") } else { t.to_string() };
    let body = t.strip_prefix(['-', '+']).unwrap_or(&t);
    let well_formed = !body.is_empty()
        && body.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && body.matches('.').count() <= 1
        && body.bytes().any(|b| b.is_ascii_digit());
    if !well_formed {
        return None;
    }
    Decimal::from_str(&t).ok().map(|d| (d, comma))
}

/// The aggregates of an OFX statement whose leaves are read (and their parents).
const AGGREGATES: &[&str] = &[
    "OFX",
    "SIGNONMSGSRSV1",
    "SONRS",
    "STATUS",
    "FI",
    "BANKMSGSRSV1",
    "STMTTRNRS",
    "STMTRS",
    "BANKACCTFROM",
    "CREDITCARDMSGSRSV1",
    "CCSTMTTRNRS",
    "CCSTMTRS",
    "CCACCTFROM",
    "BANKTRANLIST",
    "STMTTRN",
    "LEDGERBAL",
    "AVAILBAL",
];

/// An entry being read (between `<STMTTRN>` and its end).
#[derive(Default)]
struct Pending {
    line: u64,
    fields: Vec<(String, String, u64)>,
}

impl Pending {
    fn get(&self, name: &str) -> Option<(&str, u64)> {
        self.fields.iter().find(|(n, _, _)| n == name).map(|(_, v, l)| (v.as_str(), *l))
    }
}

pub(super) fn read(bytes: &[u8], summary: &mut BankStatementSummary, sink: &mut dyn FnMut(BankEntry)) {
    summary.format = Some(BankFormat::Ofx);
    let (text, encoding) = decode(bytes);
    summary.encoding = encoding;
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    summary.lines = text.lines().count() as u64;
    // The header: KEY:VALUE lines (1.x) before the first tag, or the `<?OFX …?>` instruction (2.x).
    let body_at = text.find('<').unwrap_or(text.len());
    let header = &text[..body_at];
    let declared = header
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim() == "CHARSET")
        .map(|(_, v)| v.trim().to_string());
    let header_line = |key: &str| header.lines().position(|l| l.trim_start().starts_with(key)).map(|i| i as u64 + 1);
    match (declared.as_deref(), encoding) {
        (Some("1252" | "ISO-8859-1" | "8859-1" | "NONE"), "utf-8") if !text.is_ascii() => summary.anomaly(
            (header_line("CHARSET").unwrap_or(1), None, "CHARSET"),
            AnomalyKind::CharsetNotAsDeclared,
            declared.clone().unwrap_or_default(),
            "utf-8".into(),
            "the bytes are valid UTF-8 with non-ASCII characters: read as UTF-8",
        ),
        (Some("UTF-8" | "UTF8" | "65001"), "windows-1252") => summary.anomaly(
            (header_line("CHARSET").unwrap_or(1), None, "CHARSET"),
            AnomalyKind::CharsetNotAsDeclared,
            declared.clone().unwrap_or_default(),
            "windows-1252".into(),
            "the bytes are not valid UTF-8: read as Windows-1252",
        ),
        _ => {}
    }
    let first_line = header.matches('\n').count() as u64 + 1;
    let toks = tokens(&text[body_at..], first_line);
    if !toks.iter().any(|t| matches!(t, Token::Start(n, _) if n.eq_ignore_ascii_case("OFX"))) {
        summary.error(first_line, None, "OFX", "no <OFX> element: not an OFX statement".into());
        return;
    }

    // Walk the tokens with a stack of open aggregates. In SGML a leaf has no end tag: a start tag followed
    // by text is a leaf (its end tag, if any, is skipped); a start tag followed by another tag opens an
    // aggregate.
    let mut stack: Vec<String> = Vec::new();
    let mut pending: Option<Pending> = None;
    let mut occurrences = Occurrences::default();
    // The account's bank, branch and number, once an account element was seen, and its line.
    let mut acct: Option<(String, String, String)> = None;
    let mut acct_line = 0;
    let (mut period_start, mut period_end, mut closing) = (None, None, None);
    let mut entries: Vec<Pending> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        match toks[i] {
            Token::Start(name, line) => {
                let name = name.to_ascii_uppercase();
                if let Some(Token::Text(value, vline)) = toks.get(i + 1) {
                    let value = unescape(value.trim());
                    let vline = *vline;
                    // A leaf.
                    if let Some(p) = pending.as_mut() {
                        p.fields.push((name.clone(), value.clone(), vline));
                    } else {
                        // The innermost aggregate OFX defines: an empty leaf left unclosed (`<BRANCHID>` then
                        // `<ACCTID>…`) was taken for an aggregate, and is not the parent of what follows.
                        let parent = stack
                            .iter()
                            .rev()
                            .find(|n| AGGREGATES.contains(&n.as_str()))
                            .map(String::as_str)
                            .unwrap_or("");
                        match (parent, name.as_str()) {
                            ("BANKACCTFROM" | "CCACCTFROM", "BANKID") => {
                                acct.get_or_insert_with(Default::default).0 = value.clone()
                            }
                            ("BANKACCTFROM" | "CCACCTFROM", "BRANCHID") => {
                                acct.get_or_insert_with(Default::default).1 = value.clone()
                            }
                            ("BANKACCTFROM" | "CCACCTFROM", "ACCTID") => {
                                let a = acct.get_or_insert_with(Default::default);
                                if !a.2.is_empty() && a.2 != value {
                                    summary.error(
                                        vline,
                                        None,
                                        "ACCTID",
                                        format!(
                                            "a second account ({}) after {}: one OFX file is read as one account's statement",
                                            crate::source::printable_name(&value),
                                            crate::source::printable_name(&a.2)
                                        ),
                                    );
                                }
                                a.2 = value.clone()
                            }
                            (_, "DTSTART") if period_start.is_none() => {
                                period_start = date_or_error(summary, &value, vline, "DTSTART")
                            }
                            (_, "DTEND") if period_end.is_none() => {
                                period_end = date_or_error(summary, &value, vline, "DTEND")
                            }
                            ("LEDGERBAL", "BALAMT") => match ofx_amount(&value) {
                                Some((d, comma)) => {
                                    if comma {
                                        comma_anomaly(summary, vline, "LEDGERBAL.BALAMT", &value, d);
                                    }
                                    closing = Some(d);
                                }
                                None => summary.error(
                                    vline,
                                    None,
                                    "LEDGERBAL.BALAMT",
                                    format!("{:?} is not an amount", crate::source::printable_name(&value)),
                                ),
                            },
                            (_, "DTSERVER") if ofx_date(&value).is_none() => summary.anomaly(
                                (vline, None, "DTSERVER"),
                                AnomalyKind::UnreadableOptionalField,
                                crate::source::printable_name(&value),
                                String::new(),
                                "the server's date is not a date; it carries no statement data and is ignored",
                            ),
                            _ => {}
                        }
                    }
                    i += 2;
                    // Its end tag, when the file closes leaves.
                    if let Some(Token::End(end, _)) = toks.get(i) {
                        if end.eq_ignore_ascii_case(&name) {
                            i += 1;
                        }
                    }
                    continue;
                }
                // An aggregate.
                if name == "STMTTRN" {
                    if let Some(p) = pending.take() {
                        entries.push(p);
                    }
                    pending = Some(Pending { line, fields: Vec::new() });
                } else if (name == "BANKACCTFROM" || name == "CCACCTFROM") && acct_line == 0 {
                    acct_line = line;
                }
                stack.push(name);
            }
            Token::End(name, _) => {
                let name = name.to_ascii_uppercase();
                if let Some(pos) = stack.iter().rposition(|n| *n == name) {
                    for closed in stack.drain(pos..).rev() {
                        if closed == "STMTTRN" {
                            if let Some(p) = pending.take() {
                                entries.push(p);
                            }
                        }
                    }
                }
            }
            Token::Text(value, line) => {
                // Text not after a start tag: stray characters between elements.
                summary.anomaly(
                    (line, None, stack.last().map(String::as_str).unwrap_or("OFX")),
                    AnomalyKind::UnreadableOptionalField,
                    crate::source::printable_name(value.trim()),
                    String::new(),
                    "text outside any element, ignored",
                );
            }
        }
        i += 1;
    }
    if let Some(p) = pending.take() {
        entries.push(p);
    }
    let Some(account) = acct.map(|(bank, branch, number)| BankAccount { bank, branch, number }) else {
        summary.error(
            summary.lines.max(1),
            None,
            "BANKACCTFROM",
            "no account (BANKACCTFROM or CCACCTFROM): the statement's entries belong to nobody".into(),
        );
        return;
    };
    if account.number.is_empty() {
        summary.error(summary.lines.max(1), None, "BANKACCTFROM.ACCTID", "the account has no number (ACCTID)".into());
        return;
    }
    summary.accounts.push(AccountStatement {
        line: acct_line,
        account,
        period_start,
        period_end,
        opening_balance: None,
        closing_balance: closing,
        entries: 0,
        credits: Decimal::ZERO,
        debits: Decimal::ZERO,
    });
    // The entries, validated; ids counted to tell repeated ones.
    let mut ids: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    for p in &entries {
        let fitid = p.get("FITID").map(|(v, _)| v.trim().to_string()).unwrap_or_default();
        if !fitid.is_empty() {
            *ids.entry(fitid).or_default() += 1;
        }
    }
    for p in entries {
        let errors = summary.error_count;
        let date = match p.get("DTPOSTED") {
            Some((v, l)) => date_or_error(summary, v, l, "STMTTRN.DTPOSTED"),
            None => {
                summary.error(p.line, None, "STMTTRN.DTPOSTED", "an entry without its date (DTPOSTED)".into());
                None
            }
        };
        let amount = match p.get("TRNAMT") {
            Some((v, l)) => match ofx_amount(v) {
                Some((d, comma)) => {
                    if comma {
                        comma_anomaly(summary, l, "STMTTRN.TRNAMT", v, d);
                    }
                    Some(d)
                }
                None => {
                    summary.error(
                        l,
                        None,
                        "STMTTRN.TRNAMT",
                        format!("{:?} is not an amount", crate::source::printable_name(v)),
                    );
                    None
                }
            },
            None => {
                summary.error(p.line, None, "STMTTRN.TRNAMT", "an entry without its amount (TRNAMT)".into());
                None
            }
        };
        let fitid = p.get("FITID").map(|(v, _)| v.trim().to_string()).unwrap_or_default();
        let fitid_line = p.get("FITID").map_or(p.line, |(_, l)| l);
        if fitid.is_empty() {
            summary.anomaly(
                (fitid_line, None, "STMTTRN.FITID"),
                AnomalyKind::MissingId,
                p.get("FITID").map(|(v, _)| crate::source::printable_name(v)).unwrap_or_default(),
                String::new(),
                "the bank gave the entry no id: it is told apart by account, date, amount, memo and its order",
            );
        } else if ids.get(&fitid).copied().unwrap_or(0) > 1 {
            summary.anomaly(
                (fitid_line, None, "STMTTRN.FITID"),
                AnomalyKind::RepeatedId,
                crate::source::printable_name(&fitid),
                crate::source::printable_name(&fitid),
                "another entry of this file has the same id: both are kept, told apart by their order",
            );
        }
        let (Some(date), Some(amount)) = (date, amount) else { continue };
        if summary.error_count > errors {
            continue;
        }
        let memo = p.get("MEMO").or_else(|| p.get("NAME")).map(|(v, _)| v.trim().to_string()).unwrap_or_default();
        let entry = BankEntry {
            line: p.line,
            account: 0,
            date,
            amount,
            bank_id: fitid,
            memo,
            bank_code: p.get("TRNTYPE").map(|(v, _)| v.trim().to_string()).unwrap_or_default(),
            category: None,
            occurrence: 0,
        };
        emit(summary, &mut occurrences, entry, sink);
    }
}

fn date_or_error(summary: &mut BankStatementSummary, value: &str, line: u64, field: &str) -> Option<NaiveDate> {
    let d = ofx_date(value);
    if d.is_none() {
        summary.error(
            line,
            None,
            field,
            format!("{:?} is not a date (YYYYMMDD[HHMMSS][[offset:zone]])", crate::source::printable_name(value)),
        );
    }
    d
}

fn comma_anomaly(summary: &mut BankStatementSummary, line: u64, field: &str, found: &str, used: Decimal) {
    summary.anomaly(
        (line, None, field),
        AnomalyKind::CommaDecimal,
        crate::source::printable_name(found.trim()),
        used.to_string(),
        "a comma as the decimal separator, and no point: read as the decimal separator",
    );
}
