/*
 * texts: the survey SMS texts in fi, sv and en, and their rendering.
 *
 * A pure module: no I/O, no clock, no logging, no global state.
 *
 * Every built-in text starts with "{sender}: " and never names the unit,
 * the service or a diagnosis (a shared phone must not reveal the visit).
 * Rendered with sender_name "HYVAKS", every built-in text except the
 * statement framing (whose length depends on the configured statement)
 * fits one GSM 7-bit SMS: at most 160 septets, GSM default alphabet only
 * (hyphens, never en dashes).  The invitation asks the NPS question 0-10,
 * says that answering is free and how to stop (LOPETA / STOPP / STOP).
 *
 * Placeholders, replaced in a single pass over the template (text that
 * is substituted in is never scanned again):
 *   {sender}     survey.sender_name
 *   {scale}      survey.statement_scale, e.g. "4"
 *   {statement}  the statement argument ("" when NULL)
 *   {link}       the link argument ("" when NULL)
 * Any other "{...}" is copied as is.
 */
#ifndef SMSGW_TEXTS_H
#define SMSGW_TEXTS_H

#include <stddef.h>

#include "smsgw/conf.h"

/*
 * The built-in template (placeholders not replaced) for a language and a
 * text, or NULL when either is out of range.  Static storage.
 */
const char *texts_builtin(enum conf_lang lang, enum conf_text which);

/*
 * The template in effect: c->survey.texts[lang][which] when the config
 * overrides it, else the built-in one.  Borrowed from c or static; NULL
 * when lang or which is out of range.
 */
const char *texts_template(const struct conf *c, enum conf_lang lang,
	    enum conf_text which);

/*
 * Render a text for sending: the template in effect with the placeholders
 * replaced.  statement is used by CONF_TEXT_STATEMENT, link by
 * CONF_TEXT_LINK_INVITATION; either may be NULL.  c NULL means the
 * built-ins with an empty sender and scale 4 (for tools and tests).
 * Returns a new string (caller frees), or NULL when lang or which is out
 * of range.
 */
char *texts_render(const struct conf *c, enum conf_lang lang,
	    enum conf_text which, const char *statement, const char *link);

/*
 * The wording of configured statement idx (c->survey.statements[idx]) in
 * lang.  A statement without a text in lang falls back to en, then fi,
 * then sv.  Borrowed from c; NULL when idx is out of range.
 */
const char *texts_statement(const struct conf *c, enum conf_lang lang,
	    size_t idx);

#endif
