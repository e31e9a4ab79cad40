// SPDX-License-Identifier: GPL-2.0-only
/*
 * latency where sch_netem does not exist: an `iptables -j NFQUEUE --queue-bypass` rule (through
 * nft_compat on iptables-nft) sends the matching packets to faultline-nfqd (inject/nfqd.c),
 * which accepts each one after its sampled delay. Placement (KERNEL.md): delaying at the
 * sender's POSTROUTING collapses TCP (queued skbs stay charged to the socket), so ingress on a
 * device (mangle PREROUTING -i) is the default, and a lab host's fault sits at its switch port
 * (mangle FORWARD, -m physdev, with bridge-nf-call-ip(6)tables on in the switch namespace).
 *
 * Rules: first through nf_tables netlink (inject/nfqnft.c), a table of our own per family,
 * faultline-RUN-HANDLE, created and deleted whole in one batch (~0.2 ms, no fork); where the
 * kernel lacks nf_tables or nft_compat's NFQUEUE, iptables-restore as before. The plan records
 * which ("rules": "nftables" | "iptables"), so revert and recover undo what was done.
 * FAULTLINE_NFQ_RULES=iptables|nftables forces one (a debugging knob).
 *
 * Ownership (iptables): the rules live in a chain of our own, FL-HANDLE, entered from the parent
 * chain by one jump at position 1; every rule carries the comment faultline:RUN:HANDLE and revert
 * deletes nothing else. Each family's rules go in with one iptables-restore --noflush (all or
 * none). With nftables the table is ours (created NLM_F_EXCL) and carries the same comment.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "inject/daemon.h"
#include "inject/injector.h"
#include "inject/journal.h"
#include "inject/log.h"
#include "inject/net_netem.h"
#include "inject/netspec.h"
#include "inject/netutil.h"
#include "inject/nfqd.h"
#include "inject/nfqnft.h"
#include "inject/util.h"

#define NFQ_QUEUE_BASE 64000 /* queue numbers 64000..65499: one per fault, from its handle */
#define NFQ_QUEUE_SPAN 1500
#define NFQ_DELAY_MAX (60 * NSEC_PER_SEC)
#define NFQ_STOP_WAIT_MS 1000
#define NFQ_OBSERVE_WAIT_MS 1000

static const char *const bridge_sysctls[] = { "net/bridge/bridge-nf-call-iptables",
					      "net/bridge/bridge-nf-call-ip6tables" };
static const char *const dist_names[] = { [FL_NM_DIST_NONE] = "uniform",
					  [FL_NM_DIST_NORMAL] = "normal",
					  [FL_NM_DIST_PARETO] = "pareto" };

struct nfq_params {
	struct fl_netspec spec;
	bool on_host;
	uint64_t delay_ns, jitter_ns;
	double corr;
	enum fl_nm_dist dist;
};

static void nfq_params_free(void *p)
{
	struct nfq_params *np = p;

	if (!np)
		return;
	fl_netspec_clear(&np->spec);
	free(np);
}

/* --- parse ----------------------------------------------------------------------------------- */

static void take_duration(const struct fl_params *p, const char *key, const char *example,
			  uint64_t *ret, struct fl_errors *errs)
{
	struct fl_param *v = fl_params_take(p, key);
	int k;

	if (!v)
		return;
	k = fl_parse_duration(v->value, ret);
	if (k == -EINVAL)
		fl_errors_add(errs, &v->where, "'%s' must be a duration such as '%s', got '%s'",
			      key, example, v->value);
	else if (k < 0 || *ret > NFQ_DELAY_MAX)
		fl_errors_add(errs, &v->where, "'%s' must be from 0 to 60s, got '%s'", key,
			      v->value);
}

static int nfq_parse(struct fl_fault *f, const struct fl_params *p, struct fl_errors *errs)
{
	struct nfq_params *np = calloc(1, sizeof(*np));
	struct fl_param *v, *delay, *dist = NULL;
	size_t n0 = errs->n;
	int r;

	if (!np)
		return -ENOMEM;
	f->priv = np;
	r = fl_netspec_parse(p, NULL, &np->spec, errs);
	if (r < 0 && r != -EINVAL)
		return r;
	if (!np->spec.cgroup && f->target.cgroup && !(np->spec.cgroup = strdup(f->target.cgroup)))
		return -ENOMEM;
	if ((v = fl_params_take(p, "placement"))) {
		if (!strcmp(v->value, "host"))
			np->on_host = true;
		else if (strcmp(v->value, "switch"))
			fl_errors_add(
				errs, &v->where,
				"'placement' must be 'switch' (the lab host's port) or 'host' "
				"(its eth0), got '%s'",
				v->value);
	}
	delay = fl_params_take(p, "delay");
	if (!delay)
		fl_errors_add(errs, &p->where, "a latency fault needs 'delay', such as '50ms'");
	take_duration(p, "delay", "50ms", &np->delay_ns, errs);
	take_duration(p, "jitter", "5ms", &np->jitter_ns, errs);
	if ((v = fl_params_take(p, "correlation")) && fl_nm_parse_percent(v->value, &np->corr) < 0)
		fl_errors_add(
			errs, &v->where,
			"'correlation' must be a percentage from 0 to 100 such as '20%%', got "
			"'%s'",
			v->value);
	if ((v = fl_params_take(p, "distribution"))) {
		size_t i;
		dist = v;
		for (i = 0; i < ARRAY_SIZE(dist_names); i++)
			if (!strcmp(v->value, dist_names[i]))
				break;
		if (i == ARRAY_SIZE(dist_names))
			fl_errors_add(errs, &v->where,
				      "'distribution' must be uniform, normal or pareto, got '%s'",
				      v->value);
		else
			np->dist = (enum fl_nm_dist)i;
	}
	/* as netem: both shape the jitter, which they need */
	if (dist && np->dist != FL_NM_DIST_NONE && !np->jitter_ns)
		fl_errors_add(errs, &dist->where,
			      "'distribution' shapes the jitter: it needs 'jitter', such as '5ms'");
	if (np->corr > 0 && !np->jitter_ns)
		fl_errors_add(errs, &p->where,
			      "'correlation' of a latency fault correlates the jitter: it needs "
			      "'jitter'");
	if (np->spec.cgroup) {
		/* -m cgroup sees the socket of locally generated packets only */
		bool at_switch = f->on && !np->on_host;
		if (at_switch || np->spec.direction != FL_DIR_EGRESS)
			fl_errors_add(
				errs, &p->where,
				"'cgroup' matches locally generated traffic only: the nfqueue "
				"latency needs 'direction: egress'%s with it",
				at_switch ? " and 'placement: host'" : "");
	}
	if (!f->on && !np->spec.dev && r == 0)
		fl_errors_add(errs, &p->where,
			      "a latency fault needs 'dev' (the network interface, such as 'eth0') "
			      "unless it is 'on' a lab host");
	return errs->n > n0 || r < 0 ? -EINVAL : 0;
}

/* --- probe ----------------------------------------------------------------------------------- */

static bool in_path(const char *name)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (!path || !*path)
		path = "/usr/sbin:/usr/bin:/sbin:/bin";
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, ":");
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, name);
		if (n && access(buf, X_OK) == 0)
			return true;
		p += n + (p[n] == ':');
	}
	return access("/usr/sbin/iptables", X_OK) == 0 && !strcmp(name, "iptables");
}

static bool nfqueue_target_known(void)
{
	_cleanup_free_ char *text = NULL;
	size_t len;

	if (fl_read_file("/proc/net/ip_tables_targets", &text, &len) == 0 &&
	    strstr(text, "NFQUEUE"))
		return true;
	/* a module that is not loaded yet: modprobe brings it with the first rule */
	return access("/proc/net/netfilter/nfnetlink_queue", F_OK) == 0;
}

static int nfq_probe(const struct fl_fault *f, const char **ret_reason)
{
	static int state; /* 0: unknown, 1: usable, -errno */
	static const char *why;

	if (!state) {
		state = 1;
		if (geteuid() != 0) {
			state = -EPERM;
			why = "NFQUEUE rules and queues need root (CAP_NET_ADMIN)";
		} else if ((!in_path("iptables-restore") || !in_path("iptables")) &&
			   nfqnft_probe(NULL, false, false, &why) < 0) {
			state = -ENOENT;
			why = "no iptables (iptables-restore) in PATH: install the iptables "
			      "package";
		} else if (!nfqueue_target_known()) {
			state = -EOPNOTSUPP;
			why = "the kernel has no NFQUEUE target (xt_NFQUEUE, nfnetlink_queue)";
		}
	}
	if (state < 0)
		*ret_reason = why;
	return state < 0 ? state : 0;
}

/* iptables-restore --noflush of lines (one transaction for the mangle table). */
static int restore(const char *netns, bool ipv6, char *const *lines, char **ret_out)
{
	char *argv[] = { ipv6 ? "ip6tables-restore" : "iptables-restore", "-w", "--noflush", NULL };
	_cleanup_free_ char *body = fl_strv_join(lines, "\n"), *input = NULL;

	if (!body || asprintf(&input, "*mangle\n%s\nCOMMIT\n", body) < 0)
		return -ENOMEM;
	return fl_run_capture(netns, argv, input, true, ret_out);
}

/* --- sysctls of the switch namespace --------------------------------------------------------- */

static int sysctl_rw(const char *netns, const char *key, const char *set, char *ret, size_t len)
{
	_cleanup_free_ char *path = NULL;
	int old = -1, fd, r = 0;
	ssize_t n;

	if (asprintf(&path, "/proc/sys/%s", key) < 0)
		return -ENOMEM;
	r = fl_netns_enter(netns, &old);
	if (r < 0)
		return r;
	fd = open(path, set ? O_WRONLY | O_CLOEXEC : O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
	} else if (set) {
		if (write(fd, set, strlen(set)) < 0)
			r = -errno;
	} else {
		n = read(fd, ret, len - 1);
		if (n < 0)
			r = -errno;
		else
			ret[n] = '\0', ret[strcspn(ret, "\n")] = '\0';
	}
	if (fd >= 0)
		close(fd);
	fl_netns_leave(old);
	return r;
}

/* --- plan ------------------------------------------------------------------------------------ */

struct spec_bufs {
	uint16_t ex[FL_NET_MAX_EXCLUDE + 2];
};

/*
 * The rule spec of one family from a plan object (all strings point into it). 1, 0 when the
 * filter cannot match that family, or a negative errno.
 */
static int spec_of(json_t *o, bool ipv6, struct nfq_rule_spec *spec, struct spec_bufs *b)
{
	json_t *excl = json_object_get(o, "exclude"), *hooks = json_object_get(o, "hooks"), *x;
	uint8_t proto = (uint8_t)json_integer_value(json_object_get(o, "proto"));
	struct fl_cidr src, dst;
	size_t i, n_ex = 0;

	if (fl_cidr_from_json(json_object_get(o, "src"), &src) < 0 ||
	    fl_cidr_from_json(json_object_get(o, "dst"), &dst) < 0 || !json_is_array(hooks) ||
	    json_array_size(hooks) > 2)
		return -EINVAL;
	/* a family the filter cannot match gets no rules */
	if ((src.family && (src.family == AF_INET6) != ipv6) ||
	    (dst.family && (dst.family == AF_INET6) != ipv6) || (proto == IPPROTO_ICMP && ipv6) ||
	    (proto == IPPROTO_ICMPV6 && !ipv6))
		return 0;
	json_array_foreach (excl, i, x)
		if (n_ex < ARRAY_SIZE(b->ex))
			b->ex[n_ex++] = (uint16_t)json_integer_value(x);
	*spec = (struct nfq_rule_spec){
		.ipv6 = ipv6,
		.chain = json_string_value(json_object_get(o, "chain")),
		.iface = json_string_value(json_object_get(o, "dev")),
		.proto = proto,
		.src = src.family ? json_string_value(json_object_get(o, "src")) : NULL,
		.dst = dst.family ? json_string_value(json_object_get(o, "dst")) : NULL,
		.sport_lo = (uint16_t)json_integer_value(json_object_get(o, "sport_lo")),
		.sport_hi = (uint16_t)json_integer_value(json_object_get(o, "sport_hi")),
		.dport_lo = (uint16_t)json_integer_value(json_object_get(o, "dport_lo")),
		.dport_hi = (uint16_t)json_integer_value(json_object_get(o, "dport_hi")),
		.symmetric = json_is_true(json_object_get(o, "symmetric")),
		.cgroup = json_string_value(json_object_get(o, "cgroup")),
		.exclude = b->ex,
		.n_exclude = n_ex,
		.queue = (uint16_t)json_integer_value(json_object_get(o, "queue")),
		.comment = json_string_value(json_object_get(o, "comment")),
	};
	json_array_foreach (hooks, i, x) {
		spec->parent[i] = json_string_value(json_array_get(x, 0));
		spec->iface_opt[i] = json_string_value(json_array_get(x, 1));
		if (!spec->parent[i] || !spec->iface_opt[i])
			return -EINVAL;
	}
	if (!spec->chain || !spec->iface || !spec->comment)
		return -EINVAL;
	return 1;
}

/* One family of the plan: its name, and with iptables its iptables-restore lines. */
static int family_plan(json_t *o, bool ipv6, bool nft, json_t *families)
{
	struct nfq_rule_spec spec;
	struct spec_bufs b;
	json_t *rules, *fam;
	char **lines = NULL;
	int r = spec_of(o, ipv6, &spec, &b);

	if (r <= 0)
		return r;
	fam = json_pack("{s:s}", "family", ipv6 ? "ipv6" : "ipv4");
	if (!fam)
		return -ENOMEM;
	if (!nft) {
		r = nfq_rule_lines(&spec, &lines);
		if (r < 0) {
			json_decref(fam);
			return r;
		}
		rules = json_array();
		for (char **l = lines; *l; l++)
			json_array_append_new(rules, json_string(*l));
		fl_strv_free(lines);
		json_object_set_new(fam, "rules", rules);
	} else if (spec.proto && spec.proto != IPPROTO_TCP && spec.proto != IPPROTO_UDP &&
		   spec.proto != IPPROTO_ICMP && spec.proto != IPPROTO_ICMPV6) {
		json_decref(fam);
		return -EPROTONOSUPPORT;
	}
	return json_array_append_new(families, fam);
}

/* nftables unless FAULTLINE_NFQ_RULES says otherwise or the kernel cannot (once per process) */
static int rules_mode(const char *netns, bool physdev, bool cgroup, bool *ret_nft, char **reason)
{
	static int known[4]; /* 1: nftables, -1: iptables, by physdev and cgroup */
	const char *env = getenv("FAULTLINE_NFQ_RULES"), *why = NULL;
	int *k = &known[physdev * 2 + cgroup];

	if (env && *env) {
		if (strcmp(env, "nftables") && strcmp(env, "iptables"))
			return fl_set_reason(
				reason, -EINVAL,
				"FAULTLINE_NFQ_RULES must be 'nftables' or 'iptables', "
				"got '%s'",
				env);
		*ret_nft = !strcmp(env, "nftables");
		return 0;
	}
	if (!*k) {
		*k = nfqnft_probe(netns, physdev, cgroup, &why) == 0 ? 1 : -1;
		if (*k < 0)
			log_debug("nfqueue: rules through iptables-restore: %s", why);
	}
	*ret_nft = *k > 0;
	return 0;
}

static int nfq_plan(const struct fl_fault *f, struct fl_inject_ctx *ctx, json_t **ret_objects)
{
	const struct nfq_params *np = f->priv;
	_cleanup_free_ char *netns = NULL, *dev = NULL, *pidfile = NULL, *statsfile = NULL;
	_cleanup_free_ char *dir = NULL;
	bool at_switch = f->on && !np->on_host;
	const char *parents[2] = { NULL, NULL }, *opts[2] = { NULL, NULL };
	char chain[16], comment[96];
	enum fl_direction d;
	json_t *o = NULL, *families, *sysctl = json_null(), *hooks;
	_cleanup_free_ char *table = NULL;
	bool nft = false;
	uint32_t handle;
	uint16_t queue;
	size_t k = 0;
	int r;

	r = fl_net_place(f, &np->spec, np->on_host, ctx->run_id, &netns, &dev, &d);
	if (r < 0)
		return r;
	handle = fl_net_handle(ctx->run_id, f->name);
	queue = (uint16_t)(NFQ_QUEUE_BASE + handle % NFQ_QUEUE_SPAN);
	snprintf(chain, sizeof(chain), "FL-%08x", handle);
	snprintf(comment, sizeof(comment), "faultline:%s:%08x", ctx->run_id, handle);
	/* at the switch the directions are the port's (fl_net_place flipped them) */
	if (d != FL_DIR_EGRESS) {
		parents[k] = at_switch ? "FORWARD" : "PREROUTING";
		opts[k++] = at_switch ? "--physdev-in" : "-i";
	}
	if (d != FL_DIR_INGRESS) {
		parents[k] = at_switch ? "FORWARD" : "POSTROUTING";
		opts[k++] = at_switch ? "--physdev-out" : "-o";
	}
	r = rules_mode(netns, at_switch, np->spec.cgroup != NULL, &nft, &ctx->reason);
	if (r < 0)
		return r;
	if (asprintf(&table, "faultline-%s-%08x", ctx->run_id, handle) < 0 ||
	    asprintf(&dir, "%s/nfq", fl_state_dir()) < 0 ||
	    asprintf(&pidfile, "%s/%s-%08x.pid", dir, ctx->run_id, handle) < 0 ||
	    asprintf(&statsfile, "%s/%s-%08x.json", dir, ctx->run_id, handle) < 0)
		return -ENOMEM;
	if (at_switch) {
		sysctl = json_object();
		for (size_t i = 0; i < ARRAY_SIZE(bridge_sysctls); i++) {
			char old[32];
			r = sysctl_rw(netns, bridge_sysctls[i], NULL, old, sizeof(old));
			if (r < 0) {
				json_decref(sysctl);
				return fl_set_reason(
					&ctx->reason, r,
					"cannot read %s in network namespace '%s' (the "
					"nfqueue latency at a switch port needs "
					"br_netfilter): %s",
					bridge_sysctls[i], netns, strerror(-r));
			}
			json_object_set_new(sysctl, bridge_sysctls[i], json_string(old));
		}
	}
	families = json_array();
	hooks = json_array();
	for (size_t i = 0; i < k; i++)
		json_array_append_new(hooks, json_pack("[s, s]", parents[i], opts[i]));
	o = json_pack("{s:s, s:s?, s:s, s:s, s:s, s:s, s:s, s:I, s:i, s:s, s:s, s:o, s:I, s:I, "
		      "s:f, s:s, s:I, s:I, s:o}",
		      "type", "nfqueue", "netns", netns, "dev", dev, "direction",
		      d == FL_DIR_INGRESS  ? "ingress"
		      : d == FL_DIR_EGRESS ? "egress"
					   : "both",
		      "table", "mangle", "chain", chain, "comment", comment, "handle",
		      (json_int_t)handle, "queue", (int)queue, "pidfile", pidfile, "statsfile",
		      statsfile, "sysctl_old", sysctl, "delay_ns", (json_int_t)np->delay_ns,
		      "jitter_ns", (json_int_t)np->jitter_ns, "correlation", np->corr,
		      "distribution", dist_names[np->dist], "seed",
		      (json_int_t)(fl_rand_next(ctx->rng) >> 1), "for_ns", (json_int_t)f->for_ns,
		      "families", families);
	if (!o || json_object_set_new(o, "hooks", hooks) < 0 ||
	    json_object_set_new(o, "rules", json_string(nft ? "nftables" : "iptables")) < 0 ||
	    json_object_set_new(o, "nft_table", nft ? json_string(table) : json_null()) < 0 ||
	    json_object_set_new(o, "cgroup",
				np->spec.cgroup ? json_string(np->spec.cgroup) : json_null()) < 0) {
		json_decref(o);
		return -ENOMEM;
	}
	r = fl_netmatch_plan(f, &np->spec, false, ctx, o);
	for (int v6 = 0; r == 0 && v6 < 2; v6++)
		r = family_plan(o, v6, nft, families);
	if (r == 0 && json_array_size(families) == 0)
		r = fl_set_reason(&ctx->reason, -EINVAL, "the filter matches no address family");
	if (r < 0) {
		json_decref(o);
		return r == -EPROTONOSUPPORT
			       ? fl_set_reason(&ctx->reason, -EINVAL,
					       "the nfqueue latency filters tcp, udp, icmp and "
					       "icmpv6 only")
			       : r;
	}
	*ret_objects = json_array();
	if (!*ret_objects || json_array_append_new(*ret_objects, o) < 0) {
		json_decref(*ret_objects);
		return -ENOMEM;
	}
	return 0;
}

/* --- nftables: the table of each family, in one batch -------------------------------------- */

static bool is_nft(json_t *o)
{
	return !strcmp(json_string_value(json_object_get(o, "rules")) ?: "", "nftables");
}

static bool fam_v6(json_t *fam)
{
	return !strcmp(json_string_value(json_object_get(fam, "family")) ?: "", "ipv6");
}

static int nft_reason(char **reason, const char *what, const char *netns,
		      const struct nfqnft_batch *b, const struct nfqnft_error *e)
{
	_cleanup_free_ char *msg = nfqnft_describe(b, e->index);

	return fl_set_reason(reason, e->error,
			     "nf_tables refused to %s the NFQUEUE rules%s%s%s%s%s: %s%s%s", what,
			     netns ? " in " : "", netns ? netns : "", msg ? " (" : "", msg ?: "",
			     msg ? ")" : "", strerror(-e->error), e->msg[0] ? ": " : "", e->msg);
}

/* End batch b (r: how building it went) and send it; a build error has e->error 0. */
static int nft_end_send(const char *netns, struct nfqnft_batch *b, int r, struct nfqnft_error *e,
			char **reason)
{
	*e = (struct nfqnft_error){ 0 };
	if (r == 0)
		r = nfqnft_end(b);
	if (r < 0)
		return fl_set_reason(reason, r, "cannot build the nf_tables batch: %s",
				     strerror(-r));
	return nfqnft_send(netns, b, e);
}

static int nft_apply(const char *netns, json_t *o, char **reason)
{
	_cleanup_(nfqnft_batch_free) struct nfqnft_batch b = { 0 };
	const char *table = json_string_value(json_object_get(o, "nft_table"));
	json_t *fams = json_object_get(o, "families"), *fam;
	struct nfqnft_error e;
	size_t i;
	int r;

	if (!table)
		return fl_set_reason(reason, -EINVAL, "malformed nfqueue object in the plan");
	r = nfqnft_begin(&b);
	json_array_foreach (fams, i, fam) {
		struct nfq_rule_spec spec;
		struct spec_bufs sb;
		if (r == 0 && (r = spec_of(o, fam_v6(fam), &spec, &sb)) == 1)
			r = nfqnft_add_table(&b, &spec, table);
	}
	r = nft_end_send(netns, &b, r, &e, reason);
	if (r < 0 && e.error)
		return nft_reason(reason, "create", netns, &b, &e);
	return r;
}

/* Delete our tables (only: that family's, else all) in one batch. */
static int nft_del(const char *netns, json_t *fams, const char *table, ssize_t only, bool destroy,
		   char **reason)
{
	_cleanup_(nfqnft_batch_free) struct nfqnft_batch b = { 0 };
	struct nfqnft_error e;
	json_t *fam;
	size_t i;
	int r = nfqnft_begin(&b);

	json_array_foreach (fams, i, fam)
		if (r == 0 && (only < 0 || (size_t)only == i))
			r = nfqnft_del_table(&b, fam_v6(fam), table, destroy);
	r = nft_end_send(netns, &b, r, &e, reason);
	if (r < 0 && !e.error)
		return r;
	/* no namespace (nothing sent), or no such table: gone already, with our rules */
	if (r == 0 || (r == -ENOENT && (e.index == 0 || !destroy)))
		return 0;
	if (destroy && (r == -EINVAL || r == -EOPNOTSUPP))
		return r; /* a kernel before 6.3 has no DESTROYTABLE */
	return nft_reason(reason, "delete", netns, &b, &e);
}

/* One batch that a missing table does not fail; on older kernels one DELTABLE per table. */
static int nft_undo(const char *netns, json_t *o, char **reason)
{
	const char *table = json_string_value(json_object_get(o, "nft_table"));
	json_t *fams = json_object_get(o, "families");
	int r, k;

	if (!table || !json_is_array(fams))
		return fl_set_reason(reason, -EINVAL, "malformed nfqueue object in the journal");
	r = nft_del(netns, fams, table, -1, true, reason);
	if (r != -EINVAL && r != -EOPNOTSUPP)
		return r;
	r = 0;
	for (size_t i = 0; i < json_array_size(fams); i++)
		if ((k = nft_del(netns, fams, table, (ssize_t)i, false, reason)) < 0 && !r)
			r = k;
	return r;
}

/* --- revert ---------------------------------------------------------------------------------- */

static char **rules_of(json_t *fam)
{
	json_t *rules = json_object_get(fam, "rules"), *l;
	char **v = NULL;
	size_t i;

	json_array_foreach (rules, i, l)
		if (!json_is_string(l) || fl_strv_push(&v, json_string_value(l)) < 0) {
			fl_strv_free(v);
			return NULL;
		}
	return v;
}

/*
 * The slow path when the planned undo did not apply as a whole (some already gone): delete
 * what iptables-save shows that carries our comment, then our chain if it is there.
 */
static int undo_by_save(const char *netns, bool ipv6, const char *chain, const char *comment,
			char **ret_out)
{
	char *argv[] = { ipv6 ? "ip6tables-save" : "iptables-save", "-t", "mangle", NULL };
	_cleanup_free_ char *save = NULL, *tag = NULL, *decl = NULL;
	char **lines = NULL, **jumps = NULL;
	bool has_chain = false;
	int r;

	r = fl_run_capture(netns, argv, NULL, true, &save);
	if (r != 0)
		return r < 0 ? r : -EIO;
	if (asprintf(&tag, "--comment %s ", comment) < 0 || asprintf(&decl, ":%s ", chain) < 0)
		return -ENOMEM;
	for (char *l = strtok(save, "\n"); l; l = strtok(NULL, "\n")) {
		/* iptables-save may quote the comment */
		_cleanup_free_ char *plain = strdup(l);
		char *w = plain;
		if (!plain)
			return -ENOMEM;
		for (char *c = l; *c; c++)
			if (*c != '"')
				*w++ = *c;
		*w = '\0';
		if (strncmp(l, decl, strlen(decl)) == 0)
			has_chain = true;
		if (strncmp(plain, "-A ", 3) != 0 || !strstr(plain, tag))
			continue;
		/* jumps out of the parent chains first, then the chain's own rules */
		r = fl_strv_push(strstr(plain, " -j FL-") ? &jumps : &lines, plain);
		if (r < 0)
			goto out;
	}
	{
		char **all = NULL;
		for (char **j = jumps; j && *j; j++)
			if (nfq_strv_pushf(&all, "-D %s", *j + 3) < 0)
				goto oom;
		for (char **j = lines; j && *j; j++)
			if (nfq_strv_pushf(&all, "-D %s", *j + 3) < 0)
				goto oom;
		if (has_chain && nfq_strv_pushf(&all, "-X %s", chain) < 0)
			goto oom;
		r = all ? restore(netns, ipv6, all, ret_out) : 0;
		fl_strv_free(all);
		goto out;
	oom:
		fl_strv_free(all);
		r = -ENOMEM;
	}
out:
	fl_strv_free(lines);
	fl_strv_free(jumps);
	return r;
}

/* Remove one family's rules: the planned undo in one transaction, else what is left of ours. */
static int undo_family(const char *netns, json_t *fam, const char *chain, const char *comment,
		       char **ret_reason)
{
	bool ipv6 = !strcmp(json_string_value(json_object_get(fam, "family")) ?: "", "ipv6");
	_cleanup_free_ char *out = NULL, *out2 = NULL;
	char **apply = rules_of(fam), **undo = NULL;
	int r;

	if (!apply || nfq_rule_undo_lines(apply, &undo) < 0) {
		fl_strv_free(apply);
		return fl_set_reason(ret_reason, -EINVAL, "malformed nfqueue rules in the journal");
	}
	fl_strv_free(apply);
	r = restore(netns, ipv6, undo, &out);
	fl_strv_free(undo);
	if (r == 0)
		return 0;
	if (r == 126)
		return 0; /* the namespace is gone, and our rules with it */
	r = undo_by_save(netns, ipv6, chain, comment, &out2);
	if (r == 0)
		return 0;
	return fl_set_reason(ret_reason, r < 0 ? r : -EIO,
			     "cannot remove the %s rules %s (chain %s): %s",
			     ipv6 ? "ip6tables" : "iptables", comment, chain,
			     out2 && *out2 ? out2
			     : out && *out ? out
					   : "iptables-restore failed");
}

static int stop_daemon(const char *pidfile, char **ret_reason)
{
	return fl_daemon_stop(pidfile, "NFQUEUE daemon", NFQ_STOP_WAIT_MS, ret_reason);
}

/* Does any rule of ours (any run, any fault) remain in the namespace: a table, or iptables? */
static bool others_in(const char *netns)
{
	if (nfqnft_count_tables(netns, "faultline-") > 0)
		return true;
	for (int v6 = 0; v6 < 2; v6++) {
		char *argv[] = { v6 ? "ip6tables-save" : "iptables-save", "-t", "mangle", NULL };
		_cleanup_free_ char *out = NULL;
		if (fl_run_capture(netns, argv, NULL, true, &out) == 0 && out && strstr(out, "faultline:"))
			return true;
	}
	return false;
}

static int revert_one(json_t *o, char **ret_reason)
{
	const char *netns = json_string_value(json_object_get(o, "netns"));
	const char *chain = json_string_value(json_object_get(o, "chain"));
	const char *comment = json_string_value(json_object_get(o, "comment"));
	const char *pidfile = json_string_value(json_object_get(o, "pidfile"));
	const char *statsfile = json_string_value(json_object_get(o, "statsfile"));
	json_t *fams = json_object_get(o, "families"), *fam,
	       *sys = json_object_get(o, "sysctl_old");
	const char *key;
	json_t *val;
	int r = 0, k;
	size_t i;

	if (!chain || !comment || !pidfile || !statsfile || !json_is_array(fams))
		return fl_set_reason(ret_reason, -EINVAL,
				     "malformed nfqueue object in the journal");
	/*
	 * nftables: the daemon goes first (its queue is fail-open and the rule bypasses it), then
	 * the table. Deleting the table leaves the kernel an RCU grace period of cleanup that the
	 * next NETLINK_NETFILTER socket to close waits for (nfqnft.c): not the daemon's then.
	 */
	if (is_nft(o)) {
		r = stop_daemon(pidfile, ret_reason);
		k = nft_undo(netns, o, ret_reason);
		if (k < 0 && !r)
			r = k;
	} else {
		json_array_foreach (fams, i, fam) {
			k = undo_family(netns, fam, chain, comment, ret_reason);
			if (k < 0 && !r)
				r = k;
		}
		k = stop_daemon(pidfile, ret_reason);
		if (k < 0 && !r)
			r = k;
	}
	/* the switch's bridge-nf-call-ip(6)tables as they were (set to 1 at apply), once no other
	 * fault of ours needs them there */
	if (json_object_size(sys) && others_in(netns)) {
		log_debug("nfqueue: other faults' rules remain in '%s': bridge sysctls left on",
			  netns);
		sys = NULL;
	}
	json_object_foreach (sys, key, val) {
		const char *old = json_string_value(val);
		char cur[32];
		if (!old || sysctl_rw(netns, key, NULL, cur, sizeof(cur)) < 0)
			continue; /* the namespace is gone, and the setting with it */
		if (strcmp(cur, old) != 0 && (k = sysctl_rw(netns, key, old, NULL, 0)) < 0 && !r)
			r = fl_set_reason(ret_reason, k, "cannot restore %s to %s: %s", key, old,
					  strerror(-k));
	}
	if (r < 0)
		return r;
	unlink(pidfile);
	unlink(statsfile);
	return 0;
}

static int nfq_revert(json_t *objects, char **ret_reason)
{
	return fl_revert_each(objects, revert_one, ret_reason);
}

/* --- apply ----------------------------------------------------------------------------------- */

static int apply_one(json_t *o, struct fl_inject_ctx *ctx, json_t *injected)
{
	const char *netns = json_string_value(json_object_get(o, "netns"));
	const char *dev = json_string_value(json_object_get(o, "dev"));
	const char *dist = json_string_value(json_object_get(o, "distribution"));
	const char *dir = json_string_value(json_object_get(o, "direction"));
	json_t *fams = json_object_get(o, "families"), *fam,
	       *sys = json_object_get(o, "sysctl_old");
	_cleanup_free_ int16_t *table = NULL;
	_cleanup_free_ char *dirpath = NULL;
	struct nfqd_config c = {
		.netns = netns,
		.queue = (uint16_t)json_integer_value(json_object_get(o, "queue")),
		.delay_ns = (uint64_t)json_integer_value(json_object_get(o, "delay_ns")),
		.jitter_ns = (uint64_t)json_integer_value(json_object_get(o, "jitter_ns")),
		.corr_pct = json_number_value(json_object_get(o, "correlation")),
		.seed = (uint64_t)json_integer_value(json_object_get(o, "seed")),
		.pidfile = json_string_value(json_object_get(o, "pidfile")),
		.statsfile = json_string_value(json_object_get(o, "statsfile")),
	};
	const char *key;
	json_t *val;
	pid_t pid;
	size_t i;
	int r;

	if (!dev || !dist || !c.pidfile || !c.statsfile || !json_is_array(fams))
		return fl_set_reason(&ctx->reason, -EINVAL, "malformed nfqueue object in the plan");
	for (i = 1; i < ARRAY_SIZE(dist_names); i++)
		if (!strcmp(dist, dist_names[i])) {
			r = fl_nm_dist_load((enum fl_nm_dist)i, &table, &c.n_table, &ctx->reason);
			if (r < 0)
				return r;
			c.table = table;
		}
	dirpath = strndup(c.pidfile, (size_t)(strrchr(c.pidfile, '/') - c.pidfile));
	if (!dirpath || fl_mkdir_p(dirpath, 0700) < 0)
		return fl_set_reason(&ctx->reason, -errno, "cannot create '%s': %s",
				     dirpath ? dirpath : "", strerror(errno));
	c.lease_boot_ns = fl_boottime_ns() +
			  (uint64_t)json_integer_value(json_object_get(o, "for_ns")) +
			  FL_LEASE_GRACE_NS;
	/* the queue is bound before any packet can be sent to it */
	r = nfqd_spawn(&c, &pid, &ctx->reason);
	if (r < 0)
		return r;
	json_object_foreach (sys, key, val) {
		const char *old = json_string_value(val);
		if (old && strcmp(old, "1") != 0 && (r = sysctl_rw(netns, key, "1", NULL, 0)) < 0)
			return fl_set_reason(&ctx->reason, r, "cannot set %s=1 in '%s': %s", key,
					     netns, strerror(-r));
	}
	if (is_nft(o) && (r = nft_apply(netns, o, &ctx->reason)) < 0)
		return r;
	json_array_foreach (is_nft(o) ? NULL : fams, i, fam) {
		bool ipv6 = fam_v6(fam);
		char **lines = rules_of(fam);
		_cleanup_free_ char *out = NULL;

		if (!lines)
			return fl_set_reason(&ctx->reason, -EINVAL, "malformed nfqueue rules");
		r = restore(netns, ipv6, lines, &out);
		fl_strv_free(lines);
		if (r != 0)
			return fl_set_reason(&ctx->reason, r < 0 ? r : -EIO,
					     "%s-restore refused the NFQUEUE rules%s%s: %s",
					     ipv6 ? "ip6tables" : "iptables", netns ? " in " : "",
					     netns ? netns : "",
					     r == 126	   ? "cannot enter the network namespace"
					     : out && *out ? out
							   : "no reason given");
	}
	if (dir && strcmp(dir, "ingress") != 0 && !json_is_object(sys))
		log_warn("latency on the egress of '%s' (POSTROUTING): TCP throughput through a "
			 "sender-side queue collapses (queued packets stay charged to the socket); "
			 "put the fault on the receiver's ingress where you can",
			 dev);
	json_object_set_new(injected, "backend", json_string("nfqueue"));
	json_object_set_new(injected, "daemon_pid", json_integer(pid));
	json_object_set_new(injected, "queue", json_copy(json_object_get(o, "queue")));
	json_object_set_new(injected, "chain", json_copy(json_object_get(o, "chain")));
	json_object_set_new(injected, "rules", json_copy(json_object_get(o, "rules")));
	if (is_nft(o))
		json_object_set_new(injected, "nft_table",
				    json_copy(json_object_get(o, "nft_table")));
	json_object_set_new(injected, "comment", json_copy(json_object_get(o, "comment")));
	json_object_set_new(injected, "netns", netns ? json_string(netns) : json_null());
	json_object_set_new(injected, "dev", json_string(dev));
	json_object_set_new(injected, "delay_ns", json_copy(json_object_get(o, "delay_ns")));
	json_object_set_new(injected, "jitter_ns", json_copy(json_object_get(o, "jitter_ns")));
	json_object_set_new(injected, "expires_boot_ns", json_integer((json_int_t)c.lease_boot_ns));
	return 0;
}

static int nfq_apply(const struct fl_fault *f, json_t *objects, struct fl_inject_ctx *ctx,
		     json_t *injected)
{
	json_t *o;
	size_t i;
	int r;

	json_array_foreach (objects, i, o) {
		r = apply_one(o, ctx, injected);
		if (r < 0) {
			nfq_revert(objects, NULL); /* nothing half-done stays behind */
			return r;
		}
	}
	return 0;
}

/* --- observe: the delay the daemon applied ------------------------------------------------------
 */

static int nfq_observe(json_t *objects, json_t *observed)
{
	json_t *o = json_array_get(objects, 0), *st;
	const char *pidfile = json_string_value(json_object_get(o, "pidfile"));
	const char *statsfile = json_string_value(json_object_get(o, "statsfile"));

	if (!pidfile || !statsfile)
		return -EINVAL;
	st = fl_daemon_stats(pidfile, statsfile, NFQ_OBSERVE_WAIT_MS);
	if (!st)
		return -ENOENT;
	json_object_set_new(observed, "packets_delayed", json_copy(json_object_get(st, "packets")));
	json_object_set_new(observed, "delay_p50_us", json_copy(json_object_get(st, "p50_us")));
	json_object_set_new(observed, "delay_p90_us", json_copy(json_object_get(st, "p90_us")));
	json_object_set_new(observed, "delay_p99_us", json_copy(json_object_get(st, "p99_us")));
	json_object_set_new(observed, "delay_max_us", json_copy(json_object_get(st, "max_us")));
	json_object_set_new(observed, "delay_mean_us", json_copy(json_object_get(st, "mean_us")));
	json_object_set_new(observed, "queue_dropped",
			    json_copy(json_object_get(st, "queue_dropped")));
	json_object_set_new(observed, "user_dropped",
			    json_copy(json_object_get(st, "user_dropped")));
	json_object_set_new(observed, "socket_overflows",
			    json_copy(json_object_get(st, "enobufs")));
	json_decref(st);
	return 0;
}

/* --- describe -------------------------------------------------------------------------------- */

static int nfq_describe(const struct fl_fault *f, char *buf, size_t len)
{
	const struct nfq_params *np = f->priv;
	char spec[256], a[32], b[32], where[128] = "";
	int n;

	if (!np)
		return -EINVAL;
	fl_netspec_describe(&np->spec, spec, sizeof(spec));
	if (f->on && !np->on_host)
		snprintf(where, sizeof(where), " at the switch port of %s", f->on);
	else if (f->on)
		snprintf(where, sizeof(where), " on %s", f->on);
	else if (f->target.netns)
		snprintf(where, sizeof(where), " in netns %s", f->target.netns);
	n = snprintf(buf, len, "nfqueue delay %s", fl_format_duration(np->delay_ns, a, sizeof(a)));
	if (np->jitter_ns && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, " jitter %s (%s)",
			      fl_format_duration(np->jitter_ns, b, sizeof(b)),
			      dist_names[np->dist]);
	if (np->corr > 0 && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, " correlation %g%%", np->corr);
	if (n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " %s%s", spec, where);
	return 0;
}

const struct fl_backend fl_backend_latency_nfq = {
	.kind = "latency",
	.name = "nfqueue",
	.summary = "delay matching packets through an iptables NFQUEUE rule and a delay daemon "
		   "(fail-open, self-expiring)",
	.keys = (const char *const[]){ "dev", "direction", "src", "dst", "proto", "sport", "dport",
				       "cgroup", "peer", "exclude", "placement", "delay", "jitter",
				       "correlation", "distribution", NULL },
	.needs_target = false,
	.reversible = true,
	.parse = nfq_parse,
	.free_priv = nfq_params_free,
	.probe = nfq_probe,
	.plan = nfq_plan,
	.apply = nfq_apply,
	.revert = nfq_revert,
	.observe = nfq_observe,
	.describe = nfq_describe,
};
