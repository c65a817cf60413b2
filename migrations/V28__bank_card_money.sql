-- Which bank entries are card money (issue 19, item 2): the words a bank writes about an acquirer's payment are
-- data. An acquirer's name says whose money it is, a brand word which brand; matched as whole words, case,
-- accents and runs of blanks aside (reconcile::bank). Evidence for each: ../shared/formats/bank-statements.md,
-- part C (Rede and Getnet seen in real memos; Cielo only in synthetic ones; Stone's Pix settlements name Stone
-- only outside the memo).
CREATE TABLE ref_bank_memo_keyword (
    keyword  text PRIMARY KEY CHECK (keyword ~ '^[A-Z0-9]+$'),
    acquirer text,
    brand    text,
    CHECK ((acquirer IS NULL) <> (brand IS NULL))
);
INSERT INTO ref_bank_memo_keyword (keyword, acquirer, brand) VALUES
    ('CIELO', 'cielo', NULL),
    ('REDE', 'rede', NULL),
    ('REDECARD', 'rede', NULL),
    ('GETNET', 'getnet', NULL),
    ('STONE', 'stone', NULL),
    ('PAGSEGURO', 'pagbank', NULL),
    ('PAGBANK', 'pagbank', NULL),
    ('VISA', NULL, 'Visa'),
    ('ELECTRON', NULL, 'Visa'),
    ('MASTER', NULL, 'Mastercard'),
    ('MAST', NULL, 'Mastercard'),
    ('MASTERCARD', NULL, 'Mastercard'),
    ('MAESTRO', NULL, 'Maestro'),
    ('ELO', NULL, 'Elo'),
    ('AMEX', NULL, 'Amex'),
    ('HIPER', NULL, 'Hipercard'),
    ('HIPERCARD', NULL, 'Hipercard'),
    ('DINERS', NULL, 'Diners'),
    ('CABAL', NULL, 'Cabal'),
    ('BANRICOMPRAS', NULL, 'Banricompras');

-- What each entry says about card money, found when it loads: the acquirer and brand its memo names, the
-- merchant code it carries (Rede's PV after DB/CR), debit or credit sales, and the rule that said so.
ALTER TABLE fact_bank_entry
    ADD COLUMN acquirer          text,
    ADD COLUMN acquirer_brand    text,
    ADD COLUMN acquirer_merchant text,
    ADD COLUMN acquirer_settlement text CHECK (acquirer_settlement IN ('debit', 'credit')),
    ADD COLUMN card_money_rule   text;
CREATE INDEX fact_bank_entry_card_money_idx ON fact_bank_entry (acquirer, entry_date) WHERE card_money_rule IS NOT NULL;
