/*
 * survey: the conversation state machine (contract §4, replies.md
 * "Actions").  Pure: the caller passes "now" and carries out the actions.
 */
#include "smsgw/survey.h"

#include <stdlib.h>
#include <string.h>

#include "smsgw/util.h"

static const char *const status_names[] = {
	[SURVEY_STATUS_NONE] = "open",
	[SURVEY_STATUS_COMPLETE] = "complete",
	[SURVEY_STATUS_PARTIAL] = "partial",
	[SURVEY_STATUS_EXPIRED] = "expired",
	[SURVEY_STATUS_OPTOUT] = "optout",
};

static const char *const kind_names[] = {
	[SURVEY_REPLY_SCORE] = "score",
	[SURVEY_REPLY_SCORE_COMMENT] = "score_comment",
	[SURVEY_REPLY_COMMENT] = "comment",
	[SURVEY_REPLY_OPTOUT] = "optout",
	[SURVEY_REPLY_INVALID] = "invalid",
	[SURVEY_REPLY_EMPTY] = "empty",
};

static const char *const state_names[] = {
	[SURVEY_AWAIT_SCORE] = "await_score",
	[SURVEY_AWAIT_FOLLOWUP] = "await_followup",
	[SURVEY_AWAIT_STATEMENT] = "await_statement",
	[SURVEY_CLOSED] = "closed",
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Event context: the output list and whether the record changed. */
struct ev_ctx {
	struct survey_conv		*conv;
	const struct conf		*cfg;
	struct survey_actions		*out;
	int64_t				 now;
	bool				 dirty;
};

/* ---- conversation storage ------------------------------------------ */

void
survey_conv_init(struct survey_conv *conv)
{
	memset(conv, 0, sizeof(*conv));
	conv->state = SURVEY_AWAIT_SCORE;
	conv->status = SURVEY_STATUS_NONE;
	conv->score = -1;
	conv->kind = SURVEY_REPLY_EMPTY;
}

void
survey_conv_clear(struct survey_conv *conv)
{
	size_t i;

	if (conv == NULL)
		return;
	free(conv->comment);
	free(conv->followup);
	free(conv->answers);
	for (i = 0; i < conv->nlate; i++)
		free(conv->late[i].text);
	free(conv->late);
	survey_conv_init(conv);
}

void
survey_conv_set_comment(struct survey_conv *conv, const char *text)
{
	free(conv->comment);
	conv->comment = text != NULL ? xstrdup(text) : NULL;
}

void
survey_conv_set_followup(struct survey_conv *conv, const char *text)
{
	free(conv->followup);
	conv->followup = text != NULL ? xstrdup(text) : NULL;
}

void
survey_conv_set_answer(struct survey_conv *conv, const char *id, int value)
{
	char key[SURVEY_STMT_ID_MAX];
	size_t i;

	strlcpy_s(key, id, sizeof(key));
	for (i = 0; i < conv->nanswers; i++)
		if (strcmp(conv->answers[i].id, key) == 0) {
			conv->answers[i].value = value;
			return;
		}
	conv->answers = xrealloc(conv->answers,
	    (conv->nanswers + 1) * sizeof(*conv->answers));
	memcpy(conv->answers[conv->nanswers].id, key, sizeof(key));
	conv->answers[conv->nanswers].value = value;
	conv->nanswers++;
}

int
survey_conv_answer(const struct survey_conv *conv, const char *id)
{
	size_t i;

	for (i = 0; i < conv->nanswers; i++)
		if (strcmp(conv->answers[i].id, id) == 0)
			return conv->answers[i].value;
	return -1;
}

void
survey_conv_add_late(struct survey_conv *conv, const char *text, int64_t at)
{
	conv->late = xrealloc(conv->late,
	    (conv->nlate + 1) * sizeof(*conv->late));
	conv->late[conv->nlate].text = xstrdup(text != NULL ? text : "");
	conv->late[conv->nlate].at = at;
	conv->nlate++;
}

bool
survey_conv_answered(const struct survey_conv *conv)
{
	return conv->score >= 0 || conv->comment != NULL ||
	    conv->followup != NULL || conv->nanswers > 0;
}

/* ---- helpers ------------------------------------------------------- */

static void
act_add(struct ev_ctx *cx, enum survey_action_type type,
    enum conf_text text, size_t stmt, const char *reason)
{
	struct survey_action *a;

	/* Capacity is sized for the longest event; never overflow. */
	if (cx->out->n >= SURVEY_ACTIONS_MAX - 1)
		return;
	a = &cx->out->a[cx->out->n++];
	a->type = type;
	a->text = text;
	a->statement = stmt;
	a->reason = reason;
}

static void
act_send(struct ev_ctx *cx, enum conf_text text, size_t stmt)
{
	act_add(cx, SURVEY_ACT_SEND, text, stmt, NULL);
}

/* Send a prompt that awaits an answer: re-arms the deadline. */
static void
prompt(struct ev_ctx *cx, enum conf_text text, size_t stmt)
{
	act_send(cx, text, stmt);
	cx->conv->expires_at = cx->now +
	    (int64_t)cx->cfg->survey.answer_hours * 3600;
	cx->dirty = true;
}

static void
finish(struct ev_ctx *cx)
{
	if (cx->dirty) {
		cx->out->a[cx->out->n].type = SURVEY_ACT_RECORD_UPDATED;
		cx->out->a[cx->out->n].text = CONF_TEXT_COUNT;
		cx->out->a[cx->out->n].statement = 0;
		cx->out->a[cx->out->n].reason = NULL;
		cx->out->n++;
	}
}

static void
close_conv(struct ev_ctx *cx, enum survey_status status, int64_t at)
{
	struct survey_conv *conv = cx->conv;

	conv->state = SURVEY_CLOSED;
	conv->status = status;
	conv->closed_at = at;
	conv->expires_at = 0;
	if (conv->revision < 1)
		conv->revision = 1;
	act_add(cx, SURVEY_ACT_CLOSE, CONF_TEXT_COUNT, 0, NULL);
	cx->dirty = true;
}

/* Thank and close complete. */
static void
complete(struct ev_ctx *cx)
{
	act_send(cx, CONF_TEXT_THANKS, 0);
	close_conv(cx, SURVEY_STATUS_COMPLETE, cx->now);
}

/* After the open questions: first statement, or done. */
static void
to_statements(struct ev_ctx *cx)
{
	struct survey_conv *conv = cx->conv;

	if (cx->cfg->survey.nstatements > 0) {
		conv->state = SURVEY_AWAIT_STATEMENT;
		conv->stmt = 0;
		conv->stmt_retry = 0;
		prompt(cx, CONF_TEXT_STATEMENT, 0);
	} else
		complete(cx);
}

static void
append_text(char **dst, const char *text)
{
	char *s;

	if (*dst == NULL) {
		*dst = xstrdup(text);
		return;
	}
	s = xasprintf("%s\n%s", *dst, text);
	free(*dst);
	*dst = s;
}

static void
mark_answered(struct ev_ctx *cx)
{
	if (cx->conv->answered_at == 0)
		cx->conv->answered_at = cx->now;
}

/* Digits only after trimming ASCII white space; -1 when not. */
static int
parse_digits(const char *text)
{
	const char *b = text, *e;
	long v = 0;

	while (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n')
		b++;
	e = b + strlen(b);
	while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\n'))
		e--;
	if (e == b || e - b > 4)
		return -1;
	for (; b < e; b++) {
		if (*b < '0' || *b > '9')
			return -1;
		v = v * 10 + (*b - '0');
	}
	return (int)v;
}

static void
optout(struct ev_ctx *cx, int score)
{
	struct survey_conv *conv = cx->conv;

	if (score >= 0 && score <= 10 && conv->state == SURVEY_AWAIT_SCORE &&
	    conv->score < 0) {
		conv->score = score;
		mark_answered(cx);
	}
	if (conv->state == SURVEY_AWAIT_SCORE) {
		conv->kind = SURVEY_REPLY_OPTOUT;
		conv->has_kind = true;
	}
	act_add(cx, SURVEY_ACT_SUPPRESS, CONF_TEXT_COUNT, 0, NULL);
	act_send(cx, CONF_TEXT_OPTOUT_CONFIRM, 0);
	close_conv(cx, SURVEY_STATUS_OPTOUT, cx->now);
}

static enum conf_text
followup_text(int score)
{
	switch (survey_band(score)) {
	case SURVEY_BAND_PASSIVE:
		return CONF_TEXT_FOLLOWUP_PASSIVE;
	case SURVEY_BAND_PROMOTER:
		return CONF_TEXT_FOLLOWUP_PROMOTER;
	default:
		return CONF_TEXT_FOLLOWUP_DETRACTOR;
	}
}

/* ---- per-state handlers -------------------------------------------- */

static void
on_score_state(struct ev_ctx *cx, const char *text,
    enum survey_reply_kind kind, int score, bool has_words)
{
	struct survey_conv *conv = cx->conv;
	const struct conf *cfg = cx->cfg;

	conv->kind = kind;
	conv->has_kind = true;
	cx->dirty = true;
	switch (kind) {
	case SURVEY_REPLY_SCORE:
		conv->score = score;
		mark_answered(cx);
		if (conv->comment != NULL) {
			/* Comment earlier, score now: as one score_comment. */
			conv->kind = SURVEY_REPLY_SCORE_COMMENT;
			to_statements(cx);
		} else {
			conv->state = SURVEY_AWAIT_FOLLOWUP;
			prompt(cx, followup_text(score), 0);
		}
		break;
	case SURVEY_REPLY_SCORE_COMMENT:
		conv->score = score;
		append_text(&conv->comment, text);
		mark_answered(cx);
		to_statements(cx);
		break;
	case SURVEY_REPLY_COMMENT:
		append_text(&conv->comment, text);
		mark_answered(cx);
		if (conv->reprompts < cfg->survey.reprompts) {
			conv->reprompts++;
			prompt(cx, CONF_TEXT_REPROMPT_SCORE, 0);
		} else {
			act_send(cx, CONF_TEXT_THANKS, 0);
			close_conv(cx, SURVEY_STATUS_PARTIAL, cx->now);
		}
		break;
	case SURVEY_REPLY_INVALID:
	default:
		conv->kind = SURVEY_REPLY_INVALID;
		conv->invalid++;
		if (has_words) {
			append_text(&conv->comment, text);
			mark_answered(cx);
		}
		if (conv->invalid == 1 &&
		    conv->reprompts < cfg->survey.reprompts) {
			conv->reprompts++;
			prompt(cx, CONF_TEXT_REPROMPT_INVALID, 0);
		} else {
			act_add(cx, SURVEY_ACT_REVIEW, CONF_TEXT_COUNT, 0,
			    "invalid");
			close_conv(cx, SURVEY_STATUS_PARTIAL, cx->now);
		}
		break;
	}
}

static void
on_statement_state(struct ev_ctx *cx, const char *text,
    enum survey_reply_kind kind, int score)
{
	struct survey_conv *conv = cx->conv;
	const struct conf *cfg = cx->cfg;
	int scale = cfg->survey.statement_scale;
	int v;

	if (conv->stmt >= cfg->survey.nstatements) {
		/* The config lost statements since the prompt went out. */
		complete(cx);
		return;
	}
	v = parse_digits(text);
	if ((v < 1 || v > scale) && kind == SURVEY_REPLY_SCORE)
		v = score;
	if (v >= 1 && v <= scale) {
		survey_conv_set_answer(conv,
		    cfg->survey.statements[conv->stmt].id, v);
		cx->dirty = true;
	} else if (conv->stmt_retry < 1) {
		conv->stmt_retry++;
		prompt(cx, CONF_TEXT_STATEMENT, conv->stmt);
		return;
	}
	/* Answered, or missed twice: on to the next statement. */
	conv->stmt++;
	conv->stmt_retry = 0;
	if (conv->stmt < cfg->survey.nstatements)
		prompt(cx, CONF_TEXT_STATEMENT, conv->stmt);
	else
		complete(cx);
}

/* Close by deadline when it has passed.  True if it closed. */
static bool
check_expiry(struct ev_ctx *cx)
{
	struct survey_conv *conv = cx->conv;

	if (conv->state == SURVEY_CLOSED || cx->now < conv->expires_at)
		return false;
	close_conv(cx, survey_conv_answered(conv) ? SURVEY_STATUS_PARTIAL :
	    SURVEY_STATUS_EXPIRED, conv->expires_at);
	return true;
}

static void
ctx_init(struct ev_ctx *cx, struct survey_conv *conv, const struct conf *cfg,
    int64_t now, struct survey_actions *out)
{
	cx->conv = conv;
	cx->cfg = cfg;
	cx->out = out;
	cx->now = now;
	cx->dirty = false;
	memset(out, 0, sizeof(*out));
}

/* ---- events -------------------------------------------------------- */

enum survey_result
survey_start(struct survey_conv *conv, const struct conf *cfg, int64_t now,
    struct survey_actions *out)
{
	struct ev_ctx cx;

	if (conv == NULL || cfg == NULL || out == NULL)
		return SURVEY_RES_ERROR;
	survey_conv_clear(conv);
	ctx_init(&cx, conv, cfg, now, out);
	conv->invited_at = now;
	prompt(&cx, CONF_TEXT_INVITATION, 0);
	finish(&cx);
	return SURVEY_RES_OK;
}

enum survey_result
survey_on_reply(struct survey_conv *conv, const struct conf *cfg,
    const char *text, enum survey_reply_kind kind, int score, bool has_words,
    int64_t now, struct survey_actions *out)
{
	struct ev_ctx cx;
	enum survey_result res = SURVEY_RES_OK;
	int64_t late_until;

	if (conv == NULL || cfg == NULL || out == NULL ||
	    (int)kind < 0 || (int)kind > SURVEY_REPLY_EMPTY)
		return SURVEY_RES_ERROR;
	ctx_init(&cx, conv, cfg, now, out);
	if (text == NULL)
		text = "";
	if ((kind == SURVEY_REPLY_SCORE || kind == SURVEY_REPLY_SCORE_COMMENT)
	    && (score < 0 || score > 10))
		kind = SURVEY_REPLY_INVALID;

	if (kind == SURVEY_REPLY_EMPTY) {
		/* Nothing to act on, but a passed deadline still closes. */
		res = check_expiry(&cx) ? SURVEY_RES_OK : SURVEY_RES_IGNORED;
		finish(&cx);
		return res;
	}
	check_expiry(&cx);

	switch (conv->state) {
	case SURVEY_AWAIT_SCORE:
		if (kind == SURVEY_REPLY_OPTOUT)
			optout(&cx, score);
		else
			on_score_state(&cx, text, kind, score, has_words);
		break;
	case SURVEY_AWAIT_FOLLOWUP:
		if (kind == SURVEY_REPLY_OPTOUT) {
			optout(&cx, -1);
			break;
		}
		survey_conv_set_followup(conv, text);
		cx.dirty = true;
		to_statements(&cx);
		break;
	case SURVEY_AWAIT_STATEMENT:
		if (kind == SURVEY_REPLY_OPTOUT)
			optout(&cx, -1);
		else
			on_statement_state(&cx, text, kind, score);
		break;
	case SURVEY_CLOSED:
	default:
		late_until = survey_late_until(conv, cfg);
		if (kind == SURVEY_REPLY_OPTOUT) {
			/* Always honoured; the record stays as it was. */
			act_add(&cx, SURVEY_ACT_SUPPRESS, CONF_TEXT_COUNT, 0,
			    NULL);
			if (conv->status != SURVEY_STATUS_OPTOUT)
				act_send(&cx, CONF_TEXT_OPTOUT_CONFIRM, 0);
		} else if (now < late_until) {
			survey_conv_add_late(conv, text, now);
			conv->revision++;
			cx.dirty = true;
			res = SURVEY_RES_LATE;
		} else
			res = SURVEY_RES_ORPHAN;
		break;
	}
	finish(&cx);
	return res;
}

enum survey_result
survey_on_timer(struct survey_conv *conv, const struct conf *cfg,
    int64_t now, struct survey_actions *out)
{
	struct ev_ctx cx;
	bool closed;

	if (conv == NULL || cfg == NULL || out == NULL)
		return SURVEY_RES_ERROR;
	ctx_init(&cx, conv, cfg, now, out);
	closed = check_expiry(&cx);
	finish(&cx);
	return closed ? SURVEY_RES_OK : SURVEY_RES_IGNORED;
}

int64_t
survey_deadline(const struct survey_conv *conv)
{
	return conv->state == SURVEY_CLOSED ? 0 : conv->expires_at;
}

int64_t
survey_late_until(const struct survey_conv *conv, const struct conf *cfg)
{
	if (conv->state != SURVEY_CLOSED)
		return 0;
	return conv->closed_at + (int64_t)cfg->survey.late_days * 86400;
}

enum survey_band
survey_band(int score)
{
	if (score < 0 || score > 10)
		return SURVEY_BAND_NONE;
	if (score <= 6)
		return SURVEY_BAND_DETRACTOR;
	if (score <= 8)
		return SURVEY_BAND_PASSIVE;
	return SURVEY_BAND_PROMOTER;
}

/* ---- names --------------------------------------------------------- */

static const char *
name_of(const char *const *names, size_t n, int v)
{
	if (v < 0 || (size_t)v >= n)
		return NULL;
	return names[v];
}

static int
parse_name(const char *const *names, size_t n, const char *name)
{
	size_t i;

	if (name == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return (int)i;
	return -1;
}

const char *
survey_status_name(enum survey_status status)
{
	return name_of(status_names, NELEM(status_names), (int)status);
}

const char *
survey_reply_kind_name(enum survey_reply_kind kind)
{
	return name_of(kind_names, NELEM(kind_names), (int)kind);
}

const char *
survey_state_name(enum survey_state state)
{
	return name_of(state_names, NELEM(state_names), (int)state);
}

int
survey_status_parse(const char *name)
{
	return parse_name(status_names, NELEM(status_names), name);
}

int
survey_reply_kind_parse(const char *name)
{
	return parse_name(kind_names, NELEM(kind_names), name);
}

int
survey_state_parse(const char *name)
{
	return parse_name(state_names, NELEM(state_names), name);
}
