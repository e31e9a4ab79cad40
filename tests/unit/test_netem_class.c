// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests: the netem/tbf classifier (bpf/netclass) run by the kernel on packets we build
 * (BPF_PROG_TEST_RUN): the fault's band for what matches, the pass-through band for the rest,
 * the excluded ports, address resolution and everything after the TTL. Needs root (skipped
 * otherwise).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/types.h>
#include <netinet/in.h>

#include "bpf/netclass.h"
#include "bpf/netclass.skel.h"
#include "inject/net_netem.h"

#define UNSPEC 0xffffffffu /* TC_ACT_UNSPEC: prio's priomap, the pass-through band */

struct pkt4 {
	struct ethhdr eth;
	struct iphdr ip;
	struct udphdr udp;
	char payload[18];
} __attribute__((packed));

struct pkt6 {
	struct ethhdr eth;
	struct ipv6hdr ip;
	struct udphdr udp; /* or the ICMPv6 header: type first */
	char payload[18];
} __attribute__((packed));

static struct pkt4 udp4(const char *dst, uint16_t sport, uint16_t dport)
{
	struct pkt4 p = { 0 };

	p.eth.h_proto = htons(ETH_P_IP);
	p.ip.version = 4;
	p.ip.ihl = 5;
	p.ip.ttl = 64;
	p.ip.protocol = IPPROTO_UDP;
	p.ip.tot_len = htons(sizeof(p) - sizeof(p.eth));
	inet_pton(AF_INET, "10.77.0.1", &p.ip.saddr);
	inet_pton(AF_INET, dst, &p.ip.daddr);
	p.udp.source = htons(sport);
	p.udp.dest = htons(dport);
	p.udp.len = htons(sizeof(p.udp) + sizeof(p.payload));
	return p;
}

static struct pkt6 ip6(const char *dst, uint8_t proto, uint16_t dport_or_type)
{
	struct pkt6 p = { 0 };

	p.eth.h_proto = htons(ETH_P_IPV6);
	p.ip.version = 6;
	p.ip.nexthdr = proto;
	p.ip.hop_limit = 255;
	p.ip.payload_len = htons(sizeof(p.udp) + sizeof(p.payload));
	inet_pton(AF_INET6, "fd77::1", &p.ip.saddr);
	inet_pton(AF_INET6, dst, &p.ip.daddr);
	if (proto == IPPROTO_UDP) {
		p.udp.source = htons(40000);
		p.udp.dest = htons(dport_or_type);
	} else {
		*(uint8_t *)&p.udp = (uint8_t)dport_or_type;
	}
	return p;
}

static uint64_t boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Load the classifier with c (a live TTL unless c says otherwise); skip without root. */
static struct netclass_bpf *load(struct nc_config *c)
{
	struct netclass_bpf *skel;

	if (geteuid() != 0)
		skip();
	libbpf_set_print(NULL);
	skel = netclass_bpf__open();
	assert_non_null(skel);
	c->classid = FL_NM_FAULT_CLASS;
	if (!c->match.expiry_boot_ns)
		c->match.expiry_boot_ns = boot_ns() + 60ull * 1000000000ull;
	memcpy((void *)&skel->rodata->cfg, c, sizeof(*c));
	assert_int_equal(netclass_bpf__load(skel), 0);
	return skel;
}

static uint32_t run(struct netclass_bpf *skel, const void *pkt, size_t len)
{
	char out[256];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.netclass), &o), 0);
	return o.retval;
}

static long long counter(struct netclass_bpf *skel, uint32_t k)
{
	int n = libbpf_num_possible_cpus();
	uint64_t v[n];
	long long sum = 0;

	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.counters), &k, v), 0);
	for (int i = 0; i < n; i++)
		sum += (long long)v[i];
	return sum;
}

#define RUN(skel, p) run(skel, &(p), sizeof(p))

static void filtered_port(void **state)
{
	struct nc_config c = { .match = {
				       .proto = IPPROTO_UDP, .dport_lo = 9000, .dport_hi = 9000 } };
	struct netclass_bpf *skel = load(&c);
	struct pkt4 a = udp4("10.77.0.2", 40000, 9000), b = udp4("10.77.0.2", 40000, 9001);

	assert_int_equal(RUN(skel, a), 0); /* TC_ACT_OK with the fault's band in tc_classid */
	assert_int_equal(RUN(skel, b), UNSPEC);
	assert_int_equal(RUN(skel, a), 0);
	assert_int_equal(counter(skel, NC_SEEN), 3);
	assert_int_equal(counter(skel, NC_MATCHED), 2);
	assert_int_equal(counter(skel, NC_EXPIRED), 0);
	netclass_bpf__destroy(skel);
}

static void unfiltered_with_exclude(void **state)
{
	/* what fl_netmatch_plan gives an unfiltered fault with exclude 9001 over SSH from 2222 */
	struct nc_config c = { .match = { .n_exclude = 3, .exclude = { 9001, 2222, 22 } } };
	struct netclass_bpf *skel = load(&c);
	struct pkt4 a = udp4("10.77.0.2", 40000, 9000), x = udp4("10.77.0.2", 40000, 9001),
		    ssh = udp4("10.77.0.9", 22, 2222);
	struct ethhdr arp = { .h_proto = htons(ETH_P_ARP) };
	char arp_pkt[60] = { 0 };

	memcpy(arp_pkt, &arp, sizeof(arp));
	assert_int_equal(RUN(skel, a), 0);
	assert_int_equal(RUN(skel, x), UNSPEC);
	assert_int_equal(RUN(skel, ssh), UNSPEC);
	assert_int_equal(RUN(skel, arp_pkt), UNSPEC); /* ARP: the excluded ports need it */
	assert_int_equal(counter(skel, NC_MATCHED), 1);
	netclass_bpf__destroy(skel);
}

static void ipv6_and_neighbour_discovery(void **state)
{
	struct nc_config c = { .match = { .dst = { .family = 6, .prefix = 64 } } };
	struct netclass_bpf *skel;
	struct pkt6 in = ip6("fd77::2", IPPROTO_UDP, 9000), out = ip6("fd78::2", IPPROTO_UDP, 9000),
		    ns = ip6("fd77::2", IPPROTO_ICMPV6, 135),
		    echo = ip6("fd77::2", IPPROTO_ICMPV6, 128);

	inet_pton(AF_INET6, "fd77::", c.match.dst.addr);
	skel = load(&c);
	assert_int_equal(RUN(skel, in), 0);
	assert_int_equal(RUN(skel, out), UNSPEC);
	assert_int_equal(RUN(skel, ns), UNSPEC); /* neighbour solicitation passes */
	assert_int_equal(RUN(skel, echo), 0);	 /* an echo request is traffic like any */
	netclass_bpf__destroy(skel);
}

static void after_the_ttl_everything_passes(void **state)
{
	struct nc_config c = { .match = { .expiry_boot_ns = boot_ns() - 1 } };
	struct netclass_bpf *skel = load(&c);
	struct pkt4 a = udp4("10.77.0.2", 40000, 9000);

	assert_int_equal(RUN(skel, a), UNSPEC);
	assert_int_equal(RUN(skel, a), UNSPEC);
	assert_int_equal(counter(skel, NC_EXPIRED), 2);
	assert_int_equal(counter(skel, NC_MATCHED), 0);
	netclass_bpf__destroy(skel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(filtered_port),
		cmocka_unit_test(unfiltered_with_exclude),
		cmocka_unit_test(ipv6_and_neighbour_discovery),
		cmocka_unit_test(after_the_ttl_everything_passes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
