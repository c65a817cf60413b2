-- A merchant's sale is identified by (store, sale id): a later export replaces the earlier rows of the same
-- sales (cumulative exports), found through this index.
CREATE INDEX fact_merchant_sale_identity_idx ON fact_merchant_sale (establishment_key, sale_id);
