#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, when running as root and
# they are missing. Without root it says what is missing; tests that need a
# package skip with a message naming it.
set -euo pipefail
# frr, bird2 and tcpdump: the routed anycast lab (lab/, deploy/lab/).
# unbound: dnsgslb's TestUnboundStubZone resolves through it (and fails
# without it).
# chromium: the web console's browser tests (controller/console).
# prometheus: promtool, for the alert rules' tests (deploy/prometheus).
# bind9-dnsutils: delv, the validating resolver that judges signed zones.
# bind9-utils: dnssec-settime, which must read the key files we write
# (dnsgslb/dnssec).
# dnsviz: dnsgslb's TestDNSVizJudgesSignedZone probes and judges the signed
# zone with it.
# nsd: dnsgslb's TestNSDAgrees compares our answers with NSD's for the
# zone's static records (it skips without it).
# knot: dnsgslb's TestJudgedEdges asks NSD and Knot DNS the protocol's edge
# cases along with our server (it leaves out a judge that is missing), and
# TestKnotSignedAgrees compares the signed zone with Knot's (it skips
# without it).
pkgs=(iproute2 frr bird2 tcpdump unbound chromium prometheus bind9-dnsutils bind9-utils dnsviz nsd knot)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "test-deps: not root; missing packages: ${missing[*]} (tests that need them will skip)"
  exit 0
fi
echo "test-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
