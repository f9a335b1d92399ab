/* memory.c: the memory probe: RAM and swap usage from /proc/meminfo. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <reeve-probe.h>

#include "proc.h"

/* The /proc/meminfo lines read, each with the metric it becomes (same order). */
enum {
	MEM_TOTAL, MEM_FREE, MEM_AVAILABLE, MEM_BUFFERS, MEM_CACHED, MEM_SHMEM,
	MEM_SWAP_TOTAL, MEM_SWAP_FREE, MEM_SWAP_CACHED, MEM_ACTIVE, MEM_INACTIVE,
	MEM_DIRTY, MEM_WRITEBACK, MEM_ANON, MEM_MAPPED, MEM_SLAB, MEM_SRECLAIMABLE,
	MEM_SUNRECLAIM, MEM_PAGE_TABLES, MEM_COMMIT_LIMIT, MEM_COMMITTED_AS,
	MEM_HUGE_TOTAL, MEM_HUGE_FREE, MEM_HUGE_SIZE,
	MEM_NKEYS
};

static const char *const mem_keys[MEM_NKEYS] = {
	"MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "Shmem",
	"SwapTotal", "SwapFree", "SwapCached", "Active", "Inactive",
	"Dirty", "Writeback", "AnonPages", "Mapped", "Slab", "SReclaimable",
	"SUnreclaim", "PageTables", "CommitLimit", "Committed_AS",
	"HugePages_Total", "HugePages_Free", "Hugepagesize"
};

static const struct reeve_metric mem_metrics[MEM_NKEYS] = {
	{ "memory_total_bytes", "Usable RAM (MemTotal).", REEVE_GAUGE },
	{ "memory_free_bytes", "RAM not used at all (MemFree).", REEVE_GAUGE },
	{ "memory_available_bytes",
	    "RAM available for new programs without swapping (MemAvailable, estimated on old kernels).",
	    REEVE_GAUGE },
	{ "memory_buffers_bytes", "Block device buffers (Buffers).", REEVE_GAUGE },
	{ "memory_cached_bytes", "Page cache, without swap cache (Cached).", REEVE_GAUGE },
	{ "memory_shared_bytes", "Shared memory and tmpfs (Shmem).", REEVE_GAUGE },
	{ "swap_total_bytes", "Swap space (SwapTotal).", REEVE_GAUGE },
	{ "swap_free_bytes", "Unused swap space (SwapFree).", REEVE_GAUGE },
	{ "swap_cached_bytes", "Memory swapped out and back in, still in swap (SwapCached).",
	    REEVE_GAUGE },
	{ "memory_active_bytes", "Memory used recently (Active).", REEVE_GAUGE },
	{ "memory_inactive_bytes", "Memory not used recently, reclaimable first (Inactive).",
	    REEVE_GAUGE },
	{ "memory_dirty_bytes", "Memory waiting to be written back to disk (Dirty).", REEVE_GAUGE },
	{ "memory_writeback_bytes", "Memory being written back to disk (Writeback).",
	    REEVE_GAUGE },
	{ "memory_anon_bytes", "Anonymous pages mapped into user space (AnonPages).",
	    REEVE_GAUGE },
	{ "memory_mapped_bytes", "Files mapped into memory (Mapped).", REEVE_GAUGE },
	{ "memory_slab_bytes", "Kernel slab caches (Slab).", REEVE_GAUGE },
	{ "memory_slab_reclaimable_bytes", "Reclaimable part of the slab (SReclaimable).",
	    REEVE_GAUGE },
	{ "memory_slab_unreclaimable_bytes", "Unreclaimable part of the slab (SUnreclaim).",
	    REEVE_GAUGE },
	{ "memory_page_tables_bytes", "Page tables (PageTables).", REEVE_GAUGE },
	{ "memory_commit_limit_bytes", "Memory that can be allocated under strict overcommit (CommitLimit).",
	    REEVE_GAUGE },
	{ "memory_committed_bytes", "Memory allocated by all processes (Committed_AS).",
	    REEVE_GAUGE },
	{ "memory_hugepages", "Huge pages in the pool (HugePages_Total).", REEVE_GAUGE },
	{ "memory_hugepages_free", "Huge pages not allocated (HugePages_Free).", REEVE_GAUGE },
	{ "memory_hugepage_size_bytes", "Size of a huge page (Hugepagesize).", REEVE_GAUGE },
};

static const struct reeve_metric m_used = {
	"memory_used_bytes", "RAM in use: memory_total_bytes - memory_available_bytes.",
	REEVE_GAUGE
};
static const struct reeve_metric m_swap_used = {
	"swap_used_bytes", "Swap in use: swap_total_bytes - swap_free_bytes.", REEVE_GAUGE
};

REEVE_STATIC int parse_meminfo(const char *buf, size_t len, const char *const *keys,
    size_t nkeys, uint64_t *vals, unsigned char *found);

struct memory_state {
	const struct reeve_host *host;
	struct proc_file meminfo;
	int warned_estimate;
};

/*
 * Parse /proc/meminfo: for each complete "Key: value [kB]" line whose key is keys[i],
 * vals[i] receives the value, in bytes when the unit is kB, and found[i] is set to 1.
 * Returns the number of keys found.
 */
REEVE_STATIC int
parse_meminfo(const char *buf, size_t len, const char *const *keys, size_t nkeys,
    uint64_t *vals, unsigned char *found)
{
	const char *p = buf, *end = buf + len, *line, *eol, *colon, *f, *unit;
	size_t klen, flen, ulen, i;
	uint64_t v;
	int n = 0;

	memset(found, 0, nkeys);
	while ((line = proc_next_line(&p, end, &eol)) != NULL) {
		if ((colon = memchr(line, ':', (size_t)(eol - line))) == NULL)
			continue;
		klen = (size_t)(colon - line);
		for (i = 0; i < nkeys; i++)
			if (keys[i][0] == line[0] && !found[i] && strlen(keys[i]) == klen &&
			    memcmp(keys[i], line, klen) == 0)
				break;
		if (i == nkeys)
			continue;
		line = colon + 1;
		if ((f = proc_next_field(&line, eol, &flen)) == NULL ||
		    proc_parse_u64(f, flen, &v) == -1)
			continue;
		if ((unit = proc_next_field(&line, eol, &ulen)) != NULL) {
			if (ulen != 2 || memcmp(unit, "kB", 2) != 0 || v > UINT64_MAX / 1024)
				continue;
			v *= 1024;
		}
		if (proc_next_field(&line, eol, &flen) != NULL)
			continue;
		vals[i] = v;
		found[i] = 1;
		n++;
	}
	return n;
}

static int
memory_collect(void *state, struct reeve_emitter *em, char *err, size_t errlen)
{
	struct memory_state *st = state;
	uint64_t v[MEM_NKEYS];
	unsigned char found[MEM_NKEYS];
	size_t i;

	if (proc_file_collect(&st->meminfo, err, errlen) == -1)
		return -1;
	parse_meminfo(st->meminfo.buf, st->meminfo.len, mem_keys, MEM_NKEYS, v, found);
	if (!found[MEM_TOTAL] || !found[MEM_FREE]) {
		snprintf(err, errlen, "%s: no MemTotal or MemFree line", st->meminfo.path);
		return -1;
	}
	if (!found[MEM_AVAILABLE]) {
		/* before Linux 3.14: a rough estimate, as free(1) did */
		v[MEM_AVAILABLE] = v[MEM_FREE];
		if (found[MEM_CACHED])
			v[MEM_AVAILABLE] += v[MEM_CACHED];
		if (found[MEM_BUFFERS])
			v[MEM_AVAILABLE] += v[MEM_BUFFERS];
		found[MEM_AVAILABLE] = 1;
		if (!st->warned_estimate) {
			st->host->log(REEVE_LOG_INFO, "%s has no MemAvailable (kernel before 3.14): "
			    "memory_available_bytes is estimated as free + cached + buffers",
			    st->meminfo.path);
			st->warned_estimate = 1;
		}
	}
	for (i = 0; i < MEM_NKEYS; i++)
		if (found[i])
			st->host->emit(em, &mem_metrics[i], NULL, 0, (double)v[i]);
	st->host->emit(em, &m_used, NULL, 0, v[MEM_TOTAL] > v[MEM_AVAILABLE] ?
	    (double)(v[MEM_TOTAL] - v[MEM_AVAILABLE]) : 0);
	if (found[MEM_SWAP_TOTAL] && found[MEM_SWAP_FREE])
		st->host->emit(em, &m_swap_used, NULL, 0, v[MEM_SWAP_TOTAL] > v[MEM_SWAP_FREE] ?
		    (double)(v[MEM_SWAP_TOTAL] - v[MEM_SWAP_FREE]) : 0);
	return 0;
}

static void
memory_destroy(void *state)
{
	struct memory_state *st = state;

	if (st == NULL)
		return;
	proc_file_close(&st->meminfo);
	free(st);
}

static int
memory_init(struct reeve_probe_config *cfg, const struct reeve_host *host, void **state)
{
	struct memory_state *st;
	const char *root = proc_opt_root(cfg, host);

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		host->config_error(cfg, NULL, "out of memory");
		return -1;
	}
	st->host = host;
	if (proc_file_init(&st->meminfo, root, "/proc/meminfo", cfg, host) == -1) {
		free(st);
		return -1;
	}
	*state = st;
	return 0;
}

static const struct reeve_probe probe = {
	.abi_version = REEVE_PROBE_ABI_VERSION,
	.size = sizeof(struct reeve_probe),
	.name = "memory",
	.description = "RAM and swap usage (/proc/meminfo)",
	.init = memory_init,
	.collect = memory_collect,
	.destroy = memory_destroy,
};

/* reeve_probe_entry: the memory probe's description; static storage, never freed. */
const struct reeve_probe *
reeve_probe_entry(void)
{
	return &probe;
}
