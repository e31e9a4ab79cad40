/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The nfqueue latency's rules as an nf_tables table of our own, built as one nfnetlink batch
 * and sent on a NETLINK_NETFILTER socket (no fork, no exec). The verdict is the xtables
 * NFQUEUE target through nft_compat (nft's own queue expression may not be built) and a switch
 * port's match is the xtables physdev match, as iptables-nft sends them.
 */
#ifndef FL_NFQNFT_H
#define FL_NFQNFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inject/nfqd.h"

/* Messages of one nfnetlink batch, contiguous, each with NLM_F_ACK. */
struct nfqnft_batch {
	char *buf;
	size_t len, cap;
	uint32_t n;   /* messages, BEGIN and END included */
	uint32_t seq; /* of the next message */
};

void nfqnft_batch_free(struct nfqnft_batch *b);

/*
 * A whole batch creating table `table` (family ip or ip6 from s->ipv6) in one transaction:
 * the table (NLM_F_EXCL: never someone else's, comment s->comment), the regular chain s->chain
 * with the RETURN rules of the excluded ports and the NFQUEUE rules, and one base chain per
 * hook of s->parent[] (mangle priority) whose rule matches the device and jumps there. Several
 * tables may go in one batch: call nfqnft_add_table() between nfqnft_begin() and nfqnft_end().
 */
int nfqnft_begin(struct nfqnft_batch *b);
int nfqnft_add_table(struct nfqnft_batch *b, const struct nfq_rule_spec *s, const char *table);
/* Delete table (destroy: NFT_MSG_DESTROYTABLE, which a missing table does not fail). */
int nfqnft_del_table(struct nfqnft_batch *b, bool ipv6, const char *table, bool destroy);
int nfqnft_end(struct nfqnft_batch *b);

struct nfqnft_error {
	int error;	/* the kernel's negative errno, or a local one */
	uint32_t index; /* the message it refused, 0-based in the batch */
	char msg[200];	/* its extended ack, if any */
};

/* Send b inside netns (NULL: ours) and read every answer: 0, or a negative errno with *err. */
int nfqnft_send(const char *netns, const struct nfqnft_batch *b, struct nfqnft_error *err);

/*
 * Does the kernel take our rules there? nf_tables answers and nft_compat knows the NFQUEUE
 * target rev 3 (and the physdev match rev 0, the cgroup match rev 2 when asked). 0, or a
 * negative errno with a static *ret_reason.
 */
int nfqnft_probe(const char *netns, bool physdev, bool cgroup, const char **ret_reason);

/* How many nf_tables tables (any family) in netns have a name starting with prefix, or -errno. */
int nfqnft_count_tables(const char *netns, const char *prefix);

/*
 * The batch decoded back into text, one line per message and one per expression, in the
 * spirit of `nft --debug=netlink` ("newrule ip faultline-x FL-x", "  [ cmp eq reg 1 06 ]").
 * For the unit tests and the debug log. Returns a malloc'ed string or NULL.
 */
char *nfqnft_dump(const void *buf, size_t len);
/* The first line of message index's dump ("newrule ip6 faultline-x FL-x"), or NULL. */
char *nfqnft_describe(const struct nfqnft_batch *b, uint32_t index);

#endif
