/*
 * conf: libconfig -> struct conf, with every key validated.  The schema is
 * a set of tables (name, type, offset, range) so that unknown keys, types
 * and ranges are checked in one place; lists and the texts group have small
 * dedicated parsers.
 */
#include "smsgw/conf.h"

#include <errno.h>
#include <grp.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "smsgw/sched.h"
#include "smsgw/util.h"

#ifndef SMSGW_STATEDIR
#define SMSGW_STATEDIR "/var/lib/smsgwd"
#endif
#ifndef SMSGW_SPOOLDIR
#define SMSGW_SPOOLDIR "/var/spool/smsgwd"
#endif
#ifndef SMSGW_RUNDIR
#define SMSGW_RUNDIR "/run/smsgwd"
#endif

const char *const conf_text_names[CONF_TEXT_COUNT] = {
	"invitation", "followup_detractor", "followup_passive",
	"followup_promoter", "reprompt_score", "reprompt_invalid",
	"statement", "thanks", "optout_confirm", "link_invitation",
};
const char *const conf_lang_names[CONF_NLANG] = { "fi", "sv", "en" };
const char *const conf_words_names[CONF_WORDS_COUNT] = {
	"optout_keywords", "optout_phrases", "fillers", "cues", "modifiers",
	"scale_markers", "units", "place_words",
};

enum conf_kt { KT_STR, KT_INT, KT_FLOAT, KT_BOOL, KT_SPECIAL };

struct conf_key {
	const char *name;
	enum conf_kt type;
	size_t off;
	double min, max;
};

struct conf_ctx {
	const char *file;
	char **errs;
	size_t nerrs;
};

#define O(f) offsetof(struct conf, f)

static const struct conf_key top_keys[] = {
	{ "state_dir", KT_STR, O(state_dir), 1, 0 },
	{ "spool_dir", KT_STR, O(spool_dir), 1, 0 },
	{ "control_socket", KT_STR, O(control_socket), 1, 0 },
	{ "control_group", KT_STR, O(control_group), 0, 0 },
	{ "transport", KT_STR, O(transport), 1, 0 },
	{ "send_attempts", KT_INT, O(send_attempts), 1, 100 },
	{ "reset_timeouts", KT_INT, O(reset_timeouts), 1, 1000 },
	{ "storage_poll_s", KT_INT, O(storage_poll_s), 1, 3600 },
	{ "modems", KT_SPECIAL, 0, 0, 0 },
	{ "sampling", KT_SPECIAL, 0, 0, 0 },
	{ "schedule", KT_SPECIAL, 0, 0, 0 },
	{ "survey", KT_SPECIAL, 0, 0, 0 },
	{ "upstream", KT_SPECIAL, 0, 0, 0 },
	{ "privacy", KT_SPECIAL, 0, 0, 0 },
	{ "smpp", KT_SPECIAL, 0, 0, 0 },
	{ "replies", KT_SPECIAL, 0, 0, 0 },
	{ NULL, 0, 0, 0, 0 },
};

static const struct conf_key sampling_keys[] = {
	{ "default_rate", KT_FLOAT, O(sampling.default_rate), 0, 1 },
	{ "min_age", KT_INT, O(sampling.min_age), 0, 150 },
	{ "person_cap_days", KT_INT, O(sampling.person_cap_days), 0, 3650 },
	{ "unit_daily_cap", KT_INT, O(sampling.unit_daily_cap), 0, 10000000 },
	{ "units", KT_SPECIAL, 0, 0, 0 },
	{ NULL, 0, 0, 0, 0 },
};

static const struct conf_key schedule_keys[] = {
	{ "timezone", KT_STR, O(schedule.timezone), 1, 0 },
	{ "delay_minutes", KT_INT, O(schedule.delay_minutes), 0, 60 * 24 * 14 },
	{ "window", KT_STR, O(schedule.window), 1, 0 },
	{ "skip_weekdays", KT_SPECIAL, 0, 0, 0 },
	{ "public_holidays", KT_BOOL, O(schedule.public_holidays), 0, 0 },
	{ "stale_hours", KT_INT, O(schedule.stale_hours), 1, 24 * 60 },
	{ "pace_ms", KT_INT, O(schedule.pace_ms), 0, 3600000 },
	{ NULL, 0, 0, 0, 0 },
};

static const struct conf_key survey_keys[] = {
	{ "sender_name", KT_STR, O(survey.sender_name), 1, 0 },
	{ "answer_hours", KT_INT, O(survey.answer_hours), 1, 24 * 30 },
	{ "reprompts", KT_INT, O(survey.reprompts), 0, 3 },
	{ "late_days", KT_INT, O(survey.late_days), 0, 365 },
	{ "statement_scale", KT_INT, O(survey.statement_scale), 2, 10 },
	{ "statements", KT_SPECIAL, 0, 0, 0 },
	{ "texts", KT_SPECIAL, 0, 0, 0 },
	{ "link_url", KT_STR, O(survey.link_url), 0, 0 },
	{ NULL, 0, 0, 0, 0 },
};

static const struct conf_key upstream_keys[] = {
	{ "url", KT_STR, O(upstream.url), 0, 0 },
	{ "batch", KT_INT, O(upstream.batch), 1, 10000 },
	{ "timeout_s", KT_INT, O(upstream.timeout_s), 1, 3600 },
	{ "token_file", KT_STR, O(upstream.token_file), 0, 0 },
	{ "ca_file", KT_STR, O(upstream.ca_file), 0, 0 },
	{ NULL, 0, 0, 0, 0 },
};

static const struct conf_key privacy_keys[] = {
	{ "retention_days", KT_INT, O(privacy.retention_days), 1, 3650 },
	{ NULL, 0, 0, 0, 0 },
};

static const struct conf_key smpp_keys[] = {
	{ "host", KT_STR, O(smpp.host), 1, 0 },
	{ "port", KT_INT, O(smpp.port), 1, 65535 },
	{ "system_id", KT_STR, O(smpp.system_id), 0, 0 },
	{ "password_file", KT_STR, O(smpp.password_file), 0, 0 },
	{ "system_type", KT_STR, O(smpp.system_type), 0, 0 },
	{ "tls", KT_BOOL, O(smpp.tls), 0, 0 },
	{ "ca_file", KT_STR, O(smpp.ca_file), 0, 0 },
	{ "window", KT_INT, O(smpp.window), 1, 1000 },
	{ "max_rate", KT_INT, O(smpp.max_rate), 0, 100000 },
	{ "source_addr", KT_STR, O(smpp.source_addr), 0, 0 },
	{ "enquire_link_s", KT_INT, O(smpp.enquire_link_s), 1, 3600 },
	{ NULL, 0, 0, 0, 0 },
};

#undef O

static void conf_err(struct conf_ctx *cx, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
conf_err(struct conf_ctx *cx, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cx->errs = xrealloc(cx->errs, (cx->nerrs + 2) * sizeof(char *));
	cx->errs[cx->nerrs++] = xasprintf("%s:%d: %s", cx->file, line, msg);
	cx->errs[cx->nerrs] = NULL;
}

static int
sline(const config_setting_t *s)
{
	int l = s != NULL ? (int)config_setting_source_line(s) : 0;

	return l > 0 ? l : 1;
}

static void
set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

static void
conf_defaults(struct conf *c)
{
	int l;

	c->state_dir = xstrdup(SMSGW_STATEDIR);
	c->spool_dir = xstrdup(SMSGW_SPOOLDIR);
	c->control_socket = xstrdup(SMSGW_RUNDIR "/control.sock");
	c->control_group = xstrdup("smsgw");
	c->transport = xstrdup("modem");
	c->send_attempts = 5;
	c->reset_timeouts = 10;
	c->storage_poll_s = 60;
	c->sampling.default_rate = 0.1;
	c->sampling.min_age = 18;
	c->sampling.person_cap_days = 30;
	c->sampling.unit_daily_cap = 0;
	c->schedule.timezone = xstrdup("Europe/Helsinki");
	c->schedule.delay_minutes = 1080;
	c->schedule.window = xstrdup("12:00-20:00");
	c->schedule.window_start = 12 * 60;
	c->schedule.window_end = 20 * 60;
	c->schedule.skip_weekdays = 1u << 0;
	c->schedule.public_holidays = true;
	c->schedule.stale_hours = 72;
	c->schedule.pace_ms = 0;
	c->survey.sender_name = xstrdup("HYVAKS");
	c->survey.answer_hours = 24;
	c->survey.reprompts = 1;
	c->survey.late_days = 7;
	c->survey.statement_scale = 4;
	c->survey.link_url = xstrdup("");
	c->upstream.url = xstrdup("");
	c->upstream.batch = 100;
	c->upstream.timeout_s = 10;
	c->upstream.token_file = xstrdup("");
	c->upstream.ca_file = xstrdup("");
	c->privacy.retention_days = 90;
	c->smpp.host = xstrdup("127.0.0.1");
	c->smpp.port = 2775;
	c->smpp.system_id = xstrdup("");
	c->smpp.password_file = xstrdup("");
	c->smpp.system_type = xstrdup("");
	c->smpp.tls = false;
	c->smpp.ca_file = xstrdup("");
	c->smpp.window = 10;
	c->smpp.max_rate = 0;
	c->smpp.source_addr = xstrdup("");
	c->smpp.enquire_link_s = 30;
	for (l = 0; l < CONF_NLANG; l++)
		memset(c->survey.texts[l], 0, sizeof(c->survey.texts[l]));
}

static const char *
type_name(int t)
{
	switch (t) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a number";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	default:
		return "a value";
	}
}

/* A scalar key from a table, type- and range-checked. */
static void
parse_scalar(struct conf_ctx *cx, struct conf *c, const struct conf_key *k,
    const config_setting_t *s)
{
	int t = config_setting_type(s);
	char *base = (char *)c;

	switch (k->type) {
	case KT_STR:
		if (t != CONFIG_TYPE_STRING) {
			conf_err(cx, sline(s), "%s must be a string, not %s",
			    k->name, type_name(t));
			return;
		}
		if (k->min >= 1 && config_setting_get_string(s)[0] == '\0') {
			conf_err(cx, sline(s), "%s must not be empty",
			    k->name);
			return;
		}
		set_str((char **)(base + k->off), config_setting_get_string(s));
		return;
	case KT_INT: {
		long long v;

		if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
			conf_err(cx, sline(s), "%s must be an integer, not %s",
			    k->name, type_name(t));
			return;
		}
		v = config_setting_get_int64(s);
		if (v < (long long)k->min || v > (long long)k->max) {
			conf_err(cx, sline(s), "%s = %lld is out of range "
			    "(%.0f..%.0f)", k->name, v, k->min, k->max);
			return;
		}
		*(int *)(base + k->off) = (int)v;
		return;
	}
	case KT_FLOAT: {
		double v;

		if (t == CONFIG_TYPE_FLOAT)
			v = config_setting_get_float(s);
		else if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
			v = (double)config_setting_get_int64(s);
		else {
			conf_err(cx, sline(s), "%s must be a number, not %s",
			    k->name, type_name(t));
			return;
		}
		if (!(v >= k->min && v <= k->max)) {
			conf_err(cx, sline(s), "%s = %g is out of range "
			    "(%g..%g)", k->name, v, k->min, k->max);
			return;
		}
		*(double *)(base + k->off) = v;
		return;
	}
	case KT_BOOL:
		if (t != CONFIG_TYPE_BOOL) {
			conf_err(cx, sline(s), "%s must be true or false, "
			    "not %s", k->name, type_name(t));
			return;
		}
		*(bool *)(base + k->off) = config_setting_get_bool(s);
		return;
	case KT_SPECIAL:
		return;
	}
}

typedef void (*special_fn)(struct conf_ctx *, struct conf *,
    const config_setting_t *);

struct special {
	const char *name;
	special_fn fn;
};

static void
parse_group(struct conf_ctx *cx, struct conf *c, const config_setting_t *g,
    const char *gname, const struct conf_key *keys,
    const struct special *specials)
{
	const struct special *sp;
	int i, n;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		conf_err(cx, sline(g), "%s must be a group { ... }", gname);
		return;
	}
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, i);
		const char *name = config_setting_name(s);
		const struct conf_key *k;

		for (k = keys; k->name != NULL; k++)
			if (strcmp(k->name, name) == 0)
				break;
		if (k->name == NULL) {
			if (gname[0] != '\0')
				conf_err(cx, sline(s), "unknown key %s.%s",
				    gname, name);
			else
				conf_err(cx, sline(s), "unknown key %s", name);
			continue;
		}
		if (k->type != KT_SPECIAL) {
			parse_scalar(cx, c, k, s);
			continue;
		}
		for (sp = specials; sp != NULL && sp->name != NULL; sp++)
			if (strcmp(sp->name, name) == 0) {
				sp->fn(cx, c, s);
				break;
			}
	}
}

static bool
valid_modem_name(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 32)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		    s[i] == '-'))
			return false;
	return true;
}

static const int valid_bauds[] = { 9600, 19200, 38400, 57600, 115200,
	230400, 460800, 921600, 0 };

static void
parse_modems(struct conf_ctx *cx, struct conf *c, const config_setting_t *l)
{
	int i, n, t = config_setting_type(l);

	if (t != CONFIG_TYPE_LIST) {
		conf_err(cx, sline(l), "modems must be a list ( { ... }, ... )");
		return;
	}
	n = config_setting_length(l);
	c->modems = xcalloc((size_t)n + 1, sizeof(*c->modems));
	for (i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(l, i);
		struct conf_modem *m = &c->modems[c->nmodems];
		int j, gn;
		size_t k;

		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			conf_err(cx, sline(g), "modems: each modem must be a "
			    "group { name = ...; device = ...; }");
			continue;
		}
		m->baud = 115200;
		m->pin = xstrdup("");
		m->storage_send = true;
		m->line = sline(g);
		gn = config_setting_length(g);
		for (j = 0; j < gn; j++) {
			const config_setting_t *s =
			    config_setting_get_elem(g, j);
			const char *nm = config_setting_name(s);
			int st = config_setting_type(s);

			if (strcmp(nm, "name") == 0 || strcmp(nm, "device") == 0 ||
			    strcmp(nm, "pin") == 0) {
				char **dst = nm[0] == 'n' ? &m->name :
				    nm[0] == 'd' ? &m->device : &m->pin;

				if (st != CONFIG_TYPE_STRING) {
					conf_err(cx, sline(s), "modem %s must "
					    "be a string", nm);
					continue;
				}
				set_str(dst, config_setting_get_string(s));
			} else if (strcmp(nm, "baud") == 0) {
				int b, ok = 0;

				if (st != CONFIG_TYPE_INT) {
					conf_err(cx, sline(s), "modem baud "
					    "must be an integer");
					continue;
				}
				b = config_setting_get_int(s);
				for (k = 0; valid_bauds[k] != 0; k++)
					ok |= valid_bauds[k] == b;
				if (!ok) {
					conf_err(cx, sline(s), "modem baud %d "
					    "is not a standard rate "
					    "(9600..921600)", b);
					continue;
				}
				m->baud = b;
			} else if (strcmp(nm, "storage_send") == 0) {
				if (st != CONFIG_TYPE_BOOL) {
					conf_err(cx, sline(s), "modem "
					    "storage_send must be true or "
					    "false");
					continue;
				}
				m->storage_send = config_setting_get_bool(s);
			} else
				conf_err(cx, sline(s), "unknown key "
				    "modems.%s", nm);
		}
		if (m->name == NULL || !valid_modem_name(m->name)) {
			conf_err(cx, m->line, "modem needs a name of 1-32 "
			    "letters, digits, '-' or '_'");
		} else if (m->device == NULL || m->device[0] != '/') {
			conf_err(cx, m->line, "modem %s needs an absolute "
			    "device path", m->name);
		} else if (m->pin[0] != '\0' &&
		    (strlen(m->pin) < 4 || strlen(m->pin) > 8 ||
		    strspn(m->pin, "0123456789") != strlen(m->pin))) {
			conf_err(cx, sline(config_setting_get_member(g, "pin")),
			    "modem %s: pin must be 4-8 digits", m->name);
		} else {
			for (k = 0; k < c->nmodems; k++)
				if (strcmp(c->modems[k].name, m->name) == 0)
					break;
			if (k < c->nmodems) {
				conf_err(cx, m->line, "duplicate modem name "
				    "%s (first at line %d)", m->name,
				    c->modems[k].line);
			} else {
				c->nmodems++;
				continue;
			}
		}
		free(m->name);
		free(m->device);
		free(m->pin);
		memset(m, 0, sizeof(*m));
	}
}

static bool
valid_unit(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 64 &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		"0123456789_.-") == n;
}

static void
parse_units(struct conf_ctx *cx, struct conf *c, const config_setting_t *l)
{
	int i, n;

	if (config_setting_type(l) != CONFIG_TYPE_LIST) {
		conf_err(cx, sline(l), "sampling.units must be a list "
		    "( { unit = ...; rate = ...; }, ... )");
		return;
	}
	n = config_setting_length(l);
	c->sampling.units = xcalloc((size_t)n + 1, sizeof(*c->sampling.units));
	for (i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(l, i);
		const char *unit = NULL;
		double rate = -1;
		int j, gn;
		size_t k;

		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			conf_err(cx, sline(g), "sampling.units: each entry "
			    "must be a group");
			continue;
		}
		gn = config_setting_length(g);
		for (j = 0; j < gn; j++) {
			const config_setting_t *s =
			    config_setting_get_elem(g, j);
			const char *nm = config_setting_name(s);
			int st = config_setting_type(s);

			if (strcmp(nm, "unit") == 0 &&
			    st == CONFIG_TYPE_STRING)
				unit = config_setting_get_string(s);
			else if (strcmp(nm, "rate") == 0 &&
			    (st == CONFIG_TYPE_FLOAT || st == CONFIG_TYPE_INT)) {
				rate = st == CONFIG_TYPE_FLOAT ?
				    config_setting_get_float(s) :
				    config_setting_get_int(s);
				if (!(rate >= 0 && rate <= 1)) {
					conf_err(cx, sline(s), "sampling.units"
					    " rate = %g is out of range "
					    "(0..1)", rate);
					rate = -2;
				}
			} else if (strcmp(nm, "unit") == 0 ||
			    strcmp(nm, "rate") == 0)
				conf_err(cx, sline(s), "sampling.units %s has "
				    "the wrong type", nm);
			else
				conf_err(cx, sline(s), "unknown key "
				    "sampling.units.%s", nm);
		}
		if (rate == -2)
			continue;
		if (unit == NULL || !valid_unit(unit)) {
			conf_err(cx, sline(g), "sampling.units: unit must be "
			    "1-64 of [A-Za-z0-9_.-]");
			continue;
		}
		if (rate < 0) {
			conf_err(cx, sline(g), "sampling.units: %s needs a "
			    "rate", unit);
			continue;
		}
		for (k = 0; k < c->sampling.nunits; k++)
			if (strcmp(c->sampling.units[k].unit, unit) == 0)
				break;
		if (k < c->sampling.nunits) {
			conf_err(cx, sline(g), "sampling.units: duplicate "
			    "unit %s", unit);
			continue;
		}
		c->sampling.units[c->sampling.nunits].unit = xstrdup(unit);
		c->sampling.units[c->sampling.nunits++].rate = rate;
	}
}

static void
parse_weekdays(struct conf_ctx *cx, struct conf *c, const config_setting_t *a)
{
	int i, n, t = config_setting_type(a);
	unsigned mask = 0;

	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
		conf_err(cx, sline(a), "schedule.skip_weekdays must be an "
		    "array like [ \"sun\" ]");
		return;
	}
	n = config_setting_length(a);
	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(a, i);
		int d;

		if (config_setting_type(s) != CONFIG_TYPE_STRING) {
			conf_err(cx, sline(a), "schedule.skip_weekdays: "
			    "entries must be strings");
			return;
		}
		d = sched_parse_weekday(config_setting_get_string(s));
		if (d < 0) {
			conf_err(cx, sline(a), "schedule.skip_weekdays: "
			    "unknown day \"%s\" (mon..sun)",
			    config_setting_get_string(s));
			return;
		}
		mask |= 1u << d;
	}
	if (mask == 0x7f) {
		conf_err(cx, sline(a), "schedule.skip_weekdays skips every "
		    "day: nothing would ever be sent");
		return;
	}
	c->schedule.skip_weekdays = mask;
}

static char *
lang_text_dup(const config_setting_t *s)
{
	return xstrdup(config_setting_get_string(s));
}

static void
parse_statements(struct conf_ctx *cx, struct conf *c,
    const config_setting_t *l)
{
	int i, n;

	if (config_setting_type(l) != CONFIG_TYPE_LIST) {
		conf_err(cx, sline(l), "survey.statements must be a list "
		    "( { id = \"S1\"; fi = \"...\"; }, ... )");
		return;
	}
	n = config_setting_length(l);
	c->survey.statements = xcalloc((size_t)n + 1,
	    sizeof(*c->survey.statements));
	for (i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(l, i);
		struct conf_statement *st =
		    &c->survey.statements[c->survey.nstatements];
		int j, gn, lang;
		bool any = false;

		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			conf_err(cx, sline(g), "survey.statements: each entry "
			    "must be a group");
			continue;
		}
		gn = config_setting_length(g);
		for (j = 0; j < gn; j++) {
			const config_setting_t *s =
			    config_setting_get_elem(g, j);
			const char *nm = config_setting_name(s);

			if (config_setting_type(s) != CONFIG_TYPE_STRING) {
				conf_err(cx, sline(s), "survey.statements.%s "
				    "must be a string", nm);
				continue;
			}
			if (strcmp(nm, "id") == 0) {
				set_str(&st->id, config_setting_get_string(s));
				continue;
			}
			for (lang = 0; lang < CONF_NLANG; lang++)
				if (strcmp(nm, conf_lang_names[lang]) == 0)
					break;
			if (lang == CONF_NLANG) {
				conf_err(cx, sline(s), "unknown key "
				    "survey.statements.%s", nm);
				continue;
			}
			free(st->text[lang]);
			st->text[lang] = lang_text_dup(s);
			any = true;
		}
		if (st->id == NULL || !valid_unit(st->id) ||
		    strlen(st->id) > 16 || !any) {
			conf_err(cx, sline(g), "survey.statements: each needs "
			    "an id (1-16 of [A-Za-z0-9_.-]) and a text in "
			    "fi, sv or en");
			free(st->id);
			for (lang = 0; lang < CONF_NLANG; lang++)
				free(st->text[lang]);
			memset(st, 0, sizeof(*st));
			continue;
		}
		c->survey.nstatements++;
	}
}

static void
parse_texts(struct conf_ctx *cx, struct conf *c, const config_setting_t *g)
{
	int i, n;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		conf_err(cx, sline(g), "survey.texts must be a group "
		    "{ fi = { ... }; sv = { ... }; en = { ... }; }");
		return;
	}
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		const config_setting_t *lg = config_setting_get_elem(g, i);
		const char *ln = config_setting_name(lg);
		int lang, j, m;

		for (lang = 0; lang < CONF_NLANG; lang++)
			if (strcmp(ln, conf_lang_names[lang]) == 0)
				break;
		if (lang == CONF_NLANG) {
			conf_err(cx, sline(lg), "unknown key survey.texts.%s "
			    "(languages: fi, sv, en)", ln);
			continue;
		}
		if (config_setting_type(lg) != CONFIG_TYPE_GROUP) {
			conf_err(cx, sline(lg), "survey.texts.%s must be a "
			    "group", ln);
			continue;
		}
		m = config_setting_length(lg);
		for (j = 0; j < m; j++) {
			const config_setting_t *s =
			    config_setting_get_elem(lg, j);
			const char *nm = config_setting_name(s);
			int t;

			for (t = 0; t < CONF_TEXT_COUNT; t++)
				if (strcmp(nm, conf_text_names[t]) == 0)
					break;
			if (t == CONF_TEXT_COUNT) {
				conf_err(cx, sline(s), "unknown key "
				    "survey.texts.%s.%s", ln, nm);
				continue;
			}
			if (config_setting_type(s) != CONFIG_TYPE_STRING ||
			    config_setting_get_string(s)[0] == '\0') {
				conf_err(cx, sline(s), "survey.texts.%s.%s "
				    "must be a non-empty string", ln, nm);
				continue;
			}
			free(c->survey.texts[lang][t]);
			c->survey.texts[lang][t] = lang_text_dup(s);
		}
	}
}

static void
g_sampling(struct conf_ctx *cx, struct conf *c, const config_setting_t *g)
{
	static const struct special sp[] = { { "units", parse_units },
		{ NULL, NULL } };

	parse_group(cx, c, g, "sampling", sampling_keys, sp);
}

static void
g_schedule(struct conf_ctx *cx, struct conf *c, const config_setting_t *g)
{
	static const struct special sp[] = {
		{ "skip_weekdays", parse_weekdays }, { NULL, NULL } };
	const config_setting_t *w;

	parse_group(cx, c, g, "schedule", schedule_keys, sp);
	w = config_setting_get_member(g, "window");
	if (!sched_parse_window(c->schedule.window, &c->schedule.window_start,
	    &c->schedule.window_end))
		conf_err(cx, sline(w != NULL ? w : g), "schedule.window \"%s\" "
		    "must be HH:MM-HH:MM with start before end, e.g. "
		    "\"12:00-20:00\"", c->schedule.window);
}

static void
g_survey(struct conf_ctx *cx, struct conf *c, const config_setting_t *g)
{
	static const struct special sp[] = {
		{ "statements", parse_statements }, { "texts", parse_texts },
		{ NULL, NULL } };

	parse_group(cx, c, g, "survey", survey_keys, sp);
}

static void
g_upstream(struct conf_ctx *cx, struct conf *c, const config_setting_t *g)
{
	parse_group(cx, c, g, "upstream", upstream_keys, NULL);
}

static void
g_privacy(struct conf_ctx *cx, struct conf *c, const config_setting_t *g)
{
	parse_group(cx, c, g, "privacy", privacy_keys, NULL);
}

/* replies = { cues = [ "annoin" ]; ... }: words added to the parser's. */
static void
g_replies(struct conf_ctx *cx, struct conf *c, const config_setting_t *g)
{
	int i, n, w, j, m;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		conf_err(cx, sline(g), "replies must be a group { ... }");
		return;
	}
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		const config_setting_t *a = config_setting_get_elem(g, i);
		const char *nm = config_setting_name(a);
		int t = config_setting_type(a);

		for (w = 0; w < CONF_WORDS_COUNT; w++)
			if (strcmp(nm, conf_words_names[w]) == 0)
				break;
		if (w == CONF_WORDS_COUNT) {
			conf_err(cx, sline(a), "unknown key replies.%s", nm);
			continue;
		}
		if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
			conf_err(cx, sline(a), "replies.%s must be an array of "
			    "strings", nm);
			continue;
		}
		m = config_setting_length(a);
		c->words[w] = xcalloc((size_t)m + 1, sizeof(char *));
		for (j = 0; j < m; j++) {
			const config_setting_t *e = config_setting_get_elem(a,
			    j);
			const char *v;

			if (config_setting_type(e) != CONFIG_TYPE_STRING ||
			    (v = config_setting_get_string(e))[0] == '\0' ||
			    strlen(v) > 64) {
				conf_err(cx, sline(a), "replies.%s: entries must "
				    "be strings of 1-64 bytes", nm);
				break;
			}
			c->words[w][j] = xstrdup(v);
		}
	}
}

static void
g_smpp(struct conf_ctx *cx, struct conf *c, const config_setting_t *g)
{
	parse_group(cx, c, g, "smpp", smpp_keys, NULL);
}

/* Can path be created (or is it a directory already)? */
static bool
dir_creatable(const char *path, char *why, size_t len)
{
	char buf[PATH_MAX];
	char *slash;

	if (strlcpy_s(buf, path, sizeof(buf)) >= sizeof(buf)) {
		snprintf(why, len, "path too long");
		return false;
	}
	for (;;) {
		struct stat sb;

		if (stat(buf, &sb) == 0) {
			if (!S_ISDIR(sb.st_mode)) {
				snprintf(why, len, "%s is not a directory",
				    buf);
				return false;
			}
			if (access(buf, W_OK | X_OK) == 0)
				return true;
			snprintf(why, len, "%s is not writable", buf);
			return false;
		}
		slash = strrchr(buf, '/');
		if (slash == NULL || slash == buf) {
			snprintf(why, len, "no existing parent");
			return false;
		}
		*slash = '\0';
	}
}

static void
conf_check_relations(struct conf_ctx *cx, struct conf *c,
    const config_setting_t *root, bool check_system)
{
	const config_setting_t *s;
	char why[PATH_MAX + 64], *sock_dir, *sl;
	size_t i;

#define LINE_OF(path) \
	((s = config_setting_lookup((config_setting_t *)root, path)) != NULL ? \
	    sline(s) : 1)

	if (c->state_dir[0] != '/')
		conf_err(cx, LINE_OF("state_dir"), "state_dir must be an "
		    "absolute path");
	if (c->spool_dir[0] != '/')
		conf_err(cx, LINE_OF("spool_dir"), "spool_dir must be an "
		    "absolute path");
	if (c->control_socket[0] != '/')
		conf_err(cx, LINE_OF("control_socket"), "control_socket must "
		    "be an absolute path");
	else if (strlen(c->control_socket) >= 108)
		conf_err(cx, LINE_OF("control_socket"), "control_socket path "
		    "is longer than a unix socket allows (107)");
	if (strcmp(c->transport, "modem") != 0 &&
	    strcmp(c->transport, "smpp") != 0)
		conf_err(cx, LINE_OF("transport"), "transport must be "
		    "\"modem\" or \"smpp\", not \"%s\"", c->transport);
	if (!sched_timezone_valid(c->schedule.timezone))
		conf_err(cx, LINE_OF("schedule.timezone"), "unknown timezone "
		    "\"%s\"", c->schedule.timezone);
	if (strlen(c->survey.sender_name) > 11)
		conf_err(cx, LINE_OF("survey.sender_name"), "survey.sender_name "
		    "must be at most 11 characters (an SMS sender ID)");
	if (strcmp(c->transport, "smpp") == 0 &&
	    strstr(c->survey.link_url, "{token}") == NULL)
		conf_err(cx, LINE_OF("survey.link_url"), "transport \"smpp\" "
		    "needs survey.link_url with {token}");
	if (c->smpp.tls && c->smpp.ca_file[0] != '\0' && check_system &&
	    access(c->smpp.ca_file, R_OK) != 0)
		conf_err(cx, LINE_OF("smpp.ca_file"), "cannot read "
		    "smpp.ca_file %s: %s", c->smpp.ca_file, strerror(errno));
	if (c->upstream.url[0] != '\0' &&
	    strncmp(c->upstream.url, "http://", 7) != 0 &&
	    strncmp(c->upstream.url, "https://", 8) != 0)
		conf_err(cx, LINE_OF("upstream.url"), "upstream.url must "
		    "start with http:// or https://");
	if (c->upstream.token_file[0] != '\0' && check_system &&
	    access(c->upstream.token_file, R_OK) != 0)
		conf_err(cx, LINE_OF("upstream.token_file"), "cannot read "
		    "upstream.token_file %s: %s", c->upstream.token_file,
		    strerror(errno));
	if (c->smpp.password_file[0] != '\0' && check_system &&
	    access(c->smpp.password_file, R_OK) != 0)
		conf_err(cx, LINE_OF("smpp.password_file"), "cannot read "
		    "smpp.password_file %s: %s", c->smpp.password_file,
		    strerror(errno));
	/* An empty modem list is allowed: a box waiting for modems. */
	for (i = 0; i < c->nmodems; i++) {
		size_t j;

		for (j = 0; j < i; j++)
			if (strcmp(c->modems[i].device,
			    c->modems[j].device) == 0)
				conf_err(cx, c->modems[i].line, "modems %s and "
				    "%s use the same device %s",
				    c->modems[j].name, c->modems[i].name,
				    c->modems[i].device);
	}
	if (!check_system)
		return;
	if (c->control_group[0] != '\0' && getgrnam(c->control_group) == NULL)
		conf_err(cx, LINE_OF("control_group"), "control_group \"%s\" "
		    "does not exist (groupadd --system %s)", c->control_group,
		    c->control_group);
	if (!dir_creatable(c->state_dir, why, sizeof(why)))
		conf_err(cx, LINE_OF("state_dir"), "state_dir %s cannot be "
		    "created: %s", c->state_dir, why);
	if (!dir_creatable(c->spool_dir, why, sizeof(why)))
		conf_err(cx, LINE_OF("spool_dir"), "spool_dir %s cannot be "
		    "created: %s", c->spool_dir, why);
	sock_dir = xstrdup(c->control_socket);
	if ((sl = strrchr(sock_dir, '/')) != NULL && sl != sock_dir) {
		*sl = '\0';
		if (!dir_creatable(sock_dir, why, sizeof(why)))
			conf_err(cx, LINE_OF("control_socket"), "control_socket "
			    "directory %s cannot be created: %s", sock_dir, why);
	}
	free(sock_dir);
#undef LINE_OF
}

struct conf *
conf_load(const char *path, bool check_system, char ***errs)
{
	static const struct special top[] = {
		{ "modems", parse_modems }, { "sampling", g_sampling },
		{ "schedule", g_schedule }, { "survey", g_survey },
		{ "upstream", g_upstream }, { "privacy", g_privacy },
		{ "smpp", g_smpp }, { "replies", g_replies }, { NULL, NULL } };
	struct conf_ctx cx = { path, NULL, 0 };
	config_t cfg;
	struct conf *c;

	*errs = NULL;
	c = xcalloc(1, sizeof(*c));
	conf_defaults(c);
	c->file = xstrdup(path);
	config_init(&cfg);
	if (config_read_file(&cfg, path) != CONFIG_TRUE) {
		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
			conf_err(&cx, 0, "cannot read: %s", strerror(errno));
		else
			conf_err(&cx, config_error_line(&cfg), "%s",
			    config_error_text(&cfg));
		goto fail;
	}
	parse_group(&cx, c, config_root_setting(&cfg), "", top_keys, top);
	if (c->smpp.source_addr[0] == '\0')
		set_str(&c->smpp.source_addr, c->survey.sender_name);
	conf_check_relations(&cx, c, config_root_setting(&cfg), check_system);
	if (cx.nerrs > 0)
		goto fail;
	config_destroy(&cfg);
	return c;
fail:
	config_destroy(&cfg);
	conf_free(c);
	*errs = cx.errs;
	return NULL;
}

void
conf_free(struct conf *c)
{
	size_t i;
	int l, t;

	if (c == NULL)
		return;
	free(c->file);
	free(c->state_dir);
	free(c->spool_dir);
	free(c->control_socket);
	free(c->control_group);
	free(c->transport);
	for (i = 0; i < c->nmodems; i++) {
		free(c->modems[i].name);
		free(c->modems[i].device);
		free(c->modems[i].pin);
	}
	free(c->modems);
	for (i = 0; i < c->sampling.nunits; i++)
		free(c->sampling.units[i].unit);
	free(c->sampling.units);
	free(c->schedule.timezone);
	free(c->schedule.window);
	free(c->survey.sender_name);
	for (i = 0; i < c->survey.nstatements; i++) {
		free(c->survey.statements[i].id);
		for (l = 0; l < CONF_NLANG; l++)
			free(c->survey.statements[i].text[l]);
	}
	free(c->survey.statements);
	for (l = 0; l < CONF_NLANG; l++)
		for (t = 0; t < CONF_TEXT_COUNT; t++)
			free(c->survey.texts[l][t]);
	free(c->survey.link_url);
	free(c->upstream.url);
	free(c->upstream.token_file);
	free(c->upstream.ca_file);
	free(c->smpp.host);
	free(c->smpp.system_id);
	free(c->smpp.password_file);
	free(c->smpp.system_type);
	free(c->smpp.ca_file);
	free(c->smpp.source_addr);
	for (l = 0; l < CONF_WORDS_COUNT; l++) {
		for (i = 0; c->words[l] != NULL && c->words[l][i] != NULL; i++)
			free(c->words[l][i]);
		free(c->words[l]);
	}
	free(c);
}

void
conf_errors_free(char **errs)
{
	size_t i;

	if (errs == NULL)
		return;
	for (i = 0; errs[i] != NULL; i++)
		free(errs[i]);
	free(errs);
}

double
conf_unit_rate(const struct conf *c, const char *unit)
{
	size_t i;

	for (i = 0; i < c->sampling.nunits; i++)
		if (strcmp(c->sampling.units[i].unit, unit) == 0)
			return c->sampling.units[i].rate;
	return c->sampling.default_rate;
}

const struct conf_modem *
conf_modem_find(const struct conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nmodems; i++)
		if (strcmp(c->modems[i].name, name) == 0)
			return &c->modems[i];
	return NULL;
}

enum conf_lang
conf_lang_parse(const char *code)
{
	if (code == NULL || code[0] == '\0' || strcasecmp(code, "fi") == 0)
		return CONF_LANG_FI;
	if (strcasecmp(code, "sv") == 0)
		return CONF_LANG_SV;
	return CONF_LANG_EN;
}

char *
conf_control_socket(const char *path)
{
	const char *v = SMSGW_RUNDIR "/control.sock";
	config_t cfg;
	char *r;

	config_init(&cfg);
	if (config_read_file(&cfg, path) != CONFIG_TRUE) {
		config_destroy(&cfg);
		return NULL;
	}
	(void)config_lookup_string(&cfg, "control_socket", &v);
	r = xstrdup(v);
	config_destroy(&cfg);
	return r;
}
