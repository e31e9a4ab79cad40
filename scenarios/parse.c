// SPDX-License-Identifier: GPL-2.0-only
/* YAML to a node tree with line/column marks, through libyaml's event API, with hard limits. */
#include <errno.h>
#include <string.h>
#include <yaml.h>

#include "scenarios/yamltree.h"

struct fl_ynode *fl_ynode_free(struct fl_ynode *n)
{
	if (!n)
		return NULL;
	for (size_t i = 0; i < n->n; i++)
		fl_ynode_free(n->child[i]);
	free(n->child);
	free(n->value);
	free(n);
	return NULL;
}

bool fl_ynode_is_null(const struct fl_ynode *n)
{
	return n && n->type == FL_YSCALAR && n->plain &&
	       (!*n->value || !strcmp(n->value, "~") || !strcmp(n->value, "null") ||
		!strcmp(n->value, "Null") || !strcmp(n->value, "NULL"));
}

static int attach(struct fl_ynode *parent, struct fl_ynode *n)
{
	if (parent->n == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 8;
		struct fl_ynode **nv = realloc(parent->child, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		parent->child = nv;
		parent->cap = cap;
	}
	parent->child[parent->n++] = n;
	return 0;
}

static unsigned mark_u(size_t v)
{
	return v >= UINT32_MAX ? UINT32_MAX : (unsigned)v + 1;
}

/* Reader errors (bad UTF-8, control characters) only know a byte offset: find line and column. */
static void offset_to_mark(const char *buf, size_t len, size_t off, unsigned *line, unsigned *col)
{
	*line = *col = 1;
	for (size_t i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

static int syntax_error(const yaml_parser_t *p, const char *file, const char *buf, size_t len,
			struct fl_errors *errs)
{
	struct fl_where w = { .file = file };

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return -ENOMEM;
	case YAML_READER_ERROR:
		offset_to_mark(buf, len, p->problem_offset, &w.line, &w.col);
		fl_errors_add(errs, &w, "invalid YAML: %s", p->problem ? p->problem : "unreadable");
		return -EINVAL;
	default:
		w.line = mark_u(p->problem_mark.line);
		w.col = mark_u(p->problem_mark.column);
		if (p->context)
			fl_errors_add(errs, &w, "invalid YAML: %s (%s)",
				      p->problem ? p->problem : "syntax error", p->context);
		else
			fl_errors_add(errs, &w, "invalid YAML: %s",
				      p->problem ? p->problem : "syntax error");
		return -EINVAL;
	}
}

/* Turn one node event into a node attached to its parent (or made the root). */
static int add_node(const yaml_event_t *ev, struct fl_ynode **stack, size_t *depth,
		    struct fl_ynode **root, const struct fl_where *w, struct fl_errors *errs)
{
	struct fl_ynode *n;
	int r;

	if (ev->type != YAML_SCALAR_EVENT && *depth >= FL_YAML_MAX_DEPTH) {
		fl_errors_add(errs, w, "nesting deeper than %d levels is not supported",
			      FL_YAML_MAX_DEPTH);
		return -EINVAL;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->line = w->line;
	n->col = w->col;
	if (ev->type == YAML_SCALAR_EVENT) {
		const char *v = (const char *)ev->data.scalar.value;
		size_t l = ev->data.scalar.length;

		n->type = FL_YSCALAR;
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		if (memchr(v, '\0', l)) {
			free(n);
			fl_errors_add(errs, w, "strings cannot contain NUL characters");
			return -EINVAL;
		}
		n->value = strndup(v, l);
		if (!n->value) {
			free(n);
			return -ENOMEM;
		}
	} else {
		n->type = ev->type == YAML_SEQUENCE_START_EVENT ? FL_YSEQ : FL_YMAP;
	}
	if (*depth == 0) {
		*root = n;
	} else {
		r = attach(stack[*depth - 1], n);
		if (r < 0) {
			fl_ynode_free(n);
			return r;
		}
	}
	if (n->type != FL_YSCALAR)
		stack[(*depth)++] = n;
	return 0;
}

int fl_yaml_parse(const char *file, const char *buf, size_t len, struct fl_ynode **ret,
		  struct fl_errors *errs)
{
	struct fl_ynode *stack[FL_YAML_MAX_DEPTH], *root = NULL;
	size_t depth = 0, nodes = 0;
	unsigned docs = 0;
	yaml_parser_t p;
	bool done = false;
	int r = 0;

	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	while (!done && r == 0) {
		yaml_event_t ev;
		struct fl_where w = { .file = file };

		if (!yaml_parser_parse(&p, &ev)) {
			r = syntax_error(&p, file, buf, len, errs);
			break;
		}
		w.line = mark_u(ev.start_mark.line);
		w.col = mark_u(ev.start_mark.column);
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				fl_errors_add(
					errs, &w,
					"a scenario is one YAML document, found a second one");
				r = -EINVAL;
			}
			break;
		case YAML_ALIAS_EVENT:
			fl_errors_add(errs, &w, "aliases are not supported");
			r = -EINVAL;
			break;
		case YAML_SCALAR_EVENT:
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++nodes > FL_YAML_MAX_NODES) {
				fl_errors_add(errs, &w, "too many YAML nodes (more than %d)",
					      FL_YAML_MAX_NODES);
				r = -EINVAL;
				break;
			}
			r = add_node(&ev, stack, &depth, &root, &w, errs);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth > 0)
				depth--;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	if (r < 0) {
		fl_ynode_free(root);
		return r;
	}
	*ret = root;
	return 0;
}
