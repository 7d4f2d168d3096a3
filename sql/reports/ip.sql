-- NAME
--	ip.sql - `mxledger report ip ADDR|CIDR`: the timeline of one client
-- SYNOPSIS
--	sqlite3 -readonly -cmd ".parameter set :net \"'203.0.113.0/24'\"" \
--	    -cmd ".parameter set :from \"unixepoch('now', '-7 days')\"" \
--	    -cmd ".mode column" /var/lib/mxledger/mxledger.db < ip.sql
-- DESCRIPTION
--	Everything one client address, or every address of a network, did in
--	the period, oldest first: its postscreen verdicts, smtpd sessions,
--	rejects, SMTP and Dovecot logins and failures, PROXY errors, and the
--	answers the policy service gave it (the decisions table). Columns:
--
--	  time		RFC 3339 UTC, seconds
--	  client_ip	the address
--	  listener	syslog_name or Dovecot service; 'policy' for a decision
--	  event		the event kind (mxledger(8) EVENTS); 'decision' for a
--			policy answer
--	  user		SASL / login user; for a decision its sasl_username
--	  detail	what the line said: reply and reason of a reject, method
--			and reason (with the attempts) of a failed login, the disconnect
--			counters, the local end of a postscreen CONNECT; for a
--			decision 'RULE: ACTION' and ' (dry run)' or the error
--
--	Parameters: :net, an address as logged ('192.0.2.7', '2001:db8::1':
--	canonical, lower case; its IPv4-mapped form is found too) or a network
--	in CIDR notation ('192.0.2.0/24', '2001:db8::/32', '::/0' = all, IPv4
--	included as ::ffff:0:0/96); :from and :to (unix seconds,
--	from <= ts < to; unset = no bound); :limit, show only the last :limit
--	rows (unset or 0 = all).
--
--	Networks are matched in plain SQL: the `addr` step turns every
--	address text into its 128-bit value as 32 hex digits (IPv4 as
--	::ffff:a.b.c.d), the same in ip.sql, listeners.sql and top.sql.
--
--	Needs the decisions table (schema version 2); `mxledger report`
--	provides an empty one for older databases.
-- SEE ALSO
--	mxledger(8) "report", sql/schema.sql
WITH RECURSIVE
nets(cidr, rest) AS (
	SELECT NULL, coalesce(:net, '') || ','
	UNION ALL
	SELECT trim(substr(rest, 1, instr(rest, ',') - 1)), substr(rest, instr(rest, ',') + 1)
	FROM nets WHERE rest <> ''
),
-- ips: the texts to match: for a network every address of the period, for one
-- address itself (as logged: canonical, lower case) and its IPv4-mapped form
ips(ip) AS (
	SELECT client_ip FROM events
	WHERE instr(:net, '/') AND client_ip IS NOT NULL
	  AND ts >= coalesce(:from, -9e18) AND ts < coalesce(:to, 9e18)
	UNION
	SELECT client_address FROM decisions
	WHERE instr(:net, '/') AND client_address IS NOT NULL
	  AND ts >= coalesce(:from, -9e18) AND ts < coalesce(:to, 9e18)
	UNION
	SELECT CASE WHEN instr(cidr, '/') THEN substr(cidr, 1, instr(cidr, '/') - 1) ELSE cidr END
	FROM nets WHERE cidr <> ''
	UNION
	SELECT '::ffff:' || :net WHERE instr(:net, '/') = 0 AND instr(:net, '.')
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
timeline(ts, id, client_ip, listener, event, user, detail) AS (
	SELECT ts, id, client_ip, listener, event, user,
	    CASE
	    WHEN event IN ('reject', 'reject_warning') THEN trim(coalesce(reply, '') || ' '
	        || coalesce(stage || ': ', '') || coalesce(reason, ''))
	    WHEN event IN ('auth_failure', 'auth_success') THEN trim(coalesce(method || ': ', '')
	        || coalesce(reason, ''), ': ')
	    WHEN event = 'disconnect' AND stats IS NOT NULL THEN stats
	    WHEN event = 'connect' AND server_ip IS NOT NULL
	        THEN 'to ' || server_ip || coalesce(':' || server_port, '')
	    ELSE trim(coalesce(stage || ': ', '') || coalesce(reason, ''), ': ')
	    END
	FROM events
	WHERE client_ip IN (SELECT ip FROM inside)
	  AND ts >= coalesce(:from, -9e18) AND ts < coalesce(:to, 9e18)
	UNION ALL
	SELECT ts, id, client_address, 'policy', 'decision', sasl_username,
	    coalesce(rule || ': ', '') || action
	    || CASE WHEN dry_run THEN ' (dry run)' ELSE '' END
	    || coalesce(' (error: ' || error || ')', '')
	FROM decisions
	WHERE client_address IN (SELECT ip FROM inside)
	  AND ts >= coalesce(:from, -9e18) AND ts < coalesce(:to, 9e18)
),
shown AS (
	SELECT * FROM timeline ORDER BY ts DESC, event = 'decision' DESC, id DESC
	LIMIT CASE WHEN :limit > 0 THEN :limit ELSE -1 END
)
SELECT strftime('%Y-%m-%dT%H:%M:%SZ', ts, 'unixepoch') AS time, client_ip, listener, event,
    user, detail
FROM shown
ORDER BY ts, event = 'decision', id;
