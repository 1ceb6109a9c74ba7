/* vnn-gen - synthetic clusters for the policy bench (a v1 List on stdout).
 *
 *   vnn-gen --pods N --policies M [--local L] [--seed S]
 *           [--pod NS/NAME=IP[,label=value...]]... [--allow NS/FROM:NS/TO:PORT]...
 *
 * Namespaces ns0..nsK (K = N/100, at least 10) with labels team and env;
 * pods spread over them with labels app (about 10 pods per value: pod i
 * has app i % (N/10)), tier and a named port http; the first L pods
 * (default 100) run on node n1, the others on n2.. (100 per node).
 * Policies: one namespace-wide default deny per namespace (while M lasts),
 * then policies selecting one app each (apps 0, 1, 2... in turn, so the
 * first ones select pods of n1), allowing it from another app of a team's
 * namespaces on the named port, from an ipBlock with except, and (one in
 * four) egress to the prod namespaces. --pod adds a real pod (on n1) and --allow a
 * policy letting FROM reach TO on PORT/TCP (TO is isolated by it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct extra {
	char ns[64], name[64], ip[64], labels[256];
};

static int sep(int *first)
{
	int f = *first;

	*first = 0;
	return f ? ' ' : ',';
}

static void namespaces(int k, int *first)
{
	for (int i = 0; i < k; i++)
		printf("%c{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"ns%d\","
		       "\"labels\":{\"team\":\"t%d\",\"env\":\"%s\"}}}\n", sep(first), i, i % 10,
		       i % 3 ? "dev" : "prod");
	printf("%c{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"bench\","
	       "\"labels\":{\"team\":\"bench\"}}}\n", sep(first));
}

static void pod(const char *ns, const char *name, const char *labels, const char *node,
		const char *ip, int *first)
{
	printf("%c{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":"
	       "\"%s\",\"labels\":{%s}},\"spec\":{\"nodeName\":\"%s\",\"containers\":[{\"name\":\"c\","
	       "\"ports\":[{\"name\":\"http\",\"containerPort\":8080,\"protocol\":\"TCP\"}]}]},"
	       "\"status\":{\"phase\":\"Running\",\"podIP\":\"%s\",\"podIPs\":[{\"ip\":\"%s\"}]}}\n",
	       sep(first), name, ns, labels, node, ip, ip);
}

static void pods(int n, int k, int local, int apps, int *first)
{
	static const char *const tiers[] = { "web", "db", "cache" };
	char name[32], ns[32], labels[128], node[32], ip[32];

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "pod%d", i);
		snprintf(ns, sizeof(ns), "ns%d", i % k);
		snprintf(labels, sizeof(labels), "\"app\":\"app%d\",\"tier\":\"%s\"", i % apps,
			 tiers[i % 3]);
		snprintf(node, sizeof(node), "n%d", i < local ? 1 : 2 + (i - local) / 100);
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", 64 + (i + 1) / 65536, ((i + 1) / 256) % 256,
			 (i + 1) % 256);
		pod(ns, name, labels, node, ip, first);
	}
}

static void policies(int m, int k, int apps, unsigned seed, int *first)
{
	for (int p = 0; p < m; p++) {
		/* Policy p >= k selects app a; the pods of app a live in namespace
		 * a % k (apps is a multiple of k), and the first ones on node n1. */
		int a = p < k ? 0 : (p - k) % apps, ns = p < k ? p : a % k;

		if (p < k) {
			printf("%c{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\","
			       "\"metadata\":{\"name\":\"default-deny\",\"namespace\":\"ns%d\"},"
			       "\"spec\":{\"podSelector\":{},\"policyTypes\":[\"Ingress\"]}}\n",
			       sep(first), ns);
			continue;
		}
		printf("%c{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\","
		       "\"metadata\":{\"name\":\"pol%d\",\"namespace\":\"ns%d\"},\"spec\":{"
		       "\"podSelector\":{\"matchLabels\":{\"app\":\"app%d\"}},\"ingress\":["
		       "{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"app%u\"}},"
		       "\"namespaceSelector\":{\"matchLabels\":{\"team\":\"t%u\"}}}],"
		       "\"ports\":[{\"port\":\"http\"}]},"
		       "{\"from\":[{\"ipBlock\":{\"cidr\":\"192.168.0.0/16\",\"except\":[\"192.168.%u.0/24\"]}}],"
		       "\"ports\":[{\"port\":443}]}]",
		       sep(first), p, ns, a, (p * 7 + seed) % (unsigned)apps, (p + seed) % 10,
		       p % 256);
		if (p % 4 == 0)
			printf(",\"egress\":[{\"to\":[{\"namespaceSelector\":{\"matchLabels\":{\"env\":"
			       "\"prod\"}}}],\"ports\":[{\"port\":5432}]}]");
		printf("}}\n");
	}
}

static void extras(const struct extra *x, int n, int *first)
{
	for (int i = 0; i < n; i++)
		pod(x[i].ns, x[i].name, x[i].labels, "n1", x[i].ip, first);
}

/* --allow NS/FROM:NS/TO:PORT as a policy in TO's namespace. */
static int allow(const char *spec, int idx, int *first)
{
	char fns[64], fname[64], tns[64], tname[64];
	int port;

	if (sscanf(spec, "%63[^/]/%63[^:]:%63[^/]/%63[^:]:%d", fns, fname, tns, tname, &port) != 5)
		return -1;
	printf("%c{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\","
	       "\"metadata\":{\"name\":\"allow-%d\",\"namespace\":\"%s\"},\"spec\":{"
	       "\"podSelector\":{\"matchLabels\":{\"vnn-name\":\"%s\"}},\"ingress\":[{\"from\":["
	       "{\"namespaceSelector\":{\"matchLabels\":{\"kubernetes.io/metadata.name\":\"%s\"}},"
	       "\"podSelector\":{\"matchLabels\":{\"vnn-name\":\"%s\"}}}],\"ports\":[{\"port\":%d}]}]}}\n",
	       sep(first), idx, tns, tname, fns, fname, port);
	return 0;
}

static int parse_extra(const char *spec, struct extra *x)
{
	const char *comma;
	size_t off;

	memset(x, 0, sizeof(*x));
	if (sscanf(spec, "%63[^/]/%63[^=]=%63[^,]", x->ns, x->name, x->ip) != 3)
		return -1;
	off = (size_t)snprintf(x->labels, sizeof(x->labels), "\"vnn-name\":\"");
	memcpy(x->labels + off, x->name, strlen(x->name));
	off += strlen(x->name);
	x->labels[off++] = '"';
	x->labels[off] = '\0';
	for (comma = strchr(spec, ','); comma; comma = strchr(comma + 1, ',')) {
		char k[64], v[64];

		if (sscanf(comma + 1, "%63[^=]=%63[^,]", k, v) != 2)
			return -1;
		off += (size_t)snprintf(x->labels + off, sizeof(x->labels) - off, ",\"%s\":\"%s\"", k, v);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int n = 1000, m = 100, local = 100, first = 1, n_extra = 0, n_allow = 0;
	struct extra extra[16];
	const char *allows[16];
	unsigned seed = 1;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			goto usage;
		if (!strcmp(argv[i], "--pods"))
			n = atoi(v);
		else if (!strcmp(argv[i], "--policies"))
			m = atoi(v);
		else if (!strcmp(argv[i], "--local"))
			local = atoi(v);
		else if (!strcmp(argv[i], "--seed"))
			seed = (unsigned)atoi(v);
		else if (!strcmp(argv[i], "--pod") && n_extra < 16 && !parse_extra(v, &extra[n_extra]))
			n_extra++;
		else if (!strcmp(argv[i], "--allow") && n_allow < 16)
			allows[n_allow++] = v;
		else
			goto usage;
		i++;
	}
	{
		int k = n / 100 > 10 ? n / 100 : 10, apps = n / 10 > 1 ? n / 10 : 1;

		printf("{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[\n");
		namespaces(k, &first);
		pods(n, k, local, apps, &first);
		policies(m, k, apps, seed, &first);
		extras(extra, n_extra, &first);
		for (int i = 0; i < n_allow; i++)
			if (allow(allows[i], i, &first))
				goto usage;
		printf("]}\n");
	}
	return 0;
usage:
	fprintf(stderr, "usage: vnn-gen --pods N --policies M [--local L] [--seed S] "
		"[--pod NS/NAME=IP[,k=v...]]... [--allow NS/FROM:NS/TO:PORT]...\n");
	return 2;
}
