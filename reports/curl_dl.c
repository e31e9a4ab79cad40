// SPDX-License-Identifier: GPL-2.0-only
/* libcurl through dlopen: see curl_dl.h. */
#define FL_CURL_DL_IMPL 1
#include "reports/curl_dl.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

struct fl_curl_api fl_curl;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const char *load_why;
static char why_buf[512];

static void load(void)
{
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(why_buf, sizeof(why_buf), "cannot load libcurl (Debian: libcurl4): %s",
			 dlerror());
		load_why = why_buf;
		return;
	}
#define FL_CURL_SYM(f)                                                                        \
	if (!load_why && !(*(void **)&fl_curl.f = dlsym(h, #f))) {                            \
		snprintf(why_buf, sizeof(why_buf), "libcurl.so.4 has no %s: too old", #f);     \
		load_why = why_buf;                                                           \
	}
	FL_CURL_FUNCS(FL_CURL_SYM)
#undef FL_CURL_SYM
	/* once per process, before any thread of ours uses it (it is not thread-safe) */
	if (!load_why && fl_curl.curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		load_why = "libcurl's global initialisation failed";
}

int fl_curl_load(const char **ret_why)
{
	pthread_once(&once, load);
	if (load_why && ret_why)
		*ret_why = load_why;
	return load_why ? -ENOENT : 0;
}
