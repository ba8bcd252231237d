/*
 * check_survey: the survey conversation state machine (survey.h).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "smsgw/conf.h"
#include "smsgw/reply.h"
#include "smsgw/survey.h"

#define T0	1795500000LL	/* 2026-11-24 */
#define HOUR	3600LL
#define DAY	86400LL

static struct conf *cfg;
static struct survey_conv cv;
static struct survey_actions acts;

static void
setup(void)
{
	cfg = calloc(1, sizeof(*cfg));
	ck_assert_ptr_nonnull(cfg);
	cfg->survey.sender_name = strdup("HYVAKS");
	cfg->survey.answer_hours = 24;
	cfg->survey.reprompts = 1;
	cfg->survey.late_days = 7;
	cfg->survey.statement_scale = 4;
	survey_conv_init(&cv);
}

static void
teardown(void)
{
	size_t i;
	int l;

	survey_conv_clear(&cv);
	for (i = 0; i < cfg->survey.nstatements; i++) {
		free(cfg->survey.statements[i].id);
		for (l = 0; l < CONF_NLANG; l++)
			free(cfg->survey.statements[i].text[l]);
	}
	free(cfg->survey.statements);
	free(cfg->survey.sender_name);
	free(cfg);
}

/* Three statements S1..S3 on the configured scale. */
static void
add_statements(void)
{
	static const char *const ids[] = { "S1", "S2", "S3" };
	size_t i;

	cfg->survey.statements = calloc(3, sizeof(struct conf_statement));
	for (i = 0; i < 3; i++) {
		cfg->survey.statements[i].id = strdup(ids[i]);
		cfg->survey.statements[i].text[CONF_LANG_FI] =
		    strdup("Väite.");
	}
	cfg->survey.nstatements = 3;
}

static size_t
count(enum survey_action_type type)
{
	size_t i, n = 0;

	for (i = 0; i < acts.n; i++)
		if (acts.a[i].type == type)
			n++;
	return n;
}

/* The one SEND of the last event (fails if not exactly one). */
static const struct survey_action *
the_send(void)
{
	size_t i;

	ck_assert_int_eq(count(SURVEY_ACT_SEND), 1);
	for (i = 0; i < acts.n; i++)
		if (acts.a[i].type == SURVEY_ACT_SEND)
			return &acts.a[i];
	return NULL;
}

static void
expect_send(enum conf_text text)
{
	ck_assert_int_eq(the_send()->text, text);
}

/* RECORD_UPDATED is there exactly once and last. */
static void
expect_updated(void)
{
	ck_assert_int_eq(count(SURVEY_ACT_RECORD_UPDATED), 1);
	ck_assert_int_eq(acts.a[acts.n - 1].type, SURVEY_ACT_RECORD_UPDATED);
}

static enum survey_result
reply(const char *text, enum survey_reply_kind kind, int score, int64_t t)
{
	struct reply_result rr = { .has_words = false };

	/* has_words as the daemon gets it: from the reply parser. */
	if (text != NULL)
		(void)reply_parse(text, strlen(text), &rr);
	return survey_on_reply(&cv, cfg, text, kind, score, rr.has_words, t,
	    &acts);
}

static void
start(void)
{
	ck_assert_int_eq(survey_start(&cv, cfg, T0, &acts), SURVEY_RES_OK);
}

START_TEST(test_start)
{
	start();
	ck_assert_int_eq(acts.n, 2);
	expect_send(CONF_TEXT_INVITATION);
	expect_updated();
	ck_assert_int_eq(cv.state, SURVEY_AWAIT_SCORE);
	ck_assert_int_eq(cv.status, SURVEY_STATUS_NONE);
	ck_assert_int_eq(cv.invited_at, T0);
	ck_assert_int_eq(cv.expires_at, T0 + 24 * HOUR);
	ck_assert_int_eq(survey_deadline(&cv), T0 + 24 * HOUR);
	ck_assert_int_eq(cv.score, -1);
	ck_assert_int_eq(cv.revision, 0);
	ck_assert_int_eq(survey_late_until(&cv, cfg), 0);
}
END_TEST

START_TEST(test_promoter_flow)
{
	start();
	ck_assert_int_eq(reply("9", SURVEY_REPLY_SCORE, 9, T0 + 60),
	    SURVEY_RES_OK);
	expect_send(CONF_TEXT_FOLLOWUP_PROMOTER);
	expect_updated();
	ck_assert_int_eq(cv.state, SURVEY_AWAIT_FOLLOWUP);
	ck_assert_int_eq(cv.score, 9);
	ck_assert_int_eq(cv.answered_at, T0 + 60);
	ck_assert_int_eq(cv.expires_at, T0 + 60 + 24 * HOUR);
	ck_assert_int_eq(count(SURVEY_ACT_CLOSE), 0);

	ck_assert_int_eq(reply("Ystävällinen hoitaja", SURVEY_REPLY_COMMENT,
	    -1, T0 + 120), SURVEY_RES_OK);
	expect_send(CONF_TEXT_THANKS);
	ck_assert_int_eq(count(SURVEY_ACT_CLOSE), 1);
	expect_updated();
	ck_assert_int_eq(cv.state, SURVEY_CLOSED);
	ck_assert_int_eq(cv.status, SURVEY_STATUS_COMPLETE);
	ck_assert_str_eq(cv.followup, "Ystävällinen hoitaja");
	ck_assert_ptr_null(cv.comment);
	ck_assert(cv.has_kind);
	ck_assert_int_eq(cv.kind, SURVEY_REPLY_SCORE);
	ck_assert_int_eq(cv.answered_at, T0 + 60);
	ck_assert_int_eq(cv.closed_at, T0 + 120);
	ck_assert_int_eq(cv.revision, 1);
	ck_assert_int_eq(survey_deadline(&cv), 0);
}
END_TEST

START_TEST(test_bands)
{
	static const struct { int score; enum conf_text text; } v[] = {
		{ 0, CONF_TEXT_FOLLOWUP_DETRACTOR },
		{ 3, CONF_TEXT_FOLLOWUP_DETRACTOR },
		{ 6, CONF_TEXT_FOLLOWUP_DETRACTOR },
		{ 7, CONF_TEXT_FOLLOWUP_PASSIVE },
		{ 8, CONF_TEXT_FOLLOWUP_PASSIVE },
		{ 9, CONF_TEXT_FOLLOWUP_PROMOTER },
		{ 10, CONF_TEXT_FOLLOWUP_PROMOTER },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		start();
		reply("x", SURVEY_REPLY_SCORE, v[i].score, T0 + 1);
		expect_send(v[i].text);
		ck_assert_int_eq(cv.score, v[i].score);
	}
	ck_assert_int_eq(survey_band(-1), SURVEY_BAND_NONE);
	ck_assert_int_eq(survey_band(11), SURVEY_BAND_NONE);
	ck_assert_int_eq(survey_band(6), SURVEY_BAND_DETRACTOR);
	ck_assert_int_eq(survey_band(7), SURVEY_BAND_PASSIVE);
	ck_assert_int_eq(survey_band(9), SURVEY_BAND_PROMOTER);
}
END_TEST

START_TEST(test_detractor_followup_then_text)
{
	start();
	reply("3", SURVEY_REPLY_SCORE, 3, T0 + 5);
	expect_send(CONF_TEXT_FOLLOWUP_DETRACTOR);
	/* Whatever the follow-up reply parses as, it is the answer. */
	reply("10", SURVEY_REPLY_SCORE, 10, T0 + 6);
	ck_assert_str_eq(cv.followup, "10");
	ck_assert_int_eq(cv.score, 3);
	ck_assert_int_eq(cv.status, SURVEY_STATUS_COMPLETE);
}
END_TEST

START_TEST(test_passive)
{
	start();
	reply("7", SURVEY_REPLY_SCORE, 7, T0 + 5);
	expect_send(CONF_TEXT_FOLLOWUP_PASSIVE);
	ck_assert_int_eq(cv.state, SURVEY_AWAIT_FOLLOWUP);
}
END_TEST

START_TEST(test_score_comment_skips_followup)
{
	start();
	reply("9 hyvä palvelu", SURVEY_REPLY_SCORE_COMMENT, 9, T0 + 5);
	expect_send(CONF_TEXT_THANKS);
	ck_assert_int_eq(count(SURVEY_ACT_CLOSE), 1);
	expect_updated();
	ck_assert_int_eq(cv.status, SURVEY_STATUS_COMPLETE);
	ck_assert_int_eq(cv.score, 9);
	ck_assert_str_eq(cv.comment, "9 hyvä palvelu");
	ck_assert_ptr_null(cv.followup);
	ck_assert_int_eq(cv.kind, SURVEY_REPLY_SCORE_COMMENT);
}
END_TEST

START_TEST(test_score_comment_to_statements)
{
	add_statements();
	start();
	reply("8, jonotus kesti", SURVEY_REPLY_SCORE_COMMENT, 8, T0 + 5);
	expect_send(CONF_TEXT_STATEMENT);
	ck_assert_int_eq(the_send()->statement, 0);
	ck_assert_int_eq(cv.state, SURVEY_AWAIT_STATEMENT);
	ck_assert_int_eq(count(SURVEY_ACT_CLOSE), 0);
}
END_TEST

START_TEST(test_comment_then_score)
{
	start();
	reply("Pitkä jono", SURVEY_REPLY_COMMENT, -1, T0 + 5);
	expect_send(CONF_TEXT_REPROMPT_SCORE);
	expect_updated();
	ck_assert_int_eq(cv.state, SURVEY_AWAIT_SCORE);
	ck_assert_int_eq(cv.reprompts, 1);
	ck_assert_str_eq(cv.comment, "Pitkä jono");
	ck_assert_int_eq(cv.answered_at, T0 + 5);
	ck_assert_int_eq(cv.expires_at, T0 + 5 + 24 * HOUR);

	reply("8", SURVEY_REPLY_SCORE, 8, T0 + 50);
	/* The comment already says it: no follow-up question. */
	expect_send(CONF_TEXT_THANKS);
	ck_assert_int_eq(cv.status, SURVEY_STATUS_COMPLETE);
	ck_assert_int_eq(cv.score, 8);
	ck_assert_int_eq(cv.kind, SURVEY_REPLY_SCORE_COMMENT);
	ck_assert_str_eq(cv.comment, "Pitkä jono");
	ck_assert_int_eq(cv.answered_at, T0 + 5);
}
END_TEST

START_TEST(test_comment_twice)
{
	start();
	reply("Pitkä jono", SURVEY_REPLY_COMMENT, -1, T0 + 5);
	expect_send(CONF_TEXT_REPROMPT_SCORE);
	reply("Ei numeroa", SURVEY_REPLY_COMMENT, -1, T0 + 6);
	expect_send(CONF_TEXT_THANKS);
	ck_assert_int_eq(count(SURVEY_ACT_CLOSE), 1);
	ck_assert_int_eq(count(SURVEY_ACT_REVIEW), 0);
	expect_updated();
	ck_assert_int_eq(cv.status, SURVEY_STATUS_PARTIAL);
	ck_assert_int_eq(cv.score, -1);
	ck_assert_str_eq(cv.comment, "Pitkä jono\nEi numeroa");
	ck_assert_int_eq(cv.kind, SURVEY_REPLY_COMMENT);
}
END_TEST

START_TEST(test_comment_no_reprompts)
{
	cfg->survey.reprompts = 0;
	start();
	reply("Hyvä", SURVEY_REPLY_COMMENT, -1, T0 + 5);
	expect_send(CONF_TEXT_THANKS);
	ck_assert_int_eq(cv.status, SURVEY_STATUS_PARTIAL);
}
END_TEST

START_TEST(test_invalid_twice)
{
	start();
	reply("8,5", SURVEY_REPLY_INVALID, -1, T0 + 5);
	expect_send(CONF_TEXT_REPROMPT_INVALID);
	expect_updated();
	ck_assert_int_eq(cv.state, SURVEY_AWAIT_SCORE);
	ck_assert_int_eq(cv.invalid, 1);
	ck_assert_ptr_null(cv.comment);		/* no words */
	ck_assert_int_eq(cv.answered_at, 0);

	reply("5-6", SURVEY_REPLY_INVALID, -1, T0 + 6);
	ck_assert_int_eq(count(SURVEY_ACT_SEND), 0);
	ck_assert_int_eq(count(SURVEY_ACT_REVIEW), 1);
	ck_assert_int_eq(count(SURVEY_ACT_CLOSE), 1);
	expect_updated();
	ck_assert_str_eq(acts.a[0].reason, "invalid");
	ck_assert_int_eq(cv.state, SURVEY_CLOSED);
	ck_assert_int_eq(cv.status, SURVEY_STATUS_PARTIAL);
	ck_assert_int_eq(cv.kind, SURVEY_REPLY_INVALID);
	ck_assert_int_eq(cv.invalid, 2);
}
END_TEST

START_TEST(test_invalid_twice_big_budget)
{
	/* A second invalid closes even when re-prompts remain. */
	cfg->survey.reprompts = 3;
	start();
	reply("?", SURVEY_REPLY_INVALID, -1, T0 + 5);
	expect_send(CONF_TEXT_REPROMPT_INVALID);
	reply("??", SURVEY_REPLY_INVALID, -1, T0 + 6);
	ck_assert_int_eq(count(SURVEY_ACT_SEND), 0);
	ck_assert_int_eq(count(SURVEY_ACT_REVIEW), 1);
	ck_assert_int_eq(cv.state, SURVEY_CLOSED);
}
END_TEST

START_TEST(test_invalid_then_score)
{
	start();
	reply("?", SURVEY_REPLY_INVALID, -1, T0 + 5);
	expect_send(CONF_TEXT_REPROMPT_INVALID);
	reply("5", SURVEY_REPLY_SCORE, 5, T0 + 6);
	expect_send(CONF_TEXT_FOLLOWUP_DETRACTOR);
	ck_assert_int_eq(cv.score, 5);
	ck_assert_int_eq(cv.kind, SURVEY_REPLY_SCORE);
	ck_assert_int_eq(cv.state, SURVEY_AWAIT_FOLLOWUP);
}
END_TEST

START_TEST(test_invalid_with_words_kept)
{
	start();
	reply("Lääkäri 10, vastaanotto 6", SURVEY_REPLY_INVALID, -1, T0 + 5);
	expect_send(CONF_TEXT_REPROMPT_INVALID);
	ck_assert_str_eq(cv.comment, "Lääkäri 10, vastaanotto 6");
	/* Digits and emoji are not words. */
	survey_conv_clear(&cv);
	start();
	reply("5/5 \xf0\x9f\x91\x8d", SURVEY_REPLY_INVALID, -1, T0 + 5);
	ck_assert_ptr_null(cv.comment);
	survey_conv_clear(&cv);
	start();
	reply("O", SURVEY_REPLY_INVALID, -1, T0 + 5);
	ck_assert_ptr_null(cv.comment);		/* one letter is no word */
	reply("Öö?", SURVEY_REPLY_INVALID, -1, T0 + 6);
	ck_assert_str_eq(cv.comment, "Öö?");
	/* Words in any script count, as in the parser (Arabic here). */
	survey_conv_clear(&cv);
	start();
	reply("\xd8\xb4\xd9\x83\xd8\xb1\xd8\xa7 10 5", SURVEY_REPLY_INVALID, -1,
	    T0 + 5);
	ck_assert_str_eq(cv.comment, "\xd8\xb4\xd9\x83\xd8\xb1\xd8\xa7 10 5");
}
END_TEST

START_TEST(test_comment_then_invalid)
{
	start();
	reply("Jono oli pitkä", SURVEY_REPLY_COMMENT, -1, T0 + 5);
	expect_send(CONF_TEXT_REPROMPT_SCORE);
	/* The one re-prompt is used: the first invalid closes. */
	reply("??", SURVEY_REPLY_INVALID, -1, T0 + 6);
	ck_assert_int_eq(count(SURVEY_ACT_SEND), 0);
	ck_assert_int_eq(count(SURVEY_ACT_REVIEW), 1);
	ck_assert_int_eq(cv.status, SURVEY_STATUS_PARTIAL);
	ck_assert_str_eq(cv.comment, "Jono oli pitkä");
}
END_TEST

START_TEST(test_score_out_of_range_is_invalid)
{
	start();
	reply("11", SURVEY_REPLY_SCORE, 11, T0 + 5);
	expect_send(CONF_TEXT_REPROMPT_INVALID);
	ck_assert_int_eq(cv.score, -1);
	ck_assert_int_eq(cv.invalid, 1);
}
END_TEST

START_TEST(test_optout_await_score)
{
	start();
	ck_assert_int_eq(reply("8 mutta älkää lähettäkö enää",
	    SURVEY_REPLY_OPTOUT, 8, T0 + 5), SURVEY_RES_OK);
	ck_assert_int_eq(acts.n, 4);
	ck_assert_int_eq(acts.a[0].type, SURVEY_ACT_SUPPRESS);
	expect_send(CONF_TEXT_OPTOUT_CONFIRM);
	ck_assert_int_eq(count(SURVEY_ACT_CLOSE), 1);
	expect_updated();
	ck_assert_int_eq(cv.status, SURVEY_STATUS_OPTOUT);
	ck_assert_int_eq(cv.score, 8);
	ck_assert_int_eq(cv.kind, SURVEY_REPLY_OPTOUT);
	ck_assert_int_eq(cv.answered_at, T0 + 5);
}
END_TEST

START_TEST(test_optout_no_score)
{
	start();
	reply("LOPETA", SURVEY_REPLY_OPTOUT, -1, T0 + 5);
	expect_send(CONF_TEXT_OPTOUT_CONFIRM);
	ck_assert_int_eq(cv.status, SURVEY_STATUS_OPTOUT);
	ck_assert_int_eq(cv.score, -1);
	ck_assert_int_eq(cv.answered_at, 0);
}
END_TEST

START_TEST(test_optout_followup)
{
	start();
	reply("6", SURVEY_REPLY_SCORE, 6, T0 + 5);
	reply("stop", SURVEY_REPLY_OPTOUT, -1, T0 + 6);
	ck_assert_int_eq(count(SURVEY_ACT_SUPPRESS), 1);
	expect_send(CONF_TEXT_OPTOUT_CONFIRM);
	ck_assert_int_eq(cv.status, SURVEY_STATUS_OPTOUT);
	ck_assert_int_eq(cv.score, 6);
	ck_assert_int_eq(cv.kind, SURVEY_REPLY_SCORE);
	ck_assert_ptr_null(cv.followup);
}
END_TEST

START_TEST(test_optout_statement)
{
	add_statements();
	start();
	reply("9 kiitos", SURVEY_REPLY_SCORE_COMMENT, 9, T0 + 5);
	reply("4", SURVEY_REPLY_SCORE, 4, T0 + 6);
	ck_assert_int_eq(survey_conv_answer(&cv, "S1"), 4);
	reply("STOPP", SURVEY_REPLY_OPTOUT, -1, T0 + 7);
	ck_assert_int_eq(count(SURVEY_ACT_SUPPRESS), 1);
	expect_send(CONF_TEXT_OPTOUT_CONFIRM);
	ck_assert_int_eq(cv.status, SURVEY_STATUS_OPTOUT);
	ck_assert_int_eq(survey_conv_answer(&cv, "S1"), 4);
	ck_assert_int_eq(cv.nanswers, 1);
}
END_TEST

START_TEST(test_optout_closed)
{
	start();
	reply("9 hyvä", SURVEY_REPLY_SCORE_COMMENT, 9, T0 + 5);
	ck_assert_int_eq(cv.revision, 1);
	/* Within late_days: honoured, record unchanged. */
	ck_assert_int_eq(reply("STOP", SURVEY_REPLY_OPTOUT, -1, T0 + DAY),
	    SURVEY_RES_OK);
	ck_assert_int_eq(acts.n, 2);
	ck_assert_int_eq(acts.a[0].type, SURVEY_ACT_SUPPRESS);
	expect_send(CONF_TEXT_OPTOUT_CONFIRM);
	ck_assert_int_eq(count(SURVEY_ACT_RECORD_UPDATED), 0);
	ck_assert_int_eq(cv.nlate, 0);
	ck_assert_int_eq(cv.revision, 1);
	ck_assert_int_eq(cv.status, SURVEY_STATUS_COMPLETE);
	/* Beyond late_days: still honoured, not an orphan. */
	ck_assert_int_eq(reply("STOP", SURVEY_REPLY_OPTOUT, -1,
	    T0 + 30 * DAY), SURVEY_RES_OK);
	ck_assert_int_eq(count(SURVEY_ACT_SUPPRESS), 1);
	expect_send(CONF_TEXT_OPTOUT_CONFIRM);
}
END_TEST

START_TEST(test_optout_repeat_no_second_confirm)
{
	start();
	reply("LOPETA", SURVEY_REPLY_OPTOUT, -1, T0 + 5);
	reply("LOPETA", SURVEY_REPLY_OPTOUT, -1, T0 + 6);
	ck_assert_int_eq(acts.n, 1);
	ck_assert_int_eq(acts.a[0].type, SURVEY_ACT_SUPPRESS);
}
END_TEST

START_TEST(test_statements_flow)
{
	add_statements();
	start();
	reply("9", SURVEY_REPLY_SCORE, 9, T0 + 1);
	expect_send(CONF_TEXT_FOLLOWUP_PROMOTER);
	reply("Kaikki", SURVEY_REPLY_COMMENT, -1, T0 + 2);
	expect_send(CONF_TEXT_STATEMENT);
	ck_assert_int_eq(the_send()->statement, 0);
	ck_assert_str_eq(cv.followup, "Kaikki");
	ck_assert_int_eq(cv.expires_at, T0 + 2 + 24 * HOUR);

	/* Valid: digits only, trimmed. */
	reply(" 4 ", SURVEY_REPLY_SCORE, 4, T0 + 3);
	ck_assert_int_eq(survey_conv_answer(&cv, "S1"), 4);
	expect_send(CONF_TEXT_STATEMENT);
	ck_assert_int_eq(the_send()->statement, 1);
	expect_updated();

	/* Out of the 4-point scale: the same statement once more. */
	reply("5", SURVEY_REPLY_SCORE, 5, T0 + 4);
	expect_send(CONF_TEXT_STATEMENT);
	ck_assert_int_eq(the_send()->statement, 1);
	ck_assert_int_eq(survey_conv_answer(&cv, "S2"), -1);
	ck_assert_int_eq(cv.stmt, 1);
	/* Then a parser score in range ("3." -> 3) is accepted. */
	reply("3.", SURVEY_REPLY_SCORE, 3, T0 + 5);
	ck_assert_int_eq(survey_conv_answer(&cv, "S2"), 3);
	expect_send(CONF_TEXT_STATEMENT);
	ck_assert_int_eq(the_send()->statement, 2);

	/* Two misses: skipped, then thanks. */
	reply("joo", SURVEY_REPLY_COMMENT, -1, T0 + 6);
	expect_send(CONF_TEXT_STATEMENT);
	ck_assert_int_eq(the_send()->statement, 2);
	reply("0", SURVEY_REPLY_SCORE, 0, T0 + 7);
	expect_send(CONF_TEXT_THANKS);
	ck_assert_int_eq(count(SURVEY_ACT_CLOSE), 1);
	ck_assert_int_eq(survey_conv_answer(&cv, "S3"), -1);
	ck_assert_int_eq(cv.nanswers, 2);
	ck_assert_int_eq(cv.status, SURVEY_STATUS_COMPLETE);
	ck_assert_int_eq(cv.score, 9);
}
END_TEST

START_TEST(test_statement_score_comment_not_number)
{
	add_statements();
	start();
	reply("10 hyvä", SURVEY_REPLY_SCORE_COMMENT, 10, T0 + 1);
	/* "2 ok" is not digits only: re-sent. */
	reply("2 ok", SURVEY_REPLY_SCORE_COMMENT, 2, T0 + 2);
	expect_send(CONF_TEXT_STATEMENT);
	ck_assert_int_eq(the_send()->statement, 0);
	ck_assert_int_eq(cv.nanswers, 0);
	reply("1", SURVEY_REPLY_SCORE, 1, T0 + 3);
	ck_assert_int_eq(survey_conv_answer(&cv, "S1"), 1);
}
END_TEST

START_TEST(test_expiry_no_answer)
{
	start();
	ck_assert_int_eq(survey_on_timer(&cv, cfg, T0 + 24 * HOUR - 1, &acts),
	    SURVEY_RES_IGNORED);
	ck_assert_int_eq(acts.n, 0);
	ck_assert_int_eq(cv.state, SURVEY_AWAIT_SCORE);
	ck_assert_int_eq(survey_on_timer(&cv, cfg, T0 + 25 * HOUR, &acts),
	    SURVEY_RES_OK);
	ck_assert_int_eq(acts.n, 2);
	ck_assert_int_eq(acts.a[0].type, SURVEY_ACT_CLOSE);
	expect_updated();
	ck_assert_int_eq(count(SURVEY_ACT_SEND), 0);
	ck_assert_int_eq(cv.status, SURVEY_STATUS_EXPIRED);
	ck_assert_int_eq(cv.closed_at, T0 + 24 * HOUR);
	ck_assert_int_eq(cv.revision, 1);
	/* Closed: the timer does nothing more. */
	ck_assert_int_eq(survey_on_timer(&cv, cfg, T0 + 26 * HOUR, &acts),
	    SURVEY_RES_IGNORED);
	ck_assert_int_eq(acts.n, 0);
}
END_TEST

START_TEST(test_expiry_with_answer)
{
	start();
	reply("7", SURVEY_REPLY_SCORE, 7, T0 + HOUR);
	/* The follow-up re-armed the deadline. */
	ck_assert_int_eq(survey_on_timer(&cv, cfg, T0 + 24 * HOUR, &acts),
	    SURVEY_RES_IGNORED);
	ck_assert_int_eq(survey_on_timer(&cv, cfg, T0 + 25 * HOUR, &acts),
	    SURVEY_RES_OK);
	ck_assert_int_eq(cv.status, SURVEY_STATUS_PARTIAL);
	ck_assert_int_eq(cv.score, 7);
	ck_assert_int_eq(count(SURVEY_ACT_SEND), 0);
}
END_TEST

START_TEST(test_reply_after_deadline_is_late)
{
	start();
	/* No timer ran: the reply itself finds the deadline passed. */
	ck_assert_int_eq(reply("9", SURVEY_REPLY_SCORE, 9, T0 + 30 * HOUR),
	    SURVEY_RES_LATE);
	ck_assert_int_eq(count(SURVEY_ACT_SEND), 0);
	ck_assert_int_eq(count(SURVEY_ACT_CLOSE), 1);
	expect_updated();
	ck_assert_int_eq(cv.status, SURVEY_STATUS_EXPIRED);
	ck_assert_int_eq(cv.score, -1);
	ck_assert_int_eq(cv.nlate, 1);
	ck_assert_str_eq(cv.late[0].text, "9");
}
END_TEST

START_TEST(test_late_text)
{
	int64_t closed;

	start();
	reply("10 kiitos", SURVEY_REPLY_SCORE_COMMENT, 10, T0 + 10);
	closed = cv.closed_at;
	ck_assert_int_eq(cv.revision, 1);
	ck_assert_int_eq(survey_late_until(&cv, cfg), closed + 7 * DAY);

	ck_assert_int_eq(reply("Ja hoitaja oli mukava", SURVEY_REPLY_COMMENT,
	    -1, closed + 6 * DAY), SURVEY_RES_LATE);
	ck_assert_int_eq(acts.n, 1);
	expect_updated();
	ck_assert_int_eq(cv.revision, 2);
	ck_assert_int_eq(cv.nlate, 1);
	ck_assert_str_eq(cv.late[0].text, "Ja hoitaja oli mukava");
	ck_assert_int_eq(cv.late[0].at, closed + 6 * DAY);
	ck_assert_int_eq(cv.status, SURVEY_STATUS_COMPLETE);

	/* Even a score after closing is only late text. */
	ck_assert_int_eq(reply("3", SURVEY_REPLY_SCORE, 3, closed + 6 * DAY +
	    1), SURVEY_RES_LATE);
	ck_assert_int_eq(cv.score, 10);
	ck_assert_int_eq(cv.revision, 3);

	/* After late_days: orphan, nothing done. */
	ck_assert_int_eq(reply("Vielä", SURVEY_REPLY_COMMENT, -1,
	    closed + 7 * DAY), SURVEY_RES_ORPHAN);
	ck_assert_int_eq(acts.n, 0);
	ck_assert_int_eq(cv.nlate, 2);
	ck_assert_int_eq(cv.revision, 3);
}
END_TEST

START_TEST(test_late_days_zero)
{
	cfg->survey.late_days = 0;
	start();
	reply("10 kiitos", SURVEY_REPLY_SCORE_COMMENT, 10, T0 + 10);
	ck_assert_int_eq(reply("Lisää", SURVEY_REPLY_COMMENT, -1, T0 + 11),
	    SURVEY_RES_ORPHAN);
	ck_assert_int_eq(cv.nlate, 0);
}
END_TEST

START_TEST(test_empty_ignored)
{
	start();
	ck_assert_int_eq(reply("  ", SURVEY_REPLY_EMPTY, -1, T0 + 1),
	    SURVEY_RES_IGNORED);
	ck_assert_int_eq(acts.n, 0);
	ck_assert_int_eq(cv.state, SURVEY_AWAIT_SCORE);
	ck_assert_int_eq(cv.expires_at, T0 + 24 * HOUR);
	reply("9", SURVEY_REPLY_SCORE, 9, T0 + 2);
	ck_assert_int_eq(reply(NULL, SURVEY_REPLY_EMPTY, -1, T0 + 3),
	    SURVEY_RES_IGNORED);
	ck_assert_int_eq(acts.n, 0);
	ck_assert_int_eq(cv.state, SURVEY_AWAIT_FOLLOWUP);
	ck_assert_ptr_null(cv.followup);
	reply("hyvä", SURVEY_REPLY_COMMENT, -1, T0 + 4);
	ck_assert_int_eq(reply("", SURVEY_REPLY_EMPTY, -1, T0 + 5),
	    SURVEY_RES_IGNORED);
	ck_assert_int_eq(cv.nlate, 0);
	ck_assert_int_eq(cv.revision, 1);
}
END_TEST

START_TEST(test_bad_args)
{
	start();
	ck_assert_int_eq(survey_on_reply(&cv, cfg, "x", (enum survey_reply_kind)
	    99, -1, false, T0, &acts), SURVEY_RES_ERROR);
	ck_assert_int_eq(survey_on_reply(NULL, cfg, "x", SURVEY_REPLY_COMMENT,
	    -1, true, T0, &acts), SURVEY_RES_ERROR);
	ck_assert_int_eq(cv.state, SURVEY_AWAIT_SCORE);
}
END_TEST

START_TEST(test_restart_clears)
{
	start();
	reply("Pitkä jono", SURVEY_REPLY_COMMENT, -1, T0 + 5);
	survey_conv_add_late(&cv, "x", T0);
	survey_conv_set_answer(&cv, "S1", 2);
	ck_assert_int_eq(survey_start(&cv, cfg, T0 + DAY, &acts),
	    SURVEY_RES_OK);
	ck_assert_ptr_null(cv.comment);
	ck_assert_int_eq(cv.nlate, 0);
	ck_assert_int_eq(cv.nanswers, 0);
	ck_assert_int_eq(cv.reprompts, 0);
	ck_assert_int_eq(cv.invited_at, T0 + DAY);
}
END_TEST

START_TEST(test_conv_setters)
{
	survey_conv_set_answer(&cv, "S1", 2);
	survey_conv_set_answer(&cv, "S2", 3);
	survey_conv_set_answer(&cv, "S1", 4);
	ck_assert_int_eq(cv.nanswers, 2);
	ck_assert_int_eq(survey_conv_answer(&cv, "S1"), 4);
	ck_assert_int_eq(survey_conv_answer(&cv, "S9"), -1);
	ck_assert(survey_conv_answered(&cv));
	survey_conv_set_comment(&cv, "a");
	survey_conv_set_comment(&cv, "b");
	ck_assert_str_eq(cv.comment, "b");
	survey_conv_set_followup(&cv, "c");
	survey_conv_set_followup(&cv, NULL);
	ck_assert_ptr_null(cv.followup);
	survey_conv_clear(&cv);
	ck_assert(!survey_conv_answered(&cv));
	ck_assert_int_eq(cv.score, -1);
	survey_conv_clear(NULL);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(survey_status_name(SURVEY_STATUS_COMPLETE),
	    "complete");
	ck_assert_str_eq(survey_status_name(SURVEY_STATUS_PARTIAL), "partial");
	ck_assert_str_eq(survey_status_name(SURVEY_STATUS_EXPIRED), "expired");
	ck_assert_str_eq(survey_status_name(SURVEY_STATUS_OPTOUT), "optout");
	ck_assert_str_eq(survey_status_name(SURVEY_STATUS_NONE), "open");
	ck_assert_ptr_null(survey_status_name((enum survey_status)42));
	ck_assert_str_eq(survey_reply_kind_name(SURVEY_REPLY_SCORE_COMMENT),
	    "score_comment");
	ck_assert_str_eq(survey_reply_kind_name(SURVEY_REPLY_EMPTY), "empty");
	ck_assert_str_eq(survey_state_name(SURVEY_AWAIT_STATEMENT),
	    "await_statement");
	ck_assert_int_eq(survey_status_parse("optout"), SURVEY_STATUS_OPTOUT);
	ck_assert_int_eq(survey_status_parse("bogus"), -1);
	ck_assert_int_eq(survey_reply_kind_parse("invalid"),
	    SURVEY_REPLY_INVALID);
	ck_assert_int_eq(survey_state_parse("closed"), SURVEY_CLOSED);
	ck_assert_int_eq(survey_state_parse(NULL), -1);
}
END_TEST

static Suite *
survey_suite(void)
{
	Suite *s = suite_create("survey");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_start);
	tcase_add_test(tc, test_promoter_flow);
	tcase_add_test(tc, test_bands);
	tcase_add_test(tc, test_detractor_followup_then_text);
	tcase_add_test(tc, test_passive);
	tcase_add_test(tc, test_score_comment_skips_followup);
	tcase_add_test(tc, test_score_comment_to_statements);
	tcase_add_test(tc, test_comment_then_score);
	tcase_add_test(tc, test_comment_twice);
	tcase_add_test(tc, test_comment_no_reprompts);
	tcase_add_test(tc, test_invalid_twice);
	tcase_add_test(tc, test_invalid_twice_big_budget);
	tcase_add_test(tc, test_invalid_then_score);
	tcase_add_test(tc, test_invalid_with_words_kept);
	tcase_add_test(tc, test_comment_then_invalid);
	tcase_add_test(tc, test_score_out_of_range_is_invalid);
	tcase_add_test(tc, test_optout_await_score);
	tcase_add_test(tc, test_optout_no_score);
	tcase_add_test(tc, test_optout_followup);
	tcase_add_test(tc, test_optout_statement);
	tcase_add_test(tc, test_optout_closed);
	tcase_add_test(tc, test_optout_repeat_no_second_confirm);
	tcase_add_test(tc, test_statements_flow);
	tcase_add_test(tc, test_statement_score_comment_not_number);
	tcase_add_test(tc, test_expiry_no_answer);
	tcase_add_test(tc, test_expiry_with_answer);
	tcase_add_test(tc, test_reply_after_deadline_is_late);
	tcase_add_test(tc, test_late_text);
	tcase_add_test(tc, test_late_days_zero);
	tcase_add_test(tc, test_empty_ignored);
	tcase_add_test(tc, test_bad_args);
	tcase_add_test(tc, test_restart_clears);
	tcase_add_test(tc, test_conv_setters);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(survey_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
