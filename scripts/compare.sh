#!/usr/bin/env bash
# compare.sh: the chat beside a bare WebSocket hub (cmd/barehub, the same
# WebSocket library, no accounts, no storage, no pages), one after the
# other on this machine, with the same load tool and settings. It prints
# one side-by-side table; with OUT it also writes the table and every
# run's raw output to that file (the dated results under docs/bench/).
#
#   scripts/compare.sh
#   OUT=docs/bench/$(date +%F)-compare.md scripts/compare.sh
#   RATES="100" DURATION=30s IDLE=0 HTTP=0 scripts/compare.sh
#
# What it runs, each server started afresh for each row:
#   - live delivery: CONNS (1,000) sockets in one room, SENDERS (10)
#     posting at each of RATES posts/s for DURATION; each post reaches
#     every connection, so 100 posts/s offers 100,000 deliveries/s;
#   - the chat's event streams (the fallback transport) at SSE_RATE
#     posts/s, beside its sockets at the same rate;
#   - memory per idle connection with IDLE (10,000) connections, measured
#     on a server started after the sign-ups, so that their password
#     hashing is not in the figure;
#   - with HTTP=1, the pages workload (chatload -mode http; the bare hub
#     has no pages).
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS=${CONNS:-1000}
RATES=${RATES:-"50 100 200 250"}
DURATION=${DURATION:-10s}
SENDERS=${SENDERS:-10}
SSE_RATE=${SSE_RATE:-100}
IDLE=${IDLE:-10000}
HTTP=${HTTP:-1}
ADDR=127.0.0.1:18181
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
# Each idle connection is an open file at both ends.
ulimit -n "$(ulimit -Hn)"

go build -o "$work/chat" .
go build -o "$work/barehub" ./cmd/barehub
go build -o "$work/chatload" ./cmd/chatload

wait_up() { # url
  for _ in $(seq 200); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "no answer from $1" >&2
  return 1
}

pid=
start() { # chat|barehub [keep]: a fresh server, its database removed unless keep
  if [ "$1" = chat ]; then
    [ "${2:-}" = keep ] || rm -f "$work/chat.db"*
    "$work/chat" -addr "$ADDR" -db "$work/chat.db" -post-limit 0 -room-limit 0 \
      -register-limit 0 -max-sockets 100000 -log-level warn >>"$work/chat.log" 2>&1 &
  else
    "$work/barehub" -addr "$ADDR" >>"$work/hub.log" 2>&1 &
  fi
  pid=$!
  wait_up "http://$ADDR/healthz"
}

stop() {
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}

load() { # name label chatload-args...: one run, its JSON kept as name-label.json
  local name=$1 label=$2
  shift 2
  echo "== $name $label: chatload $*" >>"$work/raw.txt"
  "$work/chatload" -url "http://$ADDR" -pid "$pid" -json "$work/$name-$label.json" "$@" >>"$work/raw.txt" 2>&1
}

uptime_before=$(uptime)

for rate in $RATES; do
  for name in chat barehub; do
    start "$name"
    load "$name" "ws-$rate" -conns "$CONNS" -senders "$SENDERS" -rate "$rate" -duration "$DURATION"
    stop
  done
done

if [ "$SSE_RATE" != 0 ]; then
  for transport in ws sse; do
    start chat
    load chat "$transport-sse$SSE_RATE" -transport "$transport" -conns "$CONNS" -senders "$SENDERS" \
      -rate "$SSE_RATE" -duration "$DURATION"
    stop
  done
fi

if [ "$IDLE" != 0 ]; then
  for name in chat barehub; do
    rm -f "$work/accounts.json" "$work/chat.db"*
    start "$name"
    load "$name" signup -users 100 -conns 100 -rate 1 -duration 1s -accounts "$work/accounts.json"
    stop
    start "$name" keep
    load "$name" idle -users 100 -conns "$IDLE" -senders 1 -rate 1 -duration 5s -accounts "$work/accounts.json"
    stop
  done
fi

if [ "$HTTP" = 1 ]; then
  start chat
  echo "== chat pages: chatload -mode http" >>"$work/raw.txt"
  "$work/chatload" -mode http -url "http://$ADDR" -pid "$pid" -json "$work/chat-http.json" >>"$work/raw.txt" 2>&1
  stop
fi

uptime_after=$(uptime)

python3 - "$work" "$CONNS" "$RATES" "$SSE_RATE" "$IDLE" >"$work/table.md" <<'PY'
import json, os, sys
work, conns, rates, sse_rate, idle = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4], int(sys.argv[5])

def get(name):
    path = os.path.join(work, name + ".json")
    return json.load(open(path)) if os.path.exists(path) else None

def live(r):
    if r is None:
        return "failed"
    return (f"p50 {r['latency_p50_ms']:.1f} ms, p99 {r['latency_p99_ms']:.1f} ms; "
            f"{r['deliveries_per_second']:,.0f}/s delivered; "
            f"missing {r['deliveries_missing']:,}, doubled {r['deliveries_duplicated']:,}")

print(f"Live delivery: {conns:,} connections in one room.\n")
print("| offered deliveries/s | chat | bare hub |")
print("|---|---|---|")
for rate in rates:
    offered = int(float(rate) * conns)
    print(f"| {offered:,} | {live(get('chat-ws-' + rate))} | {live(get('barehub-ws-' + rate))} |")

if sse_rate != "0":
    ws, sse = get(f"chat-ws-sse{sse_rate}"), get(f"chat-sse-sse{sse_rate}")
    print(f"\nThe chat's transports at {sse_rate} posts/s ({int(float(sse_rate) * conns):,} deliveries/s):\n")
    print("| transport | result |")
    print("|---|---|")
    print(f"| WebSocket | {live(ws)} |")
    print(f"| event stream | {live(sse)} |")
    if ws and sse and ws["latency_p99_ms"] > 0:
        print(f"\nEvent stream p99 / WebSocket p99 = {sse['latency_p99_ms'] / ws['latency_p99_ms']:.2f}")

if idle:
    print(f"\nMemory per idle connection, {idle:,} connections:\n")
    print("| server | connections held | RSS before → connected | per connection |")
    print("|---|---|---|---|")
    for name, label in (("chat", "chat"), ("barehub", "bare hub")):
        r = get(name + "-idle")
        if r is None:
            print(f"| {label} | failed | | |")
            continue
        print(f"| {label} | {r['connections_held']:,} | {r['rss_before_kib']:,} → {r['rss_connected_kib']:,} KiB | {r['kib_per_connection']:.1f} KiB |")

h = get("chat-http")
if h:
    print("\nThe chat's pages (16 keep-alive clients, gzip, 8 s a route; the bare hub has no pages):\n")
    print("| route | requests/s | p50 | p99 | processor time per request | failed |")
    print("|---|---|---|---|---|---|")
    for r in h:
        lat = r.get("latency", {})  # nanoseconds
        cpu = r.get("cpu_per_request_ns")
        cpu = f"{cpu / 1e6:.3f} ms" if cpu else ""
        extra = ""
        if r.get("acknowledged"):
            extra = f" ({r['stored']:,} of {r['acknowledged']:,} acknowledged stored)"
        print(f"| {r['route']}{extra} | {r['per_second']:,.0f} | {lat.get('P50', 0) / 1e6:.1f} ms | {lat.get('P99', 0) / 1e6:.1f} ms | {cpu} | {r['failed']} |")
PY

cat "$work/table.md"
if [ -n "${OUT:-}" ]; then
  {
    echo "# The chat beside a bare hub, $(date -u '+%F %H:%M UTC')"
    echo
    echo "Command: \`OUT=$OUT CONNS=$CONNS RATES=\"$RATES\" DURATION=$DURATION SENDERS=$SENDERS SSE_RATE=$SSE_RATE IDLE=$IDLE HTTP=$HTTP scripts/compare.sh\`"
    echo
    echo "- $(go version), $(nproc) cores, commit $(git rev-parse --short HEAD)"
    echo "- uptime before: $uptime_before"
    echo "- uptime after: $uptime_after"
    echo
    cat "$work/table.md"
    echo
    echo "## Raw output"
    echo
    echo '```'
    cat "$work/raw.txt"
    echo '```'
  } >"$OUT"
  echo "written to $OUT"
fi
