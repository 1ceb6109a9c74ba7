#!/usr/bin/env bash
# deploy-manifests: the Kubernetes deployment files (deploy/) checked as far
# as a machine without an API server allows.
#
#  1. rbac.yaml and daemonset.yaml parse as YAML; structural checks of what
#     the deployment relies on, and no misspelled key at the levels written
#     by hand (deploy-manifests.py); the checker itself catches broken copies.
#  2. Every object validates against the Kubernetes OpenAPI schema of its
#     kind, and the ValidatingAdmissionPolicy's CEL decides 18 admission
#     requests as intended (deploy-manifests.mjs, with kubernetes-models and
#     @marcbachmann/cel-js from npm, installed once into build/deploy-check;
#     skipped, and said so, when node or the npm registry is not there).
#  3. deploy/10-veilnet.conflist is what the agent renders, and the real
#     plugin wires a pod with a rendered conflist (netns vne-dep-*).
#  4. node-agent.sh install, with a stand-in kubectl: binary and conflist
#     land whole (temp file + rename; a reader racing 30 installs never sees
#     a partial file), no temp file left, repeatable, clear errors.
# Not tried here (no API server): kubectl apply, admission by a real API
# server (its CEL type checker), the DaemonSet under a real kubelet.
source "$(dirname "$0")/../lib.sh"

DEPLOY=$VN_ROOT/deploy
W=$(mktemp -d /tmp/vne-dep.XXXXXX)
t_cleanup rm -rf "$W"
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3

# ---- 1. YAML and structure -------------------------------------------------
if ! $PY -c 'import yaml' 2>/dev/null; then
	t_fail "python3-yaml" "not installed (make deps installs it)"
	t_done
fi
out=$($PY "$VN_ROOT/tests/integration/deploy-manifests.py" "$DEPLOY" --dump-json "$W/json" 2>&1)
rc=$?
while IFS= read -r line; do
	case $line in
	"ok   - "*) t_pass "${line#ok   - }" ;;
	"FAIL - "*) t_fail "${line#FAIL - }" ;;
	*) [[ -n "$line" ]] && echo "$line" ;;
	esac
done <<<"$out"
((rc == 0)) || t_fail "deploy-manifests.py" "exit status $rc"

# The checker must catch broken manifests: each broken copy fails it.
broken() { # broken NAME FILE SED_EXPR
	local d=$W/broken-$1
	mkdir -p "$d"
	cp "$DEPLOY"/*.yaml "$d/"
	sed -i "$3" "$d/$2"
	if cmp -s "$d/$2" "$DEPLOY/$2"; then
		t_fail "checker catches: $1" "the edit did not apply"
		return
	fi
	t_check_not "checker catches: $1" $PY "$VN_ROOT/tests/integration/deploy-manifests.py" "$d"
}
broken "no hostNetwork" daemonset.yaml 's/hostNetwork: true/hostNetwork: false/'
broken "wildcard verb" rbac.yaml 's/verbs: \["get", "list", "watch", "patch"\]/verbs: ["*"]/'
broken "secrets readable" rbac.yaml 's/resources: \["pods", "namespaces"\]/resources: ["pods", "namespaces", "secrets"]/'
broken "misspelled toleration key" daemonset.yaml 's/^      tolerations:/      toleration:/'
broken "policy that fails open" rbac.yaml 's/failurePolicy: Fail/failurePolicy: Ignore/'
broken "YAML that does not parse" daemonset.yaml 's/^  template:/  template: [/'

# ---- 2. schemas and the admission policy's CEL ----------------------------------
NPM_DIR=$VN_ROOT/build/deploy-check
NPM_PKGS=(kubernetes-models@5.1.0 @marcbachmann/cel-js@8.0.0)
npm_ready() {
	[[ -d $NPM_DIR/node_modules/kubernetes-models && -d $NPM_DIR/node_modules/@marcbachmann/cel-js ]]
}
if command -v node >/dev/null && command -v npm >/dev/null; then
	if ! npm_ready; then
		mkdir -p "$NPM_DIR"
		timeout 300 npm install --prefix "$NPM_DIR" --no-audit --no-fund --no-save \
			--loglevel=error "${NPM_PKGS[@]}" >"$W/npm.log" 2>&1 ||
			echo "npm install failed: $(tail -n 3 "$W/npm.log")"
	fi
	if npm_ready; then
		out=$(NODE_PATH=$NPM_DIR/node_modules node "$VN_ROOT/tests/integration/deploy-manifests.mjs" "$W/json" 2>&1)
		rc=$?
		while IFS= read -r line; do
			case $line in
			"ok   - "*) t_pass "${line#ok   - }" ;;
			"FAIL - "*) t_fail "${line#FAIL - }" ;;
			*) [[ -n "$line" ]] && echo "$line" ;;
			esac
		done <<<"$out"
		((rc == 0)) || t_fail "deploy-manifests.mjs" "exit status $rc"
		# and the schema check can fail: a DaemonSet with a mistyped field
		cp -r "$W/json" "$W/json-bad"
		jq '.spec.template.spec.hostNetwork = "true"' "$W/json/DaemonSet-veilnet.json" \
			>"$W/json-bad/DaemonSet-veilnet.json"
		t_check_not "schema check catches a string where a boolean belongs" \
			env NODE_PATH="$NPM_DIR/node_modules" node "$VN_ROOT/tests/integration/deploy-manifests.mjs" "$W/json-bad"
	else
		echo "SKIP (part): schema and CEL checks: npm packages ${NPM_PKGS[*]} could not be installed"
	fi
else
	echo "SKIP (part): schema and CEL checks need node and npm"
fi

# ---- 3. the conflist ----------------------------------------------------------
AGENT=$DEPLOY/node-agent.sh
t_check "node-agent.sh is valid bash" bash -n "$AGENT"
t_check "example conflist is JSON" jq -e '.plugins[0].type == "veilnet"' "$DEPLOY/10-veilnet.conflist"
mapfile -t cidrs < <(jq -r '.plugins[0].ipam.ranges[][] .subnet' "$DEPLOY/10-veilnet.conflist")
VEILNET_CNI_BIN_DIR=$W/none VEILNET_MTU=$(jq '.plugins[0].mtu' "$DEPLOY/10-veilnet.conflist") \
	bash "$AGENT" render-conflist "${cidrs[@]}" >"$W/rendered.conflist"
t_check "example conflist = what the agent renders for the same node" \
	cmp <(jq -S . "$DEPLOY/10-veilnet.conflist") <(jq -S . "$W/rendered.conflist")
t_check "no portmap on the node: veilnet alone, CNI 1.1.0" \
	jq -e '[.plugins[].type] == ["veilnet"] and .cniVersion == "1.1.0"' "$W/rendered.conflist"
# portmap stand-ins answering VERSION like a new, an old and a broken plugin
fake_portmap() { # fake_portmap DIR VERSIONS_JSON|broken
	mkdir -p "$1"
	if [[ $2 == broken ]]; then
		printf '#!/bin/sh\nexit 1\n' >"$1/portmap"
	else
		printf '#!/bin/sh\necho %s\n' "'{\"cniVersion\":\"1.0.0\",\"supportedVersions\":$2}'" >"$1/portmap"
	fi
	chmod +x "$1/portmap"
}
fake_portmap "$W/pm-new" '["0.4.0","1.0.0","1.1.0"]'
fake_portmap "$W/pm-old" '["0.3.1","0.4.0","1.0.0"]'
fake_portmap "$W/pm-bad" broken
render_with() { VEILNET_CNI_BIN_DIR=$1 bash "$AGENT" render-conflist 10.99.0.0/24 2>/dev/null; }
t_check "portmap speaking 1.1.0: chained, CNI 1.1.0" bash -c \
	"$(declare -f render_with); AGENT='$AGENT' render_with '$W/pm-new' | jq -e '[.plugins[].type] == [\"veilnet\", \"portmap\"] and .cniVersion == \"1.1.0\"'"
t_check "portmap speaking up to 1.0.0: chained, CNI 1.0.0" bash -c \
	"$(declare -f render_with); AGENT='$AGENT' render_with '$W/pm-old' | jq -e '[.plugins[].type] == [\"veilnet\", \"portmap\"] and .cniVersion == \"1.0.0\"'"
t_check "portmap that does not answer VERSION: left out" bash -c \
	"$(declare -f render_with); AGENT='$AGENT' render_with '$W/pm-bad' | jq -e '[.plugins[].type] == [\"veilnet\"]'"
t_check_not "a malformed pod CIDR is refused" bash "$AGENT" render-conflist '10.0.0.0/24"}'

# The real plugin with a rendered conflist (its own data dir and a small
# range), chained with Debian's portmap when installed, as on a kubeadm node.
if [[ $EUID -eq 0 && -x $VN_BUILD/cni-test && -x $VN_BUILD/veilnet ]]; then
	mkdir -p "$W/cnibin"
	cp "$VN_BUILD/veilnet" "$W/cnibin/"
	[[ -x /usr/lib/cni/portmap ]] && cp /usr/lib/cni/portmap "$W/cnibin/"
	VEILNET_CNI_BIN_DIR=$W/cnibin bash "$AGENT" render-conflist 10.250.7.0/28 fd00:250:7::/120 |
		jq --arg d "$W/ipam" '.plugins[0].ipam.dataDir = $d' >"$W/pod.conflist"
	t_cleanup ip netns del vne-dep-pod
	if t_out=$("$VN_BUILD/cni-test" add --conf "$W/pod.conflist" --netns-create vne-dep-pod \
		--container-id vne-dep-1 --cni-path "$W/cnibin" 2>&1); then
		t_pass "plugin ADD with the rendered conflist ($(jq -r '[.plugins[].type] | join(" + ")' "$W/pod.conflist"))"
		ip4=$(jq -r '.ips[] | .address' <<<"$t_out" | grep -v : | head -n 1)
		t_check "pod address from the node's range ($ip4)" grep -q '^10\.250\.7\.' <<<"$ip4"
		t_check "pod has its address in the kernel" bash -c \
			"ip -n vne-dep-pod -o addr show dev eth0 | grep -q ' ${ip4%/*}/'"
		t_check "plugin DEL with the rendered conflist" "$VN_BUILD/cni-test" del --conf "$W/pod.conflist" \
			--netns /run/netns/vne-dep-pod --container-id vne-dep-1 --cni-path "$W/cnibin"
	else
		t_fail "plugin ADD with the rendered conflist" "$(tail -n 3 <<<"$t_out")"
	fi
else
	echo "SKIP (part): plugin run with the rendered conflist (needs root and build/veilnet, build/cni-test)"
fi

# ---- 4. node-agent.sh install with a stand-in kubectl ------------------------------
# The stand-in answers from $FAKE_KUBE/node.json the way kubectl would.
mkdir -p "$W/fakebin" "$W/kube"
cat >"$W/fakebin/kubectl" <<'EOF'
#!/usr/bin/env bash
# stand-in kubectl for deploy-manifests.sh: one node, from $FAKE_KUBE/node.json
echo "$*" >>"$FAKE_KUBE/calls"
case "$1 $2" in
"get node")
	case "$*" in
	*podCIDRs*) jq -r '.spec.podCIDRs[]?' "$FAKE_KUBE/node.json" ;;
	*podCIDR*) jq -r '.spec.podCIDR // empty' "$FAKE_KUBE/node.json" ;;
	*) cat "$FAKE_KUBE/node.json" ;;
	esac ;;
*) echo "stand-in kubectl: unsupported: $*" >&2; exit 1 ;;
esac
EOF
chmod +x "$W/fakebin/kubectl"
mkdir -p "$W/image/bin" "$W/host/opt/cni/bin" "$W/host/etc/cni/net.d"
printf '#!/bin/sh\necho veilnet-test-binary\n' >"$W/image/bin/veilnet"
chmod 0755 "$W/image/bin/veilnet"
echo '{"metadata": {"name": "node-a"}, "spec": {"podCIDRs": ["10.244.9.0/24", "fd00:10:244:9::/64"]}}' >"$W/kube/node.json"
agent_install() { # agent_install [VAR=VALUE...]
	env FAKE_KUBE="$W/kube" KUBECTL="$W/fakebin/kubectl" NODE_NAME=node-a \
		VEILNET_BIN_DIR="$W/image/bin" VEILNET_CNI_BIN_DIR="$W/host/opt/cni/bin" \
		VEILNET_CNI_CONF_DIR="$W/host/etc/cni/net.d" VEILNET_PODCIDR_WAIT=0 "$@" \
		bash "$AGENT" install
}
CONF=$W/host/etc/cni/net.d/10-veilnet.conflist
t_check "install succeeds" agent_install
t_check "binary installed, same bytes" cmp "$W/image/bin/veilnet" "$W/host/opt/cni/bin/veilnet"
t_check "binary installed executable" test -x "$W/host/opt/cni/bin/veilnet"
t_check "conflist written, valid JSON" jq -e . "$CONF"
t_check "conflist has the node's pod CIDRs" jq -e \
	'[.plugins[0].ipam.ranges[][] .subnet] == ["10.244.9.0/24", "fd00:10:244:9::/64"]' "$CONF"
t_check "conflist mode 0644" test "$(stat -c %a "$CONF")" = 644
t_check "no temp file left in net.d or bin" test -z "$(find "$W/host/etc/cni/net.d" "$W/host/opt/cni/bin" -name '.*')"
t_check "install again (restart) succeeds" agent_install
t_check "second install leaves one conflist" test "$(ls "$W/host/etc/cni/net.d" | wc -l)" -eq 1
echo '{"metadata": {"name": "node-a"}, "spec": {"podCIDR": "10.244.5.0/24"}}' >"$W/kube/node.json"
t_check "single-stack node (spec.podCIDR only)" agent_install
t_check "conflist follows the node" jq -e '[.plugins[0].ipam.ranges[][] .subnet] == ["10.244.5.0/24"]' "$CONF"
echo '{"metadata": {"name": "node-a"}, "spec": {}}' >"$W/kube/node.json"
err=$(agent_install 2>&1)
t_check_not "node without pod CIDRs: install fails" agent_install
t_check "node without pod CIDRs: the error says why" grep -q 'no spec.podCIDRs' <<<"$err"
t_check "node without pod CIDRs: the previous conflist stays" jq -e \
	'[.plugins[0].ipam.ranges[][] .subnet] == ["10.244.5.0/24"]' "$CONF"
t_check_not "install without NODE_NAME fails" env NODE_NAME= bash "$AGENT" install
t_check_not "unknown command fails" bash "$AGENT" frobnicate

# Atomicity: a reader polling the conflist while 30 installs alternate between
# two different nodes never sees anything but a whole, valid file.
echo '{"metadata": {"name": "node-a"}, "spec": {"podCIDRs": ["10.244.9.0/24", "fd00:10:244:9::/64"]}}' >"$W/kube/a.json"
echo '{"metadata": {"name": "node-a"}, "spec": {"podCIDRs": ["10.244.10.0/24"]}}' >"$W/kube/b.json"
: >"$W/reader.bad"
(
	end=$((SECONDS + 60))
	while [[ ! -e $W/stop ]] && ((SECONDS < end)); do
		jq -e '.plugins[0].ipam.ranges | length > 0' "$CONF" >/dev/null 2>&1 || echo bad >>"$W/reader.bad"
		[[ -x $W/host/opt/cni/bin/veilnet ]] || echo "binary missing" >>"$W/reader.bad"
	done
) &
reader=$!
for ((i = 0; i < 30; i++)); do
	cp "$W/kube/$( ((i % 2)) && echo a || echo b).json" "$W/kube/node.json"
	agent_install 2>/dev/null || echo "install $i failed" >>"$W/reader.bad"
done
touch "$W/stop"
wait "$reader"
t_check "30 installs raced by a reader: every read whole ($(wc -l <"$W/reader.bad") bad)" test ! -s "$W/reader.bad"
t_done
