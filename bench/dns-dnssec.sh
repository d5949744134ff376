#!/usr/bin/env bash
# bench/dns.sh with the zone signed: what DNSSEC costs the dnsgslb server,
# and how it compares with Knot DNS signing the same geo zone. On loopback,
# each server pinned to CPU0 (the Go servers with GOMAXPROCS=1, Knot and
# gdnsd with one UDP worker), dnsperf to CPU1, in the same run:
#
#   anyctl          the Go server, zone unsigned, the query mix of dns.sh
#                   (geo names with IPv4 and IPv6 ECS from three
#                   continents, a static name, NXDOMAINs), no DO bit;
#   anyctl-signed   the Go server with a key directory (a CSK, ECDSA
#                   P-256, made by `anyctl dnssec keygen`), the same
#                   queries with the DO bit: every answer carries RRSIGs,
#                   NXDOMAINs the NSEC proofs, all signed when the index
#                   was built;
#   gdnsd           gdnsd's geoip plugin, unsigned (it cannot sign), no DO;
#   knot-signed     Knot DNS with its geoip module, the zone signed by
#                   knotd with the same key (keymgr import-bind), the
#                   module's answers signed when it loads, the DO queries.
#
# Knot's module answers by continent (geodb-key continent/code), the
# others by the nearest origin's coordinates; with the test database every
# city's nearest origin is its continent's one, so all four give the same
# answers. The script checks with dig that both signed servers return the
# London answer with an RRSIG to a DO query, that the Go server sends none
# without DO, that Knot's signature is the same on every query (made in
# advance, not per query), and with delv that both validate.
#
# Per server it reports what bench/dns.sh does (medians over ROUNDS), then
# the ratios of anyctl-signed to anyctl and to knot-signed against the
# goals: CPU per query at most 1.25x unsigned and at most Knot's, QPS per
# server core at least 0.8x unsigned.
#
#   bench/dns-dnssec.sh          # DURATION=10 FIXED_QPS=20000 ROUNDS=3 by default
#   DURATION=5 ROUNDS=1 bench/dns-dnssec.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
FIXED_QPS=${FIXED_QPS:-20000}
ROUNDS=${ROUNDS:-3}
NAME=dns-dnssec.sh
. bench/lib/dnsbench.sh

need=()
command -v dnsperf >/dev/null || need+=(dnsperf)
command -v gdnsd >/dev/null || [ -x /usr/sbin/gdnsd ] || need+=(gdnsd)
command -v dig >/dev/null && command -v delv >/dev/null || need+=(bind9-dnsutils)
command -v knotd >/dev/null || [ -x /usr/sbin/knotd ] || need+=(knot)
compgen -G "/usr/lib/*/knot/modules-*/geoip.so" >/dev/null || need+=(knot-module-geoip)
install_missing "${need[@]}"
GDNSD=$(command -v gdnsd || echo /usr/sbin/gdnsd)
KNOTD=$(command -v knotd || echo /usr/sbin/knotd)
KEYMGR=$(command -v keymgr || echo /usr/sbin/keymgr)

WORK=$(mktemp -d)
trap stop_servers EXIT
ANY_PORT=$(free_port)
SIGNED_PORT=$(free_port)
GDNSD_PORT=$(free_port)
KNOT_PORT=$(free_port)

go build -o "$WORK/dnsserve" ./bench/cmd/dnsserve
go build -o "$WORK/anyctl" ./cli/anyctl
go run ./bench/cmd/benchgen -out "$WORK" -gdnsd-port "$GDNSD_PORT" -knot-port "$KNOT_PORT" -queries 50000
mkdir -m 0700 "$WORK/keys"
"$WORK/anyctl" dnssec keygen gslb.example.com --dir "$WORK/keys" >"$WORK/keygen.out"
KEY=$(ls "$WORK"/keys/K*.private)
"$KEYMGR" -c "$WORK/knot/knot.conf" gslb.example.com. import-bind "$KEY" >/dev/null
# BIND's key says KSK (flags 257); Knot signs everything with it as a CSK.
TAG=$(basename "$KEY" .private | sed 's/.*+0*//') # K<zone>+<alg>+<tag>
"$KEYMGR" -c "$WORK/knot/knot.conf" gslb.example.com. set "$TAG" zsk=yes >/dev/null

mkdir -p /run/gdnsd
GOMAXPROCS=1 taskset -c 0 "$WORK/dnsserve" -listen "127.0.0.1:$ANY_PORT" -snapshot "$WORK/snapshot.pb" -geoip "$WORK/city.mmdb" \
  2>"$WORK/dnsserve.log" &
PIDS+=($!)
ANY_PID=$!
GOMAXPROCS=1 taskset -c 0 "$WORK/dnsserve" -listen "127.0.0.1:$SIGNED_PORT" -snapshot "$WORK/snapshot.pb" -geoip "$WORK/city.mmdb" \
  -dnssec-keys "$WORK/keys" 2>"$WORK/dnsserve-signed.log" &
PIDS+=($!)
SIGNED_PID=$!
taskset -c 0 "$GDNSD" -c "$WORK/gdnsd" start 2>"$WORK/gdnsd.log" &
PIDS+=($!)
GDNSD_PID=$!
taskset -c 0 "$KNOTD" -c "$WORK/knot/knot.conf" 2>"$WORK/knot.log" &
PIDS+=($!)
KNOT_PID=$!

# check_signed NAME PORT checks that a server answers nearest A for a
# London client with the London origin and an RRSIG when asked with DO,
# and that delv validates its answer against the key.
awk '/DNSKEY/ {printf "trust-anchors { %s static-key %s %s %s \"", $1, $5, $6, $7; for (i = 8; i <= NF; i++) printf "%s", $i; print "\"; };"}' \
  "${KEY%.private}.key" >"$WORK/anchor.conf"
check_signed() {
  local name=$1 port=$2 ans
  wait_ready "$port"
  ans=$(dig @127.0.0.1 -p "$port" nearest.gslb.example.com A +dnssec +norec +subnet=198.18.1.0/24 +tries=1 +time=2 +noall +answer)
  if ! grep -q '192\.0\.2\.20$' <<<"$ans" || ! grep -q 'RRSIG[[:space:]]*A 13 ' <<<"$ans"; then
    echo "$NAME: $name: nearest A with DO from London: want 192.0.2.20 and its RRSIG, got:" >&2
    echo "$ans" >&2
    exit 1
  fi
  if ! delv @127.0.0.1 -p "$port" -a "$WORK/anchor.conf" +root=gslb.example.com nearest.gslb.example.com A 2>&1 | grep -q 'fully validated'; then
    echo "$NAME: $name: delv does not validate nearest.gslb.example.com A:" >&2
    delv @127.0.0.1 -p "$port" -a "$WORK/anchor.conf" +root=gslb.example.com nearest.gslb.example.com A >&2 || true
    exit 1
  fi
  echo "$NAME: $name answers with DO: $(awk '{printf "%s %s %s; ", $4, $5, $6}' <<<"$ans")delv: fully validated" >&2
}
check_signed anyctl-signed "$SIGNED_PORT"
check_signed knot-signed "$KNOT_PORT"
if dig @127.0.0.1 -p "$SIGNED_PORT" nearest.gslb.example.com A +norec +subnet=198.18.1.0/24 +noall +answer | grep -q RRSIG; then
  echo "$NAME: anyctl-signed sends an RRSIG without DO" >&2
  exit 1
fi
sig() { dig @127.0.0.1 -p "$KNOT_PORT" nearest.gslb.example.com AAAA +dnssec +norec +subnet=198.18.0.0/24 +noall +answer | awk '$4 == "RRSIG" {print $NF}'; }
if [ "$(sig)" != "$(sig)" ]; then
  echo "$NAME: knot-signed: two queries got different signatures: signed per query, not in advance" >&2
  exit 1
fi

echo "$NAME: ${DURATION}s per run, fixed rate ${FIXED_QPS} QPS, ${ROUNDS} rounds, dnsperf $(dnsperf -h 2>&1 | awk '/^Version/ {print $2}'), gdnsd $("$GDNSD" -h 2>&1 | awk '/version/ {print $3; exit}'), $("$KNOTD" -V 2>&1 | head -1)" >&2
measure_rounds "anyctl $ANY_PORT $ANY_PID" "anyctl-signed $SIGNED_PORT $SIGNED_PID $WORK/queries-do.bin" \
  "gdnsd $GDNSD_PORT $GDNSD_PID" "knot-signed $KNOT_PORT $KNOT_PID $WORK/queries-do.bin"
any=$(median anyctl)
signed=$(median anyctl-signed)
ref=$(median gdnsd)
knot=$(median knot-signed)
table "$any" "$signed" "$ref" "$knot"
echo
ratio "$signed" "$any"
ratio "$signed" "$knot"
ratio "$any" "$ref"
ratio "$knot" "$ref"
# The goals, from the same medians of the rounds' ratios as above.
read -r q c <<<"$(round_ratios anyctl-signed anyctl)"
read -r _ k <<<"$(round_ratios anyctl-signed knot-signed)"
awk -v c="$c" -v q="$q" -v k="$k" 'BEGIN {
  printf "\ngoals: signed CPU per query %.2fx unsigned (at most 1.25x: %s), signed QPS per core %.2fx unsigned (at least 0.8x: %s), signed CPU per query %.2fx Knot'"'"'s (at most 1x: %s)\n",
    c, (c <= 1.25 ? "met" : "NOT met"), q, (q >= 0.8 ? "met" : "NOT met"), k, (k <= 1 ? "met" : "NOT met")
}'
