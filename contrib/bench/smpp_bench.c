/*
 * smpp_bench: submit_sm throughput of the smpp module against an SMSC.
 *
 *   python3 tests/smsc/smsc.py --port 0 --dir /tmp/b &
 *   gcc -std=c11 -D_GNU_SOURCE -O2 -Iinclude contrib/bench/smpp_bench.c \
 *       src/smpp.c src/smpp_pdu.c src/ev.c src/log.c src/util.c \
 *       -o /tmp/smpp_bench
 *   /tmp/smpp_bench PORT [COUNT [WINDOW]]
 *
 * Prints accepted submit_sm per second (from bind to the last response).
 */
#include <stdio.h>
#include <stdlib.h>

#include "smsgw/ev.h"
#include "smsgw/smpp.h"
#include "smsgw/util.h"

static int done, failed;

static void
on_submitted(uint64_t key, unsigned part, unsigned nparts, const char *id,
    void *arg)
{
	(void)key; (void)id; (void)arg;
	if (part == nparts)
		done++;
}

static void
on_failed(uint64_t key, uint32_t status, const char *reason, void *arg)
{
	(void)key; (void)status; (void)reason; (void)arg;
	failed++;
}

int
main(int argc, char **argv)
{
	struct smpp_events evs = { 0 };
	struct smpp_config c = { 0 };
	struct smpp_status st;
	struct ev *ev = ev_new();
	struct smpp *s;
	uint64_t t0, t1;
	int count, i;

	if (argc < 2) {
		fprintf(stderr, "usage: smpp_bench PORT [COUNT [WINDOW]]\n");
		return 2;
	}
	count = argc > 2 ? atoi(argv[2]) : 20000;
	c.host = "127.0.0.1";
	c.port = atoi(argv[1]);
	c.source_addr = "HYVAKS";
	c.window = argc > 3 ? atoi(argv[3]) : 10;
	c.no_receipts = true;
	evs.on_submitted = on_submitted;
	evs.on_failed = on_failed;
	if ((s = smpp_new(ev, &c, &evs, NULL)) == NULL)
		return 1;
	do {
		ev_run_once(ev, 50);
		smpp_get_status(s, &st);
	} while (st.state != SMPP_BOUND);
	for (i = 1; i <= count; i++)
		smpp_submit(s, (uint64_t)i, "+358401234567",
		    "Kiitos käynnistä! Vastaa: https://example.fi/s/abc123");
	t0 = util_mono_ms();
	while (done + failed < count)
		ev_run_once(ev, 50);
	t1 = util_mono_ms();
	printf("%d submit_sm, window %d: %llu ms, %.0f/s (%d failed)\n",
	    count, c.window, (unsigned long long)(t1 - t0),
	    count * 1000.0 / (double)(t1 - t0 > 0 ? t1 - t0 : 1), failed);
	smpp_free(s);
	ev_free(ev);
	return 0;
}
