// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests: the netem/tbf backends: validation, the requests built, snapshot JSON, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/qdisc/tbf.h>

#include "inject/injector.h"
#include "inject/net_netem.h"
#include "scenarios/scenario.h"

#define MS 1000000ULL

/* Validate "key=value" pairs as `faultline inject` would; returns the validator's result. */
static int validate(struct fl_fault *f, struct fl_errors *e, const char *const *kv)
{
	struct fl_params p = { .where = { .flag = "inject" } };
	static struct fl_where w[32];
	static char flags[32][40];
	int r;

	for (size_t i = 0; kv[i]; i += 2) {
		snprintf(flags[i / 2], sizeof(flags[0]), "--%s", kv[i]);
		w[i / 2] = (struct fl_where){ .flag = flags[i / 2] };
		assert_int_equal(fl_params_add(&p, kv[i], kv[i + 1], &w[i / 2]), 0);
	}
	r = fl_fault_from_params(&p, NULL, f, e);
	fl_params_clear(&p);
	return r;
}

#define KV(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void expect_errors(const char *const *kv, const char *const *msgs)
{
	struct fl_errors e = { 0 };
	struct fl_fault f = { 0 };
	size_t n = 0;

	assert_int_equal(validate(&f, &e, kv), -EINVAL);
	while (msgs[n])
		n++;
	for (size_t i = 0; e.n != n && i < e.n; i++)
		print_message("  got: %s\n", e.v[i].text);
	assert_int_equal(e.n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(e.v[i].text, msgs[i]);
	fl_errors_clear(&e);
	fl_fault_clear(&f);
}

static void registry_has_netem(void **state)
{
	const struct fl_backend *b = fl_backend_find("latency");

	assert_non_null(b);
	assert_string_equal(b->name, "netem");
	assert_true(b->reversible);
	assert_false(b->needs_target);
	assert_non_null(fl_backend_find_named("loss", "netem"));
	assert_non_null(fl_backend_find_named("corrupt", "netem"));
	assert_non_null(fl_backend_find_named("duplicate", "netem"));
	assert_non_null(fl_backend_find_named("reorder", "netem"));
	assert_non_null(fl_backend_find_named("bandwidth", "tbf"));
}

static void validation_messages(void **state)
{
	expect_errors(KV("kind", "latency", "for", "1s", "dev", "veth0"),
		      KV("inject: a latency fault needs 'delay', such as '50ms'"));
	expect_errors(KV("kind", "latency", "for", "1s", "delay", "50"),
		      KV("inject: a latency fault needs 'dev' (the network interface, such as "
			 "'eth0')",
			 "--delay: 'delay' must be a duration such as '50ms', got '50'"));
	expect_errors(KV("kind", "latency", "for", "1s", "dev", "veth0", "delay", "2m"),
		      KV("--delay: 'delay' must be from 0 to 60s, got '2m'"));
	expect_errors(KV("kind", "latency", "for", "1s", "dev", "veth0", "delay", "10ms",
			 "distribution", "normal"),
		      KV("--distribution: 'distribution' shapes the jitter: it needs 'jitter', "
			 "such as '5ms'"));
	expect_errors(KV("kind", "latency", "for", "1s", "dev", "veth0", "delay", "10ms",
			 "jitter", "1ms", "distribution", "gauss", "correlation", "120%"),
		      KV("--correlation: 'correlation' must be a percentage from 0 to 100 such "
			 "as '20%', got '120%'",
			 "--distribution: 'distribution' must be uniform, normal or pareto, got "
			 "'gauss'"));
	expect_errors(KV("kind", "latency", "backend", "netem", "for", "1s", "dev", "veth0",
			 "delay", "10ms", "direction", "ingress", "dport", "80"),
		      KV("--direction: 'direction' 'ingress': netem shapes a device's egress only "
			 "(ingress needs an ifb device): put the fault on the peer's device, or "
			 "use the nfqueue backend"));
	/* the filter keys are the shared ones (inject/netspec.c), with their messages */
	expect_errors(KV("kind", "latency", "for", "1s", "dev", "veth0", "delay", "10ms", "dport",
			 "0", "exclude", "22,x", "direction", "sideways"),
		      KV("--direction: 'direction' must be 'ingress', 'egress' or 'both', got "
			 "'sideways'",
			 "--dport: 'dport' must be a port or range such as '9000' or '9000-9010' "
			 "(1-65535), got '0'",
			 "--exclude: 'exclude' must be a comma-separated list of ports, got 'x'"));
	expect_errors(KV("kind", "reorder", "for", "1s", "dev", "veth0", "percent", "25",
			 "gap", "0"),
		      KV("--gap: 'gap' must be a whole number of packets from 1, got '0'",
			 "inject: reordering needs a delay: add 'delay', such as '10ms' (packets "
			 "not reordered wait that long)"));
	expect_errors(KV("kind", "corrupt", "for", "1s", "dev", "veth0"),
		      KV("inject: a corrupt fault needs 'percent', such as '20%'"));
	expect_errors(KV("kind", "duplicate", "for", "1s", "dev", "veth0", "percent", "-1"),
		      KV("--percent: 'percent' must be a percentage from 0 to 100 such as '20%', "
			 "got '-1'"));
	expect_errors(KV("kind", "loss", "backend", "netem", "for", "1s", "dev", "veth0",
			 "percent", "lots"),
		      KV("--percent: 'percent' must be a percentage from 0 to 100 such as '20%', "
			 "got 'lots'"));
	expect_errors(KV("kind", "bandwidth", "for", "1s", "dev", "veth0", "rate", "10mbits",
			 "burst", "100"),
		      KV("--rate: 'rate' must be a rate such as '10mbit', '500kbit' or a number "
			 "of bytes per second, got '10mbits'",
			 "--burst: 'burst' must hold a full-size packet: at least 1514 bytes, got "
			 "'100'"));
	expect_errors(KV("kind", "bandwidth", "for", "1s", "dev", "veth0", "rate", "1mbit",
			 "burst", "32kb", "limit", "1kb"),
		      KV("--limit: 'limit' must be at least 'burst' (32768 bytes), got '1kb'"));
	expect_errors(KV("kind", "bandwidth", "for", "1s", "dev", "veth0"),
		      KV("inject: a bandwidth fault needs 'rate', such as '10mbit'"));
}

static void units(void **state)
{
	uint64_t r;
	uint32_t s;
	double p;

	assert_int_equal(fl_nm_parse_rate("10mbit", &r), 0);
	assert_int_equal(r, 1250000);
	assert_int_equal(fl_nm_parse_rate("500kbit", &r), 0);
	assert_int_equal(r, 62500);
	assert_int_equal(fl_nm_parse_rate("1000", &r), 0);
	assert_int_equal(r, 1000);
	assert_int_equal(fl_nm_parse_rate("2kbps", &r), 0);
	assert_int_equal(r, 2000);
	assert_int_equal(fl_nm_parse_rate("1Gbit", &r), 0);
	assert_int_equal(r, 125000000);
	assert_int_equal(fl_nm_parse_rate("100gbit", &r), -ERANGE);
	assert_int_equal(fl_nm_parse_rate("-1mbit", &r), -EINVAL);
	assert_int_equal(fl_nm_parse_rate("fast", &r), -EINVAL);
	assert_int_equal(fl_nm_parse_size("32kb", &s), 0);
	assert_int_equal(s, 32768);
	assert_int_equal(fl_nm_parse_size("1514", &s), 0);
	assert_int_equal(s, 1514);
	assert_int_equal(fl_nm_parse_size("1x", &s), -EINVAL);
	assert_int_equal(fl_nm_parse_percent("20", &p), 0);
	assert_true(p == 20);
	assert_int_equal(fl_nm_parse_percent("0.5%", &p), 0);
	assert_true(p == 0.5);
	assert_int_equal(fl_nm_parse_percent("101", &p), -ERANGE);
	assert_int_equal(fl_nm_parse_percent("20 %", &p), -EINVAL);
	assert_int_equal(fl_nm_percent_to_u32(100), UINT32_MAX);
	assert_int_equal(fl_nm_percent_to_u32(0), 0);
	assert_int_equal(fl_nm_percent_to_u32(50), 2147483648u);
}

static struct fl_fault parse_ok(const char *const *kv)
{
	struct fl_errors e = { 0 };
	struct fl_fault f = { 0 };

	assert_int_equal(validate(&f, &e, kv), 0);
	assert_int_equal(e.n, 0);
	assert_non_null(f.priv);
	return f;
}

/* The TCA_OPTIONS of the RTM_NEWQDISC request libnl builds from our object. */
static struct tc_netem_qopt request_qopt(struct rtnl_qdisc *q, char *kind, size_t kind_len)
{
	struct nl_msg *msg = NULL;
	struct nlattr *tb[TCA_MAX + 1];
	struct tc_netem_qopt qopt;
	struct tcmsg *tcm;

	assert_int_equal(rtnl_qdisc_build_add_request(q, NLM_F_CREATE | NLM_F_REPLACE, &msg), 0);
	assert_int_equal(nlmsg_hdr(msg)->nlmsg_type, RTM_NEWQDISC);
	tcm = nlmsg_data(nlmsg_hdr(msg));
	assert_int_equal(tcm->tcm_ifindex, 7);
	assert_int_equal(tcm->tcm_parent, TC_H_ROOT);
	assert_int_equal(tcm->tcm_handle, FL_QDISC_HANDLE);
	assert_int_equal(nlmsg_parse(nlmsg_hdr(msg), sizeof(*tcm), tb, TCA_MAX, NULL), 0);
	assert_non_null(tb[TCA_KIND]);
	nla_strlcpy(kind, tb[TCA_KIND], kind_len);
	assert_non_null(tb[TCA_OPTIONS]);
	memset(&qopt, 0, sizeof(qopt));
	if (!strcmp(kind, "netem")) {
		assert_true(nla_len(tb[TCA_OPTIONS]) >= (int)sizeof(qopt));
		memcpy(&qopt, nla_data(tb[TCA_OPTIONS]), sizeof(qopt));
	}
	nlmsg_free(msg);
	return qopt;
}

static void request_latency(void **state)
{
	struct fl_fault f = parse_ok(KV("kind", "latency", "for", "1s", "dev", "veth0", "delay",
					"50ms", "jitter", "5ms", "correlation", "25%"));
	struct fl_netem_params *np = f.priv;
	struct rtnl_qdisc *q = NULL;
	struct tc_netem_qopt o;
	char kind[16], d[200];

	assert_int_equal(np->delay_ns, 50 * MS);
	assert_int_equal(np->jitter_ns, 5 * MS);
	assert_string_equal(np->dev, "veth0");
	assert_int_equal(fl_netem_build_qdisc(np, 7, TC_H_ROOT, FL_QDISC_HANDLE, &q, NULL), 0);
	assert_string_equal(rtnl_tc_get_kind(TC_CAST(q)), "netem");
	assert_int_equal(rtnl_netem_get_delay(q), 50000);
	assert_int_equal(rtnl_netem_get_jitter(q), 5000);
	assert_int_equal((uint32_t)rtnl_netem_get_delay_correlation(q), fl_nm_percent_to_u32(25));
	assert_int_equal(rtnl_netem_get_limit(q), 1000);
	o = request_qopt(q, kind, sizeof(kind));
	assert_string_equal(kind, "netem");
	/* psched ticks of 64 ns, what the kernel turns back into 50 ms */
	assert_int_equal((uint64_t)o.latency * 64, 50 * MS);
	assert_int_equal((uint64_t)o.jitter * 64, 5 * MS);
	assert_int_equal(o.limit, 1000);
	assert_int_equal(o.loss, 0);
	rtnl_qdisc_put(q);
	assert_int_equal(f.backend->describe(&f, d, sizeof(d)), 0);
	assert_string_equal(d, "netem delay 50ms jitter 5ms correlation 25% on veth0 egress");
	fl_fault_clear(&f);
}

static void request_loss_reorder_tbf(void **state)
{
	struct fl_fault f = parse_ok(KV("kind", "loss", "backend", "netem", "for", "1s", "dev",
					"eth1", "percent", "20%", "correlation", "10"));
	struct fl_netem_params *np = f.priv;
	struct rtnl_qdisc *q = NULL;
	struct tc_netem_qopt o;
	char kind[16], d[200];

	assert_int_equal(fl_netem_build_qdisc(np, 7, TC_H_ROOT, FL_QDISC_HANDLE, &q, NULL), 0);
	o = request_qopt(q, kind, sizeof(kind));
	assert_int_equal(o.loss, fl_nm_percent_to_u32(20));
	assert_int_equal((uint32_t)rtnl_netem_get_loss_correlation(q), fl_nm_percent_to_u32(10));
	rtnl_qdisc_put(q);
	fl_fault_clear(&f);

	f = parse_ok(KV("kind", "reorder", "for", "1s", "dev", "eth1", "percent", "25", "gap", "5",
			"delay", "10ms"));
	assert_int_equal(fl_netem_build_qdisc(f.priv, 7, TC_H_ROOT, FL_QDISC_HANDLE, &q, NULL), 0);
	o = request_qopt(q, kind, sizeof(kind));
	assert_int_equal(o.gap, 5);
	assert_int_equal((uint64_t)o.latency * 64, 10 * MS);
	assert_int_equal((uint32_t)rtnl_netem_get_reorder_probability(q), fl_nm_percent_to_u32(25));
	rtnl_qdisc_put(q);
	assert_int_equal(f.backend->describe(&f, d, sizeof(d)), 0);
	assert_string_equal(d, "netem reorder 25% gap 5 delay 10ms on eth1 egress");
	fl_fault_clear(&f);

	f = parse_ok(KV("kind", "corrupt", "for", "1s", "dev", "eth1", "percent", "5"));
	assert_int_equal(fl_netem_build_qdisc(f.priv, 7, TC_H_ROOT, FL_QDISC_HANDLE, &q, NULL), 0);
	{
		/* the message ends with its last attribute (libnl 3.7 leaves 12 stray bytes) */
		struct nl_msg *m = NULL;
		struct nlattr *a;
		int rem = -1, n = 0;
		assert_int_equal(fl_netem_request(q, NLM_F_CREATE, &m), 0);
		nlmsg_for_each_attr(a, nlmsg_hdr(m), sizeof(struct tcmsg), rem)
			n++;
		assert_int_equal(rem, 0);
		assert_int_equal(n, 2); /* TCA_KIND, TCA_OPTIONS */
		nlmsg_free(m);
	}
	assert_int_equal((uint32_t)rtnl_netem_get_corruption_probability(q),
			 fl_nm_percent_to_u32(5));
	rtnl_qdisc_put(q);
	fl_fault_clear(&f);

	f = parse_ok(KV("kind", "duplicate", "for", "1s", "dev", "eth1", "percent", "7.5"));
	assert_int_equal(fl_netem_build_qdisc(f.priv, 7, TC_H_ROOT, FL_QDISC_HANDLE, &q, NULL), 0);
	assert_int_equal((uint32_t)rtnl_netem_get_duplicate(q), fl_nm_percent_to_u32(7.5));
	rtnl_qdisc_put(q);
	fl_fault_clear(&f);

	f = parse_ok(KV("kind", "bandwidth", "for", "1s", "dev", "eth1", "rate", "10mbit"));
	np = f.priv;
	assert_int_equal(np->rate, 1250000);
	assert_int_equal(np->burst, 12500);		 /* 10 ms worth */
	assert_int_equal(np->limit, 1250000 / 20 + 12500); /* 50 ms of queue + burst */
	assert_int_equal(fl_netem_build_qdisc(np, 7, TC_H_ROOT, FL_QDISC_HANDLE, &q, NULL), 0);
	(void)request_qopt(q, kind, sizeof(kind));
	assert_string_equal(kind, "tbf");
	assert_int_equal(rtnl_qdisc_tbf_get_rate(q), 1250000);
	assert_int_equal(rtnl_qdisc_tbf_get_rate_bucket(q), 12500);
	assert_int_equal(rtnl_qdisc_tbf_get_limit(q), 75000);
	rtnl_qdisc_put(q);
	assert_int_equal(f.backend->describe(&f, d, sizeof(d)), 0);
	assert_string_equal(d, "tbf rate 10mbit burst 12500 limit 75000 on eth1 egress");
	fl_fault_clear(&f);

	/* small rates still get a burst that holds full-size packets */
	f = parse_ok(KV("kind", "bandwidth", "for", "1s", "dev", "eth1", "rate", "64kbit"));
	np = f.priv;
	assert_int_equal(np->burst, 3028);
	fl_fault_clear(&f);
}

static void filters_parsed(void **state)
{
	struct fl_fault f = parse_ok(KV("kind", "latency", "for", "1s", "dev", "veth0", "delay",
					"20ms", "proto", "udp", "dport", "9000-9010", "dst",
					"fd00::/64", "exclude", "22,2222", "direction", "egress"));
	struct fl_netem_params *np = f.priv;
	char d[200];

	assert_true(np->filtered);
	assert_int_equal(np->spec.direction, FL_DIR_EGRESS);
	assert_int_equal(np->spec.proto, 17);
	assert_int_equal(np->spec.dport.lo, 9000);
	assert_int_equal(np->spec.dport.hi, 9010);
	assert_int_equal(np->spec.dst.prefix, 64);
	assert_int_equal(np->spec.n_exclude, 2);
	assert_int_equal(np->spec.exclude[1], 2222);
	assert_int_equal(f.backend->describe(&f, d, sizeof(d)), 0);
	assert_string_equal(d, "netem delay 20ms on veth0 egress, only udp to fd00::/64 dport "
			       "9000-9010 (never ports 22,2222)");
	fl_fault_clear(&f);

	/* exclude alone is not a filter (the fault still shapes everything else) */
	f = parse_ok(KV("kind", "bandwidth", "for", "1s", "dev", "veth0", "rate", "1mbit",
			"exclude", "22"));
	np = f.priv;
	assert_false(np->filtered);
	assert_int_equal(np->spec.n_exclude, 1);
	assert_int_equal(np->spec.direction, FL_DIR_EGRESS);
	assert_int_equal(f.backend->describe(&f, d, sizeof(d)), 0);
	assert_string_equal(d, "tbf rate 1mbit burst 3028 limit 9278 on veth0 egress (never ports "
			       "22)");
	fl_fault_clear(&f);
}

/* Parse a request's tcmsg and attributes (TCA_MAX); the message is freed. */
static struct tcmsg parse_request(struct nl_msg *m, int type, struct nlattr **tb, char *kind,
				  size_t kind_len, void *opts, size_t opts_len)
{
	struct tcmsg tcm;

	assert_int_equal(nlmsg_hdr(m)->nlmsg_type, type);
	memcpy(&tcm, nlmsg_data(nlmsg_hdr(m)), sizeof(tcm));
	assert_int_equal(nlmsg_parse(nlmsg_hdr(m), sizeof(tcm), tb, TCA_MAX, NULL), 0);
	assert_non_null(tb[TCA_KIND]);
	nla_strlcpy(kind, tb[TCA_KIND], kind_len);
	assert_non_null(tb[TCA_OPTIONS]);
	if (opts) {
		assert_true(nla_len(tb[TCA_OPTIONS]) >= (int)opts_len);
		memcpy(opts, nla_data(tb[TCA_OPTIONS]), opts_len);
	}
	return tcm;
}

static void request_classful_tree(void **state)
{
	struct fl_fault f = parse_ok(KV("kind", "latency", "for", "1s", "dev", "veth0", "delay",
					"50ms", "dport", "9000"));
	struct nlattr *tb[TCA_MAX + 1], *bpf[TCA_BPF_MAX + 1];
	struct tc_prio_qopt prio;
	struct tc_fifo_qopt fifo;
	struct tc_netem_qopt netem;
	struct rtnl_qdisc *q = NULL;
	struct nl_msg *m = NULL;
	struct tcmsg tcm;
	char kind[16];

	/* the root: prio fa17:, 2 bands, every priority to the pass-through band fa17:1 */
	assert_int_equal(fl_netem_build_prio(7, &q), 0);
	assert_int_equal(fl_netem_request(q, NLM_F_CREATE | NLM_F_REPLACE, &m), 0);
	assert_true(nlmsg_hdr(m)->nlmsg_flags & NLM_F_REPLACE);
	tcm = parse_request(m, RTM_NEWQDISC, tb, kind, sizeof(kind), &prio, sizeof(prio));
	assert_string_equal(kind, "prio");
	assert_int_equal(tcm.tcm_ifindex, 7);
	assert_int_equal(tcm.tcm_parent, TC_H_ROOT);
	assert_int_equal(tcm.tcm_handle, 0xfa170000);
	assert_int_equal(prio.bands, 2);
	for (int i = 0; i <= TC_PRIO_MAX; i++)
		assert_int_equal(prio.priomap[i], 0);
	nlmsg_free(m);
	rtnl_qdisc_put(q);

	/* the pass-through band's own queue: pfifo fa18: under fa17:1 */
	assert_int_equal(fl_netem_build_pass(7, &q), 0);
	assert_int_equal(fl_netem_request(q, NLM_F_CREATE | NLM_F_EXCL, &m), 0);
	tcm = parse_request(m, RTM_NEWQDISC, tb, kind, sizeof(kind), &fifo, sizeof(fifo));
	assert_string_equal(kind, "pfifo");
	assert_int_equal(tcm.tcm_parent, 0xfa170001);
	assert_int_equal(tcm.tcm_handle, 0xfa180000);
	assert_int_equal(fifo.limit, 1000);
	nlmsg_free(m);
	rtnl_qdisc_put(q);

	/* the fault: netem fa19: under the fault band fa17:2 */
	assert_int_equal(
		fl_netem_build_qdisc(f.priv, 7, FL_NM_FAULT_CLASS, FL_NM_FAULT_HANDLE, &q, NULL),
		0);
	assert_int_equal(fl_netem_request(q, NLM_F_CREATE | NLM_F_EXCL, &m), 0);
	tcm = parse_request(m, RTM_NEWQDISC, tb, kind, sizeof(kind), &netem, sizeof(netem));
	assert_string_equal(kind, "netem");
	assert_int_equal(tcm.tcm_parent, 0xfa170002);
	assert_int_equal(tcm.tcm_handle, 0xfa190000);
	assert_int_equal((uint64_t)netem.latency * 64, 50 * MS);
	nlmsg_free(m);
	rtnl_qdisc_put(q);
	fl_fault_clear(&f);

	/* the classifier: cls_bpf on fa17:, all protocols, direct action, our program's fd */
	assert_int_equal(fl_netclass_filter_request(7, 42, NLM_F_CREATE | NLM_F_EXCL, &m), 0);
	assert_true(nlmsg_hdr(m)->nlmsg_flags & NLM_F_ACK);
	assert_true(nlmsg_hdr(m)->nlmsg_flags & NLM_F_EXCL);
	tcm = parse_request(m, RTM_NEWTFILTER, tb, kind, sizeof(kind), NULL, 0);
	assert_string_equal(kind, "bpf");
	assert_int_equal(tcm.tcm_ifindex, 7);
	assert_int_equal(tcm.tcm_parent, 0xfa170000);
	assert_int_equal(tcm.tcm_handle, 1);
	assert_int_equal(TC_H_MAJ(tcm.tcm_info) >> 16, 0xfa17); /* preference */
	assert_int_equal(TC_H_MIN(tcm.tcm_info), htons(ETH_P_ALL));
	assert_int_equal(nla_parse_nested(bpf, TCA_BPF_MAX, tb[TCA_OPTIONS], NULL), 0);
	assert_non_null(bpf[TCA_BPF_FD]);
	assert_int_equal(nla_get_u32(bpf[TCA_BPF_FD]), 42);
	assert_non_null(bpf[TCA_BPF_FLAGS]);
	assert_int_equal(nla_get_u32(bpf[TCA_BPF_FLAGS]), TCA_BPF_FLAG_ACT_DIRECT);
	assert_non_null(bpf[TCA_BPF_NAME]);
	assert_string_equal(nla_get_string(bpf[TCA_BPF_NAME]), "netclass");
	assert_null(bpf[TCA_BPF_CLASSID]); /* the program picks the band */
	nlmsg_free(m);
}

static void snapshot_json_round_trip(void **state)
{
	unsigned char opts[] = { 0x24, 0x00, 0x01, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x00, 0xff };
	struct fl_qdisc_snap s = { .kind = "tbf", .handle = 0x10000, .parent = TC_H_ROOT,
				   .opts = opts, .opts_len = sizeof(opts) };
	struct fl_qdisc_snap back = { 0 };
	json_t *j = fl_qdisc_snap_to_json(&s), *k;
	char *text;

	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "options")),
			    "24000100deadbeef00ff");
	assert_string_equal(json_string_value(json_object_get(j, "handle_str")), "1:");
	/* through the journal's text form */
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	k = json_loads(text, 0, NULL);
	free(text);
	assert_int_equal(fl_qdisc_snap_from_json(k, &back), 0);
	json_decref(k);
	assert_string_equal(back.kind, "tbf");
	assert_int_equal(back.handle, 0x10000);
	assert_int_equal(back.parent, TC_H_ROOT);
	assert_false(back.is_default);
	assert_int_equal(back.opts_len, sizeof(opts));
	assert_memory_equal(back.opts, opts, sizeof(opts));
	fl_qdisc_snap_clear(&back);

	/* the kernel's default: no options, comes back by deleting ours */
	s = (struct fl_qdisc_snap){ .kind = "noqueue", .is_default = true, .parent = TC_H_ROOT };
	j = fl_qdisc_snap_to_json(&s);
	assert_null(json_object_get(j, "options"));
	assert_int_equal(fl_qdisc_snap_from_json(j, &back), 0);
	assert_true(back.is_default);
	assert_null(back.opts);
	json_decref(j);

	/* malformed records are refused, not half-restored */
	j = json_pack("{s:s, s:i, s:b, s:s}", "kind", "tbf", "handle", 65536, "default", 0,
		      "options", "abc");
	assert_int_equal(fl_qdisc_snap_from_json(j, &back), -EINVAL);
	json_decref(j);
	j = json_pack("{s:s, s:i, s:b, s:s}", "kind", "tbf", "handle", 65536, "default", 0,
		      "options", "zz");
	assert_int_equal(fl_qdisc_snap_from_json(j, &back), -EINVAL);
	json_decref(j);
	j = json_pack("{s:s, s:b}", "kind", "tbf", "default", 0);
	assert_int_equal(fl_qdisc_snap_from_json(j, &back), -EINVAL);
	json_decref(j);
}

static void error_translation(void **state)
{
	char buf[300];

	fl_netem_explain("netem", -ENOENT, "Specified qdisc kind is unknown", buf, sizeof(buf));
	assert_string_equal(buf, "the kernel has no sch_netem (module not available): use a kernel "
				 "with netem, or the tc-bpf/nfqueue backends");
	/* kernels without extended ack say only ENOENT */
	fl_netem_explain("netem", -ENOENT, "", buf, sizeof(buf));
	assert_string_equal(buf, "the kernel has no sch_netem (module not available): use a kernel "
				 "with netem, or the tc-bpf/nfqueue backends");
	fl_netem_explain("tbf", -ENOENT, "Specified qdisc kind is unknown", buf, sizeof(buf));
	assert_string_equal(buf, "the kernel has no sch_tbf (module not available): use a kernel "
				 "with tbf");
	fl_netem_explain("netem", -EPERM, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "changing qdiscs needs CAP_NET_ADMIN (run as root)");
	fl_netem_explain("tbf", -EINVAL, "Invalid rate", buf, sizeof(buf));
	assert_string_equal(buf, "tbf qdisc refused by the kernel: \"Invalid rate\" (Invalid "
				 "argument)");
	fl_netem_explain("netem", -EINVAL, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "netem qdisc refused by the kernel: Invalid argument");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(registry_has_netem),
		cmocka_unit_test(validation_messages),
		cmocka_unit_test(units),
		cmocka_unit_test(request_latency),
		cmocka_unit_test(request_loss_reorder_tbf),
		cmocka_unit_test(filters_parsed),
		cmocka_unit_test(request_classful_tree),
		cmocka_unit_test(snapshot_json_round_trip),
		cmocka_unit_test(error_translation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
