/*
 * fuzz_conf: libFuzzer target for the configuration loader.  Each input
 * is written to a temporary file and loaded with conf_load(check_system =
 * false); everything returned is freed, so LeakSanitizer catches leaks on
 * the error paths too.  conf_control_socket() reads the same file.
 *
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -Iinclude src/conf.c src/sched.c src/util.c src/log.c \
 *       tests/fuzz/fuzz_conf.c $(pkg-config --cflags --libs libconfig) \
 *       -o fuzz_conf
 *   ./fuzz_conf -max_total_time=60 -max_len=4096 -dict=... etc/smsgwd.conf
 *
 * A good seed corpus is etc/smsgwd.conf itself.
 *
 * libconfig 1.5 (Debian 12) leaks the text of a string token when a
 * syntax error follows it (e.g. the two-byte file `""`), inside
 * libconfig_yylex/strbuf_append; that is not ours and is suppressed
 * below so that leaks in conf.c still stop the fuzzer.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smsgw/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char	 fuzz_path[64];

const char *__lsan_default_suppressions(void);

const char *
__lsan_default_suppressions(void)
{
	return "leak:libconfig_yylex\nleak:strbuf_append\n";
}

static void
fuzz_cleanup(void)
{
	if (fuzz_path[0] != '\0')
		unlink(fuzz_path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *c;
	char **errs = NULL, *sock;
	FILE *f;
	size_t i;

	if (fuzz_path[0] == '\0') {
		int fd;

		snprintf(fuzz_path, sizeof(fuzz_path),
		    "/tmp/fuzz_conf.XXXXXX");
		fd = mkstemp(fuzz_path);
		if (fd == -1)
			abort();
		close(fd);
		atexit(fuzz_cleanup);
	}
	f = fopen(fuzz_path, "w");
	if (f == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	if (fclose(f) != 0)
		abort();

	c = conf_load(fuzz_path, false, &errs);
	if (c != NULL) {
		if (errs != NULL)
			abort();
		/* Validated values stay inside their documented ranges. */
		if (c->sampling.default_rate < 0 ||
		    c->sampling.default_rate > 1)
			abort();
		for (i = 0; i < c->sampling.nunits; i++)
			if (c->sampling.units[i].rate < 0 ||
			    c->sampling.units[i].rate > 1)
				abort();
		if (c->schedule.window_start < 0 ||
		    c->schedule.window_end > 24 * 60 ||
		    c->schedule.window_start > c->schedule.window_end)
			abort();
		for (i = 0; i < c->nmodems; i++)
			if (conf_modem_find(c, c->modems[i].name) == NULL)
				abort();
		conf_free(c);
	} else {
		if (errs == NULL || errs[0] == NULL)
			abort();
		for (i = 0; errs[i] != NULL; i++)
			if (strncmp(errs[i], fuzz_path, strlen(fuzz_path)) != 0)
				abort();
		conf_errors_free(errs);
	}
	sock = conf_control_socket(fuzz_path);
	free(sock);
	return 0;
}
