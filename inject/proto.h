/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The agent protocol's framing (inject/remote.h): a 4-byte big-endian length, then that many
 * bytes of one JSON object. A receive buffer is fed whatever the transport read and yields
 * whole messages; nothing here does I/O, so both ends and the unit tests share it.
 */
#ifndef FL_PROTO_H
#define FL_PROTO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fl_proto_rx {
	uint8_t *buf;
	size_t len, cap;
	size_t max; /* largest message body accepted; 0: FL_REMOTE_MAX_MSG */
};

/* Append n bytes read from the transport. -ENOMEM, or -EMSGSIZE when the buffer would grow past
 * one whole message (the peer sends more than it announced without waiting for replies). */
int fl_proto_feed(struct fl_proto_rx *rx, const void *data, size_t n);

/*
 * The next message: 1 with *ret (a JSON object, caller decrefs), 0 when more bytes are needed.
 * -EMSGSIZE: the announced length is 0 or beyond max; the stream cannot be resynchronised, the
 * session must end. -EBADMSG: the frame was whole but not one JSON object; it is consumed and
 * the stream goes on. Either error sets *ret_reason (malloc'd) when not NULL.
 */
int fl_proto_next(struct fl_proto_rx *rx, json_t **ret, char **ret_reason);

/* Bytes held that are not yet a whole message (a truncated message when the peer hangs up). */
static inline size_t fl_proto_pending(const struct fl_proto_rx *rx)
{
	return rx->len;
}

void fl_proto_rx_clear(struct fl_proto_rx *rx);

/* One frame for msg: *ret (malloc'd) of *ret_len bytes. -EMSGSIZE beyond max (0: the default). */
int fl_proto_encode(json_t *msg, size_t max, char **ret, size_t *ret_len);

/* The request and reply envelopes. */
json_t *fl_proto_request(json_int_t id, const char *op, json_t *args /* stolen, may be NULL */);
json_t *fl_proto_reply_ok(json_int_t id, json_t *fields /* stolen, may be NULL */);
json_t *fl_proto_reply_err(json_int_t id, int exit_code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The closed set of operations; NULL-terminated. */
extern const char *const fl_proto_ops[];
bool fl_proto_op_known(const char *op);

/*
 * Check a request envelope: "v" is FL_REMOTE_PROTO, "id" a non-negative integer, "op" one of
 * the operations. 0 with *ret_id and *ret_op (borrowed), or -EPROTO with *ret_reason; *ret_id
 * is -1 when the id itself is unusable.
 */
int fl_proto_check_request(json_t *msg, json_int_t *ret_id, const char **ret_op, char **ret_reason);

#endif
