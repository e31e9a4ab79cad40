// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests: the tc-bpf loss backend's burst model (parsing, expected loss, plan) and cgroup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include "inject/hostscan.h"
#include "inject/injector.h"

/* A fault from key=value pairs, each as if given as --key (dashes stay: the key is the key). */
static int fault(struct fl_fault *f, struct fl_errors *e, const char *const *kv)
{
	static char flags[64][40];
	struct fl_params p = { 0 };
	int r;

	for (size_t i = 0; kv[i]; i += 2) {
		struct fl_where w = { .flag = flags[i / 2] };

		snprintf(flags[i / 2], sizeof(flags[0]), "--%s", kv[i]);
		for (char *c = flags[i / 2]; *c; c++)
			if (*c == '_')
				*c = '-';
		assert_int_equal(fl_params_add(&p, kv[i], kv[i + 1], &w), 0);
	}
	r = fl_fault_from_params(&p, NULL, f, e);
	fl_params_clear(&p);
	return r;
}

#define LOSS "kind", "loss", "for", "1s", "dev", "eth0"

static void burst_parse_describe(void **state)
{
	const char *const kv[] = { LOSS, "proto", "udp", "dport", "9000", "burst_p", "5%",
				   "burst_r", "30", NULL };
	struct fl_fault f = { 0 };
	struct fl_errors e = { 0 };
	char d[256];

	assert_int_equal(fault(&f, &e, kv), 0);
	assert_string_equal(f.backend->name, "tc-bpf");
	f.backend->describe(&f, d, sizeof(d));
	assert_string_equal(d, "burst loss (GE p=5% r=30% 1-h=100% 1-k=0%), expected 14.3% "
			       "udp dport 9000 ingress on eth0");
	fl_fault_clear(&f);
}

/* The plan carries the model and its stationary loss: pi_bad (1-h) + (1 - pi_bad) (1-k). */
static double planned(const char *p, const char *r, const char *h1, const char *k1,
		      json_t **ret_burst)
{
	const char *kv[16] = { LOSS, "burst_p", p, "burst_r", r };
	struct fl_fault f = { 0 };
	struct fl_errors e = { 0 };
	struct fl_inject_ctx ctx = { .run_id = "0123456789ab", .fault_id = "f0" };
	json_t *objs = NULL, *o;
	size_t n = 10;
	double pct;

	if (h1)
		kv[n++] = "burst_1h", kv[n++] = h1;
	if (k1)
		kv[n++] = "burst_1k", kv[n++] = k1;
	assert_int_equal(fault(&f, &e, kv), 0);
	assert_int_equal(f.backend->plan(&f, &ctx, &objs), 0);
	o = json_array_get(objs, 0);
	assert_non_null(o);
	pct = json_number_value(json_object_get(o, "percent"));
	if (ret_burst)
		*ret_burst = json_incref(json_object_get(o, "burst"));
	json_decref(objs);
	fl_fault_clear(&f);
	free(ctx.reason);
	return pct;
}

static void expected_loss(void **state)
{
	json_t *b = NULL;

	/* p 5%, r 30%, all lost in bad, none in good: 5 / 35 */
	assert_true(fabs(planned("5", "30", NULL, NULL, &b) - 100.0 * 5 / 35) < 1e-9);
	assert_non_null(b);
	assert_true(json_number_value(json_object_get(b, "p")) == 5);
	assert_true(json_number_value(json_object_get(b, "r")) == 30);
	assert_true(json_number_value(json_object_get(b, "1h")) == 100);
	assert_true(json_number_value(json_object_get(b, "1k")) == 0);
	json_decref(b);
	/* 1-h 50%, 1-k 2%: pi_bad = 10 / 50 = 0.2 -> 0.2 * 50 + 0.8 * 2 = 11.6 */
	assert_true(fabs(planned("10", "40", "50%", "2%", NULL) - 11.6) < 1e-9);
	/* symmetric chain, half the time bad: 50 */
	assert_true(fabs(planned("20", "20", NULL, NULL, NULL) - 50) < 1e-9);
	/* only 1-k: 1% in the good state, 100 in the bad one, pi_bad = 1 / 100 */
	assert_true(fabs(planned("1", "99", NULL, "1", NULL) - (0.01 * 100 + 0.99 * 1)) < 1e-9);
	/* 1-h 0 and 1-k 0: a model that never loses is allowed (and says so) */
	assert_true(planned("10", "10", "0", "0", NULL) == 0);
}

/* Each bad input is an error naming its flag. */
static void burst_errors(void **state)
{
	static const struct {
		const char *kv[12];
		const char *msg;
	} cases[] = {
		{ { "burst_p", "5", "burst_r", "30", "percent", "10" },
		  "--percent: 'percent' cannot be combined with a burst model" },
		{ { "burst_p", "5", "burst_r", "30", "correlation", "25" },
		  "--correlation: 'correlation' cannot be combined with a burst model" },
		{ { "burst_p", "5" },
		  "--burst-p: a burst model needs 'burst_r' (the bad to good transition "
		  "probability) with 'burst_p'" },
		{ { "burst_1h", "50" }, "--burst-1h: a burst model needs 'burst_p'" },
		{ { "burst_p", "0", "burst_r", "30" },
		  "--burst-p: 'burst_p' must be a percentage more than 0 and at most 100, such as "
		  "'5%', got '0'" },
		{ { "burst_p", "5", "burst_r", "130%" },
		  "--burst-r: 'burst_r' must be a percentage more than 0 and at most 100" },
		{ { "burst_p", "5", "burst_r", "30", "burst_1k", "-1" },
		  "--burst-1k: 'burst_1k' must be a percentage from 0 to 100, such as '5%', got "
		  "'-1'" },
		{ { "burst_p", "5", "burst_r", "30", "burst_1h", "x" },
		  "--burst-1h: 'burst_1h' must be a percentage from 0 to 100" },
		{ { NULL }, "a 'loss' fault needs 'percent' (e.g. '20%') or a burst model" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *kv[20] = { LOSS };
		struct fl_fault f = { 0 };
		struct fl_errors e = { 0 };
		size_t n = 6;

		for (size_t k = 0; cases[i].kv[k]; k++)
			kv[n++] = cases[i].kv[k];
		kv[n] = NULL;
		assert_int_equal(fault(&f, &e, kv), -EINVAL);
		assert_true(e.n >= 1);
		if (!strstr(e.v[0].text, cases[i].msg))
			fail_msg("case %zu: '%s' does not contain '%s'", i, e.v[0].text,
				 cases[i].msg);
		fl_errors_clear(&e);
		fl_fault_clear(&f);
	}
}

/* bpf_skb_cgroup_id() only knows the sender: cgroup is an egress filter, said at parse time. */
static void cgroup_direction(void **state)
{
	const char *const in[] = { LOSS, "percent", "10", "cgroup", "/svc", NULL };
	const char *const both[] = { LOSS, "percent", "10", "cgroup", "/svc", "direction", "both",
				     NULL };
	const char *const part[] = { "kind", "partition", "for", "1s", "dev", "eth0", "dst",
				     "10.0.0.0/8", "target.cgroup", "/svc", NULL };
	const char *const eg[] = { LOSS, "percent", "10", "cgroup", "/svc", "direction", "egress",
				   NULL };
	const char *const *bad[] = { in, both, part };
	struct fl_fault f = { 0 };
	struct fl_errors e = { 0 };
	char d[256];

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(fault(&f, &e, bad[i]), -EINVAL);
		assert_int_equal(e.n, 1);
		assert_non_null(strstr(e.v[0].text, i == 2 ? "--target.cgroup: 'cgroup' needs "
							     "'direction: egress'"
							   : "--cgroup: 'cgroup' needs 'direction: "
							     "egress'"));
		fl_errors_clear(&e);
		fl_fault_clear(&f);
	}
	assert_int_equal(fault(&f, &e, eg), 0);
	f.backend->describe(&f, d, sizeof(d));
	assert_string_equal(d, "10% loss cgroup /svc egress on eth0");
	fl_fault_clear(&f);
}

/* corrupt through tc-bpf: after netem, TCP/UDP payloads only, percent required. */
static void corrupt_tc(void **state)
{
	const char *const ok[] = { "kind", "corrupt", "backend", "tc-bpf", "for", "1s", "dev",
				   "eth0", "percent", "2%", "proto", "udp", "dport", "53", NULL };
	const char *const icmp[] = { "kind", "corrupt", "backend", "tc-bpf", "for", "1s", "dev",
				     "eth0", "percent", "2", "proto", "icmp", NULL };
	const char *const nopct[] = { "kind", "corrupt", "backend", "tc-bpf", "for", "1s", "dev",
				      "eth0", NULL };
	const char *const burst[] = { "kind", "corrupt", "backend", "tc-bpf", "for", "1s", "dev",
				      "eth0", "burst_p", "5", "burst_r", "30", NULL };
	const struct fl_backend *const *all = fl_backends_of("corrupt");
	struct fl_inject_ctx ctx = { .run_id = "0123456789ab", .fault_id = "f0" };
	struct fl_fault f = { 0 };
	struct fl_errors e = { 0 };
	json_t *objs = NULL;
	char d[256];

	assert_string_equal(all[0]->name, "netem");
	assert_string_equal(all[1]->name, "tc-bpf");
	assert_null(all[2]);
	assert_int_equal(fault(&f, &e, ok), 0);
	f.backend->describe(&f, d, sizeof(d));
	assert_string_equal(d, "corrupt 2% of udp dport 53 ingress on eth0 (one payload bit, "
			       "checksum fixed)");
	assert_int_equal(f.backend->plan(&f, &ctx, &objs), 0);
	assert_true(json_is_true(json_object_get(json_array_get(objs, 0), "corrupt")));
	assert_true(json_number_value(json_object_get(json_array_get(objs, 0), "percent")) == 2);
	json_decref(objs);
	fl_fault_clear(&f);

	assert_int_equal(fault(&f, &e, icmp), -EINVAL);
	assert_non_null(strstr(e.v[0].text, "--proto: a 'corrupt' fault (tc-bpf) damages TCP and "
					    "UDP payloads"));
	fl_errors_clear(&e);
	fl_fault_clear(&f);
	assert_int_equal(fault(&f, &e, nopct), -EINVAL);
	assert_non_null(strstr(e.v[0].text, "a 'corrupt' fault needs 'percent'"));
	fl_errors_clear(&e);
	fl_fault_clear(&f);
	/* the burst model is loss's: an unknown key here */
	assert_int_equal(fault(&f, &e, burst), -EINVAL);
	{
		bool named = false;
		for (size_t i = 0; i < e.n; i++)
			named |= strstr(e.v[i].text, "unknown key 'burst_p'") != NULL;
		assert_true(named);
	}
	fl_errors_clear(&e);
	fl_fault_clear(&f);
	free(ctx.reason);
}

/* status' scan: which iptables-save lines are ours, and the command that deletes each. */
static void hostscan_rules(void **state)
{
	char run[13];
	char *del = NULL;

	assert_true(fl_hostscan_comment_run("faultline:0123456789ab:7", run));
	assert_string_equal(run, "0123456789ab");
	assert_true(fl_hostscan_comment_run("faultline:0123456789ab", run));
	assert_false(fl_hostscan_comment_run("faultline:0123456789AB:7", run));
	assert_false(fl_hostscan_comment_run("faultline:0123456789a:7", run));
	assert_false(fl_hostscan_comment_run("faultline:0123456789abc:7", run));
	assert_false(fl_hostscan_comment_run("faultlinex:0123456789ab:7", run));

	assert_true(fl_hostscan_ipt_rule("-A PREROUTING -p udp -m comment --comment "
					 "\"faultline:0123456789ab:1f\" -j FL-1f",
					 "mangle", "iptables-save", run, &del));
	assert_string_equal(run, "0123456789ab");
	assert_string_equal(del, "iptables -t mangle -D PREROUTING -p udp -m comment --comment "
				 "\"faultline:0123456789ab:1f\" -j FL-1f");
	free(del);
	del = NULL;
	/* unquoted comment, ip6tables */
	assert_true(fl_hostscan_ipt_rule("-A INPUT -m comment --comment faultline:ba9876543210:2 "
					 "-j NFQUEUE --queue-num 3 --queue-bypass",
					 "filter", "ip6tables-save", run, &del));
	assert_string_equal(del, "ip6tables -t filter -D INPUT -m comment --comment "
				 "faultline:ba9876543210:2 -j NFQUEUE --queue-num 3 "
				 "--queue-bypass");
	free(del);
	del = NULL;
	/* not a rule, not ours, no comment */
	assert_false(fl_hostscan_ipt_rule(":FL-1f - [0:0]", "mangle", "iptables-save", run, &del));
	assert_false(fl_hostscan_ipt_rule("-A INPUT -m comment --comment \"someone:0123456789ab\" "
					  "-j ACCEPT", "filter", "iptables-save", run, &del));
	assert_false(fl_hostscan_ipt_rule("-A INPUT -j ACCEPT", "filter", "iptables-save", run,
					  &del));
	assert_null(del);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(burst_parse_describe),
		cmocka_unit_test(expected_loss),
		cmocka_unit_test(burst_errors),
		cmocka_unit_test(cgroup_direction),
		cmocka_unit_test(corrupt_tc),
		cmocka_unit_test(hostscan_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
