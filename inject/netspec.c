// SPDX-License-Identifier: GPL-2.0-only
/* Network fault filters: parse and describe the keys every network backend shares. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "inject/netspec.h"

const char *const fl_netspec_keys[] = {
	"dev", "direction", "src", "dst", "proto", "sport", "dport", "cgroup", "peer", "exclude",
	NULL,
};

static const struct {
	const char *name;
	uint8_t proto;
} protos[] = {
	{ "any", 0 }, { "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP }, { "icmp", IPPROTO_ICMP },
	{ "icmpv6", IPPROTO_ICMPV6 },
};

/* "10.0.0.0/8", "198.18.0.11", "fd00::/64": host bits are cleared. */
static int parse_cidr(const char *s, struct fl_cidr *ret)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	struct fl_cidr c = { 0 };
	unsigned max;

	if (n == 0 || n >= INET6_ADDRSTRLEN)
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, c.addr) == 1)
		c.family = AF_INET, max = 32;
	else if (inet_pton(AF_INET6, buf, c.addr) == 1)
		c.family = AF_INET6, max = 128;
	else
		return -EINVAL;
	c.prefix = (uint8_t)max;
	if (slash) {
		uint64_t v;
		if (fl_parse_uint(slash + 1, max, &v) < 0)
			return -ERANGE;
		c.prefix = (uint8_t)v;
	}
	for (unsigned i = c.prefix; i < max; i++)
		c.addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	*ret = c;
	return 0;
}

/* "9000" or "9000-9010" */
static int parse_ports(const char *s, struct fl_port_range *ret)
{
	const char *dash = strchr(s, '-');
	char lo[8];
	uint64_t a, b;

	if (dash) {
		size_t n = (size_t)(dash - s);
		if (n == 0 || n >= sizeof(lo))
			return -EINVAL;
		memcpy(lo, s, n);
		lo[n] = '\0';
		if (fl_parse_uint(lo, 65535, &a) < 0 || fl_parse_uint(dash + 1, 65535, &b) < 0)
			return -EINVAL;
	} else {
		if (fl_parse_uint(s, 65535, &a) < 0)
			return -EINVAL;
		b = a;
	}
	if (a == 0 || b < a)
		return -EINVAL;
	ret->lo = (uint16_t)a;
	ret->hi = (uint16_t)b;
	return 0;
}

static bool valid_dev(const char *s)
{
	size_t n = strlen(s);

	/* IFNAMSIZ - 1, and what the kernel refuses */
	return n >= 1 && n <= 15 && !strpbrk(s, "/: \t\n") && strcmp(s, ".") && strcmp(s, "..");
}

static bool lab_host_or_addr(const char *s, const struct fl_lab *lab)
{
	struct fl_cidr c;

	if (parse_cidr(s, &c) == 0 && !strchr(s, '/'))
		return true;
	return lab && fl_lab_find_host(lab, s);
}

int fl_netspec_parse(const struct fl_params *p, const struct fl_lab *lab, struct fl_netspec *ret,
		     struct fl_errors *errs)
{
	struct fl_netspec s = { .direction = FL_DIR_INGRESS };
	struct fl_param *v;
	size_t n0 = errs->n;

	if ((v = fl_params_take(p, "dev"))) {
		if (!valid_dev(v->value))
			fl_errors_add(errs, &v->where,
				      "'dev' must be a network interface name of 1-15 characters, "
				      "got '%s'",
				      v->value);
		else if (!(s.dev = strdup(v->value)))
			return -ENOMEM;
	}
	if ((v = fl_params_take(p, "direction"))) {
		if (!strcmp(v->value, "ingress"))
			s.direction = FL_DIR_INGRESS;
		else if (!strcmp(v->value, "egress"))
			s.direction = FL_DIR_EGRESS;
		else if (!strcmp(v->value, "both"))
			s.direction = FL_DIR_BOTH;
		else
			fl_errors_add(errs, &v->where,
				      "'direction' must be 'ingress', 'egress' or 'both', got '%s'",
				      v->value);
	}
	if ((v = fl_params_take(p, "src")) && parse_cidr(v->value, &s.src) < 0)
		fl_errors_add(errs, &v->where,
			      "'src' must be an IPv4 or IPv6 address or CIDR such as '10.0.0.0/8', "
			      "got '%s'",
			      v->value);
	if ((v = fl_params_take(p, "dst")) && parse_cidr(v->value, &s.dst) < 0)
		fl_errors_add(errs, &v->where,
			      "'dst' must be an IPv4 or IPv6 address or CIDR such as '10.0.0.0/8', "
			      "got '%s'",
			      v->value);
	if ((v = fl_params_take(p, "proto"))) {
		size_t i;
		for (i = 0; i < ARRAY_SIZE(protos); i++)
			if (!strcasecmp(protos[i].name, v->value))
				break;
		uint64_t num;
		if (i < ARRAY_SIZE(protos))
			s.proto = protos[i].proto;
		else if (fl_parse_uint(v->value, 255, &num) == 0 && num > 0)
			s.proto = (uint8_t)num; /* an IP protocol number: 112 is VRRP */
		else
			fl_errors_add(errs, &v->where,
				      "'proto' must be 'tcp', 'udp', 'icmp', 'icmpv6', 'any' or an IP "
				      "protocol number from 1 to 255, got '%s'",
				      v->value);
	}
	if ((v = fl_params_take(p, "sport")) && parse_ports(v->value, &s.sport) < 0)
		fl_errors_add(errs, &v->where,
			      "'sport' must be a port or range such as '9000' or '9000-9010' "
			      "(1-65535), got '%s'",
			      v->value);
	if ((v = fl_params_take(p, "dport")) && parse_ports(v->value, &s.dport) < 0)
		fl_errors_add(errs, &v->where,
			      "'dport' must be a port or range such as '9000' or '9000-9010' "
			      "(1-65535), got '%s'",
			      v->value);
	if ((s.sport.lo || s.dport.lo) && s.proto != IPPROTO_TCP && s.proto != IPPROTO_UDP &&
	    s.proto != 0) {
		v = fl_params_take(p, s.sport.lo ? "sport" : "dport");
		fl_errors_add(errs, &v->where, "ports need 'proto' tcp or udp");
	}
	if ((v = fl_params_take(p, "cgroup"))) {
		if (v->value[0] != '/' || strstr(v->value, "/../") || strstr(v->value, "/./"))
			fl_errors_add(errs, &v->where,
				      "'cgroup' must be an absolute cgroup v2 path such as "
				      "'/system.slice/redis.service', got '%s'",
				      v->value);
		else if (!(s.cgroup = strdup(v->value)))
			return -ENOMEM;
	}
	if ((v = fl_params_take(p, "peer"))) {
		if (!lab_host_or_addr(v->value, lab) &&
		    (lab || !fl_valid_name(v->value, FL_HOST_NAME_MAX)))
			fl_errors_add(errs, &v->where,
				      "'peer' must be a lab host or an IPv4 or IPv6 address, got '%s'",
				      v->value);
		else if (s.src.family || s.dst.family)
			fl_errors_add(errs, &v->where,
				      "'peer' cannot be combined with 'src' or 'dst'");
		else if (!(s.peer = strdup(v->value)))
			return -ENOMEM;
	}
	if ((v = fl_params_take(p, "exclude"))) {
		_cleanup_free_ char *copy = strdup(v->value);
		char *save = NULL;

		if (!copy)
			return -ENOMEM;
		for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
			uint64_t port;
			if (fl_parse_uint(t, 65535, &port) < 0 || port == 0) {
				fl_errors_add(errs, &v->where,
					      "'exclude' must be a comma-separated list of ports, "
					      "got '%s'",
					      t);
				break;
			}
			if (s.n_exclude == FL_NET_MAX_EXCLUDE) {
				fl_errors_add(errs, &v->where,
					      "'exclude' takes at most %d ports", FL_NET_MAX_EXCLUDE);
				break;
			}
			s.exclude[s.n_exclude++] = (uint16_t)port;
		}
	}
	if (errs->n > n0) {
		fl_netspec_clear(&s);
		return -EINVAL;
	}
	*ret = s;
	return 0;
}

void fl_netspec_clear(struct fl_netspec *s)
{
	if (!s)
		return;
	free(s->dev);
	free(s->cgroup);
	free(s->peer);
	*s = (struct fl_netspec){ 0 };
}

static void cidr_str(const struct fl_cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(c->family, c->addr, a, sizeof(a));
	if (c->prefix == (c->family == AF_INET ? 32 : 128))
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "%s/%u", a, c->prefix);
}

static const char *proto_name(uint8_t p)
{
	for (size_t i = 0; i < ARRAY_SIZE(protos); i++)
		if (protos[i].proto == p)
			return protos[i].name;
	return "?";
}

void fl_netspec_describe(const struct fl_netspec *s, char *buf, size_t len)
{
	static const char *const dirs[] = { "egress", "ingress", "both directions" };
	char tmp[INET6_ADDRSTRLEN + 8];
	size_t off = 0;

#define APPEND(...)                                                                            \
	do {                                                                                   \
		if (off < len) {                                                               \
			int _n = snprintf(buf + off, len - off, __VA_ARGS__);                  \
			off += _n > 0 ? (size_t)_n : 0;                                        \
		}                                                                              \
	} while (0)
	if (len == 0)
		return;
	buf[0] = '\0';
	if (s->proto && strcmp(proto_name(s->proto), "?"))
		APPEND("%s ", proto_name(s->proto));
	else if (s->proto)
		APPEND("proto %u ", s->proto);
	if (s->src.family) {
		cidr_str(&s->src, tmp, sizeof(tmp));
		APPEND("from %s ", tmp);
	}
	if (s->dst.family) {
		cidr_str(&s->dst, tmp, sizeof(tmp));
		APPEND("to %s ", tmp);
	}
	if (s->peer)
		APPEND("with peer %s ", s->peer);
	if (s->sport.lo)
		APPEND(s->sport.lo == s->sport.hi ? "sport %u " : "sport %u-%u ", s->sport.lo,
		       s->sport.hi);
	if (s->dport.lo)
		APPEND(s->dport.lo == s->dport.hi ? "dport %u " : "dport %u-%u ", s->dport.lo,
		       s->dport.hi);
	if (s->cgroup)
		APPEND("cgroup %s ", s->cgroup);
	APPEND("%s", dirs[s->direction]);
	if (s->dev)
		APPEND(" on %s", s->dev);
	if (s->n_exclude) {
		APPEND(" (never ports");
		for (size_t i = 0; i < s->n_exclude; i++)
			APPEND("%s%u", i ? "," : " ", s->exclude[i]);
		APPEND(")");
	}
#undef APPEND
}
