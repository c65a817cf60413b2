-- A cancellation or chargeback is an adjustment the acquirer explains by the sale it names: listed with that
-- sale, it needs nobody's attention. It is flagged only when unexplained (issue 18, item 2): it names no
-- sale, the sale it names is in no loaded statement, or the sale installment was debited twice (charged back
-- again while the first chargeback stands). The code decides (reconcile::receivables); the run reads, for each
-- such posting, whether its sale is known and how often that installment was debited and reversed, by index.
ALTER TABLE recon_item DROP CONSTRAINT recon_item_status_check;
ALTER TABLE recon_item ADD CONSTRAINT recon_item_status_check CHECK (
    (area = 'sales' AND status IN ('matched', 'divergent', 'missing_at_acquirer', 'missing_in_merchant', 'duplicate'))
    OR (area = 'receivables' AND status IN ('paid', 'paid_late', 'paid_divergent', 'overdue', 'pending', 'unexpected_payment'))
    OR (area = 'adjustments' AND status IN ('adjustment', 'cancellation', 'chargeback', 'unexplained_cancellation', 'unexplained_chargeback', 'rental', 'negotiation', 'lien', 'compensation', 'anticipation', 'other'))
    OR (area = 'fees' AND status IN ('ok', 'overcharged', 'undercharged', 'no_contract'))
);

-- The postings that name an earlier sale, by the sale they name (on the tables under the fact views: V20).
CREATE INDEX fact_card_transaction_original_sale_idx ON fact_card_transaction_all (original_sale_code, installment)
    WHERE original_sale_code <> '';
-- Summaries (Rede's RV) by number: an adjustment names one as "PV-RV".
CREATE INDEX fact_receivable_unit_summary_idx ON fact_receivable_unit_all (summary_number);
