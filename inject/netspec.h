/* SPDX-License-Identifier: GPL-2.0-only */
/* Network fault filters shared by every network backend: which packets, on which device. */
#ifndef FL_NETSPEC_H
#define FL_NETSPEC_H

#include <stdbool.h>
#include <stdint.h>

#include "scenarios/diag.h"
#include "scenarios/scenario.h"

enum fl_direction {
	FL_DIR_EGRESS,
	FL_DIR_INGRESS,
	FL_DIR_BOTH,
};

struct fl_cidr {
	int family; /* AF_INET, AF_INET6; 0: unset */
	uint8_t addr[16];
	uint8_t prefix;
};

struct fl_port_range {
	uint16_t lo, hi; /* 0/0: any */
};

#define FL_NET_MAX_EXCLUDE 16

/*
 * Keys (scenario and CLI --flags alike): dev, direction (egress|ingress|both), src, dst
 * (address or CIDR, IPv4 or IPv6), proto (tcp|udp|icmp|icmpv6|any), sport, dport (N or N-M),
 * cgroup (a cgroup v2 path: one service on a shared host), peer (a lab host: its address as
 * dst on egress, src on ingress), exclude (comma list of ports that never get the fault).
 * The device lives in target.netns (set by `on:` for a lab host, or --netns).
 */
struct fl_netspec {
	char *dev;
	enum fl_direction direction;
	uint8_t proto; /* 0: any */
	struct fl_cidr src, dst;
	struct fl_port_range sport, dport;
	char *cgroup;
	uint64_t cgroup_id; /* resolved at plan time: inode of the cgroup v2 directory */
	char *peer;
	uint16_t exclude[FL_NET_MAX_EXCLUDE];
	size_t n_exclude;
};

/* NULL-terminated; every network backend's `keys` starts with these. */
extern const char *const fl_netspec_keys[];

/* Parse the filter keys out of p (marking them used). Errors carry each key's where. */
int fl_netspec_parse(const struct fl_params *p, const struct fl_lab *lab, struct fl_netspec *ret,
		     struct fl_errors *errs);
void fl_netspec_clear(struct fl_netspec *s);
/* "udp dport 9000 ingress on eth0" */
void fl_netspec_describe(const struct fl_netspec *s, char *buf, size_t len);

#endif
