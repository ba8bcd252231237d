#!/bin/sh
# Integration: smsgwd flags and config validation through the real binary.
set -u
. "${SMSGW_SRCDIR:-.}/tests/integration/lib.sh"

t=$(mktmp)
# The sample config is valid (the control group must exist).
sed -e "s|/var/lib/smsgwd|$t/state|; s|/var/spool/smsgwd|$t/spool|" \
    -e "s|/run/smsgwd/|$t/run/|; s|\"smsgw\";|\"$(id -gn)\";|" \
    "$SRCDIR/etc/smsgwd.conf" > "$t/ok.conf"
out=$("$SMSGWD" -n -f "$t/ok.conf" 2>&1); rc=$?
expect_eq "$rc" 0 "sample config exit"
expect_eq "$out" "configuration OK" "sample config output"

# Unknown key: FILE:LINE: message and exit 1.
printf 'state_dir = "%s";\nfoo = 1;\n' "$t/state" > "$t/bad1.conf"
out=$("$SMSGWD" -n -f "$t/bad1.conf" 2>&1); rc=$?
expect_eq "$rc" 1 "unknown key exit"
expect_match "$out" "^$t/bad1.conf:2: unknown key foo" "unknown key message"

# Out-of-range rate.
printf 'sampling = {\n  default_rate = 2.0;\n};\n' > "$t/bad2.conf"
out=$("$SMSGWD" -n -f "$t/bad2.conf" 2>&1); rc=$?
expect_eq "$rc" 1 "bad rate exit"
expect_match "$out" "^$t/bad2.conf:2: .*default_rate" "bad rate message"

# Missing control group is a config error.
sed "s|control_group = \"$(id -gn)\"|control_group = \"nogroup-xyz\"|" \
    "$t/ok.conf" > "$t/bad3.conf"
"$SMSGWD" -n -f "$t/bad3.conf" >/dev/null 2>&1; rc=$?
expect_eq "$rc" 1 "missing group exit"

# -V and bad flags.
out=$("$SMSGWD" -V); expect_match "$out" "^smsgwd " "version"
"$SMSGWD" -D nosuchmod -n -f "$t/ok.conf" >/dev/null 2>&1; rc=$?
expect_eq "$rc" 2 "bad -D exit"

# Start-up failure (state_dir not creatable) exits 2 with one line.
sed "s|$t/state|/etc/passwd/state|" "$t/ok.conf" > "$t/bad4.conf"
out=$("$SMSGWD" -d -f "$t/bad4.conf" 2>&1); rc=$?
expect_eq "$rc" 1 "uncreatable state_dir is a config error"

# The daemon starts, waits for its absent modem, and exits 0 on SIGTERM.
"$SMSGWD" -d -f "$t/ok.conf" 2> "$t/log" &
pid=$!
wait_for "grep -q 'started' '$t/log'" 5 || fail "daemon did not start"
expect_file "$t/state/smsgwd.db" "store created"
for d in tmp new done rejected; do expect_dir "$t/spool/$d" "spool/$d"; done
kill -TERM $pid; wait $pid; rc=$?
expect_eq "$rc" 0 "SIGTERM exit status"

finish
