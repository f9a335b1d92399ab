/* hang.c: a probe for the tests whose collect() never returns (until the process exits). */
#include <stdlib.h>
#include <unistd.h>

#include <reeve-probe.h>

static const struct reeve_host *host;
static const struct reeve_metric m_hung = { "test_hang_entered", "Collections entered", REEVE_GAUGE };

static int
hang_init(struct reeve_probe_config *cfg, const struct reeve_host *h, void **state)
{
	(void)cfg;
	host = h;
	*state = NULL;
	return 0;
}

static int
hang_collect(void *state, struct reeve_emitter *em, char *err, size_t errlen)
{
	(void)state;
	(void)err;
	(void)errlen;
	host->emit(em, &m_hung, NULL, 0, 1);
	for (;;)
		pause();
	return 0;
}

static void
hang_destroy(void *state)
{
	(void)state;
}

static const struct reeve_probe probe = {
	REEVE_PROBE_ABI_VERSION, sizeof(struct reeve_probe), "test_hang",
	"never returns", hang_init, hang_collect, hang_destroy,
};

const struct reeve_probe *
reeve_probe_entry(void)
{
	return &probe;
}
