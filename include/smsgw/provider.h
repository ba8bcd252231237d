/*
 * provider: the durable hand-off of link invitations to the SMPP client
 * (transport = "smpp").  The engine records each invitation as a queued
 * message; provider marks it "submitting" (committed) before handing it to
 * smpp, and resolves it from submit_sm_resp and the delivery receipt:
 *   queued -> submitting -> sent -> delivered | failed
 * A message whose response never came (link lost, daemon killed) becomes
 * "uncertain" and is never resent: at most once, counted in status.
 */
#ifndef SMSGW_PROVIDER_H
#define SMSGW_PROVIDER_H

#include <json-c/json.h>
#include <stdint.h>

struct conf;
struct ev;
struct store;
struct provider;

#define PROVIDER_PURPOSE "link_invitation"

/* A message reached "sent", "failed", "uncertain" or "delivered". */
typedef void (*provider_final_cb)(int64_t msg_id, int64_t conversation_id,
    const char *state, void *arg);

/* NULL after logging why (bad smpp settings). */
struct provider *provider_new(struct ev *ev, struct store *st,
    const struct conf *c, provider_final_cb cb, void *arg);
void provider_free(struct provider *p);
/* Hand queued invitations to the SMSC now. */
void provider_kick(struct provider *p);
/* Status for smsgwctl (a new JSON object). */
json_object *provider_status(struct provider *p);

#endif
