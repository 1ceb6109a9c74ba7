# cni-test: drives CNI plugins like a runtime and builds clusters out of
# network namespaces (see netns-harness/README.md).
netns-harness_PROG := cni-test
netns-harness_PKGS := jansson libnl-3.0 libnl-route-3.0
