-- NAME
--	listeners.sql - `mxledger report listeners`: is the PROXY path giving us real client addresses?
-- SYNOPSIS
--	sqlite3 -readonly \
--	    -cmd ".parameter set :internal \"'127.0.0.0/8,::1/128,10.0.0.0/8'\"" \
--	    -cmd ".parameter set :from \"unixepoch('now', '-1 day')\"" \
--	    -cmd ".mode column" /var/lib/mxledger/mxledger.db < listeners.sql
-- DESCRIPTION
--	One row per listener (Postfix syslog_name, Dovecot login service)
--	that had sessions, PROXY errors or fatal errors in the period:
--
--	  listener	syslog_name or Dovecot service
--	  proxied	1 behind a PROXY-protocol proxy, 0 not, NULL unknown
--	  connections	sessions (as in summary.sql)
--	  internal	of these, sessions whose client address lies in one of
--			the :internal networks: the proxy hops and health checks.
--			On a proxied listener these are sessions whose real
--			client address was lost
--	  internal_pct	internal as a percentage of connections, one decimal;
--			NULL without connections
--	  proxy_errors	proxy_error events: PROXY header errors and timeouts
--			(haproxy read:, getpeername, Dovecot haproxy:)
--	  fatals	fatal events of smtpd and postscreen (the PROXY-listener
--			crash of mxledger(8) CAVEATS among them)
--
--	Parameters: :internal, comma-separated networks in CIDR notation
--	(default '127.0.0.0/8,::1/128'); :from and :to (unix seconds,
--	from <= ts < to; unset = no bound).
-- SEE ALSO
--	mxledger(8) "report", sql/reports/summary.sql, sql/reports/ip.sql
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
nets(cidr, rest) AS (
	SELECT NULL, coalesce(:internal, '127.0.0.0/8,::1/128') || ','
	UNION ALL
	SELECT trim(substr(rest, 1, instr(rest, ',') - 1)), substr(rest, instr(rest, ',') + 1)
	FROM nets WHERE rest <> ''
),
ips(ip) AS (
	SELECT client_ip FROM conn WHERE client_ip IS NOT NULL
	UNION
	SELECT CASE WHEN instr(cidr, '/') THEN substr(cidr, 1, instr(cidr, '/') - 1) ELSE cidr END
	FROM nets WHERE cidr <> ''
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
-- BEGIN cte net
-- net(cidr, hex, bits): the networks of nets(cidr), prefix length counted in 128 bits
net(cidr, hex, bits) AS (
	SELECT n.cidr, a.hex,
	    CASE WHEN instr(n.cidr, '/') = 0 THEN 128
	    ELSE CAST(substr(n.cidr, instr(n.cidr, '/') + 1) AS INTEGER)
	        + CASE WHEN instr(n.cidr, ':') THEN 0 ELSE 96 END END
	FROM nets AS n JOIN addr AS a ON a.ip = CASE WHEN instr(n.cidr, '/')
	    THEN substr(n.cidr, 1, instr(n.cidr, '/') - 1) ELSE n.cidr END
	WHERE n.cidr <> ''
),
-- inside(ip): the addresses that lie in one of the networks
inside(ip) AS (
	SELECT DISTINCT a.ip FROM addr AS a JOIN net AS n
	ON substr(a.hex, 1, n.bits / 4) = substr(n.hex, 1, n.bits / 4)
	AND (n.bits % 4 = 0
	    OR (instr('0123456789abcdef', substr(a.hex, n.bits / 4 + 1, 1)) - 1) >> (4 - n.bits % 4)
	    = (instr('0123456789abcdef', substr(n.hex, n.bits / 4 + 1, 1)) - 1) >> (4 - n.bits % 4))
),
-- END cte net
sessions(listener, proxied, connections, internal) AS (
	SELECT listener, max(proxied), sum(w),
	    sum(CASE WHEN client_ip IN (SELECT ip FROM inside) THEN w ELSE 0 END)
	FROM conn GROUP BY listener
),
trouble(listener, proxied, proxy_errors, fatals) AS (
	SELECT listener, max(proxied), sum(event = 'proxy_error'), sum(event = 'fatal')
	FROM events
	WHERE ts >= coalesce(:from, -9e18) AND ts < coalesce(:to, 9e18)
	  AND (event = 'proxy_error' OR (event = 'fatal' AND daemon IN ('smtpd', 'postscreen')))
	GROUP BY listener
),
listeners(listener) AS (
	SELECT listener FROM sessions UNION SELECT listener FROM trouble
)
SELECT l.listener, coalesce(s.proxied, t.proxied) AS proxied,
    coalesce(s.connections, 0) AS connections, coalesce(s.internal, 0) AS internal,
    CASE WHEN s.connections > 0 THEN round(100.0 * s.internal / s.connections, 1) END
        AS internal_pct,
    coalesce(t.proxy_errors, 0) AS proxy_errors, coalesce(t.fatals, 0) AS fatals
FROM listeners AS l
LEFT JOIN sessions AS s ON s.listener IS l.listener
LEFT JOIN trouble AS t ON t.listener IS l.listener
ORDER BY l.listener IS NULL, l.listener;
