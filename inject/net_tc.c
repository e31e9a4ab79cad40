// SPDX-License-Identifier: GPL-2.0-only
/* loss, partition and corrupt through our own tc clsact (cls_bpf direct-action) program. */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/pkt_sched.h>
#include <net/if.h>
#include <netlink/route/classifier.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/types.h>

#include "bpf/netfault.h" /* before the skeleton, which uses its types */
#include "bpf/netfault.skel.h"
#include "inject/injector.h"
#include "inject/journal.h"
#include "inject/log.h"
#include "inject/netspec.h"
#include "inject/netutil.h"


enum net_mode {
	NET_LOSS,
	NET_PARTITION,
	NET_CORRUPT, /* flip a payload bit instead of dropping */
};

/* A Gilbert-Elliott burst model, in percent: netem's `loss gemodel p r 1-h 1-k`. */
struct ge_model {
	double p;  /* good -> bad transition, per packet */
	double r;  /* bad -> good */
	double h1; /* 1-h: loss in the bad state (default 100) */
	double k1; /* 1-k: loss in the good state (default 0) */
};

struct net_params {
	struct fl_netspec spec;
	double percent; /* with a burst model: its long-run loss */
	unsigned correlation;
	bool burst;
	struct ge_model ge;
	enum net_mode mode;
	bool on_host; /* placement: host (X's eth0), not X's port on the lab switch */
	bool dir_set;
};

/*
 * The burst model's long-run loss in percent: the chain spends pi_bad = p / (p + r) of the
 * packets in the bad state, so loss = pi_bad (1-h) + (1 - pi_bad) (1-k).
 */
static double ge_expected_loss(const struct ge_model *m)
{
	double bad = m->p + m->r > 0 ? m->p / (m->p + m->r) : 0;

	return bad * m->h1 + (1 - bad) * m->k1;
}

/* A share in percent as the programs' threshold: prandom (32 bits) < t; 1 << 32 = always. */
static uint64_t pct_threshold(double pct)
{
	if (pct >= 100)
		return 1ULL << 32;
	if (pct <= 0)
		return 0;
	return (uint64_t)(pct / 100.0 * 4294967296.0);
}

static void net_params_free(void *p)
{
	struct net_params *np = p;

	if (!np)
		return;
	fl_netspec_clear(&np->spec);
	free(np);
}

/* "20", "20%", "0.5%": 0 < p <= 100 */
static int parse_percent(const char *s, double *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v != v)
		return -EINVAL;
	if (*end == '%')
		end++;
	if (*end)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* One of the burst model's percentages into *ret; an error naming the key otherwise. */
static void burst_key(const struct fl_params *p, const char *key, bool zero_ok, double *ret,
		      struct fl_errors *errs)
{
	struct fl_param *v = fl_params_take(p, key);
	double x;

	if (!v)
		return;
	if (parse_percent(v->value, &x) < 0 || x < 0 || x > 100 || (!zero_ok && x == 0))
		fl_errors_add(errs, &v->where, "'%s' must be a percentage %s, such as '5%%', "
			      "got '%s'", key,
			      zero_ok ? "from 0 to 100" : "more than 0 and at most 100", v->value);
	else
		*ret = x;
}

/*
 * burst_p, burst_r (required together), burst_1h (default 100%), burst_1k (default 0%):
 * true when the fault has a burst model (then 'percent' and 'correlation' are errors).
 */
static bool parse_burst(const struct fl_params *p, struct net_params *np, struct fl_errors *errs)
{
	static const char *const keys[] = { "burst_p", "burst_r", "burst_1h", "burst_1k" };
	const struct fl_param *first = NULL, *v;

	for (size_t i = 0; i < ARRAY_SIZE(keys) && !first; i++)
		for (size_t k = 0; k < p->n && !first; k++)
			if (!strcmp(p->v[k].key, keys[i]))
				first = &p->v[k];
	if (!first)
		return false;
	np->burst = true;
	np->ge = (struct ge_model){ .p = -1, .r = -1, .h1 = 100, .k1 = 0 };
	burst_key(p, "burst_p", false, &np->ge.p, errs);
	burst_key(p, "burst_r", false, &np->ge.r, errs);
	burst_key(p, "burst_1h", true, &np->ge.h1, errs);
	burst_key(p, "burst_1k", true, &np->ge.k1, errs);
	for (size_t i = 0; i < 2; i++)
		if (!fl_params_take(p, keys[i]))
			fl_errors_add(errs, &first->where,
				      "a burst model needs '%s' (the %s transition probability) "
				      "with '%s'", keys[i], i ? "bad to good" : "good to bad",
				      first->key);
	if ((v = fl_params_take(p, "percent")))
		fl_errors_add(errs, &v->where,
			      "'percent' cannot be combined with a burst model ('burst_p', "
			      "'burst_r'): the loss follows from the model");
	if ((v = fl_params_take(p, "correlation")))
		fl_errors_add(errs, &v->where,
			      "'correlation' cannot be combined with a burst model ('burst_p', "
			      "'burst_r'): the model is the correlation");
	return true;
}

static int net_parse(struct fl_fault *f, const struct fl_params *p, struct fl_errors *errs,
		     enum net_mode mode)
{
	struct net_params *np = calloc(1, sizeof(*np));
	struct fl_param *v;
	size_t n0 = errs->n;
	int r;

	if (!np)
		return -ENOMEM;
	np->mode = mode;
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->v[i].key, "direction"))
			np->dir_set = true;
	r = fl_netspec_parse(p, NULL, &np->spec, errs);
	if (r < 0 && r != -EINVAL) {
		net_params_free(np);
		return r;
	}
	if (mode == NET_PARTITION && !np->dir_set)
		np->spec.direction = FL_DIR_BOTH;
	if (!np->spec.cgroup && f->target.cgroup && !(np->spec.cgroup = strdup(f->target.cgroup))) {
		net_params_free(np);
		return -ENOMEM;
	}
	if (np->spec.cgroup && np->spec.direction != FL_DIR_EGRESS && r == 0) {
		/*
		 * bpf_skb_cgroup_id() reads the cgroup of the socket that sent the packet. Arriving
		 * packets have none until the stack looks their socket up, after tc (a veth keeps
		 * the sender's socket, so a local sender would match there: a trap, not a feature).
		 */
		v = fl_params_take(p, "cgroup") ?: fl_params_take(p, "target.cgroup");
		fl_errors_add(errs, v ? &v->where : &p->where,
			      "'cgroup' needs 'direction: egress': a packet's cgroup is the one of "
			      "the socket that sends it, which tc sees on egress only");
	}
	if ((v = fl_params_take(p, "placement"))) {
		if (!strcmp(v->value, "host"))
			np->on_host = true;
		else if (strcmp(v->value, "switch"))
			fl_errors_add(errs, &v->where,
				      "'placement' must be 'switch' (the lab host's port) or 'host' "
				      "(its eth0), got '%s'",
				      v->value);
	}
	if (mode == NET_LOSS && parse_burst(p, np, errs)) {
		np->percent = ge_expected_loss(&np->ge);
	} else if (mode != NET_PARTITION) {
		v = fl_params_take(p, "percent");
		if (!v && mode == NET_CORRUPT)
			fl_errors_add(errs, &p->where,
				      "a 'corrupt' fault needs 'percent' (e.g. '1%%')");
		else if (!v)
			fl_errors_add(errs, &p->where,
				      "a 'loss' fault needs 'percent' (e.g. '20%%') or a burst "
				      "model ('burst_p' and 'burst_r')");
		else if (parse_percent(v->value, &np->percent) < 0 || np->percent <= 0 ||
			 np->percent > 100)
			fl_errors_add(errs, &v->where,
				      "'percent' must be more than 0 and at most 100, such as '20%%', "
				      "got '%s'",
				      v->value);
		if (mode == NET_LOSS && (v = fl_params_take(p, "correlation"))) {
			double c;
			if (parse_percent(v->value, &c) < 0 || c < 0 || c >= 100)
				fl_errors_add(errs, &v->where,
					      "'correlation' must be a percentage from 0 to less "
					      "than 100, got '%s'",
					      v->value);
			else
				np->correlation = (unsigned)c;
		}
	} else {
		np->percent = 100;
		if (!np->spec.peer && !np->spec.src.family && !np->spec.dst.family && r == 0)
			fl_errors_add(errs, &p->where,
				      "a 'partition' needs 'peer' (a lab host), 'src' or 'dst'");
	}
	if (mode == NET_CORRUPT && np->spec.proto != 0 && np->spec.proto != IPPROTO_TCP &&
	    np->spec.proto != IPPROTO_UDP && (v = fl_params_take(p, "proto")))
		fl_errors_add(errs, &v->where,
			      "a 'corrupt' fault (tc-bpf) damages TCP and UDP payloads: 'proto' "
			      "must be tcp, udp or any, got '%s'",
			      v->value);
	if (!f->on && !np->spec.dev && r == 0)
		fl_errors_add(errs, &p->where,
			      "a network fault needs 'dev' (the interface) unless it is 'on' a lab "
			      "host");
	f->priv = np;
	return errs->n > n0 || r < 0 ? -EINVAL : 0;
}

static int loss_parse(struct fl_fault *f, const struct fl_params *p, struct fl_errors *errs)
{
	return net_parse(f, p, errs, NET_LOSS);
}

static int corrupt_parse(struct fl_fault *f, const struct fl_params *p, struct fl_errors *errs)
{
	return net_parse(f, p, errs, NET_CORRUPT);
}

static int partition_parse(struct fl_fault *f, const struct fl_params *p, struct fl_errors *errs)
{
	return net_parse(f, p, errs, NET_PARTITION);
}

#define BURST_PIN "burst" /* the burst model's state map, next to the counters */

static int tc_probe(const struct fl_fault *f, const char **ret_reason)
{
	struct netfault_bpf *skel;
	int r;

	if (geteuid() != 0) {
		*ret_reason = "tc BPF programs need root (CAP_BPF and CAP_NET_ADMIN)";
		return -EPERM;
	}
	libbpf_set_print(fl_libbpf_quiet);
	skel = netfault_bpf__open_and_load();
	r = skel ? 0 : -errno;
	netfault_bpf__destroy(skel);
	if (r < 0)
		*ret_reason = "the kernel refused the tc classifier program (BPF_PROG_LOAD failed)";
	return r < 0 ? r : 0;
}

/* --- plan: every name and number the fault will own ---------------------------------------- */

static int net_plan(const struct fl_fault *f, struct fl_inject_ctx *ctx, json_t **ret_objects)
{
	const struct net_params *np = f->priv;
	_cleanup_free_ char *netns = NULL, *dev = NULL, *pin = NULL;
	enum fl_direction dir;
	uint32_t handle;
	json_t *hooks, *o;
	int r;

	r = fl_net_place(f, &np->spec, np->on_host, ctx->run_id, &netns, &dev, &dir);
	if (r < 0)
		return r;
	handle = fl_net_handle(ctx->run_id, f->name);
	if (asprintf(&pin, FL_PIN_ROOT "/%s-%08x", ctx->run_id, handle) < 0)
		return -ENOMEM;
	hooks = json_array();
	if (dir != FL_DIR_EGRESS)
		json_array_append_new(hooks, json_string("ingress"));
	if (dir != FL_DIR_INGRESS)
		json_array_append_new(hooks, json_string("egress"));
	o = json_pack("{s:s, s:s?, s:s, s:o, s:I, s:i, s:s, s:f, s:i, s:I}", "type", "tc-bpf",
		      "netns", netns, "dev", dev, "hooks", hooks, "handle", (json_int_t)handle,
		      "priority", FL_TC_PRIORITY, "pin_dir", pin, "percent", np->percent,
		      "correlation", (int)np->correlation, "for_ns", (json_int_t)f->for_ns);
	if (!o)
		return -ENOMEM;
	if (np->burst &&
	    json_object_set_new(o, "burst", json_pack("{s:f, s:f, s:f, s:f}", "p", np->ge.p, "r",
						      np->ge.r, "1h", np->ge.h1, "1k", np->ge.k1))) {
		json_decref(o);
		return -ENOMEM;
	}
	if (np->mode == NET_CORRUPT && json_object_set_new(o, "corrupt", json_true())) {
		json_decref(o);
		return -ENOMEM;
	}
	r = fl_netmatch_plan(f, &np->spec, np->mode == NET_PARTITION, ctx, o);
	if (r < 0) {
		json_decref(o);
		return r;
	}
	*ret_objects = json_array();
	if (!*ret_objects || json_array_append_new(*ret_objects, o) < 0) {
		json_decref(*ret_objects);
		return -ENOMEM;
	}
	return 0;
}

/* --- apply / revert ------------------------------------------------------------------------- */

static int attach_point(const char *s)
{
	return strcmp(s, "egress") == 0 ? BPF_TC_EGRESS : BPF_TC_INGRESS;
}

static int apply_one(json_t *o, struct fl_inject_ctx *ctx, json_t *injected)
{
	const char *netns = json_string_value(json_object_get(o, "netns"));
	const char *dev = json_string_value(json_object_get(o, "dev"));
	const char *pin = json_string_value(json_object_get(o, "pin_dir"));
	uint32_t handle = (uint32_t)json_integer_value(json_object_get(o, "handle"));
	uint32_t prio = (uint32_t)json_integer_value(json_object_get(o, "priority"));
	double percent = json_number_value(json_object_get(o, "percent"));
	json_t *hooks = json_object_get(o, "hooks"), *h, *burst = json_object_get(o, "burst");
	struct netfault_bpf *skel = NULL;
	struct nf_config *c;
	_cleanup_free_ char *mpath = NULL, *opath = NULL, *bpath = NULL;
	int old = -1, ifindex, r;
	size_t i;

	if (!dev || !pin || !json_is_array(hooks))
		return fl_set_reason(&ctx->reason, -EINVAL, "malformed tc-bpf object in the plan");
	r = fl_bpffs_ensure();
	if (r < 0)
		return fl_set_reason(&ctx->reason, r, "cannot mount the BPF filesystem on " FL_BPFFS
				  ": %s", strerror(-r));
	libbpf_set_print(fl_libbpf_quiet);
	skel = netfault_bpf__open();
	if (!skel)
		return fl_set_reason(&ctx->reason, -errno, "cannot open the netfault BPF object: %s",
				  strerror(errno));
	c = (struct nf_config *)&skel->rodata->cfg;
	c->expiry_boot_ns = fl_boottime_ns() +
			    (uint64_t)json_integer_value(json_object_get(o, "for_ns")) +
			    FL_LEASE_GRACE_NS;
	c->threshold = pct_threshold(percent);
	c->correlation = (uint32_t)json_integer_value(json_object_get(o, "correlation"));
	c->corrupt = json_is_true(json_object_get(o, "corrupt"));
	if (burst) {
		c->ge_on = 1;
		c->ge_p = pct_threshold(json_number_value(json_object_get(burst, "p")));
		c->ge_r = pct_threshold(json_number_value(json_object_get(burst, "r")));
		c->ge_loss_bad = pct_threshold(json_number_value(json_object_get(burst, "1h")));
		c->ge_loss_good = pct_threshold(json_number_value(json_object_get(burst, "1k")));
	}
	if (fl_netmatch_config(o, c) < 0) {
		r = fl_set_reason(&ctx->reason, -EINVAL, "malformed match in the plan");
		goto out;
	}
	{
		/* verify only the programs this fault attaches: the load is most of an apply */
		bool in = false, eg = false;
		json_array_foreach(hooks, i, h) {
			if (attach_point(json_string_value(h)) == BPF_TC_EGRESS)
				eg = true;
			else
				in = true;
		}
		bpf_program__set_autoload(skel->progs.netfault_ingress, in);
		bpf_program__set_autoload(skel->progs.netfault_egress, eg);
	}
	r = netfault_bpf__load(skel);
	if (r < 0) {
		r = fl_set_reason(&ctx->reason, r, "the kernel refused the netfault program: %s",
			       strerror(-r));
		goto out;
	}
	if ((mkdir(FL_PIN_ROOT, 0700) < 0 && errno != EEXIST) || (mkdir(pin, 0700) < 0 && errno != EEXIST)) {
		r = fl_set_reason(&ctx->reason, -errno, "cannot create '%s': %s", pin, strerror(errno));
		goto out;
	}
	if (asprintf(&mpath, "%s/counters", pin) < 0 || asprintf(&opath, "%s/owns-clsact", pin) < 0) {
		r = -ENOMEM;
		goto out;
	}
	r = bpf_map__pin(skel->maps.counters, mpath);
	if (r < 0) {
		r = fl_set_reason(&ctx->reason, r, "cannot pin the counters at '%s': %s", mpath,
			       strerror(-r));
		goto out;
	}
	if (burst) {
		/* the chain's state and burst count, for observe() */
		if (asprintf(&bpath, "%s/" BURST_PIN, pin) < 0) {
			r = -ENOMEM;
			goto out;
		}
		r = bpf_map__pin(skel->maps.burst, bpath);
		if (r < 0) {
			r = fl_set_reason(&ctx->reason, r, "cannot pin the burst state at '%s': %s",
					  bpath, strerror(-r));
			goto out;
		}
	}
	r = fl_netns_enter(netns, &old);
	if (r < 0) {
		r = fl_set_reason(&ctx->reason, r, "cannot enter network namespace '%s': %s", netns,
			       strerror(-r));
		goto out;
	}
	ifindex = (int)if_nametoindex(dev);
	if (!ifindex) {
		r = fl_set_reason(&ctx->reason, -ENODEV, "no device '%s'%s%s", dev,
			       netns ? " in network namespace " : "", netns ? netns : "");
		goto out;
	}
	{
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
				    .attach_point = BPF_TC_INGRESS);
		r = bpf_tc_hook_create(&hook);
		if (r == 0) {
			/* ours: the marker tells revert (maybe another process) to remove it */
			bpf_obj_pin(bpf_map__fd(skel->maps.counters), opath);
			json_object_set_new(injected, "created_clsact", json_true());
		} else if (r == -EEXIST) {
			json_object_set_new(injected, "created_clsact", json_false());
		} else {
			r = fl_set_reason(&ctx->reason, r, "cannot add a clsact qdisc to '%s': %s", dev,
				       strerror(-r));
			goto out;
		}
	}
	json_array_foreach(hooks, i, h) {
		int ap = attach_point(json_string_value(h));
		struct bpf_program *prog = ap == BPF_TC_EGRESS ? skel->progs.netfault_egress :
								skel->progs.netfault_ingress;
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = ap);
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = prio,
				    .prog_fd = bpf_program__fd(prog));
		r = bpf_tc_attach(&hook, &opts);
		if (r < 0) {
			r = fl_set_reason(&ctx->reason, r, "cannot attach the %s filter to '%s': %s",
				       json_string_value(h), dev, strerror(-r));
			goto out;
		}
		json_object_set_new(injected, ap == BPF_TC_EGRESS ? "egress_prog_id" :
								    "ingress_prog_id",
				    json_integer(opts.prog_id));
	}
	json_object_set_new(injected, "percent", json_real(percent));
	if (burst) {
		json_object_set(injected, "burst", burst);
		json_object_set_new(injected, "expected_loss_percent", json_real(percent));
	}
	json_object_set_new(injected, "netns", netns ? json_string(netns) : json_null());
	json_object_set_new(injected, "dev", json_string(dev));
	json_object_set_new(injected, "hooks", json_copy(hooks));
	json_object_set_new(injected, "counters", json_string(mpath));
	json_object_set_new(injected, "expires_boot_ns", json_integer((json_int_t)c->expiry_boot_ns));
	r = 0;
out:
	fl_netns_leave(old);
	/* the filters hold the programs, the pin holds the counters: our fds can go */
	netfault_bpf__destroy(skel);
	return r;
}

static int net_apply(const struct fl_fault *f, json_t *objects, struct fl_inject_ctx *ctx,
		     json_t *injected)
{
	json_t *o;
	size_t i;
	int r;

	json_array_foreach(objects, i, o) {
		r = apply_one(o, ctx, injected);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Filters left under one clsact hook (any owner), or a negative errno. */
static int count_filters(int ifindex, uint32_t parent)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_cache *cache = NULL;
	int r;

	if (!sk)
		return -ENOMEM;
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r == 0)
		r = rtnl_cls_alloc_cache(sk, ifindex, parent, &cache);
	if (r == 0) {
		r = nl_cache_nitems(cache);
		nl_cache_free(cache);
	} else {
		r = -EIO;
	}
	nl_socket_free(sk);
	return r;
}

/* Is the filter at (handle, prio) one of ours (a netfault program)? */
static bool ours(int prog_id)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);
	_cleanup_close_ int fd = bpf_prog_get_fd_by_id((uint32_t)prog_id);

	if (fd < 0)
		return false;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return false;
	return strncmp(info.name, "netfault_", 9) == 0;
}

/* Packets seen, matched and dropped by every hook of the fault, from the pinned counters. */
/* Good -> bad transitions of a burst model's chain, from its pinned state; -1 when none. */
static long long burst_count(const char *pin)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	struct nf_burst b;
	uint32_t zero = 0;

	if (asprintf(&path, "%s/" BURST_PIN, pin) < 0)
		return -1;
	fd = bpf_obj_get(path);
	if (fd < 0 || bpf_map_lookup_elem(fd, &zero, &b) < 0)
		return -1;
	return (long long)b.bursts;
}

static int net_observe(json_t *objects, json_t *observed)
{
	long long sum[NF_N_COUNTERS] = { 0 }, bursts = -1;
	double expected = -1;
	bool any = false, corrupt = false;
	json_t *o;
	size_t i;

	json_array_foreach(objects, i, o) {
		const char *pin = json_string_value(json_object_get(o, "pin_dir"));
		_cleanup_free_ char *mpath = NULL;
		_cleanup_close_ int fd = -1;

		if (!pin || asprintf(&mpath, "%s/counters", pin) < 0)
			continue;
		fd = bpf_obj_get(mpath);
		if (fd < 0)
			continue;
		for (int c = 0; c < NF_N_COUNTERS; c++)
			sum[c] += fl_bpf_percpu_sum(fd, (enum nf_counter)c);
		if (json_is_number(json_object_get(o, "percent")))
			expected = json_number_value(json_object_get(o, "percent")) / 100.0;
		if (json_object_get(o, "burst"))
			bursts = burst_count(pin);
		corrupt = json_is_true(json_object_get(o, "corrupt"));
		any = true;
	}
	if (!any)
		return -ENOENT;
	/* what the program was set to drop in the long run, next to what it did */
	if (expected >= 0)
		json_object_set_new(observed, corrupt ? "expected_corrupted_ratio"
						      : "expected_drop_ratio",
				    json_real(expected));
	if (bursts >= 0)
		json_object_set_new(observed, "bursts", json_integer(bursts));
	json_object_set_new(observed, "packets_seen", json_integer(sum[NF_SEEN]));
	json_object_set_new(observed, "packets_matched", json_integer(sum[NF_MATCHED]));
	json_object_set_new(observed, corrupt ? "packets_corrupted" : "packets_dropped",
			    json_integer(sum[NF_DROPPED]));
	if (sum[NF_MATCHED])
		json_object_set_new(observed, corrupt ? "corrupted_ratio" : "drop_ratio",
				    json_real((double)sum[NF_DROPPED] / (double)sum[NF_MATCHED]));
	return 0;
}

static int revert_one(json_t *o, char **ret_reason)
{
	const char *netns = json_string_value(json_object_get(o, "netns"));
	const char *dev = json_string_value(json_object_get(o, "dev"));
	const char *pin = json_string_value(json_object_get(o, "pin_dir"));
	uint32_t handle = (uint32_t)json_integer_value(json_object_get(o, "handle"));
	uint32_t prio = (uint32_t)json_integer_value(json_object_get(o, "priority"));
	json_t *hooks = json_object_get(o, "hooks"), *h;
	_cleanup_free_ char *mpath = NULL, *opath = NULL, *bpath = NULL;
	bool owns = false;
	int old = -1, ifindex, r = 0, k;
	size_t i;

	if (!dev || !pin || !json_is_array(hooks))
		return fl_set_reason(ret_reason, -EINVAL, "malformed tc-bpf object in the journal");
	if (asprintf(&mpath, "%s/counters", pin) < 0 ||
	    asprintf(&opath, "%s/owns-clsact", pin) < 0 ||
	    asprintf(&bpath, "%s/" BURST_PIN, pin) < 0)
		return -ENOMEM;
	{
		_cleanup_close_ int fd = bpf_obj_get(mpath);
		if (fd >= 0)
			log_debug("tc-bpf on '%s': %lld packets seen, %lld matched, %lld dropped", dev,
				 fl_bpf_percpu_sum(fd, NF_SEEN), fl_bpf_percpu_sum(fd, NF_MATCHED),
				 fl_bpf_percpu_sum(fd, NF_DROPPED));
	}
	owns = access(opath, F_OK) == 0;
	k = fl_netns_enter(netns, &old);
	if (k == -ENOENT)
		goto unpin; /* the namespace is gone, and our filters with it */
	if (k < 0)
		return fl_set_reason(ret_reason, k, "cannot enter network namespace '%s': %s", netns,
				  strerror(-k));
	ifindex = (int)if_nametoindex(dev);
	if (!ifindex)
		goto leave; /* the device is gone, and our filters with it */
	json_array_foreach(hooks, i, h) {
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
				    .attach_point = attach_point(json_string_value(h)));
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, q, .handle = handle, .priority = prio);
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, d, .handle = handle, .priority = prio);

		k = bpf_tc_query(&hook, &q);
		if (k == -ENOENT || k == -EINVAL)
			continue; /* already gone (no filter, or no clsact at all) */
		if (k < 0 || !ours((int)q.prog_id)) {
			if (!r)
				r = fl_set_reason(ret_reason, k < 0 ? k : -EBUSY,
					       "filter %#x prio %#x on '%s' %s is %s", handle, prio,
					       dev, json_string_value(h),
					       k < 0 ? "unreadable" : "not ours: left alone");
			continue;
		}
		k = bpf_tc_detach(&hook, &d);
		if (k < 0 && k != -ENOENT && !r)
			r = fl_set_reason(ret_reason, k, "cannot remove our %s filter from '%s': %s",
				       json_string_value(h), dev, strerror(-k));
	}
	if (owns && r == 0) {
		/* we created the clsact: remove it only if nobody else put a filter there since */
		int in = count_filters(ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS));
		int eg = count_filters(ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS));
		if (in == 0 && eg == 0) {
			DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
					    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
			k = bpf_tc_hook_destroy(&hook);
			if (k < 0 && k != -ENOENT && k != -EINVAL)
				r = fl_set_reason(ret_reason, k, "cannot remove our clsact from '%s': %s",
					       dev, strerror(-k));
		} else if (in > 0 || eg > 0) {
			log_debug("tc-bpf: leaving the clsact on '%s' we added: it has other filters",
				 dev);
		}
	}
leave:
	fl_netns_leave(old);
unpin:
	if (r < 0)
		return r;
	if ((unlink(mpath) < 0 && errno != ENOENT) || (unlink(opath) < 0 && errno != ENOENT) ||
	    (unlink(bpath) < 0 && errno != ENOENT) || (rmdir(pin) < 0 && errno != ENOENT))
		return fl_set_reason(ret_reason, -errno, "cannot remove '%s': %s", pin, strerror(errno));
	rmdir(FL_PIN_ROOT); /* only when empty */
	fl_bpffs_release();
	return 0;
}

static int net_revert(json_t *objects, char **ret_reason)
{
	return fl_revert_each(objects, revert_one, ret_reason);
}

/* The filter and the place of a network fault in words: "udp dport 9000 ingress", " in ...". */
struct net_words {
	char spec[256], where[128];
};

static const struct net_params *net_words(const struct fl_fault *f, struct net_words *w)
{
	const struct net_params *np = f->priv;

	if (!np)
		return NULL;
	fl_netspec_describe(&np->spec, w->spec, sizeof(w->spec));
	if (f->on && !np->on_host)
		snprintf(w->where, sizeof(w->where), " at the switch port of %s", f->on);
	else if (f->on)
		snprintf(w->where, sizeof(w->where), " on %s's %s", f->on,
			 np->spec.dev ? np->spec.dev : "eth0");
	else if (f->target.netns)
		snprintf(w->where, sizeof(w->where), " in netns %s", f->target.netns);
	else
		w->where[0] = '\0';
	return np;
}

static int loss_describe(const struct fl_fault *f, char *buf, size_t len)
{
	struct net_words w;
	const struct net_params *np = net_words(f, &w);
	char cor[48] = "";

	if (!np)
		return -EINVAL;
	if (np->burst) {
		snprintf(buf, len,
			 "burst loss (GE p=%g%% r=%g%% 1-h=%g%% 1-k=%g%%), expected %.1f%% %s%s",
			 np->ge.p, np->ge.r, np->ge.h1, np->ge.k1, np->percent, w.spec, w.where);
		return 0;
	}
	if (np->correlation)
		snprintf(cor, sizeof(cor), " (correlation %u%%)", np->correlation);
	snprintf(buf, len, "%g%% loss%s %s%s", np->percent, cor, w.spec, w.where);
	return 0;
}

static int corrupt_describe(const struct fl_fault *f, char *buf, size_t len)
{
	struct net_words w;
	const struct net_params *np = net_words(f, &w);

	if (!np)
		return -EINVAL;
	snprintf(buf, len, "corrupt %g%% of %s%s (one payload bit, checksum fixed)", np->percent,
		 w.spec, w.where);
	return 0;
}

static int partition_describe(const struct fl_fault *f, char *buf, size_t len)
{
	struct net_words w;

	if (!net_words(f, &w))
		return -EINVAL;
	snprintf(buf, len, "partition: drop all %s%s", w.spec, w.where);
	return 0;
}

#define NET_KEYS "dev", "direction", "src", "dst", "proto", "sport", "dport", "cgroup", "peer", \
		 "exclude", "placement"

/* What the tc-bpf backends share: one plan, apply, revert and observe for all. */
#define NET_TC_OPS                                                                         \
	.needs_target = false, .reversible = true, .free_priv = net_params_free,          \
	.probe = tc_probe, .plan = net_plan, .apply = net_apply, .revert = net_revert,    \
	.observe = net_observe

const struct fl_backend fl_backend_loss_tc = {
	.kind = "loss",
	.name = "tc-bpf",
	.summary = "drop a share of packets with a tc clsact BPF classifier (self-expiring)",
	.keys = (const char *const[]){ NET_KEYS, "percent", "correlation", "burst_p", "burst_r",
				       "burst_1h", "burst_1k", NULL },
	NET_TC_OPS,
	.parse = loss_parse,
	.describe = loss_describe,
};

const struct fl_backend fl_backend_partition_tc = {
	.kind = "partition",
	.name = "tc-bpf",
	.summary = "drop all traffic to/from a peer or addresses with a tc clsact BPF classifier",
	.keys = (const char *const[]){ NET_KEYS, NULL },
	NET_TC_OPS,
	.parse = partition_parse,
	.describe = partition_describe,
};

/*
 * After netem in preference (registry.c). netem flips a bit anywhere and the receiver's
 * checksum catches it (the packet is lost to the application); this one fixes the TCP/UDP
 * checksum so the damaged payload reaches the application: the corruption a checksum missed.
 */
const struct fl_backend fl_backend_corrupt_tc = {
	.kind = "corrupt",
	.name = "tc-bpf",
	.summary = "flip one payload bit of a share of TCP/UDP packets, checksum fixed (tc BPF)",
	.keys = (const char *const[]){ NET_KEYS, "percent", NULL },
	NET_TC_OPS,
	.parse = corrupt_parse,
	.describe = corrupt_describe,
};
