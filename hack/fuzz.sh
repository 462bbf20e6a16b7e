#!/usr/bin/env bash
# Builds every libFuzzer target fuzz/fuzz_*.c with clang (ASan + UBSan) and
# runs each for the given number of seconds (default 60) from its committed
# seed corpus fuzz/corpus/<target>/. With FUZZ_BUDGET set, that many seconds
# are shared evenly by all targets instead (at least 5 each), so adding a
# target does not lengthen `make test`. New inputs go to a scratch corpus, so the
# committed one only changes when someone copies an interesting input in.
# A crash leaves its input in fuzz/ and fails the run.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
seconds=${1:-60}
out=build-fuzz
mkdir -p "$out"
pkgs="libcurl jansson hiredis yaml-0.1 openssl libwebsockets"
# shellcheck disable=SC2086
pkg_flags=$(pkg-config --cflags --libs $pkgs)
passed=0 failed=0
shopt -s nullglob
targets=(fuzz/fuzz_*.c)
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no targets yet"
  echo "0 passed, 0 failed"
  exit 0
fi
if [ -n "${FUZZ_BUDGET:-}" ]; then
  seconds=$((FUZZ_BUDGET / ${#targets[@]}))
  [ "$seconds" -ge 5 ] || seconds=5
fi
# shellcheck disable=SC2054 # the commas belong to -fsanitize=
cflags=(-std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all)
# lib/ is compiled once (in parallel) into an archive every target links,
# instead of once per target.
rm -rf "${out:?}/lib" && mkdir -p "$out/lib"
# shellcheck disable=SC2086
pkg_cflags=$(pkg-config --cflags $pkgs)
export FUZZ_CFLAGS="${cflags[*]} $pkg_cflags" FUZZ_OBJ="$out/lib"
# shellcheck disable=SC2016 # expanded by the inner shell
if ! printf '%s\n' lib/*.c | xargs -P "$(nproc)" -I{} sh -c \
      'clang $FUZZ_CFLAGS -Ilib -c "$1" -o "$FUZZ_OBJ/$(basename "$1" .c).o"' _ {} ||
   ! ar rcs "$out/liblib.a" "$out"/lib/*.o; then
  echo "fuzz: lib/ does not build for fuzzing"
  echo "0 passed, ${#targets[@]} failed"
  exit 1
fi
for src in "${targets[@]}"; do
  name=$(basename "$src" .c)
  bin="$out/$name"
  # shellcheck disable=SC2086
  if ! clang "${cflags[@]}" -Ilib "$src" "$out/liblib.a" $pkg_flags -lm -o "$bin"; then
    echo "fuzz: $name does not build"; failed=$((failed + 1)); continue
  fi
  scratch=$(mktemp -d "${TMPDIR:-/tmp}/liftoff-$name.XXXXXX")
  seeds=fuzz/corpus/$name
  [ -d "$seeds" ] || seeds=
  echo "fuzz: $name for ${seconds}s"
  # shellcheck disable=SC2086
  if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix=fuzz/ "$scratch" $seeds >"$out/$name.log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$out/$name.log" | tail -n 2
    passed=$((passed + 1))
  else
    tail -n 40 "$out/$name.log"
    failed=$((failed + 1))
  fi
  rm -rf "$scratch"
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
