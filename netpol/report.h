/* report.h - what `veilnet-policy explain` prints: one verdict with its
 * reasons (text or JSON) and the reachability truth table (--matrix) in
 * the layout of the upstream e2e tests. Pure: reads a world, writes text.
 */
#ifndef NETPOL_REPORT_H
#define NETPOL_REPORT_H

#include <stdio.h>
#include <jansson.h>
#include <veilnet/err.h>
#include "decide.h"

/* Parses "NS/POD" (a pod of w) or an IP address (the pod owning it, if
 * any). Returns 0 or -1 with e set. */
int np_endpoint_parse(const struct np_world *w, const char *s, struct np_endpoint *ep,
		      struct vn_err *e);

/* Picks the addresses the two ends use: the family of an address given
 * literally, else IPv4 when both pods have one, else IPv6. */
void np_endpoints_resolve(struct np_endpoint *src, struct np_endpoint *dst);

/* Parses "80/TCP", "53/udp" or "80" (TCP). Returns 0 or -1 with e set. */
int np_port_parse(const char *s, uint16_t *port, uint8_t *proto, struct vn_err *e);

/* Writes the verdict and its reasons as text lines; the first line starts
 * with "allowed" or "denied". */
void np_report_text(FILE *f, const struct np_endpoint *src, const struct np_endpoint *dst,
		    uint16_t port, uint8_t proto, const struct np_verdict *v);

/* The same as a JSON object (caller owns it); NULL if out of memory. */
json_t *np_report_json(const struct np_endpoint *src, const struct np_endpoint *dst,
		       uint16_t port, uint8_t proto, const struct np_verdict *v);

/* Prints the truth table for pods (NULL: every pod with an address, by
 * namespace and name): row = source, column = destination, "." allowed,
 * "X" denied, "-" the pod itself. Returns 0 or -1 with e set. */
int np_report_matrix(FILE *f, const struct np_world *w, const char *pods_csv, uint16_t port,
		     uint8_t proto, struct vn_err *e);

#endif
