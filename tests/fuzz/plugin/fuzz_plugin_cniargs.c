/* libFuzzer target: the CNI_ARGS parser (plugin/cniargs.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../../plugin/cniargs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct cni_args a;
	struct vn_err e = { 0 };

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	cni_args_parse(s, &a, &e);
	cni_args_free(&a);
	free(s);
	return 0;
}
