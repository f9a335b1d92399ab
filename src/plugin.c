/* plugin.c: probe modules (dlopen), the host table they call, and configured probe instances. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "expo.h"
#include "log.h"
#include "plugin.h"
#include "registry.h"
#include "util.h"

/* What a probe's init() sees as its config: the section, and where errors go. */
struct reeve_probe_config {
	const struct cfg_probe *sec;
	struct cfg_errors *errs;
	int failed;
};

struct reeve_emitter {
	struct reg_batch *batch;
};

/*
 * Loaded modules, by type. Modules are never unloaded: a collect() abandoned after its
 * timeout may still be running module code. The list only grows; modules_lock guards it
 * (loading happens on the main thread, but keep it safe).
 */
struct module {
	char *type;
	void *handle;
	const struct reeve_probe *probe;
	struct module *next;
};
static struct module *modules;
static pthread_mutex_t modules_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- host table ------------------------------------------------------------------------- */

static struct cfg_probe_opt *
opt_find(struct reeve_probe_config *c, const char *key, size_t index)
{
	struct cfg_probe_opt *found = NULL;
	size_t seen = 0;

	for (size_t i = 0; i < c->sec->nopts; i++) {
		struct cfg_probe_opt *o = &c->sec->opts[i];
		if (strcmp(o->key, key) != 0)
			continue;
		o->used = 1;
		if (index == (size_t)-1)
			found = o; /* the last one */
		else if (seen++ == index)
			return o;
	}
	return found;
}

static const char *
host_opt_get(struct reeve_probe_config *c, const char *key, size_t index)
{
	struct cfg_probe_opt *o = opt_find(c, key, index);

	return o ? o->value : NULL;
}

static void
opt_error(struct reeve_probe_config *c, const struct cfg_probe_opt *o, const char *key,
    const char *msg)
{
	c->failed = 1;
	if (o)
		cfg_error_add(c->errs, o->file, o->line, "[probe %s] %s: %s", c->sec->name, key, msg);
	else
		cfg_error_add(c->errs, c->sec->file, c->sec->line, "[probe %s]: %s", c->sec->name, msg);
}

static int
host_opt_duration(struct reeve_probe_config *c, const char *key, double *out)
{
	struct cfg_probe_opt *o;
	const char *e;
	char msg[256];

	/* the common keys, already parsed: a probe sizes its own deadlines from them */
	if (strcmp(key, "interval") == 0 || strcmp(key, "timeout") == 0) {
		*out = key[0] == 'i' ? c->sec->interval : c->sec->timeout;
		return 0;
	}
	o = opt_find(c, key, (size_t)-1);
	if (o == NULL)
		return 0;
	if (cfg_parse_duration(o->value, out, &e) == -1) {
		snprintf(msg, sizeof(msg), "\"%s\" %s", o->value, e);
		opt_error(c, o, key, msg);
		return -1;
	}
	return 0;
}

static int
host_opt_size(struct reeve_probe_config *c, const char *key, uint64_t *out)
{
	struct cfg_probe_opt *o = opt_find(c, key, (size_t)-1);
	const char *e;
	char msg[256];

	if (o == NULL)
		return 0;
	if (cfg_parse_size(o->value, out, &e) == -1) {
		snprintf(msg, sizeof(msg), "\"%s\" %s", o->value, e);
		opt_error(c, o, key, msg);
		return -1;
	}
	return 0;
}

static int
host_opt_bool(struct reeve_probe_config *c, const char *key, int *out)
{
	struct cfg_probe_opt *o = opt_find(c, key, (size_t)-1);
	const char *e;
	char msg[256];

	if (o == NULL)
		return 0;
	if (cfg_parse_bool(o->value, out, &e) == -1) {
		snprintf(msg, sizeof(msg), "\"%s\" %s", o->value, e);
		opt_error(c, o, key, msg);
		return -1;
	}
	return 0;
}

static int
host_opt_uint(struct reeve_probe_config *c, const char *key, unsigned long min,
    unsigned long max, unsigned long *out)
{
	struct cfg_probe_opt *o = opt_find(c, key, (size_t)-1);
	char *end, msg[256];
	unsigned long long v;

	if (o == NULL)
		return 0;
	errno = 0;
	v = strtoull(o->value, &end, 10);
	if (o->value[0] == '-' || end == o->value || *end != '\0' || errno == ERANGE ||
	    v < min || v > max) {
		snprintf(msg, sizeof(msg), "\"%s\" is not a whole number from %lu to %lu",
		    o->value, min, max);
		opt_error(c, o, key, msg);
		return -1;
	}
	*out = (unsigned long)v;
	return 0;
}

static void
host_config_error(struct reeve_probe_config *c, const char *key, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	opt_error(c, key ? opt_find(c, key, (size_t)-1) : NULL, key ? key : "", msg);
}

static const char *
host_instance_name(struct reeve_probe_config *c)
{
	return c->sec->name;
}

static const char *
host_opt_key(struct reeve_probe_config *c, size_t index)
{
	return index < c->sec->nopts ? c->sec->opts[index].key : NULL;
}

static void
host_emit(struct reeve_emitter *em, const struct reeve_metric *m,
    const struct reeve_label *labels, size_t nlabels, double value)
{
	if (m == NULL || m->name == NULL) {
		em->batch->rejected++;
		return;
	}
	reg_batch_add(em->batch, m->name, m->help, m->type, labels, nlabels, value);
}

static long
host_emit_text(struct reeve_emitter *em, const char *text, size_t len,
    const struct reeve_text_opts *to, char *err, size_t errlen)
{
	struct expo_opts o = { 0 };

	/* read only the fields the module's struct has */
	if (to && to->size >= offsetof(struct reeve_text_opts, max_labels) + sizeof(to->max_labels)) {
		o.prefix = to->prefix;
		o.labels = to->labels;
		o.nlabels = to->nlabels;
		o.lim.max_samples = to->max_samples;
		o.lim.max_labels = to->max_labels;
	}
	return expo_parse_batch(em->batch, text, len, &o, err, errlen);
}

static void
host_log(enum reeve_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg((int)level, fmt, ap);
	va_end(ap);
}

static const struct reeve_host host = {
	.abi_version = REEVE_PROBE_ABI_VERSION,
	.size = sizeof(struct reeve_host),
	.opt_get = host_opt_get,
	.opt_duration = host_opt_duration,
	.opt_bool = host_opt_bool,
	.opt_uint = host_opt_uint,
	.config_error = host_config_error,
	.instance_name = host_instance_name,
	.emit = host_emit,
	.log = host_log,
	.now = util_now,
	.opt_key = host_opt_key,
	.emit_text = host_emit_text,
	.opt_size = host_opt_size,
};

const struct reeve_host *
plugin_host(void)
{
	return &host;
}

/* ---- modules ---------------------------------------------------------------------------- */

static int
valid_type(const char *t)
{
	if (*t == '\0')
		return 0;
	for (; *t; t++)
		if (!((*t >= 'a' && *t <= 'z') || (*t >= '0' && *t <= '9') || *t == '_' || *t == '-'))
			return 0;
	return 1;
}

/*
 * Whether the module at path (in dir, dirlen bytes) is safe to load into the daemon:
 * neither the file nor its directory may be writable by every user, and both must belong
 * to root or to the user reeve runs as; anyone else could put code there. msg gets why not.
 */
static int
module_safe(const char *path, const char *dir, size_t dirlen, char *msg, size_t msglen)
{
	char d[4096];
	struct stat st;
	uid_t me = geteuid();

	snprintf(d, sizeof(d), "%.*s", (int)dirlen, dir);
	for (int i = 0; i < 2; i++) {
		const char *what = i == 0 ? d : path;

		if (stat(what, &st) == -1) {
			snprintf(msg, msglen, "cannot use %s: %s", what, strerror(errno));
			return 0;
		}
		if ((st.st_mode & S_IWOTH) != 0) {
			snprintf(msg, msglen, "refusing to load %s: %s is writable by every user "
			    "(chmod o-w it)", path, what);
			return 0;
		}
		if (st.st_uid != 0 && st.st_uid != me) {
			snprintf(msg, msglen, "refusing to load %s: %s belongs to uid %u, neither root "
			    "nor the user reeve runs as", path, what, (unsigned)st.st_uid);
			return 0;
		}
	}
	return 1;
}

/* Find and load the module of type along dirs (colon-separated); msg gets why not. */
static const struct reeve_probe *
module_load(const char *dirs, const char *type, char *msg, size_t msglen)
{
	struct module *m;
	const struct reeve_probe *(*entry)(void);
	const struct reeve_probe *probe = NULL;
	const char *dir, *end;
	char path[4096];
	void *h = NULL;

	pthread_mutex_lock(&modules_lock);
	for (m = modules; m; m = m->next)
		if (strcmp(m->type, type) == 0) {
			pthread_mutex_unlock(&modules_lock);
			return m->probe;
		}
	if (!valid_type(type)) {
		snprintf(msg, msglen, "type \"%s\" is not a probe name ([a-z0-9_-])", type);
		goto out;
	}
	snprintf(msg, msglen, "no probe module \"%s\" in %s", type, dirs);
	for (dir = dirs; *dir; dir = *end ? end + 1 : end) {
		end = strchrnul(dir, ':');
		if (end == dir)
			continue;
		snprintf(path, sizeof(path), "%.*s/%s.so", (int)(end - dir), dir, type);
		if (access(path, F_OK) != 0)
			continue;
		if (!module_safe(path, dir, (size_t)(end - dir), msg, msglen))
			break;
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (h == NULL) {
			snprintf(msg, msglen, "cannot load %s: %s", path, dlerror());
			break;
		}
		entry = (const struct reeve_probe *(*)(void))dlsym(h, REEVE_PROBE_SYMBOL);
		probe = entry ? entry() : NULL;
		if (probe == NULL)
			snprintf(msg, msglen, "%s is not a reeve probe (no %s)", path, REEVE_PROBE_SYMBOL);
		else if (probe->abi_version != REEVE_PROBE_ABI_VERSION ||
		    probe->size < sizeof(struct reeve_probe)) {
			snprintf(msg, msglen, "%s was built for probe ABI %u, reeve has %u: rebuild it",
			    path, probe->abi_version, REEVE_PROBE_ABI_VERSION);
			probe = NULL;
		} else if (probe->init == NULL || probe->collect == NULL || probe->destroy == NULL) {
			snprintf(msg, msglen, "%s lacks init, collect or destroy", path);
			probe = NULL;
		}
		break;
	}
	if (probe) {
		m = xcalloc(1, sizeof(*m));
		m->type = xstrdup(type);
		m->handle = h;
		m->probe = probe;
		m->next = modules;
		modules = m;
	} else if (h)
		dlclose(h);
out:
	pthread_mutex_unlock(&modules_lock);
	return probe;
}

/* ---- instances -------------------------------------------------------------------------- */

static struct probe_inst *
inst_new(const char *name, const char *type, const struct reeve_probe *probe, void *state,
    double interval, double timeout)
{
	struct probe_inst *p = xcalloc(1, sizeof(*p));

	p->name = xstrdup(name);
	p->type = xstrdup(type);
	p->probe = probe;
	p->state = state;
	p->interval = interval;
	p->timeout = timeout;
	p->log_prefix = xasprintf("probe %s: ", name);
	return p;
}

int
plugin_create_all(const struct cfg *cfg, struct cfg_errors *errs,
    struct probe_inst ***out, size_t *n)
{
	struct probe_inst **v = xcalloc(cfg->nprobes ? cfg->nprobes : 1, sizeof(*v));
	size_t nv = 0, errs_before = errs->n;

	for (size_t i = 0; i < cfg->nprobes; i++) {
		const struct cfg_probe *sec = &cfg->probes[i];
		struct reeve_probe_config pc = { sec, errs, 0 };
		const struct reeve_probe *probe;
		char msg[1024], prefix[300];
		void *state = NULL;
		int rc;

		probe = module_load(cfg->plugin_dir, sec->type, msg, sizeof(msg));
		if (probe == NULL) {
			cfg_error_add(errs, sec->loc_type.file ? sec->loc_type.file : sec->file,
			    sec->loc_type.file ? sec->loc_type.line : sec->line, "[probe %s] type: %s",
			    sec->name, msg);
			continue;
		}
		/* the probe's own log lines during init carry its name too */
		snprintf(prefix, sizeof(prefix), "probe %s: ", sec->name);
		log_set_prefix(prefix);
		rc = probe->init(&pc, &host, &state);
		log_set_prefix(NULL);
		if (rc != 0) {
			if (!pc.failed)
				cfg_error_add(errs, sec->file, sec->line,
				    "[probe %s]: the %s probe refused its configuration", sec->name, sec->type);
			continue;
		}
		for (size_t k = 0; k < sec->nopts; k++)
			if (!sec->opts[k].used) {
				cfg_error_add(errs, sec->opts[k].file, sec->opts[k].line,
				    "[probe %s]: unknown key '%s' for a %s probe", sec->name,
				    sec->opts[k].key, sec->type);
				pc.failed = 1;
			}
		v[nv++] = inst_new(sec->name, sec->type, probe, state, sec->interval, sec->timeout);
	}
	if (errs->n != errs_before) {
		for (size_t i = 0; i < nv; i++)
			plugin_inst_free(v[i]);
		free(v);
		return -1;
	}
	*out = v;
	*n = nv;
	return 0;
}

struct probe_inst *
plugin_builtin(const char *name, const struct reeve_probe *probe, void *state, double interval)
{
	struct probe_inst *p = inst_new(name, name, probe, state, interval, interval);

	p->builtin = 1;
	return p;
}

void
plugin_inst_free(struct probe_inst *p)
{
	if (p == NULL)
		return;
	if (p->probe && p->probe->destroy && !p->builtin)
		p->probe->destroy(p->state);
	free(p->name);
	free(p->type);
	free(p->log_prefix);
	free(p);
}

int
plugin_collect(struct probe_inst *p, struct reg_batch *b, char *err, size_t errlen)
{
	struct reeve_emitter em = { b };
	int rc;

	reg_batch_reset(b);
	err[0] = '\0';
	log_set_prefix(p->log_prefix);
	rc = p->probe->collect(p->state, &em, err, errlen);
	log_set_prefix(NULL);
	if (rc != 0 && err[0] == '\0')
		snprintf(err, errlen, "collect failed");
	return rc == 0 ? 0 : -1;
}
