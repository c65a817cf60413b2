-- Reconciliation statuses are a closed list per area (reconcile::Status in the code): a status the code does
-- not know, or one of another area's list, is refused here as it is refused when read back (issue 15, item 5).
-- An adjustment's status is its posting type's category (dim_posting_type's CHECK, but 'sale').
ALTER TABLE recon_item ADD CONSTRAINT recon_item_status_check CHECK (
    (area = 'sales' AND status IN ('matched', 'divergent', 'missing_at_acquirer', 'missing_in_merchant', 'duplicate'))
    OR (area = 'receivables' AND status IN ('paid', 'paid_late', 'paid_divergent', 'overdue', 'pending', 'unexpected_payment'))
    OR (area = 'adjustments' AND status IN ('adjustment', 'cancellation', 'chargeback', 'rental', 'negotiation', 'lien', 'compensation', 'anticipation', 'other'))
    OR (area = 'fees' AND status IN ('ok', 'overcharged', 'undercharged', 'no_contract'))
);
