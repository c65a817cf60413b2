-- A run's items are written by the hundred thousand (a large merchant's month: ~650 000 not settled) and
-- the foreign key to recon_run checked every one of them: COPY of one run's 647 693 items took 6.7-7.9 s with
-- it and 3.5-3.9 s without (measured side by side, issue 18 item 1). recon_link has had none since V24 for
-- the same reason. Nothing deletes a run but db::recon::start_run, which removes its items and links in the
-- same statement (tests/reconcile.rs checks that no item or link outlives its run).
ALTER TABLE recon_item DROP CONSTRAINT recon_item_run_id_fkey;
