#!/bin/sh
# The demo: runs smsgwd on a temporary state and spool with the sample
# config.  Usage: sh contrib/demo.sh BUILDDIR
set -eu
b=${1:-build}
t=$(mktemp -d /tmp/smsgwd-demo.XXXXXX)
trap 'kill $pid 2>/dev/null; rm -rf "$t"' EXIT
sed -e "s|/var/lib/smsgwd|$t/state|; s|/var/spool/smsgwd|$t/spool|" \
    -e "s|/run/smsgwd/|$t/|; s|\"smsgw\";|\"$(id -gn)\";|" \
    -e "s|/dev/ttyUSB0|$t/m1|" etc/smsgwd.conf > "$t/smsgwd.conf"
"$b/smsgwd" -n -f "$t/smsgwd.conf"
echo "demo: starting smsgwd (no modem attached yet: it waits for one)"
"$b/smsgwd" -d -f "$t/smsgwd.conf" &
pid=$!
sleep 2
kill -TERM $pid
wait $pid
echo "demo: smsgwd stopped cleanly"
