#!/usr/bin/env bash
# veilnet CNI plugin against the CNI spec (0.3.0 to 1.1.0) and libcni's
# conventions, as runtimes exercise it: every verb in every version (result
# and error shapes, exit status, nothing but JSON on stdout), the verbs a
# version does not have, VERSION, the CNI_* variables each verb needs and
# their validity, CNI_ARGS (unknown keys ignored, with or without
# IgnoreUnknown), a taken ifname, a second attachment of one container, CHECK on a damaged pod, GC with
# valid attachments (null included), STATUS, runtimeConfig, delegated
# IPAM's routes, and conflists run by cni-test (prevResult merged,
# capabilities, disableCheck, disableGC, cniVersions). Namespaces vnsa-*.
source "$(dirname "$0")/../lib.sh"

PLUGIN=$VN_BUILD/veilnet
CT=$VN_BUILD/cni-test
NODE=vnsa-node
UL=vnsa-ul
VERSIONS="0.3.0 0.3.1 0.4.0 1.0.0 1.1.0"
[[ $(id -u) -eq 0 ]] || t_skip "needs root (network namespaces)"
[[ -x $PLUGIN && -x $CT ]] || t_skip "build/veilnet or build/cni-test not built"
command -v jq >/dev/null || t_skip "jq is missing"

cleanup() {
	local ns
	for ns in $(ip netns list | awk '/^vnsa-/ {print $1}'); do ip netns del "$ns"; done
}
cleanup
t_cleanup cleanup
W=$(mktemp -d /tmp/vnsa-spec.XXXXXX)
t_cleanup "rm -rf '$W'"
DATA=$W/data

# the node: uplink eth0 (MTU 1500) to an underlay, default routes over it
setup() {
	ip netns add $NODE && ip netns add $UL || return 1
	ip -n $NODE link set lo up
	ip -n $NODE link add eth0 type veth peer name up0 netns $UL || return 1
	ip -n $NODE addr add 192.0.2.1/24 dev eth0
	ip -n $NODE addr add 2001:db8:5a::1/64 dev eth0 nodad
	ip -n $UL addr add 192.0.2.2/24 dev up0
	ip -n $UL addr add 2001:db8:5a::2/64 dev up0 nodad
	ip -n $NODE link set eth0 up && ip -n $UL link set up0 up
	ip netns exec $NODE sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	ip -n $NODE route add default via 192.0.2.2 && ip -n $NODE -6 route add default via 2001:db8:5a::2
}
setup || { t_fail "node setup"; t_done; }

# conf FILE VERSION [jq filter]: a dual-stack veilnet network configuration
conf() {
	jq -n --arg v "$2" --arg d "$DATA" '{cniVersion: $v, name: "vnsa-net", type: "veilnet",
		ipam: {ranges: [[{subnet: "10.66.0.0/24"}], [{subnet: "fd00:66::/64"}]], dataDir: $d},
		dns: {nameservers: ["10.96.0.10"]}}' | jq "${3:-.}" >"$1"
}

# cni CMD CID NETNS IFNAME CONF [CNI_ARGS]: the plugin run like a runtime
# runs it, in the node. Sets OUT (stdout) and RC (exit status).
cni() {
	OUT=$(ip netns exec $NODE env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin CNI_COMMAND="$1" \
		CNI_CONTAINERID="$2" CNI_NETNS="$3" CNI_IFNAME="$4" CNI_ARGS="${6:-}" \
		CNI_PATH=/usr/lib/cni "$PLUGIN" <"$5" 2>/dev/null)
	RC=$?
}

# failed CODE [VERSION [TEXT]]: the last call exited non-zero and printed
# exactly one error object with that code (and cniVersion, and TEXT in
# details)
failed() {
	[[ $RC -ne 0 ]] && jq -e -s --argjson c "$1" --arg v "${2:-}" --arg t "${3:-}" \
		'length == 1 and (.[0] | .code == $c and (.msg | type == "string" and length > 0)
		 and (.details | type == "string") and ($v == "" or .cniVersion == $v)
		 and ($t == "" or (.details | contains($t))))' <<<"$OUT" >/dev/null
}

# added VERSION: the last call succeeded with exactly one JSON result of
# that version
added() {
	[[ $RC -eq 0 ]] && jq -e -s --arg v "$1" \
		'length == 1 and (.[0] | .cniVersion == $v and (has("code") | not))' <<<"$OUT" >/dev/null
}

# quiet: the last call succeeded and printed nothing (DEL, CHECK, GC, STATUS)
quiet() { [[ $RC -eq 0 && -z $OUT ]]; }

# pod NAME: a fresh pod netns vnsa-NAME; prints its path
pod() {
	ip netns add "vnsa-$1" && ip -n "vnsa-$1" link set lo up
	echo "/run/netns/vnsa-$1"
}

has_records() { [[ -n $(records) ]]; }
# nothing_left: no veilnet host link and no reservation (a function, so
# that wait_until evaluates it anew each time)
nothing_left() { test -z "$(host_links)$(records)"; }
host_links() { ip -n $NODE -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep '^vn' || true; }
records() { ls "$DATA" 2>/dev/null | grep -E '^(ip-|vn)' || true; }
with_prev() { jq --slurpfile r "$2" '. + {prevResult: $r[0]}' "$1" >"$3"; }

# --- VERSION: cniVersion echoed, supportedVersions is what the plugin accepts
for v in $VERSIONS; do
	out=$(echo "{\"cniVersion\": \"$v\"}" | CNI_COMMAND=VERSION "$PLUGIN")
	t_check "VERSION $v: echoes cniVersion, one JSON document" \
		jq -e -s --arg v "$v" 'length == 1 and .[0].cniVersion == $v' <<<"$out"
done
listed=$(jq -r '.supportedVersions[]' <<<"$out" | sort | tr '\n' ' ')
conf "$W/probe.json" 1.1.0
accepted=""
for v in 0.1.0 0.2.0 $VERSIONS 1.2.0 2.0.0; do	# DEL of nothing succeeds iff the version is accepted
	jq --arg v "$v" '.cniVersion = $v' "$W/probe.json" >"$W/p.json"
	cni DEL probe "" eth0 "$W/p.json"
	[[ $RC -eq 0 ]] && accepted+="$v "
	[[ $RC -ne 0 ]] && ! failed 1 && t_fail "an unaccepted cniVersion $v fails with code 1" "$OUT"
done
t_check "supportedVersions lists exactly the versions accepted ($listed)" \
	test "$listed" = "$(tr ' ' '\n' <<<"$accepted" | grep . | sort | tr '\n' ' ')"
out=$(printf '{"cniVersion": "1.0\\"x\\\\"}' | CNI_COMMAND=VERSION "$PLUGIN")
t_check "VERSION echoes an odd cniVersion as valid JSON" jq -e '.cniVersion == "1.0\"x\\"' <<<"$out"
t_check "VERSION with an empty stdin answers" \
	bash -c "env -i CNI_COMMAND=VERSION '$PLUGIN' </dev/null | jq -e '.supportedVersions | length == 5'"

# --- every verb in every version
i=0
for v in $VERSIONS; do
	i=$((i + 1))
	conf "$W/v.json" "$v"
	ns=$(pod v$i)
	cni ADD "ver-$i" "$ns" eth0 "$W/v.json"
	echo "$OUT" >"$W/rv.json"
	t_check "ADD $v: exit 0, one JSON result, cniVersion $v" added "$v"
	t_check "ADD $v: only the spec's keys, each ips[] on an interface in CNI_NETNS" jq -e --arg ns "$ns" '
		(keys - ["cniVersion", "interfaces", "ips", "routes", "dns"] == [])
		and (.interfaces | all(keys - ["name", "mac", "mtu", "sandbox", "socketPath", "pciID"] == []))
		and (.routes | all(keys - ["dst", "gw", "mtu", "advmss", "priority", "table", "scope"] == []))
		and (.ips | length == 2) and (.interfaces as $ifs
			| .ips | all(.interface as $k | $ifs[$k].sandbox == $ns and $ifs[$k].name == "eth0"))' "$W/rv.json"
	if [[ $v == 0.* ]]; then
		t_check "ADD $v: ips carry version 4 and 6" \
			jq -e '[.ips[].version] == ["4", "6"] and (.ips | all(keys - ["version", "address", "gateway", "interface"] == []))' "$W/rv.json"
	else
		t_check "ADD $v: ips carry no version" \
			jq -e '.ips | all(keys - ["address", "gateway", "interface"] == [])' "$W/rv.json"
	fi
	kmtu=$(ip -n "vnsa-v$i" -j link show eth0 | jq '.[0].mtu')
	if [[ $v == 1.1.0 ]]; then
		t_check "ADD $v: interfaces carry the kernel's mtu ($kmtu)" \
			jq -e --argjson m "$kmtu" '.interfaces | all(.mtu == $m)' "$W/rv.json"
	else
		t_check "ADD $v: interfaces carry no mtu (1.1.0 field)" jq -e '.interfaces | all(has("mtu") | not)' "$W/rv.json"
	fi
	t_check "ADD $v: the pod's MAC is the result's" test "$(ip -n "vnsa-v$i" -j link show eth0 | jq -r '.[0].address')" = \
		"$(jq -r '.interfaces[] | select(.sandbox != null) | .mac' "$W/rv.json")"
	with_prev "$W/v.json" "$W/rv.json" "$W/cv.json"
	cni CHECK "ver-$i" "$ns" eth0 "$W/cv.json"
	if [[ $v == 0.3.* ]]; then
		t_check "CHECK $v: refused, code 1 (CHECK came with 0.4.0)" failed 1 "$v" CHECK
	else
		t_check "CHECK $v: exit 0, no output" quiet
	fi
	cni STATUS "" "" "" "$W/v.json"
	s_rc=$RC s_out=$OUT
	jq '. + {"cni.dev/valid-attachments": []}' "$W/v.json" >"$W/gv.json"
	cni GC "" "" "" "$W/gv.json"
	if [[ $v == 1.1.0 ]]; then
		t_check "STATUS $v: exit 0, no output" test "$s_rc:$s_out" = "0:"
		t_check "GC $v: exit 0, no output" quiet
		t_check "... and GC with no valid attachment removed the pod's link and record" \
			wait_until nothing_left
	else
		RC=$s_rc OUT=$s_out
		t_check "STATUS $v: refused, code 1 (STATUS came with 1.1.0)" failed 1 "$v" STATUS
		cni GC "" "" "" "$W/gv.json"
		t_check "GC $v: refused, code 1 (GC came with 1.1.0), removing nothing" \
			eval 'failed 1 $v GC && has_records'
	fi
	cni ADD "ver-$i" "$ns" "" "$W/v.json"
	t_check "$v error object: code 4 naming CNI_IFNAME, cniVersion $v, exit non-zero" failed 4 "$v" CNI_IFNAME
	cni DEL "ver-$i" "$ns" eth0 "$W/cv.json"
	t_check "DEL $v with prevResult: exit 0, no output" quiet
	cni DEL "ver-$i" "$ns" eth0 "$W/cv.json"
	t_check "DEL $v twice: exit 0, no output" quiet
done
t_check "nothing left after the versions" wait_until nothing_left
conf "$W/log.json" 1.1.0 '. + {logFile: "stderr", logLevel: "debug"}'
NSL=$(pod log)
OUT=$(ip netns exec $NODE env -i CNI_COMMAND=ADD CNI_CONTAINERID=log-1 CNI_NETNS="$NSL" CNI_IFNAME=eth0 \
	"$PLUGIN" <"$W/log.json" 2>"$W/log.err")
RC=$?
t_check "logging to stderr at debug: stdout is still exactly one JSON result" added 1.1.0
t_check "... and the log went to stderr" grep -q "ADD ifname=eth0" "$W/log.err"
cni DEL log-1 "$NSL" eth0 "$W/log.json"

conf "$W/c.json" 1.1.0
# --- the CNI_* variables each verb needs
NSE=$(pod env)
for var in CNI_CONTAINERID CNI_NETNS CNI_IFNAME; do
	cid=env-1 netns=$NSE ifn=eth0
	case $var in
	CNI_CONTAINERID) cid= ;;
	CNI_NETNS) netns= ;;
	CNI_IFNAME) ifn= ;;
	esac
	cni ADD "$cid" "$netns" "$ifn" "$W/c.json"
	t_check "ADD without $var: code 4 naming it" failed 4 1.1.0 "$var"
	cni CHECK "$cid" "$netns" "$ifn" "$W/c.json"
	t_check "CHECK without $var: code 4 naming it" failed 4 1.1.0 "$var"
	cni DEL "$cid" "$netns" "$ifn" "$W/c.json"
	if [[ $var == CNI_NETNS ]]; then
		t_check "DEL without CNI_NETNS succeeds" quiet
	else
		t_check "DEL without $var: code 4 naming it" failed 4 1.1.0 "$var"
	fi
done
cni STATUS "" "" "" "$W/c.json"
t_check "STATUS needs no CNI_CONTAINERID, CNI_NETNS or CNI_IFNAME" quiet
cni STATUS -bad relative a/b "$W/c.json" "junk;="
t_check "STATUS reads no attachment variable (invalid ones, CNI_ARGS junk)" quiet
jq '. + {"cni.dev/valid-attachments": []}' "$W/c.json" >"$W/g.json"
cni GC "" "" "" "$W/g.json"
t_check "GC needs no CNI_CONTAINERID, CNI_NETNS or CNI_IFNAME" quiet
cni GC -bad relative a/b "$W/g.json" "junk;="
t_check "GC reads no attachment variable (invalid ones, CNI_ARGS junk)" quiet
cni FROB env-1 "$NSE" eth0 "$W/c.json"
t_check "unknown CNI_COMMAND: code 4 naming it" failed 4 1.1.0 CNI_COMMAND
OUT=$(ip netns exec $NODE env -i "$PLUGIN" <"$W/c.json" 2>/dev/null)
RC=$?
t_check "no CNI_COMMAND: code 4 naming it" failed 4 1.1.0 CNI_COMMAND

# invalid interface names (libcni's ValidateInterfaceName) and container IDs
for ifn in 0123456789abcdef a/b a:b "a b" $'a\tb' . .. $'e\xc2\xa0x' $'e\xe2\x80\x83x' 'net%d'; do
	cni ADD env-2 "$NSE" "$ifn" "$W/c.json"
	t_check "CNI_IFNAME $(printf %q "$ifn"): code 4 naming it" failed 4 1.1.0 CNI_IFNAME
done
for cid in -abc _abc .abc "a b" a/b "a;b"; do
	cni ADD "$cid" "$NSE" eth0 "$W/c.json"
	t_check "CNI_CONTAINERID '$cid': code 4 naming it" failed 4 1.1.0 CNI_CONTAINERID
done
t_check "... and none of them made a link or a reservation" test -z "$(host_links)$(records)"
cni DEL env-2 "$NSE" 'net%d' "$W/c.json"
t_check "DEL with the kernel name template 'net%d' (which ADD refuses) succeeds" quiet
cni ADD A1_b.c-d "$NSE" 0123456789abcde "$W/c.json"
t_check "a 15-byte ifname and a container ID of [A-Za-z0-9_.-] are fine" \
	bash -c "[ $RC = 0 ] && ip -n vnsa-env link show 0123456789abcde >/dev/null"
cni DEL A1_b.c-d "$NSE" 0123456789abcde "$W/c.json"

# CNI_NETNS that is no container: missing, not a netns, the plugin's own
cni ADD env-3 /run/netns/vnsa-missing eth0 "$W/c.json"
t_check "ADD into a missing netns: code 3" failed 3 1.1.0 CNI_NETNS
cni ADD env-3 relative/path eth0 "$W/c.json"
t_check "ADD with a relative CNI_NETNS: code 4" failed 4 1.1.0 CNI_NETNS
cni ADD env-3 /run/netns/$NODE eth9 "$W/c.json"
t_check "ADD into the plugin's own netns: code 4 naming CNI_NETNS" failed 4 1.1.0 CNI_NETNS
t_check "... and the node got no eth9, no second default route, no reservation" bash -c \
	"! ip -n $NODE link show eth9 2>/dev/null && [ \$(ip -n $NODE route show default | wc -l) = 1 ] && [ -z \"\$(ls $DATA | grep ^vn)\" ]"

# CNI_ARGS: KEY=VALUE pairs; unknown keys are ignored (issue 2), with or
# without IgnoreUnknown
for a in FOO "=x" "IP=10.66.0.300"; do
	cni ADD env-4 "$NSE" eth0 "$W/c.json" "$a"
	t_check "CNI_ARGS '$a': code 4 naming CNI_ARGS" failed 4 1.1.0 CNI_ARGS
done
t_check "... leaving nothing" test -z "$(host_links)$(records)"
for a in "IgnoreUnknown=1;FOO=1" "FOO=1;IgnoreUnknown=true" "FOO=1" "IgnoreUnknown=0;FOO=1" "K8S_POD_NAMESPACE=x;K8S_POD_NAME=y;K8S_POD_UID=z;K8S_POD_INFRA_CONTAINER_ID=w" ";IP=10.66.0.50;"; do
	cni ADD env-5 "$NSE" eth0 "$W/c.json" "$a"
	t_check "CNI_ARGS '$a' is accepted" test "$RC" = 0
	cni DEL env-5 "$NSE" eth0 "$W/c.json" "$a"
done
cni ADD env-5 "$NSE" eth0 "$W/c.json" "IgnoreUnknown=1;IP=10.66.0.51"
t_check "IP= in CNI_ARGS is honoured" test "$(jq -r '.ips[0].address' <<<"$OUT")" = 10.66.0.51/32
cni DEL env-5 "$NSE" eth0 "$W/c.json"
cni DEL never-added /run/netns/vnsa-missing eth0 "$W/c.json"
t_check "DEL of a container never added, its netns missing, succeeds" quiet

# --- a taken ifname, a double ADD, a second attachment of one container
NSA=$(pod att)
ip -n vnsa-att link add eth5 type veth peer name eth6
cni ADD att-1 "$NSA" eth5 "$W/c.json"
t_check "ADD with CNI_IFNAME taken in the netns fails naming CNI_IFNAME" failed 4 1.1.0 CNI_IFNAME
t_check "... leaving the pod's eth5 and nothing of ours" bash -c \
	"ip -n vnsa-att link show eth5 >/dev/null && [ -z \"\$(ls $DATA | grep -E '^(ip-|vn)')\" ]"
cni ADD att-1 "$NSA" eth0 "$W/c.json"
echo "$OUT" >"$W/a0.json"
cni ADD att-1 "$NSA" eth0 "$W/c.json"
t_check "a second ADD of the same container and ifname fails" test "$RC" -ne 0
with_prev "$W/c.json" "$W/a0.json" "$W/ca0.json"
cni CHECK att-1 "$NSA" eth0 "$W/ca0.json"
t_check "... and the first attachment is intact (CHECK passes)" quiet
cni ADD att-1 "$NSA" net1 "$W/c.json"
echo "$OUT" >"$W/a1.json"
t_check "the same container on a second ifname succeeds" \
	bash -c "[ $RC = 0 ] && ip -n vnsa-att -4 addr show dev net1 | grep -q \"\$(jq -r '.ips[0].address' $W/a1.json)\""
t_check "... with its own addresses" test "$(jq -r '.ips[0].address' "$W/a0.json")" != "$(jq -r '.ips[0].address' "$W/a1.json")"
t_check "... the first attachment's default route kept" bash -c \
	"ip -n vnsa-att route show default | grep -q 'dev eth0' && ip -n vnsa-att -6 route show default | grep -q 'dev eth0'"
with_prev "$W/c.json" "$W/a1.json" "$W/ca1.json"
cni CHECK att-1 "$NSA" net1 "$W/ca1.json"
t_check "... CHECK of the second passes" quiet
cni CHECK att-1 "$NSA" eth0 "$W/ca0.json"
t_check "... CHECK of the first still passes" quiet
t_check "... the node reaches both addresses" bash -c \
	"ip netns exec $NODE ping -c1 -W2 \$(jq -r '.ips[0].address' $W/a0.json | cut -d/ -f1) >/dev/null &&
	 ip netns exec $NODE ping -c1 -W2 \$(jq -r '.ips[0].address' $W/a1.json | cut -d/ -f1) >/dev/null"
cni DEL att-1 "$NSA" net1 "$W/ca1.json"
t_check "DEL of the second attachment" quiet
t_check "... leaves the first" bash -c "ip -n vnsa-att link show eth0 >/dev/null && [ -e $DATA/\$(jq -r '.interfaces[0].name' $W/a0.json).json ]"

# --- CHECK on a damaged pod fails (code 100) saying what is wrong
A4=$(jq -r '.ips[0].address' "$W/a0.json")
A6=$(jq -r '.ips[1].address' "$W/a0.json")
HA=$(jq -r '.interfaces[0].name' "$W/a0.json")
ip -n vnsa-att addr del "$A4" dev eth0
cni CHECK att-1 "$NSA" eth0 "$W/ca0.json"
t_check "CHECK with the pod's IPv4 address removed: code 100 naming it" failed 100 1.1.0 "address $A4"
ip -n vnsa-att addr add "$A4" dev eth0
ip -n vnsa-att route replace default via 169.254.1.1 dev eth0 onlink
cni CHECK att-1 "$NSA" eth0 "$W/ca0.json"
t_check "... passes once repaired" quiet
ip -n vnsa-att -6 route del default
cni CHECK att-1 "$NSA" eth0 "$W/ca0.json"
t_check "CHECK with the pod's IPv6 default route removed: code 100 naming it" failed 100 1.1.0 "route ::/0"
ip -n vnsa-att -6 route add default via fe80::1 dev eth0
ip -n vnsa-att route replace default via 169.254.1.9 dev eth0 onlink
cni CHECK att-1 "$NSA" eth0 "$W/ca0.json"
t_check "CHECK with the default route via another gateway: code 100" failed 100 1.1.0 "route 0.0.0.0/0"
ip -n vnsa-att route replace default via 169.254.1.1 dev eth0 onlink
ip -n vnsa-att link set eth0 down
cni CHECK att-1 "$NSA" eth0 "$W/ca0.json"
t_check "CHECK with the pod's link down: code 100 saying so" failed 100 1.1.0 "eth0 is down"
ip -n vnsa-att link set eth0 up
ip -n vnsa-att addr add "$A6" dev eth0 nodad 2>/dev/null
ip -n vnsa-att route replace default via 169.254.1.1 dev eth0 onlink
ip -n vnsa-att -6 route replace default via fe80::1 dev eth0
ip -n $NODE route del "${A4%/*}"
cni CHECK att-1 "$NSA" eth0 "$W/ca0.json"
t_check "CHECK with the node's route to the pod removed: code 100 naming it" failed 100 1.1.0 "host route to $A4"
ip -n $NODE route add "${A4%/*}" dev "$HA"
cni CHECK att-1 "$NSA" eth0 "$W/ca0.json"
t_check "... passes once repaired" quiet
cni CHECK att-1 "$NSA" eth0 "$W/c.json"
t_check "CHECK without prevResult: code 7" failed 7 1.1.0 prevResult
cni DEL att-1 "$NSA" eth0 "$W/ca0.json"
t_check "DEL of the first attachment" quiet

# --- runtimeConfig: ips honoured, other capabilities ignored
NSR=$(pod rc)
conf "$W/rc.json" 1.1.0 '. + {runtimeConfig: {ips: ["10.66.0.77/24", "fd00:66::77"], mac: "02:00:00:00:00:77",
	portMappings: [{hostPort: 8080, containerPort: 80, protocol: "tcp"}], bandwidth: {ingressRate: 1000}}}'
cni ADD rc-1 "$NSR" eth0 "$W/rc.json"
t_check "runtimeConfig.ips is honoured, other capabilities ignored" \
	eval 'added 1.1.0 && jq -e "[.ips[].address] == [\"10.66.0.77/32\", \"fd00:66::77/128\"]" <<<"$OUT"'
cni DEL rc-1 "$NSR" eth0 "$W/rc.json"
conf "$W/rc2.json" 1.1.0 '. + {runtimeConfig: {ips: ["10.99.0.1"]}}'
cni ADD rc-2 "$NSR" eth0 "$W/rc2.json"
t_check "a runtimeConfig.ips address outside the ranges: code 7" failed 7 1.1.0

# --- GC: cni.dev/valid-attachments, cni.dev/attachments, null
gc_pods() {
	local k
	for k in 1 2 3; do
		cni ADD "gc-$k" "$(pod gc$k)" eth0 "$W/c.json" || return 1
		echo "$OUT" >"$W/gc$k.json"
	done
}
gc_host() { jq -r '.interfaces[0].name' "$W/gc$1.json"; }
gc_pods
jq '. + {"cni.dev/valid-attachments": [{containerID: "gc-1", ifname: "eth0"}, {containerID: "gc-2", ifname: "eth0"}]}' \
	"$W/c.json" >"$W/gc.json"
cni GC "" "" "" "$W/gc.json"
t_check "GC with cni.dev/valid-attachments: exit 0, no output" quiet
t_check "... released gc-3 (link, record)" bash -c "! ip -n $NODE link show $(gc_host 3) 2>/dev/null && [ ! -e $DATA/$(gc_host 3).json ]"
t_check "... kept gc-1 and gc-2" bash -c "ip -n $NODE link show $(gc_host 1) >/dev/null && ip -n $NODE link show $(gc_host 2) >/dev/null"
jq '. + {"cni.dev/attachments": [{containerID: "gc-1", ifname: "eth0"}]}' "$W/c.json" >"$W/gc.json"
cni GC "" "" "" "$W/gc.json"
t_check "GC with cni.dev/attachments (the spec text's key) released gc-2, kept gc-1" bash -c \
	"[ $RC = 0 ] && ! ip -n $NODE link show $(gc_host 2) 2>/dev/null && ip -n $NODE link show $(gc_host 1) >/dev/null"
cni GC "" "" "" "$W/c.json"
t_check "GC without any list of valid attachments: code 7, nothing removed" \
	eval 'failed 7 1.1.0 && ip -n $NODE link show $(gc_host 1)'
jq '. + {"cni.dev/valid-attachments": null, "cni.dev/attachments": null}' "$W/c.json" >"$W/gc.json"
cni GC "" "" "" "$W/gc.json"
t_check "GC with null (libcni, no valid attachment) released everything" \
	bash -c "[ $RC = 0 ] && [ -z \"\$(ls $DATA | grep -E '^(ip-|vn)')\" ] && ! ip -n $NODE link show $(gc_host 1) 2>/dev/null"

# --- STATUS: 50 when ADD cannot succeed
conf "$W/small.json" 1.1.0 '.ipam.ranges = [[{subnet: "10.67.0.0/30"}]] | .ipam.dataDir += "-small"'
NSS=$(pod st)
cni ADD st-1 "$NSS" eth0 "$W/small.json"
cni ADD st-2 "$NSS" eth1 "$W/small.json"
cni STATUS "" "" "" "$W/small.json"
t_check "STATUS with the range exhausted: code 50" failed 50 1.1.0
cni ADD st-3 "$NSS" eth2 "$W/small.json"
t_check "... and ADD fails then" test "$RC" -ne 0
cni DEL st-2 "$NSS" eth1 "$W/small.json"
cni STATUS "" "" "" "$W/small.json"
t_check "STATUS once an address is free again: exit 0, no output" quiet
: >"$W/file"
conf "$W/baddir.json" 1.1.0 ".ipam.dataDir = \"$W/file/sub\""
cni STATUS "" "" "" "$W/baddir.json"
t_check "STATUS with an unusable data directory: code 50" failed 50 1.1.0
cni DEL st-1 "$NSS" eth0 "$W/small.json"

# --- delegated IPAM (host-local): its routes are applied and reported
if [[ -x /usr/lib/cni/host-local ]]; then
	jq -n --arg d "$W/hl" '{cniVersion: "1.0.0", name: "vnsa-hl", type: "veilnet",
		ipam: {type: "host-local", dataDir: $d, ranges: [[{subnet: "10.68.0.0/24"}]],
		       routes: [{dst: "10.96.0.0/12"}, {dst: "0.0.0.0/0"}]}}' >"$W/hl.json"
	NSH=$(pod hl)
	cni ADD hl-1 "$NSH" eth0 "$W/hl.json"
	t_check "delegated IPAM's route is in the result" \
		eval 'added 1.0.0 && jq -e "[.routes[].dst] == [\"0.0.0.0/0\", \"10.96.0.0/12\"]" <<<"$OUT"'
	t_check "... and in the pod, via the link-local gateway" bash -c \
		"ip -n vnsa-hl route show 10.96.0.0/12 | grep -q 'via 169.254.1.1 dev eth0'"
	cni DEL hl-1 "$NSH" eth0 "$W/hl.json"
	t_check "... DEL releases host-local's address" bash -c "[ $RC = 0 ] && ! ls $W/hl/vnsa-hl | grep -q '^10\.'"
fi

# --- 1.1.0 route attributes: mtu, advmss and priority reach the kernel and
# the result (not a 1.0.0 result); table and scope are unsupported fields
conf "$W/rattr.json" 1.1.0 '.ipam.routes = [{dst: "10.97.0.0/16", mtu: 1300, advmss: 1260, priority: 50}]'
NSR=$(pod rattr)
cni ADD ra-1 "$NSR" eth0 "$W/rattr.json"
t_check "route attributes are in the 1.1.0 result" eval 'added 1.1.0 && jq -e \
	".routes | map(select(.dst == \"10.97.0.0/16\"))[0] | .mtu == 1300 and .advmss == 1260 and .priority == 50" <<<"$OUT"'
t_check "... and on the pod's route in the kernel" bash -c \
	"ip -n vnsa-rattr route show 10.97.0.0/16 | grep -q 'via 169.254.1.1 dev eth0 .*metric 50 .*mtu 1300 advmss 1260'"
cni DEL ra-1 "$NSR" eth0 "$W/rattr.json"
conf "$W/rattr10.json" 1.0.0 '.ipam.routes = [{dst: "10.97.0.0/16", mtu: 1300}]'
cni ADD ra-2 "$NSR" eth0 "$W/rattr10.json"
t_check "a 1.0.0 result carries no route attributes" eval 'added 1.0.0 && jq -e \
	"[.routes[] | has(\"mtu\")] | any | not" <<<"$OUT"'
cni DEL ra-2 "$NSR" eth0 "$W/rattr10.json"
for f in table scope; do
	conf "$W/rattr-$f.json" 1.1.0 ".ipam.routes = [{dst: \"10.97.0.0/16\", $f: 100}]"
	cni ADD ra-3 "$NSR" eth0 "$W/rattr-$f.json"
	t_check "route $f: code 2 naming the field" failed 2 1.1.0 "\"$f\""
done
t_check "... leaving nothing" test -z "$(host_links)$(records)"

# --- conflists run by cni-test as a runtime: prevResult, capabilities
ct() { "$CT" exec-in $NODE -- "$CT" "$@" --cache-dir "$W/cache" --cni-path "$VN_BUILD:/usr/lib/cni"; }
jq -n --arg d "$DATA" '{cniVersion: "1.0.0", name: "vnsa-chain", plugins: [
	{type: "loopback"},
	{type: "veilnet", capabilities: {ips: true}, ipam: {ranges: [[{subnet: "10.69.0.0/24"}]], dataDir: $d}},
	{type: "tuning", capabilities: {mac: true}},
	{type: "portmap", capabilities: {portMappings: true}}]}' >"$W/chain.conflist"
out=$(ct add --conf "$W/chain.conflist" --netns-create vnsa-ch1 \
	--runtime-config '{"ips": ["10.69.0.9"], "mac": "02:aa:bb:cc:dd:01", "portMappings": [{"hostPort": 18080, "containerPort": 80, "protocol": "tcp"}]}')
RC=$? OUT=$out
t_check "conflist ADD: loopback, veilnet, tuning, portmap" added 1.0.0
t_check "... veilnet kept loopback's result first and pointed its ips at its own eth0" jq -e '
	.interfaces[0].name == "lo" and ([.ips[] | select(.address == "10.69.0.9/32") | .interface] as [$k]
	| .interfaces[$k].name == "eth0")' <<<"$out"
t_check "... tuning's mac (a later plugin) is in the final result and the pod" bash -c \
	"[ \"\$(ip -n vnsa-ch1 -j link show eth0 | jq -r '.[0].address')\" = 02:aa:bb:cc:dd:01 ]"
t_check "conflist CHECK with the cached prevResult (changed by tuning) passes" \
	ct check --conf "$W/chain.conflist" --netns-create vnsa-ch1
jq '.disableCheck = true' "$W/chain.conflist" >"$W/nocheck.conflist"
ip -n vnsa-ch1 link set eth0 down
t_check_not "conflist CHECK of the damaged pod fails" ct check --conf "$W/chain.conflist" --netns-create vnsa-ch1
t_check "... but not with disableCheck (the runtime calls nothing)" \
	ct check --conf "$W/nocheck.conflist" --netns-create vnsa-ch1
t_check "conflist DEL" ct del --conf "$W/chain.conflist" --netns-create vnsa-ch1
t_check "... leaves no link and no reservation" wait_until nothing_left

jq -n --arg d "$DATA" '{cniVersion: "1.1.0", cniVersions: ["0.4.0", "1.0.0", "1.1.0"], name: "vnsa-v11",
	plugins: [{type: "veilnet", ipam: {ranges: [[{subnet: "10.70.0.0/24"}]], dataDir: $d}}]}' >"$W/v11.conflist"
out=$(ct add --conf "$W/v11.conflist" --netns-create vnsa-ch2)
RC=$? OUT=$out
t_check "1.1.0 conflist with cniVersions: ADD answers 1.1.0" eval 'added 1.1.0 && jq -e ".interfaces[0].mtu > 0" <<<"$out"'
t_check "... STATUS" ct status --conf "$W/v11.conflist"
t_check "... GC keeps the cached attachment" eval 'ct gc --conf "$W/v11.conflist" && has_records'
jq '.disableGC = true' "$W/v11.conflist" >"$W/nogc.conflist"
t_check "... with disableGC, a GC with no valid attachment removes nothing" \
	eval 'ct gc --conf "$W/nogc.conflist" --valid "" && has_records'
t_check "... DEL" ct del --conf "$W/v11.conflist" --netns-create vnsa-ch2
t_check "nothing left at the end" wait_until nothing_left
t_done
