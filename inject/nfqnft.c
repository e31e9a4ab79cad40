// SPDX-License-Identifier: GPL-2.0-only
/*
 * The nfqueue latency's rules as one nf_tables batch (see nfqnft.h). Messages are built with
 * libnl's message and attribute helpers and laid out as iptables-nft lays out the same rules
 * (`nft --debug=netlink list ruleset` after an `iptables -j NFQUEUE` shows them): meta + cmp
 * for the device and the protocol, payload (+ bitwise) + cmp for addresses, payload + cmp or
 * range for ports, the xtables NFQUEUE target (rev 3) and physdev match through nft_compat.
 * nfnetlink handles a batch inside sendmsg(), so every answer is queued when it returns.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <linux/netfilter/xt_cgroup.h>
#include <linux/netfilter/xt_physdev.h>
#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "inject/netutil.h"
#include "inject/nfqnft.h"
#include "inject/util.h"

#ifndef NFT_MSG_DESTROYTABLE
#define NFT_MSG_DESTROYTABLE 26 /* linux 6.3 */
#endif
#define NFQNFT_PRIO_MANGLE (-150) /* NF_IP_PRI_MANGLE, NF_IP6_PRI_MANGLE */
#define NFQNFT_MSG_MAX 16384	  /* a rule with the cgroup match is ~4.3 KiB */
#define NFQNFT_UDATA_COMMENT 0	  /* libnftnl's NFTNL_UDATA_{TABLE,RULE}_COMMENT */
#define NFQNFT_ANSWER_WAIT_MS 2000

/* --- building one message: errors are sticky, checked once -------------------------------- */

struct mb {
	struct nl_msg *m;
	int err;
};

static void mb_put(struct mb *b, int r)
{
	if (r < 0 && !b->err)
		b->err = -ENOMEM;
}

static void put_be32(struct mb *b, int attr, uint32_t v)
{
	mb_put(b, nla_put_u32(b->m, attr, htonl(v)));
}

static void put_str(struct mb *b, int attr, const char *s)
{
	mb_put(b, nla_put_string(b->m, attr, s));
}

static struct nlattr *nest(struct mb *b, int attr)
{
	struct nlattr *n = b->err ? NULL : nla_nest_start(b->m, attr);

	if (!n)
		mb_put(b, -1);
	return n;
}

static void nest_end(struct mb *b, struct nlattr *n)
{
	if (n)
		mb_put(b, nla_nest_end(b->m, n));
}

/* NFTA_DATA_VALUE inside attr, as registers are loaded and compared */
static void put_value(struct mb *b, int attr, const void *v, size_t len)
{
	struct nlattr *n = nest(b, attr);

	if (n)
		mb_put(b, nla_put(b->m, NFTA_DATA_VALUE, (int)len, v));
	nest_end(b, n);
}

/* A comment in libnftnl's user data layout (type, length, NUL-terminated text). */
static void put_comment(struct mb *b, int attr, const char *comment)
{
	uint8_t ud[2 + 256];
	size_t n = strlen(comment) + 1;

	if (n > 255)
		n = 255;
	ud[0] = NFQNFT_UDATA_COMMENT;
	ud[1] = (uint8_t)n;
	memcpy(ud + 2, comment, n - 1);
	ud[1 + n] = '\0';
	mb_put(b, nla_put(b->m, attr, (int)n + 2, ud));
}

static int mb_start(struct mb *b, struct nfqnft_batch *batch, uint16_t type, uint16_t flags,
		    uint8_t family, uint16_t res_id)
{
	struct nfgenmsg g = { .nfgen_family = family,
			      .version = NFNETLINK_V0,
			      .res_id = htons(res_id) };

	b->err = 0;
	b->m = nlmsg_alloc_size(NFQNFT_MSG_MAX);
	if (!b->m)
		return -ENOMEM;
	if (!nlmsg_put(b->m, 0, batch->seq, type, 0, NLM_F_REQUEST | flags) ||
	    nlmsg_append(b->m, &g, sizeof(g), NLMSG_ALIGNTO) < 0)
		b->err = -ENOMEM;
	return 0;
}

/* Append the finished message to the batch and free it. */
static int mb_finish(struct mb *b, struct nfqnft_batch *batch)
{
	struct nlmsghdr *h;
	size_t len;
	int r = b->err;

	if (r == 0) {
		h = nlmsg_hdr(b->m);
		len = NLMSG_ALIGN(h->nlmsg_len);
		if (batch->len + len > batch->cap) {
			size_t cap = (batch->cap ? batch->cap * 2 : 8192) + len;
			char *nb = realloc(batch->buf, cap);
			if (!nb) {
				r = -ENOMEM;
				goto out;
			}
			batch->buf = nb;
			batch->cap = cap;
		}
		memcpy(batch->buf + batch->len, h, len);
		batch->len += len;
		batch->n++;
		batch->seq++;
	}
out:
	nlmsg_free(b->m);
	b->m = NULL;
	return r;
}

void nfqnft_batch_free(struct nfqnft_batch *b)
{
	free(b->buf);
	*b = (struct nfqnft_batch){ 0 };
}

static uint16_t nft_type(uint8_t msg)
{
	return (uint16_t)(NFNL_SUBSYS_NFTABLES << 8 | msg);
}

static uint8_t family_of(bool ipv6)
{
	return ipv6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
}

static int batch_marker(struct nfqnft_batch *b, uint16_t type)
{
	struct mb m;
	int r = mb_start(&m, b, type, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);

	return r < 0 ? r : mb_finish(&m, b);
}

int nfqnft_begin(struct nfqnft_batch *b)
{
	if (!b->seq)
		b->seq = 1;
	return batch_marker(b, NFNL_MSG_BATCH_BEGIN);
}

int nfqnft_end(struct nfqnft_batch *b)
{
	return batch_marker(b, NFNL_MSG_BATCH_END);
}

/* --- expressions ---------------------------------------------------------------------------- */

static struct nlattr *expr_start(struct mb *b, const char *name, struct nlattr **ret_elem)
{
	*ret_elem = nest(b, NFTA_LIST_ELEM);
	put_str(b, NFTA_EXPR_NAME, name);
	return nest(b, NFTA_EXPR_DATA);
}

static void expr_end(struct mb *b, struct nlattr *data, struct nlattr *elem)
{
	nest_end(b, data);
	nest_end(b, elem);
}

static void e_meta(struct mb *b, uint32_t key)
{
	struct nlattr *el, *d = expr_start(b, "meta", &el);

	put_be32(b, NFTA_META_KEY, key);
	put_be32(b, NFTA_META_DREG, NFT_REG_1);
	expr_end(b, d, el);
}

static void e_cmp(struct mb *b, const void *v, size_t len)
{
	struct nlattr *el, *d = expr_start(b, "cmp", &el);

	put_be32(b, NFTA_CMP_SREG, NFT_REG_1);
	put_be32(b, NFTA_CMP_OP, NFT_CMP_EQ);
	put_value(b, NFTA_CMP_DATA, v, len);
	expr_end(b, d, el);
}

static void e_payload(struct mb *b, uint32_t base, uint32_t off, uint32_t len)
{
	struct nlattr *el, *d = expr_start(b, "payload", &el);

	put_be32(b, NFTA_PAYLOAD_DREG, NFT_REG_1);
	put_be32(b, NFTA_PAYLOAD_BASE, base);
	put_be32(b, NFTA_PAYLOAD_OFFSET, off);
	put_be32(b, NFTA_PAYLOAD_LEN, len);
	expr_end(b, d, el);
}

static void e_bitwise(struct mb *b, const uint8_t *mask, size_t len)
{
	struct nlattr *el, *d = expr_start(b, "bitwise", &el);
	static const uint8_t zero[16];

	put_be32(b, NFTA_BITWISE_SREG, NFT_REG_1);
	put_be32(b, NFTA_BITWISE_DREG, NFT_REG_1);
	put_be32(b, NFTA_BITWISE_LEN, (uint32_t)len);
	put_value(b, NFTA_BITWISE_MASK, mask, len);
	put_value(b, NFTA_BITWISE_XOR, zero, len);
	expr_end(b, d, el);
}

static void e_range(struct mb *b, uint16_t lo, uint16_t hi)
{
	struct nlattr *el, *d = expr_start(b, "range", &el);
	uint16_t l = htons(lo), h = htons(hi);

	put_be32(b, NFTA_RANGE_SREG, NFT_REG_1);
	put_be32(b, NFTA_RANGE_OP, NFT_RANGE_EQ);
	put_value(b, NFTA_RANGE_FROM_DATA, &l, sizeof(l));
	put_value(b, NFTA_RANGE_TO_DATA, &h, sizeof(h));
	expr_end(b, d, el);
}

static void e_verdict(struct mb *b, int code, const char *chain)
{
	struct nlattr *el, *d = expr_start(b, "immediate", &el), *data, *v;

	put_be32(b, NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
	data = nest(b, NFTA_IMMEDIATE_DATA);
	v = nest(b, NFTA_DATA_VERDICT);
	put_be32(b, NFTA_VERDICT_CODE, (uint32_t)code);
	if (chain)
		put_str(b, NFTA_VERDICT_CHAIN, chain);
	nest_end(b, v);
	nest_end(b, data);
	expr_end(b, d, el);
}

static void e_counter(struct mb *b)
{
	struct nlattr *el, *d = expr_start(b, "counter", &el);

	expr_end(b, d, el);
}

/* An xtables match or target through nft_compat: info is padded to XT_ALIGN as x_tables wants */
static void e_xt(struct mb *b, bool target, const char *name, uint32_t rev, const void *info,
		 size_t len)
{
	struct nlattr *el, *d = expr_start(b, target ? "target" : "match", &el);
	size_t padded = XT_ALIGN(len);
	_cleanup_free_ uint8_t *buf = calloc(1, padded);

	if (!buf) {
		mb_put(b, -1);
		return;
	}
	memcpy(buf, info, len);
	put_str(b, target ? NFTA_TARGET_NAME : NFTA_MATCH_NAME, name);
	put_be32(b, target ? NFTA_TARGET_REV : NFTA_MATCH_REV, rev);
	mb_put(b, nla_put(b->m, target ? NFTA_TARGET_INFO : NFTA_MATCH_INFO, (int)padded, buf));
	expr_end(b, d, el);
}

/* --- rules ---------------------------------------------------------------------------------- */

struct rule {
	struct mb b;
	struct nlattr *exprs;
	const char *comment;
};

static int rule_start(struct rule *r, struct nfqnft_batch *batch, bool ipv6, const char *table,
		      const char *chain, const char *comment)
{
	int k = mb_start(&r->b, batch, nft_type(NFT_MSG_NEWRULE),
			 NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND, family_of(ipv6), 0);

	if (k < 0)
		return k;
	put_str(&r->b, NFTA_RULE_TABLE, table);
	put_str(&r->b, NFTA_RULE_CHAIN, chain);
	r->exprs = nest(&r->b, NFTA_RULE_EXPRESSIONS);
	r->comment = comment;
	return 0;
}

static int rule_finish(struct rule *r, struct nfqnft_batch *batch)
{
	nest_end(&r->b, r->exprs);
	put_comment(&r->b, NFTA_RULE_USERDATA, r->comment);
	return mb_finish(&r->b, batch);
}

static void m_l4proto(struct mb *b, uint8_t proto)
{
	e_meta(b, NFT_META_L4PROTO);
	e_cmp(b, &proto, 1);
}

/* "addr/prefix": only the prefix's bytes are loaded, a partial byte masked */
static int m_addr(struct mb *b, bool ipv6, bool src, const char *cidr)
{
	uint8_t addr[16] = { 0 }, mask[16] = { 0 };
	char text[INET6_ADDRSTRLEN + 8], *slash;
	unsigned prefix, bits = ipv6 ? 128 : 32;
	size_t len;

	snprintf(text, sizeof(text), "%s", cidr);
	slash = strchr(text, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(ipv6 ? AF_INET6 : AF_INET, text, addr) != 1 ||
	    (slash && (sscanf(slash + 1, "%u", &prefix) != 1 || prefix > bits)))
		return -EINVAL;
	if (!slash)
		prefix = bits;
	if (!prefix)
		return 0; /* any address */
	/* a whole-byte prefix loads its bytes alone, another the address and a mask (as nft) */
	len = prefix % 8 ? bits / 8 : prefix / 8;
	for (unsigned i = 0; i < prefix; i++)
		mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	for (size_t i = 0; i < len; i++)
		addr[i] &= mask[i];
	e_payload(b, NFT_PAYLOAD_NETWORK_HEADER, ipv6 ? (src ? 8 : 24) : (src ? 12 : 16),
		  (uint32_t)len);
	if (prefix % 8)
		e_bitwise(b, mask, len);
	e_cmp(b, addr, len);
	return 0;
}

static void m_port(struct mb *b, bool src, uint16_t lo, uint16_t hi)
{
	uint16_t p = htons(lo);

	if (!lo && !hi)
		return;
	e_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, src ? 0 : 2, 2);
	if (!hi || hi == lo)
		e_cmp(b, &p, 2);
	else
		e_range(b, lo, hi);
}

static void m_cgroup(struct mb *b, const char *path)
{
	_cleanup_free_ struct xt_cgroup_info_v2 *cg = calloc(1, sizeof(*cg));

	if (!cg) {
		mb_put(b, -1);
		return;
	}
	cg->has_path = 1;
	snprintf(cg->path, sizeof(cg->path), "%s", path);
	e_xt(b, false, "cgroup", 2, cg, sizeof(*cg));
}

static void m_physdev(struct mb *b, const char *dev, bool out)
{
	struct xt_physdev_info pi = { 0 };
	size_t n = strlen(dev);

	/* the name and its NUL must match, as iptables' interface parser masks it */
	snprintf(out ? pi.physoutdev : pi.physindev, IFNAMSIZ, "%s", dev);
	memset(out ? pi.out_mask : pi.in_mask, 0xff, n + 1 < IFNAMSIZ ? n + 1 : IFNAMSIZ);
	pi.bitmask = out ? XT_PHYSDEV_OP_OUT : XT_PHYSDEV_OP_IN;
	e_xt(b, false, "physdev", 0, &pi, sizeof(pi));
}

static void m_ifname(struct mb *b, const char *dev, bool out)
{
	char name[IFNAMSIZ] = { 0 };
	size_t n = strlen(dev);

	snprintf(name, sizeof(name), "%s", dev);
	e_meta(b, out ? NFT_META_OIFNAME : NFT_META_IIFNAME);
	e_cmp(b, name, n + 1 < IFNAMSIZ ? n + 1 : IFNAMSIZ);
}

static int add_return(struct nfqnft_batch *batch, const struct nfq_rule_spec *s, const char *table,
		      uint8_t proto, bool src, uint16_t port)
{
	struct rule r;
	int k = rule_start(&r, batch, s->ipv6, table, s->chain, s->comment);

	if (k < 0)
		return k;
	m_l4proto(&r.b, proto);
	m_port(&r.b, src, port, port);
	e_verdict(&r.b, NFT_RETURN, NULL);
	return rule_finish(&r, batch);
}

static int add_queue(struct nfqnft_batch *batch, const struct nfq_rule_spec *s, const char *table,
		     uint8_t proto, bool rev)
{
	struct xt_NFQ_info_v3 q = { .queuenum = s->queue,
				    .queues_total = 1,
				    .flags = NFQ_FLAG_BYPASS };
	const char *src = rev ? s->dst : s->src, *dst = rev ? s->src : s->dst;
	struct rule r;
	int k = rule_start(&r, batch, s->ipv6, table, s->chain, s->comment);

	if (k < 0)
		return k;
	if (proto)
		m_l4proto(&r.b, proto);
	if (src && (k = m_addr(&r.b, s->ipv6, true, src)) < 0)
		goto fail;
	if (dst && (k = m_addr(&r.b, s->ipv6, false, dst)) < 0)
		goto fail;
	m_port(&r.b, true, rev ? s->dport_lo : s->sport_lo, rev ? s->dport_hi : s->sport_hi);
	m_port(&r.b, false, rev ? s->sport_lo : s->dport_lo, rev ? s->sport_hi : s->dport_hi);
	if (s->cgroup)
		m_cgroup(&r.b, s->cgroup);
	e_counter(&r.b);
	e_xt(&r.b, true, "NFQUEUE", 3, &q, sizeof(q));
	return rule_finish(&r, batch);
fail:
	nlmsg_free(r.b.m);
	return k;
}

static const char *hook_chain(const char *parent, uint32_t *ret_hook)
{
	if (!strcmp(parent, "PREROUTING"))
		return *ret_hook = NF_INET_PRE_ROUTING, "prerouting";
	if (!strcmp(parent, "POSTROUTING"))
		return *ret_hook = NF_INET_POST_ROUTING, "postrouting";
	if (!strcmp(parent, "FORWARD"))
		return *ret_hook = NF_INET_FORWARD, "forward";
	return NULL;
}

static int add_chain(struct nfqnft_batch *batch, bool ipv6, const char *table, const char *name,
		     const uint32_t *hook)
{
	struct nlattr *h;
	struct mb b;
	int k = mb_start(&b, batch, nft_type(NFT_MSG_NEWCHAIN), NLM_F_ACK | NLM_F_CREATE,
			 family_of(ipv6), 0);

	if (k < 0)
		return k;
	put_str(&b, NFTA_CHAIN_TABLE, table);
	put_str(&b, NFTA_CHAIN_NAME, name);
	if (hook) {
		h = nest(&b, NFTA_CHAIN_HOOK);
		put_be32(&b, NFTA_HOOK_HOOKNUM, *hook);
		put_be32(&b, NFTA_HOOK_PRIORITY, (uint32_t)NFQNFT_PRIO_MANGLE);
		nest_end(&b, h);
		put_be32(&b, NFTA_CHAIN_POLICY, NF_ACCEPT);
		put_str(&b, NFTA_CHAIN_TYPE, "filter");
	}
	return mb_finish(&b, batch);
}

int nfqnft_add_table(struct nfqnft_batch *batch, const struct nfq_rule_spec *s, const char *table)
{
	static const uint8_t both[] = { IPPROTO_TCP, IPPROTO_UDP };
	bool ports = s->sport_lo || s->sport_hi || s->dport_lo || s->dport_hi;
	const uint8_t *protos = &s->proto;
	size_t n_protos = 1;
	struct mb b;
	int k;

	if (s->proto && s->proto != IPPROTO_TCP && s->proto != IPPROTO_UDP &&
	    s->proto != IPPROTO_ICMP && s->proto != IPPROTO_ICMPV6)
		return -EPROTONOSUPPORT;
	if (!s->proto && ports)
		protos = both, n_protos = 2; /* ports without a protocol: both that have them */
	k = mb_start(&b, batch, nft_type(NFT_MSG_NEWTABLE), NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
		     family_of(s->ipv6), 0);
	if (k < 0)
		return k;
	put_str(&b, NFTA_TABLE_NAME, table);
	put_comment(&b, NFTA_TABLE_USERDATA, s->comment);
	k = mb_finish(&b, batch);
	if (k == 0)
		k = add_chain(batch, s->ipv6, table, s->chain, NULL);
	/* excluded ports (the management plane among them) return before the queue */
	for (size_t i = 0; k == 0 && i < s->n_exclude; i++)
		for (size_t p = 0; k == 0 && p < ARRAY_SIZE(both); p++) {
			k = add_return(batch, s, table, both[p], true, s->exclude[i]);
			if (k == 0)
				k = add_return(batch, s, table, both[p], false, s->exclude[i]);
		}
	for (size_t i = 0; k == 0 && i < n_protos; i++) {
		k = add_queue(batch, s, table, protos[i], false);
		if (k == 0 && s->symmetric && (s->src || s->dst))
			k = add_queue(batch, s, table, protos[i], true);
	}
	/* one base chain per hook, one rule per device match jumping to ours */
	for (size_t i = 0; k == 0 && i < 2 && s->parent[i]; i++) {
		bool phys = !strncmp(s->iface_opt[i], "--physdev", 9);
		bool out =
			!strcmp(s->iface_opt[i], "-o") || !strcmp(s->iface_opt[i], "--physdev-out");
		uint32_t hook;
		const char *base = hook_chain(s->parent[i], &hook);
		struct rule r;

		if (!base)
			return -EINVAL;
		if (i == 0 || strcmp(s->parent[0], s->parent[i]) != 0)
			k = add_chain(batch, s->ipv6, table, base, &hook);
		if (k == 0)
			k = rule_start(&r, batch, s->ipv6, table, base, s->comment);
		if (k < 0)
			break;
		if (phys)
			m_physdev(&r.b, s->iface, out);
		else
			m_ifname(&r.b, s->iface, out);
		e_verdict(&r.b, NFT_JUMP, s->chain);
		k = rule_finish(&r, batch);
	}
	return k;
}

int nfqnft_del_table(struct nfqnft_batch *batch, bool ipv6, const char *table, bool destroy)
{
	struct mb b;
	int k = mb_start(&b, batch, nft_type(destroy ? NFT_MSG_DESTROYTABLE : NFT_MSG_DELTABLE),
			 NLM_F_ACK, family_of(ipv6), 0);

	if (k < 0)
		return k;
	put_str(&b, NFTA_TABLE_NAME, table);
	return mb_finish(&b, batch);
}

/* --- talking to the kernel ----------------------------------------------------------------- */

/* One NLMSG_ERROR: the error, and the extended ack's message after the (capped) request. */
static void read_error(const struct nlmsghdr *h, struct nfqnft_error *err, uint32_t seq0)
{
	const struct nlmsgerr *e = NLMSG_DATA(h);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off = NLMSG_HDRLEN + sizeof(*e);

	err->error = e->error;
	err->index = e->msg.nlmsg_seq - seq0;
	err->msg[0] = '\0';
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	off = NLMSG_ALIGN(off);
	if (off < h->nlmsg_len &&
	    nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)h + off),
		      (int)(h->nlmsg_len - off), NULL) == 0 &&
	    tb[NLMSGERR_ATTR_MSG])
		nla_strlcpy(err->msg, tb[NLMSGERR_ATTR_MSG], sizeof(err->msg));
}

/*
 * Send buf (n_acks messages ask for an ack) and read until each is answered or one is refused.
 * The kernel answers inside sendmsg(); the wait only guards against a kernel that does not.
 */
static int talk(int fd, const void *buf, size_t len, uint32_t n_acks, uint32_t seq0,
		struct nfqnft_error *err)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char rx[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	uint32_t acks = 0;
	int n;

	*err = (struct nfqnft_error){ 0 };
	if (sendto(fd, buf, len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return err->error = -errno;
	while (acks < n_acks) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		n = (int)recv(fd, rx, sizeof(rx), MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN) {
			if (poll(&p, 1, NFQNFT_ANSWER_WAIT_MS) == 1)
				continue;
			return err->error = -ETIMEDOUT;
		}
		if (n < 0)
			return err->error = -errno;
		for (struct nlmsghdr *h = (struct nlmsghdr *)rx; NLMSG_OK(h, n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type != NLMSG_ERROR)
				continue; /* an answer to a get: its ack follows */
			read_error(h, err, seq0);
			if (err->error)
				return err->error;
			acks++;
		}
	}
	return 0;
}

static int open_in(const char *netns, int *ret_fd)
{
	int old, fd, one = 1, r;

	r = fl_netns_enter(netns, &old);
	if (r < 0)
		return r;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	r = fd < 0 ? -errno : 0;
	fl_netns_leave(old);
	if (r < 0)
		return r;
	/* the kernel's own words on a refusal; acks without our request echoed back */
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	*ret_fd = fd;
	return 0;
}

static void *closer(void *arg)
{
	close((int)(intptr_t)arg);
	return NULL;
}

/*
 * Closing a NETLINK_NETFILTER socket after a batch that deleted something waits for nf_tables
 * to free it (nft_rcv_nl_event flushes the destroy work: an RCU grace period, 7-15 ms on our
 * VM, more than everything else). The rules are gone at commit already, so the socket is
 * closed off the caller's path, by a detached thread.
 */
static void close_later(int fd)
{
	pthread_attr_t a;
	pthread_t t;

	if (pthread_attr_init(&a) != 0) {
		close(fd);
		return;
	}
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &a, closer, (void *)(intptr_t)fd) != 0)
		close(fd);
	pthread_attr_destroy(&a);
}

int nfqnft_send(const char *netns, const struct nfqnft_batch *b, struct nfqnft_error *err)
{
	const struct nlmsghdr *first = (const struct nlmsghdr *)b->buf;
	int fd = -1, r;

	*err = (struct nfqnft_error){ 0 };
	if (b->n < 3)
		return err->error = -EINVAL;
	r = open_in(netns, &fd);
	if (r < 0)
		return err->error = r;
	/* every message but BEGIN and END asks for an ack */
	r = talk(fd, b->buf, b->len, b->n - 2, first->nlmsg_seq, err);
	close_later(fd);
	return r;
}

static int compat_get(struct nfqnft_batch *b, const char *name, uint32_t rev, bool target)
{
	struct mb m;
	int k = mb_start(&m, b, NFNL_SUBSYS_NFT_COMPAT << 8 | NFNL_MSG_COMPAT_GET, NLM_F_ACK,
			 NFPROTO_IPV4, 0);

	if (k < 0)
		return k;
	put_str(&m, NFTA_COMPAT_NAME, name);
	put_be32(&m, NFTA_COMPAT_REV, rev);
	put_be32(&m, NFTA_COMPAT_TYPE, target);
	return mb_finish(&m, b);
}

int nfqnft_probe(const char *netns, bool physdev, bool cgroup, const char **ret_reason)
{
	_cleanup_(nfqnft_batch_free) struct nfqnft_batch b = { .seq = 1 };
	_cleanup_close_ int fd = -1;
	struct nfqnft_error err = { 0 };
	struct mb m;
	int r;

	r = mb_start(&m, &b, nft_type(NFT_MSG_GETGEN), NLM_F_ACK, AF_UNSPEC, 0);
	if (r == 0)
		r = mb_finish(&m, &b);
	if (r == 0)
		r = compat_get(&b, "NFQUEUE", 3, true);
	if (r == 0 && physdev)
		r = compat_get(&b, "physdev", 0, false);
	if (r == 0 && cgroup)
		r = compat_get(&b, "cgroup", 2, false);
	if (r < 0)
		return r;
	r = open_in(netns, &fd);
	if (r == 0)
		r = talk(fd, b.buf, b.len, b.n, 1, &err);
	if (r == 0)
		return 0;
	switch (r == err.error ? err.index : 0) {
	case 0:
		*ret_reason = "nf_tables does not answer (no nf_tables in the kernel?)";
		break;
	case 1:
		*ret_reason = "nft_compat has no NFQUEUE target rev 3 (nft_compat, xt_NFQUEUE)";
		break;
	default:
		*ret_reason = "nft_compat lacks the physdev or the cgroup match";
	}
	return r;
}

int nfqnft_count_tables(const char *netns, const char *prefix)
{
	_cleanup_(nfqnft_batch_free) struct nfqnft_batch b = { .seq = 1 };
	_cleanup_close_ int fd = -1;
	char rx[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nfqnft_error err;
	struct mb m;
	int r, n, count = 0;

	r = mb_start(&m, &b, nft_type(NFT_MSG_GETTABLE), NLM_F_DUMP, NFPROTO_UNSPEC, 0);
	if (r == 0)
		r = mb_finish(&m, &b);
	if (r == 0)
		r = open_in(netns, &fd);
	if (r == 0 && send(fd, b.buf, b.len, 0) < 0)
		r = -errno;
	while (r == 0) {
		n = (int)recv(fd, rx, sizeof(rx), 0);
		if (n < 0)
			return -errno;
		for (struct nlmsghdr *h = (struct nlmsghdr *)rx; NLMSG_OK(h, n);
		     h = NLMSG_NEXT(h, n)) {
			struct nlattr *tb[NFTA_TABLE_MAX + 1];
			size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));
			if (h->nlmsg_type == NLMSG_DONE)
				return count;
			if (h->nlmsg_type == NLMSG_ERROR) {
				read_error(h, &err, 1);
				return err.error ?: count;
			}
			if (h->nlmsg_len > off &&
			    nla_parse(tb, NFTA_TABLE_MAX, (struct nlattr *)((char *)h + off),
				      (int)(h->nlmsg_len - off), NULL) == 0 &&
			    tb[NFTA_TABLE_NAME] &&
			    !strncmp(nla_get_string(tb[NFTA_TABLE_NAME]), prefix, strlen(prefix)))
				count++;
		}
	}
	return r;
}

/* --- decoding a batch back into text ------------------------------------------------------- */

struct text {
	char *s;
	size_t len, cap;
};

static void __attribute__((format(printf, 2, 3))) tprintf(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->cap == (size_t)-1)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			goto oom;
		if (t->s && t->len + (size_t)n < t->cap) {
			t->len += (size_t)n;
			return;
		}
		char *s = realloc(t->s, t->cap + (size_t)n + 1024);
		if (!s)
			goto oom;
		t->s = s;
		t->cap += (size_t)n + 1024;
	}
oom:
	free(t->s);
	*t = (struct text){ .cap = (size_t)-1 };
}

static uint32_t be32_of(struct nlattr *a)
{
	return a ? ntohl(nla_get_u32(a)) : 0;
}

static void hex(struct text *t, struct nlattr *data)
{
	struct nlattr *v = data ? nla_find(nla_data(data), nla_len(data), NFTA_DATA_VALUE) : NULL;
	const uint8_t *p = v ? nla_data(v) : NULL;

	tprintf(t, " ");
	for (int i = 0; p && i < nla_len(v); i++)
		tprintf(t, "%02x", p[i]);
}

static void dump_xt(struct text *t, struct nlattr *name, uint32_t rev, struct nlattr *info)
{
	const char *n = name ? nla_get_string(name) : "?";
	size_t len = info ? (size_t)nla_len(info) : 0;

	tprintf(t, "%s rev %u", n, rev);
	if (!strcmp(n, "NFQUEUE") && rev == 3 && len >= sizeof(struct xt_NFQ_info_v3)) {
		struct xt_NFQ_info_v3 q;
		memcpy(&q, nla_data(info), sizeof(q));
		tprintf(t, " num %u total %u flags %#x", q.queuenum, q.queues_total, q.flags);
	} else if (!strcmp(n, "physdev") && len >= sizeof(struct xt_physdev_info)) {
		struct xt_physdev_info pi;
		memcpy(&pi, nla_data(info), sizeof(pi));
		if (pi.bitmask & XT_PHYSDEV_OP_IN)
			tprintf(t, " in %.*s mask %zu", IFNAMSIZ, pi.physindev,
				strnlen(pi.in_mask, IFNAMSIZ));
		if (pi.bitmask & XT_PHYSDEV_OP_OUT)
			tprintf(t, " out %.*s mask %zu", IFNAMSIZ, pi.physoutdev,
				strnlen(pi.out_mask, IFNAMSIZ));
	} else if (!strcmp(n, "cgroup") && len >= sizeof(struct xt_cgroup_info_v2)) {
		const struct xt_cgroup_info_v2 *cg = nla_data(info);
		tprintf(t, " path %.*s", XT_CGROUP_PATH_MAX, cg->path);
	}
	tprintf(t, " (%zu bytes)", len);
}

static void dump_expr(struct text *t, struct nlattr *elem)
{
	struct nlattr *e[NFTA_EXPR_MAX + 1], *a[32] = { 0 };
	const char *name;
	static const char *const metas[] = { [NFT_META_IIFNAME] = "iifname",
					     [NFT_META_OIFNAME] = "oifname",
					     [NFT_META_L4PROTO] = "l4proto" };
	static const char *const bases[] = { "link", "network", "transport" };

	if (nla_parse_nested(e, NFTA_EXPR_MAX, elem, NULL) < 0 || !e[NFTA_EXPR_NAME]) {
		tprintf(t, "  [ ? ]\n");
		return;
	}
	name = nla_get_string(e[NFTA_EXPR_NAME]);
	if (e[NFTA_EXPR_DATA])
		nla_parse_nested(a, 31, e[NFTA_EXPR_DATA], NULL);
	tprintf(t, "  [ %s", name);
	if (!strcmp(name, "meta")) {
		uint32_t k = be32_of(a[NFTA_META_KEY]);
		tprintf(t, " load %s => reg %u", k < ARRAY_SIZE(metas) && metas[k] ? metas[k] : "?",
			be32_of(a[NFTA_META_DREG]));
	} else if (!strcmp(name, "cmp")) {
		tprintf(t, " %s reg %u", be32_of(a[NFTA_CMP_OP]) == NFT_CMP_EQ ? "eq" : "?",
			be32_of(a[NFTA_CMP_SREG]));
		hex(t, a[NFTA_CMP_DATA]);
	} else if (!strcmp(name, "payload")) {
		uint32_t base = be32_of(a[NFTA_PAYLOAD_BASE]);
		tprintf(t, " load %ub @ %s header + %u => reg %u", be32_of(a[NFTA_PAYLOAD_LEN]),
			base < ARRAY_SIZE(bases) ? bases[base] : "?",
			be32_of(a[NFTA_PAYLOAD_OFFSET]), be32_of(a[NFTA_PAYLOAD_DREG]));
	} else if (!strcmp(name, "bitwise")) {
		tprintf(t, " reg %u = (reg %u &", be32_of(a[NFTA_BITWISE_DREG]),
			be32_of(a[NFTA_BITWISE_SREG]));
		hex(t, a[NFTA_BITWISE_MASK]);
		tprintf(t, ") ^");
		hex(t, a[NFTA_BITWISE_XOR]);
	} else if (!strcmp(name, "range")) {
		tprintf(t, " %s reg %u", be32_of(a[NFTA_RANGE_OP]) == NFT_RANGE_EQ ? "eq" : "?",
			be32_of(a[NFTA_RANGE_SREG]));
		hex(t, a[NFTA_RANGE_FROM_DATA]);
		hex(t, a[NFTA_RANGE_TO_DATA]);
	} else if (!strcmp(name, "immediate") && a[NFTA_IMMEDIATE_DATA]) {
		struct nlattr *d[NFTA_DATA_MAX + 1], *v[NFTA_VERDICT_MAX + 1] = { 0 };
		int code = 0;
		if (nla_parse_nested(d, NFTA_DATA_MAX, a[NFTA_IMMEDIATE_DATA], NULL) == 0 &&
		    d[NFTA_DATA_VERDICT] &&
		    nla_parse_nested(v, NFTA_VERDICT_MAX, d[NFTA_DATA_VERDICT], NULL) == 0)
			code = (int)be32_of(v[NFTA_VERDICT_CODE]);
		tprintf(t, " reg %u %s", be32_of(a[NFTA_IMMEDIATE_DREG]),
			code == NFT_RETURN ? "return"
			: code == NFT_JUMP ? "jump ->"
					   : "?");
		if (v[NFTA_VERDICT_CHAIN])
			tprintf(t, " %s", nla_get_string(v[NFTA_VERDICT_CHAIN]));
	} else if (!strcmp(name, "target")) {
		tprintf(t, " name ");
		dump_xt(t, a[NFTA_TARGET_NAME], be32_of(a[NFTA_TARGET_REV]), a[NFTA_TARGET_INFO]);
	} else if (!strcmp(name, "match")) {
		tprintf(t, " name ");
		dump_xt(t, a[NFTA_MATCH_NAME], be32_of(a[NFTA_MATCH_REV]), a[NFTA_MATCH_INFO]);
	}
	tprintf(t, " ]\n");
}

static void dump_comment(struct text *t, struct nlattr *ud)
{
	const uint8_t *p = ud ? nla_data(ud) : NULL;

	if (p && nla_len(ud) >= 2 && p[0] == NFQNFT_UDATA_COMMENT && p[1] + 2 <= nla_len(ud))
		tprintf(t, " comment \"%.*s\"", (int)strnlen((const char *)p + 2, p[1]), p + 2);
}

static void dump_msg(struct text *t, const struct nlmsghdr *h)
{
	const struct nfgenmsg *g = NLMSG_DATA(h);
	struct nlattr *a[32] = { 0 }, *x;
	uint8_t type = (uint8_t)(h->nlmsg_type & 0xff);
	const char *fam = g->nfgen_family == NFPROTO_IPV4   ? "ip"
			  : g->nfgen_family == NFPROTO_IPV6 ? "ip6"
							    : "unspec";
	int rem;

	if (h->nlmsg_type == NFNL_MSG_BATCH_BEGIN || h->nlmsg_type == NFNL_MSG_BATCH_END) {
		tprintf(t, "batch %s subsys %u\n",
			h->nlmsg_type == NFNL_MSG_BATCH_BEGIN ? "begin" : "end", ntohs(g->res_id));
		return;
	}
	if (h->nlmsg_type >> 8 != NFNL_SUBSYS_NFTABLES) {
		tprintf(t, "subsys %u msg %u\n", h->nlmsg_type >> 8, type);
		return;
	}
	nla_parse(a, 31, (struct nlattr *)((char *)NLMSG_DATA(h) + NLMSG_ALIGN(sizeof(*g))),
		  (int)(h->nlmsg_len - NLMSG_HDRLEN - NLMSG_ALIGN(sizeof(*g))), NULL);
	switch (type) {
	case NFT_MSG_NEWTABLE:
	case NFT_MSG_DELTABLE:
	case NFT_MSG_DESTROYTABLE:
		tprintf(t, "%s %s %s%s",
			type == NFT_MSG_NEWTABLE   ? "newtable"
			: type == NFT_MSG_DELTABLE ? "deltable"
						   : "destroytable",
			fam, a[NFTA_TABLE_NAME] ? nla_get_string(a[NFTA_TABLE_NAME]) : "?",
			h->nlmsg_flags & NLM_F_EXCL ? " excl" : "");
		dump_comment(t, a[NFTA_TABLE_USERDATA]);
		break;
	case NFT_MSG_NEWCHAIN:
		tprintf(t, "newchain %s %s %s", fam,
			a[NFTA_CHAIN_TABLE] ? nla_get_string(a[NFTA_CHAIN_TABLE]) : "?",
			a[NFTA_CHAIN_NAME] ? nla_get_string(a[NFTA_CHAIN_NAME]) : "?");
		if (a[NFTA_CHAIN_HOOK]) {
			struct nlattr *k[NFTA_HOOK_MAX + 1];
			nla_parse_nested(k, NFTA_HOOK_MAX, a[NFTA_CHAIN_HOOK], NULL);
			tprintf(t, " hook %u prio %d policy %u type %s",
				be32_of(k[NFTA_HOOK_HOOKNUM]), (int)be32_of(k[NFTA_HOOK_PRIORITY]),
				be32_of(a[NFTA_CHAIN_POLICY]),
				a[NFTA_CHAIN_TYPE] ? nla_get_string(a[NFTA_CHAIN_TYPE]) : "?");
		}
		break;
	case NFT_MSG_NEWRULE:
		tprintf(t, "newrule %s %s %s%s", fam,
			a[NFTA_RULE_TABLE] ? nla_get_string(a[NFTA_RULE_TABLE]) : "?",
			a[NFTA_RULE_CHAIN] ? nla_get_string(a[NFTA_RULE_CHAIN]) : "?",
			h->nlmsg_flags & NLM_F_APPEND ? " append" : "");
		dump_comment(t, a[NFTA_RULE_USERDATA]);
		tprintf(t, "\n");
		if (a[NFTA_RULE_EXPRESSIONS])
			nla_for_each_nested(x, a[NFTA_RULE_EXPRESSIONS], rem) dump_expr(t, x);
		return;
	default:
		tprintf(t, "nftables msg %u", type);
	}
	tprintf(t, "\n");
}

char *nfqnft_dump(const void *buf, size_t len)
{
	struct text t = { 0 };
	int rem = (int)len;

	for (const struct nlmsghdr *h = buf; NLMSG_OK(h, rem); h = NLMSG_NEXT(h, rem))
		dump_msg(&t, h);
	if (t.cap == (size_t)-1)
		return NULL;
	return t.s ? t.s : strdup("");
}

char *nfqnft_describe(const struct nfqnft_batch *b, uint32_t index)
{
	const struct nlmsghdr *h = (const struct nlmsghdr *)b->buf;
	char *d;

	if (!index || index >= b->n)
		return NULL;
	for (uint32_t i = 0; i < index; i++)
		h = (const struct nlmsghdr *)((const char *)h + NLMSG_ALIGN(h->nlmsg_len));
	d = nfqnft_dump(h, h->nlmsg_len);
	if (d)
		d[strcspn(d, "\n")] = '\0';
	return d;
}
