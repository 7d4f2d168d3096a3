-- NAME
--	0002_decisions.sql - migration 2: the decisions of the policy service
-- DESCRIPTION
--	Adds the decisions table (what the policy service answered, or would
--	have answered in dry runs, and why) and its indexes. Forward-only, like
--	every migration: never edited once released.

CREATE TABLE decisions (
	-- One row per answer of the policy service worth keeping: every answer
	-- of a rule other than DUNNO, every dry-run hit ("would have" answered:
	-- mode warn, per rule or global) and every internal error answered with
	-- the fail-action. Plain DUNNO answers (no rule matched, or an allowlist
	-- rule) are not stored. Written by the main thread of `mxledger run` in
	-- its own batches, so storing never delays an answer; `mxledger
	-- policy-test` stores nothing.
	id INTEGER PRIMARY KEY,	-- rowid: insertion order
	ts REAL NOT NULL,	-- when it was decided: UTC seconds since the epoch (microseconds
				-- in the fraction)
	rule TEXT,		-- name of the rule that matched (mxledger.conf `rule NAME`);
				-- NULL for an internal error
	action TEXT NOT NULL,	-- the rule's action as sent to Postfix ('DEFER Too many
				-- failed logins'), or for a dry run the one it would have sent
	dry_run INTEGER NOT NULL DEFAULT 0,	-- 1: only recorded, the answer was not this
				-- action (mode warn); 0: answered
	error TEXT,		-- NULL, or why the answer was the fail-action (an internal
				-- error: 'Cannot allocate memory')
	request TEXT,		-- the kind of request: 'smtpd_access_policy' (Postfix policy
				-- delegation), or the word of another asker (Dovecot auth policy)
	protocol_state TEXT,	-- SMTP state of the request: 'CONNECT', 'RCPT', 'END-OF-MESSAGE'
	client_address TEXT,	-- the SMTP client as Postfix saw it (behind a PROXY listener:
				-- the real client)
	client_name TEXT,	-- its verified reverse name as Postfix sent it ('unknown'
				-- included); NULL when not sent
	helo_name TEXT,		-- HELO/EHLO name; NULL when not sent yet
	sasl_username TEXT,	-- the authenticated user; NULL when not authenticated
	sender TEXT,		-- envelope sender; NULL before MAIL FROM and for the null sender
	recipient TEXT,		-- envelope recipient of a RCPT request; NULL otherwise
	instance TEXT,		-- Postfix's id of the mail transaction (one message's requests
				-- share it)
	queue_id TEXT,		-- Postfix queue id when known (END-OF-MESSAGE, or after RCPT
				-- with smtpd_delay_open_until_valid_rcpt = no)
	server_port INTEGER,	-- the listener's port (Postfix >= 3.2); NULL when not sent
	policy_context TEXT,	-- smtpd_policy_service_policy_context of the asking listener
	counters TEXT		-- the counting conditions of the rule with the values that
				-- made it match, as JSON: [{"condition":"history auth_failures
				-- by client_address >= 5 per 15m","key":"203.0.113.7",
				-- "value":6,"limit":5}]; '[]' when the rule counts nothing
);

-- Reports per time (what happened today, retention), per client and per rule.
CREATE INDEX decisions_ts ON decisions (ts);
CREATE INDEX decisions_client_address_ts ON decisions (client_address, ts);
CREATE INDEX decisions_rule_ts ON decisions (rule, ts);
