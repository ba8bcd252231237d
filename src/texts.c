/*
 * texts: built-in survey texts (fi, sv, en) and placeholder rendering.
 *
 * Wording follows THL's national customer feedback NPS question
 * ("Kuinka todennäköisesti suosittelisit saamaasi palvelua
 * läheisellesi?"), shortened to fit one SMS, and Keusote's 4-point
 * agreement scale for statements.  Only characters of the GSM 7-bit
 * default alphabet are used (tests/unit/check_texts.c counts septets).
 */
#include "smsgw/texts.h"

#include <stdio.h>
#include <string.h>

#include "smsgw/util.h"

static const char *const builtin[CONF_NLANG][CONF_TEXT_COUNT] = {
	[CONF_LANG_FI] = {
		[CONF_TEXT_INVITATION] =
		    "{sender}: Kuinka todennäköisesti suosittelisit saamaasi "
		    "palvelua läheisellesi? Vastaa 0-10 (10 = erittäin). "
		    "Vastaaminen on maksutonta. Lopetus: LOPETA",
		[CONF_TEXT_FOLLOWUP_DETRACTOR] =
		    "{sender}: Kiitos! Mitä olisimme voineet tehdä paremmin? "
		    "Kerro lyhyesti vastaamalla tähän viestiin. Älä kirjoita "
		    "nimiä tai terveystietoja.",
		[CONF_TEXT_FOLLOWUP_PASSIVE] =
		    "{sender}: Kiitos! Mikä olisi tehnyt palvelusta vielä "
		    "paremman? Kerro lyhyesti vastaamalla tähän viestiin. Älä "
		    "kirjoita nimiä tai terveystietoja.",
		[CONF_TEXT_FOLLOWUP_PROMOTER] =
		    "{sender}: Kiitos! Mikä onnistui erityisesti? Kerro "
		    "lyhyesti vastaamalla tähän viestiin. Älä kirjoita nimiä "
		    "tai terveystietoja.",
		[CONF_TEXT_REPROMPT_SCORE] =
		    "{sender}: Kiitos palautteestasi! Kuinka todennäköisesti "
		    "suosittelisit palvelua läheisellesi? Vastaa vielä "
		    "numerolla 0-10 (10 = erittäin).",
		[CONF_TEXT_REPROMPT_INVALID] =
		    "{sender}: Emme tunnistaneet vastaustasi. Vastaa numerolla "
		    "0-10 (0 = en lainkaan todennäköisesti, 10 = erittäin "
		    "todennäköisesti). Lopetus: LOPETA",
		[CONF_TEXT_STATEMENT] =
		    "{sender}: {statement} Vastaa numerolla 1-{scale} "
		    "(1 = täysin eri mieltä, {scale} = täysin samaa mieltä).",
		[CONF_TEXT_THANKS] =
		    "{sender}: Kiitos vastauksistasi! Palautteesi auttaa meitä "
		    "kehittämään palvelujamme.",
		[CONF_TEXT_OPTOUT_CONFIRM] =
		    "{sender}: Selvä. Emme lähetä sinulle enää "
		    "palautekyselyjä. Kiitos!",
		[CONF_TEXT_LINK_INVITATION] =
		    "{sender}: Kuinka todennäköisesti suosittelisit saamaasi "
		    "palvelua läheisellesi? Vastaa lyhyeen kyselyyn: {link}",
	},
	[CONF_LANG_SV] = {
		[CONF_TEXT_INVITATION] =
		    "{sender}: Hur troligt är det att du skulle rekommendera "
		    "tjänsten du fick till en närstående? Svara 0-10 "
		    "(10 = mycket troligt). Gratis att svara. Sluta: STOPP",
		[CONF_TEXT_FOLLOWUP_DETRACTOR] =
		    "{sender}: Tack! Vad kunde vi ha gjort bättre? Svara kort "
		    "på detta meddelande. Skriv inte namn eller "
		    "hälsouppgifter.",
		[CONF_TEXT_FOLLOWUP_PASSIVE] =
		    "{sender}: Tack! Vad hade gjort tjänsten ännu bättre? "
		    "Svara kort på detta meddelande. Skriv inte namn eller "
		    "hälsouppgifter.",
		[CONF_TEXT_FOLLOWUP_PROMOTER] =
		    "{sender}: Tack! Vad var särskilt bra? Svara kort på detta "
		    "meddelande. Skriv inte namn eller hälsouppgifter.",
		[CONF_TEXT_REPROMPT_SCORE] =
		    "{sender}: Tack för din feedback! Hur troligt är det att "
		    "du skulle rekommendera tjänsten? Svara också med en "
		    "siffra 0-10 (10 = mycket troligt).",
		[CONF_TEXT_REPROMPT_INVALID] =
		    "{sender}: Vi förstod inte ditt svar. Svara med en siffra "
		    "0-10 (0 = inte alls troligt, 10 = mycket troligt). "
		    "Sluta: STOPP",
		[CONF_TEXT_STATEMENT] =
		    "{sender}: {statement} Svara med en siffra 1-{scale} "
		    "(1 = helt av annan åsikt, {scale} = helt av samma åsikt).",
		[CONF_TEXT_THANKS] =
		    "{sender}: Tack för dina svar! Din feedback hjälper oss "
		    "att utveckla våra tjänster.",
		[CONF_TEXT_OPTOUT_CONFIRM] =
		    "{sender}: Okej. Vi skickar inga fler enkäter till dig. "
		    "Tack!",
		[CONF_TEXT_LINK_INVITATION] =
		    "{sender}: Hur troligt är det att du skulle rekommendera "
		    "tjänsten du fick till en närstående? Svara på en kort "
		    "enkät: {link}",
	},
	[CONF_LANG_EN] = {
		[CONF_TEXT_INVITATION] =
		    "{sender}: How likely are you to recommend the service you "
		    "received to someone close to you? Reply 0-10 "
		    "(10 = very likely). Replying is free. Opt out: STOP",
		[CONF_TEXT_FOLLOWUP_DETRACTOR] =
		    "{sender}: Thank you! What could we have done better? "
		    "Reply briefly to this message. Please do not include "
		    "names or health details.",
		[CONF_TEXT_FOLLOWUP_PASSIVE] =
		    "{sender}: Thank you! What would have made the service "
		    "even better? Reply briefly to this message. Please do not "
		    "include names or health details.",
		[CONF_TEXT_FOLLOWUP_PROMOTER] =
		    "{sender}: Thank you! What went especially well? Reply "
		    "briefly to this message. Please do not include names or "
		    "health details.",
		[CONF_TEXT_REPROMPT_SCORE] =
		    "{sender}: Thank you for your feedback! How likely are you "
		    "to recommend the service? Please also reply with a number "
		    "0-10 (10 = very likely).",
		[CONF_TEXT_REPROMPT_INVALID] =
		    "{sender}: We could not read your reply. Please reply with "
		    "a number 0-10 (0 = not at all likely, 10 = very likely). "
		    "Opt out: STOP",
		[CONF_TEXT_STATEMENT] =
		    "{sender}: {statement} Reply with a number 1-{scale} "
		    "(1 = strongly disagree, {scale} = strongly agree).",
		[CONF_TEXT_THANKS] =
		    "{sender}: Thank you for your answers! Your feedback helps "
		    "us improve our services.",
		[CONF_TEXT_OPTOUT_CONFIRM] =
		    "{sender}: OK. We will not send you any more feedback "
		    "surveys. Thank you!",
		[CONF_TEXT_LINK_INVITATION] =
		    "{sender}: How likely are you to recommend the service you "
		    "received to someone close to you? Take a short survey: "
		    "{link}",
	},
};

/* A growable string for rendering. */
struct buf {
	char	*s;
	size_t	 len;
	size_t	 cap;
};

static void
buf_add(struct buf *b, const char *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap ? b->cap * 2 : 256;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static int
valid_args(enum conf_lang lang, enum conf_text which)
{
	return (int)lang >= 0 && (int)lang < CONF_NLANG &&
	    (int)which >= 0 && (int)which < CONF_TEXT_COUNT;
}

const char *
texts_builtin(enum conf_lang lang, enum conf_text which)
{
	if (!valid_args(lang, which))
		return NULL;
	return builtin[lang][which];
}

const char *
texts_template(const struct conf *c, enum conf_lang lang,
    enum conf_text which)
{
	if (!valid_args(lang, which))
		return NULL;
	if (c != NULL && c->survey.texts[lang][which] != NULL)
		return c->survey.texts[lang][which];
	return builtin[lang][which];
}

char *
texts_render(const struct conf *c, enum conf_lang lang, enum conf_text which,
    const char *statement, const char *link)
{
	struct buf b = { NULL, 0, 0 };
	const char *tpl, *p, *q, *sender = "";
	char scale[16];

	if ((tpl = texts_template(c, lang, which)) == NULL)
		return NULL;
	if (c != NULL && c->survey.sender_name != NULL)
		sender = c->survey.sender_name;
	snprintf(scale, sizeof(scale), "%d",
	    c != NULL ? c->survey.statement_scale : 4);
	buf_add(&b, "", 0);
	for (p = tpl; *p != '\0'; p = q) {
		if (*p != '{') {
			if ((q = strchr(p, '{')) == NULL)
				q = p + strlen(p);
			buf_add(&b, p, (size_t)(q - p));
			continue;
		}
		if (strncmp(p, "{sender}", 8) == 0) {
			buf_adds(&b, sender);
			q = p + 8;
		} else if (strncmp(p, "{scale}", 7) == 0) {
			buf_adds(&b, scale);
			q = p + 7;
		} else if (strncmp(p, "{statement}", 11) == 0) {
			buf_adds(&b, statement != NULL ? statement : "");
			q = p + 11;
		} else if (strncmp(p, "{link}", 6) == 0) {
			buf_adds(&b, link != NULL ? link : "");
			q = p + 6;
		} else {
			buf_add(&b, p, 1);
			q = p + 1;
		}
	}
	return b.s;
}

const char *
texts_statement(const struct conf *c, enum conf_lang lang, size_t idx)
{
	static const enum conf_lang order[] = { CONF_LANG_EN, CONF_LANG_FI,
		CONF_LANG_SV };
	const struct conf_statement *st;
	size_t i;

	if (c == NULL || idx >= c->survey.nstatements)
		return NULL;
	st = &c->survey.statements[idx];
	if ((int)lang >= 0 && (int)lang < CONF_NLANG &&
	    st->text[lang] != NULL)
		return st->text[lang];
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (st->text[order[i]] != NULL)
			return st->text[order[i]];
	return NULL;
}
