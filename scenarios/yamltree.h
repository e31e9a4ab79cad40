/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal to scenarios/: a YAML document as a small tree of nodes that remember their position. */
#ifndef FL_YAMLTREE_H
#define FL_YAMLTREE_H

#include <stdbool.h>
#include <stddef.h>

#include "scenarios/diag.h"

#define FL_YAML_MAX_DEPTH 32
#define FL_YAML_MAX_NODES 100000

enum fl_ytype {
	FL_YSCALAR,
	FL_YSEQ,
	FL_YMAP,
};

struct fl_ynode {
	enum fl_ytype type;
	char *value; /* scalar: NUL-terminated (embedded NULs are rejected) */
	bool plain;  /* scalar written without quotes: "", "~" and "null" then mean null */
	struct fl_ynode **child; /* sequence: items; mapping: key, value, key, value, ... */
	size_t n;
	size_t cap;
	unsigned line, col; /* 1-based */
};

/*
 * Parse one YAML document. *ret is NULL for an empty stream (nothing but comments). Syntax
 * errors, aliases and limits (depth, node count) are reported in errs as "file:line:col: ..."
 * and give -EINVAL.
 */
int fl_yaml_parse(const char *file, const char *buf, size_t len, struct fl_ynode **ret,
		  struct fl_errors *errs);
struct fl_ynode *fl_ynode_free(struct fl_ynode *n);
/* A plain empty scalar, "~" or "null". */
bool fl_ynode_is_null(const struct fl_ynode *n);

#endif
