-- The merchant's own sales (POS / ERP export, read through a CSV mapping): the other side of a sales
-- reconciliation. Loaded like a statement (one control row per content sha256, atomic per file) under the
-- pseudo-acquirer 'merchant', so that stores are establishments like the acquirers' ECs.

INSERT INTO dim_acquirer (acquirer_key, code, name) VALUES (0, 'merchant', 'Vendas do estabelecimento (PDV/ERP)');

ALTER TABLE statement_file
    ADD COLUMN merchant_sale_count       bigint,
    ADD COLUMN merchant_sale_gross_total numeric(20, 2);

CREATE TABLE fact_merchant_sale (
    file_id            bigint NOT NULL,
    line_no            bigint NOT NULL,
    establishment_key  integer NOT NULL,
    sale_id            text NOT NULL,
    sale_date          date NOT NULL,
    sale_time          time,
    nsu                text NOT NULL,
    authorization_code text NOT NULL,
    gross_amount       numeric(15, 2) NOT NULL,
    installments       integer NOT NULL,
    brand              text NOT NULL,
    card_last_digits   text NOT NULL,
    acquirer_name      text NOT NULL,
    payment_method     text NOT NULL,
    PRIMARY KEY (file_id, line_no)
);
CREATE INDEX fact_merchant_sale_match_idx ON fact_merchant_sale (sale_date, nsu, authorization_code);

ALTER TABLE stage_record DROP CONSTRAINT stage_record_kind_check;
ALTER TABLE stage_record ADD CONSTRAINT stage_record_kind_check
    CHECK (kind IN ('D', 'E', '8', 'A', 'B', 'C', 'R', 'M'));
ALTER TABLE stage_record ADD COLUMN acquirer_name text;
