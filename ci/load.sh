#!/usr/bin/env bash
# Fleet run benchmark (on demand, not part of ci/test.sh): `modemsim load`
# at each board count, and its baseline measured in the same run: `modemsim
# run -c` of the same boards (nRF9160 DKs, at_client, fresh state) with no
# traffic, timed until it prints "boards serving", then stopped.
#
#   bash ci/load.sh                 # 100 and 1,000 boards
#   bash ci/load.sh 100             # only 100
#   LOAD_ARGS="-c fleet.yaml" bash ci/load.sh 1   # a fleet file instead of -n (the count is ignored)
#
# Each line: boards, load wall s, load peak RSS MiB, failed, the load run's
# board opening s, baseline wall s (process start to serving), baseline
# peak RSS MiB, and the wall and RSS ratios. Needs /usr/bin/time (GNU
# time) and jq; figures and logs go to reports/load/.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(100 1000)
out=reports/load
mkdir -p "$out"
bin=$(mktemp -d)/modemsim
go build -o "$bin" ./cmd/modemsim

rss_mib() { awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$1"; }
wall_s() { awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; printf "%.1f", s}' "$1"; }

printf '%s\n' "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
printf '%-7s %9s %9s %7s %9s %10s %10s %10s %10s\n' boards load_s load_MiB failed open_s base_s base_MiB wall_x rss_x
for n in "${counts[@]}"; do
  # Baseline: the same boards served with no traffic.
  state=$(mktemp -d)
  cat >"$state/fleet.yaml" <<YAML
boards:
  - name: "load-{{seq:4}}"
    count: $n
    persona: at_client
    hardware: {model: nrf9160}
YAML
  rm -f "$out/base-$n.out" # the background job truncates it only when it starts
  start=$(date +%s.%N)
  /usr/bin/time -v -o "$out/base-$n.time" "$bin" run -c "$state/fleet.yaml" --state "$state" >"$out/base-$n.out" 2>&1 &
  timer=$!
  until grep -q "boards serving" "$out/base-$n.out" 2>/dev/null; do
    kill -0 "$timer" 2>/dev/null || { echo "baseline of $n boards ended early: $(tail -n 3 "$out/base-$n.out")"; exit 1; }
    sleep 0.1
  done
  base_s=$(echo "$(date +%s.%N) - $start" | bc)
  kill -INT "$(pgrep -P "$timer")"
  wait "$timer" || true
  rm -rf "$state"

  # The fleet run.
  status=0
  /usr/bin/time -v -o "$out/load-$n.time" "$bin" load -n "$n" --json --progress lines ${LOAD_ARGS:-} \
    >"$out/load-$n.json" 2>"$out/load-$n.log" || status=$?
  failed=$(jq .failed "$out/load-$n.json")
  open_s=$(jq '.openSeconds * 10 | round / 10' "$out/load-$n.json")
  load_s=$(wall_s "$out/load-$n.time")
  load_mib=$(rss_mib "$out/load-$n.time")
  base_mib=$(rss_mib "$out/base-$n.time")
  printf '%-7s %9s %9s %7s %9s %10.1f %10s %10.1f %10.1f\n' "$n" "$load_s" "$load_mib" "$failed" "$open_s" "$base_s" "$base_mib" \
    "$(echo "$load_s / $base_s" | bc -l)" "$(echo "$load_mib / $base_mib" | bc -l)"
  [ "$status" -eq 0 ] || echo "  load of $n boards exited $status: see $out/load-$n.log"
done
