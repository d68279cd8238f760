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
# Both servers and the load tool share this machine's cores, and other
# programs on the host move the figures from run to run; so each live row
# is run REPEAT (3) times, the chat and the hub taking turns, and the table
# gives the median run with every run's p99 beside it, and how busy the
# machine's cores were.
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
REPEAT=${REPEAT:-3}
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
  for round in $(seq "$REPEAT"); do
    for name in chat barehub; do
      start "$name"
      load "$name" "ws-$rate-$round" -conns "$CONNS" -senders "$SENDERS" -rate "$rate" -duration "$DURATION"
      stop
    done
  done
done

if [ "$SSE_RATE" != 0 ]; then
  for round in $(seq "$REPEAT"); do
    for transport in ws sse; do
      start chat
      load chat "$transport-sse$SSE_RATE-$round" -transport "$transport" -conns "$CONNS" -senders "$SENDERS" \
        -rate "$SSE_RATE" -duration "$DURATION"
      stop
    done
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

python3 - "$work" "$CONNS" "$RATES" "$SSE_RATE" "$IDLE" "$REPEAT" >"$work/table.md" <<'PY'
import json, os, sys
work, conns, rates, sse_rate, idle, repeat = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4], int(sys.argv[5]), int(sys.argv[6])

def get(name):
    path = os.path.join(work, name + ".json")
    return json.load(open(path)) if os.path.exists(path) else None

def live(r):
    if r is None:
        return "failed"
    return (f"p50 {r['latency_p50_ms']:.1f} ms, p99 {r['latency_p99_ms']:.1f} ms; "
            f"{r['deliveries_per_second']:,.0f}/s delivered; "
            f"missing {r['deliveries_missing']:,}, doubled {r['deliveries_duplicated']:,}")

def median_run(prefix):
    """The run of median p99 among the runs named prefix-1, prefix-2...,
    and every run's p99 (None for a failed run)."""
    runs = [get(f"{prefix}-{i}") for i in range(1, repeat + 1)]
    # A failed run ranks worst: it cannot make the median look better.
    ranked = sorted(runs, key=lambda r: r["latency_p99_ms"] if r else float("inf"))
    mid = ranked[(len(ranked) - 1) // 2] if ranked else None
    return mid, [r["latency_p99_ms"] if r else None for r in runs]

def cores(r):
    if r is None or not r.get("machine_busy_cores"):
        return ""
    return (f"; cores busy: server {r.get('server_cores', 0):.2f}, load tool {r.get('tool_cores', 0):.2f}, "
            f"machine {r['machine_busy_cores']:.2f} of {r.get('cores', 0)}, host steal {r.get('steal_cores', 0):.2f}")

print(f"Live delivery: {conns:,} connections in one room; the median of {repeat} runs by p99, "
      "the chat and the hub taking turns, and every run's p99 in order.\n")
print("| offered deliveries/s | chat | bare hub |")
print("|---|---|---|")
for rate in rates:
    offered = int(float(rate) * conns)
    cells = []
    for name in ("chat", "barehub"):
        mid, p99s = median_run(f"{name}-ws-{rate}")
        each = ", ".join("failed" if p is None else f"{p:.1f}" for p in p99s)
        cells.append(f"{live(mid)}{cores(mid)}; p99 of each run: {each} ms")
    print(f"| {offered:,} | {cells[0]} | {cells[1]} |")

if sse_rate != "0":
    print(f"\nThe chat's transports at {sse_rate} posts/s ({int(float(sse_rate) * conns):,} deliveries/s), "
          f"the median of {repeat} runs by p99, taking turns:\n")
    print("| transport | result |")
    print("|---|---|")
    (ws, ws_p99s), (sse, sse_p99s) = median_run(f"chat-ws-sse{sse_rate}"), median_run(f"chat-sse-sse{sse_rate}")
    for label, mid, p99s in (("WebSocket", ws, ws_p99s), ("event stream", sse, sse_p99s)):
        each = ", ".join("failed" if p is None else f"{p:.1f}" for p in p99s)
        print(f"| {label} | {live(mid)}{cores(mid)}; p99 of each run: {each} ms |")
    if ws and sse and ws["latency_p99_ms"] > 0:
        print(f"\nEvent stream p99 / WebSocket p99, medians = {sse['latency_p99_ms'] / ws['latency_p99_ms']:.2f}")

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
    echo "Command: \`OUT=$OUT CONNS=$CONNS RATES=\"$RATES\" REPEAT=$REPEAT DURATION=$DURATION SENDERS=$SENDERS SSE_RATE=$SSE_RATE IDLE=$IDLE HTTP=$HTTP scripts/compare.sh\`"
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
