/* SPDX-License-Identifier: GPL-2.0-only */
/* Probes: tcp, exec, http and prometheus, each sampled on its own timer in the run's loop. */
#ifndef FL_PROBE_H
#define FL_PROBE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "inject/lab.h"
#include "inject/loop.h"
#include "scenarios/scenario.h"

struct fl_sample {
	uint64_t t_ns;	     /* start, from the run's t0 (CLOCK_MONOTONIC) */
	uint64_t latency_ns; /* until success, failure or timeout */
	bool ok;
	bool has_value; /* prometheus: the query returned a (finite) number */
	double value;
	char reason[96]; /* "connection refused", "HTTP 503", "value 3 > max 1" */
};

struct fl_probes;
struct fl_probe_rt;

/* Called after every sample; the runner evaluates stop conditions here. */
typedef void (*fl_sample_cb)(struct fl_probe_rt *p, const struct fl_sample *s, void *userdata);
/* One `probe` call to the agent of remote host `host` (scenario probes `from` it); blocking,
 * called from a thread of its own. 0 and the reply, or a negative errno and *ret_reason. */
typedef int (*fl_probe_remote_fn)(void *ud, const char *host, json_t *args, json_t **ret_reply,
				  char **ret_reason);

/*
 * Start sampling every probe of s from t0 on. lab may be NULL (probes run in this host's
 * namespaces). Addresses are resolved once, here; an unresolvable host fails with a reason.
 */
/* Probes `from` a remote host run through fn (set before the loop runs). */
void fl_probes_set_remote(struct fl_probes *set, fl_probe_remote_fn fn, void *ud);
int fl_probes_start(struct fl_loop *loop, const struct fl_scenario *s, struct fl_lab_rt *lab,
		    uint64_t t0, fl_sample_cb cb, void *userdata, struct fl_probes **ret,
		    char **ret_reason);
/* Stop sampling: cancel in-flight samples (killing exec probes), keep the samples. */
void fl_probes_stop(struct fl_probes *p);
struct fl_probes *fl_probes_free(struct fl_probes *p);

size_t fl_probes_n(const struct fl_probes *p);
struct fl_probe_rt *fl_probes_get(struct fl_probes *p, size_t i);
const struct fl_probe *fl_probe_spec(const struct fl_probe_rt *p);
const struct fl_sample *fl_probe_samples(const struct fl_probe_rt *p, size_t *ret_n);
/* Start of the current failing streak (t from t0), or UINT64_MAX while healthy. */
uint64_t fl_probe_failing_since(const struct fl_probe_rt *p);

#endif
