# Shared by the dnsperf benchmarks (bench/dns.sh, bench/dns-dnssec.sh):
# sourced, not run. The caller sets NAME (its name in messages), WORK (a
# scratch directory holding queries.bin and the servers' files), DURATION,
# FIXED_QPS and ROUNDS, and appends the PIDs it starts to PIDS.
#
# Each server is measured by `measure`: saturated QPS with under 0.1% of
# queries lost, the server's CPU share while saturated, CPU microseconds
# per query at FIXED_QPS (from /proc/PID/stat ticks), and p50/p99 latency
# at that rate. dnsperf runs pinned to CPU1 (DNSPERF_CPUS); the caller
# pins the servers.

HZ=$(getconf CLK_TCK)
PIDS=()
USED_PORTS=()

# install_missing PKG... installs Debian packages with apt-get (as root),
# or says what to install and fails.
install_missing() {
  [ $# -gt 0 ] || return 0
  if [ "$(id -u)" != 0 ]; then
    echo "$NAME: missing $* (apt-get install $*)" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
}

# stop_servers stops the servers in PIDS and removes WORK: the caller's
# EXIT trap.
stop_servers() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}

# free_port prints an unused loopback port, none printed before.
free_port() {
  local p
  while :; do
    p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
    case " ${USED_PORTS[*]} " in *" $p "*) continue ;; esac
    USED_PORTS+=("$p")
    echo "$p"
    return
  done
}

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# wait_ready polls a server with single queries for at most ten seconds.
wait_ready() {
  [ -f "$WORK/ready.txt" ] || printf 'www.gslb.example.com A\n' >"$WORK/ready.txt"
  for _ in $(seq 1 100); do
    if dnsperf -s 127.0.0.1 -p "$1" -d "$WORK/ready.txt" -n 1 -t 1 2>/dev/null | grep -q 'Queries completed: *1 '; then
      return 0
    fi
    sleep 0.1
  done
  echo "$NAME: server on port $1 did not answer" >&2
  return 1
}

# DNSPERF_CPUS is the CPUs dnsperf runs on; DNSPERF_ARGS are extra
# arguments of every dnsperf run (its threads and sockets, say).
DNSPERF_CPUS=${DNSPERF_CPUS:-1}
DNSPERF_ARGS=${DNSPERF_ARGS:-}

perf() { # port, query file, extra dnsperf args...
  local port=$1 queries=$2
  shift 2
  # shellcheck disable=SC2086 # DNSPERF_ARGS is a list of arguments
  taskset -c "$DNSPERF_CPUS" dnsperf -s 127.0.0.1 -p "$port" -d "$queries" -B -l "$DURATION" $DNSPERF_ARGS "$@"
}

# measure NAME PORT PID [QUERIES] prints one result line:
# name qps lost% cpu_share us_per_query p50_us p99_us qps_per_core
# QUERIES is a dnsperf binary query file, $WORK/queries.bin by default.
measure() {
  local name=$1 port=$2 pid=$3 queries=${4:-$WORK/queries.bin} out="$WORK/$1.perf" limit="" qps lost t0 t1 k0 k1 i lp
  wait_ready "$port"
  for i in 1 2 3 4; do
    # The server's CPU share is read over the middle of the run, from one
    # second after dnsperf starts to one second before it stops sending:
    # after the run dnsperf waits out the timeout of any query lost, up to
    # five seconds in which the server idles, and a share taken over that
    # tail moved with when the last query was lost.
    perf "$port" "$queries" -q 500 $limit >"$out" 2>&1 &
    lp=$!
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
  perf "$port" "$queries" -Q "$FIXED_QPS" -v >"$out.fixed" 2>&1
  k1=$(ticks "$pid")
  local done us
  done=$(awk '/Queries completed/ {print $3}' "$out.fixed")
  us=$(awk -v k="$((k1 - k0))" -v hz="$HZ" -v n="$done" 'BEGIN {printf "%.1f", k * 1e6 / hz / n}')
  awk '/^> / {print $NF * 1e6}' "$out.fixed" | sort -n >"$out.lat"
  local n p50 p99 qpc
  n=$(wc -l <"$out.lat")
  p50=$(awk -v n="$n" 'NR == int(n * 0.50) + 1 {printf "%.0f", $1; exit}' "$out.lat")
  p99=$(awk -v n="$n" 'NR == int(n * 0.99) + 1 {printf "%.0f", $1; exit}' "$out.lat")
  qpc=$(awk -v q="$qps" -v s="$share" 'BEGIN {printf "%.0f", q * 100 / s}')
  echo "$name $qps $lost $share $us $p50 $p99 $qpc"
}

# measure_rate NAME PORT PID QPS prints one line for a fixed offered rate
# (dnsperf -Q, up to 2,000 queries outstanding):
# name qps us_per_query p50_us p99_us lost%
measure_rate() {
  local name=$1 port=$2 pid=$3 qps=$4 out="$WORK/$1.rate" k0 k1 done lost us n p50 p99
  k0=$(ticks "$pid")
  perf "$port" "$WORK/queries.bin" -q 2000 -Q "$qps" -v >"$out" 2>&1
  k1=$(ticks "$pid")
  done=$(awk '/Queries completed/ {print $3}' "$out")
  lost=$(awk '/Queries lost/ {gsub(/[()%]/, "", $4); print $4}' "$out")
  us=$(awk -v k="$((k1 - k0))" -v hz="$HZ" -v n="$done" 'BEGIN {printf "%.1f", k * 1e6 / hz / n}')
  awk '/^> / {print $NF * 1e6}' "$out" | sort -n >"$out.lat"
  n=$(wc -l <"$out.lat")
  p50=$(awk -v n="$n" 'NR == int(n * 0.50) + 1 {printf "%.0f", $1; exit}' "$out.lat")
  p99=$(awk -v n="$n" 'NR == int(n * 0.99) + 1 {printf "%.0f", $1; exit}' "$out.lat")
  echo "$name $qps $us $p50 $p99 $lost"
}

# measure_rounds "NAME PORT PID [QUERIES]"... measures the servers in turn,
# ROUNDS times, into $WORK/rounds, saying each line on stderr.
measure_rounds() {
  local round spec line
  : >"$WORK/rounds"
  for round in $(seq 1 "$ROUNDS"); do
    for spec in "$@"; do
      # shellcheck disable=SC2086 # spec is the arguments of measure
      line=$(measure $spec)
      echo "$line" >>"$WORK/rounds"
      echo "$NAME: round $round: $line" >&2
    done
  done
}

# median NAME [FILE] prints NAME and the median of each figure over the
# rounds in FILE ($WORK/rounds).
median() {
  awk -v n="$1" '$1 == n' "${2:-$WORK/rounds}" | awk -v n="$1" '
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

# table LINE... prints the median lines as a Markdown table. When dnsperf
# on its own CPU is the limit, the server is not saturated: QPS per server
# core (QPS / CPU share) is the comparable figure.
table() {
  local line name qps lost share us p50 p99 qpc
  printf '\n| server | saturated QPS | lost %% | server CPU %% | QPS per server core | CPU µs/query @%s QPS | p50 µs | p99 µs |\n' "$FIXED_QPS"
  printf '|---|---:|---:|---:|---:|---:|---:|---:|\n'
  for line in "$@"; do
    read -r name qps lost share us p50 p99 qpc <<<"$line"
    printf '| %s | %.0f | %s | %s | %.0f | %s | %s | %s |\n' "$name" "$qps" "$lost" "$share" "$qpc" "$us" "$p50" "$p99"
  done
}

# round_ratios A B prints, for servers named A and B, the medians over the
# rounds of each round's ratio of QPS per server core and of CPU per query:
# the servers of one round ran back to back, so a round's ratio cancels
# most of what else the machine was doing then.
round_ratios() {
  awk -v a="$1" -v b="$2" '
    function med(x, k,   i, j, t) {
      for (i = 2; i <= k; i++) for (j = i; j > 1 && x[j-1] > x[j]; j--) { t = x[j]; x[j] = x[j-1]; x[j-1] = t }
      return x[int((k + 1) / 2)]
    }
    $1 == a { r = ++na; aqpc[r] = $8; aus[r] = $5 }
    $1 == b { r = ++nb; bqpc[r] = $8; bus[r] = $5 }
    END {
      k = (na < nb) ? na : nb
      for (i = 1; i <= k; i++) { c[i] = aqpc[i] / bqpc[i]; u[i] = aus[i] / bus[i] }
      printf "%.4f %.4f\n", med(c, k), med(u, k)
    }' "$WORK/rounds"
}

# ratio A B prints the ratios of median line A to median line B: QPS per
# server core and CPU per query as round_ratios gives them.
ratio() {
  local an aq ap50 ap99 bn bq bp50 bp99 qpc cpu
  read -r an aq _ _ _ ap50 ap99 _ <<<"$1"
  read -r bn bq _ _ _ bp50 bp99 _ <<<"$2"
  read -r qpc cpu <<<"$(round_ratios "$an" "$bn")"
  awk -v a="$an" -v b="$bn" -v c="$qpc" -v u="$cpu" -v aq="$aq" -v bq="$bq" -v a5="$ap50" -v b5="$bp50" -v a9="$ap99" -v b9="$bp99" 'BEGIN {
    printf "%s / %s: QPS per server core %.2fx, CPU per query %.2fx (medians of the rounds'"'"' ratios); QPS %.2fx, p50 %.2fx, p99 %.2fx\n",
      a, b, c, u, aq / bq, a5 / b5, a9 / b9
  }'
}
