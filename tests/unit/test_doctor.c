// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests: doctor's backend choice per fault kind, from synthetic capability sets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "inject/doctor.h"

#define PLANNED(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define BUILT(...) ((const struct fl_backend *const[]){ __VA_ARGS__, NULL })
#define NONE ((const struct fl_backend *const[]){ NULL })

/* Only the name matters to doctor. */
static const struct fl_backend b_netem = { .kind = "latency", .name = "netem" };
static const struct fl_backend b_nfqueue = { .kind = "latency", .name = "nfqueue" };
static const struct fl_backend b_signal = { .kind = "crash-point", .name = "bpf-signal" };
static const struct fl_backend b_fuse = { .kind = "io-latency", .name = "fuse" };
static const struct fl_backend b_lsm = { .kind = "disk-error", .name = "bpf-lsm" };
static const struct fl_backend b_magic = { .kind = "latency", .name = "magic" };

/* A host where everything works; tests knock capabilities out. */
static struct fl_caps *all_caps(void)
{
	struct fl_caps *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	for (int i = FL_CAP_NONE + 1; i < _FL_CAP_MAX; i++) {
		c->cap[i].ok = true;
		snprintf(c->cap[i].detail, sizeof(c->cap[i].detail), "%s works",
			 fl_cap_name((enum fl_cap_id)i));
	}
	return c;
}

static void knock_out(struct fl_caps *c, enum fl_cap_id id, const char *detail)
{
	c->cap[id].ok = false;
	snprintf(c->cap[id].detail, sizeof(c->cap[id].detail), "%s", detail);
}

static const struct fl_backend_report *backend(const struct fl_kind_report *r, const char *name)
{
	for (size_t i = 0; i < r->n_backends; i++)
		if (!strcmp(r->backends[i].name, name))
			return &r->backends[i];
	fail_msg("no backend '%s' in the report", name);
	return NULL;
}

static void cap_names_round_trip(void **state)
{
	assert_null(fl_cap_name(FL_CAP_NONE));
	assert_null(fl_cap_name(_FL_CAP_MAX));
	for (int i = FL_CAP_NONE + 1; i < _FL_CAP_MAX; i++) {
		const char *n = fl_cap_name((enum fl_cap_id)i);

		assert_non_null(n);
		assert_int_equal(fl_cap_from_name(n), i);
		for (int k = i + 1; k < _FL_CAP_MAX; k++)
			assert_string_not_equal(n, fl_cap_name((enum fl_cap_id)k));
	}
	assert_int_equal(fl_cap_from_name("no-such-cap"), FL_CAP_NONE);
	assert_int_equal(fl_cap_from_name(NULL), FL_CAP_NONE);
	assert_string_equal(fl_backend_status_name(FL_BACKEND_AVAILABLE), "available");
	assert_string_equal(fl_backend_status_name(FL_BACKEND_MISSING), "missing");
	assert_string_equal(fl_backend_status_name(FL_BACKEND_NOT_IMPLEMENTED), "not-implemented");
}

/* The registry and doctor's table must speak the same backend names. */
static void registry_backends_are_known(void **state)
{
	for (const struct fl_kind_info *const *k = fl_kinds(); *k; k++) {
		for (const char *const *p = (*k)->planned; p && *p; p++)
			if (!fl_doctor_backend_known(*p))
				fail_msg("kind '%s': doctor has no requirements for planned '%s'",
					 (*k)->kind, *p);
		for (const struct fl_backend *const *b = (*k)->backends; b && *b; b++)
			if (!fl_doctor_backend_known((*b)->name))
				fail_msg("kind '%s': doctor has no requirements for built '%s'",
					 (*k)->kind, (*b)->name);
	}
	assert_false(fl_doctor_backend_known("magic"));
	assert_false(fl_doctor_backend_known(NULL));
}

static void first_available_wins(void **state)
{
	struct fl_kind_info k = { "latency", "", PLANNED("netem", "nfqueue", "seccomp-notify"),
				  BUILT(&b_netem, &b_nfqueue) };
	struct fl_caps *c = all_caps();
	struct fl_kind_report r;

	assert_int_equal(fl_doctor_eval_kind(&k, c, &r), 0);
	assert_string_equal(r.kind, "latency");
	assert_string_equal(r.backend, "netem");
	assert_int_equal(r.n_backends, 3);
	assert_string_equal(r.backends[0].name, "netem");
	assert_string_equal(r.backends[1].name, "nfqueue");
	assert_string_equal(r.backends[2].name, "seccomp-notify");
	assert_int_equal(r.backends[0].status, FL_BACKEND_AVAILABLE);
	assert_int_equal(r.backends[1].status, FL_BACKEND_AVAILABLE);
	assert_int_equal(r.backends[2].status, FL_BACKEND_NOT_IMPLEMENTED);
	assert_true(r.backends[2].host_ok);
	assert_string_equal(r.reason, "'netem' is the preferred backend and is available");
	free(c);
}

static void falls_back_when_a_capability_is_missing(void **state)
{
	struct fl_kind_info k = { "latency", "", PLANNED("netem", "nfqueue", "seccomp-notify"),
				  BUILT(&b_netem, &b_nfqueue) };
	struct fl_caps *c = all_caps();
	struct fl_kind_report r;

	knock_out(c, FL_CAP_NETEM, "kernel: \"Specified qdisc kind is unknown\" (ENOENT)");
	assert_int_equal(fl_doctor_eval_kind(&k, c, &r), 0);
	assert_string_equal(r.backend, "nfqueue");
	assert_int_equal(backend(&r, "netem")->status, FL_BACKEND_MISSING);
	assert_string_equal(backend(&r, "netem")->detail,
			    "netem: kernel: \"Specified qdisc kind is unknown\" (ENOENT)");
	assert_string_equal(r.reason, "'nfqueue' is available; preferred 'netem' needs netem");

	/* nfqueue needs both the queue and the iptables rule */
	knock_out(c, FL_CAP_IPTABLES_NFQUEUE, "no iptables binary in PATH or sbin");
	assert_int_equal(fl_doctor_eval_kind(&k, c, &r), 0);
	assert_null(r.backend);
	assert_int_equal(backend(&r, "nfqueue")->status, FL_BACKEND_MISSING);
	assert_non_null(strstr(backend(&r, "nfqueue")->detail,
			       "iptables-nfqueue: no iptables binary"));
	assert_string_equal(r.reason, "no implemented backend can run here: 'netem' needs netem, "
				      "'nfqueue' needs iptables-nfqueue; this host could run: "
				      "seccomp-notify");
	free(c);
}

static void unimplemented_is_never_chosen(void **state)
{
	struct fl_kind_info k = { "latency", "", PLANNED("netem", "nfqueue", "seccomp-notify"),
				  NONE };
	struct fl_caps *c = all_caps();
	struct fl_kind_report r;

	knock_out(c, FL_CAP_NETEM, "no sch_netem");
	assert_int_equal(fl_doctor_eval_kind(&k, c, &r), 0);
	assert_null(r.backend);
	for (size_t i = 0; i < r.n_backends; i++)
		assert_int_equal(r.backends[i].status, FL_BACKEND_NOT_IMPLEMENTED);
	assert_false(backend(&r, "netem")->host_ok);
	assert_string_equal(backend(&r, "netem")->detail,
			    "not implemented in this version (this host also lacks netem)");
	assert_true(backend(&r, "nfqueue")->host_ok);
	assert_string_equal(r.reason, "no backend for it is implemented in this version; this "
				      "host could run: nfqueue, seccomp-notify");
	free(c);
}

static void missing_privilege_names_the_capability(void **state)
{
	struct fl_kind_info k = { "latency", "", PLANNED("netem", "nfqueue", "seccomp-notify"),
				  BUILT(&b_netem) };
	struct fl_caps *c = all_caps();
	struct fl_kind_report r;

	knock_out(c, FL_CAP_NET_ADMIN, "needs root");
	assert_int_equal(fl_doctor_eval_kind(&k, c, &r), 0);
	/* seccomp-notify would fit, but it is not built */
	assert_null(r.backend);
	assert_string_equal(backend(&r, "netem")->detail, "cap-net-admin: needs root");
	free(c);
}

static void any_of_requirements(void **state)
{
	struct fl_kind_info k = { "crash-point", "", PLANNED("bpf-signal"), BUILT(&b_signal) };
	struct fl_caps *c = all_caps();
	struct fl_kind_report r;

	knock_out(c, FL_CAP_TP_BTF_SIGNAL, "tp_btf refused");
	assert_int_equal(fl_doctor_eval_kind(&k, c, &r), 0);
	assert_string_equal(r.backend, "bpf-signal");

	knock_out(c, FL_CAP_TRACEPOINT_SIGNAL, "no tracefs");
	assert_int_equal(fl_doctor_eval_kind(&k, c, &r), 0);
	assert_null(r.backend);
	assert_string_equal(r.backends[0].detail,
			    "tp-btf-signal: tp_btf refused; tracepoint-signal: no tracefs");
	assert_string_equal(r.reason, "no implemented backend can run here: 'bpf-signal' needs "
				      "tp-btf-signal or tracepoint-signal");
	free(c);
}

static void fuse_needs_root_or_fusermount(void **state)
{
	struct fl_kind_info k = { "io-latency", "", PLANNED("fuse", "seccomp-notify"),
				  BUILT(&b_fuse) };
	struct fl_caps *c = all_caps();
	struct fl_kind_report r;

	knock_out(c, FL_CAP_ROOT, "euid 1000");
	assert_int_equal(fl_doctor_eval_kind(&k, c, &r), 0);
	assert_string_equal(r.backend, "fuse");

	knock_out(c, FL_CAP_FUSERMOUNT, "no fusermount3 in PATH (fuse3)");
	assert_int_equal(fl_doctor_eval_kind(&k, c, &r), 0);
	assert_null(r.backend);
	assert_int_equal(r.backends[0].status, FL_BACKEND_MISSING);

	c->cap[FL_CAP_ROOT].ok = true;
	knock_out(c, FL_CAP_DEV_FUSE, "open /dev/fuse: ENOENT");
	assert_int_equal(fl_doctor_eval_kind(&k, c, &r), 0);
	assert_null(r.backend);
	assert_string_equal(r.backends[0].detail, "dev-fuse: open /dev/fuse: ENOENT");
	free(c);
}

/* Debian with lsm= lacking "bpf": the program loads, but would never be called. */
static void bpf_lsm_must_be_active(void **state)
{
	struct fl_kind_info k = { "disk-error", "", PLANNED("bpf-lsm", "fmod-ret", "fuse", "seccomp"),
				  BUILT(&b_lsm, &b_fuse) };
	struct fl_caps *c = all_caps();
	struct fl_kind_report r;

	knock_out(c, FL_CAP_BPF_LSM_ACTIVE, "no 'bpf' in active LSMs: capability,apparmor");
	assert_int_equal(fl_doctor_eval_kind(&k, c, &r), 0);
	assert_string_equal(r.backend, "fuse");
	assert_int_equal(backend(&r, "bpf-lsm")->status, FL_BACKEND_MISSING);
	assert_int_equal(backend(&r, "fmod-ret")->status, FL_BACKEND_NOT_IMPLEMENTED);
	assert_string_equal(r.reason, "'fuse' is available; preferred 'bpf-lsm' needs "
				      "bpf-lsm-active, 'fmod-ret' not implemented in this version");
	free(c);
}

static void unknown_and_unplanned_backends(void **state)
{
	/* built but not in the plan: reported after the plan, never invented */
	struct fl_kind_info k = { "latency", "", PLANNED("netem", "nfqueue"),
				  BUILT(&b_magic, &b_netem) };
	/* planned but unknown to doctor */
	struct fl_kind_info u = { "latency", "", PLANNED("magic"), BUILT(&b_magic) };
	struct fl_kind_info none = { "odd", "", PLANNED(NULL), NONE };
	struct fl_caps *c = all_caps();
	struct fl_kind_report r;

	assert_int_equal(fl_doctor_eval_kind(&k, c, &r), 0);
	assert_int_equal(r.n_backends, 3);
	assert_string_equal(r.backends[2].name, "magic");
	assert_string_equal(r.backend, "netem");

	knock_out(c, FL_CAP_NETEM, "no sch_netem");
	assert_int_equal(fl_doctor_eval_kind(&k, c, &r), 0);
	assert_null(r.backend);
	assert_int_equal(backend(&r, "magic")->status, FL_BACKEND_MISSING);
	assert_string_equal(backend(&r, "magic")->detail, "doctor does not know what 'magic' needs");

	assert_int_equal(fl_doctor_eval_kind(&u, c, &r), 0);
	assert_null(r.backend);

	assert_int_equal(fl_doctor_eval_kind(&none, c, &r), 0);
	assert_null(r.backend);
	assert_int_equal(r.n_backends, 0);
	assert_string_equal(r.reason, "no backend is planned for this kind");
	free(c);
}

static void too_many_backends(void **state)
{
	struct fl_kind_info k = { "x", "",
				  PLANNED("pidfd", "pidfd", "pidfd", "pidfd", "pidfd", "pidfd",
					  "pidfd", "pidfd", "pidfd"),
				  NONE };
	struct fl_caps *c = all_caps();
	struct fl_kind_report r;

	assert_int_equal(fl_doctor_eval_kind(&k, c, &r), -E2BIG);
	free(c);
}

/* The real registry: kill and stop run through pidfd, and only if pidfd works. */
static void registry_kill_and_stop(void **state)
{
	struct fl_caps *c = all_caps();
	struct fl_kind_report r;
	int seen = 0;

	for (const struct fl_kind_info *const *k = fl_kinds(); *k; k++) {
		if (strcmp((*k)->kind, "kill") && strcmp((*k)->kind, "stop"))
			continue;
		seen++;
		assert_int_equal(fl_doctor_eval_kind(*k, c, &r), 0);
		assert_string_equal(r.backend, "pidfd");
	}
	assert_int_equal(seen, 2);

	knock_out(c, FL_CAP_PIDFD, "pidfd_open: ENOSYS");
	for (const struct fl_kind_info *const *k = fl_kinds(); *k; k++) {
		if (strcmp((*k)->kind, "kill"))
			continue;
		assert_int_equal(fl_doctor_eval_kind(*k, c, &r), 0);
		assert_null(r.backend);
		assert_string_equal(r.backends[0].detail, "pidfd: pidfd_open: ENOSYS");
	}
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cap_names_round_trip),
		cmocka_unit_test(registry_backends_are_known),
		cmocka_unit_test(first_available_wins),
		cmocka_unit_test(falls_back_when_a_capability_is_missing),
		cmocka_unit_test(unimplemented_is_never_chosen),
		cmocka_unit_test(missing_privilege_names_the_capability),
		cmocka_unit_test(any_of_requirements),
		cmocka_unit_test(fuse_needs_root_or_fusermount),
		cmocka_unit_test(bpf_lsm_must_be_active),
		cmocka_unit_test(unknown_and_unplanned_backends),
		cmocka_unit_test(too_many_backends),
		cmocka_unit_test(registry_kill_and_stop),
	};
	return cmocka_run_group_tests_name("doctor", tests, NULL, NULL);
}
