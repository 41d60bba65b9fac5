#!/usr/bin/env bash
# Mutation testing (on demand, not part of ci/test.sh): gremlins 0.6 with
# its default mutators changes one line at a time and runs the package's
# tests; a mutant that no test notices "lives". Efficacy = killed /
# (killed + lived). Slow: minutes per package on two cores.
#
#   bash ci/mutation.sh                 # the packages issue 14 measured
#   bash ci/mutation.sh ./sas ./quota   # chosen packages
#   WORKERS=2 THRESHOLD=90 TIMEOUT_COEFFICIENT=20 bash ci/mutation.sh ./hub
#   EXCLUDE='(admin|connguard|emulator|front|options|reason|registry|tlsconf)\.go$|wsconn/' \
#     bash ci/mutation.sh ./hub          # hub auth and topics only (service.go, topics.go)
#
# Needs gremlins; installs v0.6.0 through the Go module proxy when missing.
# Prints each package's summary; the per-mutant lists (LIVED lines name
# file:line and mutator) are in reports/mutation/<pkg>.txt. With THRESHOLD
# set, a package below that efficacy fails the run. A mutant that makes a
# test wait for its own deadline shows as TIMED OUT (not counted in the
# efficacy); on a loaded machine raise TIMEOUT_COEFFICIENT (default 10).
set -uo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"
gremlins=$(command -v gremlins || echo "$(go env GOPATH)/bin/gremlins")
if [ ! -x "$gremlins" ]; then
  go install github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0 || { echo "mutation: cannot install gremlins" >&2; exit 2; }
fi

pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=(./sas ./dps ./hub ./hubadmin ./quota ./atomicfile ./atparser ./credstore ./nrf91modem ./modemkey)
workers=${WORKERS:-1}
mkdir -p reports/mutation
status=0
for pkg in "${pkgs[@]}"; do
  out="reports/mutation/$(basename "$pkg").txt"
  args=(unleash --workers "$workers" --timeout-coefficient "${TIMEOUT_COEFFICIENT:-10}" -S lct)
  [ -n "${THRESHOLD:-}" ] && args+=(--threshold-efficacy "$THRESHOLD")
  [ -n "${EXCLUDE:-}" ] && args+=(-E "$EXCLUDE")
  # gremlins takes a package directory; the module root must be the cwd.
  "$gremlins" "${args[@]}" "$pkg" >"$out" 2>&1
  rc=$?
  echo "== $pkg"
  grep -E 'Killed|Lived|Timed out|Not covered|Test efficacy|Mutator coverage' "$out" | sed 's/^/  /'
  [ $rc -eq 0 ] || { echo "  (gremlins exit $rc; see $out)"; status=1; }
done
exit $status
