// SPDX-License-Identifier: GPL-2.0-only
/* Netlink sockets that keep the kernel's extended ack, shared by doctor and the qdisc backends. */
#include <errno.h>
#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <string.h>
#include <sys/socket.h>

#include "inject/log.h"
#include "inject/nlack.h"

/* libnl has no accessor for extack: read NLMSGERR_ATTR_MSG after the echoed request. */
static int ack_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct fl_nl_ack *ack = arg;
	const struct nlmsghdr *h = (const struct nlmsghdr *)((const char *)e - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t payload = sizeof(*e), off;

	ack->error = e->error;
	ack->msg[0] = '\0';
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	if (!(h->nlmsg_flags & NLM_F_CAPPED) && e->msg.nlmsg_len >= NLMSG_HDRLEN)
		payload += e->msg.nlmsg_len - NLMSG_HDRLEN;
	off = NLMSG_HDRLEN + NLMSG_ALIGN(payload);
	if (off >= h->nlmsg_len)
		return NL_STOP;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)h + off),
		      (int)(h->nlmsg_len - off), NULL) == 0 &&
	    tb[NLMSGERR_ATTR_MSG])
		nla_strlcpy(ack->msg, tb[NLMSGERR_ATTR_MSG], sizeof(ack->msg));
	return NL_STOP;
}

void fl_nl_socket_freep(struct nl_sock **sk)
{
	if (*sk)
		nl_socket_free(*sk);
}

int fl_nl_open(int proto, struct fl_nl_ack *ack, struct nl_sock **ret)
{
	_cleanup_(fl_nl_socket_freep) struct nl_sock *sk = nl_socket_alloc();
	int one = 1, r;

	if (!sk)
		return -ENOMEM;
	r = nl_connect(sk, proto);
	if (r < 0)
		return r == -NLE_PROTO_MISMATCH ? -EPROTONOSUPPORT : -EIO;
	if (setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) < 0)
		log_debug("NETLINK_EXT_ACK: %s", strerror(errno));
	nl_socket_modify_err_cb(sk, NL_CB_CUSTOM, ack_cb, ack);
	*ret = TAKE_PTR(sk);
	return 0;
}
