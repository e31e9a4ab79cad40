// SPDX-License-Identifier: GPL-2.0-only
/* Diagnostics and the flat parameter list shared by the YAML loader and the CLI. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "scenarios/diag.h"

void fl_errors_add(struct fl_errors *e, const struct fl_where *w, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	char *text = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	if (w && w->flag)
		r = asprintf(&text, "%s: %s", w->flag, msg);
	else if (w && w->file && w->line)
		r = asprintf(&text, "%s:%u:%u: %s", w->file, w->line, w->col, msg);
	else if (w && w->file)
		r = asprintf(&text, "%s: %s", w->file, msg);
	else
		r = asprintf(&text, "%s", msg);
	if (r < 0)
		return;
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 8;
		struct fl_diag *nv = realloc(e->v, cap * sizeof(*nv));
		if (!nv) {
			free(text);
			return;
		}
		e->v = nv;
		e->cap = cap;
	}
	e->v[e->n++] = (struct fl_diag){
		.text = text,
		.line = w ? w->line : 0,
		.col = w ? w->col : 0,
	};
}

void fl_errors_print(const struct fl_errors *e, FILE *f)
{
	for (size_t i = 0; i < e->n; i++)
		fprintf(f, "%s\n", e->v[i].text);
}

void fl_errors_clear(struct fl_errors *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].text);
	free(e->v);
	*e = (struct fl_errors){ 0 };
}

int fl_params_add(struct fl_params *p, const char *key, const char *value,
		  const struct fl_where *w)
{
	struct fl_param *nv = realloc(p->v, (p->n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	p->v = nv;
	nv[p->n] = (struct fl_param){
		.key = strdup(key),
		.value = strdup(value ? value : ""),
		.where = w ? *w : (struct fl_where){ 0 },
	};
	if (!nv[p->n].key || !nv[p->n].value) {
		free(nv[p->n].key);
		free(nv[p->n].value);
		return -ENOMEM;
	}
	p->n++;
	return 0;
}

struct fl_param *fl_params_take(const struct fl_params *p, const char *key)
{
	for (size_t i = 0; i < p->n; i++) {
		if (strcmp(p->v[i].key, key) == 0) {
			p->v[i].used = true;
			return &p->v[i];
		}
	}
	return NULL;
}

void fl_params_clear(struct fl_params *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].key);
		free(p->v[i].value);
	}
	free(p->v);
	p->v = NULL;
	p->n = 0;
}
