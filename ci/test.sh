#!/usr/bin/env bash
# Every test of modemsim: formatting, vet, and the whole suite (unit, fuzz
# seeds, benchmarks compiled, features) under the race detector. This is
# the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# Go lives in /usr/local/go on our machines; a login shell may not have it.
command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"

# openssl is used by one test (it checks %KEYGEN CSRs the way users do);
# install it where it is missing and we may.
if ! command -v openssl >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq openssl >/dev/null || echo "ci: could not install openssl; its test will skip" >&2
fi

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" >&2
  echo "$unformatted" >&2
  exit 1
fi

echo "== go vet"
go vet ./...

echo "== go test -race"
mkdir -p reports
export MODEMSIM_JUNIT="$PWD/reports/features.xml"
go test -race -count=1 -timeout 8m "$@" ./... 2>&1 | tee reports/go-test.txt
