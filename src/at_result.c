/* at_result: typed iterator over AT response lines. */
#include "smsgw/at_result.h"

#include <limits.h>
#include <string.h>

const char *
at_status_str(enum at_status status)
{
	switch (status) {
	case AT_STATUS_OK:
		return "ok";
	case AT_STATUS_ERROR:
		return "error";
	case AT_STATUS_CME_ERROR:
		return "cme-error";
	case AT_STATUS_CMS_ERROR:
		return "cms-error";
	case AT_STATUS_TIMEOUT:
		return "timeout";
	case AT_STATUS_CANCELLED:
		return "cancelled";
	case AT_STATUS_IO_ERROR:
		return "io-error";
	}
	return "unknown";
}

void
at_result_iter_init_lines(
    struct at_result_iter *it, const char *const *lines, size_t n)
{
	it->lines = lines;
	it->nlines = lines != NULL ? n : 0;
	it->next_line = 0;
	it->one = NULL;
	it->line = NULL;
	it->len = 0;
	it->pos = 0;
	it->used = 0;
}

void
at_result_iter_init(struct at_result_iter *it, const struct at_response *resp)
{
	at_result_iter_init_lines(it, resp != NULL ? resp->lines : NULL,
	    resp != NULL ? resp->nlines : 0);
}

void
at_result_iter_init_line(struct at_result_iter *it, const char *line)
{
	at_result_iter_init_lines(it, NULL, 0);
	if (line != NULL) {
		it->one = line;
		it->lines = &it->one;
		it->nlines = 1;
	}
}

static size_t
at_result_skip_blank(const struct at_result_iter *it, size_t pos)
{
	while (pos < it->len && (it->line[pos] == ' ' || it->line[pos] == '\t'))
		pos++;
	return pos;
}

/* Skip blanks and one field separator. */
static size_t
at_result_after_field(const struct at_result_iter *it, size_t pos)
{
	pos = at_result_skip_blank(it, pos);
	if (pos < it->len && it->line[pos] == ',')
		pos = at_result_skip_blank(it, pos + 1);
	return pos;
}

static bool
at_result_field_end(const struct at_result_iter *it, size_t pos)
{
	return pos >= it->len || it->line[pos] == ',' || it->line[pos] == ')';
}

static char *
at_result_alloc(struct at_result_iter *it, size_t n)
{
	char *p;

	if (n > sizeof(it->buf) - it->used)
		return NULL;
	p = it->buf + it->used;
	it->used += n;
	return p;
}

bool
at_result_iter_next(struct at_result_iter *it, const char *prefix)
{
	size_t plen = prefix != NULL ? strlen(prefix) : 0;

	while (it->next_line < it->nlines) {
		const char *l = it->lines[it->next_line++];

		if (l == NULL)
			continue;
		if (plen > 0 && strncmp(l, prefix, plen) != 0)
			continue;
		it->line = l;
		it->len = strlen(l);
		it->used = 0;
		it->pos = at_result_skip_blank(it, plen);
		return true;
	}
	it->line = NULL;
	it->len = 0;
	it->pos = 0;
	return false;
}

const char *
at_result_iter_raw_line(const struct at_result_iter *it)
{
	return it->line;
}

bool
at_result_iter_next_number(struct at_result_iter *it, int *out)
{
	size_t pos;
	long long v = 0;
	bool neg = false, digits = false;

	if (it->line == NULL)
		return false;
	pos = at_result_skip_blank(it, it->pos);
	if (pos < it->len && (it->line[pos] == '-' || it->line[pos] == '+')) {
		neg = it->line[pos] == '-';
		pos++;
	}
	while (pos < it->len && it->line[pos] >= '0' && it->line[pos] <= '9') {
		v = v * 10 + (it->line[pos] - '0');
		if (v > (long long)INT_MAX + 1)
			return false;
		digits = true;
		pos++;
	}
	if (!digits)
		return false;
	if (neg)
		v = -v;
	if (v > INT_MAX || v < INT_MIN)
		return false;
	pos = at_result_skip_blank(it, pos);
	if (!at_result_field_end(it, pos))
		return false;
	*out = (int)v;
	it->pos = at_result_after_field(it, pos);
	return true;
}

bool
at_result_iter_next_number_default(
    struct at_result_iter *it, int dflt, int *out)
{
	size_t pos;

	if (it->line == NULL)
		return false;
	pos = at_result_skip_blank(it, it->pos);
	if (pos >= it->len || it->line[pos] == ',') {
		*out = dflt;
		it->pos = at_result_after_field(it, pos);
		return true;
	}
	return at_result_iter_next_number(it, out);
}

bool
at_result_iter_next_string(struct at_result_iter *it, const char **out)
{
	size_t pos, end;
	char *p;

	if (it->line == NULL)
		return false;
	pos = at_result_skip_blank(it, it->pos);
	if (pos < it->len && it->line[pos] == ',') {
		if ((p = at_result_alloc(it, 1)) == NULL)
			return false;
		*p = '\0';
		*out = p;
		it->pos = at_result_after_field(it, pos);
		return true;
	}
	if (pos >= it->len || it->line[pos] != '"')
		return false;
	for (end = pos + 1; end < it->len && it->line[end] != '"'; end++)
		;
	if (end >= it->len)
		return false;
	if ((p = at_result_alloc(it, end - pos)) == NULL)
		return false;
	memcpy(p, it->line + pos + 1, end - pos - 1);
	p[end - pos - 1] = '\0';
	*out = p;
	it->pos = at_result_after_field(it, end + 1);
	return true;
}

bool
at_result_iter_next_unquoted_string(struct at_result_iter *it, const char **out)
{
	size_t pos, end, n;
	char *p;

	if (it->line == NULL)
		return false;
	pos = at_result_skip_blank(it, it->pos);
	if (pos >= it->len || it->line[pos] == '"' || it->line[pos] == ')')
		return false;
	for (end = pos; !at_result_field_end(it, end); end++)
		;
	n = end - pos;
	while (n > 0 &&
	    (it->line[pos + n - 1] == ' ' || it->line[pos + n - 1] == '\t'))
		n--;
	if ((p = at_result_alloc(it, n + 1)) == NULL)
		return false;
	memcpy(p, it->line + pos, n);
	p[n] = '\0';
	*out = p;
	it->pos = at_result_after_field(it, end);
	return true;
}

static int
at_result_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

bool
at_result_iter_next_hexstring(
    struct at_result_iter *it, const uint8_t **out, size_t *len)
{
	size_t pos, end, n, i;
	bool quoted = false;
	char *p;

	if (it->line == NULL)
		return false;
	pos = at_result_skip_blank(it, it->pos);
	if (pos < it->len && it->line[pos] == '"') {
		quoted = true;
		pos++;
	}
	for (end = pos; end < it->len && at_result_hexval(it->line[end]) >= 0;
	     end++)
		;
	n = end - pos;
	if (n == 0 || n % 2 != 0)
		return false;
	if (quoted) {
		if (end >= it->len || it->line[end] != '"')
			return false;
		end++;
	}
	end = at_result_skip_blank(it, end);
	if (!at_result_field_end(it, end))
		return false;
	if ((p = at_result_alloc(it, n / 2 + 1)) == NULL)
		return false;
	for (i = 0; i < n / 2; i++)
		p[i] = (char)(at_result_hexval(it->line[pos + 2 * i]) << 4 |
		    at_result_hexval(it->line[pos + 2 * i + 1]));
	p[n / 2] = '\0';
	*out = (const uint8_t *)p;
	*len = n / 2;
	it->pos = at_result_after_field(it, end);
	return true;
}

bool
at_result_iter_skip_next(struct at_result_iter *it)
{
	size_t pos;
	int depth = 0;
	bool inq = false;

	if (it->line == NULL)
		return false;
	pos = at_result_skip_blank(it, it->pos);
	if (pos >= it->len || it->line[pos] == ')')
		return false;
	for (; pos < it->len; pos++) {
		char c = it->line[pos];

		if (inq) {
			if (c == '"')
				inq = false;
			continue;
		}
		if (c == '"')
			inq = true;
		else if (c == '(')
			depth++;
		else if (c == ')') {
			if (depth == 0)
				break;
			depth--;
		} else if (c == ',' && depth == 0)
			break;
	}
	if (inq || depth != 0)
		return false;
	it->pos = at_result_after_field(it, pos);
	return true;
}

bool
at_result_iter_open_list(struct at_result_iter *it)
{
	size_t pos;

	if (it->line == NULL)
		return false;
	pos = at_result_skip_blank(it, it->pos);
	if (pos >= it->len || it->line[pos] != '(')
		return false;
	it->pos = at_result_skip_blank(it, pos + 1);
	return true;
}

bool
at_result_iter_close_list(struct at_result_iter *it)
{
	size_t pos;

	if (it->line == NULL)
		return false;
	pos = at_result_skip_blank(it, it->pos);
	if (pos >= it->len || it->line[pos] != ')')
		return false;
	it->pos = at_result_after_field(it, pos + 1);
	return true;
}
