/* at_syntax: byte-level tokenizer for modem output. */
#include "smsgw/at_syntax.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "smsgw/util.h"

struct at_syntax {
	size_t len; /* bytes in buf */
	bool token; /* buf holds a returned token */
	bool gt; /* saw '>' at the start of a line */
	bool dropping; /* inside an overlong line */
	bool want_pdu; /* AT_HINT_EXPECT_PDU */
	bool want_prompt; /* AT_HINT_EXPECT_PROMPT */
	bool skip_space; /* swallow the ' ' after an early prompt */
	uint64_t overflows;
	char buf[AT_SYNTAX_LINE_MAX + 1];
};

struct at_syntax *
at_syntax_new(void)
{
	return xcalloc(1, sizeof(struct at_syntax));
}

void
at_syntax_free(struct at_syntax *s)
{
	free(s);
}

void
at_syntax_reset(struct at_syntax *s)
{
	s->len = 0;
	s->token = false;
	s->gt = false;
	s->dropping = false;
	s->want_pdu = false;
	s->want_prompt = false;
	s->skip_space = false;
	s->buf[0] = '\0';
}

void
at_syntax_hint(struct at_syntax *s, enum at_syntax_hint hint)
{
	switch (hint) {
	case AT_HINT_NONE:
		s->want_pdu = false;
		s->want_prompt = false;
		break;
	case AT_HINT_EXPECT_PDU:
		s->want_pdu = true;
		break;
	case AT_HINT_EXPECT_PROMPT:
		s->want_prompt = true;
		break;
	}
}

static bool
at_syntax_is_hex(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = p[i];

		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') ||
		        (c >= 'a' && c <= 'f')))
			return false;
	}
	return n > 0;
}

/* Complete the buffered line; returns UNSURE when it is empty. */
static enum at_syntax_result
at_syntax_end_line(struct at_syntax *s)
{
	enum at_syntax_result r;

	while (s->len > 0 &&
	    (s->buf[s->len - 1] == ' ' || s->buf[s->len - 1] == '\t'))
		s->len--;
	if (s->len == 0)
		return AT_SYNTAX_UNSURE;
	s->buf[s->len] = '\0';
	s->token = true;
	r = AT_SYNTAX_LINE;
	if (s->want_pdu && at_syntax_is_hex(s->buf, s->len))
		r = AT_SYNTAX_PDU;
	s->want_pdu = false;
	return r;
}

enum at_syntax_result
at_syntax_feed(struct at_syntax *s, const char *buf, size_t *len)
{
	enum at_syntax_result r;
	size_t i, n = *len;

	if (s->token) {
		s->token = false;
		s->len = 0;
		s->buf[0] = '\0';
	}
	for (i = 0; i < n; i++) {
		char c = buf[i];

		if (s->skip_space) {
			s->skip_space = false;
			if (c == ' ')
				continue;
		}
		if (s->gt) {
			s->gt = false;
			if (c == ' ' || c == '\r' || c == '\n') {
				s->want_prompt = false;
				*len = i + 1;
				return AT_SYNTAX_PROMPT;
			}
			/* Not a prompt: '>' starts an ordinary line. */
			s->buf[s->len++] = '>';
		}
		if (c == '\r' || c == '\n') {
			if (s->dropping) {
				s->dropping = false;
				s->len = 0;
				s->want_pdu = false;
				*len = i + 1;
				return AT_SYNTAX_DROPPED;
			}
			r = at_syntax_end_line(s);
			if (r != AT_SYNTAX_UNSURE) {
				*len = i + 1;
				return r;
			}
			continue;
		}
		if (c == '\0' || s->dropping)
			continue;
		if (s->len == 0 && c == '>') {
			if (s->want_prompt) {
				/* Expected: do not wait for the blank. */
				s->want_prompt = false;
				s->skip_space = true;
				*len = i + 1;
				return AT_SYNTAX_PROMPT;
			}
			s->gt = true;
			continue;
		}
		if (s->len == AT_SYNTAX_LINE_MAX) {
			s->dropping = true;
			s->overflows++;
			s->len = 0;
			continue;
		}
		s->buf[s->len++] = c;
	}
	*len = n;
	return AT_SYNTAX_UNSURE;
}

const char *
at_syntax_token(const struct at_syntax *s, size_t *len)
{
	if (!s->token) {
		if (len != NULL)
			*len = 0;
		return "";
	}
	if (len != NULL)
		*len = s->len;
	return s->buf;
}

uint64_t
at_syntax_overflows(const struct at_syntax *s)
{
	return s->overflows;
}
