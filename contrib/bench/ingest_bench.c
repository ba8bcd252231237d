/*
 * ingest_bench: how long the spool's own part of taking visits takes.
 *
 * Builds a file of N visit lines (default 100000; about 1 in 50 a cancel,
 * 1 in 100 a bad line) and measures
 *   1. spool_batch_parse() on the file in memory (UTF-8 check, split,
 *      JSON parse, validation, phone normalisation), and
 *   2. the whole file flow: spool_new() in a temporary spool_dir, the
 *      file renamed into new/, read, parsed, a sink that only counts,
 *      .err written and the file moved to done/.
 * The store's commit is not included; add it by passing a real sink.
 *
 * Build (from the top of the tree):
 *   gcc -std=c11 -D_GNU_SOURCE -O2 -Iinclude contrib/bench/ingest_bench.c \
 *       src/spool.c src/ev.c src/log.c src/util.c src/sms_codec.c \
 *       $(pkg-config --cflags --libs json-c gammu) -o /tmp/ingest_bench
 * Run: /tmp/ingest_bench [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "smsgw/ev.h"
#include "smsgw/log.h"
#include "smsgw/spool.h"
#include "smsgw/util.h"

static size_t	got_visits, got_bad;
static int	sink_calls;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
count_sink(void *arg, const char *name, const struct spool_visit *v,
    size_t n, size_t nbad)
{
	(void)arg;
	(void)name;
	(void)v;
	got_visits += n;
	got_bad += nbad;
	sink_calls++;
	return 0;
}

static char *
make_file(size_t n, size_t *lenp)
{
	static const char *const langs[] = { "fi", "sv", "en", "de" };
	size_t cap = n * 200 + 1, len = 0, i;
	char *buf = xmalloc(cap);
	int w;

	for (i = 0; i < n; i++) {
		if (i % 100 == 99)
			w = snprintf(buf + len, cap - len,
			    "{\"visit_id\":\"V-%zu\",\"unit\":\"BAD UNIT\"}\n",
			    i);
		else if (i % 50 == 49)
			w = snprintf(buf + len, cap - len,
			    "{\"visit_id\":\"V-%zu\",\"cancel\":true}\n",
			    i - 10);
		else
			w = snprintf(buf + len, cap - len,
			    "{\"visit_id\":\"V-2026-%07zu\",\"unit\":"
			    "\"UNIT-%zu\",\"phone\":\"%s%08zu\",\"ended_at\":"
			    "\"2026-11-%02zuT%02zu:%02zu:00+02:00\","
			    "\"lang\":\"%s\",\"age\":%zu,\"flags\":[%s]}\n",
			    i, i % 40, i % 2 ? "040" : "+35850", i,
			    1 + i % 28, i % 24, i % 60, langs[i % 4],
			    i % 90, i % 17 == 0 ? "\"turvakielto\"" : "");
		len += (size_t)w;
	}
	*lenp = len;
	return buf;
}

int
main(int argc, char *argv[])
{
	struct spool_batch b;
	struct spool *sp;
	struct ev *ev;
	char dir[] = "/tmp/ingest_bench.XXXXXX", *tmp, *nw, *done, *rej;
	size_t n = 100000, len;
	double t0, t1;
	char *buf;
	FILE *fp;

	if (argc > 1)
		n = strtoul(argv[1], NULL, 10);
	buf = make_file(n, &len);
	printf("%zu lines, %.1f MiB\n", n, (double)len / (1024 * 1024));

	t0 = now_s();
	spool_batch_parse(buf, len, &b);
	t1 = now_s();
	printf("spool_batch_parse: %.3f s (%zu good incl. %zu cancels, "
	    "%zu bad)\n", t1 - t0, b.nvisits, b.ncancels, b.nbad);
	spool_batch_free(&b);

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	ev = ev_new();
	sp = spool_new(ev, dir, count_sink, NULL);
	if (sp == NULL) {
		perror("spool_new");
		return 1;
	}
	ev_run_once(ev, 0);
	tmp = xasprintf("%s/tmp/bench.jsonl", dir);
	nw = xasprintf("%s/new/bench.jsonl", dir);
	done = xasprintf("%s/done/bench.jsonl", dir);
	rej = xasprintf("%s/rejected/bench.jsonl", dir);
	if ((fp = fopen(tmp, "w")) == NULL ||
	    fwrite(buf, 1, len, fp) != len || fclose(fp) != 0) {
		perror(tmp);
		return 1;
	}
	t0 = now_s();
	if (rename(tmp, nw) == -1) {
		perror("rename");
		return 1;
	}
	while (access(done, F_OK) == -1 && access(rej, F_OK) == -1 &&
	    now_s() - t0 < 30)
		ev_run_once(ev, 100);
	t1 = now_s();
	printf("file flow (rename to done/, no store): %.3f s, %zu good, "
	    "%zu bad, moved to %s\n", t1 - t0, got_visits, got_bad,
	    access(done, F_OK) == 0 ? "done/" :
	    access(rej, F_OK) == 0 ? "rejected/ (too big?)" : "nowhere");

	spool_free(sp);
	ev_free(ev);
	free(tmp);
	free(nw);
	free(done);
	free(rej);
	free(buf);
	tmp = xasprintf("rm -rf '%s'", dir);
	if (system(tmp) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(tmp);
	return 0;
}
