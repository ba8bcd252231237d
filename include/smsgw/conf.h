/*
 * conf: the configuration, parsed with libconfig into one struct and fully
 * validated.  Only conf.c includes <libconfig.h>; everything else reads
 * struct conf.  Errors are reported as "FILE:LINE: message" (one string
 * per error) so smsgwd -n and a refused reload can print them.
 */
#ifndef SMSGW_CONF_H
#define SMSGW_CONF_H

#include <stdbool.h>
#include <stddef.h>

#define CONF_NLANG 3
enum conf_lang { CONF_LANG_FI, CONF_LANG_SV, CONF_LANG_EN };

/* Names of survey texts that config may override (texts = { fi = {...} }). */
enum conf_text {
	CONF_TEXT_INVITATION,
	CONF_TEXT_FOLLOWUP_DETRACTOR, /* score 0-6 */
	CONF_TEXT_FOLLOWUP_PASSIVE,   /* 7-8 */
	CONF_TEXT_FOLLOWUP_PROMOTER,  /* 9-10 */
	CONF_TEXT_REPROMPT_SCORE,     /* after a comment without a score */
	CONF_TEXT_REPROMPT_INVALID,   /* after an invalid reply, format hint */
	CONF_TEXT_STATEMENT,	      /* "{statement} 1-{scale}" framing */
	CONF_TEXT_THANKS,
	CONF_TEXT_OPTOUT_CONFIRM,
	CONF_TEXT_LINK_INVITATION,    /* smpp link mode, {link} replaced */
	CONF_TEXT_COUNT
};
extern const char *const conf_text_names[CONF_TEXT_COUNT];
extern const char *const conf_lang_names[CONF_NLANG];

/* Word lists (replies = { ... }) that extend the reply parser's built-in
 * ones; each a NULL-terminated array of UTF-8 strings, NULL = none. */
enum conf_words {
	CONF_WORDS_OPTOUT_KEYWORDS,
	CONF_WORDS_OPTOUT_PHRASES,
	CONF_WORDS_FILLERS,
	CONF_WORDS_CUES,
	CONF_WORDS_MODIFIERS,
	CONF_WORDS_SCALE_MARKERS,
	CONF_WORDS_UNITS,
	CONF_WORDS_PLACE_WORDS,
	CONF_WORDS_COUNT
};
extern const char *const conf_words_names[CONF_WORDS_COUNT];

struct conf_modem {
	char *name;
	char *device;
	int baud;
	char *pin;		/* "" = none */
	bool storage_send;	/* +CMGW/+CMSS (default) or +CMGS only */
	int line;		/* config line, for messages */
};

struct conf_unit_rate {
	char *unit;
	double rate;
};

struct conf_statement {
	char *id;			/* "S1" */
	char *text[CONF_NLANG];		/* NULL = use fi/en fallback */
};

struct conf {
	char *file;
	char *state_dir;
	char *spool_dir;
	char *control_socket;
	char *control_group;
	char *transport;		/* "modem" or "smpp" */
	struct conf_modem *modems;
	size_t nmodems;
	int send_attempts;
	int reset_timeouts;		/* consecutive AT timeouts -> reset */
	int storage_poll_s;		/* list modem storage this often */

	struct {
		double default_rate;
		int min_age;
		int person_cap_days;
		int unit_daily_cap;
		struct conf_unit_rate *units;
		size_t nunits;
	} sampling;

	struct {
		char *timezone;
		int delay_minutes;
		char *window;
		int window_start, window_end;	/* minutes of day */
		unsigned skip_weekdays;		/* bit 0 = sunday */
		bool public_holidays;
		int stale_hours;
		int pace_ms;			/* min gap between sends/modem */
	} schedule;

	struct {
		char *sender_name;
		int answer_hours;
		int reprompts;
		int late_days;
		int statement_scale;
		struct conf_statement *statements;
		size_t nstatements;
		char *texts[CONF_NLANG][CONF_TEXT_COUNT]; /* NULL = built-in */
		char *link_url;
	} survey;

	struct {
		char *url;
		int batch;
		int timeout_s;
		char *token_file;
		char *ca_file;
	} upstream;

	struct {
		int retention_days;
	} privacy;

	char **words[CONF_WORDS_COUNT];

	struct {
		char *host;
		int port;
		char *system_id;
		char *password_file;
		char *system_type;
		bool tls;
		char *ca_file;
		int window;
		int max_rate;
		char *source_addr;
		int enquire_link_s;
	} smpp;
};

/*
 * Parse and validate path.  On success returns a new conf (free with
 * conf_free) and *errs is NULL.  On failure returns NULL and *errs holds a
 * NULL-terminated array of "FILE:LINE: message" strings (free with
 * conf_errors_free).  check_system also checks the host: the control group
 * exists and the directories can be created (smsgwd -n and start-up).
 */
struct conf *conf_load(const char *path, bool check_system, char ***errs);
void conf_free(struct conf *c);
void conf_errors_free(char **errs);

/*
 * The control socket named in path, without validating the rest (so that
 * smsgwctl reload can report a broken config).  Returns a copy (caller
 * frees), the built-in default when the key is absent, or NULL when the
 * file cannot be read or parsed at all.
 */
char *conf_control_socket(const char *path);

/* Rate for a unit from the config (not the runtime override). */
double conf_unit_rate(const struct conf *c, const char *unit);
const struct conf_modem *conf_modem_find(const struct conf *c,
    const char *name);
/* Map a language code to the enum: fi, sv, en; anything else en. */
enum conf_lang conf_lang_parse(const char *code);

#endif
