#!/usr/bin/env bash
# Soak test (on demand, not part of ci/test.sh), two halves side by side
# for SOAK_DURATION (default 1h): hub devices connect, publish, receive C2D
# and are disabled/re-enabled on loopback while silent connections hit the
# connect deadline (./hub TestSoak); a simulator process with 8 boards has
# credentials written over its ptys and is SIGKILLed mid-write, over and
# over, each restart checking every slot (./cmd/modemsim TestBoardSoak).
# fds, goroutines/threads and RSS are sampled every SOAK_SAMPLE (30s).
#
#   bash ci/soak.sh                        # 1 hour
#   SOAK_DURATION=5m bash ci/soak.sh       # shorter
#
# Samples go to the logs and to reports/soak.csv and reports/soak-boards.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"
mkdir -p reports
export SOAK_REPORT="$PWD/reports/soak.csv" SOAK_BOARD_REPORT="$PWD/reports/soak-boards.csv"
go test -tags soak -run '^TestBoardSoak$' -count=1 -timeout 0 -v ./cmd/modemsim > reports/soak-boards.txt 2>&1 &
boards=$!
status=0
go test -tags soak -run '^TestSoak$' -count=1 -timeout 0 -v ./hub 2>&1 | tee reports/soak.txt || status=1
wait "$boards" || status=1
cat reports/soak-boards.txt
exit "$status"
