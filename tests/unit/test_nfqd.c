// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests: faultline-nfqd's heap, delay sampler, histogram, queue config request, and the
 * iptables-restore lines of the nfqueue latency backend. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <cmocka.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "inject/injector.h"
#include "inject/net_netem.h"
#include "inject/nfqd.h"
#include "inject/util.h"

#define MS 1000000ULL

/* no libm in the unit tests' link: what they need of it */
static double dabs(double x)
{
	return x < 0 ? -x : x;
}
static double dmin(double a, double b)
{
	return a < b ? a : b;
}
static double dmax(double a, double b)
{
	return a > b ? a : b;
}
static double dsqrt(double x)
{
	double r = x > 1 ? x : 1;

	for (int i = 0; i < 100 && x > 0; i++)
		r = (r + x / r) / 2;
	return x > 0 ? r : 0;
}

static void heap_order(void **state)
{
	struct nfqd_heap h = { 0 };
	struct nfqd_item it, prev = { 0 };
	uint64_t rng = 7;
	size_t n = 0;

	assert_null(nfqd_heap_top(&h));
	for (uint32_t i = 0; i < 5000; i++) {
		it = (struct nfqd_item){ .due = fl_rand_next(&rng) % 100000, .id = i };
		assert_int_equal(nfqd_heap_push(&h, &it), 0);
	}
	/* pop some, push more, and everything still comes out in order */
	for (int i = 0; i < 1000; i++)
		assert_true(nfqd_heap_pop(&h, &it));
	for (uint32_t i = 0; i < 1000; i++) {
		struct nfqd_item x = { .due = 100000 + fl_rand_next(&rng) % 1000, .id = i };
		assert_int_equal(nfqd_heap_push(&h, &x), 0);
	}
	assert_int_equal(h.n, 5000);
	while (nfqd_heap_pop(&h, &it)) {
		if (n++)
			assert_true(prev.due <= it.due);
		prev = it;
	}
	assert_int_equal(n, 5000);
	assert_false(nfqd_heap_pop(&h, &it));
	nfqd_heap_free(&h);
}

struct moments {
	double mean, sd, min, max, median, lag1;
	size_t zeros;
};

static struct moments sample_n(struct nfqd_sampler *s, size_t n)
{
	double *v = calloc(n, sizeof(double)), sum = 0, sq = 0, cov = 0;
	struct moments m = { .min = 1e300 };

	assert_non_null(v);
	for (size_t i = 0; i < n; i++) {
		v[i] = (double)nfqd_sample(s) / 1e6; /* ms */
		sum += v[i];
		m.zeros += v[i] == 0;
		m.min = dmin(m.min, v[i]);
		m.max = dmax(m.max, v[i]);
	}
	m.mean = sum / (double)n;
	for (size_t i = 0; i < n; i++) {
		sq += (v[i] - m.mean) * (v[i] - m.mean);
		if (i)
			cov += (v[i] - m.mean) * (v[i - 1] - m.mean);
	}
	m.sd = dsqrt(sq / (double)n);
	m.lag1 = sq > 0 ? cov / sq : 0;
	/* a median without sorting all: count below the mean's neighbourhood */
	{
		size_t below = 0;
		double lo = m.min, hi = m.max;
		for (int it = 0; it < 60; it++) {
			double mid = (lo + hi) / 2;
			below = 0;
			for (size_t i = 0; i < n; i++)
				below += v[i] < mid;
			if (below < n / 2)
				lo = mid;
			else
				hi = mid;
		}
		m.median = (lo + hi) / 2;
	}
	free(v);
	return m;
}

static void sampler_fixed_and_uniform(void **state)
{
	struct nfqd_sampler s = { .delay_ns = 10 * MS, .rng = 1 };
	struct moments m;

	assert_int_equal(nfqd_sample(&s), 10 * MS);
	s.jitter_ns = 2 * MS;
	m = sample_n(&s, 200000);
	/* uniform on [8, 12): mean 10, sd 2/dsqrt(3) */
	assert_true(dabs(m.mean - 10.0) < 0.02);
	assert_true(dabs(m.sd - 2.0 / dsqrt(3.0)) < 0.02);
	assert_true(m.min >= 8.0 && m.max < 12.0);
	assert_true(m.min < 8.01 && m.max > 11.99);
	assert_true(dabs(m.lag1) < 0.01);
}

static void sampler_correlation(void **state)
{
	struct nfqd_sampler s = { .delay_ns = 10 * MS, .jitter_ns = 2 * MS, .rng = 3 };
	struct moments m;

	s.corr = (uint32_t)(0.75 * (double)UINT32_MAX);
	m = sample_n(&s, 200000);
	/* netem's mix keeps the mean, narrows the spread, and makes neighbours alike */
	assert_true(dabs(m.mean - 10.0) < 0.05);
	assert_true(m.lag1 > 0.6);
	assert_true(m.sd < 2.0 / dsqrt(3.0));
}

static void sampler_tables(void **state)
{
	int16_t *normal = NULL, *pareto = NULL;
	size_t nn = 0, np = 0;
	char *why = NULL;
	struct moments m;

	if (fl_nm_dist_load(FL_NM_DIST_NORMAL, &normal, &nn, &why) < 0 ||
	    fl_nm_dist_load(FL_NM_DIST_PARETO, &pareto, &np, &why) < 0) {
		free(why);
		skip();
	}
	{
		struct nfqd_sampler s = { .delay_ns = 50 * MS,
					  .jitter_ns = 5 * MS,
					  .rng = 5,
					  .table = normal,
					  .n_table = nn };
		m = sample_n(&s, 200000);
		/* normal(50, 5) ms */
		assert_true(dabs(m.mean - 50.0) < 0.05);
		assert_true(dabs(m.sd - 5.0) < 0.1);
		assert_true(dabs(m.median - 50.0) < 0.1);
		assert_true(m.min < 35.0 && m.max > 65.0);
	}
	{
		struct nfqd_sampler s = { .delay_ns = 50 * MS,
					  .jitter_ns = 5 * MS,
					  .rng = 6,
					  .table = pareto,
					  .n_table = np };
		m = sample_n(&s, 200000);
		/* iproute2's pareto table spans -0.667..+4 sigma, mean -0.033, median -0.32:
		 * skewed to the right */
		assert_true(m.mean > m.median + 1.0);
		assert_true(m.max > 50.0 + 3.5 * 5.0 && m.max <= 70.0);
		assert_true(m.min >= 46.6);
		assert_true(dabs(m.mean - (50.0 - 0.0335 * 5.0)) < 0.05);
		assert_true(dabs(m.sd - 0.82 * 5.0) < 0.1);
	}
	{
		/* never negative: 1 ms +- a 5 ms sigma clips at zero */
		struct nfqd_sampler s = { .delay_ns = 1 * MS,
					  .jitter_ns = 5 * MS,
					  .rng = 7,
					  .table = normal,
					  .n_table = nn };
		m = sample_n(&s, 100000);
		assert_true(m.min == 0.0);
		assert_true(m.zeros > 30000 && m.zeros < 50000);
	}
	free(normal);
	free(pareto);
}

static void histogram(void **state)
{
	static struct nfqd_hist h;
	json_t *j;

	memset(&h, 0, sizeof(h));
	assert_int_equal(nfqd_hist_quantile(&h, 0.5), 0);
	for (uint64_t us = 1; us <= 100000; us++)
		nfqd_hist_add(&h, us);
	assert_int_equal(h.count, 100000);
	/* exact below 1024 us, within 1/512 above */
	assert_int_equal(nfqd_hist_quantile(&h, 0.005), 500);
	assert_true(llabs((long long)nfqd_hist_quantile(&h, 0.5) - 50000) <= 50000 / 512 + 1);
	assert_true(llabs((long long)nfqd_hist_quantile(&h, 0.99) - 99000) <= 99000 / 512 + 1);
	assert_int_equal(nfqd_hist_quantile(&h, 1.0), 100000);
	j = nfqd_stats_json(&h, 3, 2, 0, 1, 4, 5);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "seq")), 3);
	assert_int_equal(json_integer_value(json_object_get(j, "packets")), 100000);
	assert_int_equal(json_integer_value(json_object_get(j, "max_us")), 100000);
	assert_true(dabs(json_real_value(json_object_get(j, "mean_us")) - 50000.5) < 0.01);
	assert_int_equal(json_integer_value(json_object_get(j, "user_dropped")), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "enobufs")), 4);
	json_decref(j);
}

static void config_request(void **state)
{
	struct nl_msg *m = NULL;
	struct nlmsghdr *h;
	struct nfgenmsg *g;
	struct nlattr *tb[NFQA_CFG_MAX + 1];
	struct nfqnl_msg_config_cmd *cmd;
	struct nfqnl_msg_config_params *par;

	assert_int_equal(nfqd_build_config(64123, 65536, &m), 0);
	h = nlmsg_hdr(m);
	assert_int_equal(h->nlmsg_type, (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_CONFIG);
	g = nlmsg_data(h);
	assert_int_equal(g->nfgen_family, AF_UNSPEC);
	assert_int_equal(g->version, NFNETLINK_V0);
	assert_int_equal(ntohs(g->res_id), 64123);
	assert_int_equal(nlmsg_parse(h, sizeof(*g), tb, NFQA_CFG_MAX, NULL), 0);
	assert_non_null(tb[NFQA_CFG_CMD]);
	cmd = nla_data(tb[NFQA_CFG_CMD]);
	assert_int_equal(cmd->command, NFQNL_CFG_CMD_BIND);
	assert_non_null(tb[NFQA_CFG_PARAMS]);
	par = nla_data(tb[NFQA_CFG_PARAMS]);
	assert_int_equal(par->copy_mode, NFQNL_COPY_META);
	assert_non_null(tb[NFQA_CFG_QUEUE_MAXLEN]);
	assert_int_equal(ntohl(nla_get_u32(tb[NFQA_CFG_QUEUE_MAXLEN])), 65536);
	/* the attribute libnl-nf has no setter for: fail-open (and GSO), big endian */
	assert_non_null(tb[NFQA_CFG_MASK]);
	assert_non_null(tb[NFQA_CFG_FLAGS]);
	assert_int_equal(nla_len(tb[NFQA_CFG_FLAGS]), 4);
	{
		const unsigned char *b = nla_data(tb[NFQA_CFG_FLAGS]);
		assert_int_equal(b[0], 0);
		assert_int_equal(b[1], 0);
		assert_int_equal(b[2], 0);
		assert_int_equal(b[3], NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO);
	}
	assert_int_equal(ntohl(nla_get_u32(tb[NFQA_CFG_MASK])),
			 NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO);
	nlmsg_free(m);
}

static void expect_lines(char **got, const char *const *want)
{
	size_t n = 0;

	for (; want[n]; n++) {
		assert_non_null(got[n]);
		assert_string_equal(got[n], want[n]);
	}
	assert_null(got[n]);
}

#define C "-m comment --comment faultline:r1:0000abcd"

static void rule_lines(void **state)
{
	uint16_t ex[] = { 22, 9001 };
	struct nfq_rule_spec s = {
		.chain = "FL-0000abcd",
		.parent = { "PREROUTING" },
		.iface_opt = { "-i" },
		.iface = "vb",
		.proto = IPPROTO_UDP,
		.dport_lo = 9000,
		.dport_hi = 9000,
		.exclude = ex,
		.n_exclude = 2,
		.queue = 64001,
		.comment = "faultline:r1:0000abcd",
	};
	char **v = NULL, **u = NULL;

	assert_int_equal(nfq_rule_lines(&s, &v), 0);
	expect_lines(v,
		     (const char *const[]){
			     ":FL-0000abcd - [0:0]",
			     "-A FL-0000abcd -p tcp -m multiport --ports 22,9001 " C " -j RETURN",
			     "-A FL-0000abcd -p udp -m multiport --ports 22,9001 " C " -j RETURN",
			     "-A FL-0000abcd -p udp --dport 9000 " C
			     " -j NFQUEUE --queue-num 64001 --queue-bypass",
			     "-I PREROUTING 1 -i vb " C " -j FL-0000abcd", NULL });
	assert_int_equal(nfq_rule_undo_lines(v, &u), 0);
	expect_lines(u,
		     (const char *const[]){
			     "-D PREROUTING -i vb " C " -j FL-0000abcd",
			     "-D FL-0000abcd -p tcp -m multiport --ports 22,9001 " C " -j RETURN",
			     "-D FL-0000abcd -p udp -m multiport --ports 22,9001 " C " -j RETURN",
			     "-D FL-0000abcd -p udp --dport 9000 " C
			     " -j NFQUEUE --queue-num 64001 --queue-bypass",
			     "-X FL-0000abcd", NULL });
	fl_strv_free(v);
	fl_strv_free(u);

	/* a peer at a switch port, both directions, ports without a protocol: tcp and udp */
	s = (struct nfq_rule_spec){
		.chain = "FL-0000abcd",
		.parent = { "FORWARD", "FORWARD" },
		.iface_opt = { "--physdev-in", "--physdev-out" },
		.iface = "h-rx",
		.dst = "10.0.0.2/32",
		.symmetric = true,
		.sport_lo = 1000,
		.sport_hi = 2000,
		.queue = 7,
		.comment = "faultline:r1:0000abcd",
	};
	assert_int_equal(nfq_rule_lines(&s, &v), 0);
	expect_lines(v, (const char *const[]){
				":FL-0000abcd - [0:0]",
				"-A FL-0000abcd -d 10.0.0.2/32 -p tcp --sport 1000:2000 " C
				" -j NFQUEUE --queue-num 7 --queue-bypass",
				"-A FL-0000abcd -s 10.0.0.2/32 -p tcp --dport 1000:2000 " C
				" -j NFQUEUE --queue-num 7 --queue-bypass",
				"-A FL-0000abcd -d 10.0.0.2/32 -p udp --sport 1000:2000 " C
				" -j NFQUEUE --queue-num 7 --queue-bypass",
				"-A FL-0000abcd -s 10.0.0.2/32 -p udp --dport 1000:2000 " C
				" -j NFQUEUE --queue-num 7 --queue-bypass",
				"-I FORWARD 1 -m physdev --physdev-in h-rx " C " -j FL-0000abcd",
				"-I FORWARD 1 -m physdev --physdev-out h-rx " C " -j FL-0000abcd",
				NULL });
	fl_strv_free(v);

	/* egress of one cgroup's traffic, IPv6 ICMP */
	s = (struct nfq_rule_spec){
		.ipv6 = true,
		.chain = "FL-1",
		.parent = { "POSTROUTING" },
		.iface_opt = { "-o" },
		.iface = "eth0",
		.proto = IPPROTO_ICMPV6,
		.cgroup = "/svc",
		.queue = 1,
		.comment = "faultline:r:1",
	};
	assert_int_equal(nfq_rule_lines(&s, &v), 0);
	expect_lines(v,
		     (const char *const[]){
			     ":FL-1 - [0:0]",
			     "-A FL-1 -p ipv6-icmp -m cgroup --path /svc -m comment --comment "
			     "faultline:r:1 -j "
			     "NFQUEUE --queue-num 1 --queue-bypass",
			     "-I POSTROUTING 1 -o eth0 -m comment --comment faultline:r:1 -j FL-1",
			     NULL });
	fl_strv_free(v);
	s.proto = 132; /* sctp: not offered */
	assert_int_equal(nfq_rule_lines(&s, &v), -EPROTONOSUPPORT);
}

static void registered(void **state)
{
	const struct fl_backend *const *all = fl_backends_of("latency");

	assert_non_null(all);
	assert_string_equal(all[0]->name, "netem");
	assert_ptr_equal(all[1], &fl_backend_latency_nfq);
	assert_ptr_equal(fl_backend_find_named("latency", "nfqueue"), &fl_backend_latency_nfq);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(heap_order),	       cmocka_unit_test(sampler_fixed_and_uniform),
		cmocka_unit_test(sampler_correlation), cmocka_unit_test(sampler_tables),
		cmocka_unit_test(histogram),	       cmocka_unit_test(config_request),
		cmocka_unit_test(rule_lines),	       cmocka_unit_test(registered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
