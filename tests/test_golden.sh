#!/usr/bin/env bash
# test_golden.sh OPENDCA FIXTURES: every real recording in FIXTURES
# (librenms/ and printmaster/), served by snmpsimd (a third-party agent),
# read by "opendca poll --loop L --json" for each of the five loops; the
# reading, rendered by tests/golden.py, must equal the recording's golden
# file tests/golden/NAME.golden, and "opendca analyse" reports the same
# facts (tests/analyse_check.py). Where LibreNMS's own parse of the recording
# (librenms/expected-json/NAME.json) gives a supply level or a counter, ours
# agrees, or the golden file's [librenms] section says why not.
#
# ODC_GOLDEN_UPDATE=1 writes the readings into the golden files instead
# (keeping their comments and [librenms] sections): review every change
# against the recording before committing it.
set -u
opendca=$1
fixtures=$2
here=$(cd "$(dirname "$0")" && pwd)
golden_dir=$here/golden
if [ ! -d "$fixtures/librenms" ]; then
    echo "SKIP: golden files: $fixtures not found (set ODC_FIXTURES to ../shared/fixtures/printers)"
    exit 0
fi
if ! command -v snmpsimd >/dev/null; then
    echo "SKIP: golden files: snmpsimd not installed (scripts/install-deps)"
    exit 0
fi
. "$here/lib.sh"
odc_test_setup golden

# snmpsimd serves a copy (in the temporary folder: the recordings are never
# copied into the project), one community per file, and refuses to run as root.
mkdir -p "$tmp/data" "$tmp/cache"
chmod 777 "$tmp/cache"
files=("$fixtures"/librenms/*.snmprec "$fixtures"/printmaster/*.snmprec)
for f in "${files[@]}"; do cp "$f" "$tmp/data/"; done
chmod -R a+rX "$tmp/data"
odc_ports 18 1 || exit 1
port=$port_base
snmpsimd --data-dir="$tmp/data" --agent-udpv4-endpoint=127.0.0.1:$port --cache-dir="$tmp/cache" \
    --process-user=nobody --process-group=nogroup >"$tmp/snmpsimd.log" 2>&1 &
snmpsimd=$!
pids+=($snmpsimd)
for _ in $(seq 300); do grep -q "Listening at" "$tmp/snmpsimd.log" && break; sleep 0.1; done
# Without an agent every read would wait out its timeout: say why and stop.
if ! kill -0 "$snmpsimd" 2>/dev/null || ! grep -q "Listening at" "$tmp/snmpsimd.log"; then
    echo "FAIL: snmpsimd did not start on 127.0.0.1:$port; its log:"
    sed 's/^/    /' "$tmp/snmpsimd.log" | tail -20
    exit 1
fi

for f in "${files[@]}"; do
    name=$(basename "$f" .snmprec)
    golden=$golden_dir/$name.golden
    out=$tmp/$name
    mkdir -p "$out"
    : >"$out/rendered"
    for loop in identity alert meter supply tray; do
        # Generous timeout: snmpsimd indexes a file the first time it is asked.
        if "$opendca" poll 127.0.0.1:$port --loop $loop -c "$name" -t 3000 -r 1 --json \
            >"$out/$loop.json" 2>"$out/$loop.err"; then
            python3 "$here/golden.py" render $loop <"$out/$loop.json" >>"$out/rendered" 2>>"$out/$loop.err"
        else
            echo "     $name $loop: $(cat "$out/$loop.err")"
            if ! kill -0 "$snmpsimd" 2>/dev/null; then
                echo "FAIL: snmpsimd stopped while serving $name; its log:"
                sed 's/^/    /' "$tmp/snmpsimd.log" | tail -20
                exit 1
            fi
            printf '[%s]\nno answer\n' $loop >>"$out/rendered"
        fi
    done
    if [ -n "${ODC_GOLDEN_UPDATE:-}" ]; then
        if [ -f "$golden" ]; then
            { sed -n '/^\[/q;p' "$golden"; cat "$out/rendered"; sed -n '/^\[librenms\]/,$p' "$golden"; } >"$tmp/new"
        else
            cp "$out/rendered" "$tmp/new"
        fi
        mv "$tmp/new" "$golden"
        echo "     wrote $golden"
        continue
    fi
    # The comparison leaves out comments and the [librenms] section.
    if [ ! -f "$golden" ]; then
        check "$name: has a golden file (tests/golden/$name.golden)" false
        continue
    fi
    sed -e '/^\[librenms\]/,$d' -e '/^#/d' "$golden" >"$out/expected"
    if diff -u "$out/expected" "$out/rendered" >"$out/diff"; then
        check "$name: every loop reads what the golden file states" true
    else
        check "$name: every loop reads what the golden file states" false
        head -40 "$out/diff"
    fi
    # "opendca analyse": its report of the same recording states the same
    # facts, and its findings and verdict follow from them.
    if "$opendca" analyse 127.0.0.1:$port -c "$name" -t 3000 -r 1 --json >"$out/analyse.json" \
        2>"$out/analyse.err"; then
        check "$name: opendca analyse reports what the golden file states" \
            python3 "$here/analyse_check.py" "$golden" "$out/analyse.json"
    else
        check "$name: opendca analyse answers ($(head -c 300 "$out/analyse.err"))" false
    fi
    expected=$fixtures/librenms/expected-json/$name.json
    if [ -f "$expected" ]; then
        echo "   $name against LibreNMS:"
        check "$name: agrees with LibreNMS or says why not" \
            python3 "$here/golden.py" librenms "$golden" "$expected" "$out"
    fi
done
odc_test_end
