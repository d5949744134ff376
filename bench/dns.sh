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
# server's CPU share while saturated (from /proc/PID/stat ticks over the
# middle of the run, without dnsperf's start and its wait for lost
# queries), CPU microseconds per query at a fixed
# rate (from /proc/PID/stat ticks), p50/p99 latency at that rate, and the
# ratios to gdnsd. The servers are measured in turn, ROUNDS times, and each
# figure is the median of its rounds: one round moves by more than the
# margins between the servers when anything else wakes on the machine.
#
#   bench/dns.sh                 # DURATION=10 FIXED_QPS=20000 ROUNDS=3 by default
#   DURATION=5 ROUNDS=5 bench/dns.sh
#   BASELINE=main NETPOLLER=0 bench/dns.sh  # also the default server built
#                                           # from that revision; no netpoller
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
NETPOLLER=${NETPOLLER:-1}
BASELINE=${BASELINE:-}
FIXED_QPS=${FIXED_QPS:-20000}
ROUNDS=${ROUNDS:-3}
HZ=$(getconf CLK_TCK)
if [ "$DURATION" -lt 3 ]; then
  echo "dns.sh: DURATION=$DURATION: want 3 seconds or more (the CPU share skips the first and the last second)" >&2
  exit 2
fi

need=()
command -v dnsperf >/dev/null || need+=(dnsperf)
command -v gdnsd >/dev/null || [ -x /usr/sbin/gdnsd ] || need+=(gdnsd)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "dns.sh: missing ${need[*]} (apt-get install ${need[*]})" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }
fi
GDNSD=$(command -v gdnsd || echo /usr/sbin/gdnsd)

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# free_port asks the kernel for an unused loopback port.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
GDNSD_PORT=$(free_port)

go build -o "$WORK/dnsserve" ./bench/cmd/dnsserve
if [ -n "$BASELINE" ]; then
  mkdir "$WORK/baseline"
  git archive "$BASELINE" | tar -x -C "$WORK/baseline"
  (cd "$WORK/baseline" && go build -o "$WORK/dnsserve-baseline" ./bench/cmd/dnsserve)
fi
go run ./bench/cmd/benchgen -out "$WORK" -gdnsd-port "$GDNSD_PORT" -queries 50000
printf 'www.gslb.example.com A\n' >"$WORK/ready.txt"

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# wait_ready polls a server with single queries for at most ten seconds.
wait_ready() {
  for _ in $(seq 1 100); do
    if dnsperf -s 127.0.0.1 -p "$1" -d "$WORK/ready.txt" -n 1 -t 1 2>/dev/null | grep -q 'Queries completed: *1 '; then
      return 0
    fi
    sleep 0.1
  done
  echo "dns.sh: server on port $1 did not answer" >&2
  return 1
}

perf() { # port, extra dnsperf args...
  local port=$1
  shift
  taskset -c 1 dnsperf -s 127.0.0.1 -p "$port" -d "$WORK/queries.bin" -B -l "$DURATION" "$@"
}

# measure NAME PORT PID prints one result line:
# name qps lost% cpu_share us_per_query p50_us p99_us
measure() {
  local name=$1 port=$2 pid=$3 out="$WORK/$1.perf" limit="" qps lost t0 t1 k0 k1 i
  wait_ready "$port"
  for i in 1 2 3 4; do
    # The server's CPU share is read over the middle of the run, from one
    # second after dnsperf starts to one second before it stops sending:
    # after the run dnsperf waits out the timeout of any query lost, up to
    # five seconds in which the server idles, and a share taken over that
    # tail moved with when the last query was lost.
    perf "$port" -q 500 $limit >"$out" 2>&1 &
    local lp=$!
    sleep 1
    k0=$(ticks "$pid")
    t0=$(date +%s.%N)
    sleep $((DURATION - 2))
    k1=$(ticks "$pid")
    t1=$(date +%s.%N)
    wait "$lp"
    qps=$(awk '/Queries per second/ {print $4}' "$out")
    lost=$(awk '/Queries lost/ {gsub(/[()%]/, "", $4); print $4}' "$out")
    if awk -v l="$lost" 'BEGIN {exit !(l < 0.1)}'; then break; fi
    # Too many lost: offer 90% of what got through and try again.
    limit="-Q $(awk -v q="$qps" 'BEGIN {printf "%d", q * 0.9}')"
  done
  local share
  share=$(awk -v k="$((k1 - k0))" -v hz="$HZ" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", 100 * k / hz / (b - a)}')

  k0=$(ticks "$pid")
  perf "$port" -Q "$FIXED_QPS" -v >"$out.fixed" 2>&1
  k1=$(ticks "$pid")
  local done us
  done=$(awk '/Queries completed/ {print $3}' "$out.fixed")
  us=$(awk -v k="$((k1 - k0))" -v hz="$HZ" -v n="$done" 'BEGIN {printf "%.1f", k * 1e6 / hz / n}')
  awk '/^> / {print $NF * 1e6}' "$out.fixed" | sort -n >"$out.lat"
  local n p50 p99
  n=$(wc -l <"$out.lat")
  p50=$(awk -v n="$n" 'NR == int(n * 0.50) + 1 {printf "%.0f", $1; exit}' "$out.lat")
  p99=$(awk -v n="$n" 'NR == int(n * 0.99) + 1 {printf "%.0f", $1; exit}' "$out.lat")
  local qpc
  qpc=$(awk -v q="$qps" -v s="$share" 'BEGIN {printf "%.0f", q * 100 / s}')
  echo "$name $qps $lost $share $us $p50 $p99 $qpc"
}

# SERVERS lists the servers measured, each "name port pid".
SERVERS=()
# serve NAME BINARY ARGS... starts a Go server pinned to CPU0.
serve() {
  local name=$1 bin=$2 port
  shift 2
  port=$(free_port)
  while [ "$port" = "$GDNSD_PORT" ]; do port=$(free_port); done
  GOMAXPROCS=1 taskset -c 0 "$bin" "$@" -listen "127.0.0.1:$port" -snapshot "$WORK/snapshot.pb" -geoip "$WORK/city.mmdb" \
    2>"$WORK/$name.log" &
  PIDS+=($!)
  SERVERS+=("$name $port $!")
}

mkdir -p /run/gdnsd
serve anyctl-default "$WORK/dnsserve"
if [ "$NETPOLLER" != 0 ]; then
  serve anyctl-netpoller "$WORK/dnsserve" -udp-mode netpoller
fi
if [ -n "$BASELINE" ]; then
  serve anyctl-baseline "$WORK/dnsserve-baseline"
fi
taskset -c 0 "$GDNSD" -c "$WORK/gdnsd" start 2>"$WORK/gdnsd.log" &
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

echo "dns.sh: ${DURATION}s per run, fixed rate ${FIXED_QPS} QPS, ${ROUNDS} rounds, dnsperf $(dnsperf -h 2>&1 | awk '/^Version/ {print $2}'), gdnsd $("$GDNSD" -h 2>&1 | awk '/version/ {print $3; exit}')" >&2
: >"$WORK/rounds"
for round in $(seq 1 "$ROUNDS"); do
  for srv in "${SERVERS[@]}"; do
    read -r name port pid <<<"$srv"
    line=$(measure "$name" "$port" "$pid")
    echo "$line" >>"$WORK/rounds"
    echo "dns.sh: round $round: $line" >&2
  done
done

# median NAME prints NAME and the median of each figure over the rounds.
median() {
  awk -v n="$1" '$1 == n' "$WORK/rounds" | awk -v n="$1" '
    { for (f = 2; f <= NF; f++) v[f, NR] = $f; nf = NF; rows = NR }
    END {
      printf "%s", n
      for (f = 2; f <= nf; f++) {
        for (i = 1; i <= rows; i++) a[i] = v[f, i]
        for (i = 2; i <= rows; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
        printf " %s", a[int((rows + 1) / 2)]
      }
      printf "\n"
    }'
}
goservers=()
for srv in "${SERVERS[@]}"; do
  read -r name _ <<<"$srv"
  [ "$name" = gdnsd ] || goservers+=("$(median "$name")")
done
ref=$(median gdnsd)

# When dnsperf on its own CPU is the limit, the server is not saturated:
# QPS per server core (QPS / CPU share) is the comparable figure.
printf '\n| server | saturated QPS | lost %% | server CPU %% | QPS per server core | CPU µs/query @%s QPS | p50 µs | p99 µs |\n' "$FIXED_QPS"
printf '|---|---:|---:|---:|---:|---:|---:|---:|\n'
for line in "${goservers[@]}" "$ref"; do
  read -r name qps lost share us p50 p99 qpc <<<"$line"
  printf '| %s | %.0f | %s | %s | %.0f | %s | %s | %s |\n' "$name" "$qps" "$lost" "$share" "$qpc" "$us" "$p50" "$p99"
done
read -r _ gq _ _ _ gp50 gp99 _ <<<"$ref"
echo
# The ratios of QPS per server core and of CPU per query are the medians
# of each round's ratio: the servers of one round ran back to back, so a
# round's ratio cancels most of what else the machine was doing then.
for line in "${goservers[@]}"; do
  read -r name aq _ _ _ ap50 ap99 _ <<<"$line"
  awk -v n="$name" -v aq="$aq" -v gq="$gq" -v a5="$ap50" -v g5="$gp50" -v a9="$ap99" -v g9="$gp99" '
    function med(x, k,   i, j, t) {
      for (i = 2; i <= k; i++) for (j = i; j > 1 && x[j-1] > x[j]; j--) { t = x[j]; x[j] = x[j-1]; x[j-1] = t }
      return x[int((k + 1) / 2)]
    }
    $1 == n { r = ++a; aqpc[r] = $8; aus[r] = $5 }
    $1 == "gdnsd" { r = ++g; gqpc[r] = $8; gus[r] = $5 }
    END {
      k = (a < g) ? a : g
      for (i = 1; i <= k; i++) { c[i] = aqpc[i] / gqpc[i]; u[i] = aus[i] / gus[i] }
      printf "%s / gdnsd: QPS per server core %.2fx, CPU per query %.2fx (medians of the rounds'"'"' ratios); QPS %.2fx, p50 %.2fx, p99 %.2fx\n",
        n, med(c, k), med(u, k), aq / gq, a5 / g5, a9 / g9
    }' "$WORK/rounds"
done
