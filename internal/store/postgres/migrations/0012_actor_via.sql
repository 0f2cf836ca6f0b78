-- One actor form (issue 12): every audit event and every decision records
-- who acted (audit_events.actor, registrations.decided_by: "user:<sub>",
-- "admin-key:<id>", "cli", "system", "approver-link:<email>") and, apart,
-- through which surface (via: "api", "cognito", "console", "hosted",
-- "email-link", "cli", "system"). Rows written before keep their actor as
-- it was ("console:<sub>", "apikey:<id>", "approver:<email>") and an empty
-- via; the service reads them in the new form (identity.NormalizeActor).
-- Nothing is rewritten.
ALTER TABLE audit_events ADD COLUMN via TEXT NOT NULL DEFAULT '';
ALTER TABLE registrations ADD COLUMN decided_via TEXT NOT NULL DEFAULT '';
