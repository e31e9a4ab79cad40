/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libcurl, loaded when first needed (dlopen "libcurl.so.4") instead of linked: libcurl brings
 * 28 of the binary's 42 shared libraries (GnuTLS, Kerberos, LDAP, ...), which every process
 * would map and relocate at start, an idle `faultline agent` included (9.5 MB RSS against
 * 5.4 MB without them), while only HTTP probes, URL checks and webhooks use it.
 * Include this instead of <curl/curl.h>; call fl_curl_load() before the first curl_* call.
 */
#ifndef FL_CURL_DL_H
#define FL_CURL_DL_H

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#define FL_CURL_FUNCS(X)                                                                      \
	X(curl_easy_cleanup) X(curl_easy_escape) X(curl_easy_getinfo) X(curl_easy_init)       \
	X(curl_easy_perform) X(curl_easy_setopt) X(curl_easy_strerror) X(curl_free)           \
	X(curl_global_cleanup) X(curl_global_init) X(curl_multi_add_handle)                   \
	X(curl_multi_assign) X(curl_multi_cleanup) X(curl_multi_info_read)                    \
	X(curl_multi_init) X(curl_multi_remove_handle) X(curl_multi_setopt)                   \
	X(curl_multi_socket_action) X(curl_multi_strerror) X(curl_multi_timeout)              \
	X(curl_slist_append) X(curl_slist_free_all) X(curl_url) X(curl_url_cleanup)           \
	X(curl_url_get) X(curl_url_set)

#define FL_CURL_MEMBER(f) __typeof__(f) *f;
struct fl_curl_api {
	FL_CURL_FUNCS(FL_CURL_MEMBER)
};
#undef FL_CURL_MEMBER

extern struct fl_curl_api fl_curl;

/* Loads and initialises (curl_global_init) libcurl once, thread-safe: 0, or -ENOENT with
 * *ret_why (static text) saying why. */
int fl_curl_load(const char **ret_why);

#ifndef FL_CURL_DL_IMPL
/* curl.h wraps these three in same-name macros that count their arguments */
#undef curl_easy_getinfo
#undef curl_easy_setopt
#undef curl_multi_setopt
#define curl_easy_cleanup fl_curl.curl_easy_cleanup
#define curl_easy_escape fl_curl.curl_easy_escape
#define curl_easy_getinfo fl_curl.curl_easy_getinfo
#define curl_easy_init fl_curl.curl_easy_init
#define curl_easy_perform fl_curl.curl_easy_perform
#define curl_easy_setopt fl_curl.curl_easy_setopt
#define curl_easy_strerror fl_curl.curl_easy_strerror
#define curl_free fl_curl.curl_free
#define curl_global_cleanup fl_curl.curl_global_cleanup
#define curl_global_init fl_curl.curl_global_init
#define curl_multi_add_handle fl_curl.curl_multi_add_handle
#define curl_multi_assign fl_curl.curl_multi_assign
#define curl_multi_cleanup fl_curl.curl_multi_cleanup
#define curl_multi_info_read fl_curl.curl_multi_info_read
#define curl_multi_init fl_curl.curl_multi_init
#define curl_multi_remove_handle fl_curl.curl_multi_remove_handle
#define curl_multi_setopt fl_curl.curl_multi_setopt
#define curl_multi_socket_action fl_curl.curl_multi_socket_action
#define curl_multi_strerror fl_curl.curl_multi_strerror
#define curl_multi_timeout fl_curl.curl_multi_timeout
#define curl_slist_append fl_curl.curl_slist_append
#define curl_slist_free_all fl_curl.curl_slist_free_all
#define curl_url fl_curl.curl_url
#define curl_url_cleanup fl_curl.curl_url_cleanup
#define curl_url_get fl_curl.curl_url_get
#define curl_url_set fl_curl.curl_url_set
#endif

#endif
