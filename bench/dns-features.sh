#!/usr/bin/env bash
# Measures what the DNS server's optional features cost on the answer path:
# server CPU microseconds per query at a fixed rate (dnsperf, loopback,
# the query mix of bench/dns.sh), with response rate limiting off and on,
# and dnstap query logging off, on for one query in 100, and on for every
# query (to a file). Each server runs alone, pinned to CPU0 with
# GOMAXPROCS=1 (as bench/dns.sh does); dnsperf runs on CPU1. Loopback is
# exempt from rate limiting, as in `anyctl dns`, so with RRL on every
# answer is still counted against its budget but none is limited.
#
#   bench/dns-features.sh        # DURATION=10 FIXED_QPS=20000 by default
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
FIXED_QPS=${FIXED_QPS:-20000}
HZ=$(getconf CLK_TCK)
command -v dnsperf >/dev/null || { echo "dns-features.sh: missing dnsperf (apt-get install dnsperf)" >&2; exit 1; }

WORK=$(mktemp -d)
PID=
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
go build -o "$WORK/dnsserve" ./bench/cmd/dnsserve
go run ./bench/cmd/benchgen -out "$WORK" -gdnsd-port 0 -queries 50000
printf 'www.gslb.example.com A\n' >"$WORK/ready.txt"
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# measure NAME ARGS... runs a server with ARGS and prints NAME, queries
# completed and CPU µs per query at FIXED_QPS.
measure() {
  local name=$1
  shift
  GOMAXPROCS=1 taskset -c 0 "$WORK/dnsserve" -listen "127.0.0.1:$PORT" -snapshot "$WORK/snapshot.pb" -geoip "$WORK/city.mmdb" "$@" \
    2>"$WORK/$name.log" &
  PID=$!
  for _ in $(seq 1 100); do
    dnsperf -s 127.0.0.1 -p "$PORT" -d "$WORK/ready.txt" -n 1 -t 1 2>/dev/null | grep -q 'Queries completed: *1 ' && break
    sleep 0.1
  done
  local k0 k1 done lost
  k0=$(ticks "$PID")
  taskset -c 1 dnsperf -s 127.0.0.1 -p "$PORT" -d "$WORK/queries.bin" -B -l "$DURATION" -Q "$FIXED_QPS" >"$WORK/$name.perf" 2>&1
  k1=$(ticks "$PID")
  done=$(awk '/Queries completed/ {print $3}' "$WORK/$name.perf")
  lost=$(awk '/Queries lost/ {print $3}' "$WORK/$name.perf")
  kill "$PID"
  wait "$PID" 2>/dev/null || true
  PID=
  awk -v n="$name" -v k="$((k1 - k0))" -v hz="$HZ" -v d="$done" -v l="$lost" \
    'BEGIN {printf "| %s | %d | %d | %.1f |\n", n, d, l, k * 1e6 / hz / d}'
}

echo "dns-features.sh: ${DURATION}s per run at ${FIXED_QPS} QPS; timings on a shared machine vary by 10% or more between runs" >&2
printf '| server | queries answered | lost | CPU µs/query @%s QPS |\n|---|---:|---:|---:|\n' "$FIXED_QPS"
measure rrl-off -rrl-rate 0
measure rrl-on
measure rrl-on+dnstap-1in100 -dnstap "$WORK/q100.dnstap" -dnstap-sample 100
measure rrl-on+dnstap-all -dnstap "$WORK/qall.dnstap"
measure rrl-off-again -rrl-rate 0
