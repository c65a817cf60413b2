-- syncrocardpay star schema: control tables, dimensions, facts, staging.
-- Codes are text (leading zeros are data); money is numeric with 2 decimals; dates are DATE.

-- ---------------------------------------------------------------- control
CREATE TABLE dim_acquirer (
    acquirer_key smallint PRIMARY KEY,
    code         text NOT NULL UNIQUE,
    name         text NOT NULL
);

-- One row per distinct statement content (sha256): re-deliveries under any name map to the same row.
CREATE TABLE statement_file (
    file_id               bigserial PRIMARY KEY,
    sha256                text NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes            bigint NOT NULL CHECK (size_bytes >= 0),
    file_name             text NOT NULL,
    source                text NOT NULL,
    acquirer              text REFERENCES dim_acquirer (code),
    layout_version        text,
    code_set              text,
    file_type             text,
    file_kind             text,
    merchant_code         text,
    processing_date       date,
    period_start          date,
    period_end            date,
    sequence              text,
    status                text NOT NULL CHECK (status IN ('received', 'staged', 'loaded', 'rejected')),
    line_count            bigint,
    receivable_unit_count bigint,
    transaction_count     bigint,
    ur_gross_total        numeric(20, 2),
    ur_fee_total          numeric(20, 2),
    ur_net_total          numeric(20, 2),
    tx_gross_total        numeric(20, 2),
    tx_fee_total          numeric(20, 2),
    tx_net_total          numeric(20, 2),
    error_count           bigint NOT NULL DEFAULT 0,
    error                 text,
    attempts              integer NOT NULL DEFAULT 0,
    first_seen_at         timestamptz NOT NULL DEFAULT now(),
    started_at            timestamptz,
    staged_at             timestamptz,
    loaded_at             timestamptz,
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX statement_file_status_idx ON statement_file (status);
CREATE INDEX statement_file_merchant_idx ON statement_file (merchant_code, processing_date);

-- Every time a file was handed to the pipeline, under which name, and what came of it.
CREATE TABLE statement_delivery (
    delivery_id  bigserial PRIMARY KEY,
    file_id      bigint NOT NULL REFERENCES statement_file (file_id),
    file_name    text NOT NULL,
    source       text NOT NULL,
    outcome      text NOT NULL CHECK (outcome IN ('loaded', 'staged', 'duplicate', 'rejected')),
    detail       text,
    delivered_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX statement_delivery_file_idx ON statement_delivery (file_id);

-- Why a file was rejected, line by line (capped per file; statement_file.error_count has the total).
CREATE TABLE rejected_line (
    rejected_line_id bigserial PRIMARY KEY,
    file_id          bigint NOT NULL REFERENCES statement_file (file_id) ON DELETE CASCADE,
    line_no          bigint NOT NULL,
    byte_column      integer,
    field            text NOT NULL,
    reason           text NOT NULL,
    raw_line         text
);
CREATE INDEX rejected_line_file_idx ON rejected_line (file_id, line_no);

-- ---------------------------------------------------------------- reference code tables (seeded)
CREATE TABLE ref_brand (
    acquirer_key smallint NOT NULL REFERENCES dim_acquirer,
    code         text NOT NULL,
    name         text NOT NULL,
    PRIMARY KEY (acquirer_key, code)
);

CREATE TABLE ref_settlement_type (
    acquirer_key smallint NOT NULL REFERENCES dim_acquirer,
    code         text NOT NULL,
    name         text NOT NULL,
    settlement   text NOT NULL CHECK (settlement IN ('debit', 'credit', 'voucher', 'pix', 'unknown')),
    PRIMARY KEY (acquirer_key, code)
);

-- Payment status codes differ between Cielo layouts: keyed by code set ('cielo-v15', 'cielo-v14').
CREATE TABLE ref_payment_status (
    acquirer_key   smallint NOT NULL REFERENCES dim_acquirer,
    code_set       text NOT NULL,
    code           text NOT NULL,
    name           text NOT NULL,
    stage          text NOT NULL CHECK (stage IN ('scheduled', 'sent', 'paid', 'rejected', 'resent', 'debited', 'pending')),
    PRIMARY KEY (acquirer_key, code_set, code)
);

-- ---------------------------------------------------------------- dimensions
CREATE TABLE dim_date (
    date_key   date PRIMARY KEY,
    year       smallint NOT NULL,
    quarter    smallint NOT NULL,
    month      smallint NOT NULL,
    day        smallint NOT NULL,
    iso_dow    smallint NOT NULL,
    is_weekend boolean NOT NULL
);

-- Store / establishment ("estabelecimento comercial", EC).
CREATE TABLE dim_establishment (
    establishment_key serial PRIMARY KEY,
    acquirer_key      smallint NOT NULL REFERENCES dim_acquirer,
    merchant_code     text NOT NULL,
    UNIQUE (acquirer_key, merchant_code)
);

-- Product = Cielo "forma de pagamento" (table IV).
CREATE TABLE dim_product (
    product_key  serial PRIMARY KEY,
    acquirer_key smallint NOT NULL REFERENCES dim_acquirer,
    code         text NOT NULL,
    name         text NOT NULL,
    catalogued   boolean NOT NULL DEFAULT true,
    UNIQUE (acquirer_key, code)
);

-- Payment method = brand + settlement type (débito / crédito / voucher / pix).
CREATE TABLE dim_payment_method (
    payment_method_key   serial PRIMARY KEY,
    acquirer_key         smallint NOT NULL REFERENCES dim_acquirer,
    brand_code           text NOT NULL,
    brand_name           text NOT NULL,
    settlement_type_code text NOT NULL,
    settlement_type_name text NOT NULL,
    settlement           text NOT NULL,
    UNIQUE (acquirer_key, brand_code, settlement_type_code)
);

-- Posting type = "tipo de lançamento" (v15) / "tipo de transação" (v14): the same code means different
-- things in different layouts, so codes are scoped by code set. Only category 'sale' is a sale.
CREATE TABLE dim_posting_type (
    posting_type_key serial PRIMARY KEY,
    acquirer_key     smallint NOT NULL REFERENCES dim_acquirer,
    code_set         text NOT NULL,
    code             text NOT NULL,
    name             text NOT NULL,
    category         text NOT NULL CHECK (category IN ('sale', 'adjustment', 'cancellation', 'chargeback',
                         'rental', 'negotiation', 'lien', 'compensation', 'anticipation', 'other')),
    is_sale          boolean GENERATED ALWAYS AS (category = 'sale') STORED,
    catalogued       boolean NOT NULL DEFAULT true,
    UNIQUE (acquirer_key, code_set, code)
);

-- ---------------------------------------------------------------- facts
-- Fact rows are written only by the loader's INSERT … SELECT, whose inner joins to the dimensions (and the
-- row-count check against the staged counts) guarantee every key exists. No declared foreign keys here: on a
-- fact table they cost one trigger per key per row (10 per transaction line, half of the load time measured).
-- Receivable unit ("UR", Cielo record D): one row per UR line of a statement.
CREATE TABLE fact_receivable_unit (
    file_id                bigint NOT NULL,
    line_no                bigint NOT NULL,
    file_type              text NOT NULL,
    establishment_key      integer NOT NULL,
    payment_method_key     integer NOT NULL,
    posting_type_key       integer NOT NULL,
    product_key            integer,
    payment_date           date,
    sent_to_bank_date      date,
    original_due_date      date,
    payment_status_code    text NOT NULL,
    ur_key                 text NOT NULL,
    summary_number         text NOT NULL,
    installment            integer NOT NULL,
    installment_plan       text NOT NULL,
    gross_amount           numeric(15, 2) NOT NULL,
    fee_amount             numeric(15, 2) NOT NULL,
    net_amount             numeric(15, 2) NOT NULL,
    rejected_amount        numeric(15, 2) NOT NULL,
    fee_rate               numeric(7, 2),
    adjustment_code        text,
    presentation_date      date,
    capture_date           date,
    entry_count            bigint NOT NULL,
    holder_tax_id          text NOT NULL,
    movement_holder_tax_id text NOT NULL,
    receiver_tax_id        text NOT NULL,
    payment_matrix_code    text NOT NULL,
    payment_merchant_code  text NOT NULL,
    bank_code              text NOT NULL,
    branch_code            text NOT NULL,
    account_number         text NOT NULL,
    account_check_digit    text NOT NULL,
    pending_flag           text NOT NULL,
    payment_resend_flag    text NOT NULL,
    negotiation_flag       text NOT NULL,
    negotiator_tax_id      text NOT NULL,
    open_balance_flag      text NOT NULL,
    PRIMARY KEY (file_id, line_no)
);
CREATE INDEX fact_receivable_unit_ur_key_idx ON fact_receivable_unit (ur_key);
CREATE INDEX fact_receivable_unit_payment_date_idx ON fact_receivable_unit (payment_date);

-- Card transaction (Cielo record E): a sale, one installment of it, or an adjustment, in a UR.
CREATE TABLE fact_card_transaction (
    file_id                    bigint NOT NULL,
    line_no                    bigint NOT NULL,
    file_type                  text NOT NULL,
    establishment_key          integer NOT NULL,
    payment_method_key         integer NOT NULL,
    product_key                integer NOT NULL,
    posting_type_key           integer NOT NULL,
    authorization_date         date,
    capture_date               date,
    posting_date               date,
    original_posting_date      date,
    original_due_date          date,
    ur_key                     text NOT NULL,
    summary_number             text NOT NULL,
    installment                integer NOT NULL,
    installment_count          integer NOT NULL,
    authorization_code         text NOT NULL,
    nsu                        text NOT NULL,
    tid                        text NOT NULL,
    transaction_code           text NOT NULL,
    unique_sale_code           text NOT NULL,
    original_sale_code         text NOT NULL,
    processed_transaction_code text NOT NULL,
    adjustment_code            text,
    card_bin                   text NOT NULL,
    card_last_digits           text NOT NULL,
    mdr_rate                   numeric(7, 2),
    auto_receipt_rate          numeric(7, 2),
    sale_rate                  numeric(7, 2),
    sale_total_amount          numeric(15, 2) NOT NULL,
    gross_amount               numeric(15, 2) NOT NULL,
    -- v13/v14 CVs carry no fee or net (their RO does): NULL there.
    fee_amount                 numeric(15, 2),
    net_amount                 numeric(15, 2),
    minimum_fee_amount         numeric(15, 2) NOT NULL,
    down_payment_amount        numeric(15, 2) NOT NULL,
    mdr_tariff_amount          numeric(15, 2) NOT NULL,
    fast_receipt_amount        numeric(15, 2) NOT NULL,
    withdrawal_amount          numeric(15, 2) NOT NULL,
    boarding_fee_amount        numeric(15, 2) NOT NULL,
    pending_amount             numeric(15, 2) NOT NULL,
    total_debt_amount          numeric(15, 2) NOT NULL,
    charged_amount             numeric(15, 2) NOT NULL,
    admin_tariff_amount        numeric(15, 2) NOT NULL,
    promo_amount               numeric(15, 2) NOT NULL,
    dcc_amount                 numeric(15, 2) NOT NULL,
    sale_time                  time,
    indicators                 text NOT NULL,
    invoice_number             text NOT NULL,
    order_reference            text NOT NULL,
    card_group                 text NOT NULL,
    receiver_tax_id            text NOT NULL,
    authorization_brand_code   text NOT NULL,
    negotiation_effect_id      text NOT NULL,
    sales_channel              text NOT NULL,
    terminal                   text NOT NULL,
    original_posting_type_code text NOT NULL,
    transaction_type           text NOT NULL,
    pricing_modality           text NOT NULL,
    batch_number               text NOT NULL,
    rejection_reason           text NOT NULL,
    payment_matrix_code        text NOT NULL,
    card_type                  text NOT NULL,
    card_origin                text NOT NULL,
    bank_code                  text NOT NULL,
    branch_code                text NOT NULL,
    account_number             text NOT NULL,
    account_check_digit        text NOT NULL,
    arn                        text NOT NULL,
    negotiation_flag           text NOT NULL,
    capture_type               text NOT NULL,
    negotiator_tax_id          text NOT NULL,
    PRIMARY KEY (file_id, line_no)
);
CREATE INDEX fact_card_transaction_ur_key_idx ON fact_card_transaction (ur_key);
CREATE INDEX fact_card_transaction_sale_idx ON fact_card_transaction (unique_sale_code, installment);
CREATE INDEX fact_card_transaction_nsu_idx ON fact_card_transaction (nsu, authorization_code);

-- ---------------------------------------------------------------- staging
-- Validated records of files being ingested, one row per D or E line, until loaded into the facts.
-- UNLOGGED for speed: after a server crash it is empty, which loading detects by its row count.
CREATE UNLOGGED TABLE stage_record (
    file_id                    bigint NOT NULL,
    line_no                    bigint NOT NULL,
    kind                       text NOT NULL CHECK (kind IN ('D', 'E')),
    merchant_code              text NOT NULL,
    brand_code                 text NOT NULL,
    settlement_type_code       text NOT NULL,
    posting_type_code          text NOT NULL,
    ur_key                     text NOT NULL,
    summary_number             text NOT NULL,
    gross_amount               numeric(15, 2) NOT NULL,
    fee_amount                 numeric(15, 2),
    net_amount                 numeric(15, 2),
    bank_code                  text NOT NULL,
    branch_code                text NOT NULL,
    account_number             text NOT NULL,
    account_check_digit        text NOT NULL,
    payment_matrix_code        text NOT NULL,
    receiver_tax_id            text NOT NULL,
    negotiator_tax_id          text NOT NULL,
    negotiation_flag           text NOT NULL,
    original_due_date          date,
    -- D only
    holder_tax_id              text,
    movement_holder_tax_id     text,
    payment_status_code        text,
    entry_count                bigint,
    payment_date               date,
    sent_to_bank_date          date,
    payment_merchant_code      text,
    pending_flag               text,
    payment_resend_flag        text,
    open_balance_flag          text,
    installment_plan           text,
    presentation_date          date,
    rejected_amount            numeric(15, 2),
    fee_rate                   numeric(7, 2),
    -- E only (installment, product_code, adjustment_code and capture_date also for v14 ROs)
    installment                integer,
    installment_count          integer,
    authorization_code         text,
    transaction_code           text,
    adjustment_code            text,
    product_code               text,
    indicators                 text,
    card_bin                   text,
    card_last_digits           text,
    nsu                        text,
    invoice_number             text,
    tid                        text,
    order_reference            text,
    mdr_rate                   numeric(7, 2),
    auto_receipt_rate          numeric(7, 2),
    sale_rate                  numeric(7, 2),
    sale_total_amount          numeric(15, 2),
    minimum_fee_amount         numeric(15, 2),
    down_payment_amount        numeric(15, 2),
    mdr_tariff_amount          numeric(15, 2),
    fast_receipt_amount        numeric(15, 2),
    withdrawal_amount          numeric(15, 2),
    boarding_fee_amount        numeric(15, 2),
    pending_amount             numeric(15, 2),
    total_debt_amount          numeric(15, 2),
    charged_amount             numeric(15, 2),
    admin_tariff_amount        numeric(15, 2),
    promo_amount               numeric(15, 2),
    dcc_amount                 numeric(15, 2),
    sale_time                  time,
    card_group                 text,
    authorization_brand_code   text,
    unique_sale_code           text,
    original_sale_code         text,
    negotiation_effect_id      text,
    sales_channel              text,
    terminal                   text,
    original_posting_type_code text,
    transaction_type           text,
    pricing_modality           text,
    authorization_date         date,
    capture_date               date,
    posting_date               date,
    original_posting_date      date,
    batch_number               text,
    processed_transaction_code text,
    rejection_reason           text,
    card_type                  text,
    card_origin                text,
    arn                        text,
    capture_type               text
);
CREATE INDEX stage_record_file_idx ON stage_record (file_id);
