#!/bin/sh
# Regenerate the autotools build files: ./autogen.sh && ./configure && make
set -e
cd "$(dirname "$0")"
for t in autoreconf aclocal automake libtoolize pkg-config; do
	command -v "$t" >/dev/null 2>&1 || {
		echo "autogen.sh: $t is missing (apt-get install autoconf automake libtool pkg-config)" >&2
		exit 1
	}
done
[ -f /usr/share/aclocal/pkg.m4 ] || {
	echo "autogen.sh: pkg.m4 is missing (apt-get install pkg-config)" >&2
	exit 1
}
mkdir -p m4 build-aux
autoreconf -fi
