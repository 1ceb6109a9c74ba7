/* cni-test: drives CNI plugins like a runtime and builds clusters out of
 * network namespaces. See netns-harness/README.md. */
#include <stdio.h>
#include "args.h"
#include "bench.h"
#include "cluster.h"
#include "cniop.h"
#include "ns.h"

int main(int argc, char **argv)
{
	struct vn_err e = {0};
	struct cnt_opts o;

	if (cnt_args_parse(argc, argv, &o, &e)) {
		fprintf(stderr, "cni-test: %s\n", e.details);
		cnt_usage(stderr);
		return 2;
	}
	switch (o.cmd) {
	case CNT_HELP:
		cnt_usage(stdout);
		return 0;
	case CNT_ADD: case CNT_CHECK: case CNT_DEL:
	case CNT_STATUS: case CNT_GC: case CNT_VERSION:
		return cnt_cni_command(&o);
	case CNT_EXEC_IN: return cnt_exec_in(o.netns, o.argv);
	case CNT_CLUSTER_CREATE: return cnt_cluster_create(&o);
	case CNT_CLUSTER_DESTROY: return cnt_cluster_destroy(o.cluster);
	case CNT_CLUSTER_SHOW: return cnt_cluster_show(o.cluster);
	case CNT_POD_ADD: return cnt_pod_add(&o);
	case CNT_POD_DEL: return cnt_pod_del(&o);
	case CNT_POD_EXEC: return cnt_pod_exec(&o);
	case CNT_POD_LIST: return cnt_pod_list(&o);
	case CNT_POD_IP: return cnt_pod_ip(&o);
	case CNT_POD_LABEL: case CNT_NS_LABEL: return cnt_label(&o);
	case CNT_NODE_EXEC: return cnt_node_exec(&o);
	case CNT_BENCH: return cnt_bench(&o);
	}
	return 2;
}
