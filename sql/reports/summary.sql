-- NAME
--	summary.sql - `mxledger report summary`: an overview of one period
-- SYNOPSIS
--	sqlite3 -readonly -cmd ".parameter set :from \"unixepoch('now', '-1 day')\"" \
--	    -cmd ".parameter set :to \"unixepoch('now')\"" -cmd ".parameter set :limit 10" \
--	    -cmd ".mode column" /var/lib/mxledger/mxledger.db < summary.sql
-- DESCRIPTION
--	One row per line of a pflogsumm-like overview, in sections (the
--	column `section`, rows in this order):
--
--	  connections	item = listener, detail = proxied | stock | unknown,
--			count = sessions (see "Sessions" below)
--	  postscreen	item = verdict (pass_new, pass_old, pregreet, hangup, ...)
--	  auth		item = protocol (smtp; imap, pop3, ... from the Dovecot
--			login service), detail = failures | successes
--	  rejects	item = reply ('550 5.1.1'), detail = reason without the
--			leading '<address>: '; the :limit most frequent
--	  decisions	item = policy rule ('(error)' for internal errors),
--			detail = action, ' (dry run)' when only recorded
--	  problems	item = event (proxy_error, fatal, process_exit,
--			service_throttled, rate_limit, too_many_errors),
--			detail = listener
--	  top_clients	item = client address, detail = connections | auth failures;
--			the :limit largest of each
--	  top_users	item = user, detail = auth failures | logins; the :limit
--			largest of each
--
--	Parameters: :from and :to (unix seconds, the period is
--	from <= ts < to; unset = no bound) and :limit (rows of each ranked
--	list; unset or 0 = all).
--
--	Sessions: a postscreen CONNECT, an smtpd connect, a Dovecot login
--	session (its Login:, auth-failed or no-auth Disconnected line) or a
--	Dovecot haproxy error is one session; postscreen PASS OLD and
--	ALLOWLISTED hand the session to smtpd, which logs a connect of its own,
--	so those count -1 on the postscreen listener.
--
--	Authentication failures count every failed attempt once: one per
--	smtpd "SASL ... authentication failed" line; for a Dovecot login
--	session, its auth-process failures (auth_lookup_failure with the
--	session id, logged with auth_verbose = yes: they name the user of each
--	attempt and also exist for a session that failed, then logged in) and
--	the attempts of its "auth failed, N attempts" line that these do not
--	cover. auth_lookup_failure rows without a session are the same
--	attempts as smtpd's and are not added.
--	SMTP successes are the first number of smtpd's "auth=N/M" disconnect
--	counters; Dovecot successes are its Login: lines.
--
--	Needs the decisions table (schema version 2); `mxledger report`
--	provides an empty one for older databases.
-- SEE ALSO
--	mxledger(8) "report", sql/schema.sql, sql/reports/top.sql
WITH
-- BEGIN cte conn
-- conn: +1 per session seen on a listener, -1 for a postscreen hand-off to smtpd
conn(ts, listener, proxied, client_ip, w) AS (
	SELECT ts, listener, proxied, client_ip,
	    CASE WHEN event IN ('postscreen_pass_old', 'postscreen_allowlist') THEN -1 ELSE 1 END
	FROM events
	WHERE ts >= coalesce(:from, -9e18) AND ts < coalesce(:to, 9e18)
	  AND event IN ('connect', 'postscreen_pass_old', 'postscreen_allowlist', 'auth_success',
	    'auth_failure', 'disconnect', 'proxy_error')
	  AND ((event = 'connect' AND daemon IN ('postscreen', 'smtpd'))
	    OR event IN ('postscreen_pass_old', 'postscreen_allowlist')
	    OR (event IN ('auth_success', 'auth_failure', 'disconnect', 'proxy_error')
	      AND daemon = 'dovecot' AND listener LIKE '%-login'))
),
-- END cte conn
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
lim(n) AS (
	SELECT CASE WHEN :limit > 0 THEN :limit ELSE -1 END
),
rows(ord, section, item, detail, count) AS (
	SELECT 1, 'connections', listener,
	    CASE max(proxied) WHEN 1 THEN 'proxied' WHEN 0 THEN 'stock' ELSE 'unknown' END,
	    sum(w)
	FROM conn GROUP BY listener
	UNION ALL
	SELECT 2, 'postscreen', substr(event, 12), NULL, count(*)
	FROM events
	WHERE event IN ('postscreen_pass_new', 'postscreen_pass_old', 'postscreen_pregreet',
	    'postscreen_hangup', 'postscreen_pipelining', 'postscreen_bare_newline',
	    'postscreen_non_smtp_command', 'postscreen_dnsbl', 'postscreen_denylist',
	    'postscreen_allowlist', 'postscreen_allowlist_veto', 'postscreen_command_limit',
	    'postscreen_data_without_rcpt')
	  AND ts >= coalesce(:from, -9e18) AND ts < coalesce(:to, 9e18)
	GROUP BY event
	UNION ALL
	SELECT 3, 'auth', protocol, 'failures', sum(n) FROM authfail GROUP BY protocol
	UNION ALL
	SELECT 3, 'auth', 'smtp', 'successes',
	    coalesce(sum(CAST(substr(json_extract(stats, '$.auth'), 1,
	        instr(json_extract(stats, '$.auth') || '/', '/') - 1) AS INTEGER)), 0)
	FROM events WHERE event = 'disconnect' AND daemon = 'smtpd'
	  AND ts >= coalesce(:from, -9e18) AND ts < coalesce(:to, 9e18)
	HAVING count(*) > 0
	UNION ALL
	SELECT 3, 'auth', replace(listener, '-login', ''), 'successes', count(*)
	FROM events WHERE event = 'auth_success' AND daemon = 'dovecot'
	  AND ts >= coalesce(:from, -9e18) AND ts < coalesce(:to, 9e18)
	GROUP BY listener
	UNION ALL
	SELECT * FROM (
		SELECT 4, 'rejects', reply,
		    CASE WHEN reason LIKE '<%>: %' THEN substr(reason, instr(reason, '>: ') + 3)
		    ELSE reason END AS r,
		    count(*) AS c
		FROM events WHERE event = 'reject'
		  AND ts >= coalesce(:from, -9e18) AND ts < coalesce(:to, 9e18)
		GROUP BY reply, r ORDER BY c DESC, reply, r LIMIT (SELECT n FROM lim))
	UNION ALL
	SELECT 5, 'decisions', coalesce(rule, '(error)'),
	    action || CASE WHEN dry_run THEN ' (dry run)' ELSE '' END, count(*)
	FROM decisions
	WHERE ts >= coalesce(:from, -9e18) AND ts < coalesce(:to, 9e18)
	GROUP BY rule, action, dry_run
	UNION ALL
	SELECT 6, 'problems', event, listener, count(*)
	FROM events
	WHERE event IN ('proxy_error', 'fatal', 'process_exit', 'service_throttled', 'rate_limit',
	    'too_many_errors')
	  AND ts >= coalesce(:from, -9e18) AND ts < coalesce(:to, 9e18)
	GROUP BY event, listener
	UNION ALL
	SELECT * FROM (
		SELECT 7, 'top_clients', client_ip, 'connections', sum(w) AS c
		FROM conn WHERE client_ip IS NOT NULL
		GROUP BY client_ip HAVING c > 0 ORDER BY c DESC, client_ip LIMIT (SELECT n FROM lim))
	UNION ALL
	SELECT * FROM (
		SELECT 8, 'top_clients', client_ip, 'auth failures', sum(n) AS c
		FROM authfail WHERE client_ip IS NOT NULL
		GROUP BY client_ip ORDER BY c DESC, client_ip LIMIT (SELECT n FROM lim))
	UNION ALL
	SELECT * FROM (
		SELECT 9, 'top_users', user, 'auth failures', sum(n) AS c
		FROM authfail WHERE user IS NOT NULL
		GROUP BY user ORDER BY c DESC, user LIMIT (SELECT n FROM lim))
	UNION ALL
	SELECT * FROM (
		SELECT 10, 'top_users', user, 'logins', count(*) AS c
		FROM events WHERE event = 'auth_success' AND user IS NOT NULL
		  AND ts >= coalesce(:from, -9e18) AND ts < coalesce(:to, 9e18)
		GROUP BY user ORDER BY c DESC, user LIMIT (SELECT n FROM lim))
)
SELECT section, item, detail, count
FROM rows
ORDER BY ord, CASE WHEN section = 'auth' THEN item END, CASE WHEN section = 'auth' THEN detail END,
    count DESC, item, detail;
