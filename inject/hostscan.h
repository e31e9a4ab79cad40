/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What faultline may have left in the kernel, found by looking rather than by the journal:
 * `faultline status` lists it, matched to the journal, and flags what no record knows.
 * Read-only: nothing is ever removed here, only the command that would remove it is given.
 */
#ifndef FL_HOSTSCAN_H
#define FL_HOSTSCAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "inject/journal.h"

/*
 * Scan the root network namespace and each namespace in /run/netns for
 *   - namespaces named fl-RUN_ID-*                         (type "netns")
 *   - root qdiscs with handle fa17: (netem, tbf, prio...)   (type "qdisc")
 *   - tc filters at preference 0xfa17 running a BPF program named netfault_* or netclass_*
 *                                                          (type "tc-filter")
 *   - iptables/ip6tables rules commented faultline:RUN_ID:HANDLE (type "iptables")
 * and the host for pins under /sys/fs/bpf/faultline (type "pin"), processes named
 * faultline-nfqd, faultline-fused or faultline-guard (type "process") and FUSE mounts of type
 * fuse.faultline (type "mount").
 *
 * *ret is a JSON array, one object per kernel object: "type", "what" (one line for people),
 * "netns" (absent: the root namespace), "run_id" (when the object names its run, or a journal
 * record owns it), "tracked" (a record in runs[] knows it), "remove" (the shell command that
 * removes it by hand; given for every object, needed for untracked ones only).
 */
int fl_hostscan(const struct fl_run_info *runs, size_t n_runs, json_t **ret);

/* "faultline:0123456789ab:7" -> run id "0123456789ab" (false when not ours). */
bool fl_hostscan_comment_run(const char *comment, char ret_run[13]);
/*
 * One line of iptables-save inside table `table`: when it is a rule with a faultline comment,
 * its run id and the command that deletes it ("iptables -t nat -D CHAIN ...").
 */
bool fl_hostscan_ipt_rule(const char *line, const char *table, const char *save_cmd,
			  char ret_run[13], char **ret_delete);

#endif
