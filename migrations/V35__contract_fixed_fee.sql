-- A contract's fixed fee per sale ("tarifa por transação", issue 20, item 5): PagBank charges R$ 0,40 on each
-- credit sale beside its MDR percentage, which a rate alone cannot state, so every such sale was audited as
-- overcharged by the tariff. The fee expected of a sale is its gross at the rate, plus this.
ALTER TABLE contract_rate ADD COLUMN fixed_fee numeric(15,2) NOT NULL DEFAULT 0 CHECK (fixed_fee >= 0);
