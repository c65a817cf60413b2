-- Reconciliation: the contracted rates fees are audited against, and the results of each run.

-- Contracted rates ("taxas contratadas"), imported with `syncrocardpay rates import FILE.csv`. `*` in brand or
-- product means any; the most specific applicable rate wins (exact brand, exact product, narrower
-- installment range, later start).
CREATE TABLE contract_rate (
    contract_rate_id  bigserial PRIMARY KEY,
    merchant_code     text NOT NULL,
    acquirer          text NOT NULL,
    brand             text NOT NULL,
    product           text NOT NULL,
    installments_from integer NOT NULL CHECK (installments_from BETWEEN 1 AND 99),
    installments_to   integer NOT NULL CHECK (installments_to BETWEEN installments_from AND 99),
    rate_percent      numeric(9, 4) NOT NULL CHECK (rate_percent >= 0 AND rate_percent < 100),
    valid_from        date NOT NULL,
    valid_to          date CHECK (valid_to IS NULL OR valid_to >= valid_from),
    source_file       text NOT NULL,
    imported_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE NULLS NOT DISTINCT (merchant_code, acquirer, brand, product, installments_from, installments_to, valid_from)
);

-- A reconciliation run over a scope: sales and fees by sale date, receivables by due date, adjustments by
-- posting date, within [date_from, date_to], for one merchant or all. A new run over the same scope replaces
-- the previous one (its items go with it).
CREATE TABLE recon_run (
    run_id        bigserial PRIMARY KEY,
    date_from     date NOT NULL,
    date_to       date NOT NULL,
    merchant_code text,
    as_of         date NOT NULL,
    settings      jsonb NOT NULL,
    totals        jsonb NOT NULL DEFAULT '{}',
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    CHECK (date_from <= date_to)
);
CREATE UNIQUE INDEX recon_run_scope_idx ON recon_run (date_from, date_to, coalesce(merchant_code, ''));

CREATE TABLE recon_item (
    run_id             bigint NOT NULL REFERENCES recon_run ON DELETE CASCADE,
    item_no            integer NOT NULL,
    area               text NOT NULL CHECK (area IN ('sales', 'receivables', 'adjustments', 'fees')),
    status             text NOT NULL,
    is_open            boolean NOT NULL,
    merchant_code      text NOT NULL,
    acquirer           text NOT NULL,
    ref_date           date NOT NULL,
    sale_code          text NOT NULL,
    nsu                text NOT NULL,
    authorization_code text NOT NULL,
    installment        integer NOT NULL,
    brand              text NOT NULL,
    product            text NOT NULL,
    expected           numeric(15, 2),
    actual             numeric(15, 2),
    difference         numeric(15, 2),
    at_stake           numeric(15, 2) NOT NULL,
    days_late          integer,
    fields             text[] NOT NULL,
    reason             text NOT NULL,
    expected_file_id   bigint,
    expected_line_no   bigint,
    actual_file_id     bigint,
    actual_line_no     bigint,
    PRIMARY KEY (run_id, item_no)
);
CREATE INDEX recon_item_status_idx ON recon_item (run_id, area, status);
