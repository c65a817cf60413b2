//! Fixed-width field primitives shared by every positional format.
//!
//! A [`Field`] is a name plus a 1-based inclusive byte range, exactly as the acquirers' manuals print them.
//! [`FieldReader`] reads typed values out of one line and collects every problem as a [`FieldError`] naming
//! the column and the field, instead of stopping at the first one: an analyst fixing a file wants them all.

use chrono::{NaiveDate, NaiveTime};
use rust_decimal::Decimal;

/// One field of a positional record: `start` is the 1-based first byte, `len` its width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub start: usize,
    pub len: usize,
}

impl Field {
    pub const fn new(name: &'static str, start: usize, len: usize) -> Self {
        Field { name, start, len }
    }
    /// The 1-based last byte of the field.
    pub const fn end(&self) -> usize {
        self.start + self.len - 1
    }
}

/// A signed amount: the sign byte's field and the digits' field (implied decimals).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmountField {
    pub sign: Field,
    pub digits: Field,
    pub scale: u32,
}

impl AmountField {
    /// Sign byte at `sign_col`, then `width` digits with `scale` implied decimals.
    pub const fn new(name: &'static str, sign_col: usize, width: usize, scale: u32) -> Self {
        AmountField { sign: Field::new(name, sign_col, 1), digits: Field::new(name, sign_col + 1, width), scale }
    }
}

/// The most digits an amount may have before its decimal point: the facts' amounts are numeric(15, 2).
pub const MAX_INTEGER_DIGITS: usize = 13;

/// A problem with one field of one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// 1-based byte column where the field starts (or where the problem is).
    pub column: usize,
    pub field: &'static str,
    pub reason: String,
}

/// Reads typed fields out of one fixed-width line (bytes are latin-1).
pub struct FieldReader<'a> {
    line: &'a [u8],
    /// Record name used as field prefix in errors, e.g. `"E"`.
    pub errors: Vec<FieldError>,
    /// Deviations read with a clear meaning (the parser adds the record's name and keeps them).
    pub anomalies: Vec<crate::formats::FieldAnomaly>,
}

/// Whether a latin-1 byte decodes to a whitespace char (ASCII whitespace, NEL 0x85, NBSP 0xA0).
fn is_latin1_whitespace(b: u8) -> bool {
    // `(b as char).is_whitespace()`, spelled out: U+0009..U+000D, U+0020, U+0085, U+00A0.
    matches!(b, b' ' | b'\t'..=b'\r' | 0x85 | 0xA0)
}

/// Latin-1 decoding: every byte is the code point of the same value.
pub fn latin1(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return String::new();
    }
    if bytes.is_ascii() {
        // SAFETY-free fast path: ASCII is valid UTF-8.
        return String::from_utf8(bytes.to_vec()).unwrap_or_default();
    }
    bytes.iter().map(|&b| b as char).collect()
}

/// A control character (C0 but tab, DEL, C1): never in a statement's text.
fn is_control(b: u8) -> bool {
    matches!(b, 0x00..=0x08 | 0x0a..=0x1f | 0x7f..=0x9f)
}

/// A raw line safe to store and print: latin-1 decoded, control bytes and backslashes escaped as `\xNN`
/// (NUL could not be stored in a text column, and an escape sequence must never reach a terminal).
pub fn escaped_line(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        if is_control(b) || b == b'\\' {
            s.push_str(&format!("\\x{b:02x}"));
        } else {
            s.push(b as char);
        }
    }
    s
}

/// Show a raw field value in an error message (latin-1, control bytes escaped).
fn show(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 2);
    s.push('"');
    for &b in bytes {
        match b {
            0x20..=0x7e | 0xa0..=0xff => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s.push('"');
    s
}

/// The value of a run of ASCII digits (checked by the caller; at most 9 of them).
fn digits_value(digits: &[u8]) -> u32 {
    digits.iter().fold(0u32, |acc, &b| acc * 10 + u32::from(b - b'0'))
}

fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b == b' ')
}

impl<'a> FieldReader<'a> {
    pub fn new(line: &'a [u8]) -> Self {
        FieldReader { line, errors: Vec::new(), anomalies: Vec::new() }
    }

    /// Record an error at a field (a check across fields a record parser makes).
    pub(crate) fn fail(&mut self, column: usize, field: &'static str, reason: String) {
        self.errors.push(FieldError { column, field, reason });
    }

    /// The raw bytes of a field (the caller checked the line width).
    pub fn raw(&self, f: Field) -> &'a [u8] {
        let end = f.end().min(self.line.len());
        let start = (f.start - 1).min(end);
        &self.line[start..end]
    }

    /// Free text, latin-1 decoded, surrounding blanks removed. A NUL inside is an error at its byte: the
    /// database cannot store it in text, no statement holds one, and a binary file read as a statement does.
    /// Other control characters are data (a real Rede EEFI writes `\x1a` for an Ã it could not encode); they
    /// are escaped wherever they are printed.
    pub fn text(&mut self, f: Field) -> String {
        // Trim the bytes first, then convert once: the same result as trimming the decoded text (a latin-1
        // byte is whitespace exactly when its char is), without the intermediate string.
        let raw = self.raw(f);
        let start = raw.iter().position(|&b| !is_latin1_whitespace(b)).unwrap_or(raw.len());
        let end = raw.iter().rposition(|&b| !is_latin1_whitespace(b)).map_or(start, |i| i + 1);
        let kept = &raw[start..end];
        if let Some(pos) = kept.iter().position(|&b| b == 0) {
            let reason = format!("control character \\x00 (NUL) in text, which no text can hold: {}", show(raw));
            self.fail(f.start + start + pos, f.name, reason);
            return String::new();
        }
        latin1(kept)
    }

    /// Free text, `None` when blank.
    pub fn opt_text(&mut self, f: Field) -> Option<String> {
        let t = self.text(f);
        (!t.is_empty()).then_some(t)
    }

    /// The field's bytes when they are all ASCII digits; otherwise the first other byte is reported.
    fn all_digits(&mut self, f: Field) -> Option<&'a [u8]> {
        let raw = self.raw(f);
        match raw.iter().position(|b| !b.is_ascii_digit()) {
            None => Some(raw),
            Some(pos) => {
                self.fail(f.start + pos, f.name, format!("expected {} digits, found {}", f.len, show(raw)));
                None
            }
        }
    }

    /// A code made of digits only, kept as a string (leading zeros are data).
    pub fn digits(&mut self, f: Field) -> String {
        self.all_digits(f).map(latin1).unwrap_or_default()
    }

    /// A code of digits that some records leave blank although the layout fills it (the product of an ARV
    /// debit in Cielo's own test kit): blank is loaded as an empty code and kept as an anomaly, `why` saying
    /// which records leave it blank.
    pub fn code_or_blank(&mut self, f: Field, why: &str) -> String {
        if is_blank(self.raw(f)) {
            self.anomalies.push(crate::formats::FieldAnomaly {
                column: f.start,
                field: f.name,
                kind: crate::formats::AnomalyKind::BlankCode,
                found: show(self.raw(f)),
                used: "\"\" (no code)".into(),
                reason: why.to_string(),
            });
            String::new()
        } else {
            self.digits(f)
        }
    }

    /// Digits or blank (`None`). A field of zeros is kept as zeros.
    pub fn opt_digits(&mut self, f: Field) -> Option<String> {
        if is_blank(self.raw(f)) {
            None
        } else {
            Some(self.digits(f))
        }
    }

    /// An unsigned integer.
    pub fn number(&mut self, f: Field) -> u64 {
        let d = self.digits(f);
        d.parse().unwrap_or(0)
    }

    /// An unsigned integer, blank meaning zero.
    pub fn number_or_blank(&mut self, f: Field) -> u64 {
        if is_blank(self.raw(f)) {
            0
        } else {
            self.number(f)
        }
    }

    /// A signed amount: sign byte `+`/`-`, digits with implied decimals. Negative zero becomes zero.
    pub fn amount(&mut self, a: AmountField) -> Decimal {
        let sign = self.raw(a.sign);
        let negative = match sign {
            b"+" => false,
            b"-" => true,
            _ => {
                self.fail(a.sign.start, a.sign.name, format!("sign byte must be '+' or '-', found {}", show(sign)));
                false
            }
        };
        let magnitude = self.unsigned_decimal(a.digits, a.scale);
        if negative && !magnitude.is_zero() {
            -magnitude
        } else {
            magnitude
        }
    }

    /// A signed amount that may be left blank (sign and digits all spaces): `None`.
    pub fn opt_amount(&mut self, a: AmountField) -> Option<Decimal> {
        if is_blank(self.raw(a.sign)) && is_blank(self.raw(a.digits)) {
            None
        } else {
            Some(self.amount(a))
        }
    }

    /// Unsigned digits with `scale` implied decimals (rates, unsigned amounts). More than 18 significant
    /// digits (wider than any fixed-width field) is an error naming the field, never a wrapped-around value.
    pub fn unsigned_decimal(&mut self, f: Field, scale: u32) -> Decimal {
        let Some(raw) = self.all_digits(f) else { return Decimal::ZERO };
        let significant = &raw[raw.iter().position(|&b| b != b'0').unwrap_or(raw.len())..];
        if significant.len() > 18 {
            let reason = format!("{} significant digits: wider than any amount of a statement", significant.len());
            self.fail(f.start, f.name, reason);
            return Decimal::ZERO;
        }
        // At most 18 digits: an i64 holds them, no overflow possible.
        let n = significant.iter().fold(0i64, |n, &b| n * 10 + i64::from(b - b'0'));
        if n == 0 {
            Decimal::ZERO
        } else {
            Decimal::new(n, scale)
        }
    }

    /// An amount of a record in a format without fixed widths (Rede EEVD): as [`Self::unsigned_decimal`],
    /// and more than [`MAX_INTEGER_DIGITS`] digits before the decimal point is an error naming the field — no
    /// record's amount is that large, and the facts could not store it (numeric(15, 2)).
    pub fn record_amount(&mut self, f: Field, scale: u32) -> Decimal {
        let errors = self.errors.len();
        let v = self.unsigned_decimal(f, scale);
        let limit = Decimal::from(10i64.pow(MAX_INTEGER_DIGITS as u32));
        if self.errors.len() > errors || v >= limit {
            if self.errors.len() == errors {
                let reason = format!(
                    "{v}: larger than any amount a statement holds (at most {MAX_INTEGER_DIGITS} digits before the \
                     decimal point)"
                );
                self.fail(f.start, f.name, reason);
            } else if let Some(e) = self.errors.last_mut() {
                e.reason = format!("{}: larger than any amount a statement holds", e.reason);
            }
            return Decimal::ZERO;
        }
        v
    }

    /// Unsigned decimal or blank (`None`).
    pub fn opt_unsigned_decimal(&mut self, f: Field, scale: u32) -> Option<Decimal> {
        if is_blank(self.raw(f)) {
            None
        } else {
            Some(self.unsigned_decimal(f, scale))
        }
    }

    fn date_with(&mut self, f: Field, order: DateOrder) -> Option<NaiveDate> {
        let raw = self.raw(f);
        if is_blank(raw) || raw.iter().all(|&b| b == b'0') {
            return None;
        }
        if let Some(pos) = raw.iter().position(|b| !b.is_ascii_digit()) {
            self.fail(f.start + pos, f.name, format!("expected a date {}, found {}", order.pattern(), show(raw)));
            return None;
        }
        if raw.len() != order.pattern().len() {
            // The line ends inside the field (callers check widths, but a reader never trusts them).
            self.fail(
                f.start,
                f.name,
                format!(
                    "expected a date {}, found {}: the line ends at byte {}",
                    order.pattern(),
                    show(raw),
                    self.line.len()
                ),
            );
            return None;
        }
        let n = digits_value;
        let (y, m, d) = match order {
            DateOrder::DayMonthYear => (n(&raw[4..8]) as i32, n(&raw[2..4]), n(&raw[0..2])),
            DateOrder::YearMonthDay => (n(&raw[0..4]) as i32, n(&raw[4..6]), n(&raw[6..8])),
            DateOrder::ShortYearMonthDay => (2000 + n(&raw[0..2]) as i32, n(&raw[2..4]), n(&raw[4..6])),
        };
        // Cielo's "empty date" marker.
        if order == DateOrder::DayMonthYear && raw == b"01011001" {
            return None;
        }
        match NaiveDate::from_ymd_opt(y, m, d) {
            Some(date) => Some(date),
            None => {
                self.fail(f.start, f.name, format!("not a calendar date: {} ({})", show(raw), order.pattern()));
                None
            }
        }
    }

    /// A DDMMAAAA date; blank, zeros or `01011001` mean no date.
    pub fn date_dmy(&mut self, f: Field) -> Option<NaiveDate> {
        self.date_with(f, DateOrder::DayMonthYear)
    }

    /// An AAAAMMDD date; blank or zeros mean no date.
    pub fn date_ymd(&mut self, f: Field) -> Option<NaiveDate> {
        self.date_with(f, DateOrder::YearMonthDay)
    }

    /// An AAMMDD date (20AA); blank or zeros mean no date.
    pub fn date_yymmdd(&mut self, f: Field) -> Option<NaiveDate> {
        self.date_with(f, DateOrder::ShortYearMonthDay)
    }

    /// A required AAAAMMDD date.
    pub fn required_date_ymd(&mut self, f: Field) -> Option<NaiveDate> {
        let d = self.date_ymd(f);
        if d.is_none() && !self.errors.iter().any(|e| e.field == f.name) {
            self.fail(f.start, f.name, "date is required (AAAAMMDD)".into());
        }
        d
    }

    /// An HHMMSS time; blank or zeros-only is midnight-less `None`.
    pub fn time_hms(&mut self, f: Field) -> Option<NaiveTime> {
        let raw = self.raw(f);
        if is_blank(raw) {
            return None;
        }
        let digits = self.all_digits(f)?;
        if digits.len() != 6 {
            self.fail(f.start, f.name, format!("expected a time HHMMSS, found {}", show(raw)));
            return None;
        }
        let n = digits_value;
        match NaiveTime::from_hms_opt(n(&digits[0..2]), n(&digits[2..4]), n(&digits[4..6])) {
            Some(t) => Some(t),
            None => {
                self.fail(f.start, f.name, format!("not a time of day: {} (HHMMSS)", show(raw)));
                None
            }
        }
    }

    /// Expect a literal value (e.g. "CIELO").
    pub fn expect_literal(&mut self, f: Field, literal: &str) {
        let raw = self.raw(f);
        if raw != literal.as_bytes() {
            self.fail(f.start, f.name, format!("expected {literal:?}, found {}", show(raw)));
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateOrder {
    DayMonthYear,
    YearMonthDay,
    ShortYearMonthDay,
}

impl DateOrder {
    fn pattern(self) -> &'static str {
        match self {
            DateOrder::DayMonthYear => "DDMMAAAA",
            DateOrder::YearMonthDay => "AAAAMMDD",
            DateOrder::ShortYearMonthDay => "AAMMDD",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn amounts_apply_the_sign_and_implied_decimals() {
        let line = b"+0000000013211-0000000000328-0000000000000";
        let mut r = FieldReader::new(line);
        assert_eq!(r.amount(AmountField::new("gross", 1, 13, 2)), Decimal::from_str("132.11").unwrap());
        assert_eq!(r.amount(AmountField::new("fee", 15, 13, 2)), Decimal::from_str("-3.28").unwrap());
        let zero = r.amount(AmountField::new("zero", 29, 13, 2));
        assert!(zero.is_zero() && zero.is_sign_positive(), "negative zero normalised");
        assert!(r.errors.is_empty());
    }

    #[test]
    fn a_date_or_time_cut_by_the_end_of_the_line_is_an_error() {
        // The line ends two bytes into an 8-byte date: an error at the field, not an index out of range.
        let mut r = FieldReader::new(b"030250620");
        assert_eq!(r.date_dmy(Field::new("processing_date", 4, 8)), None);
        assert_eq!(r.errors.len(), 1);
        assert_eq!((r.errors[0].column, r.errors[0].field), (4, "processing_date"));
        assert_eq!(r.errors[0].reason, "expected a date DDMMAAAA, found \"250620\": the line ends at byte 9");
        let mut r = FieldReader::new(b"2506");
        assert_eq!(r.date_yymmdd(Field::new("d", 1, 6)), None);
        assert_eq!(r.time_hms(Field::new("t", 1, 6)), None);
        let reasons: Vec<&str> = r.errors.iter().map(|e| e.reason.as_str()).collect();
        assert_eq!(
            reasons,
            [
                "expected a date AAMMDD, found \"2506\": the line ends at byte 4",
                "expected a time HHMMSS, found \"2506\""
            ]
        );
        // A field wider than the pattern (a CSV column of 9 digits) is not read from its first 8 bytes.
        let mut r = FieldReader::new(b"250620251");
        assert_eq!(r.date_dmy(Field::new("d", 1, 9)), None);
        assert_eq!(r.errors.len(), 1);
    }

    #[test]
    fn max_width_amount_does_not_overflow() {
        let line = b"+99999999999999999";
        let mut r = FieldReader::new(line);
        let v = r.amount(AmountField::new("total", 1, 17, 2));
        assert_eq!(v, Decimal::from_str("999999999999999.99").unwrap());
    }

    #[test]
    fn bad_sign_and_letters_are_reported_with_column() {
        let line = b"*00000000132A1";
        let mut r = FieldReader::new(line);
        r.amount(AmountField::new("gross", 1, 13, 2));
        assert_eq!(r.errors.len(), 2);
        assert_eq!(r.errors[0].column, 1);
        assert!(r.errors[0].reason.contains("sign byte"));
        assert_eq!(r.errors[1].column, 13, "column of the first bad byte");
    }

    #[test]
    fn dates_in_every_order_and_empty_markers() {
        let mut r = FieldReader::new(b"0308202620260803260803000000000101100131022026");
        assert_eq!(r.date_dmy(Field::new("a", 1, 8)), NaiveDate::from_ymd_opt(2026, 8, 3));
        assert_eq!(r.date_ymd(Field::new("b", 9, 8)), NaiveDate::from_ymd_opt(2026, 8, 3));
        assert_eq!(r.date_yymmdd(Field::new("c", 17, 6)), NaiveDate::from_ymd_opt(2026, 8, 3));
        assert_eq!(r.date_dmy(Field::new("d", 23, 8)), None);
        assert_eq!(r.date_dmy(Field::new("e", 31, 8)), None);
        assert!(r.errors.is_empty());
        assert_eq!(r.date_dmy(Field::new("f", 39, 8)), None);
        assert_eq!(r.errors.len(), 1);
        assert!(r.errors[0].reason.contains("not a calendar date"), "{:?}", r.errors);
    }

    #[test]
    fn codes_keep_leading_zeros_and_latin1() {
        let mut r = FieldReader::new(b"00120 S\xe3o Paulo ");
        assert_eq!(r.digits(Field::new("code", 1, 3)), "001");
        assert_eq!(r.text(Field::new("city", 6, 10)), "São Paulo");
    }

    #[test]
    fn latin1_whitespace_is_what_char_says() {
        for b in 0..=255u8 {
            assert_eq!(is_latin1_whitespace(b), (b as char).is_whitespace(), "byte {b:#x}");
        }
    }

    #[test]
    fn text_is_trimmed_like_the_decoded_string() {
        // Latin-1 NBSP (0xA0) and NEL (0x85) decode to whitespace chars: trimmed, as `str::trim` would.
        for raw in [&b"  AB\xa0 "[..], b"\x85AB\t", b"AB", b"\xa0\xa0AB\r\n"] {
            let mut r = FieldReader::new(raw);
            let f = Field::new("t", 1, raw.len());
            assert_eq!(r.text(f), latin1(raw).trim(), "{raw:?}");
        }
        let mut r = FieldReader::new(b" \xe3 x\xa0");
        assert_eq!(r.text(Field::new("t", 1, 5)), "\u{e3} x");
        let mut r = FieldReader::new(b"     ");
        assert_eq!(r.text(Field::new("t", 1, 5)), "");
        assert_eq!(r.opt_text(Field::new("t", 1, 5)), None);
    }
}
