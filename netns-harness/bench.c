#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <veilnet/netns.h>
#include "bench.h"
#include "cluster.h"
#include "cniop.h"
#include "conf.h"
#include "ns.h"
#include "run.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void cnt_stats_of(uint64_t *ns, size_t n, struct cnt_stats *s)
{
	size_t k;

	memset(s, 0, sizeof(*s));
	if (!n)
		return;
	qsort(ns, n, sizeof(*ns), cmp_u64);
	s->median_ms = (n % 2 ? (double)ns[n / 2] : ((double)ns[n / 2 - 1] + (double)ns[n / 2]) / 2) / 1e6;
	k = (n * 99 + 99) / 100;	/* ceil(0.99 n) */
	s->p99_ms = (double)ns[k - 1] / 1e6;
}

/* Shared with worker processes. */
struct samples {
	uint64_t *ns;		/* [pods] latency of each op */
	long *rss;		/* [pods] peak RSS (KiB) of each op, in an RSS pass */
	int *status;		/* [pods] exit status, -1: could not run */
};

/* One measured phase: an operation over all pods. */
struct phase {
	struct cnt_stats lat;
	double ops;		/* operations per second (wall clock) */
};

/* Peak RSS of single plugin processes, KiB, measured apart from the
 * timings (traced, see peak.h) over the first RSS_PODS pods. */
#define RSS_PODS 20u
struct rss {
	long median_kb;		/* the largest median of any operation */
	long max_kb;		/* the largest of all */
};

struct result {
	const char *label;
	struct phase seq[3], par[3];	/* ADD, CHECK, DEL */
	struct cnt_stats version;
	struct rss rss;
};

struct bench {
	const struct cnt_opts *o;
	char cni_path[4096];
	char cache[PATH_MAX];		/* temporary cache dir */
	char node[64];			/* the node namespace name */
	struct samples s;
	unsigned int pods;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void pod_name(const struct bench *b, unsigned int i, char *buf, size_t len)
{
	snprintf(buf, len, "%s-p%u", b->o->netns_prefix, i);
}

/* Runs op for pod i of net (peak: traced, for its peak RSS); stores the
 * sample. */
static void one_op(struct bench *b, const struct cnt_net *net, enum cnt_cmd op, unsigned int i,
		   bool peak)
{
	char cid[64], netns[PATH_MAX], args[320], uid[40];
	struct cnt_out out = {0};
	struct vn_err e;
	struct cnt_rt rt;

	pod_name(b, i, cid, sizeof(cid));
	snprintf(netns, sizeof(netns), "%s/%s", CNT_NETNS_DIR, cid);
	/* CNI_ARGS as kubelet passes them for a pod sandbox. */
	snprintf(uid, sizeof(uid), "00000000-0000-4000-8000-%012u", i);
	cnt_k8s_args(args, sizeof(args), "bench", cid, cid, uid);
	rt = (struct cnt_rt){.cid = cid, .netns = netns, .ifname = "eth0", .cni_args = args,
			     .cni_path = b->cni_path, .cache_dir = b->cache, .peak_rss = peak};
	if (cnt_run(op, net, &rt, &out, &e)) {
		fprintf(stderr, "cni-test bench: %s %s: %s\n", cnt_op_name(op), cid, e.details);
		b->s.status[i] = -1;
	} else {
		if (out.status)
			fprintf(stderr, "cni-test bench: %s %s: plugin %s status %d: %.*s\n",
				cnt_op_name(op), cid, out.type, out.status, (int)out.len, out.out);
		b->s.status[i] = out.status;
	}
	b->s.ns[i] = out.ns;
	b->s.rss[i] = out.maxrss_kb;
	cnt_out_free(&out);
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* Folds n peak RSS samples (KiB, sorted in place) into r: the largest
 * median of any operation, and the largest sample. One run's peak RSS moves
 * by a 64 KiB fault-around window or two with where the loader put things,
 * so the median says what an invocation takes, the maximum the worst case. */
static void rss_fold(struct rss *r, long *kb, size_t n)
{
	if (!n)
		return;
	qsort(kb, n, sizeof(kb[0]), cmp_long);
	if (kb[n / 2] > r->median_kb)
		r->median_kb = kb[n / 2];
	if (kb[n - 1] > r->max_kb)
		r->max_kb = kb[n - 1];
}

/* Runs op over all pods with `workers` processes (1: in this process). */
static int run_phase(struct bench *b, const struct cnt_net *net, enum cnt_cmd op,
		     unsigned int workers, struct phase *ph)
{
	uint64_t t0 = now_ns(), wall;
	int failed = 0, st;

	memset(b->s.status, 0, sizeof(int) * b->pods);
	if (workers <= 1) {
		for (unsigned int i = 0; i < b->pods; i++)
			one_op(b, net, op, i, false);
	} else {
		for (unsigned int w = 0; w < workers; w++) {
			pid_t pid = fork();

			if (pid == 0) {
				for (unsigned int i = w; i < b->pods; i += workers)
					one_op(b, net, op, i, false);
				_exit(0);
			}
			if (pid < 0)
				failed = 1;
		}
		while (wait(&st) > 0 || errno == EINTR)
			;
	}
	wall = now_ns() - t0;
	for (unsigned int i = 0; i < b->pods; i++)
		failed |= b->s.status[i] != 0;
	cnt_stats_of(b->s.ns, b->pods, &ph->lat);
	ph->ops = (double)b->pods / ((double)wall / 1e9);
	return failed ? -1 : 0;
}

/* How many invocations of each operation are traced for the peak RSS. */
static unsigned int rss_runs(const struct bench *b)
{
	return b->pods < RSS_PODS ? b->pods : RSS_PODS;
}

/* ADD, CHECK and DEL of the first RSS_PODS pods, traced: their peak RSS. */
static int rss_pass(struct bench *b, const struct cnt_net *net, struct rss *rss)
{
	static const enum cnt_cmd ops[3] = {CNT_ADD, CNT_CHECK, CNT_DEL};
	unsigned int n = rss_runs(b);
	int failed = 0;

	for (int k = 0; k < 3; k++) {
		for (unsigned int i = 0; i < n; i++) {
			one_op(b, net, ops[k], i, true);
			failed |= b->s.status[i] != 0;
		}
		rss_fold(rss, b->s.rss, n);
	}
	return failed ? -1 : 0;
}

/* Runs path with stdin in (VERSION, /bin/true) b->pods times for the
 * timings s, then RSS_PODS times traced for the peak RSS. */
static int time_exec(struct bench *b, const char *path, const char *command, const char *in,
		     struct cnt_stats *s, struct rss *rss)
{
	struct cnt_rt rt = {.cni_path = b->cni_path};
	char **env = cnt_env_build(command, &rt);
	unsigned int n_rss = rss_runs(b);
	struct vn_err e;
	int rc = 0;

	if (!env)
		return -1;
	for (unsigned int i = 0; i < b->pods + n_rss && rc == 0; i++) {
		bool peak = i >= b->pods;
		struct cnt_out out = {0};

		rc = cnt_exec(path, env, in, strlen(in), peak, &out, &e);
		if (rc == 0 && out.status)
			rc = -1;
		if (peak)
			b->s.rss[i - b->pods] = out.maxrss_kb;
		else
			b->s.ns[i] = out.ns;
		cnt_out_free(&out);
	}
	cnt_env_free(env);
	cnt_stats_of(b->s.ns, b->pods, s);
	rss_fold(rss, b->s.rss, n_rss);
	return rc;
}

static int bench_net(struct bench *b, const struct cnt_net *net, struct result *r)
{
	static const enum cnt_cmd ops[3] = {CNT_ADD, CNT_CHECK, CNT_DEL};
	char path[PATH_MAX], in[128];
	struct vn_err e;

	if (cnt_find_plugin(cnt_net_type(net, 0), b->cni_path, path, sizeof(path), &e)) {
		fprintf(stderr, "cni-test bench: %s\n", e.details);
		return -1;
	}
	snprintf(in, sizeof(in), "{\"cniVersion\":\"%s\"}", net->version);
	if (time_exec(b, path, "VERSION", in, &r->version, &r->rss))
		return -1;
	for (int k = 0; k < 3; k++)
		if (run_phase(b, net, ops[k], 1, &r->seq[k]))
			return -1;
	for (int k = 0; k < 3; k++)
		if (run_phase(b, net, ops[k], b->o->workers, &r->par[k]))
			return -1;
	return rss_pass(b, net, &r->rss);
}

static void label_of(const struct cnt_net *net, const char *given, char *buf, size_t len)
{
	const char *ipam = json_string_value(json_object_get(
		json_object_get(json_array_get(net->plugins, 0), "ipam"), "type"));

	if (given)
		snprintf(buf, len, "%s", given);
	else if (ipam)
		snprintf(buf, len, "%s+%s", cnt_net_type(net, 0), ipam);
	else
		snprintf(buf, len, "%s", cnt_net_type(net, 0));
}

static void row_ms(const char *what, double a, const double *b)
{
	if (b)
		printf("| %s | %.2f ms | %.2f ms | %.1fx |\n", what, a, *b, a > 0 ? *b / a : 0);
	else
		printf("| %s | %.2f ms |\n", what, a);
}

static void row_ops(const char *what, double a, const double *b)
{
	if (b)
		printf("| %s | %.0f | %.0f | %.1fx |\n", what, a, *b, *b > 0 ? a / *b : 0);
	else
		printf("| %s | %.0f |\n", what, a);
}

static void row_rss(const char *what, long a_kb, const long *b_kb)
{
	double a = (double)a_kb / 1024;

	if (b_kb)
		printf("| %s | %.2f MB | %.2f MB | %.1fx |\n", what, a, (double)*b_kb / 1024,
		       a > 0 ? (double)*b_kb / 1024 / a : 0);
	else
		printf("| %s | %.2f MB |\n", what, a);
}

static void print_table(const struct bench *b, const struct result *r, int n,
			const struct cnt_stats *floor, const struct rss *floor_rss)
{
	static const char *names[3] = {"ADD", "CHECK", "DEL"};
	const struct result *ref = n > 1 ? &r[1] : NULL;
	struct utsname u;
	char what[96];

	uname(&u);
	printf("\n%u pods, %u parallel workers, %ld CPUs, Linux %s. Latency = spawn (vfork+exec, "
	       "as Go's os/exec does) and run of the plugin, as seen by the runtime.\n\n", b->pods, b->o->workers,
	       sysconf(_SC_NPROCESSORS_ONLN), u.release);
	if (ref)
		printf("| | %s | %s | ratio |\n|---|---:|---:|---:|\n", r[0].label, ref->label);
	else
		printf("| | %s |\n|---|---:|\n", r[0].label);
	for (int mode = 0; mode < 2; mode++) {
		for (int k = 0; k < 3; k++) {
			const struct phase *p = mode ? &r[0].par[k] : &r[0].seq[k];
			const struct phase *q = ref ? (mode ? &ref->par[k] : &ref->seq[k]) : NULL;
			char how[32];

			snprintf(how, sizeof(how), mode ? "%u workers" : "sequential", b->o->workers);
			snprintf(what, sizeof(what), "%s median, %s", names[k], how);
			row_ms(what, p->lat.median_ms, q ? &q->lat.median_ms : NULL);
			snprintf(what, sizeof(what), "%s p99, %s", names[k], how);
			row_ms(what, p->lat.p99_ms, q ? &q->lat.p99_ms : NULL);
			snprintf(what, sizeof(what), "%s ops/s, %s", names[k], how);
			row_ops(what, p->ops, q ? &q->ops : NULL);
		}
	}
	row_ms("VERSION median", r[0].version.median_ms, ref ? &ref->version.median_ms : NULL);
	row_rss("peak RSS of one plugin process, median", r[0].rss.median_kb,
		ref ? &ref->rss.median_kb : NULL);
	row_rss("peak RSS of one plugin process, largest", r[0].rss.max_kb, ref ? &ref->rss.max_kb : NULL);
	printf("\nFloor: spawn of /bin/true from the same driver: median %.2f ms, p99 %.2f ms, "
	       "peak RSS %.2f MB (median).\n", floor->median_ms, floor->p99_ms,
	       (double)floor_rss->median_kb / 1024);
	if (ref)
		printf("Ratio: how many times better the first column is (latency and RSS: "
		       "reference / first; ops/s: first / reference).\n");
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void teardown(struct bench *b)
{
	char name[64];

	for (unsigned int i = 0; i < b->pods; i++) {
		pod_name(b, i, name, sizeof(name));
		cnt_ns_delete(name, NULL);
	}
	cnt_ns_delete(b->node, NULL);
	if (b->cache[0])
		nftw(b->cache, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Makes the namespaces and the cache dir; enters the node namespace
 * (returning the fd of the one we came from). */
static int setup(struct bench *b, struct vn_err *e)
{
	char name[64], path[PATH_MAX];

	snprintf(b->node, sizeof(b->node), "%s-node", b->o->netns_prefix);
	teardown(b);
	snprintf(b->cache, sizeof(b->cache), "/tmp/cni-test-bench.XXXXXX");
	if (!mkdtemp(b->cache)) {
		b->cache[0] = '\0';
		return vn_errf(e, VN_E_IO, "I/O error", "mkdtemp: %s", strerror(errno));
	}
	if (cnt_ns_create(b->node, e))
		return -1;
	snprintf(path, sizeof(path), "%s/%s", CNT_NETNS_DIR, b->node);
	for (unsigned int i = 0; i < b->pods; i++) {
		pod_name(b, i, name, sizeof(name));
		if (cnt_ns_create(name, e))
			return -1;
	}
	return vn_netns_enter(path, e);
}

static void *shared(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

int cnt_bench(const struct cnt_opts *o)
{
	struct bench b = {.o = o, .pods = o->pods};
	struct cnt_net nets[2] = {{0}};
	struct result res[2] = {{0}};
	char labels[2][64];
	struct cnt_stats floor;
	struct vn_err e = {0};
	struct rss floor_rss = { 0 };
	int n = o->ref_conf ? 2 : 1, saved = -1, rc = 1;

	if (o->cni_path)
		snprintf(b.cni_path, sizeof(b.cni_path), "%s", o->cni_path);
	else
		cnt_default_cni_path(b.cni_path, sizeof(b.cni_path));
	b.s.ns = shared(sizeof(uint64_t) * b.pods);
	b.s.rss = shared(sizeof(long) * b.pods);
	b.s.status = shared(sizeof(int) * b.pods);
	if (!b.s.ns || !b.s.rss || !b.s.status)
		return 1;
	if (cnt_net_load(o->conf, &nets[0], &e) ||
	    (o->ref_conf && cnt_net_load(o->ref_conf, &nets[1], &e)))
		goto out;
	saved = setup(&b, &e);
	if (saved < 0)
		goto out;
	if (time_exec(&b, "/bin/true", "VERSION", "", &floor, &floor_rss)) {
		vn_errf(&e, VN_E_IO, "I/O error", "cannot run /bin/true");
		goto out;
	}
	for (int k = 0; k < n; k++) {
		label_of(&nets[k], k ? o->ref_label : o->label, labels[k], sizeof(labels[k]));
		res[k].label = labels[k];
		fprintf(stderr, "cni-test bench: %s ...\n", labels[k]);
		if (bench_net(&b, &nets[k], &res[k])) {
			vn_errf(&e, VN_E_IO, "benchmark failed", "%s: an operation failed", labels[k]);
			goto out;
		}
	}
	print_table(&b, res, n, &floor, &floor_rss);
	rc = 0;
out:
	if (rc)
		cnt_report(&e);
	if (saved >= 0)
		vn_netns_leave(saved, NULL);
	teardown(&b);
	for (int k = 0; k < 2; k++)
		cnt_net_free(&nets[k]);
	return rc;
}
