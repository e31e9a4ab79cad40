// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests: the nf_tables batch of the nfqueue latency (inject/nfqnft.c). Each batch is
 * decoded back into text and compared whole, and the bytes the kernel cares most about (the
 * batch markers, the xtables infos, the flags) are checked here independently of the decoder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <linux/netfilter/xt_physdev.h>
#include <linux/netlink.h>
#include <netlink/attr.h>

#include "inject/nfqnft.h"
#include "inject/util.h"

#define TABLE "faultline-r1-0000abcd"

static const uint16_t ex22[] = { 22 };

/* IPv4, ingress on vb, udp dport range, a source CIDR that is not whole bytes, exclude 22 */
static const struct nfq_rule_spec spec_v4 = {
	.chain = "FL-0000abcd",
	.parent = { "PREROUTING" },
	.iface_opt = { "-i" },
	.iface = "vb",
	.proto = IPPROTO_UDP,
	.src = "10.1.0.0/20",
	.dport_lo = 9000,
	.dport_hi = 9010,
	.exclude = ex22,
	.n_exclude = 1,
	.queue = 64001,
	.comment = "faultline:r1:0000abcd",
};
/* IPv6, egress on eth0, any protocol, a /33 source and a /64 destination */
static const struct nfq_rule_spec spec_v6 = {
	.ipv6 = true,
	.chain = "FL-0000abcd",
	.parent = { "POSTROUTING" },
	.iface_opt = { "-o" },
	.iface = "eth0",
	.src = "2001:db8:8000::/33",
	.dst = "fd00:1:2:3::/64",
	.queue = 64002,
	.comment = "faultline:r1:0000abcd",
};
/* a lab host's switch port, both directions: one forward chain, physdev in and out */
static const struct nfq_rule_spec spec_phys = {
	.chain = "FL-0000abcd",
	.parent = { "FORWARD", "FORWARD" },
	.iface_opt = { "--physdev-in", "--physdev-out" },
	.iface = "h-rx",
	.proto = IPPROTO_TCP,
	.dst = "198.18.0.7",
	.symmetric = true,
	.sport_lo = 5000,
	.queue = 64003,
	.comment = "faultline:r1:0000abcd",
};

/* clang-format off */
#define RULE_HEAD(chain) \
	"newrule ip faultline-r1-0000abcd " chain " append comment \"faultline:r1:0000abcd\"\n"
/* how an IPv4 table starts: the table, our chain */
#define HEAD_V4 \
	"batch begin subsys 10\n" \
	"newtable ip faultline-r1-0000abcd excl comment \"faultline:r1:0000abcd\"\n" \
	"newchain ip faultline-r1-0000abcd FL-0000abcd\n"
/* the RETURN of excluded port 22 for a protocol, as source (0) or destination (2) port */
#define RETURN_22(proto, off) \
	RULE_HEAD("FL-0000abcd") \
	"  [ meta load l4proto => reg 1 ]\n" \
	"  [ cmp eq reg 1 " proto " ]\n" \
	"  [ payload load 2b @ transport header + " off " => reg 1 ]\n" \
	"  [ cmp eq reg 1 0016 ]\n" \
	"  [ immediate reg 0 return ]\n"

static const char expect_v4[] =
	HEAD_V4
	RETURN_22("06", "0")
	RETURN_22("06", "2")
	RETURN_22("11", "0")
	RETURN_22("11", "2")
	RULE_HEAD("FL-0000abcd")
	"  [ meta load l4proto => reg 1 ]\n"
	"  [ cmp eq reg 1 11 ]\n"
	"  [ payload load 4b @ network header + 12 => reg 1 ]\n"
	"  [ bitwise reg 1 = (reg 1 & fffff000) ^ 00000000 ]\n"
	"  [ cmp eq reg 1 0a010000 ]\n"
	"  [ payload load 2b @ transport header + 2 => reg 1 ]\n"
	"  [ range eq reg 1 2328 2332 ]\n"
	"  [ counter ]\n"
	"  [ target name NFQUEUE rev 3 num 64001 total 1 flags 0x1 (8 bytes) ]\n"
	"newchain ip faultline-r1-0000abcd prerouting hook 0 prio -150 policy 1 type filter\n"
	RULE_HEAD("prerouting")
	"  [ meta load iifname => reg 1 ]\n"
	"  [ cmp eq reg 1 766200 ]\n"
	"  [ immediate reg 0 jump -> FL-0000abcd ]\n"
	"batch end subsys 10\n";

static const char expect_v6[] =
	"batch begin subsys 10\n"
	"newtable ip6 faultline-r1-0000abcd excl comment \"faultline:r1:0000abcd\"\n"
	"newchain ip6 faultline-r1-0000abcd FL-0000abcd\n"
	"newrule ip6 faultline-r1-0000abcd FL-0000abcd append comment \"faultline:r1:0000abcd\"\n"
	"  [ payload load 16b @ network header + 8 => reg 1 ]\n"
	"  [ bitwise reg 1 = (reg 1 & ffffffff800000000000000000000000) ^ "
	"00000000000000000000000000000000 ]\n"
	"  [ cmp eq reg 1 20010db8800000000000000000000000 ]\n"
	"  [ payload load 8b @ network header + 24 => reg 1 ]\n"
	"  [ cmp eq reg 1 fd00000100020003 ]\n"
	"  [ counter ]\n"
	"  [ target name NFQUEUE rev 3 num 64002 total 1 flags 0x1 (8 bytes) ]\n"
	"newchain ip6 faultline-r1-0000abcd postrouting hook 4 prio -150 policy 1 type filter\n"
	"newrule ip6 faultline-r1-0000abcd postrouting append comment \"faultline:r1:0000abcd\"\n"
	"  [ meta load oifname => reg 1 ]\n"
	"  [ cmp eq reg 1 6574683000 ]\n"
	"  [ immediate reg 0 jump -> FL-0000abcd ]\n"
	"batch end subsys 10\n";

static const char expect_physdev[] =
	HEAD_V4
	RULE_HEAD("FL-0000abcd")
	"  [ meta load l4proto => reg 1 ]\n"
	"  [ cmp eq reg 1 06 ]\n"
	"  [ payload load 4b @ network header + 16 => reg 1 ]\n"
	"  [ cmp eq reg 1 c6120007 ]\n"
	"  [ payload load 2b @ transport header + 0 => reg 1 ]\n"
	"  [ cmp eq reg 1 1388 ]\n"
	"  [ counter ]\n"
	"  [ target name NFQUEUE rev 3 num 64003 total 1 flags 0x1 (8 bytes) ]\n"
	RULE_HEAD("FL-0000abcd")
	"  [ meta load l4proto => reg 1 ]\n"
	"  [ cmp eq reg 1 06 ]\n"
	"  [ payload load 4b @ network header + 12 => reg 1 ]\n"
	"  [ cmp eq reg 1 c6120007 ]\n"
	"  [ payload load 2b @ transport header + 2 => reg 1 ]\n"
	"  [ cmp eq reg 1 1388 ]\n"
	"  [ counter ]\n"
	"  [ target name NFQUEUE rev 3 num 64003 total 1 flags 0x1 (8 bytes) ]\n"
	"newchain ip faultline-r1-0000abcd forward hook 2 prio -150 policy 1 type filter\n"
	RULE_HEAD("forward")
	"  [ match name physdev rev 0 in h-rx mask 5 (72 bytes) ]\n"
	"  [ immediate reg 0 jump -> FL-0000abcd ]\n"
	RULE_HEAD("forward")
	"  [ match name physdev rev 0 out h-rx mask 5 (72 bytes) ]\n"
	"  [ immediate reg 0 jump -> FL-0000abcd ]\n"
	"batch end subsys 10\n";
/* clang-format on */

static void build(const struct nfq_rule_spec *s, struct nfqnft_batch *b)
{
	*b = (struct nfqnft_batch){ 0 };
	assert_int_equal(nfqnft_begin(b), 0);
	assert_int_equal(nfqnft_add_table(b, s, TABLE), 0);
	assert_int_equal(nfqnft_end(b), 0);
}

static void check_dump(const struct nfqnft_batch *b, const char *expect)
{
	char *d = nfqnft_dump(b->buf, b->len);

	assert_non_null(d);
	if (strcmp(d, expect))
		fprintf(stderr, "got:\n%s", d);
	assert_string_equal(d, expect);
	free(d);
}

static const struct nlmsghdr *msg_at(const struct nfqnft_batch *b, uint32_t i)
{
	const char *p = b->buf;

	assert_true(i < b->n);
	while (i--)
		p += NLMSG_ALIGN(((const struct nlmsghdr *)p)->nlmsg_len);
	assert_true(p + sizeof(struct nlmsghdr) <= b->buf + b->len);
	return (const struct nlmsghdr *)p;
}

static void attrs_of(const struct nlmsghdr *h, struct nlattr **tb, int max)
{
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));

	assert_int_equal(nla_parse(tb, max, (struct nlattr *)((char *)h + off),
				   (int)(h->nlmsg_len - off), NULL),
			 0);
}

/* The data of the nth expression called name in rule message h, or NULL. */
static struct nlattr *expr_data(const struct nlmsghdr *h, const char *name, int nth)
{
	struct nlattr *tb[NFTA_RULE_MAX + 1], *e;
	int rem;

	assert_int_equal(h->nlmsg_type, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWRULE);
	attrs_of(h, tb, NFTA_RULE_MAX);
	assert_non_null(tb[NFTA_RULE_EXPRESSIONS]);
	nla_for_each_nested(e, tb[NFTA_RULE_EXPRESSIONS], rem)
	{
		struct nlattr *x[NFTA_EXPR_MAX + 1];
		assert_int_equal(nla_type(e), NFTA_LIST_ELEM);
		assert_int_equal(nla_parse_nested(x, NFTA_EXPR_MAX, e, NULL), 0);
		if (!strcmp(nla_get_string(x[NFTA_EXPR_NAME]), name) && nth-- == 0)
			return x[NFTA_EXPR_DATA];
	}
	return NULL;
}

static void check_batch_frame(const struct nfqnft_batch *b)
{
	const struct nlmsghdr *first = msg_at(b, 0), *last = msg_at(b, b->n - 1), *t = msg_at(b, 1);
	const struct nfgenmsg *g = NLMSG_DATA(first);

	assert_int_equal(first->nlmsg_type, NFNL_MSG_BATCH_BEGIN);
	assert_int_equal(last->nlmsg_type, NFNL_MSG_BATCH_END);
	assert_int_equal(ntohs(g->res_id), NFNL_SUBSYS_NFTABLES);
	assert_int_equal(first->nlmsg_flags & NLM_F_ACK, 0); /* not acked on older kernels */
	assert_int_equal((char *)last + NLMSG_ALIGN(last->nlmsg_len) - b->buf, b->len);
	/* our own table: created, never merged into an existing one */
	assert_int_equal(t->nlmsg_type, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWTABLE);
	assert_int_equal(t->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
	for (uint32_t i = 1; i < b->n; i++)
		assert_int_equal(msg_at(b, i)->nlmsg_seq, msg_at(b, i - 1)->nlmsg_seq + 1);
}

static void check_nfqueue(const struct nlmsghdr *h, uint16_t queue)
{
	struct nlattr *d = expr_data(h, "target", 0), *tb[NFTA_TARGET_MAX + 1];
	struct xt_NFQ_info_v3 q;

	assert_non_null(d);
	assert_int_equal(nla_parse_nested(tb, NFTA_TARGET_MAX, d, NULL), 0);
	assert_string_equal(nla_get_string(tb[NFTA_TARGET_NAME]), "NFQUEUE");
	assert_int_equal(ntohl(nla_get_u32(tb[NFTA_TARGET_REV])), 3);
	assert_int_equal(nla_len(tb[NFTA_TARGET_INFO]), 8); /* XT_ALIGN(6) */
	memcpy(&q, nla_data(tb[NFTA_TARGET_INFO]), sizeof(q));
	assert_int_equal(q.queuenum, queue);
	assert_int_equal(q.queues_total, 1);
	assert_int_equal(q.flags, NFQ_FLAG_BYPASS);
}

static void ipv4_dport_range_exclude(void **state)
{
	struct nfqnft_batch b;
	struct nlattr *d, *tb[NFTA_PAYLOAD_MAX + 1];

	build(&spec_v4, &b);
	check_dump(&b, expect_v4);
	check_batch_frame(&b);
	assert_int_equal(b.n, 11);
	check_nfqueue(msg_at(&b, 7), 64001);
	/* the source address is read whole (a /20) at offset 12 of the IPv4 header */
	d = expr_data(msg_at(&b, 7), "payload", 0);
	assert_int_equal(nla_parse_nested(tb, NFTA_PAYLOAD_MAX, d, NULL), 0);
	assert_int_equal(ntohl(nla_get_u32(tb[NFTA_PAYLOAD_BASE])), NFT_PAYLOAD_NETWORK_HEADER);
	assert_int_equal(ntohl(nla_get_u32(tb[NFTA_PAYLOAD_OFFSET])), 12);
	assert_int_equal(ntohl(nla_get_u32(tb[NFTA_PAYLOAD_LEN])), 4);
	assert_non_null(expr_data(msg_at(&b, 7), "bitwise", 0));
	assert_non_null(expr_data(msg_at(&b, 7), "range", 0));
	nfqnft_batch_free(&b);
}

static void ipv6_cidr(void **state)
{
	struct nfqnft_batch b;

	build(&spec_v6, &b);
	check_dump(&b, expect_v6);
	check_batch_frame(&b);
	assert_int_equal(((const struct nfgenmsg *)NLMSG_DATA(msg_at(&b, 1)))->nfgen_family,
			 NFPROTO_IPV6);
	check_nfqueue(msg_at(&b, 3), 64002);
	/* no protocol asked: no l4proto match, and the /64 needs no mask */
	assert_null(expr_data(msg_at(&b, 3), "meta", 0));
	assert_non_null(expr_data(msg_at(&b, 3), "bitwise", 0));
	assert_null(expr_data(msg_at(&b, 3), "bitwise", 1));
	nfqnft_batch_free(&b);
}

static void physdev(void **state)
{
	struct nfqnft_batch b;
	struct nlattr *d, *tb[NFTA_MATCH_MAX + 1];
	struct xt_physdev_info pi;

	build(&spec_phys, &b);
	check_dump(&b, expect_physdev);
	check_batch_frame(&b);
	check_nfqueue(msg_at(&b, 3), 64003);
	check_nfqueue(msg_at(&b, 4), 64003);
	for (int out = 0; out < 2; out++) {
		d = expr_data(msg_at(&b, 6 + (uint32_t)out), "match", 0);
		assert_non_null(d);
		assert_int_equal(nla_parse_nested(tb, NFTA_MATCH_MAX, d, NULL), 0);
		assert_string_equal(nla_get_string(tb[NFTA_MATCH_NAME]), "physdev");
		assert_int_equal(ntohl(nla_get_u32(tb[NFTA_MATCH_REV])), 0);
		assert_int_equal(nla_len(tb[NFTA_MATCH_INFO]), 72); /* XT_ALIGN(66) */
		memcpy(&pi, nla_data(tb[NFTA_MATCH_INFO]), sizeof(pi));
		assert_int_equal(pi.bitmask, out ? XT_PHYSDEV_OP_OUT : XT_PHYSDEV_OP_IN);
		assert_string_equal(out ? pi.physoutdev : pi.physindev, "h-rx");
		/* "h-rx" and its NUL, nothing more: an exact name */
		assert_int_equal((unsigned char)(out ? pi.out_mask : pi.in_mask)[4], 0xff);
		assert_int_equal((out ? pi.out_mask : pi.in_mask)[5], 0);
		assert_int_equal(pi.invert, 0);
	}
	nfqnft_batch_free(&b);
}

static void delete_and_describe(void **state)
{
	struct nfqnft_batch b = { 0 };
	char *d;

	assert_int_equal(nfqnft_begin(&b), 0);
	assert_int_equal(nfqnft_del_table(&b, false, TABLE, true), 0);
	assert_int_equal(nfqnft_del_table(&b, true, TABLE, false), 0);
	assert_int_equal(nfqnft_end(&b), 0);
	d = nfqnft_dump(b.buf, b.len);
	assert_string_equal(d, "batch begin subsys 10\n"
			       "destroytable ip " TABLE "\n"
			       "deltable ip6 " TABLE "\n"
			       "batch end subsys 10\n");
	free(d);
	d = nfqnft_describe(&b, 2);
	assert_string_equal(d, "deltable ip6 " TABLE);
	free(d);
	assert_null(nfqnft_describe(&b, 0));
	assert_null(nfqnft_describe(&b, 9));
	nfqnft_batch_free(&b);
}

static void refuses_what_it_cannot_express(void **state)
{
	struct nfq_rule_spec s = spec_v4;
	struct nfqnft_batch b = { 0 };

	s.proto = IPPROTO_SCTP;
	assert_int_equal(nfqnft_begin(&b), 0);
	assert_int_equal(nfqnft_add_table(&b, &s, TABLE), -EPROTONOSUPPORT);
	s = spec_v4;
	s.src = "10.1.0.0/40";
	assert_int_equal(nfqnft_add_table(&b, &s, TABLE), -EINVAL);
	s = spec_v4;
	s.parent[0] = "OUTPUT";
	assert_int_equal(nfqnft_add_table(&b, &s, TABLE), -EINVAL);
	nfqnft_batch_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv4_dport_range_exclude),
		cmocka_unit_test(ipv6_cidr),
		cmocka_unit_test(physdev),
		cmocka_unit_test(delete_and_describe),
		cmocka_unit_test(refuses_what_it_cannot_express),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
