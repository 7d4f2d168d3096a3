-- NAME
--	schema.sql - the mxledger database, as a new database gets it
-- DESCRIPTION
--	This file is the documentation of the database: every table and column
--	is described by the comments inside its CREATE statement, which SQLite
--	keeps, so `sqlite3 mxledger.db .schema` shows them too.
--
--	A new database gets this file and PRAGMA user_version = the number of
--	the newest file in sql/migrations/; an existing one gets the numbered
--	migrations above its user_version (daemon/migrate.c). Whoever changes
--	this file adds a migration that produces the same schema (check_store
--	compares the two).
--
--	Conventions: times are REAL seconds since the epoch, UTC, with
--	microseconds (datetime(ts, 'unixepoch') works); NULL means "not in the
--	log line"; column names are the JSON field names of `mxledger parse`.
-- EXAMPLES
--	sqlite3 -readonly /var/lib/mxledger/mxledger.db \
--	    "SELECT time, event, user, reason FROM events_v
--	     WHERE client_ip = '203.0.113.7' AND ts > strftime('%s', 'now', '-1 day')"
-- SEE ALSO
--	mxledger(8), include/event.h, sql/reports/

CREATE TABLE events (
	-- One row per log line that mxledger recognised (see mxledger(8) EVENTS).
	-- Rows are only appended; retention deletes the oldest by ts.
	id INTEGER PRIMARY KEY,	-- rowid: insertion order
	ts REAL,		-- time of the line: UTC seconds since the epoch (microseconds
				-- in the fraction); NULL when the log envelope had no time
	host TEXT,		-- syslog host name of the line; NULL for Dovecot log_path / CRI
	program TEXT,		-- full syslog tag without [pid]: 'postfix/smtpd-proxy25/postscreen'
	daemon TEXT,		-- the daemon: 'postscreen', 'smtpd', 'anvil', 'master', 'dovecot'
	listener TEXT,		-- Postfix syslog_name ('postfix/submission') or Dovecot service
				-- ('imap-login', 'auth')
	pid INTEGER,		-- process id from the tag; NULL when not logged
	event TEXT NOT NULL,	-- event kind, a stable snake_case name: 'connect',
				-- 'auth_failure', 'reject', 'postscreen_pregreet', ...
	client_ip TEXT,		-- the real client (behind PROXY protocol: the address the
				-- proxy reported, never the proxy hop), as logged
	client_port INTEGER,	-- client TCP port; NULL when not logged
	client_name TEXT,	-- client reverse name as logged, 'unknown' included
	server_ip TEXT,		-- local address as logged (postscreen 'to', Dovecot lip=)
	server_port INTEGER,	-- local port; NULL when not logged
	proxied INTEGER,	-- 1 when the listener sits behind a PROXY-protocol proxy,
				-- 0 when not, NULL when unknown
	user TEXT,		-- SASL / IMAP login name, as the client sent it
	method TEXT,		-- SASL mechanism or Dovecot auth method: 'PLAIN', 'LOGIN'
	attempts INTEGER,	-- Dovecot 'auth failed, N attempts'; NULL when not stated
	queue_id TEXT,		-- Postfix queue id, as logged
	sender TEXT,		-- envelope sender (MAIL FROM), as logged
	recipient TEXT,		-- envelope recipient (RCPT TO), as logged
	helo TEXT,		-- HELO/EHLO name the client sent
	stage TEXT,		-- SMTP stage: 'CONNECT', 'EHLO', 'AUTH', 'RCPT', 'DATA', ...
	reply TEXT,		-- server reply code and enhanced status: '550 5.1.1'
	reason TEXT,		-- free text: reject reason, failure reason, exceeded limit
	session TEXT,		-- Dovecot session id, without the <>
	stats TEXT		-- smtpd disconnect command counters as a JSON object of
				-- strings: {"ehlo":"1","auth":"0/1","commands":"1/2"};
				-- query with json_extract(stats, '$.auth')
);

-- Per client and per user over time (reports, history at start-up), per
-- time (retention, summaries) and per kind. The user index is partial:
-- most rows have no user, and `user = ?` implies `user IS NOT NULL`.
CREATE INDEX events_client_ip_ts ON events (client_ip, ts);
CREATE INDEX events_user_ts ON events (user, ts) WHERE user IS NOT NULL;
CREATE INDEX events_ts ON events (ts);
CREATE INDEX events_event_ts ON events (event, ts);

CREATE VIEW events_v AS
	-- events with a readable time: RFC 3339 UTC with milliseconds
	SELECT strftime('%Y-%m-%dT%H:%M:%fZ', ts, 'unixepoch') AS time, *
	FROM events;

CREATE TABLE positions (
	-- How far each input has been read. Written in the same transaction
	-- as the events read from it, so after a crash the events hold every
	-- line up to the position exactly once and nothing after it.
	key TEXT PRIMARY KEY,	-- identity of what was read: 'file:<fnv64 hex>:<len>' (the
				-- fingerprint of the first line, so a renamed or gzip'ed
				-- copy is the same source) or 'journal:<machine-id>'
	path TEXT,		-- last path it was read from (information only)
	offset INTEGER NOT NULL DEFAULT 0,	-- bytes of the (decompressed) file fully processed
	lines INTEGER NOT NULL DEFAULT 0,	-- lines processed up to offset
	cursor TEXT,		-- journal cursor of the last entry processed; NULL for files
	updated REAL		-- when the position was last written: UTC epoch seconds
);

CREATE TABLE counters (
	-- Running totals kept beside the events: unrecognised lines per
	-- program, oversized and malformed lines, ... (store_count_add()).
	name TEXT PRIMARY KEY,	-- counter name, e.g. 'unrecognised:postfix/smtpd'
	value INTEGER NOT NULL DEFAULT 0	-- total since the database was created
);

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
