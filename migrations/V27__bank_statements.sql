-- Bank statements (issue 19): the merchant's accounts and what the bank says happened in them. A bank
-- statement is a statement_file of kind 'bank_statement' (file type OFX or CNAB240), idempotent by content like
-- every file; its entries are facts.
--
-- An account is known by its bank and number, normalised (digits only, leading zeros dropped: OFX writes
-- BANKID 0341 and ACCTID 56789-0 where CNAB 240 writes 341 and 000000056789 + DV): the branch is often absent
-- from OFX files, so it is kept but not part of the key.
CREATE TABLE dim_bank_account (
    bank_account_key serial PRIMARY KEY,
    bank             text NOT NULL,
    branch           text NOT NULL,
    number           text NOT NULL,
    bank_norm        text NOT NULL,
    number_norm      text NOT NULL,
    UNIQUE (bank_norm, number_norm)
);

-- One account's statement in one file: period, balances as stated, and its entries' figures.
CREATE TABLE fact_bank_statement (
    file_id          bigint NOT NULL,
    -- Where the account's statement starts (OFX: its account element; CNAB 240: its header de lote).
    line_no          bigint NOT NULL,
    bank_account_key integer NOT NULL REFERENCES dim_bank_account,
    period_start     date,
    period_end       date,
    opening_balance  numeric(15, 2),
    closing_balance  numeric(15, 2),
    entries          integer NOT NULL,
    credits          numeric(15, 2) NOT NULL,
    debits           numeric(15, 2) NOT NULL,
    PRIMARY KEY (file_id, bank_account_key)
);

-- One entry ("lançamento"): a credit (positive) or a debit (negative). Overlapping statements of the same
-- account (a daily OFX and the month's) state the same entry twice: it is kept once, by `dedupe_key` —
-- the bank's id where the file gives every entry a distinct one (rule 'bank_id'), else the entry's date,
-- amount, memo and its order among identical entries of its file (rule 'content').
CREATE TABLE fact_bank_entry (
    file_id          bigint NOT NULL,
    -- Its order in the file (several OFX entries can share a line).
    entry_no         integer NOT NULL,
    line_no          bigint NOT NULL,
    bank_account_key integer NOT NULL REFERENCES dim_bank_account,
    entry_date       date NOT NULL,
    amount           numeric(15, 2) NOT NULL,
    bank_id          text NOT NULL,
    memo             text NOT NULL,
    bank_code        text NOT NULL,
    category         text,
    occurrence       integer NOT NULL,
    dedupe_rule      text NOT NULL CHECK (dedupe_rule IN ('bank_id', 'content')),
    dedupe_key       text NOT NULL,
    PRIMARY KEY (file_id, entry_no),
    UNIQUE (bank_account_key, dedupe_key)
);
CREATE INDEX fact_bank_entry_date_idx ON fact_bank_entry (bank_account_key, entry_date);
