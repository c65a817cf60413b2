//! Format detection from a file's first line — never from its name.
//!
//! Every acquirer's header has a literal that identifies it: Cielo `CIELO` at 43-47 with the layout version
//! at 71-73; Rede `Rede`/`Redecard` (any case) after the record code, with the file kind (EEVC, EEFI, EEVD) in
//! the version string; Getnet `CEADM100` at 24-31. [`classify`] says what the header is; whether this version
//! can read it is [`Detected::supported`].

use super::field::latin1;
use serde::Serialize;

/// What a header says a file is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detected {
    /// `cielo`, `rede`, `getnet`.
    pub acquirer: &'static str,
    /// The parser family: `cielo-v15`, `cielo-v14`, `rede-eevc`, `rede-eevd`, `rede-eefi`, `getnet`.
    pub format: &'static str,
    /// As written in the header: `015`, `V2.01`…
    pub layout_version: String,
    /// The acquirer's file type: Cielo's code (`03`…) or Rede's kind (`EEVC`…).
    pub file_type: String,
    /// `sales`, `payments`, `open_balance`…
    pub file_kind: &'static str,
    /// Whether this version parses and loads it.
    pub supported: bool,
}

impl Detected {
    /// One line for messages: "Cielo layout 013 file type 08 (pending_installments)".
    pub fn describe(&self) -> String {
        format!(
            "{} {} layout {} file type {} ({})",
            self.acquirer, self.format, self.layout_version, self.file_type, self.file_kind
        )
    }
}

/// Cielo file types ("opção de extrato", header 48-49): code, kind, and whether the v15 / v13-v14 parsers
/// load it.
pub const CIELO_FILE_TYPES: &[(&str, &str, bool, bool)] = &[
    ("03", "sales", true, true),
    ("04", "payments", true, true),
    ("06", "anticipation", false, false),
    ("07", "anticipation_sale", false, false),
    ("08", "pending_installments", false, true),
    ("09", "open_balance", true, true),
    ("10", "alelo_anticipation", false, false),
    ("12", "alelo_sales", false, false),
    ("13", "alelo_payments", false, false),
    ("14", "alelo_open_balance", false, false),
    ("15", "receivables_negotiation", true, false),
    ("16", "pix", true, false),
];

fn eq_ignore_case(a: &[u8], b: &str) -> bool {
    a.len() == b.len() && a.eq_ignore_ascii_case(b.as_bytes())
}

fn cielo(line: &[u8]) -> Option<Detected> {
    if line.len() < 73 || line[0] != b'0' || &line[42..47] != b"CIELO" {
        return None;
    }
    let version = latin1(&line[70..73]);
    let code = latin1(&line[47..49]);
    let (format, v15) = match version.as_str() {
        "015" => ("cielo-v15", true),
        "013" | "014" | "001" => ("cielo-v14", false),
        _ => ("cielo-unknown", false),
    };
    let known = CIELO_FILE_TYPES.iter().find(|t| t.0 == code);
    let file_kind = known.map(|t| t.1).unwrap_or("unknown");
    let supported = format != "cielo-unknown" && known.is_some_and(|t| if v15 { t.2 } else { t.3 }) && version != "001";
    Some(Detected { acquirer: "cielo", format, layout_version: version, file_type: code, file_kind, supported })
}

/// Rede: the version string names the file kind (e.g. "V2.01 - 09/06 - EEVC", "V3.00 - 05/2023 EEVC").
fn rede(line: &[u8]) -> Option<Detected> {
    let text = latin1(line);
    // EEVD is comma-separated: 00,PV,…,Redecard,…,V1.04 - 07/10 - EEVD
    if text.starts_with("00,") {
        let cols: Vec<&str> = text.split(',').map(str::trim).collect();
        if cols.iter().any(|c| c.eq_ignore_ascii_case("redecard") || c.eq_ignore_ascii_case("rede")) {
            let version = cols.iter().rev().find(|c| c.to_ascii_uppercase().ends_with("EEVD")).copied().unwrap_or("");
            return Some(Detected {
                acquirer: "rede",
                format: "rede-eevd",
                layout_version: version.split_whitespace().next().unwrap_or("").to_string(),
                file_type: "EEVD".into(),
                file_kind: "sales",
                supported: true,
            });
        }
        return None;
    }
    if line.len() < 19 {
        return None;
    }
    let brand = &line[11..19];
    let is_rede = eq_ignore_case(brand, "redecard") || eq_ignore_case(&line[11..15], "rede");
    if !is_rede {
        return None;
    }
    let upper = text.to_ascii_uppercase();
    let (format, kind, file_kind) = match &line[0..3] {
        b"002" if upper.contains("EEVC") || upper.contains("VENDAS") => ("rede-eevc", "EEVC", "sales"),
        b"030" if upper.contains("EEFI") || upper.contains("FINANCEIRA") => ("rede-eefi", "EEFI", "payments"),
        b"060" => ("rede-eesa", "EESA", "open_balance"),
        _ => return None,
    };
    // The version token: "V" and a digit ("V2.01 - 09/06 - EEVC", "V3.00 - 05/2023 EEVC").
    let version = text
        .as_bytes()
        .windows(2)
        .position(|w| w[0].eq_ignore_ascii_case(&b'V') && w[1].is_ascii_digit())
        .map(|i| text[i..].split_whitespace().next().unwrap_or("").to_string())
        .unwrap_or_default();
    Some(Detected {
        acquirer: "rede",
        format,
        layout_version: version,
        file_type: kind.into(),
        file_kind,
        supported: format != "rede-eesa",
    })
}

fn getnet(line: &[u8]) -> Option<Detected> {
    if line.len() < 31 || line[0] != b'0' || &line[23..31] != b"CEADM100" {
        return None;
    }
    Some(Detected {
        acquirer: "getnet",
        format: "getnet",
        layout_version: String::new(),
        file_type: "CEADM100".into(),
        file_kind: "sales_and_payments",
        supported: false,
    })
}

/// What the first line of a file says the file is; `Err` when no acquirer is recognised.
pub fn classify(first_line: &[u8]) -> Result<Detected, String> {
    if first_line.is_empty() {
        return Err("the first line is empty; expected a statement header".into());
    }
    if let Some(d) = cielo(first_line).or_else(|| rede(first_line)).or_else(|| getnet(first_line)) {
        return Ok(d);
    }
    let start = latin1(&first_line[..first_line.len().min(40)]);
    Err(format!(
        "not a recognised statement header (starts with {start:?}); expected Cielo EDI (\"CIELO\" at column 43), \
         Rede (EEVC/EEVD/EEFI) or Getnet"
    ))
}
