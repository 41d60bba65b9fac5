#!/usr/bin/env bash
# Fuzz campaign (on demand, not part of ci/test.sh): every Fuzz target of
# the given packages, one at a time, each for FUZZTIME, with -parallel 1 so
# one core is enough. A crasher lands in <pkg>/testdata/fuzz/<Target>/ and
# stays there as a seed (commit it with the fix). FUZZING.md records runs.
#
#   bash ci/fuzz.sh                     # 10 min per target, the hub-side packages
#   FUZZTIME=2m bash ci/fuzz.sh ./sas   # shorter, one package
#
# Prints one line per target: package, target, execs, new corpus entries, result.
set -uo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"

fuzztime=${FUZZTIME:-10m}
pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=(./sas ./hub ./dps ./hubadmin)
mkdir -p reports/fuzz
status=0
for pkg in "${pkgs[@]}"; do
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$pkg"/*_test.go | sed 's/^func //' | sort -u); do
    log="reports/fuzz/$(basename "$pkg")-$target.log"
    corpus="$pkg/testdata/fuzz/$target"
    before=$(ls "$corpus" 2>/dev/null | wc -l)
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 10s -parallel 1 "$pkg" >"$log" 2>&1
    rc=$?
    after=$(ls "$corpus" 2>/dev/null | wc -l)
    last=$(grep -E '^fuzz: elapsed' "$log" | tail -n 1)
    execs=$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$last")
    interesting=$(sed -nE 's/.*new interesting: ([0-9]+).*/\1/p' <<<"$last")
    result=ok
    if [ $rc -ne 0 ] && [ "$after" -eq "$before" ] && grep -q 'context deadline exceeded' "$log"; then
      # Go 1.26's fuzz coordinator can report its own -fuzztime deadline as
      # a failure on a loaded machine (golang/go#75804, fixed in Go 1.27):
      # no input was written, so nothing was found.
      result="ok (coordinator deadline flake, golang/go#75804; no crasher)"
    elif [ $rc -ne 0 ]; then
      result="FAILED (see $log; crasher in $corpus)"
      status=1
    fi
    printf '%-12s %-24s execs %-10s new-interesting %-5s %s\n' "$pkg" "$target" "${execs:-?}" "${interesting:-?}" "$result"
  done
done
exit $status
