-- A claim counts the caller's recent skips: their leases of the last few minutes that
-- ended without an outcome. The index of every lease by caller made that count read each
-- of the caller's recent calls (hundreds for a quick caller); this one holds only leases
-- without an outcome (held, released or lapsed), a small share that stays in memory.
-- Nothing deletes accounts or leases; a future account deletion should remove the
-- account's leases by campaign first.
DROP INDEX leases_caller;
CREATE INDEX leases_unrecorded ON leases (caller_id, claimed_at) WHERE outcome_at IS NULL;
