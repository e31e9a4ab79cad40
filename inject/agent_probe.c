// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent's probe operation: one sample of a tcp or http probe from this host, through the
 * same probe code a scenario's steady state uses (reports/probe*.c). The probe object becomes
 * a one-probe scenario document (JSON, which the YAML loader reads), so every check the loader
 * makes on a probe (URL, port, timeout) applies here too.
 */
#include <errno.h>
#include <string.h>

#include "inject/agent.h"
#include "inject/loop.h"
#include "inject/netutil.h"
#include "reports/probe.h"
#include "scenarios/scenario.h"

struct once {
	struct fl_sample s;
	bool done;
	struct fl_loop *loop;
};

static void on_sample(struct fl_probe_rt *p, const struct fl_sample *s, void *ud)
{
	struct once *o = ud;

	if (o->done)
		return;
	o->s = *s;
	o->done = true;
	fl_loop_exit(o->loop, 0);
}

static int on_give_up(struct fl_source *src, uint64_t now, void *ud)
{
	struct once *o = ud;

	fl_loop_exit(o->loop, 0);
	return 0;
}

int fl_agent_probe_once(json_t *probe, uint64_t timeout_ns, json_t **ret, char **ret_reason)
{
	const char *tcp = json_string_value(json_object_get(probe, "tcp"));
	const char *http = json_string_value(json_object_get(probe, "http"));
	char timeout[32], every[32];
	_cleanup_free_ char *doc = NULL;
	struct fl_scenario *sc = NULL;
	struct fl_errors errs = { 0 };
	struct fl_probes *set = NULL;
	struct once o = { 0 };
	json_t *spec, *p;
	int r;

	if (!json_is_object(probe) || !!tcp == !!http || json_object_size(probe) != 1)
		return fl_set_reason(ret_reason, -EINVAL,
				     "probe: give exactly one of {\"tcp\": \"HOST:PORT\"} or "
				     "{\"http\": \"URL\"}");
	snprintf(timeout, sizeof(timeout), "%llums",
		 (unsigned long long)(timeout_ns / NSEC_PER_MSEC));
	snprintf(every, sizeof(every), "%llums",
		 (unsigned long long)(timeout_ns / NSEC_PER_MSEC + 1000));
	p = json_pack("{s:s, s:s, s:s}", "name", "agent-probe", "timeout", timeout, "every", every);
	if (tcp) {
		const char *colon = strrchr(tcp, ':');
		uint64_t port;
		char host[256];
		if (!colon || colon == tcp || fl_parse_uint(colon + 1, 65535, &port) < 0 || !port ||
		    (size_t)(colon - tcp) >= sizeof(host)) {
			json_decref(p);
			return fl_set_reason(ret_reason, -EINVAL,
					     "probe.tcp: give HOST:PORT, got '%.80s'", tcp);
		}
		snprintf(host, sizeof(host), "%.*s", (int)(colon - tcp), tcp);
		if (host[0] == '[' && host[strlen(host) - 1] == ']') {
			memmove(host, host + 1, strlen(host));
			host[strlen(host) - 1] = '\0';
		}
		json_object_set_new(
			p, "tcp", json_pack("{s:s, s:I}", "host", host, "port", (json_int_t)port));
	} else {
		json_object_set_new(p, "http", json_pack("{s:s}", "url", http));
	}
	spec = json_pack("{s:i, s:s, s:{s:s, s:[o]}}", "version", 1, "name", "agent-probe",
			 "steady_state", "baseline", "0s", "probes", p);
	doc = spec ? json_dumps(spec, JSON_COMPACT) : NULL;
	json_decref(spec);
	if (!doc)
		return -ENOMEM;
	r = fl_scenario_load_string("probe", doc, strlen(doc), &sc, &errs);
	if (r < 0 || !sc || sc->n_probes != 1) {
		_cleanup_free_ char *text = fl_agent_errors_text(&errs);
		fl_errors_clear(&errs);
		fl_scenario_free(sc);
		return fl_set_reason(ret_reason, -EINVAL, "probe: %s",
				     text && *text ? text : "invalid");
	}
	fl_errors_clear(&errs);
	r = fl_loop_new(&o.loop);
	if (r >= 0)
		r = fl_probes_start(o.loop, sc, NULL, fl_now_ns(), on_sample, &o, &set, ret_reason);
	if (r >= 0)
		r = fl_loop_add_timer(o.loop, fl_now_ns() + timeout_ns + NSEC_PER_SEC, on_give_up,
				      &o, NULL);
	if (r >= 0)
		r = fl_loop_run(o.loop);
	fl_probes_stop(set);
	fl_probes_free(set);
	fl_loop_free(o.loop);
	fl_scenario_free(sc);
	if (r < 0)
		return r;
	*ret = json_pack("{s:b, s:I, s:s}", "success", o.done && o.s.ok, "latency_ns",
			 (json_int_t)o.s.latency_ns, "error",
			 !o.done  ? "no sample"
			 : o.s.ok ? ""
				  : o.s.reason);
	return *ret ? 0 : -ENOMEM;
}
