-- Two runs (nightly or by hand) never overlap: discovery takes this lease for the length of an execution's
-- timeout, the run's last load gives it back; a run that finds it held does nothing.
CREATE TABLE run_lease (
    name        text PRIMARY KEY,
    holder      text NOT NULL,
    acquired_at timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
