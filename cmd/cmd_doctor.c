// SPDX-License-Identifier: GPL-2.0-only
/* `faultline doctor`: what this host can do, and which backend each fault kind would use. */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "inject/doctor.h"
#include "inject/injector.h"
#include "inject/log.h"
#include "inject/util.h"

const char cmd_doctor_usage[] =
	"Usage: faultline doctor [--json] [--timeout DURATION]\n"
	"\n"
	"Probe what this host's kernel and privileges allow, then show for each fault kind the\n"
	"backend faultline would use, or why none can run. Every probe is real, never a guess\n"
	"from the kernel version: BPF programs are loaded (and attached for a moment), seccomp\n"
	"filters are installed in throwaway children, and tc programs, qdiscs, links and NFQUEUE\n"
	"bindings are made in a scratch network namespace that dies with its probe process.\n"
	"Nothing is left behind. Without root, the privileged probes are reported as missing\n"
	"with \"needs root\". It takes about a second.\n"
	"\n"
	"A backend's status is \"available\", \"missing\" (with the capability that is not there)\n"
	"or \"not-implemented\" (planned by the design, not in this version).\n"
	"\n"
	"Options:\n"
	"  --json             print the report as JSON on stdout: {\"kernel\", \"elapsed_ms\",\n"
	"                     \"capabilities\": [{\"id\", \"ok\", \"detail\"}], \"kinds\": [{\"kind\",\n"
	"                     \"backend\" (null if none), \"reason\", \"backends\": [{\"name\",\n"
	"                     \"status\", \"host_ok\", \"detail\"}]}]}\n"
	"  --timeout DURATION how long the probes in child processes may take before they are\n"
	"                     killed and reported as timed out (default 1.5s, at most 60s)\n"
	"  -v, --verbose      log every probe with libbpf's and the verifier's messages (stderr)\n"
	"  -h, --help         this help\n"
	"\n"
	"Exit status: 0 when the probes ran, even if features are missing; 2 usage error;\n"
	"5 internal error.\n"
	"\n"
	"Examples:\n"
	"  sudo faultline doctor\n"
	"  sudo faultline doctor --json | jq -r '.kinds[] | \"\\(.kind) \\(.backend // \"-\")\"'\n"
	"  sudo faultline doctor --json | jq '.capabilities[] | select(.ok | not)'\n"
	"  sudo faultline doctor --json | jq -r '.capabilities[] | select(.id == \"netem\").detail'\n"
	"  faultline doctor --timeout 10s     # a slow (emulated) machine\n"
	"  faultline doctor -v 2>probe.log   # as a normal user: privileged probes say \"needs root\"\n";

static const struct fl_cmd *self(void)
{
	return fl_cmd_find("doctor");
}

#define TIMEOUT_MAX (60 * NSEC_PER_SEC)

/* The shared options (--json, -v, --help) are gone by now. */
static int parse_args(int argc, char **argv, uint64_t *ret_budget)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		uint64_t ns;

		if (!strcmp(a, "--timeout") || !strncmp(a, "--timeout=", 10)) {
			v = a[9] == '=' ? a + 10 : (i + 1 < argc ? argv[++i] : NULL);
			if (!v)
				return fl_usage_error(self(), "--timeout needs a duration, like '5s'");
			if (fl_parse_duration(v, &ns) < 0 || ns == 0 || ns > TIMEOUT_MAX)
				return fl_usage_error(self(),
						      "invalid --timeout '%s': a duration from 1ms "
						      "to 60s, like '1.5s'",
						      v);
			*ret_budget = ns;
		} else if (a[0] == '-' && a[1]) {
			return fl_usage_error(self(), "unknown option '%s'", a);
		} else {
			return fl_usage_error(self(), "unexpected argument '%s'", a);
		}
	}
	return 0;
}

static int eval_all(const struct fl_caps *caps, struct fl_kind_report **ret, size_t *ret_n)
{
	const struct fl_kind_info *const *kinds = fl_kinds();
	_cleanup_free_ struct fl_kind_report *reps = NULL;
	size_t n = 0;
	int r;

	while (kinds && kinds[n])
		n++;
	reps = calloc(n ? n : 1, sizeof(*reps));
	if (!reps)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		r = fl_doctor_eval_kind(kinds[i], caps, &reps[i]);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(reps);
	*ret_n = n;
	return 0;
}

static int print_json(const struct fl_caps *caps, const struct fl_kind_report *reps, size_t n)
{
	_cleanup_(json_decrefp) json_t *root = NULL;
	json_t *capv, *kinds;

	root = json_pack("{s:s, s:I, s:[], s:[]}", "kernel", caps->kernel, "elapsed_ms",
			 (json_int_t)(caps->elapsed_ns / NSEC_PER_MSEC), "capabilities", "kinds");
	if (!root)
		return -ENOMEM;
	capv = json_object_get(root, "capabilities");
	kinds = json_object_get(root, "kinds");
	for (int id = FL_CAP_NONE + 1; id < _FL_CAP_MAX; id++) {
		const struct fl_cap_result *c = &caps->cap[id];

		if (json_array_append_new(capv, json_pack("{s:s, s:b, s:s}", "id",
							  fl_cap_name((enum fl_cap_id)id), "ok",
							  c->ok, "detail", c->detail)) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct fl_kind_report *k = &reps[i];
		json_t *backends = json_array(), *kind;

		for (size_t j = 0; backends && j < k->n_backends; j++) {
			const struct fl_backend_report *b = &k->backends[j];

			if (json_array_append_new(backends,
						  json_pack("{s:s, s:s, s:b, s:s}", "name", b->name,
							    "status",
							    fl_backend_status_name(b->status),
							    "host_ok", b->host_ok, "detail",
							    b->detail)) < 0) {
				json_decref(backends);
				return -ENOMEM;
			}
		}
		kind = json_pack("{s:s, s:s?, s:s, s:o}", "kind", k->kind, "backend", k->backend,
				 "reason", k->reason, "backends", backends);
		if (json_array_append_new(kinds, kind) < 0)
			return -ENOMEM;
	}
	if (json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
		return -EIO;
	fputc('\n', stdout);
	return 0;
}

static void print_text(const struct fl_caps *caps, const struct fl_kind_report *reps, size_t n)
{
	int w = 0;

	for (int id = FL_CAP_NONE + 1; id < _FL_CAP_MAX; id++) {
		int l = (int)strlen(fl_cap_name((enum fl_cap_id)id));

		w = l > w ? l : w;
	}
	printf("kernel %s (%s), probed in %llu ms\n\n", caps->kernel, caps->machine,
	       (unsigned long long)(caps->elapsed_ns / NSEC_PER_MSEC));
	printf("capabilities\n");
	for (int id = FL_CAP_NONE + 1; id < _FL_CAP_MAX; id++) {
		const struct fl_cap_result *c = &caps->cap[id];

		printf("  %-*s  %-3s  %s\n", w, fl_cap_name((enum fl_cap_id)id),
		       c->ok ? "ok" : "no", c->detail);
	}

	printf("\nfault kinds\n");
	for (size_t i = 0; i < n; i++) {
		const struct fl_kind_report *k = &reps[i];

		printf("  %-12s %-8s %s\n", k->kind, k->backend ? k->backend : "none", k->reason);
		for (size_t j = 0; j < k->n_backends; j++) {
			const struct fl_backend_report *b = &k->backends[j];

			switch (b->status) {
			case FL_BACKEND_AVAILABLE:
				printf("      %-15s available\n", b->name);
				break;
			case FL_BACKEND_MISSING:
				printf("      %-15s missing: %s\n", b->name, b->detail);
				break;
			case FL_BACKEND_NOT_IMPLEMENTED:
				printf("      %-15s %s\n", b->name, b->detail);
				break;
			}
		}
	}
}

int cmd_doctor(int argc, char **argv, struct fl_cli *cli)
{
	_cleanup_free_ struct fl_caps *caps = NULL;
	_cleanup_free_ struct fl_kind_report *reps = NULL;
	uint64_t budget = FL_DOCTOR_BUDGET_NS;
	size_t n = 0;
	int r;

	r = parse_args(argc, argv, &budget);
	if (r)
		return r;
	caps = calloc(1, sizeof(*caps));
	if (!caps) {
		log_error("doctor: out of memory");
		return FL_EXIT_INTERNAL;
	}
	r = fl_doctor_probe(caps, budget);
	if (r < 0) {
		log_error("doctor: probing failed: %s", strerror(-r));
		return FL_EXIT_INTERNAL;
	}
	r = eval_all(caps, &reps, &n);
	if (r < 0) {
		log_error("doctor: cannot evaluate the fault kinds: %s", strerror(-r));
		return FL_EXIT_INTERNAL;
	}
	if (cli->json) {
		r = print_json(caps, reps, n);
		if (r < 0) {
			log_error("doctor: cannot write JSON: %s", strerror(-r));
			return FL_EXIT_INTERNAL;
		}
	} else {
		print_text(caps, reps, n);
	}
	if (fflush(stdout) != 0) {
		log_error("doctor: cannot write the report: %m");
		return FL_EXIT_INTERNAL;
	}
	return FL_EXIT_OK;
}
