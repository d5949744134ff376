#!/usr/bin/env bash
# Runs ISC's DNS compliance tester (genreport, from DNS-Compliance-Testing)
# in full and common mode (-f -c) and its type tests (-t) against the
# dnsgslb server and gdnsd serving the same zone (bench/cmd/benchgen, as
# bench/dns.sh), and prints both reports with the tests not "ok".
#
# genreport is built from source with gcc, libresolv and libssl-dev:
#   GENREPORT_SRC=/path/to/DNS-Compliance-Testing bench/genreport.sh
# Without GENREPORT_SRC the source is cloned from gitlab.isc.org.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in gcc python3; do
  command -v "$tool" >/dev/null || { echo "genreport.sh: missing $tool" >&2; exit 1; }
done
[ -f /usr/include/openssl/hmac.h ] || { echo "genreport.sh: missing libssl-dev (apt-get install libssl-dev)" >&2; exit 1; }
GDNSD=$(command -v gdnsd || echo /usr/sbin/gdnsd)
[ -x "$GDNSD" ] || { echo "genreport.sh: missing gdnsd (apt-get install gdnsd)" >&2; exit 1; }

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

SRC=${GENREPORT_SRC:-}
if [ -z "$SRC" ]; then
  SRC="$WORK/src"
  git clone -q --depth 1 https://gitlab.isc.org/isc-projects/DNS-Compliance-Testing.git "$SRC"
fi
mkdir -p "$WORK/build"
cp "$SRC/genreport.c" "$WORK/build/"
: >"$WORK/build/config.h" # what configure finds on glibc: nothing to define
gcc -O2 -std=gnu99 -D_GNU_SOURCE -I"$WORK/build" -o "$WORK/genreport" "$WORK/build/genreport.c" -lresolv -lcrypto 2>"$WORK/build.log" ||
  { cat "$WORK/build.log" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
ANY_PORT=$(free_port)
GDNSD_PORT=$(free_port)
while [ "$GDNSD_PORT" = "$ANY_PORT" ]; do GDNSD_PORT=$(free_port); done

go build -o "$WORK/dnsserve" ./bench/cmd/dnsserve
go run ./bench/cmd/benchgen -out "$WORK" -gdnsd-port "$GDNSD_PORT" -queries 10 >/dev/null
"$WORK/dnsserve" -listen "127.0.0.1:$ANY_PORT" -snapshot "$WORK/snapshot.pb" -geoip "$WORK/city.mmdb" -identity ns1.anyctl \
  2>"$WORK/dnsserve.log" &
PIDS+=($!)
mkdir -p /run/gdnsd
"$GDNSD" -c "$WORK/gdnsd" start 2>"$WORK/gdnsd.log" &
PIDS+=($!)

# wait_ready polls a server for up to ten seconds.
wait_ready() {
  python3 - "$1" <<'PY'
import socket, sys, time
q = bytes.fromhex("123401000001000000000000") + b"\x03www\x04gslb\x07example\x03com\x00\x00\x01\x00\x01"
for _ in range(100):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.1)
    try:
        s.sendto(q, ("127.0.0.1", int(sys.argv[1])))
        s.recv(512)
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit("server on port %s did not answer" % sys.argv[1])
PY
}
wait_ready "$ANY_PORT"
wait_ready "$GDNSD_PORT"

for server in "anyctl $ANY_PORT" "gdnsd $GDNSD_PORT"; do
  read -r name port <<<"$server"
  for mode in "-f -c" "-t"; do
    # shellcheck disable=SC2086 # mode is two flags
    out=$(echo "gslb.example.com ns1 127.0.0.1" | "$WORK/genreport" $mode -P "$port")
    echo "== $name genreport $mode"
    echo "$out"
    bad=$(echo "$out" | tr ' ' '\n' | grep '=' | grep -v '=ok' || true)
    echo "-- not ok: ${bad:-none}" | tr '\n' ' '
    echo
  done
done
