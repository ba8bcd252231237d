/*
 * survey: the survey conversation as a pure state machine (contract §4).
 *
 * No I/O, no clock, no logging: "now" is passed in as epoch seconds, and
 * each event fills a small list of actions that the caller carries out
 * (send a text, suppress the phone, file a review item, re-write the
 * response row).  Texts are rendered by the caller with texts_render().
 *
 * States:
 *   SURVEY_AWAIT_SCORE      invitation (or a re-prompt) sent
 *   SURVEY_AWAIT_FOLLOWUP   score-dependent open question sent
 *   SURVEY_AWAIT_STATEMENT  statement conv->stmt sent (1..scale)
 *   SURVEY_CLOSED           done; conv->status says how
 *
 * Replies while awaiting the score (kind from the reply parser):
 *   score          store it; send the follow-up of its band (0-6
 *                  detractor, 7-8 passive, 9-10 promoter).  If a comment
 *                  was kept from an earlier reply, the pair counts as
 *                  score_comment (below) instead.
 *   score_comment  store score and comment; no follow-up question; the
 *                  statements if configured, else thanks (complete).
 *   comment        kept (appended) as comment; if a re-prompt remains,
 *                  send reprompt_score, else thanks and close (partial).
 *   invalid        the first one gets reprompt_invalid if a re-prompt
 *                  remains; a second one, or one with no re-prompt left,
 *                  closes (partial) with a REVIEW action ("invalid").  An
 *                  invalid reply that has words (e.g. "Lääkäri 10,
 *                  vastaanotto 6") is also kept as comment.
 *   optout         SUPPRESS, send optout_confirm, close (optout); a score
 *                  in it is kept.
 *   empty          ignored.
 * survey.reprompts is the budget of re-prompts (reprompt_score and
 * reprompt_invalid together) in this state; 0 = never re-prompt.
 *
 * Awaiting the follow-up: any non-empty reply is the followup answer,
 * except an opt-out, which is honoured (what was answered is kept).  Then
 * the first statement if configured, else thanks (complete).
 *
 * Awaiting a statement: the reply, trimmed, must be digits only with a
 * value in 1..scale (or a parser score in 1..scale); valid -> stored under
 * the statement's id, next statement or thanks (complete).  Otherwise the
 * same statement is sent once more, and after a second miss it is skipped.
 * Opt-out honoured.
 *
 * Expiry: every prompt sent (invitation, re-prompt, follow-up, statement)
 * sets expires_at = now + answer_hours * 3600.  When now >= expires_at
 * (survey_on_timer, or a reply that comes after it) the conversation is
 * closed with closed_at = expires_at and status
 *   SURVEY_STATUS_EXPIRED  nothing answered at all (no score, comment,
 *                          followup or statement), or
 *   SURVEY_STATUS_PARTIAL  something was answered but the flow did not
 *                          finish; what was answered is kept.
 * Nothing is sent on expiry.
 *
 * Closed: a reply before closed_at + late_days * 86400 is appended to
 * the late texts (RECORD_UPDATED, revision + 1, nothing sent) and the
 * result is SURVEY_RES_LATE.  Later, the result is SURVEY_RES_ORPHAN and
 * nothing is done: the caller files it as an orphan.  An opt-out is
 * always honoured, before or after late_days (SUPPRESS + optout_confirm;
 * the confirmation is not repeated when the conversation already closed
 * as optout), and does not change the record.
 *
 * Statuses: complete (flow finished), partial, expired, optout.  While
 * open the status is SURVEY_STATUS_NONE ("open").
 *
 * Revision: 0 while open; set to 1 when the conversation closes; + 1 on
 * every later change (late text).  The caller sends the record upstream
 * when it is closed and re-sends it whenever the revision grows.
 */
#ifndef SMSGW_SURVEY_H
#define SMSGW_SURVEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smsgw/conf.h"

/* Longest statement id (conf allows 16) plus NUL. */
#define SURVEY_STMT_ID_MAX	17
/* Most actions one event can produce. */
#define SURVEY_ACTIONS_MAX	6

enum survey_state {
	SURVEY_AWAIT_SCORE = 0,
	SURVEY_AWAIT_FOLLOWUP,
	SURVEY_AWAIT_STATEMENT,
	SURVEY_CLOSED
};

enum survey_status {
	SURVEY_STATUS_NONE = 0,		/* still open */
	SURVEY_STATUS_COMPLETE,
	SURVEY_STATUS_PARTIAL,
	SURVEY_STATUS_EXPIRED,
	SURVEY_STATUS_OPTOUT
};

/* The reply parser's classification (replies.md), computed by the caller. */
enum survey_reply_kind {
	SURVEY_REPLY_SCORE = 0,
	SURVEY_REPLY_SCORE_COMMENT,
	SURVEY_REPLY_COMMENT,
	SURVEY_REPLY_OPTOUT,
	SURVEY_REPLY_INVALID,
	SURVEY_REPLY_EMPTY
};

enum survey_band {
	SURVEY_BAND_NONE = -1,		/* not a score 0..10 */
	SURVEY_BAND_DETRACTOR,		/* 0-6 */
	SURVEY_BAND_PASSIVE,		/* 7-8 */
	SURVEY_BAND_PROMOTER		/* 9-10 */
};

/* One statement answer: id (from the config) -> 1..scale. */
struct survey_answer {
	char	id[SURVEY_STMT_ID_MAX];
	int	value;
};

/* One reply received after closing. */
struct survey_late {
	char	*text;			/* owned */
	int64_t	 at;
};

/*
 * The conversation state, as the store persists it.  Plain public fields;
 * strings and arrays are owned by the struct (heap, freed by
 * survey_conv_clear).  A store that loads a row sets the scalars and uses
 * survey_conv_set_comment/_followup, survey_conv_set_answer and
 * survey_conv_add_late for the rest.
 */
struct survey_conv {
	enum survey_state	 state;
	enum survey_status	 status;
	size_t			 stmt;		/* statement in flight */
	int			 stmt_retry;	/* re-sends of it so far */
	int			 invalid;	/* invalid NPS replies */
	int			 reprompts;	/* re-prompts used */
	int			 score;		/* 0..10, -1 = none */
	bool			 has_kind;
	enum survey_reply_kind	 kind;		/* of the NPS answer */
	char			*comment;	/* NULL = none */
	char			*followup;	/* NULL = none */
	struct survey_answer	*answers;
	size_t			 nanswers;
	struct survey_late	*late;
	size_t			 nlate;
	int			 revision;
	int64_t			 invited_at;
	int64_t			 answered_at;	/* first score/comment, 0 */
	int64_t			 expires_at;	/* 0 once closed */
	int64_t			 closed_at;	/* 0 while open */
};

enum survey_action_type {
	SURVEY_ACT_SEND = 0,	/* render text (+ statement) and send it */
	SURVEY_ACT_SUPPRESS,	/* add the phone to the opt-out list */
	SURVEY_ACT_REVIEW,	/* file the reply for a person (reason) */
	SURVEY_ACT_CLOSE,	/* the conversation closed (conv->status) */
	SURVEY_ACT_RECORD_UPDATED /* re-write the response row; at most one
				     per event, always last */
};

struct survey_action {
	enum survey_action_type	 type;
	enum conf_text		 text;		/* SEND */
	size_t			 statement;	/* SEND: statement index */
	const char		*reason;	/* REVIEW: static "invalid" */
};

/*
 * Filled by each event (reset first).  SEND of CONF_TEXT_OPTOUT_CONFIRM
 * follows a SUPPRESS of the same phone: the caller must let it through
 * the suppression list.
 */
struct survey_actions {
	size_t			n;
	struct survey_action	a[SURVEY_ACTIONS_MAX];
};

enum survey_result {
	SURVEY_RES_OK = 0,	/* handled; see the actions */
	SURVEY_RES_IGNORED,	/* nothing to do (empty reply, no timer) */
	SURVEY_RES_LATE,	/* attached as late text */
	SURVEY_RES_ORPHAN,	/* closed beyond late_days: caller's orphan */
	SURVEY_RES_ERROR	/* bad arguments; conv untouched */
};

/* A fresh, empty conversation (score -1, awaiting the score). */
void survey_conv_init(struct survey_conv *conv);
/* Free what conv owns and re-initialise it.  NULL is fine. */
void survey_conv_clear(struct survey_conv *conv);
/* Replace comment/followup with a copy of text (NULL clears). */
void survey_conv_set_comment(struct survey_conv *conv, const char *text);
void survey_conv_set_followup(struct survey_conv *conv, const char *text);
/* Set (or replace) the answer to statement id; id truncated to 16. */
void survey_conv_set_answer(struct survey_conv *conv, const char *id,
	    int value);
/* The answer to statement id, or -1. */
int survey_conv_answer(const struct survey_conv *conv, const char *id);
/* Append a late text (copied). */
void survey_conv_add_late(struct survey_conv *conv, const char *text,
	    int64_t at);
/* True when a score, comment, followup or statement answer exists. */
bool survey_conv_answered(const struct survey_conv *conv);

/*
 * Start: conv is cleared, invited_at = now, expires_at = now +
 * answer_hours * 3600, state SURVEY_AWAIT_SCORE.  Actions: SEND
 * CONF_TEXT_INVITATION, RECORD_UPDATED.  Returns SURVEY_RES_OK.
 */
enum survey_result survey_start(struct survey_conv *conv,
	    const struct conf *cfg, int64_t now, struct survey_actions *out);

/*
 * A reply from the conversation's phone.  text is the reply as received
 * (borrowed; NULL is taken as ""), kind, score and has_words the
 * parser's result (score 0..10 for SCORE and SCORE_COMMENT, else ignored
 * unless in 0..10 for OPTOUT; has_words: the reply holds a word, which
 * keeps an INVALID reply as comment).  A SCORE or SCORE_COMMENT without a
 * valid score is treated as INVALID.  See the top of this file for the
 * rules.
 */
enum survey_result survey_on_reply(struct survey_conv *conv,
	    const struct conf *cfg, const char *text,
	    enum survey_reply_kind kind, int score, bool has_words,
	    int64_t now, struct survey_actions *out);

/*
 * The conversation's deadline passed?  If open and now >= expires_at it
 * closes (expired or partial): actions CLOSE, RECORD_UPDATED and
 * SURVEY_RES_OK.  Otherwise SURVEY_RES_IGNORED.
 */
enum survey_result survey_on_timer(struct survey_conv *conv,
	    const struct conf *cfg, int64_t now, struct survey_actions *out);

/* When survey_on_timer should run next: expires_at, or 0 when closed. */
int64_t survey_deadline(const struct survey_conv *conv);
/* End of the late-text window (closed_at + late_days), or 0 while open. */
int64_t survey_late_until(const struct survey_conv *conv,
	    const struct conf *cfg);

enum survey_band survey_band(int score);

/*
 * Names for records and the store: status "complete", "partial",
 * "expired", "optout" ("open" for NONE); kind as in replies.md ("score",
 * "score_comment", ...); state "await_score", "await_followup",
 * "await_statement", "closed".  NULL when out of range.  The _parse
 * functions return -1 for an unknown name, else the enum value.
 */
const char *survey_status_name(enum survey_status status);
const char *survey_reply_kind_name(enum survey_reply_kind kind);
const char *survey_state_name(enum survey_state state);
int survey_status_parse(const char *name);
int survey_reply_kind_parse(const char *name);
int survey_state_parse(const char *name);

#endif
