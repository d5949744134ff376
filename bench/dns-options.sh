#!/usr/bin/env bash
# Measures what NSID, DNS cookies and response rate limiting cost the
# dnsgslb server: two servers pinned to CPU0 with GOMAXPROCS=1, one with
# everything off (-rrl-rate 0 -no-cookies, no identity), one as anyctl dns
# runs by default (rate limiting on: loopback is exempt but every answer
# is counted against its budget; cookies on; an identity set); dnsperf
# pinned to CPU1 at a fixed rate, alternating query files of the same mix
# (geo names with ECS, a static name, NXDOMAINs):
#   all off: the plain queries to the server with everything off;
#   off:     the plain queries (EDNS, no option but ECS) to the default one;
#   on:      the same queries asking for NSID with a valid client and
#            server cookie, so the server checks the cookie, makes a fresh
#            one and sends both options (two SipHash-2-4 runs per query).
# CPU per query comes from /proc/PID/stat ticks over each run.
#
#   bench/dns-options.sh            # DURATION=10 FIXED_QPS=20000 ROUNDS=2
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
FIXED_QPS=${FIXED_QPS:-20000}
ROUNDS=${ROUNDS:-2}
HZ=$(getconf CLK_TCK)
for tool in dnsperf dig python3; do
  command -v "$tool" >/dev/null || { echo "dns-options.sh: missing $tool (apt-get install dnsperf bind9-dnsutils python3)" >&2; exit 1; }
done

WORK=$(mktemp -d)
PID="" BASE_PID=""
cleanup() {
  for p in $PID $BASE_PID; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
go build -o "$WORK/dnsserve" ./bench/cmd/dnsserve
go run ./bench/cmd/benchgen -out "$WORK" -gdnsd-port 53 -queries 10 >/dev/null
GOMAXPROCS=1 taskset -c 0 "$WORK/dnsserve" -listen "127.0.0.1:$PORT" -snapshot "$WORK/snapshot.pb" -geoip "$WORK/city.mmdb" \
  -identity ns1.bench 2>"$WORK/dnsserve.log" &
PID=$!
BASE_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
while [ "$BASE_PORT" = "$PORT" ]; do BASE_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'); done
GOMAXPROCS=1 taskset -c 0 "$WORK/dnsserve" -listen "127.0.0.1:$BASE_PORT" -snapshot "$WORK/snapshot.pb" -geoip "$WORK/city.mmdb" \
  -rrl-rate 0 -no-cookies 2>"$WORK/dnsserve-base.log" &
BASE_PID=$!
for _ in $(seq 1 100); do
  COOKIE=$(dig @127.0.0.1 -p "$PORT" www.gslb.example.com +cookie +tries=1 +time=1 2>/dev/null | awk '/COOKIE:/ {print $3}') || true
  [ -n "$COOKIE" ] && break
  sleep 0.1
done
[ -n "$COOKIE" ] || { echo "dns-options.sh: server on port $PORT did not answer" >&2; exit 1; }

# Queries in dnsperf's binary format (-B): length-prefixed messages.
python3 - "$WORK" "$COOKIE" <<'PY'
import random, struct, sys
work, cookie = sys.argv[1], bytes.fromhex(sys.argv[2])
def name(n):
    return b"".join(bytes([len(l)]) + l for l in n.encode().split(b".") if l) + b"\0"
def query(qname, qtype, ecs, opts):
    body = b""
    if ecs:
        fam, bits, addr = ecs
        body += struct.pack(">HHHBB", 8, 4 + len(addr), fam, bits, 0) + addr
    body += opts
    opt = b"\0" + struct.pack(">HHIH", 41, 1232, 0, len(body)) + body
    return struct.pack(">HHHHHH", 0, 0, 1, 0, 0, 1) + name(qname) + struct.pack(">HH", qtype, 1) + opt
r = random.Random(1)
v4 = [(1, 24, bytes([198, 18, i, ])) for i in range(0, 60)] + [(1, 24, bytes([203, 0, 113]))]
v6 = [(2, 48, bytes([0x20, 0x01, 0x0d, 0xb8, 0, i])) for i in range(1, 30)]
mix = []
for i in range(20000):
    k = r.randrange(10)
    if k < 5:
        mix.append(("nearest.gslb.example.com", 1, r.choice(v4)))
    elif k < 7:
        mix.append(("nearest.gslb.example.com", 28, r.choice(v6)))
    elif k < 9:
        mix.append(("www.gslb.example.com", 1, None))
    else:
        mix.append(("nx%d.gslb.example.com" % i, 1, None))
on = struct.pack(">HH", 3, 0) + struct.pack(">HH", 10, len(cookie)) + cookie
for fname, opts in (("off.bin", b""), ("on.bin", on)):
    with open(f"{work}/{fname}", "wb") as f:
        for q in mix:
            m = query(*q, opts)
            f.write(struct.pack(">H", len(m)) + m)
PY

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# run FILE [PORT PID] prints CPU microseconds per query answered (the
# default server unless another is given).
run() {
  local port=${2:-$PORT} pid=${3:-$PID} k0 k1 out="$WORK/$1.out"
  k0=$(ticks "$pid")
  taskset -c 1 dnsperf -s 127.0.0.1 -p "$port" -d "$WORK/$1.bin" -B -l "$DURATION" -Q "$FIXED_QPS" >"$out" 2>&1
  k1=$(ticks "$pid")
  echo "$1 (port $port): $(grep -E 'Response codes' "$out")" >&2
  awk -v k="$((k1 - k0))" -v hz="$HZ" '/Queries completed/ {printf "%.2f %s\n", k * 1e6 / hz / $3, $3}' "$out"
}
echo "dns-options.sh: ${DURATION}s per run, ${FIXED_QPS} QPS, ${ROUNDS} rounds, server cookie $COOKIE" >&2
printf '| round | all off µs/query | off µs/query | on µs/query | on/off | on/all off |\n|---|---:|---:|---:|---:|---:|\n'
tbase=0 toff=0 ton=0
for i in $(seq 1 "$ROUNDS"); do
  read -r base _ <<<"$(run off "$BASE_PORT" "$BASE_PID")"
  read -r off _ <<<"$(run off)"
  read -r on _ <<<"$(run on)"
  printf '| %d | %s | %s | %s | %.3f | %.3f |\n' "$i" "$base" "$off" "$on" "$(awk -v a="$on" -v b="$off" 'BEGIN {print a / b}')" "$(awk -v a="$on" -v b="$base" 'BEGIN {print a / b}')"
  tbase=$(awk -v a="$tbase" -v b="$base" 'BEGIN {print a + b}')
  toff=$(awk -v a="$toff" -v b="$off" 'BEGIN {print a + b}')
  ton=$(awk -v a="$ton" -v b="$on" 'BEGIN {print a + b}')
done
printf '| mean | %.2f | %.2f | %.2f | %.3f | %.3f |\n' "$(awk -v t="$tbase" -v n="$ROUNDS" 'BEGIN {print t / n}')" "$(awk -v t="$toff" -v n="$ROUNDS" 'BEGIN {print t / n}')" "$(awk -v t="$ton" -v n="$ROUNDS" 'BEGIN {print t / n}')" "$(awk -v a="$ton" -v b="$toff" 'BEGIN {print a / b}')" "$(awk -v a="$ton" -v b="$tbase" 'BEGIN {print a / b}')"
