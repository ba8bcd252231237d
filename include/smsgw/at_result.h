/*
 * at_result: the answer to an AT command and a typed iterator over its
 * lines (pure, no I/O).
 *
 * at_chat hands a struct at_response to each command callback; the
 * iterator walks its intermediate lines field by field:
 *
 *	struct at_result_iter it;
 *	int rssi, ber;
 *
 *	at_result_iter_init(&it, resp);
 *	if (!at_result_iter_next(&it, "+CSQ:") ||
 *	    !at_result_iter_next_number(&it, &rssi) ||
 *	    !at_result_iter_next_number(&it, &ber))
 *		return -1;
 *
 * Fields are separated by ',' with optional blanks; "(...)" lists are
 * entered with open_list and left with close_list.  A failed next_* call
 * leaves the position unchanged.  Strings returned by the iterator point
 * into the iterator itself and stay valid until it moves to another line
 * (next()) or goes out of scope; they never alias the response.
 */
#ifndef SMSGW_AT_RESULT_H
#define SMSGW_AT_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AT_RESULT_LINE_MAX 4096

enum at_status {
	AT_STATUS_OK = 0, /* OK (or CONNECT) */
	AT_STATUS_ERROR, /* ERROR, NO CARRIER, BUSY, ... */
	AT_STATUS_CME_ERROR, /* +CME ERROR: <err> */
	AT_STATUS_CMS_ERROR, /* +CMS ERROR: <err> */
	AT_STATUS_TIMEOUT, /* no final result in time */
	AT_STATUS_CANCELLED, /* at_chat_abort() */
	AT_STATUS_IO_ERROR, /* the port went away */
};

struct at_response {
	enum at_status status;
	/* +CME/+CMS/+EXT error number; -1 if none or not numeric. */
	int error;
	/* The final result line ("OK", "+CMS ERROR: 500"); "" if none. */
	const char *final;
	/*
	 * Intermediate lines that matched the command's prefixes, in order.
	 * A +CMGL:/+CMGR: line is always followed by its PDU line ("" when
	 * the modem sent none).
	 */
	const char *const *lines;
	size_t nlines;
};

/* Static name of a status ("ok", "timeout", ...). */
const char *at_status_str(enum at_status status);

struct at_result_iter {
	/* Private: use the functions below. */
	const char *const *lines;
	size_t nlines;
	size_t next_line;
	const char *one;
	const char *line;
	size_t len;
	size_t pos;
	size_t used;
	char buf[2 * AT_RESULT_LINE_MAX + 16];
};

/* Iterate over resp's intermediate lines (borrowed, not copied). */
void at_result_iter_init(
    struct at_result_iter *it, const struct at_response *resp);
/* Iterate over an array of n lines, or over one line (URC handlers). */
void at_result_iter_init_lines(
    struct at_result_iter *it, const char *const *lines, size_t n);
void at_result_iter_init_line(struct at_result_iter *it, const char *line);

/*
 * Move to the next line starting with prefix (NULL: the next line,
 * whatever it holds) and position after the prefix and any blanks.
 * Lines skipped on the way are not revisited.
 */
bool at_result_iter_next(struct at_result_iter *it, const char *prefix);
/* The whole current line, or NULL before the first next(). */
const char *at_result_iter_raw_line(const struct at_result_iter *it);

/* Decimal integer (optional sign), then the following ','. */
bool at_result_iter_next_number(struct at_result_iter *it, int *out);
/* As next_number, but an empty field yields dflt. */
bool at_result_iter_next_number_default(
    struct at_result_iter *it, int dflt, int *out);
/* Quoted string; an empty field (",,") yields "". */
bool at_result_iter_next_string(struct at_result_iter *it, const char **out);
/* Bare token up to ',' or ')' (fails on a quoted field). */
bool at_result_iter_next_unquoted_string(
    struct at_result_iter *it, const char **out);
/* Hex digits, quoted or not, decoded into bytes (even count required). */
bool at_result_iter_next_hexstring(
    struct at_result_iter *it, const uint8_t **out, size_t *len);
/* Skip one field of any kind (number, string, list, empty). */
bool at_result_iter_skip_next(struct at_result_iter *it);
bool at_result_iter_open_list(struct at_result_iter *it);
bool at_result_iter_close_list(struct at_result_iter *it);

#endif
