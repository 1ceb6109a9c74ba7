// Schema and admission-policy checks of deploy/*.yaml (run by
// deploy-manifests.sh with NODE_PATH pointing at an npm install of
// kubernetes-models and @marcbachmann/cel-js; nothing is fetched here).
//
//   node deploy-manifests.mjs DUMP_DIR
//
// DUMP_DIR holds the manifests as JSON (deploy-manifests.py --dump-json).
//  1. Each object is validated against the Kubernetes OpenAPI schema of its
//     kind (kubernetes-models: types, enums, required fields).
//  2. The ValidatingAdmissionPolicy's CEL is evaluated as the API server
//     would for a set of admission requests: its matchConditions, variables
//     and validations, with a failing or erroring expression denying
//     (failurePolicy Fail). Each case says whether it must be allowed.
// Prints "ok - ..." / "FAIL - ..." lines; exits 1 if any failed.
import fs from 'node:fs'
import path from 'node:path'
import {createRequire} from 'node:module'
import {pathToFileURL} from 'node:url'

// ES modules ignore NODE_PATH: resolve from there by hand.
const nodePath = path.resolve(process.env.NODE_PATH || '.')
const require = createRequire(path.join(nodePath, 'x.js'))
const {evaluate} = await import(pathToFileURL(require.resolve('@marcbachmann/cel-js')).href)
const importModels = sub =>
  import(pathToFileURL(path.join(nodePath, 'kubernetes-models', sub, 'index.js')).href)
const dir = process.argv[2]
let failed = 0
const report = (ok, name, why) => {
  if (!ok) failed++
  console.log(`${ok ? 'ok   -' : 'FAIL -'} ${name}${!ok && why ? ': ' + why : ''}`)
}

// ---- 1. schemas
const models = {}
for (const v of ['v1', 'apps/v1', 'rbac.authorization.k8s.io/v1', 'admissionregistration.k8s.io/v1']) {
  models[v] = await importModels(v)
}
const docs = fs.readdirSync(dir).filter(f => f.endsWith('.json')).sort()
  .map(f => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')))
for (const d of docs) {
  const mod = models[d.apiVersion]
  const Kind = mod && mod[d.kind]
  if (!Kind) { report(false, `schema of ${d.kind}/${d.metadata.name}`, `no model for ${d.apiVersion}`); continue }
  try {
    new Kind(d).validate()
    report(true, `schema: ${d.apiVersion} ${d.kind} ${d.metadata.name} is valid`)
  } catch (e) {
    report(false, `schema: ${d.kind} ${d.metadata.name}`, e.message)
  }
}

// ---- 2. the admission policy
const vap = docs.find(d => d.kind === 'ValidatingAdmissionPolicy')
const sa = docs.find(d => d.kind === 'ServiceAccount')
const agent = `system:serviceaccount:${sa.metadata.namespace}:${sa.metadata.name}`
const KEY = 'veilnet.dev/wireguard-public-key'
const NODE_CLAIM = 'authentication.kubernetes.io/node-name'

// admit(req): what the API server decides with this policy, 'allow' or 'deny: why'.
function admit (req) {
  const ctx = {object: req.object, oldObject: req.oldObject, request: req}
  for (const c of vap.spec.matchConditions || []) {
    let v
    try { v = evaluate(c.expression, ctx) } catch (e) { return `deny: matchCondition ${c.name} errored: ${e.message.split('\n')[0]}` }
    if (v !== true) return 'allow' // policy does not apply
  }
  const variables = {}
  ctx.variables = variables
  for (const v of vap.spec.variables || []) {
    try { variables[v.name] = evaluate(v.expression, ctx) } catch (e) { variables[v.name] = new Error(e.message) }
  }
  for (const v of vap.spec.validations) {
    // a variable that errored makes every expression using it error
    const bad = Object.entries(variables).find(([n, x]) => x instanceof Error && v.expression.includes(`variables.${n}`))
    if (bad) return `deny: variable ${bad[0]} errored`
    let r
    try { r = evaluate(v.expression, ctx) } catch (e) { return `deny: expression errored: ${e.message.split('\n')[0]}` }
    if (r !== true) return `deny: ${v.message || v.messageExpression}`
  }
  return 'allow'
}

const node = (name, ann = {}, extra = {}) => ({
  apiVersion: 'v1', kind: 'Node',
  metadata: {name, resourceVersion: '1', annotations: {'node.alpha.kubernetes.io/ttl': '0', ...ann},
    labels: {'kubernetes.io/hostname': name}, ...(extra.metadata || {})},
  spec: {podCIDRs: ['10.244.1.0/24'], ...(extra.spec || {})},
  status: {addresses: [{type: 'InternalIP', address: '192.0.2.1'}]},
})
const user = (nodeName, username = agent) => ({
  username, groups: ['system:serviceaccounts', 'system:authenticated'],
  extra: nodeName === null ? {} : {[NODE_CLAIM]: [nodeName]},
})
const update = (u, oldObj, newObj, sub = '') => ({
  operation: 'UPDATE', subResource: sub, userInfo: u, object: newObj, oldObject: oldObj,
  name: oldObj.metadata.name, resource: {group: '', version: 'v1', resource: 'nodes'},
})
const withKey = (n, k) => { const c = structuredClone(n); c.metadata.annotations[KEY] = k; c.metadata.resourceVersion = '2'; return c }
const K1 = 'aGVsbG8gd29ybGQgdGhpcyBpcyBhIHRlc3Qga2V5IQ='
const K2 = 'c2Vjb25kIGtleSBmb3IgdGhlIHJvdGF0aW9uIHRlc3Q='
const n1 = node('n1')
const n1k = withKey(n1, K1)

const cases = [
  ['agent publishes its own node\'s key', update(user('n1'), n1, withKey(n1, K1)), true],
  ['agent rotates its own node\'s key', update(user('n1'), n1k, withKey(n1k, K2)), true],
  ['agent patch that changes nothing', update(user('n1'), n1k, structuredClone(n1k)), true],
  ['agent sets the key on another node', update(user('n2'), n1, withKey(n1, K1)), false],
  ['agent without a node claim', update(user(null), n1, withKey(n1, K1)), false],
  ['agent with an empty node claim list', update({...user('n1'), extra: {[NODE_CLAIM]: []}}, n1, withKey(n1, K1)), false],
  ['agent adds another annotation', update(user('n1'), n1, (() => { const c = withKey(n1, K1); c.metadata.annotations['x/y'] = 'z'; return c })()), false],
  ['agent removes another annotation', update(user('n1'), n1k, (() => { const c = structuredClone(n1k); delete c.metadata.annotations['node.alpha.kubernetes.io/ttl']; return c })()), false],
  ['agent changes another annotation\'s value', update(user('n1'), n1k, (() => { const c = structuredClone(n1k); c.metadata.annotations['node.alpha.kubernetes.io/ttl'] = '5'; return c })()), false],
  ['agent changes a label', update(user('n1'), n1, (() => { const c = withKey(n1, K1); c.metadata.labels.role = 'x'; return c })()), false],
  ['agent adds a taint', update(user('n1'), n1, (() => { const c = withKey(n1, K1); c.spec.taints = [{key: 'k', effect: 'NoSchedule'}]; return c })()), false],
  ['agent cordons the node', update(user('n1'), n1, (() => { const c = structuredClone(n1); c.spec.unschedulable = true; return c })()), false],
  ['agent adds a finalizer', update(user('n1'), n1, (() => { const c = structuredClone(n1); c.metadata.finalizers = ['x/y']; return c })()), false],
  ['agent writes node status', update(user('n1'), n1, (() => { const c = structuredClone(n1); c.status.addresses = []; return c })(), 'status'), false],
  ['agent creates a node', {operation: 'CREATE', subResource: '', userInfo: user('n9'), object: node('n9'), oldObject: null}, false],
  ['agent deletes its node', {operation: 'DELETE', subResource: '', userInfo: user('n1'), object: null, oldObject: n1}, false],
  ['another service account is not restricted by this policy', update(user('n1', 'system:serviceaccount:kube-system:other'), n1, (() => { const c = structuredClone(n1); c.metadata.labels.role = 'x'; return c })()), true],
  ['an admin is not restricted by this policy', update({username: 'kubernetes-admin', groups: ['system:masters'], extra: {}}, n1, withKey(n1, K1)), true],
]
for (const [name, req, allow] of cases) {
  const got = admit(req)
  report((got === "allow") === allow, `admission: ${name} -> ${allow ? "allowed" : got}`, got)
}
console.log(`${failed ? 'FAILED' : 'all passed'}`)
process.exit(failed ? 1 : 0)
