#!/usr/bin/env bash
# Benchmarks the dnsgslb server against gdnsd (geoip plugin) with dnsperf on
# loopback: the same zone, the same GeoIP database, the same query mix of
# geo names with IPv4 and IPv6 ECS from three continents. Each server runs
# pinned to CPU0 (the Go server with GOMAXPROCS=1), dnsperf to CPU1.
#
# The Go server runs twice: in its default configuration (what `anyctl dns`
# runs without flags: a UDP worker blocking in recvmmsg, GOMAXPROCS raised
# to leave a processor for the rest) and with netpoller UDP workers
# (-udp-mode netpoller).
#
# Per server it reports: saturated QPS with under 0.1% of queries lost, the
# server's CPU share while saturated, CPU microseconds per query at a fixed
# rate (from /proc/PID/stat ticks), p50/p99 latency at that rate, and the
# ratios to gdnsd. The servers are measured in turn, ROUNDS times, and each
# figure is the median of its rounds: one round moves by more than the
# margins between the servers when anything else wakes on the machine.
#
#   bench/dns.sh                 # DURATION=10 FIXED_QPS=20000 ROUNDS=3 by default
#   DURATION=5 ROUNDS=5 bench/dns.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
FIXED_QPS=${FIXED_QPS:-20000}
ROUNDS=${ROUNDS:-3}
NAME=dns.sh
. bench/lib/dnsbench.sh

need=()
command -v dnsperf >/dev/null || need+=(dnsperf)
command -v gdnsd >/dev/null || [ -x /usr/sbin/gdnsd ] || need+=(gdnsd)
install_missing "${need[@]}"
GDNSD=$(command -v gdnsd || echo /usr/sbin/gdnsd)

WORK=$(mktemp -d)
trap stop_servers EXIT
ANY_PORT=$(free_port)
BLOCK_PORT=$(free_port)
GDNSD_PORT=$(free_port)

go build -o "$WORK/dnsserve" ./bench/cmd/dnsserve
go run ./bench/cmd/benchgen -out "$WORK" -gdnsd-port "$GDNSD_PORT" -queries 50000

mkdir -p /run/gdnsd
GOMAXPROCS=1 taskset -c 0 "$WORK/dnsserve" -listen "127.0.0.1:$ANY_PORT" -snapshot "$WORK/snapshot.pb" -geoip "$WORK/city.mmdb" \
  2>"$WORK/dnsserve.log" &
PIDS+=($!)
ANY_PID=$!
GOMAXPROCS=1 taskset -c 0 "$WORK/dnsserve" -udp-mode netpoller -listen "127.0.0.1:$BLOCK_PORT" -snapshot "$WORK/snapshot.pb" -geoip "$WORK/city.mmdb" \
  2>"$WORK/dnsserve-netpoller.log" &
PIDS+=($!)
BLOCK_PID=$!
taskset -c 0 "$GDNSD" -c "$WORK/gdnsd" start 2>"$WORK/gdnsd.log" &
PIDS+=($!)
GDNSD_PID=$!

echo "dns.sh: ${DURATION}s per run, fixed rate ${FIXED_QPS} QPS, ${ROUNDS} rounds, dnsperf $(dnsperf -h 2>&1 | awk '/^Version/ {print $2}'), gdnsd $("$GDNSD" -h 2>&1 | awk '/version/ {print $3; exit}')" >&2
measure_rounds "anyctl-default $ANY_PORT $ANY_PID" "anyctl-netpoller $BLOCK_PORT $BLOCK_PID" "gdnsd $GDNSD_PORT $GDNSD_PID"
any=$(median anyctl-default)
blk=$(median anyctl-netpoller)
ref=$(median gdnsd)
table "$any" "$blk" "$ref"
echo
ratio "$any" "$ref"
ratio "$blk" "$ref"
