/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Remote hosts of a scenario (`hosts:`), the fan-out policy (`fanout:`) and the selectors of a
 * fault's `on:` that choose among them (a name, a group, N or P% of a group, with the seed).
 *
 *   hosts:
 *     - name: web1
 *       address: 192.0.2.10             # or `lab: web1`: a lab host, reached through the lab
 *       groups: [web, eu]
 *       transport: ssh                  # or { ssh: { user: root, port: 22, ssh_config: F } }
 *     - name: web2
 *       lab: web2
 *       groups: [web]
 *       transport: { agent: { port: 7443, ca: ca.pem, cert: c.pem, key: c.key } }
 *   fanout: { concurrency: 32, timeout: 10s, lease: 10s, on_host_failure: abort }
 *   faults:
 *     - { kind: loss, dev: eth0, percent: 100, on: { group: web, percent: 30 }, for: 5s }
 */
#ifndef FL_HOSTS_H
#define FL_HOSTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inject/remote.h"
#include "scenarios/diag.h"

#define FL_MAX_REMOTE_HOSTS 4096
#define FL_MAX_GROUPS 16 /* groups of one host */
#define FL_FANOUT_MAX 1024

struct fl_host {
	char *name;	      /* 1-63 of A-Z a-z 0-9 . _ - */
	char *address;	      /* IPv4/IPv6 literal or DNS name; NULL for a lab host */
	char *lab;	      /* the lab host it is, reached from the lab's switch */
	char **groups;	      /* NULL-terminated */
	enum fl_transport transport;
	char *user;	      /* ssh */
	uint16_t port;	      /* ssh: 0 = ssh's default; agent: required */
	char *ssh_config;     /* ssh -F, absolute; NULL: the user's own */
	char *ca, *cert, *key; /* agent: absolute paths (given relative to the scenario file) */
	struct fl_where where;
};

enum fl_host_failure {
	FL_HOST_FAILURE_ABORT, /* a host that fails aborts the run, the others are reverted */
	FL_HOST_FAILURE_SKIP,  /* reported, skipped; the run goes on with the others */
};

struct fl_fanout {
	unsigned concurrency;	/* hosts worked on at once, default 32 */
	uint64_t timeout_ns;	/* per host: connect and each call, default 10s */
	uint64_t lease_ns;	/* the agent reverts this long after the controller is gone */
	enum fl_host_failure on_host_failure; /* default abort */
};

struct fl_hosts {
	struct fl_host *v;
	size_t n;
	bool local;		/* `- local` listed */
	struct fl_fanout fanout;
};

/* A fault's `on:` when it names remote hosts. */
struct fl_selector {
	char *host;	/* one host by name, or: */
	char *group;	/* every host of a group, or ... */
	uint32_t count; /* ... N of them, or ... */
	double percent; /* ... P% of them (rounded up: at least one) */
	struct fl_where where;
};

struct fl_ynode;
struct fl_lab;

/*
 * `hosts:` (n, may be NULL) and `fanout:` (may be NULL) of file into *ret (NULL when there are
 * none); dir resolves relative paths; the lab (may be NULL) for `lab:` references. Problems go
 * to errs as file:line:col. -ENOMEM only.
 */
int fl_hosts_parse(const char *file, const char *dir, const struct fl_ynode *n,
		   const struct fl_ynode *fanout, const struct fl_lab *lab, struct fl_hosts **ret,
		   struct fl_errors *errs);
void fl_hosts_free(struct fl_hosts *h);
const struct fl_host *fl_hosts_find(const struct fl_hosts *h, const char *name);

/*
 * The fault mapping m's `on:`: when it is a selector (a mapping, or the name of a remote host),
 * parse it into *ret and drop "on" from p so the fault validator sees a local fault. *ret
 * stays NULL for a lab host or "local". -ENOMEM only; problems go to errs.
 */
int fl_selector_take(const char *file, const struct fl_ynode *m, const struct fl_hosts *h,
		     struct fl_params *p, struct fl_selector **ret, struct fl_errors *errs);
void fl_selector_free(struct fl_selector *sel);

/*
 * The hosts sel chooses, as indexes into h->v in file order; for count/percent a reproducible
 * sample from seed and the fault's name. Returns how many (<= h->n) were written to out.
 */
size_t fl_select(const struct fl_hosts *h, const struct fl_selector *sel, uint64_t seed,
		 const char *fault, size_t *out);
/* "web1", "group web", "3 of group web", "30% of group web" */
int fl_selector_describe(const struct fl_selector *sel, char *buf, size_t len);

#endif
