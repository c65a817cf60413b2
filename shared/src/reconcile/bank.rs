//! Which bank entries are acquirer payments ("conferência bancária", issue 19): a bank writes what it was
//! told (`RECEBIMENTO REDE VISA DB0102553424`, `REDE   ELO  DB083323902`, `PAGAMENTO CARTAO DE DEBITO
//! GETNET-MAESTRO`), shortened and re-padded. Keywords are data (`ref_bank_memo_keyword`): an acquirer's name
//! or a brand word, matched as whole words, case, accents and runs of blanks aside. Rede's PV follows `DB` or
//! `CR` (debit or credit sales). A CNAB category 222 ("recebíveis de cartão de crédito") says card money
//! without saying whose. Nothing here decides a match: it says what the entry itself says.

use serde::Serialize;

/// A word a memo may hold, and what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoKeyword {
    /// Upper case, letters and digits only.
    pub keyword: String,
    /// The acquirer it names (`cielo`, `rede`, `getnet`, `stone`, `pagbank`), or none for a brand word.
    pub acquirer: Option<String>,
    /// The brand it names (`Visa`), or none for an acquirer's name.
    pub brand: Option<String>,
}

/// What a bank entry says about card money.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CardMoney {
    /// The acquirer its memo names.
    pub acquirer: Option<String>,
    pub brand: Option<String>,
    /// The merchant code its memo carries (Rede's PV after `DB`/`CR`), digits without leading zeros.
    pub merchant: Option<String>,
    /// `debit` or `credit` sales, when the memo says (Rede's `DB`/`CR`).
    pub settlement: Option<&'static str>,
    /// What said so: `keyword:REDE`, `category:222`.
    pub rule: String,
}

/// A memo's words: upper case, accents dropped, split at anything but letters and digits.
pub fn words(memo: &str) -> Vec<String> {
    let plain: String = memo
        .chars()
        .map(|c| match super::sales::plain_upper(c) {
            c if c.is_ascii_alphanumeric() => c,
            _ => ' ',
        })
        .collect();
    plain.split_whitespace().map(str::to_string).collect()
}

/// What an entry's memo (and CNAB category) says about card money; `None` when nothing does.
pub fn card_money(memo: &str, category: Option<&str>, keywords: &[MemoKeyword]) -> Option<CardMoney> {
    let words = words(memo);
    let find = |w: &str| keywords.iter().find(|k| k.keyword == w);
    let mut out = CardMoney::default();
    for (i, w) in words.iter().enumerate() {
        if let Some(k) = find(w) {
            if out.acquirer.is_none() {
                if let Some(a) = &k.acquirer {
                    out.acquirer = Some(a.clone());
                    out.rule = format!("keyword:{w}");
                }
            }
            if out.brand.is_none() {
                out.brand = k.brand.clone();
            }
        }
        // Rede: `DB0102553424` or `DB 083323902` — the PV, and debit or credit sales.
        let (side, digits) = match w.get(..2) {
            Some(s @ ("DB" | "CR")) if w.len() > 2 => (s, w[2..].to_string()),
            Some(s @ ("DB" | "CR")) if w.len() == 2 => (s, words.get(i + 1).cloned().unwrap_or_default()),
            _ => continue,
        };
        if digits.len() >= 6 && digits.bytes().all(|b| b.is_ascii_digit()) && out.merchant.is_none() {
            let trimmed = digits.trim_start_matches('0');
            out.merchant = Some(if trimmed.is_empty() { "0".into() } else { trimmed.into() });
            out.settlement = Some(if side == "DB" { "debit" } else { "credit" });
        }
    }
    if out.acquirer.is_none() {
        if category.map(str::trim) == Some("222") {
            out.rule = "category:222".into();
        } else {
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keywords() -> Vec<MemoKeyword> {
        let k = |w: &str, a: Option<&str>, b: Option<&str>| MemoKeyword {
            keyword: w.into(),
            acquirer: a.map(Into::into),
            brand: b.map(Into::into),
        };
        vec![
            k("REDE", Some("rede"), None),
            k("REDECARD", Some("rede"), None),
            k("GETNET", Some("getnet"), None),
            k("CIELO", Some("cielo"), None),
            k("VISA", None, Some("Visa")),
            k("MAST", None, Some("Mastercard")),
            k("ELO", None, Some("Elo")),
            k("MAESTRO", None, Some("Maestro")),
        ]
    }

    #[test]
    fn memos_as_banks_write_them_name_the_acquirer_brand_and_pv() {
        let m = card_money("RECEBIMENTO REDE VISA DB0102553424", None, &keywords()).unwrap();
        assert_eq!(
            (m.acquirer.as_deref(), m.brand.as_deref(), m.merchant.as_deref(), m.settlement),
            (Some("rede"), Some("Visa"), Some("102553424"), Some("debit"))
        );
        assert_eq!(m.rule, "keyword:REDE");
        let m = card_money("REDE   ELO  DB083323902", None, &keywords()).unwrap();
        assert_eq!((m.brand.as_deref(), m.merchant.as_deref()), (Some("Elo"), Some("83323902")));
        let m = card_money("RECEBIMENTO REDE MAST REDECARD", None, &keywords()).unwrap();
        assert_eq!((m.acquirer.as_deref(), m.brand.as_deref(), m.merchant), (Some("rede"), Some("Mastercard"), None));
        let m = card_money("PAGAMENTO CARTAO DE DEBITO GETNET-MAESTRO", None, &keywords()).unwrap();
        assert_eq!((m.acquirer.as_deref(), m.brand.as_deref()), (Some("getnet"), Some("Maestro")));
        // Whole words only: MODELO holds ELO, PREDECESSOR holds REDE; neither is card money.
        assert_eq!(card_money("PAGTO MODELO PREDECESSOR", None, &keywords()), None);
        assert_eq!(card_money("TED RECEBIDA", None, &keywords()), None);
        // A CNAB category 222 says card money, not whose.
        let m = card_money("CREDITO VENDAS", Some("222"), &keywords()).unwrap();
        assert_eq!((m.acquirer, m.rule.as_str()), (None, "category:222"));
        assert_eq!(
            words("Recebimento vendas - Antecipação | Crédito"),
            ["RECEBIMENTO", "VENDAS", "ANTECIPACAO", "CREDITO"]
        );
    }
}
