#!/usr/bin/env bash
# compare.sh: the chat's live path beside a bare WebSocket hub, one after
# the other on this machine, with the same load tool and settings.
#
#   scripts/compare.sh                       # 1,000 connections; 50, 100 and 200 posts/s
#   RATES="100" DURATION=10s scripts/compare.sh
#   HTTP=1 scripts/compare.sh                # also the pages workload (chat only)
#
# Each post reaches the 1,000 connections of its room, so 100 posts/s
# offers 100,000 deliveries/s. The chat runs on a fresh SQLite file with
# its per-user limits out of the way.
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS=${CONNS:-1000}
RATES=${RATES:-"50 100 200"}
DURATION=${DURATION:-10s}
SENDERS=${SENDERS:-10}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

go build -o "$work/chat" .
go build -o "$work/barehub" ./cmd/barehub
go build -o "$work/chatload" ./cmd/chatload

wait_up() { # url
  for _ in $(seq 100); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "no answer from $1" >&2
  return 1
}

run() { # name rate
  local name=$1 rate=$2 pid
  if [ "$name" = chat ]; then
    rm -f "$work/chat.db"*
    "$work/chat" -addr 127.0.0.1:18181 -db "$work/chat.db" -post-limit 0 -room-limit 0 \
      -register-limit 0 -max-sockets 100000 >"$work/chat.log" 2>&1 &
  else
    "$work/barehub" -addr 127.0.0.1:18181 >"$work/hub.log" 2>&1 &
  fi
  pid=$!
  wait_up http://127.0.0.1:18181/healthz
  "$work/chatload" -url http://127.0.0.1:18181 -conns "$CONNS" -senders "$SENDERS" -rate "$rate" \
    -duration "$DURATION" -pid "$pid" -json "$work/$name-$rate.json" >"$work/$name-$rate.out"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

printf '%-8s %-12s %10s %10s %10s %9s %9s\n' server offered/s delivered/s p50_ms p99_ms missing doubled
for rate in $RATES; do
  for name in chat barehub; do
    run "$name" "$rate"
    python3 - "$work/$name-$rate.json" "$name" "$rate" "$CONNS" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"{sys.argv[2]:<8} {int(float(sys.argv[3]))*int(sys.argv[4]):<12} {r['deliveries_per_second']:>10.0f} {r['latency_p50_ms']:>10.1f} {r['latency_p99_ms']:>10.1f} {r['deliveries_missing']:>9} {r['deliveries_duplicated']:>9}")
PY
  done
done

if [ "${HTTP:-}" = 1 ]; then
  rm -f "$work/chat.db"*
  "$work/chat" -addr 127.0.0.1:18181 -db "$work/chat.db" -post-limit 0 -room-limit 0 -register-limit 0 >"$work/chat.log" 2>&1 &
  pid=$!
  wait_up http://127.0.0.1:18181/healthz
  "$work/chatload" -mode http -url http://127.0.0.1:18181
  kill "$pid"
fi
