#include <string.h>
#include "version.h"

static const char *const versions[CNI_V_COUNT] = CNI_SUPPORTED_VERSIONS;

int cni_version_parse(const char *s)
{
	for (int i = 0; s && i < CNI_V_COUNT; i++)
		if (strcmp(s, versions[i]) == 0)
			return i;
	return -1;
}

const char *cni_version_str(int v)
{
	return v >= 0 && v < CNI_V_COUNT ? versions[v] : CNI_LATEST;
}

int cni_version_of_verb(const char *command)
{
	if (command && strcmp(command, "CHECK") == 0)
		return CNI_V040;
	if (command && (strcmp(command, "STATUS") == 0 || strcmp(command, "GC") == 0))
		return CNI_V110;
	return CNI_V030;
}
