/*
 * fuzz_reply: libFuzzer target for the reply classifier.
 *
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -Iinclude src/reply.c tests/fuzz/fuzz_reply.c -lunistring -o fuzz_reply
 *   ./fuzz_reply -max_total_time=60 -max_len=4096
 */
#include <stdint.h>
#include <stdlib.h>

#include "smsgw/reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reply_result	 r;

	if (!reply_parse((const char *)data, size, &r))
		abort();
	if (r.score < -1 || r.score > 10)
		abort();
	if ((int)r.kind < REPLY_KIND_SCORE || r.kind > REPLY_KIND_EMPTY)
		abort();
	if (r.kind == REPLY_KIND_SCORE || r.kind == REPLY_KIND_SCORE_COMMENT) {
		if (r.score < 0)
			abort();
	} else if (r.kind != REPLY_KIND_OPTOUT && r.score != -1)
		abort();
	if (r.kind == REPLY_KIND_SCORE_COMMENT && !r.has_words)
		abort();
	return 0;
}
