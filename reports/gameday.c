// SPDX-License-Identifier: GPL-2.0-only
/* A game day's combined report from its JSON, and webhooks posted from a background thread. */
#include "reports/curl_dl.h"
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "inject/log.h"
#include "inject/util.h"
#include "reports/gameday.h"

/* --- the combined report ------------------------------------------------------------------ */

static const char *const file_names[FL_N_REPORT_FORMATS] = {
	[FL_REPORT_JSON] = "gameday.json",
	[FL_REPORT_JUNIT] = "gameday.xml",
	[FL_REPORT_MD] = "gameday.md",
	[FL_REPORT_HTML] = "gameday.html",
};

const char *fl_gameday_file_name(enum fl_report_format f)
{
	return f < FL_N_REPORT_FORMATS ? file_names[f] : NULL;
}

static const char *s_or(json_t *o, const char *key, const char *dflt)
{
	const char *v = fl_j_str(o, key);

	return v ? v : dflt;
}

/* One run writer's output for an experiment, in memory. */
static char *render_one(json_t *result, enum fl_report_format f)
{
	char *buf = NULL;
	size_t len;

	if (!result || fl_report_render_buf(result, f, &buf, &len) < 0)
		return NULL;
	return buf;
}

static int render_junit(json_t *day, FILE *f)
{
	json_t *exps = fl_j_arr(day, "experiments"), *e;
	size_t i;

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"gameday.", f);
	fl_put_xml_attr(f, s_or(day, "name", "?"));
	fputs("\">\n", f);
	json_array_foreach (exps, i, e) {
		_cleanup_free_ char *xml =
			render_one(json_object_get(e, "result"), FL_REPORT_JUNIT);
		const char *body = xml ? strstr(xml, "?>") : NULL;

		if (body) {
			/* the run's <testsuite>, without its XML declaration */
			body += 2;
			while (*body == '\n')
				body++;
			fputs(body, f);
			continue;
		}
		/* never started (guard, window, kill switch): a skipped test case */
		fputs("<testsuite name=\"", f);
		fl_put_xml_attr(f, s_or(e, "name", "?"));
		fputs("\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"1\" time=\"0\">\n"
		      "  <testcase classname=\"faultline.gameday\" name=\"",
		      f);
		fl_put_xml_attr(f, s_or(e, "name", "?"));
		fputs("\" time=\"0\">\n    <skipped message=\"", f);
		fl_put_xml_attr(f, s_or(e, "reason", s_or(e, "status", "not run")));
		fputs("\"/>\n  </testcase>\n</testsuite>\n", f);
	}
	fputs("</testsuites>\n", f);
	return ferror(f) ? -EIO : 0;
}

static void md_cell(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '|' || *s == '\\' || *s == '*' || *s == '_' || *s == '`' || *s == '<')
			fputc('\\', f);
		fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
	}
}

static void num_cell(FILE *f, json_t *o, const char *key, int decimals)
{
	double v;

	if (fl_j_num(o, key, &v))
		fprintf(f, "%.*f", decimals, v);
	else
		fputs("-", f);
}

static void h(FILE *f, const char *s)
{
	fl_put_xml(f, s ? s : "");
}

/* How a writer marks up a row of text cells (Markdown table or list, HTML table or list). */
struct row_style {
	const char *open, *sep, *close;
	void (*cell)(FILE *f, const char *s);
};

/* One row per element of arr: the string fields keys[] (dflts[] when absent), in order. */
static void rows(FILE *f, json_t *arr, const char *const *keys, const char *const *dflts,
		 size_t n, const struct row_style *st)
{
	json_t *e;
	size_t i;

	json_array_foreach (arr, i, e) {
		fputs(st->open, f);
		for (size_t k = 0; k < n; k++) {
			if (k)
				fputs(st->sep, f);
			st->cell(f, s_or(e, keys[k], dflts[k]));
		}
		fputs(st->close, f);
	}
}

static const char *const tl_keys[] = { "time", "event", "subject", "details" };
static const char *const tl_dflts[] = { "?", "?", "", "" };
static const char *const note_keys[] = { "time", "text" };
static const char *const note_dflts[] = { "?", "" };

static int render_md(json_t *day, FILE *f)
{
	json_t *exps = fl_j_arr(day, "experiments"), *tl = fl_j_arr(day, "timeline");
	json_t *notes = fl_j_arr(day, "notes"), *e;
	size_t i;

	fputs("# Game day: ", f);
	md_cell(f, s_or(day, "name", "?"));
	fprintf(f, "\n\n**%s** (exit %d)", s_or(day, "status", "?"),
		(int)json_integer_value(json_object_get(day, "exit_code")));
	if (fl_j_str(day, "reason")) {
		fputs(": ", f);
		md_cell(f, fl_j_str(day, "reason"));
	}
	fprintf(f, "  \nfrom %s to %s", s_or(day, "started", "?"), s_or(day, "ended", "?"));
	if (fl_j_str(day, "window")) {
		fputs(", window ", f);
		md_cell(f, fl_j_str(day, "window"));
	}
	fputs("\n\n## Experiments\n\n| # | experiment | verdict | exit | duration (s) | run |\n"
	      "|---|---|---|---|---|---|\n",
	      f);
	json_array_foreach (exps, i, e) {
		fprintf(f, "| %zu | ", i + 1);
		md_cell(f, s_or(e, "name", "?"));
		fputs(" | ", f);
		md_cell(f, s_or(e, "status", "?"));
		fputs(" | ", f);
		num_cell(f, e, "exit_code", 0);
		fputs(" | ", f);
		num_cell(f, e, "duration_s", 1);
		fputs(" | ", f);
		md_cell(f, s_or(e, "run_id", "-"));
		fputs(" |\n", f);
	}
	fputs("\n## Timeline\n\n| time (UTC) | event | subject | details |\n|---|---|---|---|\n",
	      f);
	rows(f, tl, tl_keys, tl_dflts, ARRAY_SIZE(tl_keys),
	     &(struct row_style){ "| ", " | ", " |\n", md_cell });
	fputs("\n## Notes\n\n", f);
	if (!json_array_size(notes))
		fputs("No notes.\n", f);
	rows(f, notes, note_keys, note_dflts, ARRAY_SIZE(note_keys),
	     &(struct row_style){ "- ", ": ", "\n", md_cell });
	json_array_foreach (exps, i, e) {
		_cleanup_free_ char *md = render_one(json_object_get(e, "result"), FL_REPORT_MD);
		bool fence = false;

		if (!md)
			continue;
		/* the run's report, its headings one level down under the experiment's */
		fputs("\n---\n\n## Experiment ", f);
		md_cell(f, s_or(e, "name", "?"));
		fputs("\n\n", f);
		for (char *line = md, *next; line && *line; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			if (!strncmp(line, "```", 3))
				fence = !fence;
			if (!fence && line[0] == '#')
				fputs("##", f);
			fprintf(f, "%s\n", line);
		}
	}
	return ferror(f) ? -EIO : 0;
}

static int render_html(json_t *day, FILE *f)
{
	json_t *exps = fl_j_arr(day, "experiments"), *tl = fl_j_arr(day, "timeline");
	json_t *notes = fl_j_arr(day, "notes"), *e;
	const char *status = s_or(day, "status", "?");
	size_t i;

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<title>Game day: ",
	      f);
	h(f, s_or(day, "name", "?"));
	fputs("</title>\n<style>\nbody{font-family:system-ui,sans-serif;margin:2em;color:#222}\n"
	      "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
	      "padding:.3em .6em;text-align:left;vertical-align:top}\n"
	      ".passed{color:#1a7f37}.failed{color:#cf222e}.aborted,.stopped,.skipped,"
	      ".window-closed{color:#9a6700}\niframe{width:100%;height:40em;border:1px solid "
	      "#ccc}\n</style>\n</head>\n<body>\n<h1>Game day: ",
	      f);
	h(f, s_or(day, "name", "?"));
	fputs("</h1>\n<p class=\"", f);
	h(f, status);
	fputs("\"><strong>", f);
	h(f, status);
	fprintf(f, "</strong> (exit %d)",
		(int)json_integer_value(json_object_get(day, "exit_code")));
	if (fl_j_str(day, "reason")) {
		fputs(": ", f);
		h(f, fl_j_str(day, "reason"));
	}
	fputs("<br>from ", f);
	h(f, s_or(day, "started", "?"));
	fputs(" to ", f);
	h(f, s_or(day, "ended", "?"));
	if (fl_j_str(day, "window")) {
		fputs(", window ", f);
		h(f, fl_j_str(day, "window"));
	}
	fputs("</p>\n<h2>Experiments</h2>\n<table>\n<tr><th>#</th><th>experiment</th>"
	      "<th>verdict</th><th>exit</th><th>duration (s)</th><th>run</th></tr>\n",
	      f);
	json_array_foreach (exps, i, e) {
		double v;

		fprintf(f, "<tr><td>%zu</td><td><a href=\"#exp-%zu\">", i + 1, i + 1);
		h(f, s_or(e, "name", "?"));
		fputs("</a></td><td class=\"", f);
		h(f, s_or(e, "status", "?"));
		fputs("\">", f);
		h(f, s_or(e, "status", "?"));
		fputs("</td><td>", f);
		if (fl_j_num(e, "exit_code", &v))
			fprintf(f, "%.0f", v);
		fputs("</td><td>", f);
		if (fl_j_num(e, "duration_s", &v))
			fprintf(f, "%.1f", v);
		fputs("</td><td>", f);
		h(f, s_or(e, "run_id", ""));
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n<h2>Timeline</h2>\n<table>\n<tr><th>time (UTC)</th><th>event</th>"
	      "<th>subject</th><th>details</th></tr>\n",
	      f);
	rows(f, tl, tl_keys, tl_dflts, ARRAY_SIZE(tl_keys),
	     &(struct row_style){ "<tr><td>", "</td><td>", "</td></tr>\n", h });
	fputs("</table>\n<h2>Notes</h2>\n<ul>\n", f);
	if (!json_array_size(notes))
		fputs("<li>No notes.</li>\n", f);
	rows(f, notes, note_keys, note_dflts, ARRAY_SIZE(note_keys),
	     &(struct row_style){ "<li><time>", "</time>: ", "</li>\n", h });
	fputs("</ul>\n", f);
	json_array_foreach (exps, i, e) {
		_cleanup_free_ char *page =
			render_one(json_object_get(e, "result"), FL_REPORT_HTML);

		fprintf(f, "<h2 id=\"exp-%zu\">Experiment ", i + 1);
		h(f, s_or(e, "name", "?"));
		fputs("</h2>\n", f);
		if (!page) {
			fputs("<p>Not run: ", f);
			h(f, s_or(e, "reason", s_or(e, "status", "not run")));
			fputs("</p>\n", f);
			continue;
		}
		/* the run's own report, self-contained, in a sandboxed frame */
		fputs("<iframe sandbox title=\"", f);
		h(f, s_or(e, "name", "?"));
		fputs("\" srcdoc=\"", f);
		fl_put_xml_attr(f, page);
		fputs("\"></iframe>\n", f);
	}
	fputs("</body>\n</html>\n", f);
	return ferror(f) ? -EIO : 0;
}

int fl_gameday_render(json_t *day, enum fl_report_format f, FILE *out)
{
	switch (f) {
	case FL_REPORT_JSON:
		if (json_dumpf(day, out, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) < 0)
			return -EIO;
		fputc('\n', out);
		return ferror(out) ? -EIO : 0;
	case FL_REPORT_JUNIT:
		return render_junit(day, out);
	case FL_REPORT_MD:
		return render_md(day, out);
	case FL_REPORT_HTML:
		return render_html(day, out);
	default:
		return -EINVAL;
	}
}

int fl_gameday_write(json_t *day, const char *dir, unsigned mask)
{
	int r = fl_mkdir_p(dir, 0755), first = 0;

	if (r < 0)
		return r;
	for (int f = 0; f < FL_N_REPORT_FORMATS; f++) {
		_cleanup_free_ char *buf = NULL, *path = NULL;
		size_t len = 0;
		FILE *m;

		if (!(mask & (1u << f)))
			continue;
		m = open_memstream(&buf, &len);
		if (!m)
			return -ENOMEM;
		r = fl_gameday_render(day, f, m);
		if (fclose(m) != 0 && r == 0)
			r = -EIO;
		if (r == 0 && asprintf(&path, "%s/%s", dir, file_names[f]) < 0)
			r = -ENOMEM;
		if (r == 0)
			r = fl_write_file_atomic(path, buf, len, 0644);
		if (r < 0 && !first)
			first = r;
	}
	return first;
}

/* --- webhooks --------------------------------------------------------------------------- */

#define HOOK_ATTEMPTS 5

struct hook_msg {
	char *url, *body;
	unsigned attempts;
	uint64_t due; /* CLOCK_MONOTONIC ns */
	struct hook_msg *next;
};

struct fl_notifier {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct hook_msg *head;
	bool stop, busy;
};

static void msg_free(struct hook_msg *m)
{
	free(m->url);
	free(m->body);
	free(m);
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

/* One POST: 0 on a 2xx answer, else -EIO with why filled. */
static int post(const char *url, const char *body, char *why, size_t len)
{
	const char *nolib = NULL;
	struct curl_slist *hdr = NULL;
	char err[CURL_ERROR_SIZE] = "";
	long code = 0;
	CURLcode rc;
	CURL *c;

	if (fl_curl_load(&nolib) < 0) {
		snprintf(why, len, "%s", nolib);
		return -ENOENT;
	}
	c = curl_easy_init();
	if (!c) {
		snprintf(why, len, "cannot create a curl handle");
		return -ENOMEM;
	}
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "faultline/" FL_VERSION);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		snprintf(why, len, "%s", err[0] ? err : curl_easy_strerror(rc));
		return -EIO;
	}
	if (code < 200 || code > 299) {
		snprintf(why, len, "HTTP status %ld", code);
		return -EIO;
	}
	return 0;
}

static void *notifier_main(void *ud)
{
	struct fl_notifier *n = ud;

	pthread_mutex_lock(&n->lock);
	for (;;) {
		struct hook_msg **pp, *m = NULL;
		uint64_t now = fl_now_ns(), wake = UINT64_MAX;
		char why[CURL_ERROR_SIZE + 64];
		int r;

		for (pp = &n->head; *pp; pp = &(*pp)->next)
			if ((*pp)->due <= now) {
				m = *pp;
				*pp = m->next;
				break;
			} else if ((*pp)->due < wake) {
				wake = (*pp)->due;
			}
		if (!m) {
			if (n->stop)
				break;
			if (wake == UINT64_MAX) {
				pthread_cond_wait(&n->cond, &n->lock);
			} else {
				struct timespec ts = { .tv_sec = (time_t)(wake / NSEC_PER_SEC),
						       .tv_nsec = (long)(wake % NSEC_PER_SEC) };
				pthread_cond_timedwait(&n->cond, &n->lock, &ts);
			}
			continue;
		}
		n->busy = true;
		pthread_mutex_unlock(&n->lock);
		r = post(m->url, m->body, why, sizeof(why));
		pthread_mutex_lock(&n->lock);
		n->busy = false;
		if (r == 0) {
			log_debug("webhook %s: delivered", m->url);
			msg_free(m);
		} else if (++m->attempts >= HOOK_ATTEMPTS || n->stop) {
			log_error("webhook %s: %s; giving up after %u attempts", m->url, why,
				  m->attempts);
			msg_free(m);
		} else {
			uint64_t backoff = (NSEC_PER_SEC / 2) << (m->attempts - 1);

			log_warn("webhook %s: %s; retrying in %.1fs", m->url, why,
				 (double)backoff / 1e9);
			m->due = fl_now_ns() + backoff;
			m->next = n->head;
			n->head = m;
		}
		pthread_cond_broadcast(&n->cond);
	}
	pthread_mutex_unlock(&n->lock);
	return NULL;
}

int fl_notifier_start(struct fl_notifier **ret)
{
	struct fl_notifier *n = calloc(1, sizeof(*n));
	pthread_condattr_t ca;
	int r;

	if (!n)
		return -ENOMEM;
	pthread_mutex_init(&n->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&n->cond, &ca);
	pthread_condattr_destroy(&ca);
	r = pthread_create(&n->thread, NULL, notifier_main, n);
	if (r) {
		free(n);
		return -r;
	}
	*ret = n;
	return 0;
}

void fl_notifier_post(struct fl_notifier *n, const char *url, const char *body)
{
	struct hook_msg *m = calloc(1, sizeof(*m)), **pp;

	if (!n || !m || !(m->url = strdup(url)) || !(m->body = strdup(body))) {
		log_error("webhook %s: out of memory, not sent", url);
		if (m)
			msg_free(m);
		return;
	}
	m->due = fl_now_ns();
	pthread_mutex_lock(&n->lock);
	/* in order: at the end of the queue */
	for (pp = &n->head; *pp; pp = &(*pp)->next)
		;
	*pp = m;
	pthread_cond_broadcast(&n->cond);
	pthread_mutex_unlock(&n->lock);
}

size_t fl_notifier_finish(struct fl_notifier *n, uint64_t drain_ns)
{
	uint64_t deadline = fl_now_ns() + drain_ns;
	size_t left = 0;

	if (!n)
		return 0;
	pthread_mutex_lock(&n->lock);
	while ((n->head || n->busy) && fl_now_ns() < deadline) {
		struct timespec ts = { .tv_sec = (time_t)(deadline / NSEC_PER_SEC),
				       .tv_nsec = (long)(deadline % NSEC_PER_SEC) };
		pthread_cond_timedwait(&n->cond, &n->lock, &ts);
	}
	n->stop = true;
	for (struct hook_msg *m = n->head, *next; m; m = next) {
		next = m->next;
		log_error("webhook %s: not delivered before the day ended", m->url);
		msg_free(m);
		left++;
	}
	n->head = NULL;
	pthread_cond_broadcast(&n->cond);
	pthread_mutex_unlock(&n->lock);
	/* a post in flight ends within its 5 s timeout */
	pthread_join(n->thread, NULL);
	pthread_mutex_destroy(&n->lock);
	pthread_cond_destroy(&n->cond);
	free(n);
	return left;
}
