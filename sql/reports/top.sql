-- NAME
--	top.sql - `mxledger report top`: the clients, networks or users with the most of something
-- SYNOPSIS
--	sqlite3 -readonly -cmd ".parameter set :by \"'auth-failures'\"" \
--	    -cmd ".parameter set :group \"'net'\"" -cmd ".parameter set :limit 20" \
--	    -cmd ".parameter set :from \"unixepoch('now', '-1 day')\"" \
--	    -cmd ".mode column" /var/lib/mxledger/mxledger.db < top.sql
-- DESCRIPTION
--	Ranks by :by, one of
--
--	  auth-failures	failed authentication attempts, each once (summary.sql)
--	  connections	sessions (summary.sql)
--	  rejects	reject events of smtpd and postscreen
--	  decisions	answers of the policy service that were recorded
--			(dry runs included)
--
--	grouped by :group, one of ip (the client address), net (its /24 for
--	IPv4, /64 for IPv6) or user (the login name; auth-failures and
--	decisions only, as connections and rejects have no user). Columns:
--
--	  key		the address, network or user
--	  count		how many
--	  first, last	RFC 3339 UTC times of the first and the last
--
--	Parameters: :by (default auth-failures), :group (default ip), :from
--	and :to (unix seconds, from <= ts < to; unset = no bound), :limit
--	(rows shown; unset or 0 = all).
--
--	Needs the decisions table (schema version 2); `mxledger report`
--	provides an empty one for older databases.
-- SEE ALSO
--	mxledger(8) "report", sql/reports/summary.sql
WITH RECURSIVE
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
m(ts, ip, user, n) AS (
	SELECT ts, client_ip, user, n FROM authfail
	WHERE coalesce(:by, 'auth-failures') = 'auth-failures'
	UNION ALL
	SELECT ts, client_ip, NULL, w FROM conn
	WHERE coalesce(:by, 'auth-failures') = 'connections'
	UNION ALL
	SELECT ts, client_ip, NULL, 1 FROM events
	WHERE coalesce(:by, 'auth-failures') = 'rejects' AND event = 'reject'
	  AND ts >= coalesce(:from, -9e18) AND ts < coalesce(:to, 9e18)
	UNION ALL
	SELECT ts, client_address, sasl_username, 1 FROM decisions
	WHERE coalesce(:by, 'auth-failures') = 'decisions'
	  AND ts >= coalesce(:from, -9e18) AND ts < coalesce(:to, 9e18)
),
ips(ip) AS (
	SELECT DISTINCT ip FROM m
	WHERE coalesce(:group, 'ip') = 'net' AND instr(ip, ':') AND instr(ip, '.') = 0
),
-- BEGIN cte addr
-- addr(ip, hex): each text of ips(ip) that is an IPv4 or IPv6 address, with its
-- value as 32 lower-case hex digits; IPv4 (also a dotted IPv6 tail) as ::ffff:a.b.c.d.
-- Dotted quads are taken apart in one pass, IPv6 group by group (recursive).
dq1(ip, o1, r) AS (
	SELECT ip, substr(ip, length(rtrim(ip, '0123456789.')) + 1, instr(
	    substr(ip, length(rtrim(ip, '0123456789.')) + 1), '.') - 1),
	    substr(substr(ip, length(rtrim(ip, '0123456789.')) + 1), instr(
	    substr(ip, length(rtrim(ip, '0123456789.')) + 1), '.') + 1)
	FROM ips WHERE instr(ip, '.') AND NOT ip GLOB '*[^0-9A-Fa-f:.]*'
),
dq2(ip, o1, o2, r) AS (
	SELECT ip, o1, substr(r, 1, instr(r, '.') - 1), substr(r, instr(r, '.') + 1) FROM dq1
),
dq3(ip, o1, o2, o3, o4) AS (
	SELECT ip, o1, o2, substr(r, 1, instr(r, '.') - 1), substr(r, instr(r, '.') + 1) FROM dq2
),
dq(ip, val) AS (
	SELECT ip, ((o1 * 256 + o2) * 256 + o3) * 256 + o4 FROM dq3
	WHERE o1 GLOB '[0-9]*' AND o2 GLOB '[0-9]*' AND o3 GLOB '[0-9]*' AND o4 GLOB '[0-9]*'
	  AND NOT o4 GLOB '*[^0-9]*' AND max(o1 + 0, o2 + 0, o3 + 0, o4 + 0) <= 255
	  AND length(o1) <= 3 AND length(o2) <= 3 AND length(o3) <= 3 AND length(o4) <= 3
),
v6z(ip, t) AS (
	SELECT ip, replace(CASE WHEN s LIKE '::%' THEN '0' || s ELSE s END
	    || CASE WHEN s LIKE '%::' THEN '0' ELSE '' END, '::', ':z:')
	FROM (
		SELECT ip, lower(ip) AS s FROM ips
		WHERE instr(ip, '.') = 0 AND instr(ip, ':') AND NOT ip GLOB '*[^0-9A-Fa-f:]*'
		UNION ALL
		SELECT ip, lower(rtrim(ip, '0123456789.'))
		    || printf('%04x:%04x', val >> 16, val & 65535)
		FROM dq WHERE instr(ip, ':'))
),
hx(ip, rest, acc, fill) AS (
	SELECT ip, t || ':', '', 4 * (9 - (length(t) - length(replace(t, ':', '')) + 1))
	FROM v6z
	UNION ALL
	SELECT ip, substr(rest, instr(rest, ':') + 1),
	    acc || CASE substr(rest, 1, instr(rest, ':') - 1)
	        WHEN 'z' THEN substr('00000000000000000000000000000000', 1, fill)
	        ELSE substr('0000' || substr(rest, 1, instr(rest, ':') - 1), -4) END,
	    fill
	FROM hx WHERE rest <> '' AND length(acc) < 32
),
addr(ip, hex) AS (
	SELECT ip, '00000000000000000000ffff' || printf('%08x', val) FROM dq
	WHERE instr(ip, ':') = 0
	UNION ALL
	SELECT ip, acc FROM hx WHERE rest = '' AND length(acc) = 32
),
-- END cte addr
keyed(key, ts, n) AS (
	SELECT CASE coalesce(:group, 'ip')
	    WHEN 'ip' THEN m.ip
	    WHEN 'user' THEN m.user
	    WHEN 'net' THEN CASE
	        WHEN instr(m.ip, '.') THEN rtrim(m.ip, '0123456789') || '0/24'
	        WHEN a.hex IS NULL THEN NULL
	        WHEN substr(a.hex, 1, 16) = '0000000000000000' THEN '::/64'
	        ELSE coalesce(nullif(ltrim(substr(a.hex, 1, 4), '0'), ''), '0')
	            || CASE WHEN substr(a.hex, 5, 12) = '000000000000' THEN '' ELSE ':'
	            || coalesce(nullif(ltrim(substr(a.hex, 5, 4), '0'), ''), '0')
	            || CASE WHEN substr(a.hex, 9, 8) = '00000000' THEN '' ELSE ':'
	            || coalesce(nullif(ltrim(substr(a.hex, 9, 4), '0'), ''), '0')
	            || CASE WHEN substr(a.hex, 13, 4) = '0000' THEN '' ELSE ':'
	            || coalesce(nullif(ltrim(substr(a.hex, 13, 4), '0'), ''), '0') END END END
	            || '::/64'
	        END
	    END, m.ts, m.n
	FROM m LEFT JOIN addr AS a ON a.ip = m.ip
)
SELECT key, sum(n) AS count,
    strftime('%Y-%m-%dT%H:%M:%SZ', min(ts), 'unixepoch') AS first,
    strftime('%Y-%m-%dT%H:%M:%SZ', max(ts), 'unixepoch') AS last
FROM keyed
WHERE key IS NOT NULL
GROUP BY key
HAVING count > 0
ORDER BY count DESC, key
LIMIT CASE WHEN :limit > 0 THEN :limit ELSE -1 END;
