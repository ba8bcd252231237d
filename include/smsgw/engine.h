/*
 * engine: the survey's main job, end to end.  It takes committed visit
 * lines from the spool, decides eligibility and sampling once per visit
 * (stored, never re-rolled), schedules the invitation, re-checks
 * eligibility at send time, runs each survey conversation (survey.c) on
 * the replies the SMS pipeline hands over, and writes the redacted
 * response records that export and upstream sync read.  Every event is one
 * store transaction.
 *
 * Phone numbers: kept in clear only on scheduled visits and on
 * conversations until their late window ends; suppression and caps use a
 * keyed HMAC-SHA256 (key in state_dir/hmac.key, mode 0600).
 */
#ifndef SMSGW_ENGINE_H
#define SMSGW_ENGINE_H

#include <stdint.h>

#include "smsgw/ctl.h"
#include "smsgw/spool.h"
#include "smsgw/store.h"

struct conf;
struct ev;
struct sms;
struct engine;

#define ENGINE_KEY_LEN 32

/*
 * Load state_dir/hmac.key, creating it (random, mode 0600) when absent.
 * Returns 0, or -1 with a reason in err.
 */
int engine_load_key(const char *state_dir, uint8_t key[ENGINE_KEY_LEN],
    char *err, size_t errlen);

/* conf is borrowed: call engine_set_conf() before freeing it. */
struct engine *engine_new(struct ev *ev, struct store *st, struct sms *sms,
    const struct conf *conf, const uint8_t key[ENGINE_KEY_LEN]);
void engine_free(struct engine *e);
void engine_set_conf(struct engine *e, const struct conf *conf);

/* The spool sink (spool_sink_cb). */
int engine_spool_sink(void *arg, const char *name,
    const struct spool_visit *visits, size_t n, size_t nbad);
/* sms events. */
void engine_on_message(const struct store_inbound *in, void *arg);
void engine_on_final(int64_t msg_id, int64_t conversation_id,
    const char *purpose, const char *modem, const char *state, void *arg);

/* Control commands (ctl_handler_cb). */
void engine_cmd_export(void *arg, json_object *args, struct ctl_reply *rep);
void engine_cmd_units(void *arg, json_object *args, struct ctl_reply *rep);
void engine_cmd_review(void *arg, json_object *args, struct ctl_reply *rep);
void engine_cmd_optout(void *arg, json_object *args, struct ctl_reply *rep);

/* The spool whose done/ files the retention job expires. */
void engine_set_spool(struct engine *e, struct spool *sp);

/* The reply parser's lexicon for c: built-ins plus replies = { ... }
 * (caller frees with reply_lexicon_free). */
struct reply_lexicon *engine_lexicon(const struct conf *c);

/* Run the scheduler now (after intake or a rate change). */
void engine_kick(struct engine *e);

#endif
