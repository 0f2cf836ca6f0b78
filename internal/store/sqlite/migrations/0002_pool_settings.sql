-- Pool settings: sign-up policy and hooks, one JSON document per pool.
ALTER TABLE pools ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
