#!/usr/bin/env bash
# The routed anycast lab: a client, a router running FRR and three PoPs
# (tokyo, london, newyork), each in its own network namespace, with a
# controller in the root namespace and an anyctl agent and the lab service
# (HTTP + DNS naming the PoP) on 192.0.2.1 in every PoP.
#
#        client 10.100.0.2 ---- 10.100.0.1 router (FRR, AS 64496)
#                                10.100.1.1 ---- 10.100.1.2 tokyo   (AS 64512)
#                                10.100.2.1 ---- 10.100.2.2 london  (AS 64512)
#                                10.100.3.1 ---- 10.100.3.2 newyork (AS 64512)
#
# The router prepends 0, 1 and 2 hops to the routes it receives from tokyo,
# london and newyork, so the client reaches the nearest healthy PoP.
#
# Usage: lab.sh COMMAND
#   up               build what is missing, create the lab, wait for tokyo to serve
#   down             stop every process the lab started (by PID), delete its
#                    namespaces; safe to repeat
#   status           namespaces, processes, the router's BGP view, anyctl status
#   svc-stop POP     kill POP's service (as a crash does)
#   svc-start POP    start POP's service and wait until it listens
#   ctl-kill         SIGKILL the controller
#   ctl-start        start the controller on the same data directory
#   anyctl ARGS...   run the anyctl client against the lab's controller
#   vtysh ARGS...    run vtysh against the router's FRR
#   exec NAME CMD... run CMD in the namespace of NAME (client, router or a PoP)
#   probe [ARGS...]  ask 192.0.2.1 from the client which PoP answers, over HTTP
#                    and DNS (labprobe; default -count 1)
#
# Environment:
#   LAB_DIR     state, logs and sockets (default /tmp/anyctl-lab); the frr user
#               must be able to reach it
#   LAB_PREFIX  prefix of the namespace names (default "lab-")
#   ANYCTL, LABSVC, LABPROBE  binaries to use (default: built into $LAB_DIR/bin)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
LAB_DIR=${LAB_DIR:-/tmp/anyctl-lab}
LAB_PREFIX=${LAB_PREFIX:-lab-}
ANYCTL=${ANYCTL:-$LAB_DIR/bin/anyctl}
LABSVC=${LABSVC:-$LAB_DIR/bin/labsvc}
LABPROBE=${LABPROBE:-$LAB_DIR/bin/labprobe}
FRR_BIN=${FRR_BIN:-/usr/lib/frr}

pops=(tokyo london newyork)
anycast=192.0.2.1
router_asn=64496
pop_asn=64512
frr_dir=$LAB_DIR/frr
pid_dir=$LAB_DIR/pids
log_dir=$LAB_DIR/logs
ctl_sock=$LAB_DIR/ctl.sock

die() { echo "lab: $*" >&2; exit 1; }
ns() { echo "$LAB_PREFIX$1"; }
in_ns() { local n; n=$(ns "$1"); shift; ip netns exec "$n" "$@"; }

# pop_index NAME: the N of the PoP's link 10.100.N.0/30.
pop_index() {
  local i
  for i in "${!pops[@]}"; do
    [ "${pops[$i]}" = "$1" ] && { echo $((i + 1)); return; }
  done
  die "unknown PoP \"$1\": want one of ${pops[*]}"
}

# alive PID: the process exists and is not a zombie waiting to be reaped.
alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# await WHAT SECONDS CMD...: poll CMD every 50 ms until it succeeds.
await() {
  local what=$1 deadline=$((SECONDS + $2)); shift 2
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "timed out waiting for $what"
    sleep 0.05
  done
}

# spawn NAME PROG LOG CMD...: start CMD in the background, record its PID
# and PROG, the program the process runs once started ("ip netns exec"
# becomes the program it runs).
spawn() {
  local name=$1 prog=$2 log=$3; shift 3
  "$@" </dev/null >>"$log" 2>&1 &
  echo "$! $prog" >"$pid_dir/$name.pid"
}

# has_ns NAME: the namespace of NAME exists.
has_ns() { ip netns list | awk '{print $1}' | grep -qxF "$(ns "$1")"; }

# stop NAME SIGNAL: signal the recorded process if it still runs the
# recorded program (or still is "ip", about to exec it), so that a reused
# PID is left alone.
stop() {
  local f=$pid_dir/$1.pid pid prog comm
  [ -f "$f" ] || return 0
  read -r pid prog <"$f"
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 0
  if alive "$pid" && { [ "$comm" = "${prog:0:15}" ] || [ "$comm" = ip ]; }; then
    kill -"$2" "$pid" 2>/dev/null || true
  fi
}

# reap NAME...: wait up to 5 s for the recorded processes to end, then
# SIGKILL what is left; remove their PID files.
reap() {
  local name pid comm deadline=$((SECONDS + 5))
  for name in "$@"; do
    [ -f "$pid_dir/$name.pid" ] || continue
    read -r pid comm <"$pid_dir/$name.pid"
    while alive "$pid" && [ $SECONDS -lt $deadline ]; do sleep 0.02; done
    alive "$pid" && stop "$name" KILL
    rm -f "$pid_dir/$name.pid"
  done
}

# build: the binaries that are missing.
build() {
  local bin pkg
  for bin in "$ANYCTL:./cli/anyctl" "$LABSVC:./deploy/lab/labsvc" "$LABPROBE:./deploy/lab/labprobe"; do
    pkg=${bin##*:} bin=${bin%:*}
    [ -x "$bin" ] || (cd "$repo" && go build -o "$bin" "$pkg")
  done
}

preflight() {
  [ "$(id -u)" = 0 ] || die "must run as root (network namespaces)"
  [ -x "$FRR_BIN/zebra" ] && [ -x "$FRR_BIN/bgpd" ] || die "FRR not found in $FRR_BIN: apt-get install frr"
  id frr >/dev/null 2>&1 || die "no user frr: apt-get install frr"
  for n in client router "${pops[@]}"; do
    ! has_ns "$n" || die "namespace $(ns "$n") exists: run \"$0 down\" first"
  done
}

# netns NAME: a namespace with loopback up and IPv6 DAD off (before any
# link exists, so that links take it).
netns() {
  ip netns add "$(ns "$1")"
  in_ns "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  in_ns "$1" ip link set lo up
}

# link A B NET: a veth pair "to-B" in A and "to-A" in B, A on NET.1/30 and B
# on NET.2/30.
link() {
  ip link add "to-$2" netns "$(ns "$1")" type veth peer name "to-$1" netns "$(ns "$2")"
  in_ns "$1" ip addr add "$3.1/30" dev "to-$2"
  in_ns "$2" ip addr add "$3.2/30" dev "to-$1"
  in_ns "$1" ip link set "to-$2" up
  in_ns "$2" ip link set "to-$1" up
}

topology() {
  local p i
  for n in client router "${pops[@]}"; do netns "$n"; done
  in_ns router sysctl -qw net.ipv4.ip_forward=1
  link router client 10.100.0
  in_ns client ip route add default via 10.100.0.1
  for p in "${pops[@]}"; do
    i=$(pop_index "$p")
    link router "$p" "10.100.$i"
    # GoBGP does not program the kernel: the way back to the client is a
    # static default route via the router.
    in_ns "$p" ip route add default via "10.100.$i.1"
    in_ns "$p" ip addr add "$anycast/32" dev lo
  done
}

bgpd_conf() {
  local p i
  cat <<EOF
frr defaults traditional
hostname $(ns router)
log timestamp precision 6
!
! Apply route-map changes at once, not after the default 5 s.
bgp route-map delay-timer 0
!
ip prefix-list anycast seq 5 permit 192.0.2.0/24
!
! Distance from the client: an upstream sees the far PoPs through more ASes.
route-map from-tokyo permit 10
 match ip address prefix-list anycast
route-map from-london permit 10
 match ip address prefix-list anycast
 set as-path prepend $pop_asn
route-map from-newyork permit 10
 match ip address prefix-list anycast
 set as-path prepend $pop_asn $pop_asn
route-map to-pop deny 10
!
router bgp $router_asn
 bgp router-id 10.100.0.1
 bgp log-neighbor-changes
 timers bgp 3 9
 ! The agents dial out (they do not listen): the router waits for them.
EOF
  for p in "${pops[@]}"; do
    i=$(pop_index "$p")
    cat <<EOF
 neighbor 10.100.$i.2 remote-as $pop_asn
 neighbor 10.100.$i.2 description $p
 neighbor 10.100.$i.2 passive
 neighbor 10.100.$i.2 advertisement-interval 0
EOF
  done
  echo " address-family ipv4 unicast"
  for p in "${pops[@]}"; do
    i=$(pop_index "$p")
    echo "  neighbor 10.100.$i.2 route-map from-$p in"
    echo "  neighbor 10.100.$i.2 route-map to-pop out"
  done
  echo " exit-address-family"
}

frr_up() {
  mkdir -p "$frr_dir/run"
  printf 'hostname %s\nlog timestamp precision 6\n' "$(ns router)" >"$frr_dir/zebra.conf"
  bgpd_conf >"$frr_dir/bgpd.conf"
  chown -R frr:frr "$frr_dir"
  runuser -u frr -- test -w "$frr_dir/run" ||
    die "user frr cannot write $frr_dir/run: make $LAB_DIR and its parents searchable (chmod o+x)"
  local d
  for d in zebra bgpd; do
    in_ns router "$FRR_BIN/$d" -d -f "$frr_dir/$d.conf" -i "$frr_dir/run/$d.pid" \
      -z "$frr_dir/run/zserv.api" --vty_socket "$frr_dir/run" -P 0 -u frr -g frr \
      --log "file:$frr_dir/$d.log" >>"$log_dir/frr-start.log" 2>&1
    await "$d to write its PID file" 10 test -s "$frr_dir/run/$d.pid"
    echo "$(cat "$frr_dir/run/$d.pid") $d" >"$pid_dir/$d.pid"
    if [ $d = zebra ]; then await "zebra's API socket" 10 test -S "$frr_dir/run/zserv.api"; fi
  done
}

ctl_start() {
  mkdir -p -m 700 "$LAB_DIR/controller"
  rm -f "$ctl_sock"
  spawn controller anyctl "$log_dir/controller.log" "$ANYCTL" controller --listen "unix:$ctl_sock" \
    --data-dir "$LAB_DIR/controller" --metrics-listen '' --status-ttl 5s
  await "the controller to answer" 60 "$ANYCTL" --server "unix:$ctl_sock" get pops
}

agent_start() {
  local p=$1
  mkdir -p "$LAB_DIR/agents/$p"
  cat >"$LAB_DIR/agents/$p.yaml" <<EOF
pop: $p
controller: unix:$ctl_sock
stateDir: $LAB_DIR/agents/$p
origination:
  allowedPrefixes: [192.0.2.0/24]
shutdownGrace: 2s
statusInterval: 1s
EOF
  spawn "agent-$p" anyctl "$log_dir/agent-$p.log" ip netns exec "$(ns "$p")" \
    "$ANYCTL" agent --config "$LAB_DIR/agents/$p.yaml" --metrics-listen ''
}

svc_start() {
  local p=$1
  stop "svc-$p" KILL
  reap "svc-$p"
  spawn "svc-$p" labsvc "$log_dir/svc-$p.log" ip netns exec "$(ns "$p")" "$LABSVC" -pop "$p" -addr "$anycast"
  await "$p's service to listen" 10 listening "$p"
}

listening() {
  in_ns "$1" ss -Hltn "src $anycast and sport = :80" | grep -q LISTEN
}

# best_via ADDR: the router's kernel sends the anycast prefix to ADDR.
best_via() {
  in_ns router ip -4 route show 192.0.2.0/24 | grep -q "via $1 "
}

# established N: N BGP sessions of the router are up with a prefix each
# (the State/PfxRcd column is a number once a session is established).
established() {
  local n
  n=$(in_ns router vtysh --vty_socket "$frr_dir/run" -c 'show bgp ipv4 unicast summary' |
    awk '$1 ~ /^10\.100\./ && $10 ~ /^[0-9]+$/ && $10 >= 1' | wc -l)
  [ "$n" -ge "$1" ]
}

up() {
  preflight
  build
  mkdir -p "$pid_dir" "$log_dir"
  chmod 755 "$LAB_DIR"
  trap 'echo "lab: up failed; logs in $log_dir; tearing down" >&2; down' EXIT
  topology
  frr_up
  ctl_start
  "$ANYCTL" --server "unix:$ctl_sock" apply -f "$here/lab.yaml" >/dev/null
  local p
  for p in "${pops[@]}"; do
    svc_start "$p"
    agent_start "$p"
  done
  await "three BGP sessions with a route each at the router" 60 established 3
  await "the router to send the anycast prefix to tokyo" 30 best_via 10.100.1.2
  trap - EXIT
  echo "lab: up; the router sends 192.0.2.0/24 to tokyo; state in $LAB_DIR"
}

down() {
  local names=() f
  if [ -d "$pid_dir" ]; then
    for f in "$pid_dir"/*.pid; do
      [ -e "$f" ] || continue
      f=$(basename "$f" .pid)
      names+=("$f")
      stop "$f" TERM
    done
    [ ${#names[@]} -eq 0 ] || reap "${names[@]}"
  fi
  rm -f "$frr_dir"/run/*.pid "$frr_dir"/run/*.vty "$frr_dir/run/zserv.api" "$ctl_sock"
  local n
  for n in client router "${pops[@]}"; do
    if has_ns "$n"; then ip netns del "$(ns "$n")"; fi
  done
}

status() {
  local n name pid comm
  echo "namespaces:"
  for n in client router "${pops[@]}"; do
    if has_ns "$n"; then echo "  $(ns "$n")"; else echo "  $(ns "$n") (missing)"; fi
  done
  echo "processes:"
  for f in "$pid_dir"/*.pid; do
    [ -e "$f" ] || continue
    read -r pid comm <"$f"
    name=$(basename "$f" .pid)
    if alive "$pid"; then echo "  $name pid $pid"; else echo "  $name pid $pid (gone)"; fi
  done
  if has_ns router && [ -S "$frr_dir/run/bgpd.vty" ]; then
    echo "router:"
    in_ns router vtysh --vty_socket "$frr_dir/run" -c 'show bgp ipv4 unicast summary' -c 'show bgp ipv4 unicast 192.0.2.0/24' | sed 's/^/  /'
    in_ns router ip -4 route show 192.0.2.0/24 | sed 's/^/  kernel: /'
  fi
  if [ -S "$ctl_sock" ]; then
    echo "anyctl status:"
    "$ANYCTL" --server "unix:$ctl_sock" status | sed 's/^/  /' || true
  fi
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
  up) up ;;
  down) down ;;
  status) status ;;
  svc-stop) pop_index "${1:?svc-stop POP}" >/dev/null; stop "svc-$1" KILL; reap "svc-$1" ;;
  svc-start) pop_index "${1:?svc-start POP}" >/dev/null; svc_start "$1" ;;
  ctl-kill) stop controller KILL; reap controller ;;
  ctl-start) ctl_start ;;
  anyctl) exec "$ANYCTL" --server "unix:$ctl_sock" "$@" ;;
  vtysh) in_ns router vtysh --vty_socket "$frr_dir/run" "$@" ;;
  exec) n=${1:?exec NAME CMD...}; shift; in_ns "$n" "$@" ;;
  probe) [ $# -gt 0 ] || set -- -count 1; in_ns client "$LABPROBE" -addr "$anycast" "$@" ;;
  *) sed -n '/^# Usage/,/^set -euo/p' "$0" | sed '$d' >&2; exit 2 ;;
esac
