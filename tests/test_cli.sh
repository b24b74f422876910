#!/usr/bin/env bash
# test_cli.sh OPENDCA SOURCE_DIR: the command line as a user meets it.
#   --help / --version; "config check" on the example (exit 0) and on broken
#   files (exit 2, FILE:LINE naming the key); "run": starts, reloads on
#   SIGHUP (a broken file keeps the running configuration), stops on SIGTERM
#   within 2 s with exit code 0 and no dangling sockets.
set -u
opendca=$1
src=$2
tmp=$(mktemp -d /tmp/odc-cli-XXXXXX)
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT
passed=0 failed=0
check() { # check DESCRIPTION COMMAND...
    local what=$1; shift
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $what"; fi
}

"$opendca" --help >"$tmp/help" 2>&1; rc=$?
check "--help exits 0" [ $rc -eq 0 ]
check "--help lists run and config check" grep -q "config check FILE" "$tmp/help"
"$opendca" --version >"$tmp/version"; rc=$?
check "--version exits 0 and prints the version" [ $rc -eq 0 ]
check "--version format" grep -Eq '^opendca [0-9]+\.[0-9]+\.[0-9]+$' "$tmp/version"
"$opendca" frobnicate 2>"$tmp/err"; rc=$?
check "unknown command exits 2" [ $rc -eq 2 ]
check "unknown command is named" grep -q "unknown command 'frobnicate'" "$tmp/err"
"$opendca" run 2>/dev/null; rc=$?
check "run without -c exits 2" [ $rc -eq 2 ]

"$opendca" config check "$src/opendca.example.yaml" >"$tmp/out" 2>&1; rc=$?
check "example config is valid" [ $rc -eq 0 ]
[ $rc -eq 0 ] || cat "$tmp/out"

cat >"$tmp/wrong.yaml" <<'YAML'
collector:
  id: c1
snmp:
  timeout_ms: 500
  retires: 2
YAML
"$opendca" config check "$tmp/wrong.yaml" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "wrong key exits 2" [ $rc -eq 2 ]
check "wrong key reported as FILE:LINE with the key" \
    grep -q "^$tmp/wrong.yaml:5: key 'snmp.retires': unknown key (did you mean 'retries'?)" "$tmp/err"

cat >"$tmp/many.yaml" <<'YAML'
collector:
  id: c1
store:
  sync: perhaps
loops:
  alert: {in_hours: -1}
YAML
"$opendca" config check "$tmp/many.yaml" 2>"$tmp/err"; rc=$?
check "every error is reported" [ "$(grep -c "^$tmp/many.yaml:" "$tmp/err")" -eq 2 ]

# A routing rule that can never match: a code no alert has (the codes
# table), and a destination that does not exist (the file).
cat >"$tmp/rules.yaml" <<'YAML'
collector:
  id: c1
triage:
  rules:
    - codes: [jam, paper_jam_xyz]
      to: [portal]
YAML
"$opendca" config check "$tmp/rules.yaml" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "a rule with a code no alert has exits 2" [ $rc -eq 2 ]
check "the rule and its code are named" \
    grep -q "^$tmp/rules.yaml:5: key 'triage.rules\[0\]': can never match: no alert has the code 'paper_jam_xyz'" "$tmp/err"
printf 'collector:\n  id: c1\ntriage:\n  rules:\n    - to: [portal, helpdesk]\n' >"$tmp/rules2.yaml"
"$opendca" config check "$tmp/rules2.yaml" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "a rule naming a destination that does not exist exits 2, named" \
    grep -q "^$tmp/rules2.yaml:5: key 'triage.rules\[0\]': no destination named 'helpdesk'" "$tmp/err"

# run, reload, stop
state=$tmp/state
write_config() { # write_config LEVEL
    cat >"$tmp/run.yaml" <<YAML
collector:
  id: cli-test
log:
  level: $1
store:
  path: $state
  sync: false
YAML
}
write_config info
"$opendca" run -c "$tmp/run.yaml" 2>"$tmp/run.log" &
pid=$!
for _ in $(seq 50); do grep -q "running;" "$tmp/run.log" && break; sleep 0.1; done
check "run starts" grep -q "running;" "$tmp/run.log"
check "log lines carry actor, function and device" \
    grep -Eq '^[0-9T:.-]+Z info  \[supervisor\] s_run: device=- ' "$tmp/run.log"

write_config debug
kill -HUP $pid
for _ in $(seq 50); do grep -q "configuration reloaded" "$tmp/run.log" && break; sleep 0.1; done
check "SIGHUP reloads" grep -q "configuration reloaded" "$tmp/run.log"

echo "collector: [broken" >"$tmp/run.yaml"
kill -HUP $pid
for _ in $(seq 50); do grep -q "reload failed" "$tmp/run.log" && break; sleep 0.1; done
check "a broken file on SIGHUP is reported with its place" grep -q "run.yaml:.*YAML syntax error" "$tmp/run.log"
check "a broken file on SIGHUP keeps the running configuration" grep -q "reload failed; the running configuration stays" "$tmp/run.log"
check "still running after a failed reload" kill -0 $pid

# IMIL text with a newline: one log line, the newline escaped (issue 14).
write_config debug # the control socket is found through the file
"$opendca" imil $'frobnicate\n2026-01-01T00:00:00.000Z error [x] forged\x1b[2J' -c "$tmp/run.yaml" >"$tmp/imil.out" 2>&1
for _ in $(seq 50); do grep -q "forged" "$tmp/run.log" && break; sleep 0.1; done
check "a newline in a command does not forge a log line" bash -c "! grep -q '^2026-01-01T00:00:00.000Z error' '$tmp/run.log'"
check "the command is logged on one line, escaped" grep -qF "local command 'frobnicate\\n2026-01-01T00:00:00.000Z error [x] forged\\x1b[2J'" "$tmp/run.log"
check "IMIL's echo escapes it too" grep -qF "unknown command 'frobnicate\\n2026" "$tmp/imil.out"
check "no raw ESC in the log" bash -c "! grep -q $'\x1b' '$tmp/run.log'"

# SIGHUP with a 1,000,000-deep file: refused at once, and SIGTERM right
# after is prompt (the reload used to parse for minutes, SIGTERM behind it).
python3 -c "import sys; n=1000000; open(sys.argv[1],'w').write('collector:\n  id: c1\nx: ' + '['*n + ']'*n + '\n')" "$tmp/run.yaml"
kill -HUP $pid
for _ in $(seq 50); do grep -q "nested deeper than" "$tmp/run.log" && break; sleep 0.1; done
check "a 1,000,000-deep file on SIGHUP is refused with its place" grep -q "run.yaml:3: nested deeper than 32 levels" "$tmp/run.log"

start=$(date +%s%N)
kill -TERM $pid
wait $pid; rc=$?
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
pid=
check "SIGTERM: exit code 0 (was $rc)" [ $rc -eq 0 ]
check "SIGTERM: stopped within 2 s (took $elapsed_ms ms)" [ $elapsed_ms -lt 2000 ]
check "stopped cleanly" grep -q "stopped$" "$tmp/run.log"
check "no dangling sockets" bash -c "! grep -qi dangling '$tmp/run.log'"
check "the store was created" [ -f "$state/CURRENT" ]

# A store that another process holds: a clear error, exit 1.
"$opendca" run -c "$tmp/run.yaml" 2>"$tmp/err"; rc=$?
check "broken config at start exits 2" [ $rc -eq 2 ]
write_config info
# umask 000: the control socket is still the collector's alone (issue 14).
(umask 000; exec "$opendca" run -c "$tmp/run.yaml" 2>"$tmp/a.log") &
pid=$!
for _ in $(seq 50); do grep -q "running;" "$tmp/a.log" && break; sleep 0.1; done
check "under umask 000 the control socket is 0600 (is $(stat -c %a "$state/control"))" [ "$(stat -c %a "$state/control")" = 600 ]
if [ "$(id -u)" = 0 ] && command -v runuser >/dev/null; then
    chmod 755 "$tmp"
    runuser -u nobody -- "$opendca" imil status -c "$tmp/run.yaml" >/dev/null 2>"$tmp/nobody.err"; rc=$?
    check "another user is told permission denied, not 'no collector' (rc $rc)" \
        grep -q "permission denied on $state/control (run as the collector's user)" "$tmp/nobody.err"
    check "and exits 2" [ $rc -eq 2 ]
    chmod 700 "$tmp"
else
    echo "SKIP: the other-user check needs root and runuser"
fi
"$opendca" run -c "$tmp/run.yaml" 2>"$tmp/b.log"; rc=$?
check "a second collector on the same store exits 1" [ $rc -eq 1 ]
check "and says why" grep -q "cannot open the store.*lock" "$tmp/b.log"
kill -INT $pid; wait $pid; rc=$?; pid=
check "SIGINT: exit code 0" [ $rc -eq 0 ]

# Every command but "run" stops at once on SIGINT/SIGTERM (they used to be
# blocked for all: Ctrl-C and timeout did nothing). A silent address: a
# free port of the suite's band (tests/lib.sh).
. "$src/tests/lib.sh"
odc_ports 28 1 || exit 1
silent=127.0.0.1:$port_base
for sig in INT TERM; do
    start=$(date +%s%N)
    timeout -s KILL 15 timeout -s $sig 2 "$opendca" poll "$silent" --loop alert -r 10 -t 60000 >/dev/null 2>&1
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    check "poll -r 10 -t 60000 (11 minutes) stops on SIG$sig within 3.5 s (took $ms ms)" [ $ms -lt 3500 ]
    start=$(date +%s%N)
    timeout -s KILL 15 timeout -s $sig 2 "$opendca" discover 127.64.0.0/16 -q >/dev/null 2>&1
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    check "discover stops on SIG$sig within 3.5 s (took $ms ms)" [ $ms -lt 3500 ]
done

# Numeric options are whole numbers within their bounds (issue 14: "poll -r
# 1000000" retried for days, "-t abc" was a timeout of 0).
for bad in "-r 1000000:--retries 1000000: a whole number from 0 to 10" "-t abc:--timeout abc: a whole number from 10 to 60000" \
    "-t 5:--timeout 5: a whole number from 10" "-p 70000:--port 70000: a whole number from 1 to 65535" "-r -1:--retries -1:"; do
    "$opendca" poll "$silent" --loop alert ${bad%%:*} >/dev/null 2>"$tmp/num.err"; rc=$?
    check "poll ${bad%%:*} is refused with exit 2 (was $rc) and named" \
        bash -c "[ $rc -eq 2 ] && grep -qF -- '${bad#*:}' '$tmp/num.err'"
done
"$opendca" discover 127.0.0.1 --rate 10x >/dev/null 2>"$tmp/num.err"; rc=$?
check "discover --rate 10x is refused with exit 2 and named" \
    bash -c "[ $rc -eq 2 ] && grep -qF -- '--rate 10x: a whole number from 1 to 100000' '$tmp/num.err'"

timeout -s KILL 15 "$opendca" poll ::1 --loop alert -t 100 -r 0 >/dev/null 2>"$tmp/v6.err"; rc=$?
check "an IPv6 address is refused, exit 1, saying SNMP goes over IPv4 only" \
    bash -c "[ $rc -eq 1 ] && grep -q 'an IPv6 address; SNMP goes over IPv4 only' '$tmp/v6.err'"

# A sweep is bounded to 65,536 addresses unless forced (issue 14).
for t in 127.0.0.0/8 0.0.0.0-255.255.255.255 "127.65.0.0/16 127.66.0.0/24"; do
    timeout -s KILL 15 "$opendca" discover $t -q >/dev/null 2>"$tmp/big.err"; rc=$?
    check "discover $t is refused with exit 2 (was $rc)" [ $rc -eq 2 ]
    check "and says how many and --force" grep -q "more than 65536 (a /16) a sweep takes; give --force" "$tmp/big.err"
done
start=$(date +%s%N)
timeout -s KILL 15 timeout -s INT 2 "$opendca" discover 127.0.0.0/8 --force -q >/dev/null 2>&1; rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "discover --force takes a /8 (stopped by SIGINT after 2 s: rc $rc, $ms ms)" [ $rc -eq 124 -a $ms -lt 3500 ]

[ $failed -eq 0 ] || { echo "--- run.log"; cat "$tmp/run.log"; }
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
