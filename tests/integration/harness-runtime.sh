#!/usr/bin/env bash
# cni-test behaves like the runtimes that drive CNI plugins (containerd and
# CRI-O through libcni 1.1/1.2, podman 4, kubelet's CNI_ARGS): teardown
# after a failed ADD, cniVersions, libcni's result cache (format, place,
# prevResult for CHECK and DEL, version conversion), GC and STATUS as
# libcni 1.2 runs them, VERSION negotiation, disableCheck/disableGC,
# capabilities, CNI_ARGS, exit status and output. It drives Debian's
# reference plugins, build/veilnet and small shell-script plugins written
# into a temp dir. Everything runs in a node netns vnhr-node; pods are
# vnhr-*.
source "$(dirname "$0")/../lib.sh"

CT=$VN_BUILD/cni-test
NODE=vnhr-node
[[ $(id -u) == 0 ]] || t_skip "needs root (network namespaces)"
[[ -x $CT ]] || t_skip "$CT is not built"
[[ -x /usr/lib/cni/ptp && -x /usr/lib/cni/host-local ]] ||
	t_skip "Debian's containernetworking-plugins are not installed"
command -v jq >/dev/null || t_skip "jq is missing"

W=$(mktemp -d /tmp/vnhr.XXXXXX)
DEFAULT_ENTRY=/var/lib/cni/results/vnhr-default-vnhr-def-eth0
cleanup() {
	local ns
	"$CT" cluster destroy vnhr-cl
	for ns in $(ip netns list | awk '/^vnhr-/ {print $1}'); do ip netns del "$ns"; done
	rm -rf "$W" "$DEFAULT_ENTRY"
}
cleanup
mkdir -p "$W/cache" "$W/bin"
t_cleanup cleanup
ip netns add $NODE
ip -n $NODE link set lo up

BIN=$W/bin
LOG=$BIN/log
# in the node: cni-test OP ARGS... with the suite's cache and plugin path
ct() { "$CT" exec-in $NODE -- "$CT" "$@" --cache-dir "$W/cache" --cni-path "$BIN:$VN_BUILD:/usr/lib/cni"; }
# calls [FILTER]: the logged plugin calls (one JSON object each), then the log is emptied
calls() { jq -c "${1:-.}" "$LOG" 2>/dev/null; : >"$LOG"; }
veths() { ip -n $NODE -o link show type veth | wc -l; }
reserved() { ls "$W/ipam/$1" 2>/dev/null | grep -c '^10\.'; }

# A fake plugin. Each call appends {cmd, type, cid, netns, ifname, args,
# path, conf} to $BIN/log. The config key "fail" maps a command to what it
# does instead of succeeding: an error object (printed compact, exit 3),
# "garbage" (prints a line that is not JSON, exit 2) or "kill" (SIGKILL).
# VERSION answers $BIN/TYPE.versions if it exists. ADD prints prevResult
# (if any) or a result in the config's version, with keys libcni does not
# know ("x-extra", an interface's "x-unknown"); "omitVersion" leaves
# cniVersion out of it.
cat >"$BIN/fake" <<'SH'
#!/bin/sh
in=$(cat)
dir=$(dirname "$0")
type=$(basename "$0")
printf '%s' "$in" | jq -c --arg cmd "$CNI_COMMAND" --arg type "$type" --arg cid "$CNI_CONTAINERID" \
	--arg netns "$CNI_NETNS" --arg ifname "$CNI_IFNAME" --arg args "$CNI_ARGS" --arg path "$CNI_PATH" \
	'{cmd: $cmd, type: $type, cid: $cid, netns: $netns, ifname: $ifname, args: $args, path: $path, conf: .}' \
	>>"$dir/log"
f=$(printf '%s' "$in" | jq -c --arg c "$CNI_COMMAND" '.fail[$c] // empty' 2>/dev/null)
case $f in
'') ;;
'"garbage"') echo 'this is not json'; exit 2 ;;
'"kill"') kill -KILL $$ ;;
*) printf '%s\n' "$f"; exit 3 ;;
esac
case $CNI_COMMAND in
VERSION)
	if [ -f "$dir/$type.versions" ]; then cat "$dir/$type.versions"
	else echo '{"cniVersion":"1.1.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}'; fi ;;
ADD)
	printf '%s' "$in" | jq -c 'if .prevResult then .prevResult + {cniVersion: .cniVersion} else
		{cniVersion: .cniVersion, "x-extra": true,
		 interfaces: [{name: "fk0", mac: "02:00:00:00:00:01", sandbox: "/x", "x-unknown": 1}],
		 ips: [{address: "10.99.0.1/32", interface: 0} + (if (.cniVersion | startswith("0.")) then {version: "4"} else {} end)],
		 dns: {}} end | if .omitVersion then del(.cniVersion) else . end' ;;
esac
exit 0
SH
chmod +x "$BIN/fake"
for t in fa fb fc; do ln -s fake "$BIN/$t"; done
# lptp: Debian's ptp, logging each call (command, whether it had a prevResult)
cat >"$BIN/lptp" <<'SH'
#!/bin/sh
in=$(cat)
printf '%s' "$in" | jq -c --arg cmd "$CNI_COMMAND" '{cmd: $cmd, type: "lptp", prev: has("prevResult")}' >>"$(dirname "$0")/log"
printf '%s' "$in" | exec /usr/lib/cni/ptp
SH
chmod +x "$BIN/lptp"
: >"$LOG"

# conflist NAME VERSION PLUGIN-JSON...: writes $W/NAME.conflist
conflist() {
	local name=$1 ver=$2
	shift 2
	jq -n --arg n "$name" --arg v "$ver" '{cniVersion: $v, name: $n, plugins: $ARGS.positional}' \
		--jsonargs "$@" >"$W/$name.conflist"
}
PTP='{"type": "lptp", "ipMasq": false, "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.251.1.0/24"}]], "dataDir": "'$W/ipam'"}}'

# (t_check's own variable is "out": checks run by eval read "res" instead)

# ============ 1. a failed ADD is torn down: DEL of the chain, in reverse, no prevResult
conflist vnhr-td 1.0.0 "$PTP" '{"type": "fa", "fail": {"ADD": {"code": 7, "msg": "fa says no", "details": "by design"}}}'
out=$(ct add --conf "$W/vnhr-td.conflist" --netns-create vnhr-a 2>"$W/stderr")
rc=$?
t_check "failed ADD exits with the failing plugin's status (3)" test "$rc" -eq 3
t_check "stdout is the plugin's error object, unchanged" test "$out" = '{"code":7,"msg":"fa says no","details":"by design"}'
c=$(calls '"\(.cmd) \(.type) \(.prev // (.conf | has("prevResult")))"' | tr -d '"' | tr '\n' ',')
t_check "runs ADD lptp, ADD fa, then DEL fa, DEL lptp (reverse) without prevResult" \
	test "$c" = "ADD lptp false,ADD fa true,DEL fa false,DEL lptp false,"
t_check "the teardown removed ptp's veth from the node" test "$(veths)" -eq 0
t_check "the teardown released host-local's address" test "$(reserved vnhr-td)" -eq 0
t_check_not "nothing is cached for the failed ADD" test -e "$W/cache/results/vnhr-td-vnhr-a-eth0"
t_check_not "the netns cni-test made is gone" test -e /var/run/netns/vnhr-a

out=$(ct add --conf "$W/vnhr-td.conflist" --netns-create vnhr-a --no-teardown 2>/dev/null)
rc=$?
t_check "--no-teardown: same status and error object" \
	test "$rc" -eq 3 -a "$out" = '{"code":7,"msg":"fa says no","details":"by design"}'
t_check "--no-teardown: no DEL ran" test "$(calls '.cmd' | tr -d '"\n')" = "ADDADD"
t_check "--no-teardown: what the failed ADD left is there (veth, address)" \
	test "$(veths)" -eq 1 -a "$(reserved vnhr-td)" -eq 1
t_check "--no-teardown: the netns cni-test made stays too" test -e /var/run/netns/vnhr-a
t_check "a DEL by hand cleans it up" eval 'ct del --conf "$W/vnhr-td.conflist" --netns-create vnhr-a && test "$(veths)" -eq 0 -a "$(reserved vnhr-td)" -eq 0'
: >"$LOG"

# a teardown DEL that fails too: ADD's status and error object still win
conflist vnhr-td2 1.0.0 '{"type": "fa", "fail": {"DEL": {"code": 5, "msg": "del fails"}}}' \
	'{"type": "fb", "fail": {"ADD": {"code": 11, "msg": "try later"}}}'
out=$(ct add --conf "$W/vnhr-td2.conflist" --netns-create vnhr-b 2>"$W/stderr")
rc=$?
t_check "teardown DEL fails too: still ADD's status and error" \
	test "$rc" -eq 3 -a "$out" = '{"code":11,"msg":"try later"}'
t_check "... the teardown failure is reported on stderr" grep -q 'DEL' "$W/stderr"
t_check "... DEL stopped at the first failing plugin, like libcni" \
	test "$(calls '"\(.cmd) \(.type)"' | tr -d '"' | tr '\n' ,)" = "ADD fa,ADD fb,DEL fb,DEL fa,"

# a plugin missing from CNI_PATH half-way: cni-test's own failure (125). The
# teardown DEL (reverse order) stops at the missing plugin, as libcni's
# DelNetworkList does, so ptp's reservation stays: a runtime leaks it too.
conflist vnhr-td3 1.0.0 "$PTP" '{"type": "no-such-plugin"}'
ct add --conf "$W/vnhr-td3.conflist" --netns-create vnhr-c >/dev/null 2>"$W/stderr"
rc=$?
t_check "a plugin missing half-way: exit 125" test $rc -eq 125
t_check "... the teardown was tried and stopped at the missing plugin" eval \
	'grep -q "no-such-plugin" "$W/stderr" && test "$(calls .cmd | tr -d "\"\n")" = ADD -a "$(reserved vnhr-td3)" -eq 1'
conflist vnhr-td3 1.0.0 "$PTP"
ct del --conf "$W/vnhr-td3.conflist" --netns "" --container-id vnhr-c >/dev/null
t_check "... a DEL of the network releases it" test "$(reserved vnhr-td3)" -eq 0 -a "$(veths)" -eq 0
: >"$LOG"

# ============ 2. cniVersions: the highest version cni-test (like libcni 1.2) supports
jq -n '{cniVersion: "0.4.0", cniVersions: ["0.3.1", "1.0.0", "1.1.0", "1.2.0", "2.0.0"], name: "vnhr-vs",
	plugins: [{type: "fa"}]}' >"$W/vs.conflist"
out=$(ct add --conf "$W/vs.conflist" --netns "" --container-id vnhr-vs --verbose 2>"$W/stderr")
t_check "cniVersions: the plugin gets 1.1.0 (1.2.0 and 2.0.0 are unknown to libcni 1.2)" \
	test "$(calls '.conf.cniVersion')" = '"1.1.0"'
t_check "--verbose says which version it picked (on stderr)" grep -q 'network vnhr-vs: CNI version 1\.1\.0, the highest of cniVersions' "$W/stderr"
t_check "... and stdout is still just the result" jq -e '.cniVersion == "1.1.0"' <<<"$out"
ct del --conf "$W/vs.conflist" --netns "" --container-id vnhr-vs >/dev/null 2>&1
jq -n '{cniVersions: ["3.0.0", "2.1.0"], name: "vnhr-vs2", plugins: [{type: "fa"}]}' >"$W/vs2.conflist"
: >"$LOG"
ct add --conf "$W/vs2.conflist" --netns "" --container-id vnhr-vs >/dev/null 2>"$W/stderr"
t_check "cniVersions with no supported version: exit 125" test $? -eq 125
t_check "... no plugin ran" test ! -s "$LOG"
jq -n '{cniVersion: "1.0.0", cniVersions: ["1.x"], name: "vnhr-vs3", plugins: [{type: "fa"}]}' >"$W/vs3.conflist"
t_check_not "cniVersions with an invalid entry is refused" ct add --conf "$W/vs3.conflist" --netns "" --container-id vnhr-vs
if [[ -x $VN_BUILD/veilnet ]]; then
	jq -n --arg d "$W/vnipam" '{cniVersion: "0.4.0", cniVersions: ["0.4.0", "1.1.0"], name: "vnhr-vn",
		plugins: [{type: "veilnet", ipam: {ranges: [[{subnet: "10.251.3.0/24"}]], dataDir: $d}}]}' >"$W/vn.conflist"
	out=$(ct add --conf "$W/vn.conflist" --netns-create vnhr-vn)
	t_check "veilnet with cniVersions [0.4.0, 1.1.0] answers 1.1.0" jq -e '.cniVersion == "1.1.0"' <<<"$out"
	t_check "... and DEL" ct del --conf "$W/vn.conflist" --netns-create vnhr-vn
fi

# ============ 3. the result cache, as libcni keeps it
conflist vnhr-cache 1.0.0 "$PTP" '{"type": "fa", "capabilities": {"portMappings": true, "mac": false}}'
RC='{"portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}], "mac": "02:00:00:00:00:09"}'
out=$(ct add --conf "$W/vnhr-cache.conflist" --netns-create vnhr-d --args "IgnoreUnknown=1;A=b" --runtime-config "$RC")
entry=$W/cache/results/vnhr-cache-vnhr-d-eth0
t_check "ADD: cache entry <cache>/results/<network>-<containerID>-<ifname>" test -f "$entry"
t_check "... mode 0600 in a 0700 results/ dir" test "$(stat -c %a "$entry") $(stat -c %a "$W/cache/results")" = "600 700"
t_check "... kind, containerId, ifName, networkName, netns" jq -e '.kind == "cniCacheV1" and .containerId == "vnhr-d" and
	.ifName == "eth0" and .networkName == "vnhr-cache" and .netns == "/var/run/netns/vnhr-d"' "$entry"
t_check "... cniArgs as libcni's [key, value] pairs" jq -e '.cniArgs == [["IgnoreUnknown", "1"], ["A", "b"]]' "$entry"
t_check "... capabilityArgs: the runtime's capability arguments" jq -e --argjson rc "$RC" '.capabilityArgs == $rc' "$entry"
t_check "... config: the conflist's bytes, base64 (Go's []byte)" bash -c "jq -r .config '$entry' | base64 -d | cmp -s - '$W/vnhr-cache.conflist'"
t_check "... result: the ADD result as libcni re-encodes it (unknown keys dropped)" jq -e --argjson out "$out" \
	'.result == ($out | del(."x-extra") | .interfaces |= map(del(."x-unknown")) | del(.dns))' "$entry"
t_check "the plugin with the capability got runtimeConfig, only its key" \
	test "$(calls 'select(.type == "fa") | .conf.runtimeConfig | keys')" = '["portMappings"]'
ct check --conf "$W/vnhr-cache.conflist" --netns-create vnhr-d >/dev/null
t_check "... lptp and fa had a prevResult" test "$(jq -s 'map(.prev // (.conf | has("prevResult"))) | all' "$LOG")" = true
t_check "... fa's prevResult is the cached result" jq -e --slurpfile e "$entry" -s \
	'map(select(.type == "fa"))[0].conf.prevResult == $e[0].result' "$LOG"
: >"$LOG"
# the network changed to 0.4.0 while the pod lived: libcni converts the cached result
jq '.cniVersion = "0.4.0"' "$W/vnhr-cache.conflist" >"$W/vnhr-cache04.conflist"
ct check --conf "$W/vnhr-cache04.conflist" --netns-create vnhr-d >/dev/null 2>&1
t_check "CHECK of a 0.4.0 config: prevResult converted to 0.4.0 (ips[].version)" jq -e -s \
	'map(select(.type == "fa"))[0].conf.prevResult | .cniVersion == "0.4.0" and (.ips | all(.version == "4"))' "$LOG"
: >"$LOG"
ct del --conf "$W/vnhr-cache.conflist" --netns-create vnhr-d --runtime-config "$RC" >/dev/null
t_check "DEL: reverse order, both with the cached result, runtimeConfig too" \
	test "$(calls '"\(.type):\(.prev // (.conf | has("prevResult"))):\(.conf.runtimeConfig.portMappings | length)"' | tr -d '"' | tr '\n' ,)" = "fa:true:1,lptp:true:0,"
t_check_not "DEL removed the cache entry" test -e "$entry"
t_check "... and the pod's veth and address" test "$(veths)" -eq 0 -a "$(reserved vnhr-cache)" -eq 0

# CHECK without a cache entry: like libcni, the plugins run without prevResult
# (ptp's own error comes back)
conflist vnhr-nc 1.0.0 '{"type": "fa", "fail": {"CHECK": {"code": 7, "msg": "no prevResult"}}}'
out=$(ct check --conf "$W/vnhr-nc.conflist" --netns "" --container-id vnhr-none 2>/dev/null)
rc=$?
t_check "CHECK with nothing cached runs the plugin without prevResult" \
	test "$(calls '.conf | has("prevResult")')" = false
t_check "... and passes its error through" test "$rc" -eq 3 -a "$out" = '{"code":7,"msg":"no prevResult"}'
# a corrupt cache entry: DEL still runs (without prevResult) and removes it; CHECK fails
mkdir -p "$W/cache/results"
echo '{"kind": "cniCacheV1", "result": ' >"$W/cache/results/vnhr-nc-vnhr-bad-eth0"
t_check_not "CHECK with a corrupt cache entry fails" ct check --conf "$W/vnhr-nc.conflist" --netns "" --container-id vnhr-bad
: >"$LOG"
t_check "DEL with a corrupt cache entry succeeds" ct del --conf "$W/vnhr-nc.conflist" --netns "" --container-id vnhr-bad
t_check "... without prevResult" test "$(calls '.conf | has("prevResult")')" = false
t_check_not "... and the corrupt entry is gone" test -e "$W/cache/results/vnhr-nc-vnhr-bad-eth0"
# a result without cniVersion: libcni takes the config's version
conflist vnhr-nv 1.0.0 '{"type": "fa", "omitVersion": true}' '{"type": "fb"}'
out=$(ct add --conf "$W/vnhr-nv.conflist" --netns "" --container-id vnhr-nv)
t_check "a result without cniVersion is passed on with the config's version" \
	test "$(calls 'select(.type == "fb") | .conf.prevResult.cniVersion')" = '"1.0.0"'
ct del --conf "$W/vnhr-nv.conflist" --netns "" --container-id vnhr-nv >/dev/null
: >"$LOG"

# the default cache dir is libcni's /var/lib/cni, and CNI_TEST_CACHE_DIR moves it
conflist vnhr-default 1.0.0 '{"type": "fa"}'
"$CT" add --conf "$W/vnhr-default.conflist" --netns "" --container-id vnhr-def --cni-path "$BIN" >/dev/null
t_check "default cache: /var/lib/cni/results/<network>-<containerID>-<ifname>" jq -e '.kind == "cniCacheV1"' "$DEFAULT_ENTRY"
"$CT" del --conf "$W/vnhr-default.conflist" --netns "" --container-id vnhr-def --cni-path "$BIN" >/dev/null
t_check_not "... DEL removes it" test -e "$DEFAULT_ENTRY"
CNI_TEST_CACHE_DIR=$W/envcache "$CT" add --conf "$W/vnhr-default.conflist" --netns "" --container-id vnhr-def --cni-path "$BIN" >/dev/null
t_check "CNI_TEST_CACHE_DIR overrides it" test -f "$W/envcache/results/vnhr-default-vnhr-def-eth0" -a ! -e "$DEFAULT_ENTRY"
CNI_TEST_CACHE_DIR=$W/envcache "$CT" del --conf "$W/vnhr-default.conflist" --netns "" --container-id vnhr-def --cni-path "$BIN" >/dev/null
t_check "... and DEL finds it there" test ! -e "$W/envcache/results/vnhr-default-vnhr-def-eth0"
: >"$LOG"

# ============ 4. GC like libcni 1.2: stale cached attachments get a DEL, then GC per plugin
conflist vnhr-gc 1.1.0 "$PTP"
# ptp speaks 1.0.0; a 1.0.0 list of the same network name shares the cache
conflist vnhr-gc 1.0.0 "$PTP"
ct add --conf "$W/vnhr-gc.conflist" --netns-create vnhr-e >/dev/null
ct add --conf "$W/vnhr-gc.conflist" --netns-create vnhr-f --args "IgnoreUnknown=1;K=v" >/dev/null
: >"$LOG"
t_check "two pods, two cache entries" test "$(ls "$W/cache/results" | grep -c '^vnhr-gc-')" -eq 2
t_check "GC keeping vnhr-e" ct gc --conf "$W/vnhr-gc.conflist" --valid vnhr-e:eth0
t_check "... DEL'd the stale vnhr-f only, with its cached result" \
	test "$(calls '"\(.cmd):\(.prev)"' | tr -d '"\n')" = "DEL:true"
t_check "... vnhr-f's cache entry is gone, vnhr-e's stays" \
	test ! -e "$W/cache/results/vnhr-gc-vnhr-f-eth0" -a -e "$W/cache/results/vnhr-gc-vnhr-e-eth0"
t_check "... one veth and one address left (vnhr-e's)" test "$(veths)" -eq 1 -a "$(reserved vnhr-gc)" -eq 1
t_check "... a 1.0.0 network gets no plugin GC" test ! -s "$LOG"
jq '.disableGC = "TRUE"' "$W/vnhr-gc.conflist" >"$W/nogc.conflist"
t_check "disableGC (the string \"TRUE\", as libcni reads it): GC does nothing" \
	eval 'ct gc --conf "$W/nogc.conflist" --valid "" && test -e "$W/cache/results/vnhr-gc-vnhr-e-eth0" -a "$(veths)" -eq 1'
t_check "GC with nothing valid DELs vnhr-e too" eval 'ct gc --conf "$W/vnhr-gc.conflist" --valid "" &&
	test "$(veths)" -eq 0 -a "$(reserved vnhr-gc)" -eq 0 -a ! -e "$W/cache/results/vnhr-gc-vnhr-e-eth0"'
: >"$LOG"
conflist vnhr-gc11 1.1.0 '{"type": "fa", "capabilities": {"portMappings": true}}' '{"type": "fb", "fail": {"GC": {"code": 5, "msg": "gc failed"}}}' '{"type": "fc"}'
ct add --conf "$W/vnhr-gc11.conflist" --netns "" --container-id vnhr-g1 >/dev/null
: >"$LOG"
out=$(ct gc --conf "$W/vnhr-gc11.conflist" --runtime-config '{"portMappings": []}' 2>/dev/null)
rc=$?
t_check "1.1.0 GC: every plugin runs even after one failed" \
	test "$(jq -s -c 'map(.type)' "$LOG")" = '["fa","fb","fc"]'
t_check "... the failure is the exit status and the error object" test "$rc" -eq 3 -a "$out" = '{"code":5,"msg":"gc failed"}'
t_check "... cni.dev/valid-attachments and cni.dev/attachments (libcni sets both)" jq -e -s \
	'all(.conf["cni.dev/valid-attachments"] == [{"containerID": "vnhr-g1", "ifname": "eth0"}] and
	     .conf["cni.dev/attachments"] == .conf["cni.dev/valid-attachments"])' "$LOG"
t_check "... CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS are empty; no runtimeConfig" jq -e -s \
	'all(.cid == "" and .netns == "" and .ifname == "" and .args == "" and (.conf | has("runtimeConfig") | not))' "$LOG"
: >"$LOG"
out=$(ct status --conf "$W/vnhr-gc11.conflist" --container-id x --args A=1)
rc=$?
t_check "STATUS: each plugin in order, empty attachment variables" eval \
	'test $rc -eq 0 && jq -e -s "map(.type) == [\"fa\",\"fb\",\"fc\"] and all(.cid == \"\" and .ifname == \"\" and .args == \"\")" "$LOG"'
: >"$LOG"
jq '.plugins[1].fail = {"STATUS": {"code": 50, "msg": "not ready"}}' "$W/vnhr-gc11.conflist" >"$W/st.conflist"
res=$(ct status --conf "$W/st.conflist" 2>/dev/null)
rc=$?
t_check "STATUS stops at the first failing plugin with its error" eval \
	'test $rc -eq 3 -a "$res" = "{\"code\":50,\"msg\":\"not ready\"}" && test "$(calls .type | tr -d "\"\n")" = fafb'
ct del --conf "$W/vnhr-gc11.conflist" --netns "" --container-id vnhr-g1 >/dev/null
: >"$LOG"

# ============ 5. VERSION negotiation, disableCheck, CNI_ARGS, libcni's checks
conflist vnhr-ver 1.1.0 '{"type": "fa"}' "$PTP"
out=$(ct version --conf "$W/vnhr-ver.conflist" 2>"$W/stderr")
rc=$?
t_check "VERSION: ptp does not list 1.1.0 -> exit 125" test "$rc" -eq 125
t_check "... with libcni's message" grep -q 'plugin lptp does not support config version "1.1.0"' "$W/stderr"
t_check "... VERSION gets libcni's stdin and dummy CNI_NETNS/IFNAME/PATH" jq -e -s \
	'.[0] | .conf == {"cniVersion": "1.1.0"} and .netns == "dummy" and .ifname == "dummy" and .path == "dummy" and .cid == ""' "$LOG"
: >"$LOG"
conflist vnhr-ver2 1.0.0 '{"type": "fa"}' "$PTP"
res=$(ct version --conf "$W/vnhr-ver2.conflist")
rc=$?
t_check "VERSION of a 1.0.0 list with ptp: exit 0, one JSON answer per plugin" eval \
	'test $rc -eq 0 && test "$(jq -s length <<<"$res")" -eq 2'
echo '{"cniVersion": "0.2.0"}' >"$BIN/fc.versions"
conflist vnhr-ver3 0.2.0 '{"type": "fc"}'
t_check "a 0.2.0 VERSION answer without supportedVersions means 0.1.0 and 0.2.0" ct version --conf "$W/vnhr-ver3.conflist"
echo '{"supportedVersions": ["1.0.0"]}' >"$BIN/fc.versions"
conflist vnhr-ver4 1.0.0 '{"type": "fc"}'
"$CT" version --conf "$W/vnhr-ver4.conflist" --cni-path "$BIN" >/dev/null 2>"$W/stderr"
rc=$?
t_check "an answer without cniVersion is refused (125)" eval 'test $rc -eq 125 && grep -q "missing field cniVersion" "$W/stderr"'
rm -f "$BIN/fc.versions"
: >"$LOG"

jq '.disableCheck = "true"' "$W/vnhr-nc.conflist" >"$W/nocheck.conflist"
t_check "disableCheck (the string \"true\"): CHECK calls nothing" eval \
	'ct check --conf "$W/nocheck.conflist" --netns "" --container-id vnhr-x && test ! -s "$LOG"'

conflist vnhr-k8s 1.0.0 '{"type": "fa"}'
ct add --conf "$W/vnhr-k8s.conflist" --netns "" --container-id vnhr-sandbox1 --k8s-pod ns1/web --pod-uid 0f0f0f0f-1111-4222-8333-444455556666 >/dev/null
t_check "--k8s-pod: CNI_ARGS as kubelet builds them" test "$(calls .args)" = \
	'"IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=vnhr-sandbox1;K8S_POD_UID=0f0f0f0f-1111-4222-8333-444455556666"'
ct del --conf "$W/vnhr-k8s.conflist" --netns "" --container-id vnhr-sandbox1 --k8s-pod ns1/web >/dev/null
t_check "... a K8S_POD_UID is made up when not given, the same for DEL" \
	grep -Eq 'K8S_POD_UID=[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"' "$LOG"
: >"$LOG"
# veilnet stores the pod's namespace and name from CNI_ARGS with its reservation
if [[ -x $VN_BUILD/veilnet ]]; then
	jq -n --arg d "$W/vnk8s" '{cniVersion: "1.1.0", name: "vnhr-vnk", plugins: [{type: "veilnet",
		ipam: {ranges: [[{subnet: "10.251.4.0/24"}]], dataDir: $d}}]}' >"$W/vnk.conflist"
	ct add --conf "$W/vnk.conflist" --netns-create vnhr-k --k8s-pod shop/cart >/dev/null
	t_check "veilnet recorded K8S_POD_NAMESPACE and K8S_POD_NAME from --k8s-pod" \
		bash -c "grep -rqs 'shop' '$W/vnk8s' && grep -rqs 'cart' '$W/vnk8s'"
	t_check "... and DEL removes it" eval 'ct del --conf "$W/vnk.conflist" --netns-create vnhr-k --k8s-pod shop/cart &&
		! grep -rqs cart "$W/vnk8s"'
fi

conflist vnhr-id 1.0.0 '{"type": "fa"}'
ct add --conf "$W/vnhr-id.conflist" --netns "" --container-id 'bad id' >/dev/null 2>"$W/stderr"
rc=$?
t_check "ADD with a container ID libcni refuses: 125, no plugin run" eval \
	'test $rc -eq 125 && grep -q "invalid characters in containerID" "$W/stderr" && test ! -s "$LOG"'
ct add --conf "$W/vnhr-id.conflist" --netns "" --container-id ok --ifname 'a-very-long-ifname' >/dev/null 2>&1
rc=$?
t_check "ADD with a 16-character ifname: 125, no plugin run" eval 'test $rc -eq 125 && test ! -s "$LOG"'

# ============ 6. exit status and output: nothing but JSON on stdout
conflist vnhr-out 1.0.0 '{"type": "fa", "fail": {"ADD": "garbage"}}'
out=$(ct add --conf "$W/vnhr-out.conflist" --netns "" --container-id vnhr-o 2>"$W/stderr")
rc=$?
t_check "a plugin printing non-JSON: its status (2)" test "$rc" -eq 2
t_check "... stdout is a CNI error object naming the output" jq -e '.msg | test("not json")' <<<"$out"
t_check "... the raw output goes to stderr" grep -q 'this is not json' "$W/stderr"
conflist vnhr-kill 1.0.0 '{"type": "fa", "fail": {"ADD": "kill"}}'
ct add --conf "$W/vnhr-kill.conflist" --netns "" --container-id vnhr-o >"$W/stdout" 2>/dev/null
t_check "a plugin killed by SIGKILL: exit 137" test $? -eq 137
t_check "... stdout is libcni's description of it as a CNI error object" \
	jq -e '.code == 0 and (.msg | test("no error message: signal: killed"))' "$W/stdout"
out=$(ct del --conf "$W/vnhr-id.conflist" --netns "" --container-id vnhr-o)
t_check "a successful DEL prints nothing" test -z "$out"
: >"$LOG"

# ============ 7. a cluster's pods get kubelet's CNI_ARGS too (the fake as the plugin)
t_check "cluster create vnh-cl with the fake plugin" "$CT" cluster create vnhr-cl --nodes 1 --plugin "$BIN/fake" --ipv4-only
: >"$LOG"
t_check "pod add shop/cart" "$CT" pod add vnhr-cl n1 shop/cart
args=$(calls 'select(.cmd == "ADD") | .args' | tr -d '"')
t_check "pod add: IgnoreUnknown, namespace, name, sandbox ID and a K8S_POD_UID, in kubelet's order" grep -Eqx \
	'IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=cart;K8S_POD_INFRA_CONTAINER_ID=vnhr-cl-shop-cart;K8S_POD_UID=[0-9a-f-]{36}' <<<"$args"
"$CT" pod del vnhr-cl shop/cart
t_check "pod del: DEL gets the same CNI_ARGS" test "$(calls 'select(.cmd == "DEL") | .args' | tr -d '"')" = "$args"
"$CT" cluster destroy vnhr-cl

t_check "no veth left in the node" test "$(veths)" -eq 0
t_done
