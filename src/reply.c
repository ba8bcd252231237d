/*
 * reply: the reply classifier (spec/replies.md).
 *
 * Pipeline: decode and validate UTF-8, normalise (rule N) into a buffer
 * of code points, split into tokens (words, digit runs, single spaces,
 * single punctuation/emoji), tag words from the lexicon, read number
 * expressions left to right (E, A, C), then decide (O, R).
 *
 * Unicode data comes from libunistring: u32_normalize(UNINORM_NFKC),
 * uc_is_general_category() for letters and Nd digits, uc_decimal_value(),
 * uc_is_property_dash(), uc_is_property_white_space() and uc_tolower().
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unictype.h>
#include <unicase.h>
#include <uninorm.h>
#include <unistr.h>

#include "smsgw/reply.h"

#define REPLY_STACK_CPS	512	/* input bytes handled without malloc */
#define REPLY_MAX_WORDS	6	/* words in one lexicon phrase */
#define REPLY_WORD_MAX	64	/* bytes in one lexicon entry */
#define REPLY_HALF_CP	0xE000	/* private use: stands for U+00BD */

struct lex_entry {
	const char	*text;		/* lower-case UTF-8, words split
					   by single spaces */
	int		 list;		/* enum reply_list */
};

/*
 * Built-in lists, sorted by first word (bytewise, shorter first), which
 * is what lex_find() relies on.  Generated from word lists; keep sorted.
 */
static const struct lex_entry builtin_lex[] = {
	{ "%", REPLY_LIST_UNIT },
	{ "a", REPLY_LIST_ARTICLE },
	{ "an", REPLY_LIST_ARTICLE },
	{ "and a half", REPLY_LIST_HALF },
	{ "and half", REPLY_LIST_HALF },
	{ "annan", REPLY_LIST_CUE },
	{ "annoin", REPLY_LIST_CUE },
	{ "antaisin", REPLY_LIST_CUE },
	{ "arvosana", REPLY_LIST_CUE },
	{ "arvosanaksi", REPLY_LIST_CUE },
	{ "arvosanani", REPLY_LIST_CUE },
	{ "at", REPLY_LIST_PLACE },
	{ "av", REPLY_LIST_OUT_OF },
	{ "avd", REPLY_LIST_PLACE },
	{ "avdelning", REPLY_LIST_PLACE },
	{ "avsluta", REPLY_LIST_KEYWORD },
	{ "betyg", REPLY_LIST_CUE },
	{ "betyget", REPLY_LIST_CUE },
	{ "cm", REPLY_LIST_UNIT },
	{ "dag", REPLY_LIST_UNIT },
	{ "dagar", REPLY_LIST_UNIT },
	{ "day", REPLY_LIST_UNIT },
	{ "days", REPLY_LIST_UNIT },
	{ "den", REPLY_LIST_ARTICLE },
	{ "det", REPLY_LIST_ARTICLE },
	{ "do not send", REPLY_LIST_OPTOUT_PHRASE },
	{ "do not text", REPLY_LIST_OPTOUT_PHRASE },
	{ "don't send", REPLY_LIST_OPTOUT_PHRASE },
	{ "don't text", REPLY_LIST_OPTOUT_PHRASE },
	{ "dont send", REPLY_LIST_OPTOUT_PHRASE },
	{ "dont text", REPLY_LIST_OPTOUT_PHRASE },
	{ "door", REPLY_LIST_PLACE },
	{ "dygn", REPLY_LIST_UNIT },
	{ "dörr", REPLY_LIST_PLACE },
	{ "ei enää kyselyitä", REPLY_LIST_OPTOUT_PHRASE },
	{ "ei enää kyselyjä", REPLY_LIST_OPTOUT_PHRASE },
	{ "ei enää viestejä", REPLY_LIST_OPTOUT_PHRASE },
	{ "eight", REPLY_LIST_NUM_8 },
	{ "eleven", REPLY_LIST_NUM_OVER10 },
	{ "eller", REPLY_LIST_JOINER },
	{ "elva", REPLY_LIST_NUM_OVER10 },
	{ "en", REPLY_LIST_ARTICLE },
	{ "en", REPLY_LIST_NUM_1 },
	{ "en halua enää kyselyjä", REPLY_LIST_OPTOUT_PHRASE },
	{ "en halua enää näitä", REPLY_LIST_OPTOUT_PHRASE },
	{ "en halua enää tällaisia", REPLY_LIST_OPTOUT_PHRASE },
	{ "en halua enää viestejä", REPLY_LIST_OPTOUT_PHRASE },
	{ "en halua kyselyjä", REPLY_LIST_OPTOUT_PHRASE },
	{ "en halua näitä", REPLY_LIST_OPTOUT_PHRASE },
	{ "en halua tällaisia", REPLY_LIST_OPTOUT_PHRASE },
	{ "en halua viestejä", REPLY_LIST_OPTOUT_PHRASE },
	{ "ett", REPLY_LIST_ARTICLE },
	{ "ett", REPLY_LIST_NUM_1 },
	{ "etta", REPLY_LIST_NUM_1 },
	{ "eur", REPLY_LIST_UNIT },
	{ "euro", REPLY_LIST_UNIT },
	{ "euroa", REPLY_LIST_UNIT },
	{ "euros", REPLY_LIST_UNIT },
	{ "fem", REPLY_LIST_NUM_5 },
	{ "femma", REPLY_LIST_NUM_5 },
	{ "five", REPLY_LIST_NUM_5 },
	{ "floor", REPLY_LIST_PLACE },
	{ "four", REPLY_LIST_NUM_4 },
	{ "fyra", REPLY_LIST_NUM_4 },
	{ "gate", REPLY_LIST_PLACE },
	{ "gång", REPLY_LIST_UNIT },
	{ "gånger", REPLY_LIST_UNIT },
	{ "h", REPLY_LIST_UNIT },
	{ "heikko", REPLY_LIST_MODIFIER },
	{ "heikkoa", REPLY_LIST_MODIFIER },
	{ "heikon", REPLY_LIST_MODIFIER },
	{ "hour", REPLY_LIST_UNIT },
	{ "hours", REPLY_LIST_UNIT },
	{ "hr", REPLY_LIST_UNIT },
	{ "hrs", REPLY_LIST_UNIT },
	{ "hundra", REPLY_LIST_NUM_OVER10 },
	{ "hundred", REPLY_LIST_NUM_OVER10 },
	{ "huone", REPLY_LIST_PLACE },
	{ "huoneen", REPLY_LIST_PLACE },
	{ "huoneeseen", REPLY_LIST_PLACE },
	{ "huoneessa", REPLY_LIST_PLACE },
	{ "huoneesta", REPLY_LIST_PLACE },
	{ "i give", REPLY_LIST_CUE },
	{ "i give it a", REPLY_LIST_CUE },
	{ "i give it an", REPLY_LIST_CUE },
	{ "i would give it a", REPLY_LIST_CUE },
	{ "i would give it an", REPLY_LIST_CUE },
	{ "i'd give it a", REPLY_LIST_CUE },
	{ "i'd give it an", REPLY_LIST_CUE },
	{ "inga fler sms", REPLY_LIST_OPTOUT_PHRASE },
	{ "it", REPLY_LIST_ARTICLE },
	{ "ja puoli", REPLY_LIST_HALF },
	{ "jag ger", REPLY_LIST_CUE },
	{ "kahdeksaa", REPLY_LIST_NUM_8 },
	{ "kahdeksaksi", REPLY_LIST_NUM_8 },
	{ "kahdeksalla", REPLY_LIST_NUM_8 },
	{ "kahdeksan", REPLY_LIST_NUM_8 },
	{ "kahdeksana", REPLY_LIST_NUM_8 },
	{ "kahdeksasta", REPLY_LIST_DENOMINATOR },
	{ "kahdeksi", REPLY_LIST_NUM_2 },
	{ "kahdella", REPLY_LIST_NUM_2 },
	{ "kahden", REPLY_LIST_NUM_2 },
	{ "kahdesta", REPLY_LIST_DENOMINATOR },
	{ "kaheksan", REPLY_LIST_NUM_8 },
	{ "kahta", REPLY_LIST_NUM_2 },
	{ "kahtena", REPLY_LIST_NUM_2 },
	{ "kakkonen", REPLY_LIST_NUM_2 },
	{ "kakkoseen", REPLY_LIST_NUM_2 },
	{ "kakkoseksi", REPLY_LIST_NUM_2 },
	{ "kakkosella", REPLY_LIST_NUM_2 },
	{ "kakkoselle", REPLY_LIST_NUM_2 },
	{ "kakkoselta", REPLY_LIST_NUM_2 },
	{ "kakkosen", REPLY_LIST_NUM_2 },
	{ "kakkosena", REPLY_LIST_NUM_2 },
	{ "kakkosessa", REPLY_LIST_NUM_2 },
	{ "kakkosesta", REPLY_LIST_NUM_2 },
	{ "kakkosta", REPLY_LIST_NUM_2 },
	{ "kaks", REPLY_LIST_NUM_2 },
	{ "kaksi", REPLY_LIST_NUM_2 },
	{ "kasi", REPLY_LIST_NUM_8 },
	{ "kasia", REPLY_LIST_NUM_8 },
	{ "kasii", REPLY_LIST_NUM_8 },
	{ "kasiin", REPLY_LIST_NUM_8 },
	{ "kasiksi", REPLY_LIST_NUM_8 },
	{ "kasilla", REPLY_LIST_NUM_8 },
	{ "kasille", REPLY_LIST_NUM_8 },
	{ "kasilta", REPLY_LIST_NUM_8 },
	{ "kasin", REPLY_LIST_NUM_8 },
	{ "kasina", REPLY_LIST_NUM_8 },
	{ "kasissa", REPLY_LIST_NUM_8 },
	{ "kasista", REPLY_LIST_NUM_8 },
	{ "kello", REPLY_LIST_PLACE },
	{ "kellon", REPLY_LIST_PLACE },
	{ "kerran", REPLY_LIST_UNIT },
	{ "kerrokseen", REPLY_LIST_PLACE },
	{ "kerroksen", REPLY_LIST_PLACE },
	{ "kerroksessa", REPLY_LIST_PLACE },
	{ "kerroksesta", REPLY_LIST_PLACE },
	{ "kerros", REPLY_LIST_PLACE },
	{ "kertaa", REPLY_LIST_UNIT },
	{ "kg", REPLY_LIST_UNIT },
	{ "kiitos", REPLY_LIST_FILLER },
	{ "kiitti", REPLY_LIST_FILLER },
	{ "kk", REPLY_LIST_UNIT },
	{ "kl", REPLY_LIST_PLACE },
	{ "klo", REPLY_LIST_PLACE },
	{ "klockan", REPLY_LIST_PLACE },
	{ "km", REPLY_LIST_UNIT },
	{ "kolme", REPLY_LIST_NUM_3 },
	{ "kolmea", REPLY_LIST_NUM_3 },
	{ "kolmeksi", REPLY_LIST_NUM_3 },
	{ "kolmella", REPLY_LIST_NUM_3 },
	{ "kolmen", REPLY_LIST_NUM_3 },
	{ "kolmena", REPLY_LIST_NUM_3 },
	{ "kolmesta", REPLY_LIST_DENOMINATOR },
	{ "kolmonen", REPLY_LIST_NUM_3 },
	{ "kolmoseen", REPLY_LIST_NUM_3 },
	{ "kolmoseksi", REPLY_LIST_NUM_3 },
	{ "kolmosella", REPLY_LIST_NUM_3 },
	{ "kolmoselle", REPLY_LIST_NUM_3 },
	{ "kolmoselta", REPLY_LIST_NUM_3 },
	{ "kolmosen", REPLY_LIST_NUM_3 },
	{ "kolmosena", REPLY_LIST_NUM_3 },
	{ "kolmosessa", REPLY_LIST_NUM_3 },
	{ "kolmosesta", REPLY_LIST_NUM_3 },
	{ "kolmosta", REPLY_LIST_NUM_3 },
	{ "krt", REPLY_LIST_UNIT },
	{ "kutonen", REPLY_LIST_NUM_6 },
	{ "kutoseen", REPLY_LIST_NUM_6 },
	{ "kutoseksi", REPLY_LIST_NUM_6 },
	{ "kutosella", REPLY_LIST_NUM_6 },
	{ "kutoselle", REPLY_LIST_NUM_6 },
	{ "kutoselta", REPLY_LIST_NUM_6 },
	{ "kutosen", REPLY_LIST_NUM_6 },
	{ "kutosena", REPLY_LIST_NUM_6 },
	{ "kutosessa", REPLY_LIST_NUM_6 },
	{ "kutosesta", REPLY_LIST_NUM_6 },
	{ "kutosta", REPLY_LIST_NUM_6 },
	{ "kuudeksi", REPLY_LIST_NUM_6 },
	{ "kuudella", REPLY_LIST_NUM_6 },
	{ "kuuden", REPLY_LIST_NUM_6 },
	{ "kuudesta", REPLY_LIST_DENOMINATOR },
	{ "kuukauden", REPLY_LIST_UNIT },
	{ "kuukausi", REPLY_LIST_UNIT },
	{ "kuukautta", REPLY_LIST_UNIT },
	{ "kuus", REPLY_LIST_NUM_6 },
	{ "kuusi", REPLY_LIST_NUM_6 },
	{ "kuutena", REPLY_LIST_NUM_6 },
	{ "kuutta", REPLY_LIST_NUM_6 },
	{ "kymmeneksi", REPLY_LIST_NUM_10 },
	{ "kymmenellä", REPLY_LIST_NUM_10 },
	{ "kymmenen", REPLY_LIST_NUM_10 },
	{ "kymmenenä", REPLY_LIST_NUM_10 },
	{ "kymmenestä", REPLY_LIST_MARKER },
	{ "kymmentä", REPLY_LIST_NUM_10 },
	{ "kympiksi", REPLY_LIST_NUM_10 },
	{ "kympille", REPLY_LIST_NUM_10 },
	{ "kympillä", REPLY_LIST_NUM_10 },
	{ "kympiltä", REPLY_LIST_NUM_10 },
	{ "kympin", REPLY_LIST_NUM_10 },
	{ "kympissä", REPLY_LIST_NUM_10 },
	{ "kympistä", REPLY_LIST_NUM_10 },
	{ "kymppi", REPLY_LIST_NUM_10 },
	{ "kymppii", REPLY_LIST_NUM_10 },
	{ "kymppiin", REPLY_LIST_NUM_10 },
	{ "kymppinä", REPLY_LIST_NUM_10 },
	{ "kymppiä", REPLY_LIST_NUM_10 },
	{ "lopeta", REPLY_LIST_KEYWORD },
	{ "lopeta jo kyselyt", REPLY_LIST_OPTOUT_PHRASE },
	{ "lopeta jo nämä kyselyt", REPLY_LIST_OPTOUT_PHRASE },
	{ "lopeta jo nämä viestit", REPLY_LIST_OPTOUT_PHRASE },
	{ "lopeta jo viestit", REPLY_LIST_OPTOUT_PHRASE },
	{ "lopeta kyselyt", REPLY_LIST_OPTOUT_PHRASE },
	{ "lopeta nämä kyselyt", REPLY_LIST_OPTOUT_PHRASE },
	{ "lopeta nämä viestit", REPLY_LIST_OPTOUT_PHRASE },
	{ "lopeta viestit", REPLY_LIST_OPTOUT_PHRASE },
	{ "lopettakaa", REPLY_LIST_OPTOUT_PHRASE },
	{ "mg", REPLY_LIST_UNIT },
	{ "min", REPLY_LIST_UNIT },
	{ "mins", REPLY_LIST_UNIT },
	{ "minut", REPLY_LIST_UNIT },
	{ "minute", REPLY_LIST_UNIT },
	{ "minuter", REPLY_LIST_UNIT },
	{ "minutes", REPLY_LIST_UNIT },
	{ "minuutin", REPLY_LIST_UNIT },
	{ "minuutti", REPLY_LIST_UNIT },
	{ "minuuttia", REPLY_LIST_UNIT },
	{ "ml", REPLY_LIST_UNIT },
	{ "mm", REPLY_LIST_UNIT },
	{ "month", REPLY_LIST_UNIT },
	{ "months", REPLY_LIST_UNIT },
	{ "månad", REPLY_LIST_UNIT },
	{ "månader", REPLY_LIST_UNIT },
	{ "neljä", REPLY_LIST_NUM_4 },
	{ "neljäksi", REPLY_LIST_NUM_4 },
	{ "neljällä", REPLY_LIST_NUM_4 },
	{ "neljän", REPLY_LIST_NUM_4 },
	{ "neljänä", REPLY_LIST_NUM_4 },
	{ "neljästä", REPLY_LIST_DENOMINATOR },
	{ "neljää", REPLY_LIST_NUM_4 },
	{ "nelonen", REPLY_LIST_NUM_4 },
	{ "neloseen", REPLY_LIST_NUM_4 },
	{ "neloseksi", REPLY_LIST_NUM_4 },
	{ "nelosella", REPLY_LIST_NUM_4 },
	{ "neloselle", REPLY_LIST_NUM_4 },
	{ "neloselta", REPLY_LIST_NUM_4 },
	{ "nelosen", REPLY_LIST_NUM_4 },
	{ "nelosena", REPLY_LIST_NUM_4 },
	{ "nelosessa", REPLY_LIST_NUM_4 },
	{ "nelosesta", REPLY_LIST_NUM_4 },
	{ "nelosta", REPLY_LIST_NUM_4 },
	{ "nia", REPLY_LIST_NUM_9 },
	{ "nian", REPLY_LIST_NUM_9 },
	{ "nine", REPLY_LIST_NUM_9 },
	{ "nio", REPLY_LIST_NUM_9 },
	{ "no more messages", REPLY_LIST_OPTOUT_PHRASE },
	{ "no more surveys", REPLY_LIST_OPTOUT_PHRASE },
	{ "no more texts", REPLY_LIST_OPTOUT_PHRASE },
	{ "noll", REPLY_LIST_NUM_0 },
	{ "nolla", REPLY_LIST_NUM_0 },
	{ "nollaa", REPLY_LIST_NUM_0 },
	{ "nollaksi", REPLY_LIST_NUM_0 },
	{ "nollalla", REPLY_LIST_NUM_0 },
	{ "nollan", REPLY_LIST_NUM_0 },
	{ "nollana", REPLY_LIST_NUM_0 },
	{ "numero", REPLY_LIST_CUE },
	{ "numeroksi", REPLY_LIST_CUE },
	{ "och en halv", REPLY_LIST_HALF },
	{ "och halv", REPLY_LIST_HALF },
	{ "one", REPLY_LIST_NUM_1 },
	{ "or", REPLY_LIST_JOINER },
	{ "osasto", REPLY_LIST_PLACE },
	{ "osastoa", REPLY_LIST_PLACE },
	{ "osastolla", REPLY_LIST_PLACE },
	{ "osastolle", REPLY_LIST_PLACE },
	{ "osastolta", REPLY_LIST_PLACE },
	{ "osaston", REPLY_LIST_PLACE },
	{ "out of", REPLY_LIST_OUT_OF },
	{ "ovella", REPLY_LIST_PLACE },
	{ "ovelle", REPLY_LIST_PLACE },
	{ "oven", REPLY_LIST_PLACE },
	{ "ovesta", REPLY_LIST_PLACE },
	{ "ovi", REPLY_LIST_PLACE },
	{ "p", REPLY_LIST_MARKER },
	{ "pisteet", REPLY_LIST_CUE },
	{ "pistettä", REPLY_LIST_MARKER },
	{ "please", REPLY_LIST_FILLER },
	{ "point", REPLY_LIST_MARKER },
	{ "points", REPLY_LIST_MARKER },
	{ "poista numeroni", REPLY_LIST_OPTOUT_PHRASE },
	{ "poistakaa numeroni", REPLY_LIST_OPTOUT_PHRASE },
	{ "poäng", REPLY_LIST_MARKER },
	{ "pt", REPLY_LIST_MARKER },
	{ "pts", REPLY_LIST_MARKER },
	{ "pv", REPLY_LIST_UNIT },
	{ "päivä", REPLY_LIST_UNIT },
	{ "päivän", REPLY_LIST_UNIT },
	{ "päivää", REPLY_LIST_UNIT },
	{ "rating", REPLY_LIST_CUE },
	{ "remove me", REPLY_LIST_OPTOUT_PHRASE },
	{ "room", REPLY_LIST_PLACE },
	{ "rum", REPLY_LIST_PLACE },
	{ "rummet", REPLY_LIST_PLACE },
	{ "sadasta", REPLY_LIST_DENOMINATOR },
	{ "sata", REPLY_LIST_NUM_OVER10 },
	{ "score", REPLY_LIST_CUE },
	{ "seiska", REPLY_LIST_NUM_7 },
	{ "seiskaa", REPLY_LIST_NUM_7 },
	{ "seiskaan", REPLY_LIST_NUM_7 },
	{ "seiskaksi", REPLY_LIST_NUM_7 },
	{ "seiskalla", REPLY_LIST_NUM_7 },
	{ "seiskalle", REPLY_LIST_NUM_7 },
	{ "seiskalta", REPLY_LIST_NUM_7 },
	{ "seiskan", REPLY_LIST_NUM_7 },
	{ "seiskana", REPLY_LIST_NUM_7 },
	{ "seiskassa", REPLY_LIST_NUM_7 },
	{ "seiskasta", REPLY_LIST_NUM_7 },
	{ "seitsemäksi", REPLY_LIST_NUM_7 },
	{ "seitsemällä", REPLY_LIST_NUM_7 },
	{ "seitsemän", REPLY_LIST_NUM_7 },
	{ "seitsemänä", REPLY_LIST_NUM_7 },
	{ "seitsemästä", REPLY_LIST_DENOMINATOR },
	{ "seitsemää", REPLY_LIST_NUM_7 },
	{ "seittemän", REPLY_LIST_NUM_7 },
	{ "sek", REPLY_LIST_UNIT },
	{ "sekuntia", REPLY_LIST_UNIT },
	{ "seven", REPLY_LIST_NUM_7 },
	{ "sex", REPLY_LIST_NUM_6 },
	{ "sexa", REPLY_LIST_NUM_6 },
	{ "six", REPLY_LIST_NUM_6 },
	{ "sju", REPLY_LIST_NUM_7 },
	{ "sjua", REPLY_LIST_NUM_7 },
	{ "skicka inte", REPLY_LIST_OPTOUT_PHRASE },
	{ "sluta", REPLY_LIST_KEYWORD },
	{ "sluta skicka", REPLY_LIST_OPTOUT_PHRASE },
	{ "solid", REPLY_LIST_MODIFIER },
	{ "solida", REPLY_LIST_MODIFIER },
	{ "stark", REPLY_LIST_MODIFIER },
	{ "starkt", REPLY_LIST_MODIFIER },
	{ "stop", REPLY_LIST_KEYWORD },
	{ "stop all", REPLY_LIST_KEYWORD },
	{ "stop messaging", REPLY_LIST_OPTOUT_PHRASE },
	{ "stop sending", REPLY_LIST_OPTOUT_PHRASE },
	{ "stop texting", REPLY_LIST_OPTOUT_PHRASE },
	{ "stopall", REPLY_LIST_KEYWORD },
	{ "stopp", REPLY_LIST_KEYWORD },
	{ "tack", REPLY_LIST_FILLER },
	{ "tai", REPLY_LIST_JOINER },
	{ "ten", REPLY_LIST_NUM_10 },
	{ "thanks", REPLY_LIST_FILLER },
	{ "three", REPLY_LIST_NUM_3 },
	{ "tia", REPLY_LIST_NUM_10 },
	{ "tian", REPLY_LIST_NUM_10 },
	{ "times", REPLY_LIST_UNIT },
	{ "timmar", REPLY_LIST_UNIT },
	{ "timme", REPLY_LIST_UNIT },
	{ "timmes", REPLY_LIST_UNIT },
	{ "tio", REPLY_LIST_NUM_10 },
	{ "tre", REPLY_LIST_NUM_3 },
	{ "trea", REPLY_LIST_NUM_3 },
	{ "tunnin", REPLY_LIST_UNIT },
	{ "tunti", REPLY_LIST_UNIT },
	{ "tuntia", REPLY_LIST_UNIT },
	{ "tuntii", REPLY_LIST_UNIT },
	{ "två", REPLY_LIST_NUM_2 },
	{ "tvåa", REPLY_LIST_NUM_2 },
	{ "two", REPLY_LIST_NUM_2 },
	{ "täyden", REPLY_LIST_MODIFIER },
	{ "täydet", REPLY_LIST_MODIFIER },
	{ "täys", REPLY_LIST_MODIFIER },
	{ "täysi", REPLY_LIST_MODIFIER },
	{ "täyttä", REPLY_LIST_MODIFIER },
	{ "unsubscribe", REPLY_LIST_KEYWORD },
	{ "v", REPLY_LIST_UNIT },
	{ "vahva", REPLY_LIST_MODIFIER },
	{ "vahvaa", REPLY_LIST_MODIFIER },
	{ "vahvan", REPLY_LIST_MODIFIER },
	{ "vai", REPLY_LIST_JOINER },
	{ "vecka", REPLY_LIST_UNIT },
	{ "veckor", REPLY_LIST_UNIT },
	{ "viideksi", REPLY_LIST_NUM_5 },
	{ "viidellä", REPLY_LIST_NUM_5 },
	{ "viiden", REPLY_LIST_NUM_5 },
	{ "viidestä", REPLY_LIST_DENOMINATOR },
	{ "viikko", REPLY_LIST_UNIT },
	{ "viikkoa", REPLY_LIST_UNIT },
	{ "viikon", REPLY_LIST_UNIT },
	{ "viis", REPLY_LIST_NUM_5 },
	{ "viisi", REPLY_LIST_NUM_5 },
	{ "viitenä", REPLY_LIST_NUM_5 },
	{ "viittä", REPLY_LIST_NUM_5 },
	{ "vill inte ha fler", REPLY_LIST_OPTOUT_PHRASE },
	{ "vitonen", REPLY_LIST_NUM_5 },
	{ "vitoseen", REPLY_LIST_NUM_5 },
	{ "vitoseksi", REPLY_LIST_NUM_5 },
	{ "vitosella", REPLY_LIST_NUM_5 },
	{ "vitoselle", REPLY_LIST_NUM_5 },
	{ "vitoselta", REPLY_LIST_NUM_5 },
	{ "vitosen", REPLY_LIST_NUM_5 },
	{ "vitosena", REPLY_LIST_NUM_5 },
	{ "vitosessa", REPLY_LIST_NUM_5 },
	{ "vitosesta", REPLY_LIST_NUM_5 },
	{ "vitosta", REPLY_LIST_NUM_5 },
	{ "vk", REPLY_LIST_UNIT },
	{ "vuoden", REPLY_LIST_UNIT },
	{ "vuosi", REPLY_LIST_UNIT },
	{ "vuotta", REPLY_LIST_UNIT },
	{ "våning", REPLY_LIST_PLACE },
	{ "ward", REPLY_LIST_PLACE },
	{ "week", REPLY_LIST_UNIT },
	{ "weeks", REPLY_LIST_UNIT },
	{ "year", REPLY_LIST_UNIT },
	{ "years", REPLY_LIST_UNIT },
	{ "yhdeksi", REPLY_LIST_NUM_1 },
	{ "yhdeksäksi", REPLY_LIST_NUM_9 },
	{ "yhdeksällä", REPLY_LIST_NUM_9 },
	{ "yhdeksän", REPLY_LIST_NUM_9 },
	{ "yhdeksänä", REPLY_LIST_NUM_9 },
	{ "yhdeksästä", REPLY_LIST_DENOMINATOR },
	{ "yhdeksää", REPLY_LIST_NUM_9 },
	{ "yhdellä", REPLY_LIST_NUM_1 },
	{ "yhden", REPLY_LIST_NUM_1 },
	{ "yhdestä", REPLY_LIST_DENOMINATOR },
	{ "yheksän", REPLY_LIST_NUM_9 },
	{ "yhtenä", REPLY_LIST_NUM_1 },
	{ "yhtä", REPLY_LIST_NUM_1 },
	{ "ykkönen", REPLY_LIST_NUM_1 },
	{ "ykköseen", REPLY_LIST_NUM_1 },
	{ "ykköseksi", REPLY_LIST_NUM_1 },
	{ "ykköselle", REPLY_LIST_NUM_1 },
	{ "ykkösellä", REPLY_LIST_NUM_1 },
	{ "ykköseltä", REPLY_LIST_NUM_1 },
	{ "ykkösen", REPLY_LIST_NUM_1 },
	{ "ykkösenä", REPLY_LIST_NUM_1 },
	{ "ykkösessä", REPLY_LIST_NUM_1 },
	{ "ykkösestä", REPLY_LIST_NUM_1 },
	{ "ykköstä", REPLY_LIST_NUM_1 },
	{ "yks", REPLY_LIST_NUM_1 },
	{ "yksi", REPLY_LIST_NUM_1 },
	{ "yksitoista", REPLY_LIST_NUM_OVER10 },
	{ "ysi", REPLY_LIST_NUM_9 },
	{ "ysii", REPLY_LIST_NUM_9 },
	{ "ysiin", REPLY_LIST_NUM_9 },
	{ "ysiksi", REPLY_LIST_NUM_9 },
	{ "ysille", REPLY_LIST_NUM_9 },
	{ "ysillä", REPLY_LIST_NUM_9 },
	{ "ysiltä", REPLY_LIST_NUM_9 },
	{ "ysin", REPLY_LIST_NUM_9 },
	{ "ysinä", REPLY_LIST_NUM_9 },
	{ "ysissä", REPLY_LIST_NUM_9 },
	{ "ysistä", REPLY_LIST_NUM_9 },
	{ "ysiä", REPLY_LIST_NUM_9 },
	{ "zero", REPLY_LIST_NUM_0 },
	{ "älkää enää lähettäkö", REPLY_LIST_OPTOUT_PHRASE },
	{ "älkää lähettäkö", REPLY_LIST_OPTOUT_PHRASE },
	{ "älä lähetä", REPLY_LIST_OPTOUT_PHRASE },
	{ "år", REPLY_LIST_UNIT },
	{ "åtta", REPLY_LIST_NUM_8 },
	{ "€", REPLY_LIST_UNIT },
};

struct reply_lexicon {
	struct lex_entry *ents;		/* sorted like builtin_lex */
	size_t		  n;
	size_t		  cap;
	char		**owned;	/* texts added at run time */
	size_t		  nowned;
};

enum tok_type {
	T_WORD,
	T_NUM,
	T_SPACE,
	T_PUNCT
};

#define F_USED		0x01	/* consumed by a number expression */
#define F_REMOVE	0x02	/* part of a counted score expression (R3) */
#define F_PHONE		0x04	/* part of a phone number (E1) */
#define F_KWEND		0x08	/* an opt-out keyword phrase ends here */
#define F_LOWER		0x10	/* first letter lower-case before folding */

#define ROLE(l)		(1u << (l))
#define ROLE_NUM	(((1u << (REPLY_LIST_NUM_10 + 1)) - 1) & \
			    ~((1u << REPLY_LIST_NUM_0) - 1))
#define ROLE_NUMANY	(ROLE_NUM | ROLE(REPLY_LIST_NUM_OVER10))
#define BIG_VALUE	1000000000

struct tok {
	uint32_t	roles;		/* ROLE() bits from the lexicon */
	int32_t		value;		/* digits or number word value */
	uint32_t	start;		/* first code point */
	uint32_t	len;		/* code points */
	uint32_t	boff;		/* UTF-8 copy: offset and length */
	uint32_t	blen;
	uint8_t		type;		/* enum tok_type */
	uint8_t		flags;		/* F_* */
	uint8_t		maxrun;		/* longest run of letters, capped */
	uint8_t		kwlen;		/* words of a keyword phrase starting
					   here */
};

struct work {
	const struct lex_entry	*ents;
	size_t			 nents;
	uint32_t		*orig;	/* normalised, case kept */
	uint32_t		*lc;	/* normalised, lower case */
	size_t			 n;
	char			*u8;	/* token texts in UTF-8 */
	size_t			 u8len;
	struct tok		*t;
	int			 nt;
	bool			 optout_phrase;
};

struct expr {
	int	first;		/* first token (articles included) */
	int	num;		/* the number token */
	int	last;		/* last token */
	int	value;
	int	ndig;		/* digits of an integer token, 0 for words */
	bool	word;		/* a number word */
	bool	isint;		/* no non-zero fraction */
	bool	frac;		/* decimal with a non-zero fraction (A1) */
	bool	range_diff;	/* two different values joined (A2) */
	bool	badfrac;	/* fraction, denominator not 10 (A4) */
	bool	framed;
	bool	excluded;	/* E1-E6 */
};

/* ---- lexicon lookup ---- */

static size_t
first_word_len(const char *s)
{
	size_t	 n = 0;

	while (s[n] != '\0' && s[n] != ' ')
		n++;
	return n;
}

static int
word_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t	 m = alen < blen ? alen : blen;
	int	 c = memcmp(a, b, m);

	if (c != 0)
		return c;
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return 0;
}

static int
entry_cmp(const void *va, const void *vb)
{
	const struct lex_entry *a = va, *b = vb;
	int	 c;

	c = word_cmp(a->text, first_word_len(a->text), b->text,
	    first_word_len(b->text));
	if (c != 0)
		return c;
	c = strcmp(a->text, b->text);
	if (c != 0)
		return c;
	return a->list - b->list;
}

/* Index of the first entry whose first word is w, or n. */
static size_t
lex_find(const struct lex_entry *e, size_t n, const char *w, size_t wlen)
{
	size_t	 lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (word_cmp(e[mid].text, first_word_len(e[mid].text), w,
		    wlen) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n && word_cmp(e[lo].text, first_word_len(e[lo].text), w,
	    wlen) == 0)
		return lo;
	return n;
}

/* ---- normalisation (rule N) ---- */

static bool
is_deleted(ucs4_t c)
{
	return (c >= 0x200B && c <= 0x200D) || c == 0x2060 ||
	    c == 0xFEFF || c == 0xFE0F || c == 0xFE0E || c == 0x20E3;
}

/* Code points that NFKC leaves alone (and no combining marks). */
static bool
nfkc_stable(ucs4_t c)
{
	if (c < 0xA0 || c == REPLY_HALF_CP)
		return true;
	if (c >= 0xC0 && c < 0x180)
		return c != 0x132 && c != 0x133 && c != 0x13F &&
		    c != 0x140 && c != 0x149 && c != 0x17F;
	return false;
}

/*
 * Decode, drop zero-width characters and keycap parts, map U+00BD and
 * U+1F51F.  out holds at least len code points.  Returns the count.
 */
static size_t
stage_decode(const uint8_t *s, size_t len, uint32_t *out, bool *stable)
{
	size_t	 i = 0, n = 0;
	ucs4_t	 c;
	int	 k;

	*stable = true;
	while (i < len) {
		if (s[i] < 0x80) {
			out[n++] = s[i++];
			continue;
		}
		k = u8_mbtouc(&c, s + i, len - i);
		i += (size_t)k;
		if (is_deleted(c))
			continue;
		if (c == 0xBD)
			c = REPLY_HALF_CP;
		else if (c == REPLY_HALF_CP)
			c = 0xFFFD;
		else if (c == 0x1F51F) {
			out[n++] = '1';
			c = '0';
		}
		if (!nfkc_stable(c))
			*stable = false;
		out[n++] = c;
	}
	return n;
}

static bool
is_dash(ucs4_t c)
{
	return uc_is_property_dash(c) ||
	    uc_is_general_category(c, UC_CATEGORY_Pd);
}

static void
emit(uint32_t *out, size_t *n, uint32_t c)
{
	if (c == ' ' && (*n == 0 || out[*n - 1] == ' '))
		return;
	out[(*n)++] = c;
}

/*
 * After NFKC: digits to ASCII, dashes, slashes, apostrophes, white space
 * collapsed and trimmed, the half sign.  out holds 3 * n + 1.
 */
static size_t
stage_map(const uint32_t *in, size_t n, uint32_t *out)
{
	size_t	 i, m = 0;
	ucs4_t	 c;

	for (i = 0; i < n; i++) {
		c = in[i];
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7F)
				c = ' ';
			emit(out, &m, c);
			continue;
		}
		if (c == REPLY_HALF_CP) {
			if (m == 0 || out[m - 1] < '0' || out[m - 1] > '9') {
				/* "ysi½" = "ysi 0,5": keep it off the word */
				emit(out, &m, ' ');
				emit(out, &m, '0');
			}
			emit(out, &m, ',');
			emit(out, &m, '5');
			continue;
		}
		if (uc_is_general_category(c, UC_CATEGORY_Nd)) {
			int	 d = uc_decimal_value(c);

			c = d >= 0 && d <= 9 ? (ucs4_t)('0' + d) : '?';
		} else if (c == 0x2044 || c == 0x2215)
			c = '/';
		else if (c == 0x2018 || c == 0x2019 || c == 0x02BC)
			c = '\'';
		else if (is_dash(c))
			c = '-';
		else if (uc_is_property_white_space(c) ||
		    uc_is_general_category(c, UC_CATEGORY_Cc))
			c = ' ';
		emit(out, &m, c);
	}
	if (m > 0 && out[m - 1] == ' ')
		m--;
	return m;
}

/* ---- tokens ---- */

static bool
is_letter(ucs4_t c)
{
	if (c < 0x80)
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
	return uc_is_general_category(c, UC_CATEGORY_L);
}

static bool
is_mark(ucs4_t c)
{
	return c >= 0x300 && uc_is_general_category(c, UC_CATEGORY_M);
}

static bool
is_lower(ucs4_t c)
{
	if (c < 0x80)
		return c >= 'a' && c <= 'z';
	return uc_is_general_category(c, UC_CATEGORY_Ll);
}

static size_t
put_u8(char *dst, uint32_t c)
{
	int	 k = u8_uctomb((uint8_t *)dst, c, 4);

	if (k < 0) {
		dst[0] = '?';
		return 1;
	}
	return (size_t)k;
}

static void
tokenize(struct work *w)
{
	const uint32_t	*lc = w->lc;
	size_t		 i = 0, n = w->n, b = 0, k;
	struct tok	*t;

	w->nt = 0;
	while (i < n) {
		t = &w->t[w->nt++];
		memset(t, 0, sizeof(*t));
		t->start = (uint32_t)i;
		if (lc[i] == ' ') {
			t->type = T_SPACE;
			i++;
		} else if (lc[i] >= '0' && lc[i] <= '9') {
			int64_t	 v = 0;

			t->type = T_NUM;
			while (i < n && lc[i] >= '0' && lc[i] <= '9') {
				if (v < BIG_VALUE)
					v = v * 10 + (lc[i] - '0');
				i++;
			}
			t->value = v < BIG_VALUE ? (int32_t)v : BIG_VALUE;
		} else if (is_letter(lc[i])) {
			unsigned	 run = 0;

			t->type = T_WORD;
			if (is_lower(w->orig[i]))
				t->flags |= F_LOWER;
			while (i < n) {
				if (is_letter(lc[i])) {
					run++;
					if (run > t->maxrun)
						t->maxrun = run > 255 ? 255 :
						    (uint8_t)run;
				} else if (is_mark(lc[i]))
					;
				else if (lc[i] == '\'' && i + 1 < n &&
				    is_letter(lc[i + 1]))
					run = 0;
				else
					break;
				i++;
			}
		} else {
			t->type = T_PUNCT;
			i++;
		}
		t->len = (uint32_t)(i - t->start);
		t->boff = (uint32_t)b;
		if (t->type == T_WORD || t->type == T_PUNCT)
			for (k = t->start; k < i; k++)
				b += put_u8(w->u8 + b, lc[k]);
		t->blen = (uint32_t)(b - t->boff);
	}
	w->u8len = b;
}

/* Does entry text (after its first word) match the words after token i?
 * Returns the index of the last token of the match, or -1. */
static int
phrase_match(const struct work *w, int i, const char *text)
{
	const char	*p = text + first_word_len(text);
	int		 j = i;
	size_t		 wl;

	while (*p == ' ') {
		p++;
		wl = first_word_len(p);
		if (j + 2 >= w->nt || w->t[j + 1].type != T_SPACE ||
		    w->t[j + 2].type != T_WORD)
			return -1;
		j += 2;
		if (word_cmp(p, wl, w->u8 + w->t[j].boff,
		    w->t[j].blen) != 0)
			return -1;
		p += wl;
	}
	return j;
}

static void
tag_words(struct work *w)
{
	int	 i, j, k, nw;
	size_t	 e;

	for (i = 0; i < w->nt; i++) {
		struct tok	*t = &w->t[i];

		if (t->type != T_WORD && t->type != T_PUNCT)
			continue;
		e = lex_find(w->ents, w->nents, w->u8 + t->boff, t->blen);
		for (; e < w->nents && word_cmp(w->ents[e].text,
		    first_word_len(w->ents[e].text), w->u8 + t->boff,
		    t->blen) == 0; e++) {
			const struct lex_entry *le = &w->ents[e];

			j = phrase_match(w, i, le->text);
			if (j < 0)
				continue;
			for (k = i; k <= j; k += 2)
				w->t[k].roles |= ROLE(le->list);
			nw = (j - i) / 2 + 1;
			if (le->list >= REPLY_LIST_NUM_0 &&
			    le->list <= REPLY_LIST_NUM_10 && nw == 1 &&
			    (t->roles & ROLE_NUM) == ROLE(le->list))
				t->value = le->list - REPLY_LIST_NUM_0;
			else if (le->list == REPLY_LIST_NUM_OVER10 &&
			    !(t->roles & ROLE_NUM))
				t->value = 11;
			else if (le->list == REPLY_LIST_KEYWORD) {
				w->t[j].flags |= F_KWEND;
				if (nw > t->kwlen)
					t->kwlen = (uint8_t)nw;
			} else if (le->list == REPLY_LIST_OPTOUT_PHRASE)
				w->optout_phrase = true;
		}
	}
}

/* ---- token predicates ---- */

static bool
is_type(const struct work *w, int i, int type)
{
	return i >= 0 && i < w->nt && w->t[i].type == type;
}

static bool
is_p(const struct work *w, int i, uint32_t ch)
{
	return is_type(w, i, T_PUNCT) && w->lc[w->t[i].start] == ch;
}

static bool
has_role(const struct work *w, int i, uint32_t roles)
{
	return i >= 0 && i < w->nt && (w->t[i].roles & roles) != 0;
}

/* Next / previous token that is not a space (nt / -1 at the ends). */
static int
nx(const struct work *w, int i)
{
	i++;
	if (i < w->nt && w->t[i].type == T_SPACE)
		i++;
	return i;
}

static int
pv(const struct work *w, int i)
{
	i--;
	if (i >= 0 && w->t[i].type == T_SPACE)
		i--;
	return i;
}

static bool
is_numtok(const struct work *w, int i)
{
	if (i < 0 || i >= w->nt || (w->t[i].flags & F_USED))
		return false;
	if (w->t[i].type == T_NUM)
		return !(w->t[i].flags & F_PHONE);
	return w->t[i].type == T_WORD && (w->t[i].roles & ROLE_NUMANY);
}

static bool
is_text(const struct work *w, int i, const char *s)
{
	return w->t[i].blen == strlen(s) &&
	    memcmp(w->u8 + w->t[i].boff, s, w->t[i].blen) == 0;
}

/* ---- E1: phone numbers ---- */

static void
mark_phones(struct work *w)
{
	int	 i = 0, j, lo, hi, g[64], ng, total, k;
	bool	 plus;

	while (i < w->nt) {
		if (w->t[i].type != T_NUM) {
			i++;
			continue;
		}
		plus = i > 0 && is_p(w, i - 1, '+');
		ng = 0;
		total = 0;
		j = i;
		for (;;) {
			if (ng < 64)
				g[ng++] = j;
			total += (int)w->t[j].len;
			if (j + 2 < w->nt && (w->t[j + 1].type == T_SPACE ||
			    is_p(w, j + 1, '-')) && w->t[j + 2].type == T_NUM)
				j += 2;
			else
				break;
		}
		i = j + 1;
		if (total < 7)
			continue;
		g[ng - 1] = j;		/* very long chains: keep the end */
		lo = 0;
		hi = ng - 1;
		/* A short score before or a digit after is no part of it. */
		if (!plus && hi > 0 && w->t[g[0]].len <= 2 &&
		    w->lc[w->t[g[0]].start] != '0' &&
		    w->t[g[0] + 1].type == T_SPACE &&
		    total - (int)w->t[g[0]].len >= 7) {
			total -= (int)w->t[g[0]].len;
			lo = 1;
		}
		if (hi > lo && w->t[g[hi]].len == 1 &&
		    w->t[g[hi] - 1].type == T_SPACE && total - 1 >= 7)
			hi--;
		for (k = g[lo]; k <= g[hi]; k++)
			w->t[k].flags |= F_PHONE;
		if (plus && lo == 0)
			w->t[g[0] - 1].flags |= F_PHONE;
	}
}

/* ---- number expressions ---- */

static bool
digits_nonzero(const struct work *w, int i)
{
	uint32_t	 k;

	for (k = 0; k < w->t[i].len; k++)
		if (w->lc[w->t[i].start + k] != '0')
			return true;
	return false;
}

static void
expr_digits(const struct work *w, int i, struct expr *e)
{
	int	 j = i + 1, k;
	bool	 glued = false, decimal = false;

	e->ndig = (int)w->t[i].len;
	if (is_type(w, i - 1, T_WORD) ||
	    (is_p(w, i - 1, '-') && is_type(w, i - 2, T_WORD)))
		glued = true;
	if (is_p(w, j, '.') && is_type(w, j + 1, T_NUM) &&
	    w->t[i].len <= 2 && w->t[j + 1].len <= 2 && is_p(w, j + 2, '.')) {
		/* E2: d.m. or d.m.yyyy */
		e->last = j + 2;
		if (is_type(w, j + 3, T_NUM) && w->t[j + 3].len == 4)
			e->last = j + 3;
		e->excluded = true;
		return;
	}
	if ((is_p(w, j, ':') || is_p(w, j, '.')) &&
	    is_type(w, j + 1, T_NUM) && w->t[i].len <= 2 &&
	    w->t[j + 1].len == 2) {
		/* E2: hh:mm, hh.mm */
		e->last = j + 1;
		e->excluded = true;
		return;
	}
	if ((is_p(w, j, '.') || is_p(w, j, ',')) &&
	    is_type(w, j + 1, T_NUM)) {
		decimal = true;
		if (digits_nonzero(w, j + 1)) {
			e->frac = true;
			e->isint = false;
		}
		e->last = j + 1;
	}
	k = e->last + 1;
	if (is_type(w, k, T_WORD)) {
		if (is_text(w, k, "p") || is_text(w, k, "pt") ||
		    is_text(w, k, "pts")) {
			e->framed = true;
			e->last = k;
		} else
			glued = true;
	} else if (is_p(w, k, '-') && is_type(w, k + 1, T_WORD))
		glued = true;
	else if (!decimal && is_p(w, k, '.') && is_type(w, k + 1, T_SPACE) &&
	    is_type(w, k + 2, T_WORD) && (w->t[k + 2].flags & F_LOWER)) {
		/* E6: ordinal */
		e->last = k;
		e->excluded = true;
		return;
	} else {
		/* C1: school-grade modifiers 9- 8+ */
		while ((is_p(w, k, '+') || is_p(w, k, '-')) &&
		    !is_type(w, k + 1, T_NUM) && !is_type(w, k + 1, T_WORD)) {
			e->last = k;
			k++;
		}
	}
	if (glued)
		e->excluded = true;
}

/* Value of the number token at m; extends *last over a decimal part. */
static int
second_value(const struct work *w, int m, int *last, bool *isint)
{
	*last = m;
	*isint = true;
	if (w->t[m].type == T_NUM && (is_p(w, m + 1, '.') ||
	    is_p(w, m + 1, ',')) && is_type(w, m + 2, T_NUM)) {
		*last = m + 2;
		if (digits_nonzero(w, m + 2))
			*isint = false;
	}
	return w->t[m].value;
}

static void
expr_tail(const struct work *w, struct expr *e)
{
	int	 k, m, last2, v2;
	bool	 int2;
	bool	 slash;

	/* A1: "ja puoli", "and a half" */
	k = nx(w, e->last);
	if (has_role(w, k, ROLE(REPLY_LIST_HALF))) {
		e->frac = true;
		e->isint = false;
		e->last = k;
		while (is_type(w, e->last + 1, T_SPACE) &&
		    has_role(w, e->last + 2, ROLE(REPLY_LIST_HALF)))
			e->last += 2;
	}
	/* A2 ranges, A4 fractions and the /10 marker */
	k = nx(w, e->last);
	slash = is_p(w, k, '/');
	if (slash || is_p(w, k, '-') ||
	    has_role(w, k, ROLE(REPLY_LIST_JOINER))) {
		m = nx(w, k);
		if (is_numtok(w, m)) {
			v2 = second_value(w, m, &last2, &int2);
			if (slash) {
				if (v2 == 10 && int2)
					e->framed = true;
				else
					e->badfrac = true;
			} else if (v2 != e->value || int2 != e->isint)
				e->range_diff = true;
			e->last = last2;
		}
	}
	/* "out of 10", "av tio" */
	k = nx(w, e->last);
	if (has_role(w, k, ROLE(REPLY_LIST_OUT_OF))) {
		while (is_type(w, k + 1, T_SPACE) &&
		    has_role(w, k + 2, ROLE(REPLY_LIST_OUT_OF)))
			k += 2;
		m = nx(w, k);
		if (is_numtok(w, m)) {
			v2 = second_value(w, m, &last2, &int2);
			if (v2 == 10 && int2)
				e->framed = true;
			else
				e->badfrac = true;
			e->last = last2;
		}
	}
	/* scale markers and elative denominators */
	k = nx(w, e->last);
	if (has_role(w, k, ROLE(REPLY_LIST_MARKER))) {
		e->framed = true;
		e->last = k;
		while (is_type(w, e->last + 1, T_SPACE) &&
		    has_role(w, e->last + 2, ROLE(REPLY_LIST_MARKER)))
			e->last += 2;
	} else if (has_role(w, k, ROLE(REPLY_LIST_DENOMINATOR))) {
		e->badfrac = true;
		e->last = k;
	}
	/* E3: unit after the number, decimal or range */
	k = nx(w, e->last);
	if (has_role(w, k, ROLE(REPLY_LIST_UNIT)))
		e->excluded = true;
}

static void
expr_head(const struct work *w, struct expr *e)
{
	int	 b = pv(w, e->first), bp;

	while (b >= 0 && w->t[b].type == T_WORD &&
	    (w->t[b].roles & ROLE(REPLY_LIST_ARTICLE)) &&
	    !(w->t[b].flags & F_USED)) {
		e->first = b;
		b = pv(w, b);
	}
	/* E4: place or time word just before ("klo 8", "kl. 14") */
	if (has_role(w, b, ROLE(REPLY_LIST_PLACE)) ||
	    (is_p(w, b, '.') && has_role(w, b - 1, ROLE(REPLY_LIST_PLACE)))) {
		e->excluded = true;
		return;
	}
	bp = b;
	if (is_p(w, b, ':') || is_p(w, b, '='))
		bp = pv(w, b);
	if (has_role(w, bp, ROLE(REPLY_LIST_CUE) |
	    ROLE(REPLY_LIST_MODIFIER)))
		e->framed = true;
}

static void
expr_parse(const struct work *w, int i, struct expr *e)
{
	memset(e, 0, sizeof(*e));
	e->first = e->num = e->last = i;
	e->value = w->t[i].value;
	e->isint = true;
	if (w->t[i].type == T_NUM)
		expr_digits(w, i, e);
	else
		e->word = true;
	if (e->excluded)
		return;
	expr_tail(w, e);
	if (e->excluded)
		return;
	expr_head(w, e);
}

/* C2a: nothing but the expression between punctuation/emoji. */
static bool
clause_only(const struct work *w, const struct expr *e)
{
	int	 b = pv(w, e->first), a = nx(w, e->last);

	if (b >= 0 && w->t[b].type != T_PUNCT)
		return false;
	if (a < w->nt && w->t[a].type != T_PUNCT)
		return false;
	return true;
}

/* A3: the expression is the whole message (punctuation aside). */
static bool
whole_message(const struct work *w, const struct expr *e)
{
	int	 i;

	for (i = 0; i < w->nt; i++) {
		if (i >= e->first && i <= e->last)
			continue;
		if (w->t[i].type == T_WORD || w->t[i].type == T_NUM)
			return false;
	}
	return true;
}

static void
mark(struct work *w, const struct expr *e, uint8_t flag)
{
	int	 k;

	for (k = e->first; k <= e->last; k++)
		w->t[k].flags |= flag;
}

/* O1: fillers, punctuation and one score token aside, a keyword. */
static bool
optout_o1(const struct work *w)
{
	int	 i = 0, nscore = 0, nrem = 0, first = -1, last = -1;

	while (i < w->nt) {
		const struct tok *t = &w->t[i];

		if (t->type == T_NUM) {
			while (i + 1 < w->nt && (w->t[i + 1].type == T_NUM ||
			    w->t[i + 1].type == T_PUNCT))
				i++;
			nscore++;
		} else if (t->type == T_WORD) {
			if (t->roles & ROLE(REPLY_LIST_FILLER))
				;
			else if ((t->roles & ROLE_NUMANY) &&
			    !(t->roles & ROLE(REPLY_LIST_KEYWORD)))
				nscore++;
			else {
				if (first < 0)
					first = i;
				last = i;
				nrem++;
			}
		}
		i++;
	}
	return nscore <= 1 && nrem > 0 && w->t[first].kwlen == nrem &&
	    last == first + 2 * (nrem - 1);
}

/* O3: the last token is (the end of) a keyword. */
static bool
optout_o3(const struct work *w)
{
	int	 i;

	for (i = w->nt - 1; i >= 0; i--) {
		if (w->t[i].type == T_SPACE || w->t[i].type == T_PUNCT)
			continue;
		return w->t[i].type == T_WORD &&
		    (w->t[i].flags & F_KWEND) != 0;
	}
	return false;
}

static void
classify(struct work *w, struct reply_result *r)
{
	struct expr	 e;
	int		 i, fval = -1, bval = -1, score = -1;
	bool		 ambiguous = false, fconf = false, bconf = false;
	bool		 optout, disagree = false;

	tag_words(w);
	mark_phones(w);
	for (i = 0; i < w->nt; i++) {
		if (!is_numtok(w, i))
			continue;
		if (w->t[i].type == T_WORD &&
		    (w->t[i].roles & ROLE(REPLY_LIST_ARTICLE)) &&
		    is_numtok(w, nx(w, i)))
			continue;
		expr_parse(w, i, &e);
		if (e.excluded) {
			mark(w, &e, F_USED);
			i = e.last;
			continue;
		}
		if (e.word && !e.framed && !clause_only(w, &e))
			continue;
		mark(w, &e, F_USED);
		i = e.last;
		if (e.frac) {
			if (e.value < 10)
				ambiguous = true;		/* A1 */
		} else if (e.range_diff || e.badfrac)
			ambiguous = true;			/* A2, A4 */
		else if (e.value > 10) {
			if (e.framed || whole_message(w, &e))
				ambiguous = true;		/* A3 */
		} else if (e.ndig >= 3)
			;					/* E7 */
		else {
			mark(w, &e, F_REMOVE);
			if (e.framed) {
				if (fval >= 0 && fval != e.value)
					fconf = true;
				fval = e.value;
			} else {
				if (bval >= 0 && bval != e.value)
					bconf = true;
				bval = e.value;
			}
		}
	}
	/* R1, R2 */
	if (!ambiguous) {
		if (fval >= 0) {
			if (fconf)
				disagree = true;
			else
				score = fval;
		} else if (bval >= 0) {
			if (bconf)
				disagree = true;
			else
				score = bval;
		}
	}
	r->has_words = false;
	r->has_comment = false;
	for (i = 0; i < w->nt; i++) {
		const struct tok *t = &w->t[i];

		if (t->type != T_WORD || t->maxrun < 2)
			continue;
		r->has_words = true;
		if (!(t->flags & F_REMOVE) && !(t->roles &
		    (ROLE(REPLY_LIST_CUE) | ROLE(REPLY_LIST_MODIFIER) |
		    ROLE(REPLY_LIST_MARKER))))
			r->has_comment = true;
	}
	r->score = score;
	optout = w->optout_phrase || optout_o3(w) || optout_o1(w);
	if (optout)
		r->kind = REPLY_KIND_OPTOUT;
	else if (ambiguous || disagree)
		r->kind = REPLY_KIND_INVALID;
	else if (score >= 0)
		r->kind = r->has_comment ? REPLY_KIND_SCORE_COMMENT :
		    REPLY_KIND_SCORE;
	else
		r->kind = r->has_words ? REPLY_KIND_COMMENT :
		    REPLY_KIND_INVALID;
	if (score < 0)
		r->has_comment = r->has_words;
}

/* ---- public ---- */

bool
reply_parse_lex(const struct reply_lexicon *lex, const char *utf8,
    size_t len, struct reply_result *out)
{
	uint32_t	 sa[REPLY_STACK_CPS], sb[2 * REPLY_STACK_CPS];
	uint32_t	 so[3 * REPLY_STACK_CPS + 1];
	uint32_t	 sl[3 * REPLY_STACK_CPS + 1];
	struct tok	 st[2 * REPLY_STACK_CPS];
	char		 su[8 * REPLY_STACK_CPS + 4];
	uint32_t	*a = sa, *nf = NULL, *heap = NULL;
	struct tok	*theap = NULL;
	char		*uheap = NULL;
	struct work	 w;
	struct reply_result r;
	size_t		 n, nn, cap;
	bool		 stable, ok = false;

	if (out == NULL || (utf8 == NULL && len > 0))
		return false;
	memset(&r, 0, sizeof(r));
	r.score = -1;
	if (len > 0 && u8_check((const uint8_t *)utf8, len) != NULL) {
		r.kind = REPLY_KIND_INVALID;
		*out = r;
		return true;
	}
	if (len > REPLY_STACK_CPS) {
		if ((a = malloc(len * sizeof(*a))) == NULL)
			return false;
	}
	n = stage_decode((const uint8_t *)utf8, len, a, &stable);
	if (stable)
		nf = a, nn = n;
	else {
		nn = sizeof(sb) / sizeof(sb[0]);
		nf = u32_normalize(UNINORM_NFKC, a, n, sb, &nn);
		if (nf == NULL)
			goto done;
	}
	memset(&w, 0, sizeof(w));
	if (lex != NULL) {
		w.ents = lex->ents;
		w.nents = lex->n;
	} else {
		w.ents = builtin_lex;
		w.nents = sizeof(builtin_lex) / sizeof(builtin_lex[0]);
	}
	cap = 3 * nn + 1;
	if (cap <= sizeof(so) / sizeof(so[0])) {
		w.orig = so;
		w.lc = sl;
	} else {
		if ((heap = malloc(2 * cap * sizeof(uint32_t))) == NULL)
			goto done;
		w.orig = heap;
		w.lc = heap + cap;
	}
	w.n = stage_map(nf, nn, w.orig);
	if (w.n == 0) {
		r.kind = REPLY_KIND_EMPTY;
	} else {
		size_t	 i;

		for (i = 0; i < w.n; i++)
			w.lc[i] = w.orig[i] < 0x80 ? (w.orig[i] >= 'A' &&
			    w.orig[i] <= 'Z' ? w.orig[i] + 32 : w.orig[i]) :
			    uc_tolower(w.orig[i]);
		if (w.n <= sizeof(st) / sizeof(st[0])) {
			w.t = st;
			w.u8 = su;
		} else {
			theap = malloc(w.n * sizeof(struct tok));
			uheap = malloc(4 * w.n + 4);
			if (theap == NULL || uheap == NULL)
				goto done;
			w.t = theap;
			w.u8 = uheap;
		}
		tokenize(&w);
		classify(&w, &r);
	}
	*out = r;
	ok = true;
done:
	if (nf != NULL && nf != a && nf != sb)
		free(nf);
	if (a != sa)
		free(a);
	free(heap);
	free(theap);
	free(uheap);
	return ok;
}

bool
reply_parse(const char *utf8, size_t len, struct reply_result *out)
{
	return reply_parse_lex(NULL, utf8, len, out);
}

const char *
reply_kind_name(enum reply_kind k)
{
	switch (k) {
	case REPLY_KIND_SCORE:
		return "score";
	case REPLY_KIND_SCORE_COMMENT:
		return "score_comment";
	case REPLY_KIND_COMMENT:
		return "comment";
	case REPLY_KIND_OPTOUT:
		return "optout";
	case REPLY_KIND_INVALID:
		return "invalid";
	case REPLY_KIND_EMPTY:
		return "empty";
	}
	return "invalid";
}

/* ---- lexicon objects ---- */

struct reply_lexicon *
reply_lexicon_new(void)
{
	struct reply_lexicon	*lex;
	size_t			 nb = sizeof(builtin_lex) /
				    sizeof(builtin_lex[0]);

	if ((lex = calloc(1, sizeof(*lex))) == NULL)
		return NULL;
	lex->cap = nb + 64;
	if ((lex->ents = calloc(lex->cap, sizeof(*lex->ents))) == NULL) {
		free(lex);
		return NULL;
	}
	memcpy(lex->ents, builtin_lex, sizeof(builtin_lex));
	lex->n = nb;
	qsort(lex->ents, lex->n, sizeof(*lex->ents), entry_cmp);
	return lex;
}

/*
 * Normalise a lexicon word exactly as replies are (rule N, lower case)
 * into dst, words split by single spaces.  Returns 0 or -1.
 */
static int
fold_word(const char *word, char *dst, size_t dstsize)
{
	uint32_t	 a[REPLY_WORD_MAX], nb[4 * REPLY_WORD_MAX];
	uint32_t	 m[12 * REPLY_WORD_MAX + 1], *nf = nb;
	size_t		 len = strlen(word), n, nn = 4 * REPLY_WORD_MAX, i;
	size_t		 o = 0, k, words = 1;
	bool		 stable;
	char		 u[4];

	n = stage_decode((const uint8_t *)word, len, a, &stable);
	if (!stable && (nf = u32_normalize(UNINORM_NFKC, a, n, nb,
	    &nn)) == NULL)
		return -1;
	if (stable) {
		nf = a;
		nn = n;
	}
	if (3 * nn + 1 > sizeof(m) / sizeof(m[0])) {
		if (nf != a && nf != nb)
			free(nf);
		return -1;
	}
	n = stage_map(nf, nn, m);
	if (nf != a && nf != nb)
		free(nf);
	for (i = 0; i < n; i++) {
		ucs4_t	 c = uc_tolower(m[i]);

		if (c == ' ')
			words++;
		k = put_u8(u, c);
		if (o + k + 1 > dstsize)
			return -1;
		memcpy(dst + o, u, k);
		o += k;
	}
	if (o == 0 || words > REPLY_MAX_WORDS)
		return -1;
	dst[o] = '\0';
	return 0;
}

int
reply_lexicon_add(struct reply_lexicon *lex, enum reply_list which,
    const char *word)
{
	char		 folded[4 * REPLY_WORD_MAX + 1], *copy, **no;
	struct lex_entry *ne;
	size_t		 len;

	if (lex == NULL || word == NULL || (int)which < 0 ||
	    which > REPLY_LIST_NUM_10)
		goto inval;
	len = strlen(word);
	if (len == 0 || len > REPLY_WORD_MAX ||
	    u8_check((const uint8_t *)word, len) != NULL)
		goto inval;
	if (fold_word(word, folded, sizeof(folded)) == -1)
		goto inval;
	if ((copy = strdup(folded)) == NULL)
		return -1;
	if (lex->n == lex->cap) {
		ne = realloc(lex->ents, 2 * lex->cap * sizeof(*ne));
		if (ne == NULL) {
			free(copy);
			return -1;
		}
		lex->ents = ne;
		lex->cap *= 2;
	}
	no = realloc(lex->owned, (lex->nowned + 1) * sizeof(*no));
	if (no == NULL) {
		free(copy);
		return -1;
	}
	lex->owned = no;
	lex->owned[lex->nowned++] = copy;
	lex->ents[lex->n].text = copy;
	lex->ents[lex->n].list = (int)which;
	lex->n++;
	qsort(lex->ents, lex->n, sizeof(*lex->ents), entry_cmp);
	return 0;
inval:
	errno = EINVAL;
	return -1;
}

void
reply_lexicon_free(struct reply_lexicon *lex)
{
	size_t	 i;

	if (lex == NULL)
		return;
	for (i = 0; i < lex->nowned; i++)
		free(lex->owned[i]);
	free(lex->owned);
	free(lex->ents);
	free(lex);
}
