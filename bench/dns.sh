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
# ratios to gdnsd. The CPU share while saturated is read over the middle of
# the run, without dnsperf's start and its wait for lost queries. The servers are measured in turn, ROUNDS times, and each
# figure is the median of its rounds: one round moves by more than the
# margins between the servers when anything else wakes on the machine.
#
#   bench/dns.sh                 # DURATION=10 FIXED_QPS=20000 ROUNDS=3 by default
#   DURATION=5 ROUNDS=5 bench/dns.sh
#   BASELINE=main NETPOLLER=0 bench/dns.sh  # also the default server built
#                                           # from that revision; no netpoller
#   MODES=blocking NETPOLLER=0 bench/dns.sh # also the server in each
#                                           # -udp-mode listed
#   SPREAD=1 NETPOLLER=0 bench/dns.sh       # every server and dnsperf on
#                                           # every CPU (below)
#   RATES="20000 60000 100000" NETPOLLER=0 bench/dns.sh
#                                           # then CPU per query, p50 and p99
#                                           # at each offered rate (dnsperf -Q,
#                                           # 2,000 outstanding), ROUNDS each
#
# With SPREAD=1 the servers run as they run on a machine of many cores:
# on every CPU, the Go server with GOMAXPROCS unset (so a UDP worker and a
# socket per CPU, its default), gdnsd with a UDP thread and a socket per CPU;
# dnsperf shares the CPUs with them, with a thread per CPU and 32 sockets,
# so that SO_REUSEPORT spreads the queries over every server socket.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
NETPOLLER=${NETPOLLER:-1}
MODES=${MODES:-}
BASELINE=${BASELINE:-}
FIXED_QPS=${FIXED_QPS:-20000}
ROUNDS=${ROUNDS:-3}
SPREAD=${SPREAD:-0}
RATES=${RATES:-}
NAME=dns.sh
CPUS=$(nproc)
SERVER_CPUS=0
if [ "$SPREAD" != 0 ]; then
  SERVER_CPUS=0-$((CPUS - 1))
  DNSPERF_CPUS=$SERVER_CPUS
  DNSPERF_ARGS="-T $CPUS -c 32"
fi
. bench/lib/dnsbench.sh
if [ "$DURATION" -lt 3 ]; then
  echo "dns.sh: DURATION=$DURATION: want 3 seconds or more (the CPU share skips the first and the last second)" >&2
  exit 2
fi

need=()
command -v dnsperf >/dev/null || need+=(dnsperf)
command -v gdnsd >/dev/null || [ -x /usr/sbin/gdnsd ] || need+=(gdnsd)
install_missing "${need[@]}"
GDNSD=$(command -v gdnsd || echo /usr/sbin/gdnsd)

WORK=$(mktemp -d)
trap stop_servers EXIT
GDNSD_PORT=$(free_port)

go build -o "$WORK/dnsserve" ./bench/cmd/dnsserve
if [ -n "$BASELINE" ]; then
  mkdir "$WORK/baseline"
  git archive "$BASELINE" | tar -x -C "$WORK/baseline"
  (cd "$WORK/baseline" && go build -o "$WORK/dnsserve-baseline" ./bench/cmd/dnsserve)
fi
GDNSD_THREADS=1
[ "$SPREAD" = 0 ] || GDNSD_THREADS=$CPUS
go run ./bench/cmd/benchgen -out "$WORK" -gdnsd-port "$GDNSD_PORT" -gdnsd-udp-threads "$GDNSD_THREADS" -queries 50000

# SERVERS lists the servers measured, each "name port pid".
SERVERS=()
# serve NAME BINARY ARGS... starts a Go server pinned to CPU0 with
# GOMAXPROCS=1, or with SPREAD on every CPU with GOMAXPROCS unset.
serve() {
  local name=$1 bin=$2 port procs=(env GOMAXPROCS=1)
  shift 2
  port=$(free_port)
  [ "$SPREAD" = 0 ] || procs=(env -u GOMAXPROCS)
  "${procs[@]}" taskset -c "$SERVER_CPUS" "$bin" "$@" -listen "127.0.0.1:$port" -snapshot "$WORK/snapshot.pb" -geoip "$WORK/city.mmdb" \
    2>"$WORK/$name.log" &
  PIDS+=($!)
  SERVERS+=("$name $port $!")
}

mkdir -p /run/gdnsd
serve anyctl-default "$WORK/dnsserve"
if [ "$NETPOLLER" != 0 ]; then
  serve anyctl-netpoller "$WORK/dnsserve" -udp-mode netpoller
fi
for mode in $MODES; do
  serve "anyctl-$mode" "$WORK/dnsserve" -udp-mode "$mode"
done
if [ -n "$BASELINE" ]; then
  serve anyctl-baseline "$WORK/dnsserve-baseline"
fi
taskset -c "$SERVER_CPUS" "$GDNSD" -c "$WORK/gdnsd" start 2>"$WORK/gdnsd.log" &
PIDS+=($!)
SERVERS+=("gdnsd $GDNSD_PORT $!")
for srv in "${SERVERS[@]}"; do
  read -r name port _ <<<"$srv"
  if ! wait_ready "$port"; then
    echo "dns.sh: $name did not start (is another gdnsd running?):" >&2
    tail -5 "$WORK/$name.log" >&2
    exit 1
  fi
done
# Every Go server must answer the queries as gdnsd does (answers, TTLs,
# ECS scopes) before anything is timed.
go build -o "$WORK/dnscompare" ./bench/cmd/dnscompare
for srv in "${SERVERS[@]}"; do
  read -r name port _ <<<"$srv"
  [ "$name" = gdnsd ] && continue
  if ! "$WORK/dnscompare" -a "127.0.0.1:$GDNSD_PORT" -b "127.0.0.1:$port" -queries "$WORK/queries.bin" -n 10000 >"$WORK/compare-$name.txt"; then
    echo "dns.sh: $name does not answer as gdnsd does:" >&2
    cat "$WORK/compare-$name.txt" >&2
    exit 1
  fi
  tail -1 "$WORK/compare-$name.txt" >&2
done

echo "dns.sh: ${DURATION}s per run, fixed rate ${FIXED_QPS} QPS, ${ROUNDS} rounds, servers on CPU $SERVER_CPUS, dnsperf on CPU $DNSPERF_CPUS $DNSPERF_ARGS, dnsperf $(dnsperf -h 2>&1 | awk '/^Version/ {print $2}'), gdnsd $("$GDNSD" -h 2>&1 | awk '/version/ {print $3; exit}')" >&2
measure_rounds "${SERVERS[@]}"
lines=()
for srv in "${SERVERS[@]}"; do
  read -r name _ <<<"$srv"
  lines+=("$(median "$name")")
done
ref=$(median gdnsd)
table "${lines[@]}"
echo
for srv in "${SERVERS[@]}"; do
  read -r name _ <<<"$srv"
  [ "$name" = gdnsd ] || ratio "$(median "$name")" "$ref"
done

# RATES: CPU per query and latency at each offered rate, open loop.
[ -n "$RATES" ] || exit 0
: >"$WORK/rates"
for round in $(seq 1 "$ROUNDS"); do
  for qps in $RATES; do
    for srv in "${SERVERS[@]}"; do
      read -r name port pid <<<"$srv"
      line=$(measure_rate "$name" "$port" "$pid" "$qps")
      echo "dns.sh: round $round: $line" >&2
      read -r name qps rest <<<"$line"
      echo "$name@$qps $rest" >>"$WORK/rates"
    done
  done
done
printf '\n| server | offered QPS | CPU µs/query | p50 µs | p99 µs | lost %% |\n|---|---:|---:|---:|---:|---:|\n'
for qps in $RATES; do
  for srv in "${SERVERS[@]}"; do
    read -r name _ <<<"$srv"
    read -r _ us p50 p99 lost <<<"$(median "$name@$qps" "$WORK/rates")"
    printf '| %s | %s | %s | %s | %s | %s |\n' "$name" "$qps" "$us" "$p50" "$p99" "$lost"
  done
done
