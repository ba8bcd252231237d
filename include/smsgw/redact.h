/*
 * redact: remove personal identifiers from free text before it leaves the
 * store (upstream records, export).  Pure: no I/O, no state.
 *
 * What is replaced (contract §5):
 *  - e-mail addresses -> "[email]": local@domain.tld, the local part and
 *    the domain may hold UTF-8 letters, the last label is 2+ ASCII letters;
 *  - Finnish personal identity codes -> "[hetu]": DDMMYY, a century sign
 *    (+ - A B C D E F Y X W V U), three digits and the check character
 *    "0123456789ABCDEFHJKLMNPRSTUVWXY"[DDMMYYNNN mod 31], only when the
 *    check character is right and the date exists (letters in either
 *    case).  A code that only looks like one (wrong check character or
 *    impossible date) and has a letter as century sign or check character
 *    is left untouched; one made of digits and '-' only (e.g.
 *    "040123-4567") cannot be told from a phone number and is treated as
 *    one;
 *  - phone numbers -> "[phone]": 7 or more digits, optionally with a
 *    leading '+', in groups separated by up to three of ' ', '-', '(' and
 *    ')' ("+358 40 123 4567", "040-123 4567", "+358 (0)40 1234567",
 *    "(09) 123 4567", "0041 44 668 18 00").  The first group needs two
 *    digits unless it follows '+', later groups need two digits unless
 *    written "(0)" or an area code right after an international prefix
 *    ("+46 8 123 456 78"), so lone scores next to a number ("9 040 1234567")
 *    and lists of small numbers ("1 2 3 4 5 6 7") are not swallowed.
 *    Year ranges (1900-2099 "-" 1900-2099) and ISO dates (YYYY-MM-DD)
 *    are not phone numbers.  Known false positive: large amounts written
 *    with space grouping ("1 200 000").
 *
 * Everything else, including all non-ASCII bytes, is copied unchanged, so
 * valid UTF-8 stays valid; short numbers such as "9", "8/10", "10:15" or
 * "24.11.2026" are untouched.
 */
#ifndef SMSGW_REDACT_H
#define SMSGW_REDACT_H

#include <stdbool.h>
#include <stddef.h>

/* Redacted copy of utf8 (caller frees); NULL when utf8 is NULL. */
char	*redact_text(const char *utf8);

/*
 * Are the len bytes at s exactly one valid henkilötunnus (len must be 11,
 * check character and date valid; letters accepted in either case)?
 */
bool	 redact_is_hetu(const char *s, size_t len);

#endif
