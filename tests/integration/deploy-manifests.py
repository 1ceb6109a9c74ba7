#!/usr/bin/python3
"""Structural checks of deploy/*.yaml (run by deploy-manifests.sh).

    deploy-manifests.py DEPLOY_DIR [--dump-json OUT_DIR]

Parses every YAML document, checks what the veilnet deployment relies on
(the fields, their values and how the objects refer to each other) and that
no key is misspelled at the levels written by hand (against the lists of
known Kubernetes fields below). Prints one "ok - ..." or "FAIL - ..." line
per check; exits 1 if any failed. With --dump-json, writes each document as
OUT_DIR/<kind>-<name>.json for the schema check (deploy-manifests.mjs).
"""
import json
import os
import sys

import yaml

results = []


def check(name, cond, why=""):
    results.append((name, bool(cond), why))


# Fields of the API objects at the levels this deployment writes by hand
# (Kubernetes v1.30 API reference); a key outside these is a typo.
POD_SPEC = {
    "activeDeadlineSeconds", "affinity", "automountServiceAccountToken", "containers",
    "dnsConfig", "dnsPolicy", "enableServiceLinks", "ephemeralContainers", "hostAliases",
    "hostIPC", "hostNetwork", "hostPID", "hostUsers", "hostname", "imagePullSecrets",
    "initContainers", "nodeName", "nodeSelector", "os", "overhead", "preemptionPolicy",
    "priority", "priorityClassName", "readinessGates", "resourceClaims", "restartPolicy",
    "runtimeClassName", "schedulerName", "schedulingGates", "securityContext",
    "serviceAccount", "serviceAccountName", "setHostnameAsFQDN", "shareProcessNamespace",
    "subdomain", "terminationGracePeriodSeconds", "tolerations",
    "topologySpreadConstraints", "volumes"}
CONTAINER = {
    "args", "command", "env", "envFrom", "image", "imagePullPolicy", "lifecycle",
    "livenessProbe", "name", "ports", "readinessProbe", "resizePolicy", "resources",
    "restartPolicy", "securityContext", "startupProbe", "stdin", "stdinOnce",
    "terminationMessagePath", "terminationMessagePolicy", "tty", "volumeDevices",
    "volumeMounts", "workingDir"}
SECURITY_CONTEXT = {
    "allowPrivilegeEscalation", "appArmorProfile", "capabilities", "privileged",
    "procMount", "readOnlyRootFilesystem", "runAsGroup", "runAsNonRoot", "runAsUser",
    "seLinuxOptions", "seccompProfile", "windowsOptions"}
VOLUME_MOUNT = {"mountPath", "mountPropagation", "name", "readOnly", "recursiveReadOnly",
                "subPath", "subPathExpr"}
HOSTPATH_TYPES = {"", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket",
                  "CharDevice", "BlockDevice"}
DS_SPEC = {"minReadySeconds", "revisionHistoryLimit", "selector", "template",
           "updateStrategy"}
VAP_SPEC = {"auditAnnotations", "failurePolicy", "matchConditions", "matchConstraints",
            "paramKind", "validations", "variables"}
VALIDATION = {"expression", "message", "messageExpression", "reason"}
POLICY_RULE = {"apiGroups", "nonResourceURLs", "resourceNames", "resources", "verbs"}


def unknown(obj, known):
    return sorted(set(obj) - known)


def load(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def check_daemonset(ds, sa_names):
    spec = ds["spec"]
    check("DaemonSet: spec keys known", not unknown(spec, DS_SPEC), unknown(spec, DS_SPEC))
    tmpl = spec["template"]
    pod = tmpl["spec"]
    check("DaemonSet: pod spec keys known", not unknown(pod, POD_SPEC), unknown(pod, POD_SPEC))
    sel = spec["selector"].get("matchLabels", {})
    labels = tmpl["metadata"].get("labels", {})
    check("DaemonSet: selector matches the template labels",
          sel and all(labels.get(k) == v for k, v in sel.items()))
    check("DaemonSet: hostNetwork", pod.get("hostNetwork") is True)
    check("DaemonSet: dnsPolicy ClusterFirstWithHostNet", pod.get("dnsPolicy") == "ClusterFirstWithHostNet")
    check("DaemonSet: priorityClassName system-node-critical",
          pod.get("priorityClassName") == "system-node-critical")
    tol = pod.get("tolerations", [])
    check("DaemonSet: tolerates every taint (operator Exists, no key, no effect)",
          any(t.get("operator") == "Exists" and "key" not in t and "effect" not in t for t in tol))
    check("DaemonSet: runs as the veilnet ServiceAccount of rbac.yaml",
          (ds["metadata"].get("namespace"), pod.get("serviceAccountName")) in sa_names)
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for v in volumes.values():
        hp = v.get("hostPath")
        check(f"DaemonSet: volume {v['name']} is a hostPath with a valid type",
              hp and hp.get("path", "").startswith("/") and hp.get("type", "") in HOSTPATH_TYPES)
    inits = pod.get("initContainers", [])
    mains = pod.get("containers", [])
    check("DaemonSet: one initContainer and one container", len(inits) == 1 and len(mains) == 1)
    for c in inits + mains:
        n = c.get("name")
        check(f"DaemonSet: container {n} keys known", not unknown(c, CONTAINER), unknown(c, CONTAINER))
        sc = c.get("securityContext", {})
        check(f"DaemonSet: container {n} securityContext keys known",
              not unknown(sc, SECURITY_CONTEXT), unknown(sc, SECURITY_CONTEXT))
        for m in c.get("volumeMounts", []):
            check(f"DaemonSet: container {n} mount {m.get('name')} keys known and volume defined",
                  not unknown(m, VOLUME_MOUNT) and m.get("name") in volumes)
        env = {e["name"]: e for e in c.get("env", [])}
        node = env.get("NODE_NAME", {}).get("valueFrom", {}).get("fieldRef", {})
        check(f"DaemonSet: container {n} gets NODE_NAME from spec.nodeName",
              node.get("fieldPath") == "spec.nodeName")
        check(f"DaemonSet: container {n} runs node-agent.sh from the image",
              c.get("command", [])[:2] == ["/bin/bash", "/opt/veilnet/node-agent.sh"])
    if inits:
        c = inits[0]
        env = {e["name"]: e.get("value") for e in c.get("env", [])}
        mounts = {m["mountPath"]: volumes.get(m["name"], {}).get("hostPath", {}).get("path")
                  for m in c.get("volumeMounts", [])}
        check("DaemonSet: install step is `node-agent.sh install`", c["command"][2:] == ["install"])
        check("DaemonSet: install writes the host's /opt/cni/bin",
              mounts.get(env.get("VEILNET_CNI_BIN_DIR")) == "/opt/cni/bin")
        check("DaemonSet: install writes the host's /etc/cni/net.d",
              mounts.get(env.get("VEILNET_CNI_CONF_DIR")) == "/etc/cni/net.d")
    if mains:
        c = mains[0]
        sc = c.get("securityContext", {})
        check("DaemonSet: agent step is `node-agent.sh run`", c["command"][2:] == ["run"])
        check("DaemonSet: agent is privileged or has NET_ADMIN",
              sc.get("privileged") is True or "NET_ADMIN" in sc.get("capabilities", {}).get("add", []))
        env = {e["name"]: e.get("value") for e in c.get("env", [])}
        key = env.get("VEILNET_KEY_FILE", "")
        mounts = {m["mountPath"]: volumes.get(m["name"], {}).get("hostPath", {}).get("path")
                  for m in c.get("volumeMounts", [])}
        check("DaemonSet: the private key lives on a hostPath (survives restarts)",
              os.path.dirname(key) in mounts and mounts[os.path.dirname(key)])
        probe = c.get("livenessProbe", {}).get("exec", {}).get("command", [])
        check("DaemonSet: liveness probe is `node-agent.sh health`", probe[2:] == ["health"])


def check_rbac(docs):
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    sas = by_kind.get("ServiceAccount", [])
    check("rbac: one ServiceAccount", len(sas) == 1)
    sa = sas[0]["metadata"] if sas else {}
    sa_user = f"system:serviceaccount:{sa.get('namespace')}:{sa.get('name')}"
    roles = by_kind.get("ClusterRole", [])
    check("rbac: one ClusterRole", len(roles) == 1)
    grants = {}
    for r in roles[0].get("rules", []) if roles else []:
        check("rbac: rule keys known", not unknown(r, POLICY_RULE), unknown(r, POLICY_RULE))
        for g in r.get("apiGroups", []):
            for res in r.get("resources", []):
                grants.setdefault((g, res), set()).update(r.get("verbs", []))
    read = {"get", "list", "watch"}
    check("rbac: no wildcard", all("*" not in v and "*" not in k for k, v in grants.items()))
    want = {("", "pods"): read, ("", "namespaces"): read,
            ("networking.k8s.io", "networkpolicies"): read,
            ("", "nodes"): read | {"patch"}}
    check("rbac: grants exactly read on pods, namespaces, networkpolicies and nodes, "
          "and patch on nodes", grants == want, f"got {grants}")
    binds = by_kind.get("ClusterRoleBinding", [])
    check("rbac: the ClusterRoleBinding binds the role to the ServiceAccount",
          len(binds) == 1 and binds[0]["roleRef"] == {
              "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
              "name": roles[0]["metadata"]["name"]}
          and binds[0]["subjects"] == [{"kind": "ServiceAccount", "name": sa.get("name"),
                                        "namespace": sa.get("namespace")}])
    vaps = by_kind.get("ValidatingAdmissionPolicy", [])
    check("rbac: one ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1)",
          len(vaps) == 1 and vaps[0]["apiVersion"] == "admissionregistration.k8s.io/v1")
    if vaps:
        vs = vaps[0]["spec"]
        check("rbac: VAP spec keys known", not unknown(vs, VAP_SPEC), unknown(vs, VAP_SPEC))
        check("rbac: VAP fails closed", vs.get("failurePolicy") == "Fail")
        rules = vs["matchConstraints"]["resourceRules"]
        check("rbac: VAP covers nodes, for updates",
              any("nodes" in r["resources"] and "UPDATE" in r["operations"] and "" in r["apiGroups"]
                  for r in rules))
        conds = vs.get("matchConditions", [])
        check("rbac: VAP applies to the veilnet ServiceAccount's requests",
              len(conds) == 1 and f"'{sa_user}'" in conds[0]["expression"])
        check("rbac: VAP validation keys known",
              all(not unknown(v, VALIDATION) for v in vs.get("validations", [])))
        text = json.dumps(vs)
        check("rbac: VAP keys on the token's node-name claim",
              "authentication.kubernetes.io/node-name" in text)
        check("rbac: VAP names the key annotation", "veilnet.dev/wireguard-public-key" in text)
    vbs = by_kind.get("ValidatingAdmissionPolicyBinding", [])
    check("rbac: the binding enforces the policy (Deny)",
          len(vbs) == 1 and vaps and vbs[0]["spec"]["policyName"] == vaps[0]["metadata"]["name"]
          and vbs[0]["spec"].get("validationActions") == ["Deny"])
    return {(sa.get("namespace"), sa.get("name"))}


def main():
    deploy = sys.argv[1]
    dump = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--dump-json" else None
    docs = {}
    for name in ("rbac.yaml", "daemonset.yaml"):
        try:
            docs[name] = load(os.path.join(deploy, name))
            check(f"{name}: parses as YAML ({len(docs[name])} documents)", docs[name])
        except Exception as e:  # noqa: BLE001 - any parse error is the finding
            check(f"{name}: parses as YAML", False, str(e))
            docs[name] = []
    for name, ds in docs.items():
        for d in ds:
            check(f"{name}: {d.get('kind')} has apiVersion, kind and metadata.name",
                  d.get("apiVersion") and d.get("kind") and d.get("metadata", {}).get("name"))
    sa_names = check_rbac(docs["rbac.yaml"]) if docs["rbac.yaml"] else set()
    dss = [d for d in docs["daemonset.yaml"] if d.get("kind") == "DaemonSet"]
    check("daemonset.yaml: one apps/v1 DaemonSet", len(dss) == 1 and dss[0]["apiVersion"] == "apps/v1")
    if dss:
        check_daemonset(dss[0], sa_names)
    if dump:
        os.makedirs(dump, exist_ok=True)
        for ds in docs.values():
            for d in ds:
                with open(os.path.join(dump, f"{d['kind']}-{d['metadata']['name']}.json"), "w") as f:
                    json.dump(d, f)
    bad = 0
    for name, ok, why in results:
        print(("ok   - " if ok else "FAIL - ") + name + ("" if ok or not why else f": {why}"))
        bad += not ok
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
