//! Format detection from a file's first line — never from its name.
//!
//! Every acquirer's header has a literal that identifies it: Cielo `CIELO` at 43-47 with the layout version
//! at 71-73; Rede `Rede`/`Redecard` (any case) after the record code, with the file kind (EEVC, EEFI, EEVD) in
//! the version string; Getnet `CEADM100` at 24-31. Each format family recognises its own headers
//! (`recognise` in its folder, listed in [`super::FAMILIES`]); [`classify`] asks them in turn. Whether this
//! version can read what was recognised is [`Detected::supported`].

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

/// What the first line of a file says the file is; `Err` when no family recognises it.
pub fn classify(first_line: &[u8]) -> Result<Detected, String> {
    classify_family(first_line).map(|(_, d)| d)
}

/// The family that recognises a first line, and what it says the file is.
pub(crate) fn classify_family(first_line: &[u8]) -> Result<(&'static super::Family, Detected), String> {
    if first_line.is_empty() {
        return Err("the first line is empty; expected a statement header".into());
    }
    if let Some(found) = super::FAMILIES.iter().find_map(|f| (f.recognise)(first_line).map(|d| (f, d))) {
        return Ok(found);
    }
    if let Some(format) = super::bank::detect_first_line(first_line) {
        return Err(format!(
            "a bank statement ({}), not an acquirer's statement: `ingest` and `run` load it as one (`parse` \
             validates it)",
            format.describe()
        ));
    }
    let start = latin1(&first_line[..first_line.len().min(40)]);
    Err(format!(
        "not a recognised statement header (starts with {start:?}); expected Cielo EDI (\"CIELO\" at column 43), \
         Rede (EEVC/EEVD/EEFI) or Getnet"
    ))
}
