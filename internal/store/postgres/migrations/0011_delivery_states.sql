-- Issue 21: one delivery state machine for outbox emails, jobs visible per
-- pool, leases that survive a crash on the last attempt.
--
-- emails.job_id is the email's one delivery job (a Retry re-arms it, never
-- adds a second one); emails.job_attempt is the attempt of that job that
-- moved it to "sending", the only one whose outcome may be written over it.
-- New statuses "sending" and "discarded" need no DDL (status is TEXT).
ALTER TABLE emails ADD COLUMN job_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE emails ADD COLUMN job_attempt INTEGER NOT NULL DEFAULT 0;
-- jobs.pool_id: the pool a job works for (NULL for a global job), so pool
-- admins see their pool's jobs; deleting the pool deletes them.
ALTER TABLE jobs ADD COLUMN pool_id TEXT REFERENCES pools(id) ON DELETE CASCADE;
-- jobs.lost: attempts in a row whose lease expired before an outcome was
-- recorded (the worker died or stalled); each gives its attempt back.
ALTER TABLE jobs ADD COLUMN lost INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_pool ON jobs (pool_id, id);
-- Before this version a discarded email was marked dead with a note.
UPDATE emails SET status = 'discarded' WHERE status = 'dead' AND last_error LIKE 'discarded by %';
-- Link every email to its newest delivery job (payload {"email_id": N},
-- always written by encoding/json).
UPDATE emails SET job_id = x.job_id
FROM (SELECT MAX(id) AS job_id, (convert_from(payload, 'UTF8')::jsonb ->> 'email_id')::bigint AS email_id
      FROM jobs WHERE kind = 'email.send' GROUP BY 2) AS x
WHERE emails.id = x.email_id;
UPDATE jobs SET pool_id = e.pool_id FROM emails AS e WHERE e.job_id = jobs.id AND e.pool_id IS NOT NULL;
UPDATE jobs SET pool_id = p.id
FROM pools AS p
WHERE jobs.kind IN ('hook.post_confirmation', 'registration.expire', 'registration.remind')
  AND jobs.state <> 'done' AND p.id = convert_from(jobs.payload, 'UTF8')::jsonb ->> 'pool_id';
