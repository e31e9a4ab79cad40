// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the scenario loader and validator: the model, the defaults, every error text. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "inject/injector.h"
#include "scenarios/scenario.h"
#include "tests/unit/scenario_test.h"

#define MS NSEC_PER_MSEC
#define S NSEC_PER_SEC


static const char full[] =
	"version: 1\n"
	"name: cache-failover\n"
	"description: kill the primary\n"
	"seed: 42\n"
	"hosts: [local]\n"
	"lab:\n"
	"  hosts:\n"
	"    web:\n"
	"      run: [nginx, -c, web.conf]\n"
	"      env: { MODE: test, _X1: '' }\n"
	"      restart: on-failure\n"
	"      restart_delay: 1s\n"
	"      ready: { tcp: 8080, timeout: 5s }\n"
	"    cache: { run: [redis-server, --port, '6379'], restart: always }\n"
	"    idle: ~\n"
	"steady_state:\n"
	"  baseline: 3s\n"
	"  probes:\n"
	"    - name: checkout\n"
	"      tcp: { host: web, port: 8080 }\n"
	"      from: cache\n"
	"      every: 200ms\n"
	"      timeout: 300ms\n"
	"      expect: { success_rate: '>= 99%' }\n"
	"    - name: ping.v6\n"
	"      exec: [sh, -c, 'exit 0']\n"
	"      expect: { success_rate: 0.5 }\n"
	"    - name: addr\n"
	"      tcp: { host: '::1', port: 1 }\n"
	"      expect: { success_rate: 95% }\n"
	"faults:\n"
	"  - name: kill-cache\n"
	"    kind: kill\n"
	"    on: cache\n"
	"    target: { name: redis-server, cmdline: 'redis.*6379', pick: random, count: 2 }\n"
	"    signal: SIGTERM\n"
	"    interval: 500ms\n"
	"    at: 10s\n"
	"    for: 30s\n"
	"  - kind: stop\n"
	"    target:\n"
	"      pid: 4242\n"
	"      cgroup: /system.slice/redis.service\n"
	"      netns: blue\n"
	"      pick: all\n"
	"    for: 1.5s\n"
	"stop_when:\n"
	"  - { probe: checkout, failing_for: 15s }\n"
	"recovery:\n"
	"  within: 10s\n"
	"  healthy_for: 2s\n";

static void test_full(void **state)
{
	struct fl_scenario *s = load_ok(full);
	const struct fl_lab_host *h;
	const struct fl_probe *p;
	const struct fl_fault *f;

	assert_string_equal(s->file, "t.yaml");
	assert_string_equal(s->dir, ".");
	assert_int_equal(s->version, 1);
	assert_string_equal(s->name, "cache-failover");
	assert_string_equal(s->description, "kill the primary");
	assert_true(s->seed_set);
	assert_int_equal(s->seed, 42);

	assert_non_null(s->lab);
	assert_int_equal(s->lab->where.line, 7);
	assert_int_equal(s->lab->n_hosts, 3);
	h = fl_lab_find_host(s->lab, "web");
	assert_ptr_equal(h, &s->lab->hosts[0]);
	assert_int_equal(h->where.line, 8);
	assert_int_equal(h->where.col, 5);
	assert_int_equal(fl_strv_len(h->run), 3);
	assert_string_equal(h->run[0], "nginx");
	assert_string_equal(h->run[1], "-c");
	assert_string_equal(h->run[2], "web.conf");
	assert_int_equal(fl_strv_len(h->env), 2);
	assert_string_equal(h->env[0], "MODE=test");
	assert_string_equal(h->env[1], "_X1=");
	assert_int_equal(h->restart, FL_RESTART_ON_FAILURE);
	assert_int_equal(h->restart_delay_ns, 1 * S);
	assert_int_equal(h->ready_port, 8080);
	assert_int_equal(h->ready_timeout_ns, 5 * S);
	h = fl_lab_find_host(s->lab, "cache");
	assert_non_null(h);
	assert_string_equal(h->run[2], "6379");
	assert_null(h->env);
	assert_int_equal(h->restart, FL_RESTART_ALWAYS);
	h = fl_lab_find_host(s->lab, "idle");
	assert_non_null(h);
	assert_null(h->run);
	assert_int_equal(h->restart, FL_RESTART_NO);
	assert_int_equal(h->ready_port, 0);
	assert_null(fl_lab_find_host(s->lab, "nope"));

	assert_int_equal(s->baseline_ns, 3 * S);
	assert_int_equal(s->n_probes, 3);
	p = fl_scenario_find_probe(s, "checkout");
	assert_ptr_equal(p, &s->probes[0]);
	assert_int_equal(p->kind, FL_PROBE_TCP);
	assert_string_equal(p->host, "web");
	assert_int_equal(p->port, 8080);
	assert_string_equal(p->from, "cache");
	assert_null(p->argv);
	assert_int_equal(p->every_ns, 200 * MS);
	assert_int_equal(p->timeout_ns, 300 * MS);
	assert_float_equal(p->success_rate, 0.99, 1e-9);
	assert_int_equal(p->where.line, 19);
	assert_int_equal(p->where.col, 7);
	p = fl_scenario_find_probe(s, "ping.v6");
	assert_non_null(p);
	assert_int_equal(p->kind, FL_PROBE_EXEC);
	assert_int_equal(fl_strv_len(p->argv), 3);
	assert_string_equal(p->argv[2], "exit 0");
	assert_null(p->host);
	assert_null(p->from);
	assert_float_equal(p->success_rate, 0.5, 1e-9);
	p = fl_scenario_find_probe(s, "addr");
	assert_string_equal(p->host, "::1");
	assert_int_equal(p->port, 1);
	assert_float_equal(p->success_rate, 0.95, 1e-9);
	assert_null(fl_scenario_find_probe(s, "nope"));

	assert_int_equal(s->n_faults, 2);
	f = &s->faults[0];
	assert_string_equal(f->name, "kill-cache");
	assert_string_equal(f->kind, "kill");
	assert_ptr_equal(f->backend, &fl_backend_kill);
	assert_string_equal(f->on, "cache");
	assert_int_equal(f->target.pid, 0);
	assert_string_equal(f->target.name, "redis-server");
	assert_string_equal(f->target.cmdline, "redis.*6379");
	assert_null(f->target.cgroup);
	assert_null(f->target.netns);
	assert_true(f->target.pick_random);
	assert_int_equal(f->target.count, 2);
	assert_int_equal(f->at_ns, 10 * S);
	assert_int_equal(f->for_ns, 30 * S);
	assert_int_equal(f->repeat_ns, 500 * MS);
	assert_non_null(f->priv);
	assert_int_equal(f->where.line, 32);
	assert_int_equal(f->where.col, 5);
	/* the fault keeps what was asked, verbatim, with positions */
	assert_int_equal(f->params.n, 11);
	assert_string_equal(f->params.v[0].key, "name");
	assert_string_equal(f->params.v[3].key, "target.name");
	assert_string_equal(f->params.v[3].value, "redis-server");
	assert_string_equal(f->params.v[3].where.file, "t.yaml");
	assert_int_equal(f->params.v[3].where.line, 35);
	assert_int_equal(f->params.v[3].where.col, 21);
	assert_string_equal(f->params.v[7].key, "signal");
	assert_string_equal(f->params.v[7].value, "SIGTERM");
	assert_true(f->params.v[7].used);
	f = &s->faults[1];
	assert_string_equal(f->name, "stop");
	assert_ptr_equal(f->backend, &fl_backend_stop);
	assert_null(f->on);
	assert_int_equal(f->target.pid, 4242);
	assert_null(f->target.name);
	assert_string_equal(f->target.cgroup, "/system.slice/redis.service");
	assert_string_equal(f->target.netns, "blue");
	assert_false(f->target.pick_random);
	assert_int_equal(f->target.count, 0);
	assert_int_equal(f->at_ns, 0);
	assert_int_equal(f->for_ns, 1500 * MS);
	assert_int_equal(f->repeat_ns, 0);

	assert_int_equal(s->n_stops, 1);
	assert_string_equal(s->stops[0].probe, "checkout");
	assert_int_equal(s->stops[0].failing_for_ns, 15 * S);
	assert_int_equal(s->stops[0].where.line, 48);
	assert_int_equal(s->recovery_within_ns, 10 * S);
	assert_int_equal(s->recovery_healthy_for_ns, 2 * S);
	fl_scenario_free(s);
}

static void test_defaults(void **state)
{
	struct fl_scenario *s =
		load_ok("version: 1\n"
			"name: d\n"
			"lab: { hosts: { web: { run: [x], ready: { tcp: 80 } } } }\n"
			"steady_state:\n"
			"  probes:\n"
			"    - { name: p, tcp: { host: web, port: 80 } }\n"
			"faults:\n"
			"  - { kind: kill, target: { name: x }, for: 1s }\n");

	assert_null(s->description);
	assert_false(s->seed_set);
	assert_int_equal(s->seed, 0);
	assert_int_equal(s->lab->hosts[0].restart, FL_RESTART_NO);
	assert_int_equal(s->lab->hosts[0].restart_delay_ns, 200 * MS);
	assert_int_equal(s->lab->hosts[0].ready_timeout_ns, 10 * S);
	assert_null(s->lab->hosts[0].env);
	assert_int_equal(s->baseline_ns, 2 * S);
	assert_int_equal(s->probes[0].every_ns, 500 * MS);
	assert_int_equal(s->probes[0].timeout_ns, 1 * S);
	assert_float_equal(s->probes[0].success_rate, 1.0, 0);
	assert_null(s->probes[0].from);
	assert_string_equal(s->faults[0].name, "kill");
	assert_null(s->faults[0].on);
	assert_int_equal(s->faults[0].at_ns, 0);
	assert_int_equal(s->faults[0].repeat_ns, 0);
	assert_false(s->faults[0].target.pick_random);
	assert_int_equal(s->n_stops, 0);
	assert_int_equal(s->recovery_within_ns, 30 * S);
	assert_int_equal(s->recovery_healthy_for_ns, 1 * S);
	fl_scenario_free(s);

	/* the smallest scenario: no lab, nothing else */
	s = load_ok("version: 1\nname: m\nsteady_state: ~\nfaults: []\nrecovery: {}\n");
	assert_null(s->lab);
	assert_int_equal(s->n_probes, 0);
	assert_int_equal(s->n_faults, 0);
	assert_int_equal(s->baseline_ns, 2 * S);
	assert_int_equal(s->recovery_within_ns, 30 * S);
	fl_scenario_free(s);
}

static void test_empty(void **state)
{
	assert_errors("", "t.yaml:1:1: empty scenario: expected a mapping with 'version: 1'");
	assert_errors("---\n", "t.yaml:1:1: empty scenario: expected a mapping with 'version: 1'");
}

static void test_comments_only(void **state)
{
	assert_errors("# nothing\n\n   # here\n",
		      "t.yaml:1:1: empty scenario: expected a mapping with 'version: 1'");
}

static void test_not_yaml(void **state)
{
	assert_errors("key: [unclosed",
		      "t.yaml:2:1: invalid YAML: did not find expected ',' or ']' "
		      "(while parsing a flow sequence)");
	assert_errors("version: 1\nname: x\n  bad: indent\n",
		      "t.yaml:3:6: invalid YAML: mapping values are not allowed in this context");
	assert_errors("version: 1\nname: \xff\n",
		      "t.yaml:2:7: invalid YAML: invalid leading UTF-8 octet");
	assert_errors("version: 1\nname: \"a\\0b\"\n",
		      "t.yaml:2:7: strings cannot contain NUL characters");
	assert_errors("version: 1\n---\nversion: 1\n",
		      "t.yaml:2:1: a scenario is one YAML document, found a second one");
}

static void test_top_level_sequence(void **state)
{
	assert_errors("- version: 1\n", "t.yaml:1:1: expected a mapping at the top level");
	assert_errors("just words\n", "t.yaml:1:1: expected a mapping at the top level");
}

static void test_wrong_types(void **state)
{
	assert_errors(HEAD "steady_state:\n  probes: \"x\"\n",
		      "t.yaml:4:11: expected a sequence for 'probes', got 'x'");
	assert_errors(HEAD "lab: [a]\nsteady_state:\n  probes: [x]\nfaults: { a: b }\n",
		      "t.yaml:3:6: expected a mapping for 'lab', got a sequence",
		      "t.yaml:5:12: expected a mapping for each item of 'probes', got 'x'",
		      "t.yaml:6:9: expected a sequence for 'faults', got a mapping");
	assert_errors(HEAD "lab: { hosts: { web: { run: nginx, env: [A] } } }\n",
		      "t.yaml:3:29: expected a sequence of strings for 'run', got 'nginx'",
		      "t.yaml:3:41: expected a mapping for 'env', got a sequence");
	assert_errors(HEAD "lab: { hosts: { web: { run: [[x]] } } }\n",
		      "t.yaml:3:30: expected a string for each item of 'run', got a sequence");
	assert_errors(HEAD "faults:\n  - kind: kill\n    for: [1s]\n    target: pid\n"
			   "    signal: { a: 1 }\n",
		      "t.yaml:4:5: a fault needs 'for' (how long it lasts)",
		      "t.yaml:4:5: a 'kill' fault needs a target: 'target.pid', 'target.name', "
		      "'target.cmdline' or 'target.cgroup'",
		      "t.yaml:5:10: expected a scalar for 'for', got a sequence",
		      "t.yaml:6:13: expected a mapping for 'target', got 'pid'",
		      "t.yaml:7:13: expected a scalar for 'signal', got a mapping");
	assert_errors("version: [1]\nname: { a: b }\n",
		      "t.yaml:1:10: expected a scalar for 'version', got a sequence",
		      "t.yaml:2:7: expected a scalar for 'name', got a mapping");
}

static void test_unknown_key(void **state)
{
	assert_errors(HEAD "fualts: []\n",
		      "t.yaml:3:1: unknown key 'fualts' (did you mean 'faults'?)");
	assert_errors(HEAD "zzzzzz: 1\n", "t.yaml:3:1: unknown key 'zzzzzz'");
	assert_errors(HEAD "steady_state:\n  probes:\n    - name: p\n      exec: [x]\n"
			   "      evrey: 1s\n",
		      "t.yaml:7:7: unknown key 'evrey' (did you mean 'every'?)");
	assert_errors(HEAD "faults:\n  - kind: kill\n    target: { nmae: x }\n    sginal: TERM\n"
			   "    for: 1s\n",
		      "t.yaml:4:5: a 'kill' fault needs a target: 'target.pid', 'target.name', "
		      "'target.cmdline' or 'target.cgroup'",
		      "t.yaml:5:21: unknown key 'target.nmae' (did you mean 'target.name'?)",
		      "t.yaml:6:13: unknown key 'sginal' (did you mean 'signal'?)");
}

static void test_unknown_kind(void **state)
{
	assert_errors(HEAD "faults:\n  - kind: kil\n    target: { name: x }\n    signal: TERM\n"
			   "    for: 1s\n",
		      "t.yaml:4:11: unknown fault kind 'kil' (did you mean 'kill'?)");
	assert_errors(HEAD "faults:\n  - { kind: frobnicate, for: 1s }\n",
		      "t.yaml:4:13: unknown fault kind 'frobnicate' (implemented: kill, stop, latency, loss, corrupt, duplicate, reorder, partition, bandwidth, crash-point, disk-error, io-latency, syscall)");
	assert_errors(HEAD "faults:\n  - { for: 1s }\n",
		      "t.yaml:4:5: a fault needs 'kind' (implemented: kill, stop, latency, loss, corrupt, duplicate, reorder, partition, bandwidth, crash-point, disk-error, io-latency, syscall)");
}

static void test_unimplemented_kind(void **state)
{
	/* every kind of the design is built: an unknown kind's own keys are not judged, the
	 * common ones are */
	assert_errors(HEAD
		      "faults:\n  - kind: crash\n    errno: EIO\n    at: soon\n    for: 1s\n",
		      "t.yaml:4:11: unknown fault kind 'crash' (implemented: kill, stop, latency, loss, corrupt, duplicate, reorder, partition, bandwidth, crash-point, disk-error, io-latency, syscall)",
		      "t.yaml:6:9: 'at' must be a duration such as '500ms' or '2s', got 'soon'");
}

static void test_negative_duration(void **state)
{
	assert_errors(HEAD "faults:\n  - { kind: stop, target: { pid: 99 }, at: -5s, for: 1s }\n",
		      "t.yaml:4:44: 'at' cannot be negative");
	assert_errors(HEAD "steady_state: { baseline: -1ms }\n",
		      "t.yaml:3:27: 'baseline' cannot be negative");
}

static void test_huge_duration(void **state)
{
	assert_errors(HEAD "faults:\n  - { kind: stop, target: { pid: 99 }, for: 25h }\n",
		      "t.yaml:4:45: 'for' must be at most 24h");
	assert_errors(HEAD "faults:\n  - { kind: stop, target: { pid: 99 }, at: 20h, for: 5h }\n",
		      "t.yaml:4:54: 'at' + 'for' must be at most 24h");
	assert_errors(HEAD "steady_state: { baseline: 2h }\n",
		      "t.yaml:3:27: 'baseline' must be at most 1h");
	assert_errors(HEAD "lab: { hosts: { a: { run: [x], ready: { tcp: 1, timeout: 61s } } } }\n",
		      "t.yaml:3:58: 'timeout' must be at most 1m");
}

static void test_bad_duration(void **state)
{
	assert_errors(HEAD "steady_state:\n  probes:\n    - name: p\n      exec: [x]\n"
			   "      every: fast\n      timeout: 0\n",
		      "t.yaml:7:14: 'every' must be a duration such as '500ms' or '2s', got 'fast'",
		      "t.yaml:8:16: 'timeout' must be more than 0");
	assert_errors(HEAD "steady_state:\n  probes:\n    - { name: p, exec: [x], every: 5ms }\n",
		      "t.yaml:5:36: 'every' must be at least 10ms");
	assert_errors(HEAD "faults:\n  - { kind: stop, target: { pid: 99 }, for: 10 }\n",
		      "t.yaml:4:45: 'for' must be a duration such as '500ms' or '2s', got '10'");
	assert_errors(HEAD "faults:\n  - { kind: stop, target: { pid: 99 }, for: 0s }\n",
		      "t.yaml:4:45: 'for' must be more than 0");
}

static void test_duplicate_key(void **state)
{
	assert_errors(HEAD "name: u\n", "t.yaml:3:1: duplicate key 'name' (first at line 2)");
	assert_errors(HEAD "faults:\n  - kind: stop\n    target: { pid: 9, pid: 10 }\n    for: 1s\n"
			   "    for: 2s\n",
		      "t.yaml:5:23: duplicate key 'pid' (first at line 5)",
		      "t.yaml:7:5: duplicate key 'for' (first at line 6)");
	assert_errors(HEAD "lab:\n  hosts:\n    a: {}\n    a: {}\n",
		      "t.yaml:6:5: duplicate key 'a' (first at line 5)");
	assert_errors(HEAD "lab: { hosts: { a: { env: { X: 1, X: 2 } } } }\n",
		      "t.yaml:3:35: duplicate key 'X' (first at line 3)");
}

static void test_duplicate_probe(void **state)
{
	assert_errors(HEAD "steady_state:\n  probes:\n    - { name: p, exec: [x] }\n"
			   "    - { name: p, exec: [y] }\n",
		      "t.yaml:6:15: duplicate probe name 'p' (first at line 5)");
}

static void test_duplicate_fault(void **state)
{
	assert_errors(HEAD "faults:\n"
			   "  - { kind: stop, target: { pid: 9 }, for: 1s }\n"
			   "  - { kind: stop, target: { pid: 9 }, for: 1s }\n"
			   "  - { name: f, kind: stop, target: { pid: 9 }, for: 1s }\n"
			   "  - { name: f, kind: stop, target: { pid: 9 }, for: 1s }\n",
		      "t.yaml:5:5: duplicate fault name 'stop' (first at line 4): give each fault "
		      "a 'name'",
		      "t.yaml:7:13: duplicate fault name 'f' (first at line 6)");
}

static void test_missing_version(void **state)
{
	assert_errors("name: x\n", "t.yaml:1:1: missing required key 'version'");
	assert_errors("\n\nversion: 1\n", "t.yaml:3:1: missing required key 'name'");
}

static void test_version_2(void **state)
{
	/* a newer schema: nothing else is judged */
	assert_errors("version: 2\nname: x\nnew_thing: 1\n",
		      "t.yaml:1:10: unsupported version '2' (this faultline reads version 1)",
		      "t.yaml:3:1: unknown key 'new_thing'");
	assert_errors("version: '1.0'\n",
		      "t.yaml:1:10: unsupported version '1.0' (this faultline reads version 1)");
}

static void test_lab_host_names(void **state)
{
	assert_errors(HEAD "lab:\n  hosts:\n    Web_1: {}\n    sw: {}\n    local: {}\n"
			   "    abcdefghijklm: {}\n",
		      "t.yaml:5:5: invalid lab host name 'Web_1': use 1-12 characters of a-z, 0-9 "
		      "and '-'",
		      "t.yaml:6:5: lab host name 'sw' is reserved for the lab's switch",
		      "t.yaml:7:5: lab host name 'local' is reserved: it means this host",
		      "t.yaml:8:5: invalid lab host name 'abcdefghijklm': use 1-12 characters of "
		      "a-z, 0-9 and '-'");
	assert_errors(HEAD "lab: {}\n", "t.yaml:3:6: missing required key 'hosts'");
	assert_errors(HEAD "lab: { hosts: {} }\n", "t.yaml:3:15: a lab needs at least one host");
	assert_errors(HEAD "lab:\n  hosts:\n    a: { ready: { tcp: 0 }, restart: maybe }\n",
		      "t.yaml:5:10: 'ready' needs 'run': a host without a service has nothing to "
		      "wait for",
		      "t.yaml:5:24: 'tcp' must be a port number from 1 to 65535, got '0'",
		      "t.yaml:5:38: 'restart' must be 'no', 'on-failure' or 'always', got 'maybe'");
	assert_errors(HEAD "lab: { hosts: { a: { run: [], env: { 9X: 1 } } } }\n",
		      "t.yaml:3:27: 'run' cannot be empty: it starts with the program to run",
		      "t.yaml:3:38: invalid environment variable name '9X': use A-Z, a-z, 0-9 and "
		      "'_', not starting with a digit");
}

static void test_on_unknown_host(void **state)
{
	assert_errors(HEAD "lab: { hosts: { cache: {}, web: {} } }\n"
			   "faults:\n  - { kind: stop, on: cahce, target: { pid: 9 }, for: 1s }\n"
			   "  - { kind: stop, on: zzz, target: { pid: 9 }, for: 1s, name: b }\n",
		      "t.yaml:5:23: unknown lab host 'cahce' (did you mean 'cache'?)",
		      "t.yaml:6:23: unknown lab host 'zzz'");
	assert_errors(HEAD "faults:\n  - { kind: stop, on: web, target: { pid: 9 }, for: 1s }\n",
		      "t.yaml:4:23: 'on' names lab host 'web' but the scenario has no lab");
	assert_errors(
		HEAD
		"lab: { hosts: { web: {} } }\n"
		"faults:\n  - { kind: stop, on: web, target: { pid: 9, netns: x }, for: 1s }\n",
		"t.yaml:5:53: 'target.netns' cannot be combined with 'on': a lab host has its "
		"own namespace");
	/* "local" is this host, lab or not */
	fl_scenario_free(load_ok(HEAD "faults:\n  - { kind: stop, on: local, target: { pid: 9 }, "
				      "for: 1s }\n"));
}

static void test_from_without_lab(void **state)
{
	assert_errors(HEAD "steady_state:\n  probes:\n"
			   "    - { name: p, tcp: { host: web, port: 80 }, from: web }\n",
		      "t.yaml:5:54: 'from' needs a lab");
	assert_errors(HEAD "lab: { hosts: { web: {} } }\nsteady_state:\n  probes:\n"
			   "    - { name: p, tcp: { host: wbe, port: 80 }, from: ewb }\n"
			   "    - { name: q, tcp: { host: 198.18.0.10, port: 80 } }\n",
		      "t.yaml:6:31: unknown lab host 'wbe' (did you mean 'web'?)",
		      "t.yaml:6:54: unknown lab host 'ewb' (did you mean 'web'?)");
	assert_errors(HEAD "steady_state:\n  probes:\n    - { name: p }\n"
			   "    - { name: q, exec: [x], tcp: { host: 'a b', port: x } }\n",
		      "t.yaml:5:7: a probe needs exactly one of 'tcp', 'exec', 'http' or "
		      "'prometheus'",
		      "t.yaml:6:7: a probe needs exactly one of 'tcp', 'exec', 'http' or "
		      "'prometheus'",
		      "t.yaml:6:42: 'host' must be an IP address or a host name, got 'a b'",
		      "t.yaml:6:55: 'port' must be a port number from 1 to 65535, got 'x'");
}

static void test_too_many_args(void **state)
{
	char yaml[1024] = HEAD "steady_state:\n  probes:\n    - name: p\n      exec: [";

	for (int i = 0; i < 65; i++)
		strcat(yaml, i ? ", x" : "x");
	strcat(yaml, "]\n");
	assert_errors(yaml, "t.yaml:6:13: too many arguments in 'exec' (65, at most 64)");
}

static void test_too_many_hosts(void **state)
{
	char *yaml = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&yaml, &len);

	assert_non_null(f);
	fputs(HEAD "lab:\n  hosts:\n", f);
	for (int i = 0; i < FL_MAX_HOSTS + 1; i++)
		fprintf(f, "    h%d: {}\n", i);
	fclose(f);
	assert_errors(yaml, "t.yaml:5:5: too many lab hosts (129, at most 128)");
	free(yaml);
}

static void test_pid(void **state)
{
	char yaml[256];

	assert_errors(HEAD "faults:\n  - { kind: stop, target: { pid: 1 }, for: 1s }\n",
		      "t.yaml:4:34: refusing to target PID 1");
	assert_errors(HEAD "faults:\n  - { kind: stop, target: { pid: 0, count: 0, pick: one }, "
			   "for: 1s }\n",
		      "t.yaml:4:34: 'target.pid' must be a process id from 1 to 4194304, got '0'",
		      "t.yaml:4:44: 'target.count' must be a number from 1 to 1024, got '0'",
		      "t.yaml:4:53: 'target.pick' must be 'random' or 'all', got 'one'");
	snprintf(yaml, sizeof(yaml),
		 HEAD "faults:\n  - { kind: stop, target: { pid: %d }, for: 1s }\n", getpid());
	assert_errors(yaml, "t.yaml:4:34: refusing to target faultline itself");
}

static void test_bad_regex(void **state)
{
	assert_errors(HEAD "faults:\n  - { kind: stop, target: { cmdline: 'redis(' }, for: 1s }\n",
		      "t.yaml:4:38: 'target.cmdline' is not a valid extended regular expression: "
		      "unmatched ( or \\(");
	/* glibc's regcomp() would take gigabytes for these, and matching a back-reference is
	 * exponential */
	assert_errors(
		HEAD
		"faults:\n"
		"  - { kind: stop, target: { cmdline: '(a{100}){100}' }, for: 1s }\n"
		"  - { kind: stop, target: { cmdline: 'a+++++++++++++++' }, for: 1s, name: b }\n"
		"  - { kind: stop, target: { cmdline: '(a?){3000}' }, for: 1s, name: c }\n"
		"  - { kind: stop, target: { cmdline: '(a)\\1' }, for: 1s, name: d }\n",
		"t.yaml:4:38: 'target.cmdline' is too complex: simplify its repetitions and groups",
		"t.yaml:5:38: 'target.cmdline' is too complex: simplify its repetitions and groups",
		"t.yaml:6:38: 'target.cmdline' is too complex: simplify its repetitions and groups",
		"t.yaml:7:38: 'target.cmdline' cannot use back-references ('\\1')");
	fl_scenario_free(load_ok(HEAD
				 "faults:\n"
				 "  - { kind: stop, target: { cmdline: '^/usr/bin/(redis|valkey)-"
				 "server [^ ]+:63[0-9]{2}( |$)' }, for: 1s }\n"));
	assert_errors(HEAD
		      "faults:\n  - { kind: stop, target: { cgroup: system.slice }, for: 1s }\n"
		      "  - { kind: stop, target: { cgroup: /a/../b }, for: 1s, name: b }\n",
		      "t.yaml:4:37: 'target.cgroup' must be an absolute cgroup path such as "
		      "'/system.slice/redis.service', got 'system.slice'",
		      "t.yaml:5:37: 'target.cgroup' must be an absolute cgroup path such as "
		      "'/system.slice/redis.service', got '/a/../b'");
}

static void test_multiple_errors(void **state)
{
	/* all at once, in file order, whatever order the checks run in */
	assert_errors(
		"name: bad name\n"
		"fualts:\n"
		"steady_state:\n"
		"  probes:\n"
		"    - { name: p, exec: [x], every: fast }\n"
		"faults:\n"
		"  - { kind: kill, target: { pid: 1 }, signal: NOPE, for: -1s }\n"
		"stop_when:\n"
		"  - { probe: q, failing_for: 0 }\n",
		"t.yaml:1:1: missing required key 'version'",
		"t.yaml:1:7: invalid scenario name 'bad name': use 1-63 characters of A-Z, "
		"a-z, 0-9, '.', '_' and '-'",
		"t.yaml:2:1: unknown key 'fualts' (did you mean 'faults'?)",
		"t.yaml:5:36: 'every' must be a duration such as '500ms' or '2s', got 'fast'",
		"t.yaml:7:34: refusing to target PID 1",
		"t.yaml:7:47: 'signal' must be a signal name or number such as 'SIGTERM', got "
		"'NOPE'",
		"t.yaml:7:58: 'for' cannot be negative",
		"t.yaml:9:14: unknown probe 'q' (did you mean 'p'?)",
		"t.yaml:9:30: 'failing_for' must be more than 0");
}

static void test_alias(void **state)
{
	assert_errors(HEAD "description: &d hello\nfaults:\n  - *d\n",
		      "t.yaml:5:5: aliases are not supported");
}

static void test_deep_nesting(void **state)
{
	char yaml[200];

	memset(yaml, '[', 100);
	memset(yaml + 100, ']', 99);
	yaml[199] = '\0';
	assert_errors(yaml, "t.yaml:1:33: nesting deeper than 32 levels is not supported");
}

static void test_stop_when_and_expect(void **state)
{
	assert_errors(HEAD "steady_state:\n  probes:\n    - name: checkout\n      exec: [x]\n"
			   "      expect: { success_rate: '>= 101%' }\n"
			   "    - { name: b, exec: [x], expect: { success_rate: lots } }\n"
			   "stop_when:\n  - { probe: chekout }\n",
		      "t.yaml:7:31: 'success_rate' must be between 0% and 100%, got '>= 101%'",
		      "t.yaml:8:53: 'success_rate' must be a percentage such as '>= 99%' or a "
		      "fraction such as '0.99', got 'lots'",
		      "t.yaml:10:5: a stop condition needs exactly one of 'failing_for' or 'error_rate'",
		      "t.yaml:10:14: unknown probe 'chekout' (did you mean 'checkout'?)");
}

static void test_expect_phases(void **state)
{
	struct fl_scenario *s = load_ok(
		HEAD "steady_state:\n  probes:\n"
		     "    - name: p\n      tcp: { host: 127.0.0.1, port: 80 }\n"
		     "      expect:\n"
		     "        success_rate: \">= 99%\"\n"
		     "        latency_p99: \"<= 300ms\"\n"
		     "        faults: { success_rate: 50%, latency_max: 2s, tolerance: 10% }\n"
		     "        recovery: { latency_p50: 10ms }\n"
		     "stop_when:\n  - { probe: p, error_rate: \"> 50%\", window: 5s }\n");
	const struct fl_probe *p = &s->probes[0];

	assert_true(p->expect[0].set[FL_M_SUCCESS]);
	assert_true(p->expect[0].threshold[FL_M_SUCCESS] > 0.9899);
	assert_true(p->success_rate > 0.9899);
	assert_true(p->expect[0].set[FL_M_P99]);
	assert_true(p->expect[0].threshold[FL_M_P99] == 0.3);
	assert_false(p->expect[0].set[FL_M_P50]);
	assert_true(p->expect[1].set[FL_M_SUCCESS] && p->expect[1].threshold[FL_M_SUCCESS] == 0.5);
	assert_true(p->expect[1].set[FL_M_MAX] && p->expect[1].threshold[FL_M_MAX] == 2.0);
	assert_true(p->expect[1].tolerance > 0.0999 && p->expect[1].tolerance < 0.1001);
	assert_true(p->expect[2].set[FL_M_P50] && p->expect[2].threshold[FL_M_P50] == 0.01);
	assert_false(p->expect[2].set[FL_M_SUCCESS]);
	assert_true(s->stops[0].error_rate == 0.5);
	assert_int_equal(s->stops[0].window_ns, 5 * NSEC_PER_SEC);
	fl_scenario_free(s);
}

static void test_expect_errors(void **state)
{
	assert_errors(HEAD "steady_state:\n  probes:\n"
			   "    - name: p\n      tcp: { host: 127.0.0.1, port: 80 }\n"
			   "      expect:\n"
			   "        latency_p99: \">= 3ms\"\n"
			   "        faults: { baseline: {}, latency_p42: 1s }\n"
			   "stop_when:\n  - { probe: p, failing_for: 1s, error_rate: 5% }\n"
			   "  - { probe: p, error_rate: 0% }\n",
		      "t.yaml:8:22: 'latency_p99' is an upper bound: write '<= 3ms'",
		      "t.yaml:9:19: unknown key 'baseline'",
		      "t.yaml:9:33: unknown key 'latency_p42' (did you mean 'latency_p50'?)",
		      "t.yaml:11:5: a stop condition needs exactly one of 'failing_for' or "
		      "'error_rate'",
		      "t.yaml:12:29: 'error_rate' must be a share above 0 such as '> 50%', got '0%'");
}

static void test_fault_backend(void **state)
{
	struct fl_scenario *s = load_ok(HEAD "faults:\n"
					      "  - { kind: stop, backend: pidfd, target: { pid: 42 }, for: 1s }\n"
					      "  - { name: k, kind: kill, target: { pid: 42 }, for: 1s }\n");

	assert_true(s->faults[0].backend_explicit);
	assert_string_equal(s->faults[0].backend->name, "pidfd");
	assert_false(s->faults[1].backend_explicit);
	assert_string_equal(s->faults[1].backend->name, "pidfd");
	fl_scenario_free(s);
	assert_errors(HEAD "faults:\n  - { kind: kill, backend: netem, target: { pid: 42 }, for: 1s }\n",
		      "t.yaml:4:28: 'kill' faults have no backend 'netem' (implemented: pidfd)");
}

static void test_misc_top_level(void **state)
{
	assert_errors(
		HEAD "seed: -1\nhosts: [local, db1.example.com]\n",
		"t.yaml:3:7: 'seed' must be a number from 0 to 18446744073709551615, got '-1'",
		"t.yaml:4:16: host 'db1.example.com' needs a mapping: { name, address, groups, "
		"transport } ('local' is the only bare name)");
	assert_errors(
		"version: 1\nname: 0123456789012345678901234567890123456789012345678901234567"
		"890123\n",
		"t.yaml:2:7: invalid scenario name '012345678901234567890123456789012345678901"
		"2345678901234567890123': use 1-63 characters of A-Z, a-z, 0-9, '.', '_' and "
		"'-'");
}

static void test_load_file(void **state)
{
	char dir[] = "/tmp/fl-test-XXXXXX", path[64];
	struct fl_errors e = { 0 };
	struct fl_scenario *s = NULL;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(HEAD, f);
	fclose(f);
	assert_int_equal(fl_scenario_load_file(path, &s, &e), 0);
	assert_string_equal(s->file, path);
	assert_string_equal(s->dir, dir);
	s = fl_scenario_free(s);
	unlink(path);
	assert_int_equal(fl_scenario_load_file(path, &s, &e), -ENOENT);
	assert_null(s);
	assert_int_equal(e.n, 1);
	assert_true(strstr(e.v[0].text, "s.yaml: cannot read the scenario: ") != NULL);
	fl_errors_clear(&e);
	rmdir(dir);
}

static void test_too_large(void **state)
{
	size_t len = FL_MAX_FILE_SIZE + 1;
	char *buf = malloc(len);
	struct fl_errors e = { 0 };
	struct fl_scenario *s = NULL;

	assert_non_null(buf);
	memset(buf, '#', len);
	assert_int_equal(fl_scenario_load_string("t.yaml", buf, len, &s, &e), -EINVAL);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.v[0].text,
			    "t.yaml: scenario is too large (1048577 bytes, at most 1048576)");
	fl_errors_clear(&e);
	free(buf);
}

/* `faultline inject` builds the same parameters from flags: messages name the flag. */
static void test_cli_params(void **state)
{
	struct fl_params p = { .where = { .flag = "inject" } };
	struct fl_where kind = { .flag = "KIND" }, pid = { .flag = "--pid" },
			sig = { .flag = "--signal" }, fr = { .flag = "--for" },
			bogus = { .flag = "--intervl" };
	struct fl_errors e = { 0 };
	struct fl_fault f = { 0 };

	assert_int_equal(fl_params_add(&p, "kind", "kill", &kind), 0);
	assert_int_equal(fl_params_add(&p, "target.pid", "1", &pid), 0);
	assert_int_equal(fl_params_add(&p, "signal", "SIGNOPE", &sig), 0);
	assert_int_equal(fl_params_add(&p, "for", "fast", &fr), 0);
	assert_int_equal(fl_params_add(&p, "intervl", "1s", &bogus), 0);
	assert_int_equal(fl_fault_from_params(&p, NULL, &f, &e), -EINVAL);
	assert_null(f.name);
	assert_int_equal(e.n, 4);
	assert_string_equal(e.v[0].text,
			    "--for: 'for' must be a duration such as '500ms' or '2s', got 'fast'");
	assert_string_equal(e.v[1].text, "--pid: refusing to target PID 1");
	assert_string_equal(e.v[2].text, "--signal: 'signal' must be a signal name or number such "
					 "as 'SIGTERM', got 'SIGNOPE'");
	assert_string_equal(e.v[3].text, "--intervl: unknown key 'intervl' (did you mean "
					 "'interval'?)");
	fl_errors_clear(&e);
	fl_params_clear(&p);

	/* a missing key is reported where the whole command line is */
	p = (struct fl_params){ .where = { .flag = "inject" } };
	assert_int_equal(fl_params_add(&p, "kind", "latncy", &kind), 0);
	assert_int_equal(fl_fault_from_params(&p, NULL, &f, &e), -EINVAL);
	assert_int_equal(e.n, 2);
	assert_string_equal(e.v[0].text,
			    "KIND: unknown fault kind 'latncy' (did you mean 'latency'?)");
	assert_string_equal(e.v[1].text, "inject: a fault needs 'for' (how long it lasts)");
	fl_errors_clear(&e);
	fl_params_clear(&p);

	/* valid: the fault owns a copy of the parameters; validating twice is the same */
	p = (struct fl_params){ .where = { .flag = "inject" } };
	assert_int_equal(fl_params_add(&p, "kind", "kill", &kind), 0);
	assert_int_equal(fl_params_add(&p, "target.name", "sleep", &pid), 0);
	assert_int_equal(fl_params_add(&p, "signal", "TERM", &sig), 0);
	assert_int_equal(fl_params_add(&p, "for", "2s", &fr), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(fl_fault_from_params(&p, NULL, &f, &e), 0);
		assert_int_equal(e.n, 0);
		assert_string_equal(f.name, "kill");
		assert_string_equal(f.target.name, "sleep");
		assert_int_equal(f.for_ns, 2 * S);
		assert_int_equal(f.params.n, 4);
		assert_ptr_not_equal(f.params.v, p.v);
		assert_string_equal(f.params.v[2].value, "TERM");
		assert_string_equal(f.params.v[2].where.flag, "--signal");
		fl_fault_clear(&f);
		assert_null(f.name);
	}
	fl_fault_clear(&f); /* idempotent */
	fl_params_clear(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_comments_only),
		cmocka_unit_test(test_not_yaml),
		cmocka_unit_test(test_top_level_sequence),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_unknown_kind),
		cmocka_unit_test(test_unimplemented_kind),
		cmocka_unit_test(test_negative_duration),
		cmocka_unit_test(test_huge_duration),
		cmocka_unit_test(test_bad_duration),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_duplicate_probe),
		cmocka_unit_test(test_duplicate_fault),
		cmocka_unit_test(test_missing_version),
		cmocka_unit_test(test_version_2),
		cmocka_unit_test(test_lab_host_names),
		cmocka_unit_test(test_on_unknown_host),
		cmocka_unit_test(test_from_without_lab),
		cmocka_unit_test(test_too_many_hosts),
		cmocka_unit_test(test_too_many_args),
		cmocka_unit_test(test_pid),
		cmocka_unit_test(test_bad_regex),
		cmocka_unit_test(test_multiple_errors),
		cmocka_unit_test(test_alias),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_stop_when_and_expect),
		cmocka_unit_test(test_misc_top_level),
		cmocka_unit_test(test_expect_phases),
		cmocka_unit_test(test_fault_backend),
		cmocka_unit_test(test_expect_errors),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_cli_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
