#!/bin/sh
# One-command set-up for a fresh Debian 12 machine (run as root):
#   sh contrib/setup.sh demo    install what is missing, build, run the demo
#   sh contrib/setup.sh check   install what is missing, build, run every test
# Extra: "sanitize" builds in build-asan/ with ASan+UBSan and runs the tests.
set -eu
mode=${1:-demo}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

PKGS="build-essential autoconf automake libtool pkg-config
libserialport-dev libgammu-dev libsqlite3-dev sqlite3 libconfig-dev check
libjson-c-dev libunistring-dev libcurl4-openssl-dev libgcrypt20-dev
libssl-dev
python3 clang libclang-rt-14-dev"

# Tests also render the HTML report in headless Chromium.
case "$mode" in
check|sanitize) PKGS="$PKGS chromium" ;;
esac
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "setup: installing$missing"
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup: run as root (or install:$missing)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# The control group of the sample config (what `make install` would add).
if [ "$(id -u)" -eq 0 ] && ! getent group smsgw >/dev/null; then
	groupadd --system smsgw
fi

jobs=$(nproc 2>/dev/null || echo 2)
build() {
	dir=$1
	shift
	[ -x configure ] || ./autogen.sh >/dev/null
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ]; then
		(cd "$dir" && "$top/configure" -q "$@")
	fi
	make -s -C "$dir" -j"$jobs"
}

case "$mode" in
demo)
	build build
	exec sh contrib/demo.sh build
	;;
check)
	build build ${CI:+--enable-werror}
	make -s -C build -j"$jobs" check
	;;
sanitize)
	build build-asan --enable-sanitizers ${CI:+--enable-werror}
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		make -s -C build-asan -j"$jobs" check
	;;
fuzz)
	# Every parser's libFuzzer target, FUZZ_SECONDS each (default 60).
	build build-fuzz CC=clang --enable-fuzzer --enable-sanitizers
	for f in fuzz_reply fuzz_pdu fuzz_at_syntax fuzz_spool fuzz_conf; do
		echo "fuzz: $f for ${FUZZ_SECONDS:-60} s"
		mkdir -p "build-fuzz/corpus/$f"
		"build-fuzz/tests/fuzz/$f" -max_total_time="${FUZZ_SECONDS:-60}" \
			-print_final_stats=0 "build-fuzz/corpus/$f" \
			> "build-fuzz/$f.log" 2>&1 ||
			{ tail -40 "build-fuzz/$f.log"; exit 1; }
	done
	echo "fuzz: no crashes"
	;;
*)
	echo "usage: sh contrib/setup.sh demo|check|sanitize|fuzz" >&2
	exit 2
	;;
esac
