-- Cielo layout 001 anticipation files (CIELO06, "antecipação de recebíveis", ARV): record 5 (the operation)
-- loads as a receivables negotiation (A) with its credit account (C), record 6 (an RO anticipated) as a
-- negotiated receivable (B) that now names its RO, and record 7 (a debit offset against an anticipated RO)
-- into its own fact.

-- The RO a negotiated receivable is, when the statement names it (layout 001 record 6; NULL for v15 B).
ALTER TABLE fact_negotiated_receivable
    ADD COLUMN summary_number        text,
    ADD COLUMN ur_key                text,
    ADD COLUMN installment           integer,
    ADD COLUMN installment_count     integer,
    ADD COLUMN original_gross_amount numeric(15, 2),
    ADD COLUMN original_net_amount   numeric(15, 2);
CREATE INDEX fact_negotiated_receivable_ur_key_idx ON fact_negotiated_receivable (ur_key) WHERE ur_key IS NOT NULL;

CREATE TABLE fact_anticipation_offset (
    file_id                   bigint NOT NULL,
    line_no                   bigint NOT NULL,
    establishment_key         integer NOT NULL,
    -- The anticipated RO (número único do RO original da venda, número do RO antecipado).
    ur_key                    text NOT NULL,
    summary_number            text NOT NULL,
    payment_date              date,
    summary_amount            numeric(15, 2) NOT NULL,
    -- The debit offset against it.
    adjustment_origin_ur_key  text NOT NULL,
    adjustment_summary_number text NOT NULL,
    adjustment_payment_date   date,
    adjustment_amount         numeric(15, 2) NOT NULL,
    offset_amount             numeric(15, 2) NOT NULL,
    balance_amount            numeric(15, 2) NOT NULL,
    PRIMARY KEY (file_id, line_no)
);
CREATE INDEX fact_anticipation_offset_ur_key_idx ON fact_anticipation_offset (ur_key);

ALTER TABLE statement_file ADD COLUMN anticipation_offset_count bigint;

ALTER TABLE stage_record DROP CONSTRAINT stage_record_kind_check;
ALTER TABLE stage_record ADD CONSTRAINT stage_record_kind_check
    CHECK (kind IN ('D', 'E', '8', 'A', 'B', 'C', 'R', 'M', 'O'));
ALTER TABLE stage_record
    ADD COLUMN original_gross_amount     numeric(15, 2),
    ADD COLUMN original_net_amount       numeric(15, 2),
    ADD COLUMN adjustment_ur_key         text,
    ADD COLUMN adjustment_summary_number text,
    ADD COLUMN adjustment_payment_date   date,
    ADD COLUMN adjustment_amount         numeric(15, 2),
    ADD COLUMN offset_amount             numeric(15, 2),
    ADD COLUMN balance_amount            numeric(15, 2);
