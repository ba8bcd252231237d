# Shared helpers for integration tests (sourced).
SRCDIR=${SMSGW_SRCDIR:-.}
BUILDDIR=${SMSGW_BUILDDIR:-.}
SMSGWD=${SMSGWD:-$BUILDDIR/smsgwd}
SMSGWCTL=${SMSGWCTL:-$BUILDDIR/smsgwctl}
ATEMU=${ATEMU:-$BUILDDIR/atemu}
_fails=0
_checks=0
_tmpdirs=""

mktmp() {
	_d=$(mktemp -d /tmp/smsgw-it.XXXXXX)
	_tmpdirs="$_tmpdirs $_d"
	echo "$_d"
}
cleanup() {
	[ -n "${_pids:-}" ] && kill $_pids 2>/dev/null
	[ "$_fails" -eq 0 ] && for d in $_tmpdirs; do rm -rf "$d"; done
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; _fails=$((_fails + 1)); }
pass() { _checks=$((_checks + 1)); }
expect_eq() {
	if [ "$1" = "$2" ]; then pass; else fail "$3: got '$1', want '$2'"; fi
}
expect_match() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then pass
	else fail "$3: '$1' does not match '$2'"; fi
}
expect_file() { if [ -f "$1" ]; then pass; else fail "$2: no file $1"; fi; }
expect_dir() { if [ -d "$1" ]; then pass; else fail "$2: no dir $1"; fi; }
# wait_for "shell condition" seconds
wait_for() {
	_n=$(($2 * 20))
	while [ $_n -gt 0 ]; do
		eval "$1" && return 0
		sleep 0.05
		_n=$((_n - 1))
	done
	return 1
}
finish() {
	echo "$(basename "$0"): $_checks checks, $_fails failed"
	[ "$_fails" -eq 0 ]
}
