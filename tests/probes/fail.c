/* fail.c: a probe for the tests that always fails, after emitting one good and four bad samples. */
#include <stdio.h>
#include <stdlib.h>

#include <reeve-probe.h>

static const struct reeve_host *host;
static const struct reeve_metric m_attempts = { "test_fail_attempts", "Collections tried", REEVE_GAUGE };
/* bad output a probe might produce: the daemon must drop and count it, never store it */
static const struct reeve_metric m_badname = { "test-fail bad name", "Invalid name", REEVE_GAUGE };

struct fail_state {
	unsigned long attempts;
};

static int
fail_init(struct reeve_probe_config *cfg, const struct reeve_host *h, void **state)
{
	(void)cfg;
	host = h;
	*state = calloc(1, sizeof(struct fail_state));
	return *state ? 0 : -1;
}

static int
fail_collect(void *state, struct reeve_emitter *em, char *err, size_t errlen)
{
	struct fail_state *st = state;

	struct reeve_label badlabel = { "1nvalid", "x" }, reserved = { "__name__", "y" };

	host->emit(em, &m_attempts, NULL, 0, (double)++st->attempts);
	host->emit(em, &m_badname, NULL, 0, 1);
	host->emit(em, &m_attempts, &badlabel, 1, 1);
	host->emit(em, &m_attempts, &reserved, 1, 1);
	host->emit(em, NULL, NULL, 0, 1);
	snprintf(err, errlen, "simulated failure number %lu", st->attempts);
	return -1;
}

static void
fail_destroy(void *state)
{
	free(state);
}

static const struct reeve_probe probe = {
	REEVE_PROBE_ABI_VERSION, sizeof(struct reeve_probe), "test_fail",
	"always fails", fail_init, fail_collect, fail_destroy,
};

const struct reeve_probe *
reeve_probe_entry(void)
{
	return &probe;
}
