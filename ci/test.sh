#!/usr/bin/env bash
# Every test of modemsim: formatting, vet, and the whole suite (unit, fuzz
# seeds, benchmarks compiled, features) under the race detector. This is
# the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# Go lives in /usr/local/go on our machines; a login shell may not have it.
command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"

# Real tools some tests run, from Debian: openssl checks %KEYGEN CSRs the way
# users do; pyserial (python3-serial) lists ports the way nrfcredstore 2.x
# does. Install what is missing where we may; the tests skip without them.
need=()
command -v openssl >/dev/null 2>&1 || need+=(openssl)
/usr/bin/python3 -c 'import serial.tools.list_ports' >/dev/null 2>&1 || need+=(python3-serial)
# Node and npm run the official Azure service SDKs against the service API
# (serviceapi: npm ci installs the versions pinned in its package-lock.json);
# the system CA bundle is what the system-store-plus-roots.pem tests combine.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
[ -f /etc/ssl/certs/ca-certificates.crt ] || need+=(ca-certificates)
# Headless Chromium loads the web console (webconsole's browser test).
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  { apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; } || echo "ci: could not install ${need[*]}; their tests will skip" >&2
fi

if command -v npm >/dev/null 2>&1 && [ ! -d serviceapi/testdata/node/node_modules ]; then
  (cd serviceapi/testdata/node && npm ci --no-audit --no-fund >/dev/null) || echo "ci: npm ci failed; the Node SDK tests will skip" >&2
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
