// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests: the agent protocol's framing (inject/proto.c) and the apply parameters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "inject/agent.h"
#include "inject/proto.h"
#include "inject/remote.h"
#include "scenarios/diag.h"

static void feed_frame(struct fl_proto_rx *rx, uint32_t len, const char *body, size_t n)
{
	uint8_t h[4] = { len >> 24, len >> 16, len >> 8, len };

	assert_int_equal(fl_proto_feed(rx, h, 4), 0);
	if (n)
		assert_int_equal(fl_proto_feed(rx, body, n), 0);
}

static void roundtrip(void **state)
{
	struct fl_proto_rx rx = { 0 };
	json_t *req = fl_proto_request(7, "status", NULL), *got = NULL;
	char *frame = NULL;
	size_t len = 0;

	assert_int_equal(fl_proto_encode(req, 0, &frame, &len), 0);
	assert_int_equal((uint8_t)frame[0] << 24 | (uint8_t)frame[1] << 16 |
				 (uint8_t)frame[2] << 8 | (uint8_t)frame[3],
			 len - 4);
	/* byte by byte: nothing until the last byte */
	for (size_t i = 0; i < len; i++) {
		assert_int_equal(fl_proto_next(&rx, &got, NULL), 0);
		assert_int_equal(fl_proto_feed(&rx, frame + i, 1), 0);
	}
	assert_int_equal(fl_proto_next(&rx, &got, NULL), 1);
	assert_true(json_equal(req, got));
	assert_int_equal(fl_proto_pending(&rx), 0);
	json_decref(got);
	/* two frames in one read come out one by one */
	assert_int_equal(fl_proto_feed(&rx, frame, len), 0);
	assert_int_equal(fl_proto_feed(&rx, frame, len), 0);
	assert_int_equal(fl_proto_next(&rx, &got, NULL), 1);
	json_decref(got);
	assert_int_equal(fl_proto_next(&rx, &got, NULL), 1);
	json_decref(got);
	assert_int_equal(fl_proto_next(&rx, &got, NULL), 0);
	free(frame);
	json_decref(req);
	fl_proto_rx_clear(&rx);
}

static void bad_lengths(void **state)
{
	struct fl_proto_rx rx = { 0 };
	json_t *got = (json_t *)1;
	char *why = NULL;

	/* 2^31: refused from the header alone, nothing allocated for it */
	feed_frame(&rx, 1u << 31, NULL, 0);
	assert_int_equal(fl_proto_next(&rx, &got, &why), -EMSGSIZE);
	assert_null(got);
	assert_non_null(strstr(why, "too large"));
	free(why), why = NULL;
	fl_proto_rx_clear(&rx);
	/* one byte over the maximum */
	feed_frame(&rx, FL_REMOTE_MAX_MSG + 1, NULL, 0);
	assert_int_equal(fl_proto_next(&rx, &got, NULL), -EMSGSIZE);
	fl_proto_rx_clear(&rx);
	/* empty */
	feed_frame(&rx, 0, NULL, 0);
	assert_int_equal(fl_proto_next(&rx, &got, &why), -EMSGSIZE);
	assert_non_null(strstr(why, "empty"));
	free(why);
	fl_proto_rx_clear(&rx);
	/* a peer that keeps sending past one message's worth */
	{
		static char junk[64 << 10];
		int r = 0;
		for (int i = 0; i < 40 && r == 0; i++)
			r = fl_proto_feed(&rx, junk, sizeof(junk));
		assert_int_equal(r, -EMSGSIZE);
	}
	fl_proto_rx_clear(&rx);
	/* a small maximum is honoured */
	rx.max = 16;
	feed_frame(&rx, 17, "{}", 2);
	assert_int_equal(fl_proto_next(&rx, &got, NULL), -EMSGSIZE);
	fl_proto_rx_clear(&rx);
}

static void bad_bodies(void **state)
{
	struct fl_proto_rx rx = { 0 };
	json_t *got = NULL;
	char *why = NULL;
	const char *cases[] = { "not json", "[1, 2]", "\"s\"", "{\"a\": 1", "{\"a\":1,\"a\":2}" };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		feed_frame(&rx, (uint32_t)strlen(cases[i]), cases[i], strlen(cases[i]));
		assert_int_equal(fl_proto_next(&rx, &got, &why), -EBADMSG);
		assert_non_null(why);
		free(why), why = NULL;
		/* consumed: the stream goes on with the next frame */
		assert_int_equal(fl_proto_pending(&rx), 0);
	}
	feed_frame(&rx, 2, "{}", 2);
	assert_int_equal(fl_proto_next(&rx, &got, NULL), 1);
	json_decref(got);
	/* a truncated message: held, never returned */
	feed_frame(&rx, 100, "{\"v\":1", 6);
	assert_int_equal(fl_proto_next(&rx, &got, NULL), 0);
	assert_int_equal(fl_proto_pending(&rx), 10);
	fl_proto_rx_clear(&rx);
}

static void envelopes(void **state)
{
	struct {
		const char *json;
		int ret;
		const char *why;
	} cases[] = {
		{ "{\"v\":1,\"id\":3,\"op\":\"hello\"}", 0, NULL },
		{ "{\"v\":2,\"id\":3,\"op\":\"hello\"}", -EPROTO, "version 2" },
		{ "{\"id\":3,\"op\":\"hello\"}", -EPROTO, "\"v\"" },
		{ "{\"v\":1,\"op\":\"hello\"}", -EPROTO, "\"id\"" },
		{ "{\"v\":1,\"id\":-1,\"op\":\"hello\"}", -EPROTO, "\"id\"" },
		{ "{\"v\":1,\"id\":3,\"op\":\"exec\"}", -EPROTO, "unknown operation" },
		{ "{\"v\":1,\"id\":3,\"op\":5}", -EPROTO, "\"op\"" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *m = json_loads(cases[i].json, 0, NULL);
		const char *op = NULL;
		json_int_t id;
		char *why = NULL;

		assert_int_equal(fl_proto_check_request(m, &id, &op, &why), cases[i].ret);
		if (cases[i].why)
			assert_non_null(strstr(why, cases[i].why));
		else
			assert_string_equal(op, "hello");
		free(why);
		json_decref(m);
	}
	{
		json_t *e = fl_proto_reply_err(4, 2, "bad %s", "thing");
		assert_false(json_is_true(json_object_get(e, "ok")));
		assert_string_equal(json_string_value(json_object_get(e, "error")), "bad thing");
		assert_int_equal(json_integer_value(json_object_get(e, "exit")), 2);
		json_decref(e);
	}
}

static void apply_params(void **state)
{
	json_t *f = json_loads("{\"kind\":\"stop\",\"target\":{\"name\":\"redis\",\"count\":2},"
			       "\"for\":\"10s\",\"percent\":2.5,\"x\":true}",
			       0, NULL);
	struct fl_params p = { 0 };
	char **keep = NULL, *why = NULL;

	assert_int_equal(fl_agent_params(f, &p, &keep, &why), 0);
	assert_int_equal(p.n, 6);
	assert_string_equal(fl_params_take(&p, "target.name")->value, "redis");
	assert_string_equal(fl_params_take(&p, "target.count")->value, "2");
	assert_string_equal(fl_params_take(&p, "percent")->value, "2.5");
	assert_string_equal(fl_params_take(&p, "x")->value, "true");
	assert_string_equal(fl_params_take(&p, "target.name")->where.flag, "fault.target.name");
	fl_params_clear(&p);
	fl_strv_free(keep), keep = NULL;
	json_decref(f);

	f = json_loads("{\"kind\":\"stop\",\"target\":{\"pid\":[1]}}", 0, NULL);
	assert_int_equal(fl_agent_params(f, &p, &keep, &why), -EINVAL);
	assert_non_null(strstr(why, "fault.target.pid"));
	free(why);
	fl_params_clear(&p);
	fl_strv_free(keep);
	json_decref(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip),	cmocka_unit_test(bad_lengths),
		cmocka_unit_test(bad_bodies),	cmocka_unit_test(envelopes),
		cmocka_unit_test(apply_params),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
