/*
 * at_syntax: pure byte-level tokenizer for modem output (no I/O).
 *
 * Feed it whatever bytes the tty delivered, split anywhere (even one byte
 * at a time); it returns one token at a time:
 *
 *   AT_SYNTAX_LINE     a complete, non-empty line without its terminator
 *   AT_SYNTAX_PDU      a complete line of hex digits that was announced
 *                      with at_syntax_hint(s, AT_HINT_EXPECT_PDU)
 *   AT_SYNTAX_PROMPT   the "> " data prompt (+CMGS/+CMGW); a line holding
 *                      only ">" is taken as a prompt as well, and so is a
 *                      bare '>' under AT_HINT_EXPECT_PROMPT
 *   AT_SYNTAX_DROPPED  a line longer than AT_SYNTAX_LINE_MAX ended; it was
 *                      discarded (counted by at_syntax_overflows())
 *   AT_SYNTAX_UNSURE   every byte was consumed, no token is complete yet
 *
 * Lines end at '\r' or '\n' (so "\r\n", bare "\r" and bare "\n" all work);
 * empty lines are skipped, NUL bytes are dropped, trailing blanks are
 * trimmed.  Memory use is fixed: one AT_SYNTAX_LINE_MAX buffer.
 */
#ifndef SMSGW_AT_SYNTAX_H
#define SMSGW_AT_SYNTAX_H

#include <stddef.h>
#include <stdint.h>

#define AT_SYNTAX_LINE_MAX 4096

enum at_syntax_result {
	AT_SYNTAX_UNSURE = 0,
	AT_SYNTAX_LINE,
	AT_SYNTAX_PDU,
	AT_SYNTAX_PROMPT,
	AT_SYNTAX_DROPPED,
};

enum at_syntax_hint {
	AT_HINT_NONE = 0,
	/*
	 * The next line is a PDU.  It is returned as AT_SYNTAX_PDU when it
	 * is made of hex digits only, else as a plain AT_SYNTAX_LINE (so an
	 * "OK" or "ERROR" where a PDU was expected is not swallowed).  The
	 * hint is used up by the next LINE, PDU or DROPPED token.
	 */
	AT_HINT_EXPECT_PDU,
	/*
	 * A data prompt is due (a +CMGS/+CMGW command was written): a '>'
	 * at the start of a line is returned as AT_SYNTAX_PROMPT at once,
	 * without waiting for the blank that should follow it (one blank
	 * right after is swallowed).  Used up by the next PROMPT token.
	 * The two hints are independent; AT_HINT_NONE clears both.
	 */
	AT_HINT_EXPECT_PROMPT,
};

struct at_syntax;

struct at_syntax *at_syntax_new(void);
void at_syntax_free(struct at_syntax *s); /* NULL is fine */
/* Forget any partial line, pending prompt and hints (not the counter). */
void at_syntax_reset(struct at_syntax *s);
void at_syntax_hint(struct at_syntax *s, enum at_syntax_hint hint);

/*
 * Consume bytes from buf.  On entry *len is the number of bytes available,
 * on return the number consumed.  A result other than AT_SYNTAX_UNSURE
 * means a token completed at buf[*len - 1]: call again with the rest.
 * AT_SYNTAX_UNSURE always consumes everything.
 */
enum at_syntax_result at_syntax_feed(
    struct at_syntax *s, const char *buf, size_t *len);

/*
 * Text of the last LINE or PDU token, NUL-terminated (len may be NULL).
 * Borrowed: valid until the next at_syntax_feed() or at_syntax_reset().
 * Returns "" after other results.
 */
const char *at_syntax_token(const struct at_syntax *s, size_t *len);

/* Number of overlong lines discarded since at_syntax_new(). */
uint64_t at_syntax_overflows(const struct at_syntax *s);

#endif
