// SPDX-License-Identifier: GPL-2.0-only
/* The one table of subcommands, exact lookup with "did you mean", the shared options. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <string.h>

#include "cmd/cmd.h"
#include "inject/journal.h"
#include "inject/log.h"
#include "inject/util.h"

#define COMMON_OPTS                                                                                \
	"Common options:\n"                                                                        \
	"  --json             print data as JSON on stdout\n"                                      \
	"  -v, --verbose      more detail on stderr (repeat for debug)\n"                          \
	"  -q, --quiet        errors only\n"                                                       \
	"  --state-dir DIR    journal location (default $FAULTLINE_STATE_DIR or "                 \
	FL_STATE_DIR_DEFAULT ")\n"                                                                 \
	"  -h, --help         this help\n"

static const char run_usage[] =
	"Usage: faultline run FILE [--out DIR] [--format LIST] [--junit FILE] [--dry-run]\n"
	"                     [--seed N]\n"
	"\n"
	"Run a scenario: validate, preflight every fault's backend, bring the lab up, check the\n"
	"baseline, inject the faults on their timeline, revert them, wait for recovery, tear the\n"
	"lab down and write DIR/result.json with the reports next to it (junit.xml, report.md,\n"
	"report.html). Every way out (error, Ctrl-C, SIGTERM, a stop condition) reverts every\n"
	"fault.\n"
	"\n"
	"Options:\n"
	"  --out DIR          where result.json goes (default ./faultline-out/RUN_ID)\n"
	"  --format LIST      reports to write next to it, a comma list of json, junit, md,\n"
	"                     html (default: all; result.json is always written)\n"
	"  --junit FILE       also write the JUnit XML to FILE (for CI; makes its directory)\n"
	"  --dry-run          stop after preflight and print the plan\n"
	"  --seed N           override the scenario's seed\n"
	COMMON_OPTS
	"\n"
	"Exit status: 0 expectations held, 1 an expectation failed, 2 invalid scenario or usage,\n"
	"3 this host cannot run it, 4 aborted (signal, stop condition, unhealthy baseline),\n"
	"5 internal error.\n"
	"\n"
	"Examples:\n"
	"  faultline run scenarios/examples/quickstart.yaml\n"
	"  faultline run --dry-run ci/failover.yaml\n"
	"  faultline run --out artifacts/chaos --json ci/failover.yaml | jq .verdict\n"
	"  faultline run --junit junit.xml --format md,html ci/failover.yaml\n";

static const char validate_usage[] =
	"Usage: faultline validate FILE...\n"
	"\n"
	"Check scenario files without touching the host (no root needed). Every problem is\n"
	"reported as FILE:LINE:COLUMN: message, all of them at once.\n"
	"\n"
	COMMON_OPTS
	"\n"
	"Examples:\n"
	"  faultline validate scenarios/examples/*.yaml\n"
	"  faultline validate --json my.yaml\n";

static const char inject_usage[] =
	"Usage: faultline inject KIND --for DURATION [target] [parameters] [--detach]\n"
	"\n"
	"Apply one fault now, stay in the foreground until DURATION ends or Ctrl-C, then revert.\n"
	"The flags go through the same validator as scenario files.\n"
	"\n"
	"Kinds: kill (signal processes; --signal NAME, --interval DURATION to repeat),\n"
	"       stop (SIGSTOP for the duration, SIGCONT at the end),\n"
	"       latency (--delay D [--jitter J --correlation C --distribution uniform|normal|\n"
	"         pareto]; netem where sch_netem exists, else nfqueue; ingress: nfqueue),\n"
	"       loss (--percent P [--correlation C] | --burst-p P --burst-r R [--burst-1h H\n"
	"         --burst-1k K]: a Gilbert-Elliott burst model), partition (drop all matching),\n"
	"       corrupt (--percent P), duplicate (--percent P), reorder (--percent P --delay D\n"
	"         [--gap N]), bandwidth (--rate 10mbit [--burst B --limit L])\n"
	"       crash-point (--syscall NAME | --function F --binary PATH, [--nth N --signal S]:\n"
	"         kill the target on its Nth call; eBPF, bpf_send_signal)\n"
	"       disk-error (--path DIR [--errno EIO|ENOSPC|EROFS|EDQUOT|EACCES|... --ops open,\n"
	"         read,write,fsync,... --percent P --prefix SUB]: BPF LSM or fmod_ret on\n"
	"         security_* where the kernel allows, else a FUSE mount over DIR),\n"
	"       io-latency (--path DIR --delay D [--jitter J --ops fsync --percent P])\n"
	"       (for a command faultline launches: faultline exec --fault SPEC -- CMD)\n"
	"       --backend NAME picks one (faultline doctor lists them and what this host can run)\n"
	"Network filters (every network kind): --netns NAME --dev IFACE\n"
	"  --direction ingress|egress|both --src/--dst ADDR[/LEN] --proto tcp|udp|icmp|icmpv6\n"
	"  --sport/--dport N[-M] --peer HOST|ADDR --exclude PORT,...  (SSH_CONNECTION's ports\n"
	"  are always excluded; --cgroup PATH selects one service's egress traffic)\n"
	"\n"
	"Target:\n"
	"  --pid PID          one process\n"
	"  --name NAME        processes whose name (comm or argv[0]) is NAME\n"
	"  --cmdline REGEX    processes whose command line matches (extended regex)\n"
	"  --cgroup PATH      processes in this cgroup v2 subtree\n"
	"  --netns NAME       only processes in this network namespace (ip netns name)\n"
	"  --pick random      choose at random (with --count, default 1) instead of all\n"
	"  --count N          at most N processes\n"
	"Options:\n"
	"  --for DURATION     how long the fault lasts (required): 500ms, 10s, 2m\n"
	"  --detach           return once applied; the fault ends by itself after DURATION\n"
	"                     (or with `faultline recover RUN_ID`)\n"
	"  --seed N           for --pick random\n"
	COMMON_OPTS
	"\n"
	"Examples:\n"
	"  faultline inject stop --name redis-server --for 10s\n"
	"  faultline inject kill --cmdline 'worker --queue=mail' --pick random --for 1s\n"
	"  faultline inject kill --name nginx --signal SIGTERM --interval 5s --for 1m\n"
	"  faultline inject stop --pid 4242 --for 30s --detach\n"
	"  faultline inject loss --netns NS --dev veth0 --percent 20 --proto udp --dport 9000 --for 30s\n"
	"  faultline inject latency --netns NS --dev veth0 --delay 50ms --jitter 5ms \\\n"
	"      --direction ingress --for 30s\n"
	"  faultline inject loss --netns NS --dev veth0 --burst-p 5% --burst-r 30% --for 1m\n"
	"  faultline inject crash-point --name redis-server --syscall fdatasync --nth 4 --for 1m\n"
	"  faultline inject disk-error --path /var/lib/app --errno EIO --ops write,fsync --name myapp \\\n"
	"      --for 30s\n";

static const char status_usage[] =
	"Usage: faultline status\n"
	"\n"
	"List the runs, faults and labs the journal knows: active ones, and those a dead run\n"
	"left behind (undo them with `faultline recover`). Then the kernel objects faultline\n"
	"creates, found by looking (namespaces, fa17: qdiscs, tc filters, BPF pins, iptables\n"
	"rules, faultline-nfqd daemons), each tracked by the journal or UNTRACKED with the\n"
	"command that removes it. Read-only.\n"
	"\n"
	COMMON_OPTS
	"\n"
	"Examples:\n"
	"  faultline status\n"
	"  faultline status --json | jq '.runs[].faults'\n";

static const char recover_usage[] =
	"Usage: faultline recover RUN_ID | RUN_ID/FAULT | --all\n"
	"\n"
	"Undo exactly what runs left behind, and nothing else: continue stopped processes, tear\n"
	"down labs (namespaces, processes, cgroups). A live run is asked to stop first (SIGTERM)\n"
	"and given --grace to revert by itself. Safe to run twice.\n"
	"\n"
	"Options:\n"
	"  --all              every run in the journal (the kill switch)\n"
	"  --grace DURATION   how long a live run gets to stop by itself (default 10s)\n"
	COMMON_OPTS
	"\n"
	"Examples:\n"
	"  faultline recover --all\n"
	"  faultline recover 3f2a9c0d11be\n";

static const char version_usage[] =
	"Usage: faultline version\n"
	"\n"
	"Print the version (also: faultline --version).\n"
	"\n"
	COMMON_OPTS
	"\n"
	"Examples:\n"
	"  faultline version --json\n";

const struct fl_cmd fl_commands[] = {
	{ "run", cmd_run, 0, "run a scenario and report", run_usage },
	{ "validate", cmd_validate, 0, "check scenario files", validate_usage },
	{ "inject", cmd_inject, 0, "apply one fault now", inject_usage },
	{ "exec", cmd_exec, 0, "run a command under syscall faults (no root)", cmd_exec_usage },
	{ "status", cmd_status, 0, "list active runs, faults and labs", status_usage },
	{ "recover", cmd_recover, 0, "undo what dead runs left behind", recover_usage },
	{ "doctor", cmd_doctor, 0, "what this host can inject, and with what", cmd_doctor_usage },
	{ "lab", cmd_lab, 0, "bring a scenario's lab up or down by hand", cmd_lab_usage },
	{ "report", cmd_report, 0, "render a saved result as html, md, junit", cmd_report_usage },
	{ "agent", cmd_agent, 0, "apply faults for a remote controller (ssh, mutual TLS)",
	  cmd_agent_usage },
	{ "gameday", cmd_gameday, 0, "run a game day: experiments, pauses, kill switch",
	  cmd_gameday_usage },
	{ "schedule", cmd_schedule, 0, "run a game day on a cron schedule, or install a timer",
	  cmd_schedule_usage },
	{ "version", cmd_version, 0, "print the version", version_usage },
};
const size_t fl_n_commands = ARRAY_SIZE(fl_commands);

const struct fl_cmd *fl_cmd_find(const char *name)
{
	for (size_t i = 0; name && i < fl_n_commands; i++)
		if (strcmp(fl_commands[i].name, name) == 0)
			return &fl_commands[i];
	return NULL;
}

const char *fl_cmd_suggest(const char *name)
{
	const char *names[ARRAY_SIZE(fl_commands)];

	for (size_t i = 0; i < fl_n_commands; i++)
		names[i] = fl_commands[i].name;
	return fl_closest(name, names, fl_n_commands);
}

void fl_cmd_help(const struct fl_cmd *cmd, FILE *f)
{
	fputs(cmd->usage, f);
}

int fl_usage_error(const struct fl_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "faultline %s: ", cmd ? cmd->name : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'faultline %s --help'.\n", cmd ? cmd->name : "");
	return FL_EXIT_USAGE;
}

int fl_cli_common(int *argc, char **argv, struct fl_cli *cli, const struct fl_cmd *cmd)
{
	int out = 1, help = 0;

	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			/* everything after -- belongs to the subcommand */
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		if (strcmp(a, "--json") == 0) {
			cli->json = true;
		} else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			cli->verbosity++;
		} else if (strcmp(a, "-vv") == 0) {
			cli->verbosity += 2;
		} else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			cli->verbosity = -1;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			help = 1;
		} else if (strcmp(a, "--state-dir") == 0 || strncmp(a, "--state-dir=", 12) == 0) {
			const char *v = a[11] == '=' ? a + 12 : (i + 1 < *argc ? argv[++i] : NULL);
			if (!v || !*v) {
				fl_usage_error(cmd, "--state-dir needs a directory");
				return -EINVAL;
			}
			cli->state_dir = v;
		} else {
			argv[out++] = argv[i];
		}
	}
	argv[out] = NULL;
	*argc = out;
	if (cli->verbosity < 0)
		fl_log_level = FL_LOG_ERROR;
	else
		fl_log_level = FL_LOG_INFO + cli->verbosity > FL_LOG_DEBUG ?
				       FL_LOG_DEBUG : FL_LOG_INFO + cli->verbosity;
	if (cli->state_dir)
		fl_state_dir_set(cli->state_dir);
	return help;
}
