-- NAME
--	policy.sql - `mxledger report policy`: what the policy service answered, by rule
-- SYNOPSIS
--	sqlite3 -readonly -cmd ".parameter set :from \"unixepoch('now', '-7 days')\"" \
--	    -cmd ".mode column" /var/lib/mxledger/mxledger.db < policy.sql
-- DESCRIPTION
--	The recorded decisions of the policy service (the decisions table:
--	every answer of a rule other than DUNNO, every dry-run hit, every
--	internal error), one row per rule, action and mode, the most frequent
--	first:
--
--	  rule		the rule (mxledger.conf `rule NAME`); NULL for an
--			internal error
--	  action	the action sent to Postfix, or for a dry run the one it
--			would have sent
--	  mode		enforced (answered), dry-run (only recorded: mode warn)
--			or error (the fail-action was answered)
--	  decisions	how many
--	  clients	distinct client addresses
--	  first, last	RFC 3339 UTC times of the first and the last
--
--	Parameters: :from and :to (unix seconds, from <= ts < to; unset = no
--	bound); :limit (rows shown; unset or 0 = all).
--
--	Needs the decisions table (schema version 2); `mxledger report`
--	provides an empty one for older databases.
-- SEE ALSO
--	mxledger(8) "report", mxledger.conf(5) (rules), sql/schema.sql
SELECT rule, action,
    CASE WHEN error IS NOT NULL THEN 'error' WHEN dry_run THEN 'dry-run' ELSE 'enforced' END
        AS mode,
    count(*) AS decisions, count(DISTINCT client_address) AS clients,
    strftime('%Y-%m-%dT%H:%M:%SZ', min(ts), 'unixepoch') AS first,
    strftime('%Y-%m-%dT%H:%M:%SZ', max(ts), 'unixepoch') AS last
FROM decisions
WHERE ts >= coalesce(:from, -9e18) AND ts < coalesce(:to, 9e18)
GROUP BY rule, action, mode
ORDER BY decisions DESC, rule, action, mode
LIMIT CASE WHEN :limit > 0 THEN :limit ELSE -1 END;
