// SPDX-License-Identifier: GPL-2.0-only
/* `faultline agent`: run the agent (--stdio, --listen), make certificates, talk to an agent. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "cmd/cmd.h"
#include "inject/agent.h"
#include "inject/remote.h"
#include "inject/tls.h"
#include "inject/util.h"

const char cmd_agent_usage[] =
	"Usage: faultline agent --stdio\n"
	"       faultline agent --listen ADDR:PORT --ca CA.pem --cert CERT.pem --key KEY.pem\n"
	"                       [--allow NAME,...] [--max-sessions N]\n"
	"       faultline agent certs --dir DIR [--agent NAME,...] [--client NAME,...] [--days N]\n"
	"                       [--ca-name NAME]\n"
	"       faultline agent call (--connect HOST:PORT --ca F --cert F --key F | --ssh HOST\n"
	"                       [--ssh-config F] [--port N] [--agent-cmd CMD]) [--netns NS]\n"
	"                       [--lease D] [--timeout D] [--hold D] OP [JSON]\n"
	"       faultline agent status (the same connection options)\n"
	"\n"
	"The remote side of faultline: applies faults for a controller (`faultline run` with\n"
	"hosts:) speaking protocol v1, a closed set of operations (hello, apply, renew, revert,\n"
	"status, probe, heartbeat; never a command). Each fault carries a lease the controller\n"
	"renews with every message; when nothing arrives for the lease (the controller killed or\n"
	"cut off) the agent reverts it. The agent also reverts everything when the stop file\n"
	"appears, on SIGTERM, and at start what a previous agent's journal left. Every operation\n"
	"is logged on stderr with the peer's identity.\n"
	"\n"
	"  --stdio            one session on stdin/stdout: what OpenSSH runs on a host\n"
	"                     (ssh HOST faultline agent --stdio); exits once the session has\n"
	"                     ended and its faults are reverted\n"
	"  --listen ADDR:PORT mutual TLS 1.3 only: --ca, --cert and --key are required (there is "
	"no\n"
	"                     plaintext mode); clients need a certificate the CA signed\n"
	"  --allow NAME,...   only these client certificates (CN, DNS or IP SAN)\n"
	"  --max-sessions N   concurrent sessions (default 64)\n"
	"  --stop-file PATH   revert everything while it exists (default STATE_DIR/agent.stop)\n"
	"  --no-seccomp       do not restrict the agent's own syscalls (debugging)\n"
	"\n"
	"certs: a CA in DIR (ca.pem, ca.key; reused when present) and NAME.pem/NAME.key for each\n"
	"agent (serverAuth) and client (clientAuth): EC P-256, SAN = the name (IP SAN for an IP),\n"
	"valid --days (default 365; a negative N makes a certificate that expired N days ago, for\n"
	"tests). Files are 0600.\n"
	"\n"
	"call/status: connect to an agent (mutual TLS, or ssh running `faultline agent --stdio`),\n"
	"send OP with the JSON object of its arguments, print the reply; --hold keeps the session\n"
	"(and its leases, heartbeats every lease/3) for that long, Ctrl-C ends it.\n"
	"\n"
	"Exit status: 0 ok, 2 usage (or the agent refused a request as invalid), 3 cannot\n"
	"connect or the host cannot do it, 5 internal error.\n"
	"\n"
	"Examples:\n"
	"  faultline agent certs --dir /etc/faultline/tls --agent db1,10.0.0.7 --client ci\n"
	"  faultline agent --listen 0.0.0.0:7411 --ca ca.pem --cert db1.pem --key db1.key --allow "
	"ci\n"
	"  faultline agent status --connect db1:7411 --ca ca.pem --cert ci.pem --key ci.key\n"
	"  faultline agent call --connect db1:7411 --ca ca.pem --cert ci.pem --key ci.key --hold "
	"30s \\\n"
	"      apply '{\"fault\": {\"kind\": \"stop\", \"target.name\": \"redis-server\", \"for\": "
	"\"30s\"}}'\n"
	"  faultline agent call --ssh db1 status\n"
	"  touch /var/lib/faultline/agent.stop   # the kill switch: every fault reverted\n";

static int split_list(const char *flag, const char *v, char ***ret)
{
	_cleanup_free_ char *copy = strdup(v);
	char *save = NULL;

	if (!copy)
		return -ENOMEM;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (*t && fl_strv_push(ret, t) < 0)
			return -ENOMEM;
	if (!*ret) {
		fl_usage_error(fl_cmd_find("agent"), "%s needs at least one name", flag);
		return -EINVAL;
	}
	return 0;
}

struct agent_args {
	struct fl_agent_opts ao;
	struct fl_remote_opts ro;
	const char *dir, *ca_name, *connect, *ssh;
	char **agents, **clients, **allow, **rest;
	long days;
	uint64_t hold_ns;
};

static int parse_duration_flag(const char *flag, const char *v, uint64_t *ret)
{
	if (fl_parse_duration(v, ret) < 0) {
		fl_usage_error(fl_cmd_find("agent"),
			       "%s: a duration like 500ms, 10s or 2m, got '%s'", flag, v);
		return -EINVAL;
	}
	return 0;
}

static int parse(int argc, char **argv, struct agent_args *a)
{
	const struct fl_cmd *self = fl_cmd_find("agent");

	for (int i = 1; i < argc; i++) {
		const char *f = argv[i], *v = NULL;
		uint64_t n;

		if (strcmp(f, "--") == 0) {
			for (i++; i < argc; i++)
				if (fl_strv_push(&a->rest, argv[i]) < 0)
					return -ENOMEM;
			break;
		}
		if (strncmp(f, "--", 2) != 0) {
			/* the subcommand, OP and its JSON, between the options */
			if (fl_strv_push(&a->rest, f) < 0)
				return -ENOMEM;
			continue;
		}
		if (strcmp(f, "--stdio") == 0) {
			a->ao.stdio = true;
			continue;
		}
		if (strcmp(f, "--no-seccomp") == 0) {
			a->ao.no_seccomp = true;
			continue;
		}
		if (i + 1 >= argc)
			return fl_usage_error(self, "%s needs a value", f), -EINVAL;
		v = argv[++i];
		if (strcmp(f, "--listen") == 0)
			a->ao.listen = v;
		else if (strcmp(f, "--ca") == 0)
			a->ao.ca = a->ro.ca = v;
		else if (strcmp(f, "--cert") == 0)
			a->ao.cert = a->ro.cert = v;
		else if (strcmp(f, "--key") == 0)
			a->ao.key = a->ro.key = v;
		else if (strcmp(f, "--allow") == 0) {
			if (split_list(f, v, &a->allow) < 0)
				return -EINVAL;
		} else if (strcmp(f, "--max-sessions") == 0) {
			if (fl_parse_uint(v, 4096, &n) < 0 || n == 0)
				return fl_usage_error(self, "--max-sessions: 1 to 4096, got '%s'",
						      v),
				       -EINVAL;
			a->ao.max_sessions = (unsigned)n;
		} else if (strcmp(f, "--stop-file") == 0)
			a->ao.stop_file = v;
		else if (strcmp(f, "--dir") == 0)
			a->dir = v;
		else if (strcmp(f, "--agent") == 0) {
			if (split_list(f, v, &a->agents) < 0)
				return -EINVAL;
		} else if (strcmp(f, "--client") == 0) {
			if (split_list(f, v, &a->clients) < 0)
				return -EINVAL;
		} else if (strcmp(f, "--days") == 0) {
			char *end;
			errno = 0;
			a->days = strtol(v, &end, 10);
			if (errno || *end || a->days == 0 || a->days > 36500 || a->days < -3650)
				return fl_usage_error(
					       self,
					       "--days: a non-zero number of days (negative: "
					       "already expired), got '%s'",
					       v),
				       -EINVAL;
		} else if (strcmp(f, "--ca-name") == 0)
			a->ca_name = v;
		else if (strcmp(f, "--connect") == 0)
			a->connect = v;
		else if (strcmp(f, "--ssh") == 0)
			a->ssh = v;
		else if (strcmp(f, "--ssh-config") == 0)
			a->ro.ssh_config = v;
		else if (strcmp(f, "--agent-cmd") == 0)
			a->ro.agent_cmd = v;
		else if (strcmp(f, "--netns") == 0)
			a->ro.netns = v;
		else if (strcmp(f, "--port") == 0) {
			if (fl_parse_uint(v, 65535, &n) < 0 || n == 0)
				return fl_usage_error(self, "--port: 1 to 65535, got '%s'", v),
				       -EINVAL;
			a->ro.port = (uint16_t)n;
		} else if (strcmp(f, "--lease") == 0) {
			if (parse_duration_flag(f, v, &a->ro.lease_ns) < 0)
				return -EINVAL;
		} else if (strcmp(f, "--timeout") == 0) {
			if (parse_duration_flag(f, v, &a->ro.timeout_ns) < 0)
				return -EINVAL;
		} else if (strcmp(f, "--hold") == 0) {
			if (parse_duration_flag(f, v, &a->hold_ns) < 0)
				return -EINVAL;
		} else
			return fl_usage_error(self, "unknown option '%s'", f), -EINVAL;
	}
	return 0;
}

static int do_certs(struct agent_args *a, struct fl_cli *cli)
{
	const struct fl_cmd *self = fl_cmd_find("agent");
	_cleanup_free_ char *why = NULL;
	int r;

	if (!a->dir)
		return fl_usage_error(self, "certs: --dir DIR is required");
	if (!a->agents && !a->clients)
		return fl_usage_error(self,
				      "certs: give --agent NAME,... and/or --client NAME,...");
	for (int pass = 0; pass < 2; pass++)
		for (char **p = pass ? a->clients : a->agents; p && *p; p++)
			if (strcmp(*p, "ca") == 0)
				return fl_usage_error(self, "%s: 'ca' is the CA's file name",
						      pass ? "--client" : "--agent");
	r = fl_tls_make_certs(a->dir, a->agents, a->clients, a->days ? (int)a->days : 365,
			      a->ca_name, &why);
	if (r < 0) {
		fprintf(stderr, "faultline agent certs: %s\n", why ? why : strerror(-r));
		return r == -EINVAL ? FL_EXIT_USAGE : FL_EXIT_HOST;
	}
	/* what was written, for people and for scripts */
	{
		json_t *files = json_object(), *v;
		json_object_set_new(files, "ca",
				    json_pack("{s:s+, s:s+}", "cert", a->dir, "/ca.pem", "key",
					      a->dir, "/ca.key"));
		for (int pass = 0; pass < 2; pass++) {
			json_t *arr = json_array();
			for (char **p = pass ? a->clients : a->agents; p && *p; p++)
				json_array_append_new(arr,
						      json_pack("{s:s, s:s+++, s:s+++}", "name", *p,
								"cert", a->dir, "/", *p, ".pem",
								"key", a->dir, "/", *p, ".key"));
			json_object_set_new(files, pass ? "clients" : "agents", arr);
		}
		if (cli->json) {
			json_dumpf(files, stdout, JSON_INDENT(2));
			putchar('\n');
		} else {
			size_t i;
			printf("CA: %s/ca.pem (its key ca.key signs new certificates: keep it "
			       "off the hosts)\n",
			       a->dir);
			json_array_foreach (json_object_get(files, "agents"), i, v)
				printf("agent %s: %s\n",
				       json_string_value(json_object_get(v, "name")),
				       json_string_value(json_object_get(v, "cert")));
			json_array_foreach (json_object_get(files, "clients"), i, v)
				printf("client %s: %s\n",
				       json_string_value(json_object_get(v, "name")),
				       json_string_value(json_object_get(v, "cert")));
		}
		json_decref(files);
	}
	return FL_EXIT_OK;
}

static volatile sig_atomic_t hold_stop;

static void on_hold_signal(int sig)
{
	hold_stop = 1;
}

static int do_call(struct agent_args *a, struct fl_cli *cli, bool status)
{
	const struct fl_cmd *self = fl_cmd_find("agent");
	_cleanup_free_ char *why = NULL;
	struct fl_remote *r = NULL;
	const char *op = status ? "status" : NULL;
	json_t *args = NULL, *reply = NULL;
	size_t nrest = fl_strv_len(a->rest);
	int k, ret;

	if (!status) {
		if (nrest < 2 || nrest > 3)
			return fl_usage_error(self,
					      "call: give OP and optionally its JSON arguments");
		op = a->rest[1];
		if (nrest == 3) {
			json_error_t je;
			args = json_loads(a->rest[2], 0, &je);
			if (!json_is_object(args)) {
				json_decref(args);
				return fl_usage_error(self,
						      "call: JSON arguments must be an object: %s",
						      args ? "another JSON value" : je.text);
			}
		}
	} else if (nrest != 1) {
		json_decref(args);
		return fl_usage_error(self, "status takes no arguments");
	}
	if (!!a->connect == !!a->ssh) {
		json_decref(args);
		return fl_usage_error(self, "give --connect HOST:PORT (TLS) or --ssh HOST");
	}
	if (a->connect) {
		const char *colon = strrchr(a->connect, ':');
		uint64_t port;
		if (!colon || fl_parse_uint(colon + 1, 65535, &port) < 0 || !port) {
			json_decref(args);
			return fl_usage_error(self, "--connect: HOST:PORT, got '%s'", a->connect);
		}
		a->ro.transport = FL_TRANSPORT_AGENT;
		a->ro.address = strndupa(a->connect, (size_t)(colon - a->connect));
		a->ro.port = (uint16_t)port;
	} else {
		a->ro.transport = FL_TRANSPORT_SSH;
		a->ro.address = a->ssh;
	}
	k = fl_remote_connect(&a->ro, &r, &why);
	if (k < 0) {
		json_decref(args);
		fprintf(stderr, "faultline agent: %s\n", why ? why : strerror(-k));
		return FL_EXIT_HOST;
	}
	k = fl_remote_call(r, op, args, &reply, &why);
	json_decref(args);
	if (k < 0 && !reply) {
		fprintf(stderr, "faultline agent: %s\n", why ? why : strerror(-k));
		fl_remote_close(r);
		return FL_EXIT_HOST;
	}
	if (status && !cli->json && k == 0) {
		json_t *f;
		size_t i;
		printf("%s: %zu fault(s)%s\n", json_string_value(json_object_get(reply, "host")),
		       json_array_size(json_object_get(reply, "faults")),
		       json_is_true(json_object_get(reply, "stopping")) ? ", stop file present"
									: "");
		json_array_foreach (json_object_get(reply, "faults"), i, f)
			printf("  %s  %-10s %-12s %-9s peer %s, lease ends in %lldms\n",
			       json_string_value(json_object_get(f, "fault_id")),
			       json_string_value(json_object_get(f, "kind")),
			       json_string_value(json_object_get(f, "name")),
			       json_string_value(json_object_get(f, "state")),
			       json_string_value(json_object_get(f, "peer")),
			       (long long)json_integer_value(json_object_get(f, "expires_in_ms")));
	} else {
		json_dumpf(reply, stdout, JSON_COMPACT);
		putchar('\n');
	}
	fflush(stdout);
	ret = k == 0 ? FL_EXIT_OK : (int)json_integer_value(json_object_get(reply, "exit"));
	if (ret < 0 || ret > FL_EXIT_INTERNAL || (k < 0 && ret == 0))
		ret = FL_EXIT_INTERNAL;
	json_decref(reply);
	if (k == 0 && a->hold_ns) {
		uint64_t end = fl_now_ns() + a->hold_ns;
		signal(SIGINT, on_hold_signal);
		signal(SIGTERM, on_hold_signal);
		while (!hold_stop && fl_now_ns() < end)
			usleep(20000);
	}
	fl_remote_close(r);
	return ret;
}

int cmd_agent(int argc, char **argv, struct fl_cli *cli)
{
	const struct fl_cmd *self = fl_cmd_find("agent");
	struct agent_args a = { 0 };
	_cleanup_free_ char *why = NULL;
	int ret = FL_EXIT_USAGE;

	if (parse(argc, argv, &a) < 0)
		goto out;
	a.ao.allow = a.allow;
	if (a.rest && strcmp(a.rest[0], "certs") == 0) {
		ret = do_certs(&a, cli);
		goto out;
	}
	if (a.rest && (strcmp(a.rest[0], "call") == 0 || strcmp(a.rest[0], "status") == 0)) {
		ret = do_call(&a, cli, strcmp(a.rest[0], "status") == 0);
		goto out;
	}
	if (a.rest) {
		fl_usage_error(self, "unknown subcommand '%s' (certs, call, status)", a.rest[0]);
		goto out;
	}
	if (a.ao.stdio == !!a.ao.listen) {
		fl_usage_error(self, "give --stdio (under ssh) or --listen ADDR:PORT (mutual TLS)");
		goto out;
	}
	if (a.ao.listen) {
		const char *missing = !a.ao.ca	   ? "--ca"
				      : !a.ao.cert ? "--cert"
				      : !a.ao.key  ? "--key"
						   : NULL;
		if (missing) {
			fl_usage_error(self,
				       "--listen needs %s: the agent only listens with mutual TLS "
				       "(--ca CA.pem --cert CERT.pem --key KEY.pem; make them with "
				       "'faultline agent certs'), there is no plaintext mode",
				       missing);
			goto out;
		}
	} else if (a.ao.ca || a.ao.cert || a.ao.key || a.allow) {
		fl_usage_error(self, "--stdio runs under ssh, which authenticates: --ca, --cert, "
				     "--key and --allow belong to --listen");
		goto out;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "faultline agent: the agent applies faults and must run as root\n");
		ret = FL_EXIT_HOST;
		goto out;
	}
	ret = fl_agent_run(&a.ao, &why);
	if (why)
		fprintf(stderr, "faultline agent: %s\n", why);
out:
	fl_strv_free(a.agents);
	fl_strv_free(a.clients);
	fl_strv_free(a.allow);
	fl_strv_free(a.rest);
	return ret;
}
