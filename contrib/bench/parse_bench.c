/*
 * parse_bench: time reply_parse() over 1 000 000 generated replies.
 *
 *   gcc -std=c11 -D_GNU_SOURCE -O2 -Iinclude src/reply.c \
 *       contrib/bench/parse_bench.c -lunistring -o parse_bench
 *   ./parse_bench [count]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smsgw/reply.h"

#define SLOT	160

/* %d is replaced by a digit or a number 0..10 */
static const char *templates[] = {
	"%d", "%d", "%d", "%d!", "%d kiitos", "Kiitos %d", "%d/10",
	"Annan %d", "%d. Kiitos hyvästä hoidosta!", "Hyvä palvelu %d",
	"%d 👍", "👍%d", "Odotin 2 tuntia, muuten hyvä %d", "Kymppi",
	"ysi", "Kaikki sujui hyvin, kymppi!", "Täysi kymppi", "kasi",
	"Lääkäri %d, vastaanotto 6", "%d tai 9", "8,5", "STOP",
	"Lopeta", "stop %d", "Palvelu %d, stop", "Ei kiitos",
	"8 mutta älkää lähettäkö enää", "Jag ger %d", "Betyg %d av 10",
	"Tio!", "%d poäng", "Tack, %d", "I'd give it a %d",
	"%d out of 10, nurse was lovely", "Great, %d", "Zero. Nobody called.",
	"Hoitaja oli ykkönen!", "%d-", "%d+", "klo 14.30 aika, %d",
	"Soita 040 123 4567", "%d pistettä", "Arvosana: %d",
	"Kävin 3. kertaa, %d", "９", "%d️⃣", "Ihan ok", "?",
	"Pitkä jono mutta ystävällinen henkilökunta, %d t. Maija",
	"STOP the endless waiting! %d",
};

int
main(int argc, char *argv[])
{
	size_t			 n = argc > 1 ? strtoul(argv[1], NULL, 10) :
				    1000000, i, nt;
	char			*buf;
	struct reply_result	 r;
	struct timespec		 t0, t1;
	unsigned long		 kinds[6] = { 0 };
	double			 s;
	unsigned		 seed = 12345;

	nt = sizeof(templates) / sizeof(templates[0]);
	if (n == 0 || (buf = malloc(n * SLOT)) == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		const char	*t = templates[i % nt];
		char		 num[8];
		char		*d = buf + i * SLOT;
		const char	*p;
		size_t		 o = 0;

		seed = seed * 1103515245u + 12345u;
		snprintf(num, sizeof(num), "%u", (seed >> 16) % 11);
		for (p = t; *p != '\0' && o < SLOT - 8; p++) {
			if (p[0] == '%' && p[1] == 'd') {
				memcpy(d + o, num, strlen(num));
				o += strlen(num);
				p++;
			} else
				d[o++] = *p;
		}
		d[o] = '\0';
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		const char	*d = buf + i * SLOT;

		if (!reply_parse(d, strlen(d), &r))
			return 1;
		kinds[r.kind]++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%zu replies in %.3f s: %.0f replies/s\n", n, s, (double)n / s);
	for (i = 0; i < 6; i++)
		printf("  %-14s %lu\n", reply_kind_name((enum reply_kind)i),
		    kinds[i]);
	free(buf);
	return 0;
}
