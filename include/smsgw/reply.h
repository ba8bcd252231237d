/*
 * reply: classify a reply to the NPS question (0-10) by the binding rules
 * of spec/replies.md (N, O1-O3, E1-E7, A1-A4, C1-C2, R1-R4).
 *
 * The module is pure: no I/O, no mutable globals, thread-safe.
 * reply_parse() uses the built-in word lists (static const tables);
 * reply_parse_lex() uses a lexicon object that starts as a copy of the
 * built-ins and can be extended from the config (a lexicon is read-only
 * while parsing, so one may be shared by threads).  A reply of up to 512
 * bytes is parsed without heap allocation (about 55 KB of stack); longer
 * ones use temporary heap buffers, freed before returning.
 */
#ifndef SMSGW_REPLY_H
#define SMSGW_REPLY_H

#include <stdbool.h>
#include <stddef.h>

enum reply_kind {
	REPLY_KIND_SCORE,		/* a score and nothing else */
	REPLY_KIND_SCORE_COMMENT,	/* a score plus words */
	REPLY_KIND_COMMENT,		/* words, no score */
	REPLY_KIND_OPTOUT,		/* stop; score may still be set */
	REPLY_KIND_INVALID,		/* ambiguous, no words, bad UTF-8 */
	REPLY_KIND_EMPTY		/* nothing after normalisation */
};

struct reply_result {
	enum reply_kind	kind;
	int		score;		/* 0..10, or -1 when none */
	bool		has_words;	/* the reply holds a word (2+
					   letters) */
	bool		has_comment;	/* a word remains besides the score
					   expression (rule R3) */
};

/*
 * Word lists.  Multi-word entries are written with single spaces
 * ("jag ger", "stop all") and match consecutive words of a reply.  A word
 * is a run of letters (inner apostrophes allowed: "don't"); a unit may
 * also be one symbol ("€").  Entries are normalised like replies (NFKC,
 * lower case) when added.
 */
enum reply_list {
	REPLY_LIST_KEYWORD,		/* O1/O3 opt-out keyword: stop */
	REPLY_LIST_OPTOUT_PHRASE,	/* O2 phrase found anywhere */
	REPLY_LIST_FILLER,		/* O1 polite filler: kiitos */
	REPLY_LIST_CUE,			/* framing cue before: annan */
	REPLY_LIST_MODIFIER,		/* framing modifier before: vahva */
	REPLY_LIST_MARKER,		/* scale marker after: pistettä */
	REPLY_LIST_OUT_OF,		/* "out of", "av": + 10 is a marker,
					   + other number is a fraction (A4) */
	REPLY_LIST_DENOMINATOR,		/* "viidestä": fraction (A4) */
	REPLY_LIST_UNIT,		/* E3 unit after a number: tuntia */
	REPLY_LIST_PLACE,		/* E4 place/time word before: klo */
	REPLY_LIST_JOINER,		/* A2 joiner between values: tai */
	REPLY_LIST_HALF,		/* A1 "ja puoli" after a number */
	REPLY_LIST_ARTICLE,		/* article before a number: en, a */
	REPLY_LIST_NUM_OVER10,		/* number word above ten: sata */
	REPLY_LIST_NUM_0,		/* number words, value = list - NUM_0 */
	REPLY_LIST_NUM_1,
	REPLY_LIST_NUM_2,
	REPLY_LIST_NUM_3,
	REPLY_LIST_NUM_4,
	REPLY_LIST_NUM_5,
	REPLY_LIST_NUM_6,
	REPLY_LIST_NUM_7,
	REPLY_LIST_NUM_8,
	REPLY_LIST_NUM_9,
	REPLY_LIST_NUM_10
};

struct reply_lexicon;

/* Classify len bytes of utf8 (need not be NUL-terminated; NUL bytes are
 * treated as white space).  Returns false only when out is NULL, utf8 is
 * NULL with len > 0, or memory runs out; out is then untouched. */
bool reply_parse(const char *utf8, size_t len, struct reply_result *out);

/* As reply_parse() with a lexicon; lex NULL = the built-in lists. */
bool reply_parse_lex(const struct reply_lexicon *lex, const char *utf8,
    size_t len, struct reply_result *out);

/* "score", "score_comment", "comment", "optout", "invalid", "empty". */
const char *reply_kind_name(enum reply_kind k);

/* A new lexicon holding the built-in lists; caller frees. */
struct reply_lexicon *reply_lexicon_new(void);
/*
 * Add a word or phrase (UTF-8, 1..64 bytes, at most 6 words) to a list.
 * The string is copied.  Returns 0, or -1 (errno EINVAL) when the word
 * is empty, too long, not UTF-8 or the list is unknown.
 */
int reply_lexicon_add(struct reply_lexicon *lex, enum reply_list which,
    const char *word);
/* NULL is safe. */
void reply_lexicon_free(struct reply_lexicon *lex);

#endif
