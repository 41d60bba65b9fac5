#!/usr/bin/env bash
# Soak test (on demand, not part of ci/test.sh): hub devices connect,
# publish, receive C2D and are disabled/re-enabled for SOAK_DURATION
# (default 1h) on loopback while silent connections hit the connect
# deadline; fds, goroutines and RSS are sampled every SOAK_SAMPLE (30s).
#
#   bash ci/soak.sh                        # 1 hour
#   SOAK_DURATION=5m bash ci/soak.sh       # shorter
#
# Samples go to the log and to reports/soak.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"
mkdir -p reports
export SOAK_REPORT="$PWD/reports/soak.csv"
go test -tags soak -run '^TestSoak$' -count=1 -timeout 0 -v ./hub 2>&1 | tee reports/soak.txt
