/* network.c: the network probe: per-interface traffic counters from /proc/net/dev. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <reeve-probe.h>

#include "filter.h"
#include "proc.h"

#define NET_NSTATS 16	/* 8 receive then 8 transmit columns */

/* Called for each interface line with its 16 counters. */
typedef void (*netdev_fn)(void *arg, const char *name, const uint64_t *v);

REEVE_STATIC int parse_netdev(const char *buf, size_t len, netdev_fn fn, void *arg);

static const struct reeve_metric net_metrics[NET_NSTATS] = {
	{ "network_receive_bytes_total", "Bytes received.", REEVE_COUNTER },
	{ "network_receive_packets_total", "Packets received.", REEVE_COUNTER },
	{ "network_receive_errors_total", "Receive errors.", REEVE_COUNTER },
	{ "network_receive_drop_total", "Received packets dropped.", REEVE_COUNTER },
	{ "network_receive_fifo_total", "Receive FIFO buffer errors.", REEVE_COUNTER },
	{ "network_receive_frame_total", "Receive framing errors.", REEVE_COUNTER },
	{ "network_receive_compressed_total", "Compressed packets received.", REEVE_COUNTER },
	{ "network_receive_multicast_total", "Multicast packets received.", REEVE_COUNTER },
	{ "network_transmit_bytes_total", "Bytes transmitted.", REEVE_COUNTER },
	{ "network_transmit_packets_total", "Packets transmitted.", REEVE_COUNTER },
	{ "network_transmit_errors_total", "Transmit errors.", REEVE_COUNTER },
	{ "network_transmit_drop_total", "Transmitted packets dropped.", REEVE_COUNTER },
	{ "network_transmit_fifo_total", "Transmit FIFO buffer errors.", REEVE_COUNTER },
	{ "network_transmit_colls_total", "Collisions while transmitting.", REEVE_COUNTER },
	{ "network_transmit_carrier_total", "Carrier losses while transmitting.", REEVE_COUNTER },
	{ "network_transmit_compressed_total", "Compressed packets transmitted.", REEVE_COUNTER },
};

struct network_state {
	const struct reeve_host *host;
	struct proc_file netdev;
	struct filter include;
	struct filter exclude;
	struct filter_cache names;
	size_t pos;
	int failed;
	struct reeve_emitter *em;	/* set during collect */
};

/*
 * Parse /proc/net/dev: fn is called for each complete "name: 16 numbers" line (the two
 * header lines have no ':'). Returns the number of interfaces.
 */
REEVE_STATIC int
parse_netdev(const char *buf, size_t len, netdev_fn fn, void *arg)
{
	const char *p = buf, *end = buf + len, *line, *eol, *colon, *name, *f;
	char ifname[FILTER_NAME_MAX];
	uint64_t v[NET_NSTATS];
	size_t flen, n;
	int nif = 0;

	while ((line = proc_next_line(&p, end, &eol)) != NULL) {
		if ((colon = memchr(line, ':', (size_t)(eol - line))) == NULL)
			continue;
		for (name = line; name < colon && (*name == ' ' || *name == '\t'); name++)
			;
		if (name == colon || (size_t)(colon - name) >= sizeof(ifname) ||
		    memchr(name, ' ', (size_t)(colon - name)) != NULL ||
		    memchr(name, '\0', (size_t)(colon - name)) != NULL)	/* would cut it short */
			continue;
		line = colon + 1;
		for (n = 0; (f = proc_next_field(&line, eol, &flen)) != NULL; n++)
			if (n >= NET_NSTATS || proc_parse_u64(f, flen, &v[n]) == -1)
				break;
		if (f != NULL || n != NET_NSTATS)
			continue;
		memcpy(ifname, name, (size_t)(colon - name));
		ifname[colon - name] = '\0';
		fn(arg, ifname, v);
		nif++;
	}
	return nif;
}

static void
emit_netdev(void *arg, const char *name, const uint64_t *v)
{
	struct network_state *st = arg;
	struct reeve_label label;
	size_t i;
	int want;

	want = filter_cache_want(&st->names, st->pos++, name, &st->include, &st->exclude);
	if (want == -1)
		st->failed = 1;
	if (want != 1)
		return;
	label.name = "interface";
	label.value = name;
	for (i = 0; i < NET_NSTATS; i++)
		st->host->emit(st->em, &net_metrics[i], &label, 1, (double)v[i]);
}

static int
network_collect(void *state, struct reeve_emitter *em, char *err, size_t errlen)
{
	struct network_state *st = state;

	if (proc_file_collect(&st->netdev, err, errlen) == -1)
		return -1;
	st->em = em;
	st->pos = 0;
	st->failed = 0;
	parse_netdev(st->netdev.buf, st->netdev.len, emit_netdev, st);
	st->em = NULL;
	if (st->failed) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static void
network_destroy(void *state)
{
	struct network_state *st = state;

	if (st == NULL)
		return;
	proc_file_close(&st->netdev);
	filter_free(&st->include);
	filter_free(&st->exclude);
	filter_cache_free(&st->names);
	free(st);
}

static int
network_init(struct reeve_probe_config *cfg, const struct reeve_host *host, void **state)
{
	struct network_state *st;
	const char *root = proc_opt_root(cfg, host);
	int rc = 0;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		host->config_error(cfg, NULL, "out of memory");
		return -1;
	}
	st->host = host;
	st->netdev.fd = -1;
	if (filter_init(&st->include, cfg, host, "include", NULL) == -1)
		rc = -1;
	if (filter_init(&st->exclude, cfg, host, "exclude", NULL) == -1)
		rc = -1;
	if (proc_file_init(&st->netdev, root, "/proc/net/dev", cfg, host) == -1) {
		rc = -1;
	}
	if (rc == -1) {
		network_destroy(st);
		return -1;
	}
	*state = st;
	return 0;
}

static const struct reeve_probe probe = {
	.abi_version = REEVE_PROBE_ABI_VERSION,
	.size = sizeof(struct reeve_probe),
	.name = "network",
	.description = "network interface traffic (/proc/net/dev)",
	.init = network_init,
	.collect = network_collect,
	.destroy = network_destroy,
};

/* reeve_probe_entry: the network probe's description; static storage, never freed. */
const struct reeve_probe *
reeve_probe_entry(void)
{
	return &probe;
}
