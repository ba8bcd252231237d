/*
 * redact: personal identifiers out of free text (see redact.h).
 */
#include <string.h>

#include "smsgw/redact.h"
#include "smsgw/util.h"

#define HETU_LEN	11

static const char hetu_check[] = "0123456789ABCDEFHJKLMNPRSTUVWXY";

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_alnum(unsigned char c)
{
	return is_digit(c) || is_alpha(c);
}

static unsigned char
to_upper(unsigned char c)
{
	return (c >= 'a' && c <= 'z') ? (unsigned char)(c - 'a' + 'A') : c;
}

static int
num2(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* Century base for a sign, or -1. */
static int
hetu_century(unsigned char c)
{
	c = to_upper(c);
	if (c == '+')
		return 1800;
	if (c == '-' || (c >= 'U' && c <= 'Y'))
		return 1900;
	if (c >= 'A' && c <= 'F')
		return 2000;
	return -1;
}

/* The hetu layout, whatever the check character says. */
static bool
hetu_shape(const char *s)
{
	int i;

	for (i = 0; i < 6; i++)
		if (!is_digit((unsigned char)s[i]))
			return false;
	if (hetu_century((unsigned char)s[6]) < 0)
		return false;
	for (i = 7; i < 10; i++)
		if (!is_digit((unsigned char)s[i]))
			return false;
	return s[10] != '\0' &&
	    strchr(hetu_check, to_upper((unsigned char)s[10])) != NULL;
}

bool
redact_is_hetu(const char *s, size_t len)
{
	static const int mdays[12] = {
		31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	long n;
	int dd, mm, yy, i;

	if (s == NULL || len != HETU_LEN || !hetu_shape(s))
		return false;
	dd = num2(s);
	mm = num2(s + 2);
	yy = hetu_century((unsigned char)s[6]) + num2(s + 4);
	if (mm < 1 || mm > 12 || dd < 1 || dd > mdays[mm - 1])
		return false;
	if (mm == 2 && dd == 29 &&
	    !((yy % 4 == 0 && yy % 100 != 0) || yy % 400 == 0))
		return false;
	n = 0;
	for (i = 0; i < 10; i++)
		if (i != 6)
			n = n * 10 + (s[i] - '0');
	return hetu_check[n % 31] == to_upper((unsigned char)s[10]);
}

/* Local-part and domain bytes of an e-mail address (UTF-8 allowed). */
static bool
is_local_char(unsigned char c)
{
	return is_alnum(c) || c >= 0x80 || strchr("._%+-", c) != NULL;
}

static bool
is_domain_char(unsigned char c)
{
	return is_alnum(c) || c >= 0x80 || c == '.' || c == '-';
}

/*
 * E-mail address around the '@' at s[at], not reaching back before lo.
 * Stores its [start, end) and returns true.
 */
static bool
email_at(const char *s, size_t n, size_t lo, size_t at, size_t *start,
    size_t *end)
{
	size_t l = at, r = at + 1, i, dot = 0;

	while (l > lo && is_local_char((unsigned char)s[l - 1]))
		l--;
	while (l < at && s[l] == '.')
		l++;
	if (l == at)
		return false;
	while (r < n && is_domain_char((unsigned char)s[r]))
		r++;
	while (r > at + 1 && (s[r - 1] == '.' || s[r - 1] == '-'))
		r--;
	if (r == at + 1 || s[at + 1] == '.' || s[at + 1] == '-')
		return false;
	for (i = at + 1; i < r; i++) {
		if (s[i] == '.') {
			if (s[i - 1] == '.')
				return false;
			dot = i;
		}
	}
	if (dot == 0 || r - dot - 1 < 2)
		return false;
	for (i = dot + 1; i < r; i++)
		if (!is_alpha((unsigned char)s[i]))
			return false;
	*start = l;
	*end = r;
	return true;
}

static bool
is_sep(unsigned char c)
{
	return c == ' ' || c == '-' || c == '(' || c == ')';
}

static size_t
digit_run(const char *s, size_t i, size_t lim)
{
	size_t j = i;

	while (j < lim && is_digit((unsigned char)s[j]))
		j++;
	return j - i;
}

/* "1900..2099" "-" "1900..2099" or a real YYYY-MM-DD date. */
static bool
year_range_or_date(const char *s, size_t len)
{
	int y1, y2, mm, dd;

	if (len == 9 && s[4] == '-' && digit_run(s, 0, 4) == 4 &&
	    digit_run(s, 5, 9) == 4) {
		y1 = num2(s) * 100 + num2(s + 2);
		y2 = num2(s + 5) * 100 + num2(s + 7);
		return y1 >= 1900 && y1 <= 2099 && y2 >= 1900 && y2 <= 2099;
	}
	if (len == 10 && s[4] == '-' && s[7] == '-' &&
	    digit_run(s, 0, 4) == 4 && digit_run(s, 5, 7) == 2 &&
	    digit_run(s, 8, 10) == 2) {
		mm = num2(s + 5);
		dd = num2(s + 8);
		return mm >= 1 && mm <= 12 && dd >= 1 && dd <= 31;
	}
	return false;
}

/*
 * Phone number starting at s[i] (a digit or '+'), not reaching lim.
 * Stores the end of its last digit group and returns true.
 */
static bool
phone_at(const char *s, size_t i, size_t lim, size_t *end)
{
	size_t j = i, k, g, digits, groups = 1;
	bool intl = false;

	if (s[j] == '+') {
		intl = true;
		j++;
	}
	g = digit_run(s, j, lim);
	if (g == 0 || (!intl && g < 2))
		return false;
	if (g >= 2 && s[j] == '0' && s[j + 1] == '0')
		intl = true;		/* 00 international prefix */
	digits = g;
	j += g;
	for (;;) {
		k = j;
		while (k < lim && k - j < 3 && is_sep((unsigned char)s[k]))
			k++;
		if (k == j || k >= lim || !is_digit((unsigned char)s[k]))
			break;
		/* a following identity code is not more of the number */
		if (lim - k >= HETU_LEN && hetu_shape(s + k))
			break;
		g = digit_run(s, k, lim);
		/* one digit: "(0)", or an area code after a country code */
		if (g < 2 && !(s[k - 1] == '(' && k + g < lim &&
		    s[k + g] == ')') && !(intl && groups == 1))
			break;
		groups++;
		digits += g;
		j = k + g;
	}
	if (digits < 7 || year_range_or_date(s + i, j - i))
		return false;
	*end = j;
	return true;
}

char *
redact_text(const char *utf8)
{
	size_t n, i, o, cap, estart = 0, eend = 0, lim, end, k;
	bool have_email = false, no_more_email = false, paren;
	const char *s = utf8, *at;
	char *out;

	if (s == NULL)
		return NULL;
	n = strlen(s);
	cap = 2 * n + 16;	/* replacements are at most 7 bytes per 6 */
	out = xmalloc(cap);
	o = 0;
	i = 0;

#define EMIT(str) do {					\
	memcpy(out + o, (str), sizeof(str) - 1);		\
	o += sizeof(str) - 1;				\
} while (0)

	while (i < n) {
		/* next e-mail address at or after i */
		if (!have_email && !no_more_email) {
			at = memchr(s + i, '@', n - i);
			while (at != NULL) {
				if (email_at(s, n, i, (size_t)(at - s),
				    &estart, &eend)) {
					have_email = true;
					break;
				}
				k = (size_t)(at - s) + 1;
				at = memchr(s + k, '@', n - k);
			}
			/* none from i means none from any later i */
			no_more_email = !have_email;
		}
		if (have_email && i == estart) {
			EMIT("[email]");
			i = eend;
			have_email = false;
			continue;
		}
		lim = have_email ? estart : n;

		if ((is_digit((unsigned char)s[i]) || s[i] == '+') &&
		    (i == 0 || !is_digit((unsigned char)s[i - 1]))) {
			if (is_digit((unsigned char)s[i]) &&
			    lim - i >= HETU_LEN && hetu_shape(s + i)) {
				if (redact_is_hetu(s + i, HETU_LEN)) {
					EMIT("[hetu]");
					i += HETU_LEN;
					continue;
				}
				if (is_alpha((unsigned char)s[i + 6]) ||
				    is_alpha((unsigned char)s[i + 10])) {
					memcpy(out + o, s + i, HETU_LEN);
					o += HETU_LEN;
					i += HETU_LEN;
					continue;
				}
			}
			if (phone_at(s, i, lim, &end)) {
				/* "(09) 123 4567": take the opening paren */
				paren = false;
				for (k = i; k < end && s[k] != '('; k++)
					if (s[k] == ')') {
						paren = true;
						break;
					}
				if (paren && o > 0 && i > 0 && s[i - 1] == '(')
					o--;
				EMIT("[phone]");
				i = end;
				continue;
			}
		}
		out[o++] = s[i++];
	}
#undef EMIT
	out[o] = '\0';
	return out;
}
