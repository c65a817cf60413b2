-- Cielo v15 records beyond D/E: Pix (8, file 16), receivables negotiation (A/B/C, file 15) and financial
-- reserve (R, layout 15.7+). Each becomes its own fact table; all share the one staging table.

-- ---------------------------------------------------------------- control
ALTER TABLE statement_file
    ADD COLUMN pix_count                   bigint,
    ADD COLUMN negotiation_count           bigint,
    ADD COLUMN negotiated_receivable_count bigint,
    ADD COLUMN negotiation_credit_count    bigint,
    ADD COLUMN financial_reserve_count     bigint,
    ADD COLUMN pix_gross_total             numeric(20, 2),
    ADD COLUMN pix_net_total               numeric(20, 2),
    ADD COLUMN negotiation_gross_total     numeric(20, 2),
    ADD COLUMN negotiation_net_total       numeric(20, 2);

-- ---------------------------------------------------------------- reference code tables (seeded)
-- Pix transaction type (record 8, 12-13).
CREATE TABLE ref_pix_transaction_type (
    acquirer_key smallint NOT NULL REFERENCES dim_acquirer,
    code         text NOT NULL,
    name         text NOT NULL,
    is_sale      boolean NOT NULL,
    PRIMARY KEY (acquirer_key, code)
);
INSERT INTO ref_pix_transaction_type (acquirer_key, code, name, is_sale) VALUES
    (1, '01', 'Pix', true),
    (1, '02', 'Ajuste a crédito', false),
    (1, '03', 'Ajuste a débito', false);

-- Pix transfer status (record 8, 223-224).
CREATE TABLE ref_pix_transfer_status (
    acquirer_key smallint NOT NULL REFERENCES dim_acquirer,
    code         text NOT NULL,
    name         text NOT NULL,
    stage        text NOT NULL CHECK (stage IN ('paid', 'in_transfer', 'denied', 'invalid_account', 'blocked',
                                                'unblocked', 'judicial', 'offset')),
    PRIMARY KEY (acquirer_key, code)
);
INSERT INTO ref_pix_transfer_status (acquirer_key, code, name, stage) VALUES
    (1, '01', 'Pago', 'paid'),
    (1, '02', 'Em transferência', 'in_transfer'),
    (1, '03', 'Transferência negada', 'denied'),
    (1, '04', 'Dados bancários inválidos', 'invalid_account'),
    (1, '05', 'Pago', 'paid'),
    (1, '06', 'Bloqueado', 'blocked'),
    (1, '07', 'Desbloqueado', 'unblocked'),
    (1, '08', 'Liquidação judicial', 'judicial'),
    (1, '09', 'Compensado', 'offset');

-- ---------------------------------------------------------------- facts
-- Pix transaction (record 8).
CREATE TABLE fact_pix_transaction (
    file_id                   bigint NOT NULL,
    line_no                   bigint NOT NULL,
    file_type                 text NOT NULL,
    establishment_key         integer NOT NULL,
    transaction_type_code     text NOT NULL,
    transaction_date          date,
    transaction_time          time,
    pix_id                    text NOT NULL,
    nsu                       text NOT NULL,
    nsu_long                  text NOT NULL,
    payment_date              date,
    capture_date              date,
    gross_amount              numeric(15, 2) NOT NULL,
    fee_amount                numeric(15, 2) NOT NULL,
    net_amount                numeric(15, 2) NOT NULL,
    fee_rate                  numeric(7, 2) NOT NULL,
    tariff_amount             numeric(15, 2) NOT NULL,
    bank_code                 text NOT NULL,
    branch_code               text NOT NULL,
    account_number            text NOT NULL,
    sales_channel             text NOT NULL,
    terminal                  text NOT NULL,
    original_transaction_date date,
    original_transaction_time time,
    original_pix_id           text NOT NULL,
    automatic_transfer_flag   text NOT NULL,
    transfer_status_code      text NOT NULL,
    cielo_account_date        date,
    scheduled_transfer_flag   text NOT NULL,
    txid                      text NOT NULL,
    payout_pix_id             text NOT NULL,
    PRIMARY KEY (file_id, line_no)
);
CREATE INDEX fact_pix_transaction_pix_id_idx ON fact_pix_transaction (pix_id);
CREATE INDEX fact_pix_transaction_date_idx ON fact_pix_transaction (transaction_date);

-- Receivables negotiation summary (record A): one negotiation of the statement's merchant.
CREATE TABLE fact_receivables_negotiation (
    file_id           bigint NOT NULL,
    line_no           bigint NOT NULL,
    establishment_key integer NOT NULL,
    negotiation_date  date,
    payment_date      date,
    holder_tax_id     text NOT NULL,
    average_term_days integer NOT NULL,
    nominal_rate      numeric(8, 3) NOT NULL,
    effective_rate    numeric(8, 3),
    gross_amount      numeric(15, 2) NOT NULL,
    net_amount        numeric(15, 2) NOT NULL,
    operation_code    text NOT NULL,
    payment_form_code text NOT NULL,
    PRIMARY KEY (file_id, line_no)
);

-- Negotiated receivable (record B): belongs to the negotiation (file_id, negotiation_line_no).
CREATE TABLE fact_negotiated_receivable (
    file_id               bigint NOT NULL,
    line_no               bigint NOT NULL,
    negotiation_line_no   bigint NOT NULL,
    establishment_key     integer NOT NULL,
    payment_method_key    integer NOT NULL,
    negotiation_date      date,
    original_due_date     date,
    holder_tax_id         text NOT NULL,
    gross_amount          numeric(15, 2) NOT NULL,
    net_amount            numeric(15, 2) NOT NULL,
    effective_rate        numeric(8, 3) NOT NULL,
    financial_institution text NOT NULL,
    discount_amount       numeric(15, 2),
    PRIMARY KEY (file_id, line_no)
);

-- Account credited with a negotiation (record C).
CREATE TABLE fact_negotiation_credit (
    file_id             bigint NOT NULL,
    line_no             bigint NOT NULL,
    negotiation_line_no bigint NOT NULL,
    establishment_key   integer NOT NULL,
    bank_code           text NOT NULL,
    branch_code         text NOT NULL,
    account_number      text NOT NULL,
    deposited_amount    numeric(15, 2) NOT NULL,
    PRIMARY KEY (file_id, line_no)
);

-- Financial reserve (record R): part of a UR held back.
CREATE TABLE fact_financial_reserve (
    file_id                bigint NOT NULL,
    line_no                bigint NOT NULL,
    file_type              text NOT NULL,
    establishment_key      integer NOT NULL,
    brand_code             text NOT NULL,
    movement_holder_tax_id text NOT NULL,
    payment_matrix_code    text NOT NULL,
    reserve_amount         numeric(15, 2) NOT NULL,
    ur_key                 text NOT NULL,
    original_due_date      date,
    payment_merchant_code  text NOT NULL,
    PRIMARY KEY (file_id, line_no)
);
CREATE INDEX fact_financial_reserve_ur_key_idx ON fact_financial_reserve (ur_key);

-- ---------------------------------------------------------------- staging
ALTER TABLE stage_record DROP CONSTRAINT stage_record_kind_check;
ALTER TABLE stage_record ADD CONSTRAINT stage_record_kind_check CHECK (kind IN ('D', 'E', '8', 'A', 'B', 'C', 'R'));
ALTER TABLE stage_record
    ALTER COLUMN brand_code DROP NOT NULL,
    ALTER COLUMN settlement_type_code DROP NOT NULL,
    ALTER COLUMN posting_type_code DROP NOT NULL,
    ALTER COLUMN ur_key DROP NOT NULL,
    ALTER COLUMN summary_number DROP NOT NULL,
    ALTER COLUMN bank_code DROP NOT NULL,
    ALTER COLUMN branch_code DROP NOT NULL,
    ALTER COLUMN account_number DROP NOT NULL,
    ALTER COLUMN account_check_digit DROP NOT NULL,
    ALTER COLUMN payment_matrix_code DROP NOT NULL,
    ALTER COLUMN receiver_tax_id DROP NOT NULL,
    ALTER COLUMN negotiator_tax_id DROP NOT NULL,
    ALTER COLUMN negotiation_flag DROP NOT NULL,
    ADD COLUMN group_line_no             bigint,
    ADD COLUMN transaction_date          date,
    ADD COLUMN original_transaction_date date,
    ADD COLUMN original_transaction_time time,
    ADD COLUMN pix_id                    text,
    ADD COLUMN original_pix_id           text,
    ADD COLUMN txid                      text,
    ADD COLUMN payout_pix_id             text,
    ADD COLUMN nsu_long                  text,
    ADD COLUMN transfer_status_code      text,
    ADD COLUMN automatic_transfer_flag   text,
    ADD COLUMN scheduled_transfer_flag   text,
    ADD COLUMN cielo_account_date        date,
    ADD COLUMN tariff_amount             numeric(15, 2),
    ADD COLUMN negotiation_date          date,
    ADD COLUMN average_term_days         integer,
    ADD COLUMN nominal_rate              numeric(8, 3),
    ADD COLUMN effective_rate            numeric(8, 3),
    ADD COLUMN operation_code            text,
    ADD COLUMN payment_form_code         text,
    ADD COLUMN financial_institution     text,
    ADD COLUMN discount_amount           numeric(15, 2);
