// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of remote hosts, the fan-out policy and the selectors of `on:`. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "scenarios/hosts.h"
#include "scenarios/scenario.h"
#include "tests/unit/scenario_test.h"

#define FLEET                                                                      \
	HEAD "seed: 42\n"                                                          \
	     "lab: { hosts: { l1: {}, l2: {} } }\n"                                 \
	     "hosts:\n"                                                            \
	     "  - local\n"                                                         \
	     "  - { name: w1, address: 192.0.2.1, groups: [web], transport: ssh }\n" \
	     "  - { name: w2, address: '2001:db8::2', groups: [web, eu],\n"         \
	     "      transport: { ssh: { user: ops, port: 2222 } } }\n"              \
	     "  - { name: w3, address: w3.example.com, groups: web, transport: ssh }\n" \
	     "  - { name: l1, lab: l1, groups: [web, lab], transport: ssh }\n"      \
	     "  - { name: l2, lab: l2, groups: [web, lab], transport: ssh }\n"

static void test_hosts_model(void **state)
{
	struct fl_scenario *s = load_ok(
		FLEET "fanout: { concurrency: 4, timeout: 2s, lease: 5s, on_host_failure: skip }\n"
		      "faults:\n"
		      "  - { name: a, kind: loss, dev: eth0, percent: 10, for: 1s,\n"
		      "      on: { group: web, percent: 40 } }\n"
		      "  - { name: b, kind: loss, dev: eth0, percent: 10, for: 1s, on: w2 }\n"
		      "  - { name: c, kind: loss, dev: eth0, percent: 10, for: 1s, on: l1 }\n"
		      "  - { name: d, kind: loss, dev: eth0, percent: 10, for: 1s,\n"
		      "      on: { group: lab, count: 1 } }\n");
	const struct fl_hosts *h = s->hosts;

	assert_non_null(h);
	assert_true(h->local);
	assert_int_equal(h->n, 5);
	assert_string_equal(h->v[1].address, "2001:db8::2");
	assert_string_equal(h->v[1].user, "ops");
	assert_int_equal(h->v[1].port, 2222);
	assert_string_equal(h->v[1].groups[1], "eu");
	assert_string_equal(h->v[2].groups[0], "web");
	assert_null(h->v[3].address);
	assert_string_equal(h->v[3].lab, "l1");
	assert_int_equal(h->fanout.concurrency, 4);
	assert_int_equal(h->fanout.timeout_ns, 2 * NSEC_PER_SEC);
	assert_int_equal(h->fanout.lease_ns, 5 * NSEC_PER_SEC);
	assert_int_equal(h->fanout.on_host_failure, FL_HOST_FAILURE_SKIP);
	assert_string_equal(s->faults[0].sel->group, "web");
	assert_true(s->faults[0].sel->percent == 40);
	assert_null(s->faults[0].on);
	/* the selector is not a parameter the agent gets */
	for (size_t i = 0; i < s->faults[0].params.n; i++)
		assert_string_not_equal(s->faults[0].params.v[i].key, "on");
	assert_string_equal(s->faults[1].sel->host, "w2");
	/* a remote host that is a lab host: `on:` names the remote entry */
	assert_string_equal(s->faults[2].sel->host, "l1");
	assert_int_equal(s->faults[3].sel->count, 1);
	fl_scenario_free(s);

	s = load_ok(FLEET "steady_state:\n  probes:\n"
			  "    - { name: p, from: w1, tcp: { host: db, port: 5432 } }\n"
			  "    - { name: q, from: l1, tcp: { host: l2, port: 22 } }\n");
	assert_true(s->probes[0].from_remote);
	assert_string_equal(s->probes[0].from, "w1");
	/* a remote host that is a lab host: its agent runs the probe */
	assert_true(s->probes[1].from_remote);
	assert_int_equal(s->hosts->fanout.concurrency, 32);
	assert_int_equal(s->hosts->fanout.timeout_ns, 10 * NSEC_PER_SEC);
	assert_int_equal(s->hosts->fanout.on_host_failure, FL_HOST_FAILURE_ABORT);
	fl_scenario_free(s);
}

static void test_select(void **state)
{
	struct fl_scenario *s = load_ok(FLEET);
	struct fl_selector sel = { .group = "web", .percent = 40 };
	size_t a[8], b[8], n, seen = 0;

	/* 40% of 5 hosts: 2, the same two for the same seed and fault */
	n = fl_select(s->hosts, &sel, 42, "f", a);
	assert_int_equal(n, 2);
	assert_int_equal(fl_select(s->hosts, &sel, 42, "f", b), 2);
	assert_memory_equal(a, b, 2 * sizeof(*a));
	assert_true(a[0] < a[1]);
	/* another seed chooses others at some point */
	for (uint64_t seed = 0; seed < 32; seed++) {
		fl_select(s->hosts, &sel, seed, "f", b);
		seen |= 1u << b[0] | 1u << b[1];
	}
	assert_int_equal(seen, 0x1f);
	/* rounded up: 1% of 5 is one host; 100% is all */
	sel.percent = 1;
	assert_int_equal(fl_select(s->hosts, &sel, 1, "f", a), 1);
	sel.percent = 100;
	assert_int_equal(fl_select(s->hosts, &sel, 1, "f", a), 5);
	sel = (struct fl_selector){ .group = "web", .count = 3 };
	assert_int_equal(fl_select(s->hosts, &sel, 1, "f", a), 3);
	sel = (struct fl_selector){ .group = "eu" };
	assert_int_equal(fl_select(s->hosts, &sel, 1, "f", a), 1);
	assert_int_equal(a[0], 1);
	sel = (struct fl_selector){ .host = "w3" };
	assert_int_equal(fl_select(s->hosts, &sel, 1, "f", a), 1);
	assert_int_equal(a[0], 2);
	fl_scenario_free(s);
}

static void test_hosts_errors(void **state)
{
	assert_errors(
		HEAD "hosts:\n"
		     "  - { name: a, address: 192.0.2.1, transport: ssh, gruops: [x] }\n"
		     "  - { name: a, address: -oProxyCommand=x, transport: ssh }\n"
		     "  - { name: b, address: 1.2.3.4, lab: x, transport: { ssh: {}, agent: {} } }\n"
		     "  - { name: c, transport: { agent: { port: 0 } } }\n"
		     "  - { name: local, address: h, transport: telnet }\n"
		     "  - db1\n",
		"t.yaml:4:52: unknown key 'gruops' in each item of 'hosts' (did you mean "
		"'groups'?)",
		"t.yaml:5:13: duplicate host name 'a' (first at line 4)",
		"t.yaml:5:25: invalid address '-oProxyCommand=x': expected an IPv4 or IPv6 "
		"address or a DNS name",
		"t.yaml:6:5: a host has 'address' or 'lab', not both",
		"t.yaml:6:53: 'transport' takes one of 'ssh' or 'agent', not both",
		"t.yaml:7:5: a host needs 'address' (or 'lab': a lab host's name)",
		"t.yaml:7:36: 'agent' needs 'ca'", "t.yaml:7:36: 'agent' needs 'cert'",
		"t.yaml:7:36: 'agent' needs 'key'",
		"t.yaml:7:44: 'port' must be a TCP port from 1 to 65535, got '0'",
		"t.yaml:8:13: host name 'local' is reserved: it means this host",
		"t.yaml:8:43: unknown transport 'telnet' (use 'ssh' or 'agent')",
		"t.yaml:9:5: host 'db1' needs a mapping: { name, address, groups, transport } "
		"('local' is the only bare name)");
	assert_errors(HEAD "lab: { hosts: { h1: {} } }\n"
			   "hosts:\n"
			   "  - { name: h1, address: 192.0.2.1, transport: ssh }\n"
			   "  - { name: x, lab: h2, transport: ssh }\n"
			   "fanout: { concurency: 3, timeout: 1ms, on_host_failure: maybe }\n",
		      "t.yaml:5:13: host name 'h1' is a lab host: `on: h1` would be ambiguous",
		      "t.yaml:6:21: unknown lab host 'h2'",
		      "t.yaml:7:11: unknown key 'concurency' in 'fanout' (did you mean "
		      "'concurrency'?)",
		      "t.yaml:7:35: 'timeout' must be a duration from 100ms to 1h, got '1ms'",
		      "t.yaml:7:57: 'on_host_failure' must be 'abort' or 'skip', got 'maybe'");
	assert_errors(HEAD "hosts:\n"
			   "  - { name: w, address: 192.0.2.1, transport: { agent: { port: 1, "
			   "ca: /nonexistent/ca.pem, cert: /nonexistent/c, key: /nonexistent/k "
			   "} } }\n",
		      "t.yaml:4:71: 'ca': cannot read '/nonexistent/ca.pem': No such file or "
		      "directory",
		      "t.yaml:4:98: 'cert': cannot read '/nonexistent/c': No such file or "
		      "directory",
		      "t.yaml:4:119: 'key': cannot read '/nonexistent/k': No such file or "
		      "directory");
	assert_errors(HEAD "fanout: { concurrency: 2 }\n",
		      "t.yaml:3:9: 'fanout' needs remote 'hosts'");
}

static void test_selector_errors(void **state)
{
	assert_errors(
		FLEET "faults:\n"
		      "  - { name: a, kind: loss, dev: eth0, percent: 1, for: 1s,\n"
		      "      on: { group: wbe, percent: 30 } }\n"
		      "  - { name: b, kind: loss, dev: eth0, percent: 1, for: 1s,\n"
		      "      on: { group: web, count: 6 } }\n"
		      "  - { name: c, kind: loss, dev: eth0, percent: 1, for: 1s,\n"
		      "      on: { group: web, percent: 130, cuont: 1 } }\n"
		      "  - { name: d, kind: loss, dev: eth0, percent: 1, for: 1s,\n"
		      "      on: { group: web, percent: 10, count: 1 } }\n"
		      "  - { name: e, kind: loss, dev: eth0, percent: 1, for: 1s, on: { count: 1 } }\n"
		      "  - { name: f, kind: loss, dev: eth0, percent: 1, for: 1s, on: zz }\n",
		"t.yaml:15:20: no host is in group 'wbe' (did you mean 'web'?)",
		"t.yaml:17:32: 'count' is 6 but group 'web' has 5 hosts",
		"t.yaml:19:34: 'percent' must be a number above 0 and at most 100, got '130'",
		"t.yaml:19:39: unknown key 'cuont' in 'on' (did you mean 'count'?)",
		"t.yaml:21:34: a selector takes 'count' or 'percent', not both",
		"t.yaml:22:64: a selector needs 'group' ({ group: G, count: N } or { group: G, "
		"percent: P })",
		"t.yaml:23:64: unknown lab host 'zz' (did you mean 'l1'?)");
	assert_errors(FLEET "steady_state:\n  probes:\n"
			    "    - { name: p, from: w1, exec: [true] }\n",
		      "t.yaml:15:24: 'from' a remote host runs 'tcp' probes only (its agent's "
		      "probe operation)");
	assert_errors(HEAD "faults:\n"
			   "  - { kind: loss, dev: eth0, percent: 1, for: 1s, on: { group: w } }\n",
		      "t.yaml:4:55: a selector in 'on' needs remote 'hosts' in the scenario");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hosts_model),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_hosts_errors),
		cmocka_unit_test(test_selector_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
