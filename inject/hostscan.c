// SPDX-License-Identifier: GPL-2.0-only
/* Find the kernel objects faultline creates (read-only) and match them to the journal. */
#include <netinet/in.h> /* before the linux/ headers, which then leave its types alone */
#include <bpf/bpf.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#include "inject/hostscan.h"
#include "inject/log.h"
#include "inject/netutil.h"
#include "inject/util.h"

#define FL_QDISC_MAJOR 0xfa170000u /* our root qdiscs' handle, fa17: (inject/net_netem.h) */

struct scan {
	const struct fl_run_info *runs;
	size_t n_runs;
	json_t *out;
};

static bool run_id_at(const char *s, char ret[13])
{
	for (int i = 0; i < 12; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	memcpy(ret, s, 12);
	ret[12] = '\0';
	return true;
}

/* "fl-0123456789ab-sw" -> "0123456789ab" */
static bool netns_run(const char *netns, char ret[13])
{
	return netns && !strncmp(netns, "fl-", 3) && strlen(netns) > 16 && netns[15] == '-' &&
	       run_id_at(netns + 3, ret);
}

bool fl_hostscan_comment_run(const char *comment, char ret_run[13])
{
	return !strncmp(comment, "faultline:", 10) && run_id_at(comment + 10, ret_run) &&
	       (comment[22] == ':' || comment[22] == '\0');
}

bool fl_hostscan_ipt_rule(const char *line, const char *table, const char *save_cmd,
			  char ret_run[13], char **ret_delete)
{
	const char *c = strstr(line, "--comment "), *cmd;
	size_t len;

	if (strncmp(line, "-A ", 3) || !c)
		return false;
	c += 10;
	if (*c == '"')
		c++;
	if (!fl_hostscan_comment_run(c, ret_run))
		return false;
	/* iptables-save quotes what needs it, so its line is a command line again */
	cmd = strncmp(save_cmd, "ip6", 3) ? "iptables" : "ip6tables";
	len = strcspn(line, "\n");
	return asprintf(ret_delete, "%s -t %s -D %.*s", cmd, table, (int)(len - 3), line + 3) > 0;
}

static const struct fl_run_info *known_run(const struct scan *s, const char *id)
{
	for (size_t i = 0; id && i < s->n_runs; i++)
		if (!strcmp(s->runs[i].id, id))
			return &s->runs[i];
	return NULL;
}

/*
 * The journal record that plans this tc object: a qdisc (handle < 0) or a filter with this
 * handle on (netns, dev). Returns the owning run's id, or NULL.
 */
static const char *planned_by(const struct scan *s, const char *netns, const char *dev,
			      long long handle)
{
	for (size_t i = 0; i < s->n_runs; i++) {
		json_t *f, *o;
		size_t k, m;

		json_array_foreach(s->runs[i].faults, k, f) {
			json_array_foreach(json_object_get(f, "objects"), m, o) {
				const char *ons = json_string_value(json_object_get(o, "netns"));
				const char *odev = json_string_value(json_object_get(o, "dev"));
				const char *type = json_string_value(json_object_get(o, "type"));
				json_t *h = json_object_get(o, "handle");

				if (!odev || strcmp(odev, dev) || (!ons != !netns) ||
				    (ons && strcmp(ons, netns)))
					continue;
				if (handle < 0 && type && !strcmp(type, "qdisc"))
					return s->runs[i].id;
				if (handle >= 0 && json_object_get(o, "priority") &&
				    json_integer_value(h) == handle)
					return s->runs[i].id;
			}
		}
	}
	return NULL;
}

/* Record one object; `run` may be NULL. The remove command is printf-style. */
_printf_(7, 8) static void add(struct scan *s, const char *type, const char *netns,
			       const char *run, bool tracked, const char *what, const char *fmt,
			       ...)
{
	_cleanup_free_ char *remove = NULL;
	va_list ap;
	json_t *o;

	va_start(ap, fmt);
	if (vasprintf(&remove, fmt, ap) < 0)
		remove = NULL;
	va_end(ap);
	o = json_pack("{s:s, s:s, s:b, s:s?}", "type", type, "what", what, "tracked", tracked,
		      "remove", remove);
	if (!o)
		return;
	if (netns)
		json_object_set_new(o, "netns", json_string(netns));
	if (run)
		json_object_set_new(o, "run_id", json_string(run));
	json_array_append_new(s->out, o);
}

/* The run of a filter from its pin, RUN-HANDLE (a tc-bpf fault pins its counters there). */
static bool pin_run(uint32_t handle, char ret[13])
{
	DIR *d = opendir(FL_PIN_ROOT);
	struct dirent *de;
	char suffix[16];
	bool found = false;

	snprintf(suffix, sizeof(suffix), "-%08x", handle);
	while (d && !found && (de = readdir(d)))
		found = strlen(de->d_name) == 21 && !strcmp(de->d_name + 12, suffix) &&
			run_id_at(de->d_name, ret);
	if (d)
		closedir(d);
	return found;
}

/* A tc object: tracked when a record plans it, or when it lives in a known run's namespace. */
static void add_tc(struct scan *s, const char *type, const char *netns, const char *dev,
		   long long handle, const char *what, const char *remove)
{
	const char *run = planned_by(s, netns, dev, handle);
	char nsrun[13];

	if (!run && (netns_run(netns, nsrun) || (handle >= 0 && pin_run((uint32_t)handle, nsrun))))
		run = known_run(s, nsrun) ? known_run(s, nsrun)->id : nsrun;
	add(s, type, netns, run, planned_by(s, netns, dev, handle) || known_run(s, run), what,
	    "tc %s%s%s%s", netns ? "-n " : "", netns ?: "", netns ? " " : "", remove);
}

/* --- tc: root qdiscs fa17: and our filters under clsact -------------------------------- */

struct filter_dump {
	struct scan *s;
	const char *netns, *dev, *hook;
};

/* The name the kernel gives a loaded program ("netfault_egres": 15 characters). */
static bool prog_name(uint32_t id, char *buf, size_t len)
{
	struct bpf_prog_info info = { 0 };
	uint32_t ilen = sizeof(info);
	_cleanup_close_ int fd = bpf_prog_get_fd_by_id(id);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &ilen) < 0)
		return false;
	snprintf(buf, len, "%s", info.name);
	return true;
}

static int filter_cb(struct nl_msg *msg, void *arg)
{
	struct filter_dump *d = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct tcmsg *t = nlmsg_data(nlh);
	struct nlattr *tb[TCA_MAX + 1], *opt[TCA_BPF_MAX + 1];
	char name[64] = "", what[256], rm[160];
	uint32_t id;

	if (nlmsg_parse(nlh, sizeof(*t), tb, TCA_MAX, NULL) < 0 || !tb[TCA_KIND] ||
	    !tb[TCA_OPTIONS] || strcmp(nla_get_string(tb[TCA_KIND]), "bpf") ||
	    TC_H_MAJ(t->tcm_info) >> 16 != FL_TC_PRIORITY)
		return NL_OK;
	if (nla_parse_nested(opt, TCA_BPF_MAX, tb[TCA_OPTIONS], NULL) < 0 || !opt[TCA_BPF_ID])
		return NL_OK;
	id = nla_get_u32(opt[TCA_BPF_ID]);
	if (!prog_name(id, name, sizeof(name)) ||
	    (strncmp(name, "netfault_", 9) && strncmp(name, "netclass_", 9)))
		return NL_OK;
	snprintf(what, sizeof(what), "tc filter on %s %s pref %#x handle %#x: BPF %s (id %u)",
		 d->dev, d->hook, FL_TC_PRIORITY, t->tcm_handle, name, id);
	snprintf(rm, sizeof(rm), "filter del dev %s %s pref %u handle %#x bpf", d->dev, d->hook,
		 FL_TC_PRIORITY, t->tcm_handle);
	add_tc(d->s, "tc-filter", d->netns, d->dev, t->tcm_handle, what, rm);
	return NL_OK;
}

static void scan_filters(struct scan *s, struct nl_sock *sk, const char *netns, int ifindex,
			 const char *dev)
{
	static const struct {
		const char *hook;
		uint32_t min;
	} hooks[] = { { "ingress", TC_H_MIN_INGRESS }, { "egress", TC_H_MIN_EGRESS } };

	for (size_t i = 0; i < ARRAY_SIZE(hooks); i++) {
		struct tcmsg t = { .tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex,
				   .tcm_parent = TC_H_MAKE(TC_H_CLSACT, hooks[i].min) };
		struct filter_dump d = { s, netns, dev, hooks[i].hook };
		struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);

		if (!cb)
			return;
		nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, filter_cb, &d);
		if (nl_send_simple(sk, RTM_GETTFILTER, NLM_F_DUMP, &t, sizeof(t)) >= 0)
			nl_recvmsgs(sk, cb);
		nl_cb_put(cb);
	}
}

static void scan_tc(struct scan *s, const char *netns)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_cache *qc = NULL;
	struct nl_object *obj;

	if (!sk)
		return;
	if (nl_connect(sk, NETLINK_ROUTE) < 0 || rtnl_qdisc_alloc_cache(sk, &qc) < 0)
		goto out;
	for (obj = nl_cache_get_first(qc); obj; obj = nl_cache_get_next(obj)) {
		struct rtnl_tc *tc = TC_CAST(obj);
		uint32_t handle = rtnl_tc_get_handle(tc);
		const char *kind = rtnl_tc_get_kind(tc) ?: "?";
		char dev[IF_NAMESIZE] = "?", what[256], rm[64];
		int ifindex = rtnl_tc_get_ifindex(tc);

		if_indextoname((unsigned)ifindex, dev);
		if (!strcmp(kind, "clsact")) {
			scan_filters(s, sk, netns, ifindex, dev);
			continue;
		}
		if (rtnl_tc_get_parent(tc) != TC_H_ROOT || TC_H_MAJ(handle) != FL_QDISC_MAJOR)
			continue;
		snprintf(what, sizeof(what), "%s qdisc fa17: root on %s", kind, dev);
		/* the user's root it replaced is only in the journal: without it, the default */
		snprintf(rm, sizeof(rm), "qdisc del dev %s root", dev);
		add_tc(s, "qdisc", netns, dev, -1, what, rm);
	}
out:
	nl_cache_free(qc);
	nl_socket_free(sk);
}

/* --- iptables / ip6tables rules with our comment ------------------------------------------ */

/* A user chain our rules jump to ("-j FL-3332c995"), removed after the rules. */
struct ipt_chain {
	char name[32];
	char run[13];
};

static bool chain_seen(const struct ipt_chain *ch, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (!strcmp(ch[k].name, ch[n].name))
			return true;
	return false;
}

static void add_chains(struct scan *s, const char *netns, const char *save, const char *table,
		       const char *text, struct ipt_chain *ch, size_t n)
{
	const char *cmd = strncmp(save, "ip6", 3) ? "iptables" : "ip6tables";

	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *decl = NULL;
		char what[128];

		/* only a user chain of this table (declared ":NAME - [0:0]"), never a builtin */
		if (asprintf(&decl, "\n:%s - ", ch[i].name) < 0 || !strstr(text, decl))
			continue;
		snprintf(what, sizeof(what), "%s chain %.31s in table %.31s", cmd,
			 ch[i].name, table);
		add(s, "iptables-chain", netns, ch[i].run, known_run(s, ch[i].run), what,
		    "%s%s%s%s -t %s -F %s; %s%s%s%s -t %s -X %s", netns ? "ip netns exec " : "",
		    netns ?: "", netns ? " " : "", cmd, table, ch[i].name,
		    netns ? "ip netns exec " : "", netns ?: "", netns ? " " : "", cmd, table,
		    ch[i].name);
	}
}

/* What a dump of the namespace's nf_tables tables says. */
struct nft_tables {
	bool has[2]; /* a table of family ip, ip6 (iptables-nft's, or ours) */
	struct {
		char name[64];
		uint8_t family;
	} ours[16]; /* faultline-RUN-HANDLE: the nfqueue backend's own tables */
	size_t n_ours;
};

static int table_cb(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nfgenmsg *g = nlmsg_data(nlh);
	struct nlattr *tb[NFTA_TABLE_MAX + 1];
	struct nft_tables *t = arg;

	if (g->nfgen_family == NFPROTO_IPV4)
		t->has[0] = true;
	else if (g->nfgen_family == NFPROTO_IPV6)
		t->has[1] = true;
	if (nlmsg_parse(nlh, sizeof(*g), tb, NFTA_TABLE_MAX, NULL) == 0 && tb[NFTA_TABLE_NAME] &&
	    t->n_ours < ARRAY_SIZE(t->ours)) {
		const char *name = nla_get_string(tb[NFTA_TABLE_NAME]);
		if (!strncmp(name, "faultline-", 10) && strlen(name) < sizeof(t->ours[0].name)) {
			snprintf(t->ours[t->n_ours].name, sizeof(t->ours[0].name), "%s", name);
			t->ours[t->n_ours++].family = g->nfgen_family;
		}
	}
	return NL_OK;
}

/*
 * The namespace's nf_tables tables: which of iptables-save and ip6tables-save can have
 * something to say (an nf_tables table of family ip or ip6, iptables-nft's, or a legacy
 * x_tables table: most namespaces have none, and each save costs an exec, 3-7 ms here), and
 * the tables of our own.
 */
static void nft_tables(struct nft_tables *t)
{
	static const char *const legacy[] = { "/proc/thread-self/net/ip_tables_names",
					      "/proc/thread-self/net/ip6_tables_names" };
	struct nfgenmsg g = { .nfgen_family = AF_UNSPEC, .version = NFNETLINK_V0 };
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);

	*t = (struct nft_tables){ 0 };
	for (int i = 0; i < 2; i++) {
		_cleanup_fclose_ FILE *fp = fopen(legacy[i], "re");
		t->has[i] = fp && fgetc(fp) != EOF;
	}
	if (!sk || !cb || nl_connect(sk, NETLINK_NETFILTER) < 0) {
		t->has[0] = t->has[1] = true; /* cannot tell: look */
		goto out;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, table_cb, t);
	if (nl_send_simple(sk, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE, NLM_F_DUMP, &g,
			   sizeof(g)) < 0 ||
	    nl_recvmsgs(sk, cb) < 0)
		t->has[0] = t->has[1] = true;
out:
	nl_cb_put(cb);
	nl_socket_free(sk);
}

/* faultline-RUN-HANDLE tables: the nfqueue latency backend's rules (inject/nfqnft.c) */
static void add_nft_tables(struct scan *s, const char *netns, const struct nft_tables *t)
{
	for (size_t i = 0; i < t->n_ours; i++) {
		const char *fam = t->ours[i].family == NFPROTO_IPV6 ? "ip6" : "ip";
		char run[13], what[128];
		bool has_run = run_id_at(t->ours[i].name + 10, run);

		snprintf(what, sizeof(what), "nftables table %s %s", fam, t->ours[i].name);
		add(s, "nftables", netns, has_run ? run : NULL, has_run && known_run(s, run), what,
		    "%s%s%snft delete table %s %s", netns ? "ip netns exec " : "", netns ?: "",
		    netns ? " " : "", fam, t->ours[i].name);
	}
}

static void scan_iptables(struct scan *s, const char *netns)
{
	static const char *const saves[] = { "iptables-save", "ip6tables-save" };
	struct nft_tables t;

	nft_tables(&t);
	add_nft_tables(s, netns, &t);
	for (size_t i = 0; i < ARRAY_SIZE(saves); i++) {
		char *argv[] = { (char *)saves[i], NULL };
		_cleanup_free_ char *text = NULL, *copy = NULL;
		char table[32] = "filter", *save = NULL;
		struct ipt_chain chains[16];
		size_t n_chains = 0;

		/* its standard output in the namespace we are in; nothing when it cannot run */
		if (!t.has[i] || fl_run_capture(NULL, argv, NULL, false, &text) != 0 || !text ||
		    !(copy = strdup(text)))
			continue;
		for (char *line = strtok_r(copy, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			_cleanup_free_ char *del = NULL;
			char run[13], *j;

			if (line[0] == '*') {
				snprintf(table, sizeof(table), "%s", line + 1);
				n_chains = 0;
				continue;
			}
			if (!strcmp(line, "COMMIT")) {
				add_chains(s, netns, saves[i], table, text, chains, n_chains);
				continue;
			}
			if (!fl_hostscan_ipt_rule(line, table, saves[i], run, &del))
				continue;
			add(s, "iptables", netns, run, known_run(s, run), line, "%s%s%s%s",
			    netns ? "ip netns exec " : "", netns ?: "", netns ? " " : "", del);
			j = strstr(line, " -j ");
			if (j && n_chains < ARRAY_SIZE(chains) &&
			    sscanf(j + 4, "%31[^ ]", chains[n_chains].name) == 1 &&
			    !chain_seen(chains, n_chains)) {
				memcpy(chains[n_chains].run, run, sizeof(run));
				n_chains++;
			}
		}
	}
}

/* --- pins, processes, namespaces --------------------------------------------------------- */

static void scan_pins(struct scan *s)
{
	struct statfs sf;
	struct dirent *de;
	DIR *d;

	if (statfs(FL_BPFFS, &sf) < 0 || sf.f_type != BPF_FS_MAGIC)
		return; /* no bpffs: nothing can be pinned */
	d = opendir(FL_PIN_ROOT);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char run[13], what[320];
		bool ok;

		if (de->d_name[0] == '.')
			continue;
		ok = run_id_at(de->d_name, run) && de->d_name[12] == '-';
		snprintf(what, sizeof(what), "BPF pin " FL_PIN_ROOT "/%s", de->d_name);
		add(s, "pin", NULL, ok ? run : NULL, ok && known_run(s, run), what,
		    "rm -r " FL_PIN_ROOT "/%s", de->d_name);
	}
	closedir(d);
}

/* The run whose journal directory has this inode (what an inotify watch shows). */
static const char *run_of_dir_inode(const struct scan *s, unsigned long ino)
{
	for (size_t i = 0; i < s->n_runs; i++) {
		_cleanup_free_ char *dir = NULL;
		struct stat st;

		if (asprintf(&dir, "%s/runs/%s", fl_state_dir(), s->runs[i].id) > 0 &&
		    stat(dir, &st) == 0 && st.st_ino == ino)
			return s->runs[i].id;
	}
	return NULL;
}

/* The run whose journal names pid in a daemon's pidfile ("pidfile" of a planned object). */
static const char *pidfile_run(const struct scan *s, int pid)
{
	for (size_t i = 0; i < s->n_runs; i++) {
		json_t *f, *o;
		size_t k, m;

		json_array_foreach(s->runs[i].faults, k, f) {
			json_array_foreach(json_object_get(f, "objects"), m, o) {
				const char *pf = json_string_value(json_object_get(o, "pidfile"));
				_cleanup_free_ char *text = NULL;

				if (pf && fl_read_file(pf, &text, NULL) == 0 && atoi(text) == pid)
					return s->runs[i].id;
			}
		}
	}
	return NULL;
}

/* The run a faultline process works for: its parent is a run's owner, its argv names the run,
 * a run's daemon pidfile names it, or (the guard) its inotify watch is on a run's journal
 * directory. */
static const char *process_run(const struct scan *s, int pid)
{
	char path[64], buf[4096];
	_cleanup_close_ int fd = -1;
	struct dirent *de;
	long long ppid = -1;
	const char *run;
	ssize_t n;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && (n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		char *rp;
		buf[n] = '\0';
		rp = strrchr(buf, ')');
		if (rp)
			sscanf(rp + 1, " %*c %lld", &ppid);
	}
	for (size_t i = 0; i < s->n_runs; i++)
		if (json_integer_value(json_object_get(s->runs[i].run, "owner")) == ppid)
			return s->runs[i].id;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	closep(&fd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && (n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		for (ssize_t k = 0; k < n; k++)
			if (buf[k] == '\0')
				buf[k] = ' ';
		for (size_t i = 0; i < s->n_runs; i++)
			if (strstr(buf, s->runs[i].id))
				return s->runs[i].id;
	}
	if ((run = pidfile_run(s, pid)))
		return run;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo", pid);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		_cleanup_fclose_ FILE *fp = NULL;
		char line[256], fpath[384];
		unsigned long ino;

		if (de->d_name[0] == '.')
			continue;
		snprintf(fpath, sizeof(fpath), "%s/%s", path, de->d_name);
		fp = fopen(fpath, "re");
		while (fp && fgets(line, sizeof(line), fp)) {
			char *p = strstr(line, " ino:");
			if (strncmp(line, "inotify ", 8) || !p || sscanf(p + 5, "%lx", &ino) != 1)
				continue;
			if ((run = run_of_dir_inode(s, ino))) {
				closedir(d);
				return run;
			}
		}
	}
	if (d)
		closedir(d);
	return NULL;
}

static void scan_processes(struct scan *s)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	while (d && (de = readdir(d))) {
		char path[64], comm[32] = "", what[96];
		_cleanup_close_ int fd = -1;
		const char *run;
		ssize_t n;
		int pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = atoi(de->d_name);
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || (n = read(fd, comm, sizeof(comm) - 1)) <= 0)
			continue;
		comm[strcspn(comm, "\n")] = '\0';
		if (strcmp(comm, "faultline-nfqd") && strcmp(comm, "faultline-guard") &&
		    strcmp(comm, "faultline-fused"))
			continue;
		run = process_run(s, pid);
		snprintf(what, sizeof(what), "process %s (pid %d)", comm, pid);
		add(s, "process", NULL, run, run != NULL, what, "kill %d", pid);
	}
	if (d)
		closedir(d);
}

/* FUSE mounts of a disk fault (fuse.faultline, fsname faultline:RUN-HANDLE). */
static void scan_mounts(struct scan *s)
{
	_cleanup_fclose_ FILE *fp = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;

	while (fp && getline(&line, &cap, fp) > 0) {
		char mnt[1024], fstype[64], src[128], run[13], what[1200];
		const char *sep = strstr(line, " - ");
		bool has_run;

		if (!sep || sscanf(line, "%*s %*s %*s %*s %1023s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s %127s", fstype, src) != 2 ||
		    strcmp(fstype, "fuse.faultline"))
			continue;
		has_run = !strncmp(src, "faultline:", 10) && run_id_at(src + 10, run);
		snprintf(what, sizeof(what), "FUSE mount %s at %s", src, mnt);
		add(s, "mount", NULL, has_run ? run : NULL, has_run && known_run(s, run), what,
		    "umount -l %s", mnt);
	}
}

/* Each /run/netns/NAME, and in it (as in the root namespace) qdiscs, filters and rules. */
static void scan_namespaces(struct scan *s)
{
	DIR *d = opendir("/run/netns");
	struct dirent *de;

	scan_tc(s, NULL);
	scan_iptables(s, NULL);
	while (d && (de = readdir(d))) {
		char run[13], what[300];
		int old = -1;

		if (de->d_name[0] == '.')
			continue;
		if (netns_run(de->d_name, run)) {
			snprintf(what, sizeof(what), "network namespace %s", de->d_name);
			add(s, "netns", de->d_name, run, known_run(s, run), what,
			    "ip netns pids %s | xargs -r kill -KILL; ip netns delete %s",
			    de->d_name, de->d_name);
		}
		if (fl_netns_enter(de->d_name, &old) < 0)
			continue;
		scan_tc(s, de->d_name);
		scan_iptables(s, de->d_name);
		fl_netns_leave(old);
	}
	if (d)
		closedir(d);
}

int fl_hostscan(const struct fl_run_info *runs, size_t n_runs, json_t **ret)
{
	struct scan s = { runs, n_runs, json_array() };

	if (!s.out)
		return -ENOMEM;
	scan_namespaces(&s);
	scan_pins(&s);
	scan_processes(&s);
	scan_mounts(&s);
	*ret = s.out;
	return 0;
}
