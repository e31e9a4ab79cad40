/* SPDX-License-Identifier: GPL-2.0-only */
/* Netlink sockets that keep the kernel's extended ack (its own words on why it refused). */
#ifndef FL_NLACK_H
#define FL_NLACK_H

#include <netlink/netlink.h>

struct fl_nl_ack {
	int error;     /* the kernel's negative errno, 0 if none came */
	char msg[200]; /* its extack message ("Specified qdisc kind is unknown"), if any */
};

void fl_nl_socket_freep(struct nl_sock **sk);

/* Connect a libnl socket for proto with NETLINK_EXT_ACK on, errors landing in *ack. */
int fl_nl_open(int proto, struct fl_nl_ack *ack, struct nl_sock **ret);

#endif
