/*
 * fuzz_spool: libFuzzer target for the spool's line and file validation
 * (spool_parse_line, spool_batch_parse), which take whatever bytes the
 * appointment system wrote.
 *
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -Iinclude src/spool.c src/sms_codec.c src/ev.c src/log.c src/util.c \
 *       tests/fuzz/fuzz_spool.c $(pkg-config --cflags --libs json-c gammu) \
 *       -o fuzz_spool
 *   ./fuzz_spool -max_total_time=60 -max_len=8192
 *
 * Checks the documented invariants: a good line has a valid visit_id,
 * unit, lang, age and an E.164 +358 phone; a failed line leaves *out
 * untouched and gives a reason; a batch's line numbers are 1-based and
 * increasing, and a rejected batch holds no visits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smsgw/spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_check_visit(const struct spool_visit *v)
{
	size_t i, n;

	n = strnlen(v->visit_id, sizeof(v->visit_id));
	if (n == 0 || n > SPOOL_ID_MAX)
		abort();
	for (i = 0; i < n; i++)
		if (v->visit_id[i] < 0x20 || v->visit_id[i] > 0x7e)
			abort();
	if (v->kind == SPOOL_KIND_CANCEL)
		return;
	if (v->kind != SPOOL_KIND_VISIT)
		abort();
	n = strnlen(v->unit, sizeof(v->unit));
	if (n == 0 || n > SPOOL_UNIT_MAX)
		abort();
	n = strnlen(v->phone, sizeof(v->phone));
	if (n > SPOOL_PHONE_MAX || strncmp(v->phone, "+358", 4) != 0)
		abort();
	for (i = 1; i < n; i++)
		if (v->phone[i] < '0' || v->phone[i] > '9')
			abort();
	if (strcmp(v->lang, "fi") != 0 && strcmp(v->lang, "sv") != 0 &&
	    strcmp(v->lang, "en") != 0)
		abort();
	if (v->age < -1 || v->age > 150)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spool_visit v, before;
	struct spool_batch b;
	char err[128];
	size_t i;
	unsigned last = 0;

	memset(&v, 0xa5, sizeof(v));
	before = v;
	err[0] = 'x';
	if (spool_parse_line((const char *)data, size, &v, err, sizeof(err))) {
		if (v.line != 0)
			abort();
		fuzz_check_visit(&v);
	} else {
		if (memcmp(&v, &before, sizeof(v)) != 0)
			abort();
		if (memchr(err, '\0', sizeof(err)) == NULL)
			abort();
	}
	/* A NULL err must be accepted too. */
	(void)spool_parse_line((const char *)data, size, &v, NULL, 0);

	spool_batch_parse((const char *)data, size, &b);
	if (memchr(b.reject, '\0', sizeof(b.reject)) == NULL)
		abort();
	if (b.reject[0] != '\0' && b.nvisits != 0)
		abort();
	if (b.ncancels > b.nvisits)
		abort();
	for (i = 0; i < b.nvisits; i++) {
		if (b.visits[i].line == 0 || b.visits[i].line <= last)
			abort();
		last = b.visits[i].line;
		fuzz_check_visit(&b.visits[i]);
	}
	for (i = 0; i < b.nbad; i++)
		if (b.bad[i].reason == NULL)
			abort();
	spool_batch_free(&b);
	return 0;
}
