# world.jq - the conformance runner's model of the cluster (jq library).
#
# A world is {namespaces: [{name, labels}],
#             pods: [{namespace, name, labels, containerPorts}],
#             policies: [NetworkPolicy]}
# built from a case's "cluster" and changed by its steps' actions (see
# FORMAT.md). render() turns it into the v1 List veilnet-policy reads, with
# the real pod IPs and nodes and the symbolic CIDRs substituted.

def pod_key: "\(.namespace)/\(.name)";
def policy_key: "\(.metadata.namespace)/\(.metadata.name)";

# The world at the start of a case (input: the case).
def world_init:
	{namespaces: .cluster.namespaces, pods: .cluster.pods, policies: []};

def has_policy($k): any(.policies[]; policy_key == $k);

def apply_action($a):
	if $a.action == "createPolicy" then
		($a.policy | policy_key) as $k
		| if has_policy($k) then error("createPolicy: \($k) exists")
		  else .policies += [$a.policy] end
	elif $a.action == "updatePolicy" then
		($a.policy | policy_key) as $k
		| if has_policy($k) | not then error("updatePolicy: no policy \($k)")
		  else .policies |= map(if policy_key == $k then $a.policy else . end) end
	elif $a.action == "deletePolicy" then
		"\($a.namespace)/\($a.name)" as $k
		| if has_policy($k) | not then error("deletePolicy: no policy \($k)")
		  else .policies |= map(select(policy_key != $k)) end
	elif $a.action == "deleteAllPolicies" then
		.policies = []
	elif $a.action == "setNamespaceLabels" then
		if any(.namespaces[]; .name == $a.namespace) | not
		then error("setNamespaceLabels: no namespace \($a.namespace)") else . end
		| .namespaces |= map(if .name == $a.namespace then
			.labels = ($a.labels + {"kubernetes.io/metadata.name": .name})
			else . end)
	elif $a.action == "setPodLabels" then
		if any(.pods[]; pod_key == $a.pod) | not
		then error("setPodLabels: no pod \($a.pod)") else . end
		| .pods |= map(if pod_key == $a.pod then .labels = $a.labels else . end)
	else error("unknown action \($a.action)") end;

def apply_actions($acts): reduce ($acts // [])[] as $a (.; apply_action($a));

# ---- addresses -----------------------------------------------------------

def v4_to_int: split(".") | map(tonumber) | .[0] * 16777216 + .[1] * 65536 + .[2] * 256 + .[3];
def int_to_v4: [(. / 16777216 | floor) % 256, (. / 65536 | floor) % 256,
		(. / 256 | floor) % 256, . % 256] | map(tostring) | join(".");

# "fd00::1" -> [8 numbers]
def v6_groups:
	def hex: ascii_downcase | explode | reduce .[] as $c (0;
		. * 16 + (if $c >= 97 then $c - 87 else $c - 48 end));
	def parts: if . == "" then [] else split(":") end;
	if test("::") then
		split("::") as $h | ($h[0] | parts) as $l | ($h[1] | parts) as $r
		| $l + [range(8 - ($l | length) - ($r | length)) | "0"] + $r
	else split(":") end
	| map(hex);
def v6_from_groups:
	map(. as $n | [($n / 4096 | floor), ($n / 256 | floor) % 16, ($n / 16 | floor) % 16, $n % 16]
	    | map("0123456789abcdef"[.:.+1]) | join("") | sub("^0+(?=.)"; ""))
	| join(":");

# The network of length $len containing address . (IPv4 or IPv6), as a CIDR.
def canonical($len):
	if test(":") then
		v6_groups | [range(8) as $i | .[$i] as $g
			| ($len - 16 * $i) as $keep
			| if $keep >= 16 then $g elif $keep <= 0 then 0
			  else pow(2; 16 - $keep) as $m | ($g / $m | floor) * $m end]
		| "\(v6_from_groups)/\($len)"
	else
		pow(2; 32 - $len) as $m
		| "\((v4_to_int / $m | floor) * $m | int_to_v4)/\($len)"
	end;

# ---- rendering -------------------------------------------------------------

# $pods: {"x/a": {"node": "n1", "ips": ["10.244.1.2", "fd00:..."]}}
# $family: "4" or "6", which pod IP a symbolic CIDR stands for.
def pod_ip($pods; $family; $key):
	($pods[$key] // error("symbolic CIDR names unknown pod \($key)")).ips
	| map(select(test(":") == ($family == "6"))) | .[0]
	// error("pod \($key) has no IPv\($family) address");

def subst_cidr($pods; $family):
	if type == "object" then
		pod_ip($pods; $family; .podCIDRof) as $ip
		| if has("prefixLength") then .prefixLength as $l | $ip | canonical($l)
		  elif ($ip | test(":")) then "\($ip)/128" else "\($ip)/32" end
	else . end;

def subst_policy($pods; $family):
	walk(if type == "object" and has("ipBlock") and .ipBlock != null then
		.ipBlock.cidr |= subst_cidr($pods; $family)
		| if .ipBlock.except then .ipBlock.except |= map(subst_cidr($pods; $family)) else . end
	     else . end);

def render($pods; $family):
	{apiVersion: "v1", kind: "List", items: (
	  [.namespaces[] | {apiVersion: "v1", kind: "Namespace",
			     metadata: {name, labels}}]
	+ [.pods[] | pod_key as $k | ($pods[$k] // error("pod \($k) was not created")) as $p
	   | {apiVersion: "v1", kind: "Pod",
	      metadata: {name, namespace, labels},
	      spec: {nodeName: $p.node,
		     containers: [{name: "probe", image: "vn-probe",
				   ports: .containerPorts}]},
	      status: {phase: "Running", podIP: $p.ips[0],
		       podIPs: [$p.ips[] | {ip: .}]}}]
	+ [.policies[] | subst_policy($pods; $family)])};

# ---- what a step probes ------------------------------------------------------

# Lines "J PORT PROTO" for each probe J of step $s (input: the case).
def probe_lines($s):
	.steps[$s].probes | to_entries[] | "\(.key) \(.value.port) \(.value.protocol)";

# Lines "J FROM TO" for each pair probe J of step $s expects to connect.
def allowed_lines($s):
	.steps[$s].probes | to_entries[] | .key as $j | .value.allowed[]
	| "\($j) \(.[0]) \(.[1])";

# Lines "J FROM TO yes|no" for the external entries of step $s.
def external_lines($s):
	.steps[$s].probes | to_entries[] | .key as $j | (.value.external // [])[]
	| "\($j) \(.from) \(.to) \(if .allowed then "yes" else "no" end)";
