-- NAME
--	user.sql - `mxledger report user NAME`: logins and failures of one user
-- SYNOPSIS
--	sqlite3 -readonly -cmd ".parameter set :user \"'frank@example.net'\"" \
--	    -cmd ".parameter set :from \"unixepoch('now', '-30 days')\"" \
--	    -cmd ".mode column" /var/lib/mxledger/mxledger.db < user.sql
-- DESCRIPTION
--	From which addresses a user logged in, or failed to, over which
--	protocol. One row per client address and protocol, the addresses with
--	the most failures first. Columns:
--
--	  client_ip	the client
--	  protocol	smtp (Postfix smtpd), or the Dovecot login service without
--			'-login': imap, pop3, submission, ...
--	  logins	successful logins: Dovecot Login: lines; for SMTP the
--			messages sent after AUTH (smtpd names the user only there)
--	  failures	failed attempts, each once (as in summary.sql)
--	  first, last	RFC 3339 UTC times of the first and the last of them
--
--	Parameters: :user, the login name exactly as the client sent it;
--	:from and :to (unix seconds, from <= ts < to; unset = no bound);
--	:limit, the addresses shown (unset or 0 = all).
--
--	A failed SMTP AUTH has a user only when smtpd logged it
--	("sasl_username=" at the end of the warning, as Postfix 3.7 does).
-- SEE ALSO
--	mxledger(8) "report", sql/reports/summary.sql
WITH
-- BEGIN cte authfail
-- authfail: every failed authentication attempt once, n attempts per row. A Dovecot
-- session's auth-process failures (auth_verbose) name the user of each attempt: they
-- count, and its login line only for the attempts they do not cover. login and
-- lookups are per session (a window, not a join: sessions have no index).
dovecot(ts, client_ip, user, event, attempts, listener, login, lookups) AS (
	SELECT ts, client_ip, user, event, attempts, listener,
	    max(CASE WHEN listener LIKE '%-login' THEN listener END) OVER session,
	    sum(event = 'auth_lookup_failure') OVER session
	FROM events
	WHERE event IN ('auth_success', 'auth_failure', 'disconnect', 'auth_lookup_failure')
	  AND ts >= coalesce(:from, -9e18) AND ts < coalesce(:to, 9e18)
	  AND daemon = 'dovecot' AND session IS NOT NULL
	WINDOW session AS (PARTITION BY session)
),
authfail(ts, client_ip, user, protocol, listener, n) AS (
	SELECT ts, client_ip, user,
	    CASE WHEN daemon = 'smtpd' THEN 'smtp' ELSE replace(listener, '-login', '') END,
	    listener, CASE WHEN daemon = 'smtpd' THEN 1 ELSE coalesce(attempts, 1) END
	FROM events
	WHERE event = 'auth_failure' AND (daemon = 'smtpd' OR session IS NULL)
	  AND ts >= coalesce(:from, -9e18) AND ts < coalesce(:to, 9e18)
	UNION ALL
	SELECT ts, client_ip, user, replace(listener, '-login', ''), listener,
	    coalesce(attempts, 1) - lookups
	FROM dovecot
	WHERE event = 'auth_failure' AND coalesce(attempts, 1) > lookups
	UNION ALL
	SELECT ts, client_ip, user, coalesce(replace(login, '-login', ''), 'dovecot'),
	    coalesce(login, listener), 1
	FROM dovecot
	WHERE event = 'auth_lookup_failure'
),
-- END cte authfail
logins(ts, client_ip, protocol) AS (
	SELECT ts, client_ip,
	    CASE WHEN daemon = 'smtpd' THEN 'smtp' ELSE replace(listener, '-login', '') END
	FROM events
	WHERE event = 'auth_success' AND user = :user
	  AND ts >= coalesce(:from, -9e18) AND ts < coalesce(:to, 9e18)
),
tried(ts, client_ip, protocol, ok, n) AS (
	SELECT ts, client_ip, protocol, 1, 0 FROM logins
	UNION ALL
	SELECT ts, client_ip, protocol, 0, n FROM authfail WHERE user = :user
)
SELECT client_ip, protocol, sum(ok) AS logins, sum(n) AS failures,
    strftime('%Y-%m-%dT%H:%M:%SZ', min(ts), 'unixepoch') AS first,
    strftime('%Y-%m-%dT%H:%M:%SZ', max(ts), 'unixepoch') AS last
FROM tried
GROUP BY client_ip, protocol
ORDER BY failures DESC, logins DESC, client_ip, protocol
LIMIT CASE WHEN :limit > 0 THEN :limit ELSE -1 END;
