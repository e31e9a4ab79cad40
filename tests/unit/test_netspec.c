// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests: network filter parsing (netspec) and the loss/partition parameters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "inject/injector.h"
#include "inject/netspec.h"

/* key=value pairs, each from --key on the command line */
static void add(struct fl_params *p, const char *k, const char *v)
{
	/* a where's strings are borrowed: keep them for the test's life */
	static char flags[256][32];
	static size_t n;
	struct fl_where w = { .flag = flags[n % 256] };

	snprintf(flags[n++ % 256], sizeof(flags[0]), "--%s", k);
	assert_int_equal(fl_params_add(p, k, v, &w), 0);
}

static int parse1(const char *k, const char *v, struct fl_netspec *s, struct fl_errors *e)
{
	struct fl_params p = { 0 };
	int r;

	add(&p, k, v);
	r = fl_netspec_parse(&p, NULL, s, e);
	fl_params_clear(&p);
	return r;
}

static void cidrs(void **state)
{
	struct fl_netspec s;
	struct fl_errors e = { 0 };
	uint8_t want[16];

	assert_int_equal(parse1("dst", "10.1.2.3/8", &s, &e), 0);
	assert_int_equal(s.dst.family, AF_INET);
	assert_int_equal(s.dst.prefix, 8);
	inet_pton(AF_INET, "10.0.0.0", want);
	assert_memory_equal(s.dst.addr, want, 4); /* host bits cleared */
	assert_int_equal(s.direction, FL_DIR_INGRESS);
	fl_netspec_clear(&s);

	assert_int_equal(parse1("src", "198.18.0.11", &s, &e), 0);
	assert_int_equal(s.src.prefix, 32);
	fl_netspec_clear(&s);

	assert_int_equal(parse1("src", "fd00:1:2::5/48", &s, &e), 0);
	assert_int_equal(s.src.family, AF_INET6);
	assert_int_equal(s.src.prefix, 48);
	inet_pton(AF_INET6, "fd00:1:2::", want);
	assert_memory_equal(s.src.addr, want, 16);
	fl_netspec_clear(&s);

	assert_int_equal(parse1("dst", "::1", &s, &e), 0);
	assert_int_equal(s.dst.prefix, 128);
	fl_netspec_clear(&s);

	assert_int_equal(parse1("dst", "10.0.0.0/33", &s, &e), -EINVAL);
	assert_int_equal(parse1("dst", "fd00::/129", &s, &e), -EINVAL);
	assert_int_equal(parse1("dst", "300.1.1.1", &s, &e), -EINVAL);
	assert_int_equal(parse1("src", "", &s, &e), -EINVAL);
	assert_int_equal(e.n, 4);
	assert_string_equal(e.v[0].text, "--dst: 'dst' must be an IPv4 or IPv6 address or CIDR "
					 "such as '10.0.0.0/8', got '10.0.0.0/33'");
	fl_errors_clear(&e);
}

static void ports(void **state)
{
	struct fl_netspec s;
	struct fl_errors e = { 0 };

	assert_int_equal(parse1("dport", "9000", &s, &e), 0);
	assert_int_equal(s.dport.lo, 9000);
	assert_int_equal(s.dport.hi, 9000);
	fl_netspec_clear(&s);
	assert_int_equal(parse1("sport", "1000-2000", &s, &e), 0);
	assert_int_equal(s.sport.lo, 1000);
	assert_int_equal(s.sport.hi, 2000);
	fl_netspec_clear(&s);
	assert_int_equal(parse1("dport", "0", &s, &e), -EINVAL);
	assert_int_equal(parse1("dport", "65536", &s, &e), -EINVAL);
	assert_int_equal(parse1("dport", "20-10", &s, &e), -EINVAL);
	assert_int_equal(parse1("dport", "-5", &s, &e), -EINVAL);
	assert_int_equal(parse1("dport", "5-", &s, &e), -EINVAL);
	assert_int_equal(e.n, 5);
	assert_non_null(strstr(e.v[2].text, "--dport: 'dport' must be a port or range"));
	fl_errors_clear(&e);

	assert_int_equal(parse1("exclude", "22, 8080,9100", &s, &e), 0);
	assert_int_equal(s.n_exclude, 3);
	assert_int_equal(s.exclude[1], 8080);
	fl_netspec_clear(&s);
	assert_int_equal(parse1("exclude", "22,x", &s, &e), -EINVAL);
	assert_string_equal(e.v[0].text,
			    "--exclude: 'exclude' must be a comma-separated list of ports, got 'x'");
	fl_errors_clear(&e);
}

static void others(void **state)
{
	struct fl_params p = { 0 };
	struct fl_netspec s;
	struct fl_errors e = { 0 };
	char d[256];

	add(&p, "dev", "eth0");
	add(&p, "direction", "egress");
	add(&p, "proto", "udp");
	add(&p, "dport", "9000");
	add(&p, "dst", "fd00::/64");
	add(&p, "exclude", "22");
	assert_int_equal(fl_netspec_parse(&p, NULL, &s, &e), 0);
	fl_netspec_describe(&s, d, sizeof(d));
	assert_string_equal(d, "udp to fd00::/64 dport 9000 egress on eth0 (never ports 22)");
	fl_netspec_clear(&s);
	fl_params_clear(&p);

	assert_int_equal(parse1("proto", "sctp", &s, &e), -EINVAL);
	assert_int_equal(parse1("direction", "up", &s, &e), -EINVAL);
	assert_int_equal(parse1("dev", "a/b", &s, &e), -EINVAL);
	assert_int_equal(parse1("cgroup", "relative/path", &s, &e), -EINVAL);
	assert_int_equal(parse1("peer", "Not_A_Host", &s, &e), -EINVAL);
	assert_int_equal(e.n, 5);
	assert_string_equal(e.v[1].text, "--direction: 'direction' must be 'ingress', 'egress' or "
					 "'both', got 'up'");
	fl_errors_clear(&e);

	/* ports need tcp or udp */
	add(&p, "proto", "icmp");
	add(&p, "dport", "80");
	assert_int_equal(fl_netspec_parse(&p, NULL, &s, &e), -EINVAL);
	assert_string_equal(e.v[0].text, "--dport: ports need 'proto' tcp or udp");
	fl_errors_clear(&e);
	fl_params_clear(&p);
}

/* file:line:col for scenario input */
static void scenario_where(void **state)
{
	struct fl_params p = { 0 };
	struct fl_netspec s;
	struct fl_errors e = { 0 };
	struct fl_where w = { .file = "net.yaml", .line = 7, .col = 12 };

	assert_int_equal(fl_params_add(&p, "sport", "abc", &w), 0);
	assert_int_equal(fl_netspec_parse(&p, NULL, &s, &e), -EINVAL);
	assert_non_null(strstr(e.v[0].text, "net.yaml:7:12: 'sport' must be a port or range"));
	fl_errors_clear(&e);
	fl_params_clear(&p);
}

static void loss_params(void **state)
{
	const char *good[] = { "20", "20%", "0.5%", "100" }, *bad[] = { "0", "101", "x", "-5%", "20%%" };
	const struct fl_backend *b = fl_backend_find("loss");
	char d[256];

	assert_non_null(b);
	assert_string_equal(b->name, "tc-bpf");
	assert_non_null(fl_backend_find_named("partition", "tc-bpf"));
	for (size_t i = 0; i < ARRAY_SIZE(good) + ARRAY_SIZE(bad); i++) {
		struct fl_params p = { 0 };
		struct fl_fault f = { 0 };
		struct fl_errors e = { 0 };
		bool ok = i < ARRAY_SIZE(good);

		add(&p, "kind", "loss");
		add(&p, "for", "1s");
		add(&p, "dev", "eth0");
		add(&p, "proto", "udp");
		add(&p, "dport", "9000");
		add(&p, "percent", ok ? good[i] : bad[i - ARRAY_SIZE(good)]);
		assert_int_equal(fl_fault_from_params(&p, NULL, &f, &e), ok ? 0 : -EINVAL);
		if (ok && i == 1) {
			b->describe(&f, d, sizeof(d));
			assert_string_equal(d, "20% loss udp dport 9000 ingress on eth0");
		}
		if (!ok)
			assert_non_null(strstr(e.v[0].text, "--percent: 'percent' must be more than 0"));
		fl_fault_clear(&f);
		fl_errors_clear(&e);
		fl_params_clear(&p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cidrs),	  cmocka_unit_test(ports),
		cmocka_unit_test(others),	  cmocka_unit_test(scenario_where),
		cmocka_unit_test(loss_params),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
