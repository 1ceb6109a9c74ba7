/* vnn-podguard - calls lib/podguard.c the way the CNI plugin does, for the
 * netpol suites:
 *   vnn-podguard admit NAMESPACE IP...
 *   vnn-podguard forget IP...
 * in the current network namespace. Exit 0 on success, 1 with the error. */
#include <stdio.h>
#include <string.h>
#include <veilnet/podguard.h>

int main(int argc, char **argv)
{
	struct vn_addr ips[8];
	struct vn_err e = { 0 };
	int first = argc > 1 && !strcmp(argv[1], "admit") ? 3 : 2, n = 0, rc;

	if (argc < 3 || (strcmp(argv[1], "admit") && strcmp(argv[1], "forget"))) {
		fprintf(stderr, "usage: vnn-podguard admit NAMESPACE IP... | forget IP...\n");
		return 2;
	}
	for (int i = first; i < argc && n < 8; i++) {
		if (vn_addr_parse(argv[i], &ips[n++])) {
			fprintf(stderr, "vnn-podguard: bad address %s\n", argv[i]);
			return 2;
		}
	}
	rc = first == 3 ? podguard_admit(argv[2], ips, (size_t)n, &e) :
			  podguard_forget(ips, (size_t)n, &e);
	if (rc)
		fprintf(stderr, "vnn-podguard: %s\n", e.details);
	return rc ? 1 : 0;
}
