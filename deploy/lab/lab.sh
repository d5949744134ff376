#!/usr/bin/env bash
# The routed anycast lab: three PoPs (tokyo, london, newyork) behind two
# upstream routers, FRR and BIRD, each with a client behind it, every node in
# its own network namespace; a controller in the root namespace and an anyctl
# agent and the lab service (HTTP + DNS naming the PoP) on the anycast
# addresses 192.0.2.1 and 2001:db8:53::1 in every PoP. IPv4 and IPv6 on every
# link, one BGP session per family and router.
#
#   client  10.100.0.2 ---- 10.100.0.1 router  (FRR,  AS 64496)
#           2001:db8:100::2  2001:db8:100::1
#                          router  10.100.N.1 ---- 10.100.N.2 PoP N (AS 64512)
#                                  2001:db8:100:N::1  2001:db8:100:N::2
#   client2 10.101.0.2 ---- 10.101.0.1 router2 (BIRD, AS 64497)
#           2001:db8:101::2  2001:db8:101::1
#                          router2 10.101.N.1 ---- 10.101.N.2 PoP N
#                                  2001:db8:101:N::1  2001:db8:101:N::2
#   N: tokyo 1, london 2, newyork 3
#
# Both routers prepend 0, 1 and 2 hops to the routes they receive from
# tokyo, london and newyork, so each client reaches the nearest healthy PoP.
# They accept whatever a PoP sends (a lax upstream), and each originates a
# prefix of its own (FRR 10.99.0.0/16 and 2001:db8:99::/48, BIRD
# 10.98.0.0/16 and 2001:db8:98::/48) to the PoPs, so that a PoP leaking one
# upstream's routes to the other shows in the other's table.
#
# Usage: lab.sh COMMAND
#   up               build what is missing, create the lab, wait until both
#                    routers send both anycast prefixes to tokyo
#   down             stop every process the lab started (by PID), delete its
#                    namespaces; safe to repeat
#   status           namespaces, processes, both routers' BGP view, anyctl status
#   svc-stop POP     kill POP's service (as a crash does)
#   svc-start POP    start POP's service and wait until it listens
#   agent-restart POP
#                    restart POP's agent as an operator's restart does:
#                    SIGTERM (with graceful restart, the agent exits without
#                    closing its sessions and the routers keep its routes),
#                    wait for it to exit, start it again with the same
#                    arguments, wait until its sessions with both routers
#                    are up again
#   agent-stop POP   stop POP's agent: SIGINT (traffic moves away on
#                    GRACEFUL_SHUTDOWN, then the sessions close), wait for it
#                    to exit
#   agent-start POP  start POP's agent, wait until its sessions are up
#   ctl-kill         SIGKILL the controller
#   ctl-start        start the controller on the same data directory
#   anyctl ARGS...   run the anyctl client against the lab's controller
#   vtysh ARGS...    run vtysh against FRR (router)
#   birdc ARGS...    run birdc against BIRD (router2)
#   exec NAME CMD... run CMD in the namespace of NAME (client, client2,
#                    router, router2 or a PoP)
#   probe [CLIENT] [4|6] [ARGS...]
#                    ask the anycast address from CLIENT (client, the default,
#                    behind FRR, or client2 behind BIRD) over IPv4 (default)
#                    or IPv6 which PoP answers, over HTTP and DNS (labprobe;
#                    default -count 1)
#
# Environment:
#   LAB_DIR     state, logs and sockets (default /tmp/anyctl-lab); the frr
#               and bird users must be able to reach it
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
namespaces=(client router client2 router2 "${pops[@]}")
anycast4=192.0.2.1
anycast6=2001:db8:53::1
anycast_prefix4=192.0.2.0/24
anycast_prefix6=2001:db8:53::/48
pop_asn=64512
# FRR: namespace router, links 10.100.N.0/30 and 2001:db8:100:N::/64 (N=0
# is the client's).
frr_asn=64496
frr_net4=10.100
frr_net6=2001:db8:100
frr_own4=10.99.0.0/16
frr_own6=2001:db8:99::/48
# BIRD: namespace router2, links 10.101.N.0/30 and 2001:db8:101:N::/64 (N=0
# is client2's).
bird_asn=64497
bird_net4=10.101
bird_net6=2001:db8:101
bird_own4=10.98.0.0/16
bird_own6=2001:db8:98::/48
# The agents run with graceful restart (RFC 4724), as operators deploy them
# (deploy/agent/agent.yaml): SIGTERM is a restart that moves nothing, and
# both routers, as helpers, keep a restarting agent's routes for this long.
gr_restart_time=120
# Each agent's BGP sessions: one per router and family.
agent_sessions=4

frr_dir=$LAB_DIR/frr
bird_dir=$LAB_DIR/bird
pid_dir=$LAB_DIR/pids
log_dir=$LAB_DIR/logs
ctl_sock=$LAB_DIR/ctl.sock
bird_ctl=$bird_dir/run/bird.ctl

die() { echo "lab: $*" >&2; exit 1; }
ns() { echo "$LAB_PREFIX$1"; }
in_ns() { local n; n=$(ns "$1"); shift; ip netns exec "$n" "$@"; }
# nsip NAME ARGS...: ip ARGS in the namespace of NAME, without a new process.
nsip() { local n; n=$(ns "$1"); shift; ip -n "$n" "$@"; }

# pop_index NAME: the N of the PoP's links 10.100.N.0/30 and 10.101.N.0/30.
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
  command -v bird >/dev/null && command -v birdc >/dev/null || die "BIRD 2 not found: apt-get install bird2"
  id bird >/dev/null 2>&1 || die "no user bird: apt-get install bird2"
  local n
  for n in "${namespaces[@]}"; do
    ! has_ns "$n" || die "namespace $(ns "$n") exists: run \"$0 down\" first"
  done
}

# netns NAME: a namespace with loopback up and IPv6 DAD off (before any
# link exists, so that links take it: FRR and BIRD need the link-local
# address at once).
netns() {
  ip netns add "$(ns "$1")"
  in_ns "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  nsip "$1" link set lo up
}

# link A B NET4 NET6: a veth pair "to-B" in A and "to-A" in B, A on
# NET4.1/30 and NET6::1/64, B on NET4.2/30 and NET6::2/64.
link() {
  local a b
  a=$(ns "$1") b=$(ns "$2")
  ip link add "to-$2" netns "$a" type veth peer name "to-$1" netns "$b"
  ip -n "$a" addr add "$3.1/30" dev "to-$2"
  ip -n "$a" -6 addr add "$4::1/64" dev "to-$2" nodad
  ip -n "$b" addr add "$3.2/30" dev "to-$1"
  ip -n "$b" -6 addr add "$4::2/64" dev "to-$1" nodad
  ip -n "$a" link set "to-$2" up
  ip -n "$b" link set "to-$1" up
}

# upstream ROUTER CLIENT NET4 NET6: ROUTER forwards both families, CLIENT
# hangs off it on link 0, and every PoP on link N; the PoP's way back to
# CLIENT is a static route via ROUTER (GoBGP does not program the kernel).
upstream() {
  local router=$1 client=$2 net4=$3 net6=$4 p i
  in_ns "$router" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  link "$router" "$client" "$net4.0" "$net6:0"
  nsip "$client" route add default via "$net4.0.1"
  nsip "$client" -6 route add default via "$net6::1"
  for p in "${pops[@]}"; do
    i=$(pop_index "$p")
    link "$router" "$p" "$net4.$i" "$net6:$i"
    nsip "$p" route add "$net4.0.0/30" via "$net4.$i.1"
    nsip "$p" -6 route add "$net6::/64" via "$net6:$i::1"
  done
}

topology() {
  local p n
  for n in "${namespaces[@]}"; do netns "$n"; done
  upstream router client "$frr_net4" "$frr_net6"
  upstream router2 client2 "$bird_net4" "$bird_net6"
  for p in "${pops[@]}"; do
    nsip "$p" addr add "$anycast4/32" dev lo
    nsip "$p" -6 addr add "$anycast6/128" dev lo
  done
  # Each router's own prefixes point into an interface "own", one end of a
  # veth pair (this kernel may have no dummy interfaces): a real next hop,
  # as a customer network behind the router would have.
  for n in router router2; do
    nsip "$n" link add own type veth peer name own-peer
    nsip "$n" link set own-peer up
    nsip "$n" link set own up
  done
  nsip router route add "$frr_own4" dev own
  nsip router -6 route add "$frr_own6" dev own
}

# frr_neighbors ADDR-FMT: the PoPs' session addresses on FRR's links, one
# "POP ADDR" line each; ADDR-FMT is a printf format taking N.
frr_neighbors() {
  local p
  for p in "${pops[@]}"; do
    # shellcheck disable=SC2059
    printf "%s $1\n" "$p" "$(pop_index "$p")"
  done
}

bgpd_conf() {
  local p addr
  cat <<EOF
frr defaults traditional
hostname $(ns router)
log timestamp precision 6
!
! Apply route-map changes at once, not after the default 5 s.
bgp route-map delay-timer 0
!
ip prefix-list own4 seq 5 permit $frr_own4
ipv6 prefix-list own6 seq 5 permit $frr_own6
!
! Distance from the client: an upstream sees the far PoPs through more ASes.
! Whatever a PoP sends is accepted, so that a leak shows in the table.
route-map from-tokyo permit 10
route-map from-london permit 10
 set as-path prepend $pop_asn
route-map from-newyork permit 10
 set as-path prepend $pop_asn $pop_asn
!
! To the PoPs: the router's own prefixes, as an upstream sends its routes.
route-map to-pop4 permit 10
 match ip address prefix-list own4
route-map to-pop6 permit 10
 match ipv6 address prefix-list own6
!
router bgp $frr_asn
 bgp router-id $frr_net4.0.1
 no bgp default ipv4-unicast
 bgp log-neighbor-changes
 ! Helper for an agent's graceful restart (RFC 4724).
 bgp graceful-restart
 bgp graceful-restart restart-time $gr_restart_time
 timers bgp 3 9
 ! The agents dial out (they do not listen): the router waits for them.
EOF
  while read -r p addr; do
    cat <<EOF
 neighbor $addr remote-as $pop_asn
 neighbor $addr description $p
 neighbor $addr passive
 neighbor $addr advertisement-interval 0
EOF
  done < <(frr_neighbors "$frr_net4.%s.2"; frr_neighbors "$frr_net6:%s::2")
  echo " address-family ipv4 unicast"
  echo "  network $frr_own4"
  while read -r p addr; do
    echo "  neighbor $addr activate"
    echo "  neighbor $addr route-map from-$p in"
    echo "  neighbor $addr route-map to-pop4 out"
  done < <(frr_neighbors "$frr_net4.%s.2")
  echo " exit-address-family"
  echo " address-family ipv6 unicast"
  echo "  network $frr_own6"
  while read -r p addr; do
    echo "  neighbor $addr activate"
    echo "  neighbor $addr route-map from-$p in"
    echo "  neighbor $addr route-map to-pop6 out"
  done < <(frr_neighbors "$frr_net6:%s::2")
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

# bird_protocol POP FAMILY: the BGP protocol of POP's session in FAMILY (4
# or 6), such as tokyo4.
bird_protocol() { echo "$1$2"; }

bird_conf() {
  local p i
  cat <<EOF
log "$bird_dir/bird.log" all;
router id $bird_net4.0.1;
timeformat protocol iso long;
timeformat route iso long;

protocol device {}

# Only BGP's routes go to the kernel; the router's own are there already.
protocol kernel kernel4 { ipv4 { import none; export where source = RTS_BGP; }; }
protocol kernel kernel6 { ipv6 { import none; export where source = RTS_BGP; }; }

# The router's own prefixes, into the interface "own".
protocol static own4 { ipv4; route $bird_own4 via "own"; }
protocol static own6 { ipv6; route $bird_own6 via "own"; }

# GRACEFUL_SHUTDOWN (RFC 8326): BIRD does not honour it by itself.
function honour_gshut() {
  if (65535, 0) ~ bgp_community then bgp_local_pref = 0;
}

# Distance from client2, as on FRR: london one hop farther, newyork two.
# Whatever a PoP sends is accepted, so that a leak shows in the table.
filter from_tokyo { honour_gshut(); accept; }
filter from_london { honour_gshut(); bgp_path.prepend($pop_asn); accept; }
filter from_newyork { honour_gshut(); bgp_path.prepend($pop_asn); bgp_path.prepend($pop_asn); accept; }

# The agents dial out (they do not listen): the router waits for them.
template bgp pop {
  local as $bird_asn;
  passive on;
  connect delay time 0;
  hold time 9;
  keepalive time 3;
  # Helper for an agent's graceful restart (RFC 4724).
  graceful restart on;
  graceful restart time $gr_restart_time;
}
EOF
  for p in "${pops[@]}"; do
    i=$(pop_index "$p")
    cat <<EOF

protocol bgp $(bird_protocol "$p" 4) from pop {
  description "$p";
  neighbor $bird_net4.$i.2 as $pop_asn;
  source address $bird_net4.$i.1;
  ipv4 { import filter from_$p; export where proto = "own4"; };
}
protocol bgp $(bird_protocol "$p" 6) from pop {
  description "$p";
  neighbor $bird_net6:$i::2 as $pop_asn;
  source address $bird_net6:$i::1;
  ipv6 { import filter from_$p; export where proto = "own6"; };
}
EOF
  done
}

bird_up() {
  mkdir -p "$bird_dir/run"
  bird_conf >"$bird_dir/bird.conf"
  chown -R bird:bird "$bird_dir"
  runuser -u bird -- test -w "$bird_dir/run" ||
    die "user bird cannot write $bird_dir/run: make $LAB_DIR and its parents searchable (chmod o+x)"
  # On a config error bird exits after daemonizing: check the config first.
  bird -p -c "$bird_dir/bird.conf" >>"$log_dir/bird-start.log" 2>&1 ||
    die "BIRD refuses $bird_dir/bird.conf: $(tail -n 3 "$log_dir/bird-start.log")"
  in_ns router2 bird -c "$bird_dir/bird.conf" -s "$bird_ctl" -P "$bird_dir/run/bird.pid" \
    -u bird -g bird >>"$log_dir/bird-start.log" 2>&1
  await "bird to write its PID file" 10 test -s "$bird_dir/run/bird.pid"
  echo "$(cat "$bird_dir/run/bird.pid") bird" >"$pid_dir/bird.pid"
  await "bird's control socket" 10 birdc -s "$bird_ctl" show status
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
  allowedPrefixes: [$anycast_prefix4, $anycast_prefix6]
shutdownGrace: 2s
statusInterval: 1s
gracefulRestart:
  enabled: true
  restartTime: ${gr_restart_time}s
EOF
  spawn "agent-$p" anyctl "$log_dir/agent-$p.log" ip netns exec "$(ns "$p")" \
    "$ANYCTL" agent --config "$LAB_DIR/agents/$p.yaml" --metrics-listen ''
}

# agent_pid POP: the PID of POP's running agent; fails when none runs.
agent_pid() {
  local f=$pid_dir/agent-$1.pid pid prog
  [ -f "$f" ] || return 1
  read -r pid prog <"$f"
  alive "$pid" || return 1
  echo "$pid"
}

# gone PID: the process has exited (a zombie counts as gone).
gone() { ! alive "$1"; }

# sessions_since LOG OFFSET: LOG, from byte OFFSET on, reports every one of
# the agent's sessions established.
sessions_since() {
  local n
  n=$(tail -c "+$(($2 + 1))" "$1" | grep -c 'bgp session established') || true
  [ "$n" -ge "$agent_sessions" ]
}

# agent_run POP: start POP's agent and wait until its log says that all its
# sessions are established.
agent_run() {
  local p=$1 log=$log_dir/agent-$1.log offset pid
  if pid=$(agent_pid "$p"); then die "$p's agent already runs (PID $pid)"; fi
  offset=$(stat -c %s "$log" 2>/dev/null || echo 0)
  agent_start "$p"
  await "$p's agent to establish its $agent_sessions sessions (see $log)" 30 sessions_since "$log" "$offset"
}

# agent_signal POP SIGNAL: signal POP's agent and wait until it has exited.
agent_signal() {
  local p=$1 pid
  pid=$(agent_pid "$p") || die "$p's agent is not running"
  stop "agent-$p" "$2"
  await "$p's agent (PID $pid) to exit after SIG$2" 15 gone "$pid"
  rm -f "$pid_dir/agent-$p.pid"
}

# agent_restart POP: what an operator's restart does (systemctl restart
# sends SIGTERM): with graceful restart the agent exits without closing its
# sessions, and the next start announces the same services at once.
agent_restart() {
  agent_signal "$1" TERM
  agent_run "$1"
}

svc_start() {
  local p=$1
  stop "svc-$p" KILL
  reap "svc-$p"
  spawn "svc-$p" labsvc "$log_dir/svc-$p.log" ip netns exec "$(ns "$p")" "$LABSVC" -pop "$p" -addr "$anycast4,$anycast6"
  await "$p's service to listen" 10 listening "$p"
}

# listening POP: POP's service listens on port 80 of both anycast addresses.
listening() {
  local out
  out=$(in_ns "$1" ss -Hltn 'sport = :80')
  grep -qF " $anycast4:80 " <<<"$out" && grep -qF " [$anycast6]:80 " <<<"$out"
}

# kernel_via ROUTER PREFIX ADDR: ROUTER's kernel sends PREFIX to ADDR.
kernel_via() {
  local fam=-4
  [[ $2 == *:* ]] && fam=-6
  nsip "$1" "$fam" route show "$2" | grep -q "via $3 "
}

# frr_paths PREFIX N: FRR has N paths to PREFIX (one from each PoP).
frr_paths() {
  local fam=ipv4
  [[ $1 == *:* ]] && fam=ipv6
  in_ns router vtysh --vty_socket "$frr_dir/run" -c "show bgp $fam unicast $1" | grep -q "Paths: ($2 available"
}

# bird_paths PREFIX N: BIRD has N routes to PREFIX (one from each PoP).
bird_paths() {
  local n
  n=$(birdc -s "$bird_ctl" show route "$1" | grep -c '^[[:space:]]*via ')
  [ "$n" -ge "$2" ]
}

# await_tokyo: both routers have a path from every PoP to both anycast
# prefixes and send both to tokyo.
await_tokyo() {
  local n=${#pops[@]} pfx
  for pfx in "$anycast_prefix4" "$anycast_prefix6"; do
    await "FRR to have $n paths to $pfx" 60 frr_paths "$pfx" "$n"
    await "BIRD to have $n routes to $pfx" 60 bird_paths "$pfx" "$n"
  done
  await "FRR to send $anycast_prefix4 to tokyo" 30 kernel_via router "$anycast_prefix4" "$frr_net4.1.2"
  await "FRR to send $anycast_prefix6 to tokyo" 30 kernel_via router "$anycast_prefix6" "$frr_net6:1::2"
  await "BIRD to send $anycast_prefix4 to tokyo" 30 kernel_via router2 "$anycast_prefix4" "$bird_net4.1.2"
  await "BIRD to send $anycast_prefix6 to tokyo" 30 kernel_via router2 "$anycast_prefix6" "$bird_net6:1::2"
}

up() {
  preflight
  build
  mkdir -p "$pid_dir" "$log_dir"
  chmod 755 "$LAB_DIR"
  trap 'echo "lab: up failed; logs in $log_dir; tearing down" >&2; down' EXIT
  # A restart record left by an earlier lab would make a new agent announce
  # before its checks have run.
  rm -f "$LAB_DIR"/agents/*/restart.json
  topology
  frr_up
  bird_up
  ctl_start
  "$ANYCTL" --server "unix:$ctl_sock" apply -f "$here/lab.yaml" >/dev/null
  local p
  for p in "${pops[@]}"; do
    svc_start "$p"
    agent_start "$p"
  done
  await_tokyo
  trap - EXIT
  echo "lab: up; FRR and BIRD send $anycast_prefix4 and $anycast_prefix6 to tokyo; state in $LAB_DIR"
}

down() {
  local names=() f
  if [ -d "$pid_dir" ]; then
    for f in "$pid_dir"/*.pid; do
      [ -e "$f" ] || continue
      f=$(basename "$f" .pid)
      names+=("$f")
      case $f in
        # SIGTERM would be a graceful restart, leaving a restart record;
        # the routers go with the agents, so no stop needs to move traffic.
        agent-*) stop "$f" KILL ;;
        *) stop "$f" TERM ;;
      esac
    done
    [ ${#names[@]} -eq 0 ] || reap "${names[@]}"
  fi
  rm -f "$frr_dir"/run/*.pid "$frr_dir"/run/*.vty "$frr_dir/run/zserv.api" "$ctl_sock" \
    "$bird_dir/run/bird.pid" "$bird_ctl"
  local n
  for n in "${namespaces[@]}"; do
    if has_ns "$n"; then ip netns del "$(ns "$n")"; fi
  done
}

status() {
  local n name pid comm f
  echo "namespaces:"
  for n in "${namespaces[@]}"; do
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
    echo "router (FRR):"
    in_ns router vtysh --vty_socket "$frr_dir/run" -c 'show bgp ipv4 unicast summary' \
      -c 'show bgp ipv6 unicast summary' -c "show bgp ipv4 unicast $anycast_prefix4" \
      -c "show bgp ipv6 unicast $anycast_prefix6" | sed 's/^/  /'
    in_ns router ip -4 route show "$anycast_prefix4" | sed 's/^/  kernel: /'
    in_ns router ip -6 route show "$anycast_prefix6" | sed 's/^/  kernel: /'
  fi
  if has_ns router2 && [ -S "$bird_ctl" ]; then
    echo "router2 (BIRD):"
    { birdc -s "$bird_ctl" show protocols
      birdc -s "$bird_ctl" show route "$anycast_prefix4"
      birdc -s "$bird_ctl" show route "$anycast_prefix6"; } | sed 's/^/  /'
    in_ns router2 ip -4 route show "$anycast_prefix4" | sed 's/^/  kernel: /'
    in_ns router2 ip -6 route show "$anycast_prefix6" | sed 's/^/  kernel: /'
  fi
  if [ -S "$ctl_sock" ]; then
    echo "anyctl status:"
    "$ANYCTL" --server "unix:$ctl_sock" status | sed 's/^/  /' || true
  fi
}

# probe [CLIENT] [4|6] [ARGS...]
probe() {
  local client=client addr=$anycast4
  case ${1:-} in client | client2) client=$1; shift ;; esac
  case ${1:-} in
    4) shift ;;
    6) addr=$anycast6; shift ;;
  esac
  [ $# -gt 0 ] || set -- -count 1
  in_ns "$client" "$LABPROBE" -addr "$addr" "$@"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
  up) up ;;
  down) down ;;
  status) status ;;
  svc-stop) pop_index "${1:?svc-stop POP}" >/dev/null; stop "svc-$1" KILL; reap "svc-$1" ;;
  svc-start) pop_index "${1:?svc-start POP}" >/dev/null; svc_start "$1" ;;
  agent-restart) pop_index "${1:?agent-restart POP}" >/dev/null; agent_restart "$1" ;;
  agent-stop) pop_index "${1:?agent-stop POP}" >/dev/null; agent_signal "$1" INT ;;
  agent-start) pop_index "${1:?agent-start POP}" >/dev/null; agent_run "$1" ;;
  ctl-kill) stop controller KILL; reap controller ;;
  ctl-start) ctl_start ;;
  anyctl) exec "$ANYCTL" --server "unix:$ctl_sock" "$@" ;;
  vtysh) in_ns router vtysh --vty_socket "$frr_dir/run" "$@" ;;
  birdc) in_ns router2 birdc -s "$bird_ctl" "$@" ;;
  exec) n=${1:?exec NAME CMD...}; shift; in_ns "$n" "$@" ;;
  probe) probe "$@" ;;
  *) sed -n '/^# Usage/,/^set -euo/p' "$0" | sed '$d' >&2; exit 2 ;;
esac
