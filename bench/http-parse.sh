#!/usr/bin/env bash
# Measures liftoff's HTTP/1.1 request parser against libhttp-parser (the
# parser Debian ships as libhttp-parser-dev) on the same request heads, and
# prints how each treats malformed and smuggling-prone requests.
# Run by `make bench-http-parse`; ITERATIONS overrides the count per round.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f /usr/include/http_parser.h ]; then
  echo "bench-http-parse: libhttp-parser-dev is missing (make deps installs it)" >&2
  exit 2
fi
out=$(mktemp -d "${TMPDIR:-/tmp}/liftoff-bench-http.XXXXXX")
trap 'rm -rf "$out"' EXIT
cc=${CC:-cc}
flags=(-std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -Ilib)
"$cc" "${flags[@]}" -o "$out/bench-http-parse" bench/http_parse.c \
  lib/http_parse.c lib/http_body.c lib/http_names.c -lhttp_parser
"$out/bench-http-parse" "${ITERATIONS:-2000000}"
