// SPDX-License-Identifier: GPL-2.0-only
/* Framing and envelopes of the agent protocol v1: no I/O, shared by agent, client and tests. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inject/proto.h"
#include "inject/remote.h"
#include "inject/util.h"

const char *const fl_proto_ops[] = {
	"hello", "apply", "renew", "revert", "status", "probe", "heartbeat", NULL,
};

bool fl_proto_op_known(const char *op)
{
	for (size_t i = 0; op && fl_proto_ops[i]; i++)
		if (strcmp(op, fl_proto_ops[i]) == 0)
			return true;
	return false;
}

static size_t rx_max(const struct fl_proto_rx *rx)
{
	return rx->max ? rx->max : FL_REMOTE_MAX_MSG;
}

int fl_proto_feed(struct fl_proto_rx *rx, const void *data, size_t n)
{
	size_t want = rx->len + n;

	if (want > rx_max(rx) + 4 + 4096)
		return -EMSGSIZE;
	if (want > rx->cap) {
		size_t cap = rx->cap ? rx->cap : 4096;
		uint8_t *nb;

		while (cap < want)
			cap *= 2;
		nb = realloc(rx->buf, cap);
		if (!nb)
			return -ENOMEM;
		rx->buf = nb;
		rx->cap = cap;
	}
	memcpy(rx->buf + rx->len, data, n);
	rx->len = want;
	return 0;
}

static void consume(struct fl_proto_rx *rx, size_t n)
{
	memmove(rx->buf, rx->buf + n, rx->len - n);
	rx->len -= n;
}

int fl_proto_next(struct fl_proto_rx *rx, json_t **ret, char **ret_reason)
{
	json_error_t jerr;
	uint32_t len;
	json_t *msg;

	*ret = NULL;
	if (rx->len < 4)
		return 0;
	len = (uint32_t)rx->buf[0] << 24 | (uint32_t)rx->buf[1] << 16 | (uint32_t)rx->buf[2] << 8 |
	      rx->buf[3];
	if (len == 0 || len > rx_max(rx)) {
		if (ret_reason &&
		    asprintf(ret_reason, "message length %u is %s (at most %zu bytes)", len,
			     len ? "too large" : "empty", rx_max(rx)) < 0)
			*ret_reason = NULL;
		return -EMSGSIZE;
	}
	if (rx->len - 4 < len)
		return 0;
	msg = json_loadb((const char *)rx->buf + 4, len, JSON_REJECT_DUPLICATES, &jerr);
	consume(rx, 4 + (size_t)len);
	if (!msg || !json_is_object(msg)) {
		if (ret_reason && asprintf(ret_reason, "not a JSON object: %s",
					   msg ? "another JSON value" : jerr.text) < 0)
			*ret_reason = NULL;
		json_decref(msg);
		return -EBADMSG;
	}
	*ret = msg;
	return 1;
}

void fl_proto_rx_clear(struct fl_proto_rx *rx)
{
	free(rx->buf);
	*rx = (struct fl_proto_rx){ .max = rx->max };
}

int fl_proto_encode(json_t *msg, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *body = json_dumps(msg, JSON_COMPACT);
	size_t len;
	char *out;

	if (!body)
		return -ENOMEM;
	len = strlen(body);
	if (len > (max ? max : FL_REMOTE_MAX_MSG))
		return -EMSGSIZE;
	out = malloc(len + 4);
	if (!out)
		return -ENOMEM;
	out[0] = (char)(len >> 24);
	out[1] = (char)(len >> 16);
	out[2] = (char)(len >> 8);
	out[3] = (char)len;
	memcpy(out + 4, body, len);
	*ret = out;
	*ret_len = len + 4;
	return 0;
}

json_t *fl_proto_request(json_int_t id, const char *op, json_t *args)
{
	json_t *m = args && json_is_object(args) ? json_deep_copy(args) : json_object();

	json_decref(args);
	if (!m)
		return NULL;
	json_object_set_new(m, "v", json_integer(FL_REMOTE_PROTO));
	json_object_set_new(m, "id", json_integer(id));
	json_object_set_new(m, "op", json_string(op));
	return m;
}

json_t *fl_proto_reply_ok(json_int_t id, json_t *fields)
{
	json_t *m = fields ? fields : json_object();

	if (!m)
		return NULL;
	json_object_set_new(m, "v", json_integer(FL_REMOTE_PROTO));
	json_object_set_new(m, "id", id >= 0 ? json_integer(id) : json_null());
	json_object_set_new(m, "ok", json_true());
	return m;
}

json_t *fl_proto_reply_err(json_int_t id, int exit_code, const char *fmt, ...)
{
	_cleanup_free_ char *why = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&why, fmt, ap);
	va_end(ap);
	if (r < 0)
		return NULL;
	return json_pack("{s:i, s:o, s:b, s:s, s:i}", "v", FL_REMOTE_PROTO, "id",
			 id >= 0 ? json_integer(id) : json_null(), "ok", 0, "error", why, "exit",
			 exit_code);
}

static int bad(char **ret_reason, const char *why)
{
	if (ret_reason)
		*ret_reason = strdup(why);
	return -EPROTO;
}

int fl_proto_check_request(json_t *msg, json_int_t *ret_id, const char **ret_op, char **ret_reason)
{
	json_t *v = json_object_get(msg, "v"), *id = json_object_get(msg, "id");
	const char *op = json_string_value(json_object_get(msg, "op"));

	*ret_id = -1;
	*ret_op = NULL;
	if (!json_is_integer(id) || json_integer_value(id) < 0)
		return bad(ret_reason, "\"id\" must be a non-negative integer");
	*ret_id = json_integer_value(id);
	if (!json_is_integer(v))
		return bad(ret_reason, "\"v\" (the protocol version) is missing");
	if (json_integer_value(v) != FL_REMOTE_PROTO) {
		if (ret_reason && asprintf(ret_reason,
					   "protocol version %lld is not spoken here (this agent "
					   "speaks version %d)",
					   (long long)json_integer_value(v), FL_REMOTE_PROTO) < 0)
			*ret_reason = NULL;
		return -EPROTO;
	}
	if (!op)
		return bad(ret_reason, "\"op\" must be a string");
	if (!fl_proto_op_known(op)) {
		if (ret_reason && asprintf(ret_reason,
					   "unknown operation \"%.40s\" (known: hello, apply, "
					   "renew, revert, status, probe, heartbeat)",
					   op) < 0)
			*ret_reason = NULL;
		return -EPROTO;
	}
	*ret_op = op;
	return 0;
}
