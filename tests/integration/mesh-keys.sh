#!/usr/bin/env bash
# mesh-keys: veilnet-mesh's key handling and command line, against wg(8):
# genkey/init/pubkey/publish, file mode and owner, no-clobber, --force,
# the RFC 7748 vector through `wg pubkey`, keys never printed, and mesh
# description errors that name node and field (before anything changes).
source "$(dirname "$0")/../lib.sh"

MESH=$VN_BUILD/veilnet-mesh
[[ -x $MESH ]] || t_skip "$MESH is not built"
command -v wg >/dev/null || t_skip "wg (wireguard-tools) is not installed"

T=$(mktemp -d /tmp/vnmk.XXXXXX)
t_cleanup "rm -rf $T"
umask 022	# the key file must be 0600 whatever the umask

# ---- genkey ----
"$MESH" genkey --key-file "$T/etc/mesh.key" >"$T/out" 2>"$T/err"
t_check "genkey succeeds" test $? = 0
t_check "genkey prints only the public key" test "$(wc -l <"$T/out")" = 1
t_check "the key file is mode 0600" test "$(stat -c %a "$T/etc/mesh.key")" = 600
t_check "the key file is owned by root" test "$(stat -c %u:%g "$T/etc/mesh.key")" = 0:0
t_check "its directory is private" test "$(stat -c %a "$T/etc")" = 700
t_check "the printed key is wg pubkey of the file" \
	test "$(cat "$T/out")" = "$(wg pubkey <"$T/etc/mesh.key")"
t_check_not "the private key is not printed" grep -qF "$(cat "$T/etc/mesh.key")" "$T/out" "$T/err"
t_check "pubkey prints the same key" test "$("$MESH" pubkey --key-file "$T/etc/mesh.key")" = "$(cat "$T/out")"

cp "$T/etc/mesh.key" "$T/before"
t_check_not "genkey never overwrites an existing key" "$MESH" genkey --key-file "$T/etc/mesh.key"
t_check "the key is unchanged" cmp -s "$T/before" "$T/etc/mesh.key"
t_check "init keeps an existing key" test "$("$MESH" init --key-file "$T/etc/mesh.key")" = "$(cat "$T/out")"
t_check "init creates a missing key" "$MESH" init --key-file "$T/etc/other.key"
"$MESH" genkey --force --key-file "$T/etc/mesh.key" >"$T/out2"
t_check "genkey --force replaces the key" test "$(cat "$T/out2")" != "$(cat "$T/out")"
t_check "the new key file matches the new public key" \
	test "$(cat "$T/out2")" = "$(wg pubkey <"$T/etc/mesh.key")"
t_check "the new key file is still 0600" test "$(stat -c %a "$T/etc/mesh.key")" = 600
t_check "no temp file is left" test "$(ls "$T/etc" | wc -l)" = 2

# ---- the RFC 7748 vector, and keys wg genkey wrote ----
(umask 077 && echo "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=" >"$T/rfc.key")
t_check "RFC 7748 vector: veilnet-mesh pubkey = wg pubkey" \
	test "$("$MESH" pubkey --key-file "$T/rfc.key")" = "$(wg pubkey <"$T/rfc.key")"
t_check "RFC 7748 vector: the known public key" \
	test "$("$MESH" pubkey --key-file "$T/rfc.key")" = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="
(umask 077 && wg genkey >"$T/wg.key")
t_check "a key from wg genkey: the same public key" \
	test "$("$MESH" pubkey --key-file "$T/wg.key")" = "$(wg pubkey <"$T/wg.key")"
chmod 644 "$T/wg.key"
"$MESH" pubkey --key-file "$T/wg.key" >"$T/out" 2>"$T/err"
t_check "a key file others can read is refused" test $? = 1
t_check "the refusal says why" grep -q "mode 0644" "$T/err"
t_check_not "and shows no key" grep -qF "$(cat "$T/wg.key")" "$T/err"

# ---- publish ----
"$MESH" publish --node n1 --key-file "$T/rfc.key" --port 51999 >"$T/pub"
t_check "publish prints the kubectl command" grep -qx \
	"kubectl annotate node n1 --overwrite veilnet.dev/wireguard-public-key=hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo= veilnet.dev/wireguard-port=51999" "$T/pub"
t_check "publish prints the JSON merge patch" grep -qx \
	'{"metadata":{"annotations":{"veilnet.dev/wireguard-port":"51999","veilnet.dev/wireguard-public-key":"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="}}}' "$T/pub"
t_check_not "publish shows no private key" grep -qF "dwdtCnMYpX08" "$T/pub"

# ---- bad mesh descriptions fail before anything is touched ----
cat >"$T/bad.json" <<'EOF'
{"kind": "NodeList", "items": [
 {"metadata": {"name": "n1"}, "spec": {"podCIDRs": ["10.244.1.0/24"]}},
 {"metadata": {"name": "n2", "annotations": {"veilnet.dev/wireguard-public-key": "nope"}},
  "spec": {"podCIDRs": ["10.244.2.0/24"]}}]}
EOF
"$MESH" up --node n1 -f "$T/bad.json" --ifname vnmk0wg --key-file "$T/rfc.key" >"$T/out" 2>"$T/err"
t_check "up with a bad key annotation fails" test $? = 1
t_check "the error names the node and the annotation" \
	grep -q 'node "n2": field "metadata.annotations\["veilnet.dev/wireguard-public-key"\]"' "$T/err"
t_check_not "and nothing was created" ip link show vnmk0wg
echo '{"kind": "NodeList", "items": [{"metadata": {"name": "n2"}}]}' >"$T/nolocal.json"
"$MESH" up --node n1 -f "$T/nolocal.json" --ifname vnmk0wg --key-file "$T/rfc.key" 2>"$T/err"
t_check "up for a node not in the list fails, naming it" grep -q 'node "n1" is not in' "$T/err"
t_check_not "up without --node is a usage error" "$MESH" up -f "$T/bad.json"
t_check_not "an unknown backend is a usage error" "$MESH" up --node n1 -f x --backend nope
"$MESH" status --ifname vnmk0wg >"$T/out" 2>"$T/err"
t_check "status of a device that is not up fails" test $? = 1

t_done
