/*
 * atemu - GSM modem emulator on ptys for smsgwd tests, demos and
 * benchmarks.  One process, one poll loop, any number of modems.
 * See tests/emu/README.md for the command line and the control protocol.
 *
 * Independent of the daemon's code on purpose (own PDU codec in emu_pdu.c).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "emu_pdu.h"

#define ATEMU_VERSION	"1.0"
#define MODEMS_MAX	64
#define LINE_MAX_AT	4096	/* command line cap, as gatchat's */
#define PDU_IN_MAX	(EMU_PDU_HEX_MAX - 1)
#define INBUF_MAX	8192
#define OUTQ_MAX	(256 * 1024)
#define URCQ_MAX	(64 * 1024)
#define CTL_CLIENTS	16
#define CTL_LINE_MAX	16384
#define STORAGE_MAX	255
#define PARTS_MAX	32
#define TICK_MS		10
#define BOOT_MS		200
#define PUK_CODE	"12345678"
#define REPORTQ_MAX	64

enum sim_state { SIM_READY, SIM_PIN, SIM_PUK };
enum in_mode { IN_CMD, IN_PDU };
enum pdu_for { PDU_FOR_CMGS, PDU_FOR_CMGW };
enum res { RES_OK, RES_ERR, RES_PENDING };

struct buf {
	char	*d;
	size_t	 len, cap, max;
	size_t	 dropped;
};

struct slot {
	bool	 used;
	int	 stat;		/* 0 rec unread .. 3 sto sent */
	bool	 report;	/* a stored status report */
	char	 pdu[EMU_PDU_HEX_MAX];
	char	 addr[EMU_PDU_ADDR_MAX];
	char	*text;		/* UTF-8, owned */
};

struct pending_report {
	int64_t	 due;
	int	 mr;
	int	 st;
};

struct modem {
	int		 num;
	char		 name[16];
	char		 link[PATH_MAX];
	char		 pts[128];
	int		 mfd, sfd;	/* -1 when unplugged */
	bool		 plugged;

	/* pacing credits in milli-bytes; unused when baud is 0 */
	int64_t		 in_credit, out_credit;

	struct buf	 inq;		/* host bytes not yet processed */
	struct buf	 outq;		/* bytes to the host */
	struct buf	 urcq;		/* URCs held while a command runs */

	enum in_mode	 mode;
	char		 line[LINE_MAX_AT];
	size_t		 linelen;
	bool		 line_over;
	char		 pdu[PDU_IN_MAX + 1];
	size_t		 pdulen;
	bool		 pdu_over;
	enum pdu_for	 pdu_for;
	int		 pdu_len_arg;
	int		 cmgw_stat;

	/* settings */
	bool		 echo;
	int		 cmee, creg_n, cfun;
	int		 cnmi[5];
	char		 cscs[32];

	/* SIM and network */
	enum sim_state	 sim;
	int		 pin_tries;
	int64_t		 reg_at;	/* registered from this time */
	int		 last_reg;	/* for +CREG URCs */

	/* storage */
	struct slot	*slots;

	/* send in progress (network delay) */
	bool		 busy;
	int64_t		 send_due;
	char		 send_pdu[EMU_PDU_HEX_MAX];
	int		 send_slot;	/* -1 for CMGS */
	int		 mr_next;
	char		 sent_to[256][EMU_PDU_ADDR_MAX];

	int		 deliver_ref;

	/* faults */
	int64_t		 silent_until;
	int		 cms_code, cms_count;
	bool		 noise, auto_report;
	int64_t		 noise_next;
	struct pending_report reports[REPORTQ_MAX];
	int		 nreports;

	/* stats */
	unsigned long	 n_sent, n_cmds, n_recv, n_reports;
};

struct ctl_client {
	int	 fd;
	char	 buf[CTL_LINE_MAX];
	size_t	 len;
	bool	 over;
};

static struct {
	char		 dir[PATH_MAX - 128];
	int		 nmodems;
	const char	*pin;
	int		 reg_delay_ms;
	long		 baud;
	bool		 no_storage_send;
	bool		 no_chain;	/* ERROR for a line chaining commands */
	int		 send_delay_ms;
	int		 storage;
	FILE		*log;
	FILE		*sent;
	int		 ctl_fd;
	char		 ctl_path[PATH_MAX];
	char		 pid_path[PATH_MAX];
	struct ctl_client clients[CTL_CLIENTS];
	struct modem	 modems[MODEMS_MAX];
	bool		 quit;
	int64_t		 last_credit;
} g;

static volatile sig_atomic_t got_signal;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
die(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fprintf(stderr, "atemu: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void *
xmalloc_emu(size_t n)
{
	void	*p = calloc(1, n ? n : 1);

	if (p == NULL)
		die("out of memory");
	return p;
}

static char *
xstrdup_emu(const char *s)
{
	char	*p = strdup(s);

	if (p == NULL)
		die("out of memory");
	return p;
}

/* ---- byte buffers ---- */

static void
buf_init(struct buf *b, size_t max)
{
	b->d = NULL;
	b->len = b->cap = 0;
	b->max = max;
	b->dropped = 0;
}

static void
buf_free(struct buf *b)
{
	free(b->d);
	buf_init(b, b->max);
}

/* Append; bytes beyond the cap are dropped and counted. */
static void
buf_add(struct buf *b, const void *p, size_t n)
{
	size_t	ncap;

	if (n > b->max - b->len) {
		b->dropped += n - (b->max - b->len);
		n = b->max - b->len;
	}
	if (n == 0)
		return;
	if (b->len + n > b->cap) {
		ncap = b->cap ? b->cap : 256;
		while (ncap < b->len + n)
			ncap *= 2;
		if ((b->d = realloc(b->d, ncap)) == NULL)
			die("out of memory");
		b->cap = ncap;
	}
	memcpy(b->d + b->len, p, n);
	b->len += n;
}

static void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->d, b->d + n, b->len - n);
	b->len -= n;
}

/* ---- logging (AT trace, only with --log) ---- */

static void
log_bytes(const struct modem *m, const char *dir, const char *p, size_t n)
{
	size_t	i;

	if (g.log == NULL || n == 0)
		return;
	fprintf(g.log, "%lld %s %s ", (long long)wall_ms(), m->name, dir);
	for (i = 0; i < n && i < 2048; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r')
			fputs("\\r", g.log);
		else if (c == '\n')
			fputs("\\n", g.log);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(g.log, "\\x%02x", c);
		else
			fputc(c, g.log);
	}
	if (i < n)
		fputs("...", g.log);
	fputc('\n', g.log);
	fflush(g.log);
}

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
logmsg(const char *fmt, ...)
{
	va_list	ap;

	if (g.log == NULL)
		return;
	va_start(ap, fmt);
	fprintf(g.log, "%lld ", (long long)wall_ms());
	vfprintf(g.log, fmt, ap);
	fputc('\n', g.log);
	fflush(g.log);
	va_end(ap);
}

/* ---- output to the host ---- */

static void
m_raw(struct modem *m, const char *p, size_t n)
{
	if (!m->plugged)
		return;
	log_bytes(m, "->", p, n);
	buf_add(&m->outq, p, n);
}

/* Echo of host bytes: not traced (the command line is traced). */
static void
m_echo(struct modem *m, unsigned char c)
{
	if (m->plugged)
		buf_add(&m->outq, &c, 1);
}

/* An information or result line: "\r\n<line>\r\n". */
static void m_line(struct modem *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
m_line(struct modem *m, const char *fmt, ...)
{
	char	tmp[LINE_MAX_AT + 8];
	va_list	ap;
	int	n;

	tmp[0] = '\r';
	tmp[1] = '\n';
	va_start(ap, fmt);
	n = vsnprintf(tmp + 2, sizeof(tmp) - 4, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(tmp) - 5)
		n = (int)(sizeof(tmp) - 5);
	tmp[n + 2] = '\r';
	tmp[n + 3] = '\n';
	m_raw(m, tmp, (size_t)n + 4);
}

/* A URC: held in urcq while a command or a send is in progress. */
static void m_urc(struct modem *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
m_urc(struct modem *m, const char *fmt, ...)
{
	char	tmp[EMU_PDU_HEX_MAX + 128];
	va_list	ap;
	int	n;

	if (!m->plugged)
		return;
	tmp[0] = '\r';
	tmp[1] = '\n';
	va_start(ap, fmt);
	n = vsnprintf(tmp + 2, sizeof(tmp) - 4, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(tmp) - 5)
		n = (int)(sizeof(tmp) - 5);
	tmp[n + 2] = '\r';
	tmp[n + 3] = '\n';
	buf_add(&m->urcq, tmp, (size_t)n + 4);
}

static const char *
cme_text(int code)
{
	switch (code) {
	case 3: return "operation not allowed";
	case 4: return "operation not supported";
	case 10: return "SIM not inserted";
	case 11: return "SIM PIN required";
	case 12: return "SIM PUK required";
	case 16: return "incorrect password";
	case 30: return "no network service";
	case 50: return "incorrect parameters";
	default: return NULL;
	}
}

static const char *
cms_text(int code)
{
	switch (code) {
	case 302: return "operation not allowed";
	case 303: return "operation not supported";
	case 304: return "invalid PDU mode parameter";
	case 311: return "SIM PIN required";
	case 316: return "SIM PUK required";
	case 321: return "invalid memory index";
	case 322: return "memory full";
	case 330: return "SMSC address unknown";
	case 331: return "no network service";
	case 500: return "unknown error";
	default: return NULL;
	}
}

static void
m_cme(struct modem *m, int code)
{
	const char *t = cme_text(code);

	if (m->cmee == 0)
		m_line(m, "ERROR");
	else if (m->cmee == 2 && t != NULL)
		m_line(m, "+CME ERROR: %s", t);
	else
		m_line(m, "+CME ERROR: %d", code);
}

static void
m_cms(struct modem *m, int code)
{
	const char *t = cms_text(code);

	if (m->cmee == 0)
		m_line(m, "ERROR");
	else if (m->cmee == 2 && t != NULL)
		m_line(m, "+CMS ERROR: %s", t);
	else
		m_line(m, "+CMS ERROR: %d", code);
}

/* ---- modem state ---- */

static bool
m_registered(const struct modem *m, int64_t now)
{
	return m->sim == SIM_READY && m->cfun == 1 && now >= m->reg_at;
}

static int
m_reg_stat(const struct modem *m, int64_t now)
{
	if (m->cfun != 1)
		return 0;
	return m_registered(m, now) ? 1 : 2;
}

static void
m_settings_default(struct modem *m)
{
	m->echo = true;
	m->cmee = 0;
	m->creg_n = 0;
	memset(m->cnmi, 0, sizeof(m->cnmi));
	snprintf(m->cscs, sizeof(m->cscs), "GSM");
}

/* Power-on (or reboot) state; storage and fault settings survive. */
static void
m_power_on(struct modem *m, int64_t now)
{
	m_settings_default(m);
	m->mode = IN_CMD;
	m->linelen = 0;
	m->line_over = false;
	m->pdulen = 0;
	m->cfun = 1;
	if (m->sim != SIM_PUK) {
		m->sim = g.pin != NULL ? SIM_PIN : SIM_READY;
		m->pin_tries = 3;
	}
	m->reg_at = now + g.reg_delay_ms;
	m->last_reg = m_reg_stat(m, now);
	m->urcq.len = 0;
	m->silent_until = 0;
}

static int
m_storage_used(const struct modem *m)
{
	int	i, n = 0;

	for (i = 0; i < g.storage; i++)
		n += m->slots[i].used;
	return n;
}

/* Store a PDU; returns the 0-based slot or -1 when full. */
static int
m_store(struct modem *m, const char *pdu, int stat, bool report,
    const char *addr, const char *text)
{
	struct slot *s;
	int	i;

	for (i = 0; i < g.storage; i++) {
		s = &m->slots[i];
		if (s->used)
			continue;
		s->used = true;
		s->stat = stat;
		s->report = report;
		snprintf(s->pdu, sizeof(s->pdu), "%s", pdu);
		snprintf(s->addr, sizeof(s->addr), "%s", addr ? addr : "");
		free(s->text);
		s->text = xstrdup_emu(text ? text : "");
		return i;
	}
	return -1;
}

static void
m_slot_clear(struct slot *s)
{
	free(s->text);
	memset(s, 0, sizeof(*s));
}

/* ---- JSON helpers ---- */

static void
json_str(struct buf *b, const char *s)
{
	char	e[8];

	buf_add(b, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			e[0] = '\\';
			e[1] = (char)c;
			buf_add(b, e, 2);
		} else if (c == '\n')
			buf_add(b, "\\n", 2);
		else if (c == '\r')
			buf_add(b, "\\r", 2);
		else if (c == '\t')
			buf_add(b, "\\t", 2);
		else if (c < 0x20) {
			snprintf(e, sizeof(e), "\\u%04x", c);
			buf_add(b, e, 6);
		} else
			buf_add(b, s, 1);
	}
	buf_add(b, "\"", 1);
}

static void json_fmt(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
json_fmt(struct buf *b, const char *fmt, ...)
{
	char	tmp[512];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* ---- network side ---- */

static void
m_queue_report(struct modem *m, int mr, int st, int64_t due)
{
	if (m->nreports >= REPORTQ_MAX)
		return;
	m->reports[m->nreports].due = due;
	m->reports[m->nreports].mr = mr;
	m->reports[m->nreports].st = st;
	m->nreports++;
}

/* Emit a status report now, routed per +CNMI <ds>; false if dropped. */
static bool
m_emit_report(struct modem *m, int mr, int st)
{
	struct emu_part part;
	const char *to = m->sent_to[mr & 0xff];
	int	idx;

	if (*to == '\0')
		to = "+0";
	if (!emu_pdu_build_status_report(mr, to, st, time(NULL), &part))
		return false;
	m->n_reports++;
	if (m->cnmi[3] == 1) {
		m_urc(m, "+CDS: %d\r\n%s", emu_pdu_tpdu_len(part.hex),
		    part.hex);
		return true;
	}
	if (m->cnmi[3] == 2) {
		if ((idx = m_store(m, part.hex, 0, true, to, "")) < 0)
			return false;
		m_urc(m, "+CDSI: \"ME\",%d", idx + 1);
		return true;
	}
	return false;
}

/* The SMS reached the network: log it to sent.jsonl. */
static int
m_network_send(struct modem *m, const char *pdu, const char *via)
{
	struct emu_submit sub;
	struct buf b;
	int	mr;

	mr = m->mr_next;
	m->mr_next = (m->mr_next + 1) & 0xff;
	m->n_sent++;
	if (!emu_pdu_decode_submit(pdu, &sub)) {
		memset(&sub, 0, sizeof(sub));
		snprintf(sub.to, sizeof(sub.to), "?");
	}
	snprintf(m->sent_to[mr], sizeof(m->sent_to[mr]), "%s", sub.to);
	buf_init(&b, 64 * 1024);
	json_fmt(&b, "{\"modem\":");
	json_str(&b, m->name);
	json_fmt(&b, ",\"ts_ms\":%lld,\"mr\":%d,\"via\":\"%s\",\"to\":",
	    (long long)wall_ms(), mr, via);
	json_str(&b, sub.to);
	json_fmt(&b, ",\"text\":");
	json_str(&b, sub.text);
	if (sub.has_udh)
		json_fmt(&b, ",\"udh\":{\"ref\":%d,\"seq\":%d,\"total\":%d}",
		    sub.ref, sub.seq, sub.total);
	else
		json_fmt(&b, ",\"udh\":null");
	json_fmt(&b, ",\"srr\":%s,\"pdu\":", sub.srr ? "true" : "false");
	json_str(&b, pdu);
	json_fmt(&b, "}\n");
	if (g.sent != NULL) {
		fwrite(b.d, 1, b.len, g.sent);
		fflush(g.sent);
	}
	buf_free(&b);
	logmsg("%s sent mr=%d via %s", m->name, mr, via);
	if (m->auto_report && sub.srr)
		m_queue_report(m, mr, 0x00, now_ms() + 100);
	return mr;
}

/* Finish the send in progress: answer the host. */
static void
m_send_complete(struct modem *m)
{
	bool	cmss = m->send_slot >= 0;
	int	mr;

	m->busy = false;
	if (m->cms_count > 0) {
		m->cms_count--;
		m_cms(m, m->cms_code);
		return;
	}
	mr = m_network_send(m, m->send_pdu, cmss ? "cmss" : "cmgs");
	if (cmss) {
		if (m->slots[m->send_slot].used)
			m->slots[m->send_slot].stat = 3;
		m_line(m, "+CMSS: %d", mr);
	} else
		m_line(m, "+CMGS: %d", mr);
	m_line(m, "OK");
}

static void
m_send_start(struct modem *m, const char *pdu, int slot, int64_t now)
{
	snprintf(m->send_pdu, sizeof(m->send_pdu), "%s", pdu);
	m->send_slot = slot;
	m->busy = true;
	m->send_due = now + g.send_delay_ms;
	if (g.send_delay_ms <= 0)
		m_send_complete(m);
}

/* ---- AT command execution ---- */

/* Parse a decimal int argument list "a,b,..." (empty fields are -1). */
static int
parse_ints(const char *s, int *v, int max)
{
	int	 n = 0;
	char	*end;
	long	 x;

	while (n < max) {
		while (*s == ' ')
			s++;
		if (*s == ',' || *s == '\0') {
			v[n++] = -1;
		} else {
			errno = 0;
			x = strtol(s, &end, 10);
			if (end == s || errno != 0 || x < INT_MIN ||
			    x > INT_MAX)
				return -1;
			v[n++] = (int)x;
			s = end;
			while (*s == ' ')
				s++;
		}
		if (*s == '\0')
			return n;
		if (*s != ',')
			return -1;
		s++;
	}
	return -1;
}

/* Unquote the first string argument into out; returns false if none. */
static bool
parse_quoted(const char *s, char *out, size_t cap, const char **rest)
{
	size_t	n = 0;

	while (*s == ' ')
		s++;
	if (*s != '"')
		return false;
	s++;
	while (*s != '\0' && *s != '"') {
		if (n + 1 >= cap)
			return false;
		out[n++] = *s++;
	}
	if (*s != '"')
		return false;
	out[n] = '\0';
	if (rest != NULL)
		*rest = s + 1;
	return true;
}

static bool
sms_ready(struct modem *m)
{
	if (m->sim == SIM_PIN) {
		m_cms(m, 311);
		return false;
	}
	if (m->sim == SIM_PUK) {
		m_cms(m, 316);
		return false;
	}
	return true;
}

static bool
sim_ready(struct modem *m)
{
	if (m->sim == SIM_PIN) {
		m_cme(m, 11);
		return false;
	}
	if (m->sim == SIM_PUK) {
		m_cme(m, 12);
		return false;
	}
	return true;
}

static int
stat_from_arg(const char *a)
{
	static const char *names[] = {
		"REC UNREAD", "REC READ", "STO UNSENT", "STO SENT", "ALL"
	};
	char	q[16];
	int	i, v[1];

	if (*a == '\0')
		return 0;
	if (parse_quoted(a, q, sizeof(q), NULL)) {
		for (i = 0; i < 5; i++)
			if (strcasecmp(q, names[i]) == 0)
				return i;
		return -1;
	}
	if (parse_ints(a, v, 1) != 1 || v[0] < 0 || v[0] > 4)
		return -1;
	return v[0];
}

static void
m_list_slot(struct modem *m, int i, bool with_index)
{
	struct slot *s = &m->slots[i];

	if (with_index)
		m_line(m, "+CMGL: %d,%d,,%d\r\n%s", i + 1, s->stat,
		    emu_pdu_tpdu_len(s->pdu), s->pdu);
	else
		m_line(m, "+CMGR: %d,,%d\r\n%s", s->stat,
		    emu_pdu_tpdu_len(s->pdu), s->pdu);
	if (s->stat == 0)
		s->stat = 1;
}

/* Index argument (1-based) to slot; -1 when out of range. */
static int
slot_arg(int v)
{
	if (v < 1 || v > g.storage)
		return -1;
	return v - 1;
}

static enum res
x_cpms(struct modem *m, char kind, const char *args)
{
	char	mem[8];
	const char *p = args;
	int	used = m_storage_used(m), n = 0;

	if (kind == 't') {
		/*
		 * One storage only.  "SM" is accepted when selected but not
		 * advertised, so tools that walk every memory (gammu) do not
		 * list each message twice.
		 */
		m_line(m, "+CPMS: (\"ME\",\"MT\"),(\"ME\",\"MT\"),"
		    "(\"ME\",\"MT\")");
		return RES_OK;
	}
	if (!sms_ready(m))
		return RES_ERR;
	if (kind == 'r') {
		m_line(m, "+CPMS: \"ME\",%d,%d,\"ME\",%d,%d,\"ME\",%d,%d",
		    used, g.storage, used, g.storage, used, g.storage);
		return RES_OK;
	}
	while (n < 3 && parse_quoted(p, mem, sizeof(mem), &p)) {
		if (strcasecmp(mem, "ME") != 0 && strcasecmp(mem, "SM") != 0 &&
		    strcasecmp(mem, "MT") != 0) {
			m_cms(m, 302);
			return RES_ERR;
		}
		n++;
		while (*p == ' ')
			p++;
		if (*p == ',')
			p++;
	}
	if (n == 0 || *p != '\0') {
		m_cms(m, 302);
		return RES_ERR;
	}
	m_line(m, "+CPMS: %d,%d,%d,%d,%d,%d", used, g.storage, used,
	    g.storage, used, g.storage);
	return RES_OK;
}

static enum res
x_cpin(struct modem *m, char kind, const char *args)
{
	char	code[32], newpin[32];
	const char *rest;

	if (kind == 't')
		return RES_OK;
	if (kind == 'r') {
		m_line(m, "+CPIN: %s", m->sim == SIM_READY ? "READY" :
		    m->sim == SIM_PIN ? "SIM PIN" : "SIM PUK");
		return RES_OK;
	}
	if (kind != 's') {
		m_cme(m, 50);
		return RES_ERR;
	}
	if (!parse_quoted(args, code, sizeof(code), &rest)) {
		/* unquoted PIN accepted as is */
		snprintf(code, sizeof(code), "%s", args);
		rest = "";
	}
	if (m->sim == SIM_READY) {
		m_cme(m, 3);
		return RES_ERR;
	}
	if (m->sim == SIM_PUK) {
		while (*rest == ' ' || *rest == ',')
			rest++;
		if (strcmp(code, PUK_CODE) == 0 &&
		    parse_quoted(rest, newpin, sizeof(newpin), NULL)) {
			m->sim = SIM_READY;
			m->pin_tries = 3;
			m->reg_at = now_ms() + g.reg_delay_ms;
			return RES_OK;
		}
		m_cme(m, 16);
		return RES_ERR;
	}
	if (g.pin != NULL && strcmp(code, g.pin) == 0) {
		m->sim = SIM_READY;
		m->reg_at = now_ms() + g.reg_delay_ms;
		return RES_OK;
	}
	if (--m->pin_tries <= 0)
		m->sim = SIM_PUK;
	m_cme(m, 16);
	return RES_ERR;
}

static enum res
x_pdu_cmd(struct modem *m, char kind, const char *args, enum pdu_for what)
{
	int	v[2], n;

	if (kind == 't')
		return RES_OK;
	if (kind != 's') {
		m_cms(m, 302);
		return RES_ERR;
	}
	if (!sms_ready(m))
		return RES_ERR;
	if (what == PDU_FOR_CMGW && g.no_storage_send) {
		m_cms(m, 302);
		return RES_ERR;
	}
	n = parse_ints(args, v, 2);
	if (n < 1 || v[0] < 1 || v[0] > 164 ||
	    (n == 2 && v[1] != -1 && (v[1] < 0 || v[1] > 3))) {
		m_cms(m, 304);
		return RES_ERR;
	}
	if (what == PDU_FOR_CMGS && !m_registered(m, now_ms())) {
		m_cms(m, 331);
		return RES_ERR;
	}
	m->pdu_for = what;
	m->pdu_len_arg = v[0];
	m->cmgw_stat = (n == 2 && v[1] >= 0) ? v[1] : 2;
	m->mode = IN_PDU;
	m->pdulen = 0;
	m->pdu_over = false;
	m_raw(m, "\r\n> ", 4);
	return RES_PENDING;
}

static enum res
x_cmss(struct modem *m, char kind, const char *args)
{
	int	v[3], i;

	if (kind == 't')
		return RES_OK;
	if (kind != 's' || !sms_ready(m))
		return kind != 's' ? (m_cms(m, 302), RES_ERR) : RES_ERR;
	if (g.no_storage_send) {
		m_cms(m, 302);
		return RES_ERR;
	}
	if (parse_ints(args, v, 1) != 1 || (i = slot_arg(v[0])) < 0 ||
	    !m->slots[i].used) {
		m_cms(m, 321);
		return RES_ERR;
	}
	if (!m_registered(m, now_ms())) {
		m_cms(m, 331);
		return RES_ERR;
	}
	m_send_start(m, m->slots[i].pdu, i, now_ms());
	return RES_PENDING;
}

static enum res
x_cmgl(struct modem *m, char kind, const char *args)
{
	int	st, i;

	if (kind == 't') {
		m_line(m, "+CMGL: (0-4)");
		return RES_OK;
	}
	if (!sms_ready(m))
		return RES_ERR;
	if ((st = stat_from_arg(kind == 's' ? args : "")) < 0) {
		m_cms(m, 304);
		return RES_ERR;
	}
	for (i = 0; i < g.storage; i++)
		if (m->slots[i].used && (st == 4 || m->slots[i].stat == st))
			m_list_slot(m, i, true);
	return RES_OK;
}

static enum res
x_cmgr(struct modem *m, char kind, const char *args)
{
	int	v[1], i;

	if (kind == 't')
		return RES_OK;
	if (!sms_ready(m))
		return RES_ERR;
	if (kind != 's' || parse_ints(args, v, 1) != 1 ||
	    (i = slot_arg(v[0])) < 0 || !m->slots[i].used) {
		m_cms(m, 321);
		return RES_ERR;
	}
	m_list_slot(m, i, false);
	return RES_OK;
}

static enum res
x_cmgd(struct modem *m, char kind, const char *args)
{
	int	v[2], n, i, flag;
	struct slot *s;

	if (kind == 't') {
		m_line(m, "+CMGD: (1-%d),(0-4)", g.storage);
		return RES_OK;
	}
	if (!sms_ready(m))
		return RES_ERR;
	if (kind != 's' || (n = parse_ints(args, v, 2)) < 1) {
		m_cms(m, 321);
		return RES_ERR;
	}
	flag = n == 2 && v[1] >= 0 ? v[1] : 0;
	if (flag > 4) {
		m_cms(m, 304);
		return RES_ERR;
	}
	if (flag == 0) {
		if ((i = slot_arg(v[0])) < 0) {
			m_cms(m, 321);
			return RES_ERR;
		}
		m_slot_clear(&m->slots[i]);
		return RES_OK;
	}
	for (i = 0; i < g.storage; i++) {
		s = &m->slots[i];
		if (!s->used)
			continue;
		if (flag == 4 || s->stat == 1 ||
		    (flag >= 2 && s->stat == 3) || (flag >= 3 && s->stat == 2))
			m_slot_clear(s);
	}
	return RES_OK;
}

static enum res
x_cnmi(struct modem *m, char kind, const char *args)
{
	int	v[5], n, i;
	static const int maxv[5] = { 3, 3, 3, 2, 1 };

	if (kind == 't') {
		m_line(m, "+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)");
		return RES_OK;
	}
	if (kind == 'r') {
		m_line(m, "+CNMI: %d,%d,%d,%d,%d", m->cnmi[0], m->cnmi[1],
		    m->cnmi[2], m->cnmi[3], m->cnmi[4]);
		return RES_OK;
	}
	if (kind != 's' || (n = parse_ints(args, v, 5)) < 1) {
		m_cms(m, 302);
		return RES_ERR;
	}
	for (i = 0; i < n; i++)
		if (v[i] > maxv[i]) {
			m_cms(m, 303);
			return RES_ERR;
		}
	for (i = 0; i < n; i++)
		if (v[i] >= 0)
			m->cnmi[i] = v[i];
	return RES_OK;
}

static enum res
x_int_setting(struct modem *m, char kind, const char *args, const char *name,
    int *val, int lo, int hi)
{
	int	v[1];

	if (kind == 't') {
		m_line(m, "%s: (%d-%d)", name, lo, hi);
		return RES_OK;
	}
	if (kind == 'r') {
		m_line(m, "%s: %d", name, *val);
		return RES_OK;
	}
	if (kind == 'a') {
		*val = lo;
		return RES_OK;
	}
	if (parse_ints(args, v, 1) != 1 || v[0] < lo || v[0] > hi) {
		m_cme(m, 50);
		return RES_ERR;
	}
	*val = v[0];
	return RES_OK;
}

static enum res
x_creg(struct modem *m, char kind, const char *args)
{
	int	st;

	if (kind != 'r')
		return x_int_setting(m, kind, args, "+CREG", &m->creg_n, 0, 2);
	st = m_reg_stat(m, now_ms());
	if (m->creg_n == 2 && st == 1)
		m_line(m, "+CREG: 2,1,\"00A1\",\"0001C2B%d\"", m->num % 10);
	else
		m_line(m, "+CREG: %d,%d", m->creg_n, st);
	return RES_OK;
}

static enum res
x_cfun(struct modem *m, char kind, const char *args)
{
	int	v[2], n;
	int64_t	now = now_ms();

	if (kind == 't') {
		m_line(m, "+CFUN: (0,1,4),(0,1)");
		return RES_OK;
	}
	if (kind == 'r') {
		m_line(m, "+CFUN: %d", m->cfun);
		return RES_OK;
	}
	if (kind != 's' || (n = parse_ints(args, v, 2)) < 1 ||
	    (v[0] != 0 && v[0] != 1 && v[0] != 4)) {
		m_cme(m, 50);
		return RES_ERR;
	}
	if (n == 2 && v[1] == 1) {
		/* Reset: OK first, then reboot silently for a while. */
		m_line(m, "OK");
		m_power_on(m, now);
		m->cfun = v[0] == 1 ? 1 : v[0];
		m->silent_until = now + BOOT_MS;
		m->reg_at = now + BOOT_MS + g.reg_delay_ms;
		m->inq.len = 0;
		logmsg("%s reboot (CFUN reset)", m->name);
		return RES_PENDING;
	}
	if (v[0] == 1 && m->cfun != 1)
		m->reg_at = now + g.reg_delay_ms;
	m->cfun = v[0];
	return RES_OK;
}

static enum res
x_cops(struct modem *m, char kind, const char *args)
{
	(void)args;
	if (kind == 't') {
		m_line(m, "+COPS: (2,\"Emu Telecom\",\"EmuTel\",\"24491\",7),,"
		    "(0-4),(0-2)");
		return RES_OK;
	}
	if (kind == 'r') {
		if (m_registered(m, now_ms()))
			m_line(m, "+COPS: 0,0,\"Emu Telecom\",7");
		else
			m_line(m, "+COPS: 0");
		return RES_OK;
	}
	return RES_OK;
}

/* Plain information commands: answer one line (action or read form). */
static const char *
info_for(struct modem *m, const char *name, char *tmp, size_t cap)
{
	if (strcmp(name, "+CGMI") == 0 || strcmp(name, "+GMI") == 0)
		return "ATEMU";
	if (strcmp(name, "+CGMM") == 0 || strcmp(name, "+GMM") == 0)
		return "atemu-gsm";
	if (strcmp(name, "+CGMR") == 0 || strcmp(name, "+GMR") == 0)
		return "atemu " ATEMU_VERSION;
	if (strcmp(name, "+CGSN") == 0 || strcmp(name, "+GSN") == 0) {
		snprintf(tmp, cap, "3569380000%05d", m->num);
		return tmp;
	}
	if (strcmp(name, "+GCAP") == 0)
		return "+GCAP: +CGSM";
	return NULL;
}

/* Execute one extended command; name is upper-cased, up to '=' or '?'. */
static enum res
m_exec_ext(struct modem *m, const char *cmd)
{
	char	name[32], tmp[64], q[32];
	const char *p = cmd, *args = "", *info;
	char	kind;
	size_t	n = 0;
	int	v[2];

	while (*p != '\0' && *p != '=' && *p != '?' && n + 1 < sizeof(name))
		name[n++] = (char)toupper((unsigned char)*p++);
	name[n] = '\0';
	if (*p == '\0')
		kind = 'a';
	else if (strcmp(p, "?") == 0)
		kind = 'r';
	else if (strcmp(p, "=?") == 0)
		kind = 't';
	else if (*p == '=') {
		kind = 's';
		args = p + 1;
	} else
		kind = 'x';
	if (kind == 'x') {
		m_line(m, "ERROR");
		return RES_ERR;
	}

	if ((info = info_for(m, name, tmp, sizeof(tmp))) != NULL) {
		if (kind == 't')
			return RES_OK;
		m_line(m, "%s", info);
		return RES_OK;
	}
	if (strcmp(name, "+CIMI") == 0) {
		if (kind == 't')
			return RES_OK;
		if (!sim_ready(m))
			return RES_ERR;
		m_line(m, "2449100000%05d", m->num);
		return RES_OK;
	}
	if (strcmp(name, "+CMEE") == 0)
		return x_int_setting(m, kind, args, "+CMEE", &m->cmee, 0, 2);
	if (strcmp(name, "+CPIN") == 0)
		return x_cpin(m, kind, args);
	if (strcmp(name, "+CREG") == 0)
		return x_creg(m, kind, args);
	if (strcmp(name, "+CSQ") == 0) {
		if (kind == 't')
			m_line(m, "+CSQ: (0-31,99),(0-7,99)");
		else
			m_line(m, "+CSQ: %d,99", m->cfun == 1 ? 20 : 99);
		return RES_OK;
	}
	if (strcmp(name, "+COPS") == 0)
		return x_cops(m, kind, args);
	if (strcmp(name, "+CMGF") == 0) {
		if (kind == 't')
			m_line(m, "+CMGF: (0)");
		else if (kind == 'r')
			m_line(m, "+CMGF: 0");
		else if (kind == 's' && strcmp(args, "0") != 0) {
			m_cms(m, 303);
			return RES_ERR;
		}
		return RES_OK;
	}
	if (strcmp(name, "+CSCS") == 0) {
		if (kind == 't')
			m_line(m, "+CSCS: (\"GSM\",\"IRA\",\"UCS2\")");
		else if (kind == 'r')
			m_line(m, "+CSCS: \"%s\"", m->cscs);
		else if (kind == 's') {
			if (!parse_quoted(args, q, sizeof(q), NULL) ||
			    (strcmp(q, "GSM") != 0 && strcmp(q, "IRA") != 0 &&
			    strcmp(q, "UCS2") != 0)) {
				m_cme(m, 4);
				return RES_ERR;
			}
			snprintf(m->cscs, sizeof(m->cscs), "%s", q);
		}
		return RES_OK;
	}
	if (strcmp(name, "+CSCA") == 0) {
		if (kind == 'r') {
			if (!sms_ready(m))
				return RES_ERR;
			m_line(m, "+CSCA: \"+358405202999\",145");
		}
		return RES_OK;
	}
	if (strcmp(name, "+CSMS") == 0) {
		if (kind == 't')
			m_line(m, "+CSMS: (0,1)");
		else if (kind == 'r')
			m_line(m, "+CSMS: 0,1,1,1");
		else if (kind == 's')
			m_line(m, "+CSMS: 1,1,1");
		return RES_OK;
	}
	if (strcmp(name, "+CSMP") == 0) {
		if (kind == 'r')
			m_line(m, "+CSMP: 17,167,0,0");
		return RES_OK;
	}
	if (strcmp(name, "+CPMS") == 0)
		return x_cpms(m, kind, args);
	if (strcmp(name, "+CNMI") == 0)
		return x_cnmi(m, kind, args);
	if (strcmp(name, "+CNMA") == 0 || strcmp(name, "+CRES") == 0 ||
	    strcmp(name, "+CSAS") == 0)
		return RES_OK;
	if (strcmp(name, "+CMMS") == 0) {
		if (kind == 'r')
			m_line(m, "+CMMS: 0");
		else if (kind == 't')
			m_line(m, "+CMMS: (0-2)");
		return RES_OK;
	}
	if (strcmp(name, "+CMGS") == 0)
		return x_pdu_cmd(m, kind, args, PDU_FOR_CMGS);
	if (strcmp(name, "+CMGW") == 0)
		return x_pdu_cmd(m, kind, args, PDU_FOR_CMGW);
	if (strcmp(name, "+CMSS") == 0)
		return x_cmss(m, kind, args);
	if (strcmp(name, "+CMGL") == 0)
		return x_cmgl(m, kind, args);
	if (strcmp(name, "+CMGR") == 0)
		return x_cmgr(m, kind, args);
	if (strcmp(name, "+CMGD") == 0)
		return x_cmgd(m, kind, args);
	if (strcmp(name, "+CFUN") == 0)
		return x_cfun(m, kind, args);
	if (strcmp(name, "+CBC") == 0 && kind != 's') {
		if (kind != 't')
			m_line(m, "+CBC: 0,100");
		return RES_OK;
	}
	(void)v;
	m_line(m, "ERROR");
	return RES_ERR;
}

/* Execute one basic command (E0, Z, V1, &F ...); returns chars used. */
static size_t
m_exec_basic(struct modem *m, const char *p, enum res *r)
{
	char	c = (char)toupper((unsigned char)p[0]);
	size_t	n = 1;
	long	val = 0;

	*r = RES_OK;
	if (c == '&') {
		if (p[1] == '\0') {
			*r = RES_ERR;
			return 1;
		}
		c = (char)toupper((unsigned char)p[1]);
		n = 2;
		while (isdigit((unsigned char)p[n]))
			n++;
		if (c == 'F')
			m_settings_default(m);
		else if (strchr("CDKWV", c) == NULL)
			*r = RES_ERR;
		return n;
	}
	if (c == 'S') {
		/* S<n>=<v> or S<n>? */
		while (isdigit((unsigned char)p[n]))
			n++;
		if (p[n] == '?') {
			m_line(m, "%03d", 0);
			return n + 1;
		}
		if (p[n] == '=') {
			n++;
			while (isdigit((unsigned char)p[n]))
				n++;
			return n;
		}
		*r = RES_ERR;
		return n;
	}
	while (isdigit((unsigned char)p[n])) {
		val = val * 10 + (p[n] - '0');
		if (val > 1000)
			val = 1000;
		n++;
	}
	switch (c) {
	case 'E':
		if (val > 1)
			*r = RES_ERR;
		else
			m->echo = val == 1;
		break;
	case 'Z':
		m_settings_default(m);
		break;
	case 'V': case 'Q': case 'X': case 'L': case 'M':
		break;
	case 'I':
		m_line(m, "ATEMU atemu-gsm");
		m_line(m, "Revision: atemu %s", ATEMU_VERSION);
		break;
	default:
		*r = RES_ERR;
		break;
	}
	if (*r == RES_ERR)
		m_line(m, "ERROR");
	return n;
}

/* Execute a complete command line (without terminator). */
static void
m_exec_line(struct modem *m, char *line)
{
	char	*p = line, *seg, *q;
	bool	 inq;
	enum res r = RES_OK;
	size_t	 used;

	m->n_cmds++;
	while (*p == ' ')
		p++;
	if (strncasecmp(p, "AT", 2) != 0) {
		/* Real modems ignore lines without the AT prefix. */
		logmsg("%s ignored non-AT line", m->name);
		return;
	}
	p += 2;
	if (g.no_chain && strchr(p, ';') != NULL) {
		/* Some modems take one command per line only. */
		m_line(m, "ERROR");
		return;
	}
	while (*p != '\0' && r == RES_OK) {
		if (*p == ' ' || *p == ';') {
			p++;
			continue;
		}
		if (*p == '+' || *p == '^' || *p == '%' || *p == '$' ||
		    *p == '*') {
			/* extended: up to ';' outside quotes */
			seg = p;
			inq = false;
			for (q = p; *q != '\0'; q++) {
				if (*q == '"')
					inq = !inq;
				else if (*q == ';' && !inq)
					break;
			}
			if (*q == ';')
				*q++ = '\0';
			p = q;
			/* strip trailing spaces */
			q = seg + strlen(seg);
			while (q > seg && q[-1] == ' ')
				*--q = '\0';
			r = m_exec_ext(m, seg);
		} else {
			used = m_exec_basic(m, p, &r);
			p += used;
		}
	}
	if (r == RES_OK)
		m_line(m, "OK");
}

/* The PDU after "> " is complete (Ctrl-Z). */
static void
m_pdu_done(struct modem *m, int64_t now)
{
	struct emu_submit sub;
	int	len, idx;

	m->mode = IN_CMD;
	m->pdu[m->pdulen] = '\0';
	log_bytes(m, "<- pdu", m->pdu, m->pdulen);
	len = m->pdu_over ? -1 : emu_pdu_tpdu_len(m->pdu);
	if (len != m->pdu_len_arg || !emu_pdu_decode_submit(m->pdu, &sub)) {
		logmsg("%s bad PDU (len %d, want %d)", m->name, len,
		    m->pdu_len_arg);
		m_cms(m, 304);
		return;
	}
	if (m->pdu_for == PDU_FOR_CMGW) {
		if ((idx = m_store(m, m->pdu, m->cmgw_stat, false, sub.to,
		    sub.text)) < 0) {
			m_cms(m, 322);
			return;
		}
		m_line(m, "+CMGW: %d", idx + 1);
		m_line(m, "OK");
		return;
	}
	m_send_start(m, m->pdu, -1, now);
}

static void
m_input_byte(struct modem *m, unsigned char c, int64_t now)
{
	if (m->mode == IN_PDU) {
		if (m->echo && c != 0x1a && c != 0x1b)
			m_echo(m, c);
		if (c == 0x1a) {
			m_pdu_done(m, now);
		} else if (c == 0x1b) {
			m->mode = IN_CMD;
			m_line(m, "OK");
		} else if (isxdigit(c)) {
			if (m->pdulen < PDU_IN_MAX)
				m->pdu[m->pdulen++] = (char)toupper(c);
			else
				m->pdu_over = true;
		}
		return;
	}
	if (m->echo && c != 0)
		m_echo(m, c);
	if (c == '\r' || c == '\n') {
		if (m->line_over) {
			m->line_over = false;
			m->linelen = 0;
			m_line(m, "ERROR");
			return;
		}
		if (m->linelen == 0)
			return;
		m->line[m->linelen] = '\0';
		m->linelen = 0;
		log_bytes(m, "<-", m->line, strlen(m->line));
		m_exec_line(m, m->line);
		return;
	}
	if (c == 0x08 || c == 0x7f) {
		if (m->linelen > 0)
			m->linelen--;
		return;
	}
	if (c == 0 || c == 0x1a || c == 0x1b) {
		m->linelen = 0;
		return;
	}
	if (m->linelen + 1 < sizeof(m->line))
		m->line[m->linelen++] = (char)c;
	else
		m->line_over = true;
}

/* ---- pty management ---- */

static int
m_plug(struct modem *m, int64_t now)
{
	struct termios t;
	char	tmplink[PATH_MAX + 8];
	const char *name;
	int	fd, sfd;

	if ((fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		return -1;
	if (grantpt(fd) < 0 || unlockpt(fd) < 0 ||
	    (name = ptsname(fd)) == NULL) {
		close(fd);
		return -1;
	}
	snprintf(m->pts, sizeof(m->pts), "%s", name);
	/*
	 * Hold the slave open ourselves: the master then never sees HUP
	 * while the daemon has the port closed, and termios settings stay.
	 */
	if ((sfd = open(m->pts, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		close(fd);
		return -1;
	}
	if (tcgetattr(sfd, &t) == 0) {
		cfmakeraw(&t);
		cfsetispeed(&t, B115200);
		cfsetospeed(&t, B115200);
		tcsetattr(sfd, TCSANOW, &t);
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	snprintf(tmplink, sizeof(tmplink), "%s.tmp", m->link);
	unlink(tmplink);
	if (symlink(m->pts, tmplink) < 0 || rename(tmplink, m->link) < 0) {
		unlink(tmplink);
		close(sfd);
		close(fd);
		return -1;
	}
	m->mfd = fd;
	m->sfd = sfd;
	m->plugged = true;
	m->inq.len = 0;
	m->outq.len = 0;
	m->busy = false;
	m_power_on(m, now);
	logmsg("%s plugged at %s", m->name, m->pts);
	return 0;
}

static void
m_unplug(struct modem *m)
{
	if (!m->plugged)
		return;
	/* A send already handed to the network goes out unanswered. */
	if (m->busy && m->cms_count == 0)
		m_network_send(m, m->send_pdu,
		    m->send_slot >= 0 ? "cmss" : "cmgs");
	m->busy = false;
	close(m->mfd);
	close(m->sfd);
	m->mfd = m->sfd = -1;
	m->plugged = false;
	unlink(m->link);
	m->inq.len = m->outq.len = m->urcq.len = 0;
	m->nreports = 0;
	logmsg("%s unplugged", m->name);
}

/* ---- timers and I/O ---- */

static const char *noise_lines[] = {
	"^RSSI:15", "+CREG: 1", "^BOOT:20594511,0,0,0,6", "^MODE:5,4",
	"+CIEV: 2,3", "^SRVST:2", "^HCSQ:\"LTE\",52,47,151,31", "*EMRDY: 1",
	"+ZUSIMR:2", "^SIMST:1",
};
#define NOISE_LINES ((int)(sizeof(noise_lines) / sizeof(noise_lines[0])))

/* Timed work for one modem; returns the next deadline or INT64_MAX. */
static int64_t
m_tick(struct modem *m, int64_t now)
{
	int64_t	next = INT64_MAX;
	int	st, i;

	if (!m->plugged)
		return next;
	if (m->silent_until != 0) {
		if (now < m->silent_until)
			return m->silent_until;
		m->silent_until = 0;
	}
	if (m->busy) {
		if (now >= m->send_due)
			m_send_complete(m);
		else
			next = m->send_due;
	}
	/* Registration change URC. */
	st = m_reg_stat(m, now);
	if (st != m->last_reg) {
		m->last_reg = st;
		if (m->creg_n >= 1)
			m_urc(m, "+CREG: %d", st);
	}
	if (st == 2 && m->reg_at > now && m->reg_at < next)
		next = m->reg_at;
	for (i = 0; i < m->nreports; ) {
		if (m->reports[i].due <= now) {
			m_emit_report(m, m->reports[i].mr, m->reports[i].st);
			m->reports[i] = m->reports[--m->nreports];
		} else {
			if (m->reports[i].due < next)
				next = m->reports[i].due;
			i++;
		}
	}
	if (m->noise && m->mode == IN_CMD) {
		if (now >= m->noise_next) {
			m_line(m, "%s", noise_lines[rand() % NOISE_LINES]);
			m->noise_next = now + 100 + rand() % 700;
		}
		if (m->noise_next < next)
			next = m->noise_next;
	}
	/* Process host input unless a send is running. */
	while (!m->busy && m->silent_until == 0 && m->inq.len > 0) {
		size_t	k, n = m->inq.len;

		for (k = 0; k < n && !m->busy && m->silent_until == 0; k++)
			m_input_byte(m, (unsigned char)m->inq.d[k], now);
		buf_consume(&m->inq, k);
	}
	/* URCs go out when no command or prompt is in progress. */
	if (!m->busy && m->mode == IN_CMD && m->linelen == 0 &&
	    m->urcq.len > 0 && m->silent_until == 0) {
		m_raw(m, m->urcq.d, m->urcq.len);
		m->urcq.len = 0;
	}
	if (m->silent_until > now && m->silent_until < next)
		next = m->silent_until;
	if (m->busy && m->send_due < next)
		next = m->send_due;
	return next;
}

static int64_t
credit_cap(void)
{
	int64_t	bps = g.baud / 10, cap = bps * 50;	/* 50 ms worth */

	return cap < 16 * 1000 ? 16 * 1000 : cap;
}

static void
credits_add(int64_t now)
{
	int64_t	dt = now - g.last_credit, add, cap = credit_cap();
	int	i;

	g.last_credit = now;
	if (g.baud <= 0 || dt <= 0)
		return;
	add = dt * (g.baud / 10);	/* milli-bytes */
	for (i = 0; i < g.nmodems; i++) {
		struct modem *m = &g.modems[i];

		m->in_credit = m->in_credit + add > cap ? cap :
		    m->in_credit + add;
		m->out_credit = m->out_credit + add > cap ? cap :
		    m->out_credit + add;
	}
}

static size_t
allowance(int64_t credit, size_t want)
{
	int64_t	bytes;

	if (g.baud <= 0)
		return want;
	bytes = credit / 1000;
	if (bytes <= 0)
		return 0;
	return (size_t)bytes < want ? (size_t)bytes : want;
}

static void
m_do_read(struct modem *m)
{
	char	tmp[4096];
	size_t	want = INBUF_MAX - m->inq.len;
	ssize_t	n;

	if (want > sizeof(tmp))
		want = sizeof(tmp);
	want = allowance(m->in_credit, want);
	if (want == 0)
		return;
	n = read(m->mfd, tmp, want);
	if (n <= 0)
		return;
	if (g.baud > 0)
		m->in_credit -= (int64_t)n * 1000;
	if (m->silent_until != 0) {
		log_bytes(m, "<- (silenced)", tmp, (size_t)n);
		return;
	}
	buf_add(&m->inq, tmp, (size_t)n);
}

static void
m_do_write(struct modem *m)
{
	size_t	want = allowance(m->out_credit, m->outq.len);
	ssize_t	n;

	if (want == 0)
		return;
	n = write(m->mfd, m->outq.d, want);
	if (n <= 0)
		return;
	if (g.baud > 0)
		m->out_credit -= (int64_t)n * 1000;
	buf_consume(&m->outq, (size_t)n);
}

/* ---- control socket ---- */

static struct modem *
modem_by_name(const char *s)
{
	int	i;

	if (s == NULL)
		return NULL;
	if (*s == 'm')
		s++;
	i = atoi(s);
	if (i < 1 || i > g.nmodems)
		return NULL;
	return &g.modems[i - 1];
}

/* Unescape \n, \t, \r, \\ in place. */
static void
unescape(char *s)
{
	char	*o = s;

	for (; *s != '\0'; s++) {
		if (*s == '\\' && s[1] != '\0') {
			s++;
			*o++ = *s == 'n' ? '\n' : *s == 't' ? '\t' :
			    *s == 'r' ? '\r' : *s;
		} else
			*o++ = *s;
	}
	*o = '\0';
}

/* Split off the next space-separated word; returns NULL if none. */
static char *
word(char **p)
{
	char	*s = *p, *w;

	while (*s == ' ')
		s++;
	if (*s == '\0')
		return NULL;
	w = s;
	while (*s != '\0' && *s != ' ')
		s++;
	if (*s == ' ')
		*s++ = '\0';
	*p = s;
	return w;
}

/* Rest of the line after one separating space (the text argument). */
static char *
rest_text(char *p)
{
	if (*p == ' ')
		p++;
	unescape(p);
	return p;
}

static void
ctl_deliver_parts(struct modem *m, const char *from, const char *text,
    struct emu_part *parts, int np, bool announce, struct buf *reply)
{
	int	i, idx;
	bool	direct = announce && m->cnmi[1] == 2 && m->plugged;

	json_fmt(reply, "ok parts=%d", np);
	for (i = 0; i < np; i++) {
		m->n_recv++;
		if (direct) {
			m_urc(m, "+CMT: ,%d\r\n%s",
			    emu_pdu_tpdu_len(parts[i].hex), parts[i].hex);
			json_fmt(reply, " direct");
			continue;
		}
		if ((idx = m_store(m, parts[i].hex, 0, false, from,
		    text)) < 0) {
			json_fmt(reply, " full");
			continue;
		}
		json_fmt(reply, " idx=%d", idx + 1);
		if (announce && (m->cnmi[1] == 1 || m->cnmi[1] == 3))
			m_urc(m, "+CMTI: \"ME\",%d", idx + 1);
	}
}

static const char *
modem_state(const struct modem *m, int64_t now)
{
	if (!m->plugged)
		return "unplugged";
	if (m->silent_until > now)
		return "silent";
	if (m->sim == SIM_PIN)
		return "sim_pin";
	if (m->sim == SIM_PUK)
		return "sim_puk";
	if (m->busy)
		return "sending";
	if (m->mode == IN_PDU)
		return "pdu_input";
	if (!m_registered(m, now))
		return "searching";
	return "ready";
}

static void
ctl_list(struct modem *m, struct buf *r)
{
	struct slot *s;
	int	i;
	bool	first = true;

	json_fmt(r, "ok {\"modem\":\"%s\",\"messages\":[", m->name);
	for (i = 0; i < g.storage; i++) {
		s = &m->slots[i];
		if (!s->used)
			continue;
		json_fmt(r, "%s{\"index\":%d,\"stat\":%d,\"type\":\"%s\","
		    "\"addr\":", first ? "" : ",", i + 1, s->stat,
		    s->report ? "report" : s->stat <= 1 ? "deliver" :
		    "submit");
		json_str(r, s->addr);
		json_fmt(r, ",\"text\":");
		json_str(r, s->text ? s->text : "");
		json_fmt(r, ",\"pdu\":\"%s\"}", s->pdu);
		first = false;
	}
	json_fmt(r, "]}");
}

static void
ctl_command(char *line, struct buf *r)
{
	char	*p = line, *cmd, *mname, *a, *b, *c, *d;
	struct modem *m = NULL;
	struct emu_part *parts;
	int64_t	now = now_ms();
	int	np, v;

	if ((cmd = word(&p)) == NULL) {
		json_fmt(r, "err empty command");
		return;
	}
	if (strcmp(cmd, "quit") == 0) {
		g.quit = true;
		json_fmt(r, "ok bye");
		return;
	}
	if (strcmp(cmd, "help") == 0) {
		json_fmt(r, "ok deliver deliver-parts store report auto-report "
		    "fault unplug replug stats list quit");
		return;
	}
	mname = word(&p);
	if ((m = modem_by_name(mname)) == NULL) {
		json_fmt(r, "err unknown modem");
		return;
	}
	if (strcmp(cmd, "deliver") == 0 || strcmp(cmd, "store") == 0) {
		if ((a = word(&p)) == NULL) {
			json_fmt(r, "err usage: %s <modem> <from> <text>", cmd);
			return;
		}
		b = rest_text(p);
		parts = xmalloc_emu(sizeof(*parts) * PARTS_MAX);
		np = emu_pdu_build_deliver(a, b, m->deliver_ref, time(NULL),
		    parts, PARTS_MAX);
		if (np < 0)
			json_fmt(r, "err cannot encode (bad sender, UTF-8 "
			    "or more than %d parts)", PARTS_MAX);
		else {
			if (np > 1)
				m->deliver_ref = (m->deliver_ref + 1) & 0xff;
			ctl_deliver_parts(m, a, b, parts, np,
			    strcmp(cmd, "deliver") == 0, r);
		}
		free(parts);
		return;
	}
	if (strcmp(cmd, "deliver-parts") == 0) {
		struct emu_part part;

		if ((a = word(&p)) == NULL || (b = word(&p)) == NULL ||
		    (c = word(&p)) == NULL || (d = word(&p)) == NULL) {
			json_fmt(r, "err usage: deliver-parts <modem> <from> "
			    "<ref> <total> <seq> <text>");
			return;
		}
		p = rest_text(p);
		if (!emu_pdu_build_deliver_part(a, p, atoi(b), atoi(c),
		    atoi(d), time(NULL), &part)) {
			json_fmt(r, "err cannot encode part");
			return;
		}
		ctl_deliver_parts(m, a, p, &part, 1, true, r);
		return;
	}
	if (strcmp(cmd, "report") == 0) {
		a = word(&p);
		b = word(&p);
		if (a == NULL || b == NULL) {
			json_fmt(r, "err usage: report <modem> <mr> "
			    "delivered|failed|pending");
			return;
		}
		v = strcmp(b, "delivered") == 0 ? 0x00 :
		    strcmp(b, "failed") == 0 ? 0x41 :
		    strcmp(b, "pending") == 0 ? 0x20 : -1;
		if (v < 0) {
			json_fmt(r, "err bad status");
			return;
		}
		if (!m->plugged || !m_emit_report(m, atoi(a) & 0xff, v))
			json_fmt(r, "err report dropped (unplugged, "
			    "CNMI ds=0 or storage full)");
		else
			json_fmt(r, "ok");
		return;
	}
	if (strcmp(cmd, "auto-report") == 0) {
		a = word(&p);
		if (a == NULL ||
		    (strcmp(a, "on") != 0 && strcmp(a, "off") != 0)) {
			json_fmt(r, "err usage: auto-report <modem> on|off");
			return;
		}
		m->auto_report = strcmp(a, "on") == 0;
		json_fmt(r, "ok");
		return;
	}
	if (strcmp(cmd, "fault") == 0) {
		a = word(&p);
		b = word(&p);
		c = word(&p);
		if (a != NULL && strcmp(a, "silence") == 0 && b != NULL) {
			m->silent_until = now + (atoi(b) > 0 ? atoi(b) : 1);
			json_fmt(r, "ok");
		} else if (a != NULL && strcmp(a, "garbage") == 0) {
			char	junk[64];
			size_t	i;

			for (i = 0; i < sizeof(junk); i++) {
				junk[i] = (char)(rand() % 256);
				if (isalnum((unsigned char)junk[i]))
					junk[i] = '\0';
			}
			m_raw(m, "\r\n", 2);
			m_raw(m, junk, sizeof(junk));
			m_raw(m, "\r\n", 2);
			for (i = 0; i < 80; i++)
				m_raw(m, "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~"
				    "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~", 64);
			m_raw(m, "\r\n", 2);
			json_fmt(r, "ok");
		} else if (a != NULL && strcmp(a, "cms") == 0 && b != NULL &&
		    c != NULL) {
			m->cms_code = atoi(b);
			m->cms_count = atoi(c) > 0 ? atoi(c) : 0;
			json_fmt(r, "ok");
		} else if (a != NULL && strcmp(a, "noise") == 0 && b != NULL &&
		    (strcmp(b, "on") == 0 || strcmp(b, "off") == 0)) {
			m->noise = strcmp(b, "on") == 0;
			m->noise_next = now + 100 + rand() % 400;
			json_fmt(r, "ok");
		} else
			json_fmt(r, "err usage: fault <modem> silence <ms> | "
			    "garbage | cms <code> <count> | noise on|off");
		return;
	}
	if (strcmp(cmd, "unplug") == 0) {
		if (!m->plugged) {
			json_fmt(r, "err not plugged");
			return;
		}
		m_unplug(m);
		json_fmt(r, "ok");
		return;
	}
	if (strcmp(cmd, "replug") == 0) {
		m_unplug(m);
		if (m_plug(m, now) < 0)
			json_fmt(r, "err cannot create pty: %s",
			    strerror(errno));
		else
			json_fmt(r, "ok %s", m->pts);
		return;
	}
	if (strcmp(cmd, "stats") == 0) {
		json_fmt(r, "ok {\"modem\":\"%s\",\"plugged\":%s,\"pts\":",
		    m->name, m->plugged ? "true" : "false");
		json_str(r, m->plugged ? m->pts : "");
		json_fmt(r, ",\"state\":\"%s\",\"sent\":%lu,\"commands\":%lu,"
		    "\"received\":%lu,\"reports\":%lu,\"storage_used\":%d,"
		    "\"storage_total\":%d,\"echo\":%s,\"cmee\":%d,"
		    "\"cnmi\":[%d,%d,%d,%d,%d],\"next_mr\":%d,"
		    "\"cms_fault_left\":%d,\"noise\":%s,\"auto_report\":%s,"
		    "\"out_dropped\":%zu}",
		    modem_state(m, now), m->n_sent, m->n_cmds, m->n_recv,
		    m->n_reports, m_storage_used(m), g.storage,
		    m->echo ? "true" : "false", m->cmee, m->cnmi[0],
		    m->cnmi[1], m->cnmi[2], m->cnmi[3], m->cnmi[4],
		    m->mr_next, m->cms_count, m->noise ? "true" : "false",
		    m->auto_report ? "true" : "false", m->outq.dropped);
		return;
	}
	if (strcmp(cmd, "list") == 0) {
		ctl_list(m, r);
		return;
	}
	json_fmt(r, "err unknown command");
}

/* Write all of a reply, waiting at most ~1 s for a slow reader. */
static void
ctl_write(int fd, const char *p, size_t n)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	ssize_t	w;
	int	tries = 0;

	while (n > 0 && tries < 20) {
		w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			return;
		poll(&pfd, 1, 50);
		tries++;
	}
}

static void
ctl_client_close(struct ctl_client *c)
{
	close(c->fd);
	c->fd = -1;
	c->len = 0;
	c->over = false;
}

static void
ctl_client_read(struct ctl_client *c)
{
	char	tmp[4096];
	ssize_t	n;
	size_t	i, start;
	struct buf r;

	n = read(c->fd, tmp, sizeof(tmp));
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			ctl_client_close(c);
		return;
	}
	for (i = 0, start = 0; i < (size_t)n; i++) {
		if (tmp[i] != '\n')
			continue;
		if (c->over) {
			c->over = false;
			c->len = 0;
			ctl_write(c->fd, "err line too long\n", 18);
			start = i + 1;
			continue;
		}
		if (c->len + (i - start) >= sizeof(c->buf)) {
			c->len = 0;
			ctl_write(c->fd, "err line too long\n", 18);
			start = i + 1;
			continue;
		}
		memcpy(c->buf + c->len, tmp + start, i - start);
		c->len += i - start;
		c->buf[c->len] = '\0';
		if (c->len > 0 && c->buf[c->len - 1] == '\r')
			c->buf[--c->len] = '\0';
		c->len = 0;
		start = i + 1;
		buf_init(&r, 1024 * 1024);
		ctl_command(c->buf, &r);
		buf_add(&r, "\n", 1);
		ctl_write(c->fd, r.d, r.len);
		buf_free(&r);
		if (c->fd < 0)
			return;
	}
	if (start < (size_t)n) {
		if (c->over || c->len + ((size_t)n - start) >= sizeof(c->buf))
			c->over = true;
		else {
			memcpy(c->buf + c->len, tmp + start, (size_t)n - start);
			c->len += (size_t)n - start;
		}
	}
}

static void
ctl_accept(void)
{
	int	fd, i;

	if ((fd = accept4(g.ctl_fd, NULL, NULL, SOCK_CLOEXEC |
	    SOCK_NONBLOCK)) < 0)
		return;
	for (i = 0; i < CTL_CLIENTS; i++)
		if (g.clients[i].fd < 0) {
			g.clients[i].fd = fd;
			g.clients[i].len = 0;
			g.clients[i].over = false;
			return;
		}
	ctl_write(fd, "err too many clients\n", 21);
	close(fd);
}

static void
ctl_open(void)
{
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(g.ctl_path, sizeof(g.ctl_path), "%s/ctl", g.dir);
	if (strlen(g.ctl_path) >= sizeof(sun.sun_path))
		die("control socket path too long: %s", g.ctl_path);
	memcpy(sun.sun_path, g.ctl_path, strlen(g.ctl_path) + 1);
	unlink(g.ctl_path);
	if ((g.ctl_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) < 0)
		die("socket: %s", strerror(errno));
	if (bind(g.ctl_fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(g.ctl_fd, 8) < 0)
		die("%s: %s", g.ctl_path, strerror(errno));
}

/* ---- main ---- */

static void
on_signal(int sig)
{
	got_signal = sig;
}

static void
cleanup(void)
{
	int	i;

	for (i = 0; i < g.nmodems; i++) {
		m_unplug(&g.modems[i]);
		buf_free(&g.modems[i].inq);
		buf_free(&g.modems[i].outq);
		buf_free(&g.modems[i].urcq);
		if (g.modems[i].slots != NULL) {
			int k;

			for (k = 0; k < g.storage; k++)
				free(g.modems[i].slots[k].text);
			free(g.modems[i].slots);
		}
	}
	for (i = 0; i < CTL_CLIENTS; i++)
		if (g.clients[i].fd >= 0)
			close(g.clients[i].fd);
	if (g.ctl_fd >= 0) {
		close(g.ctl_fd);
		unlink(g.ctl_path);
	}
	unlink(g.pid_path);
	if (g.sent != NULL)
		fclose(g.sent);
	if (g.log != NULL && g.log != stderr)
		fclose(g.log);
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: atemu --dir DIR [options]\n"
"Emulate GSM modems (27.005/27.007, PDU mode) on ptys.\n"
"\n"
"  -d, --dir DIR          work dir: DIR/m<i> pty links, DIR/ctl control\n"
"                         socket, DIR/atemu.pid, DIR/sent.jsonl (required)\n"
"  -n, --modems N         number of modems (1..%d, default 1)\n"
"  -p, --pin PIN          SIM needs this PIN (default: no PIN; PUK %s)\n"
"  -r, --reg-delay-ms MS  registration delay after SIM ready (default 300)\n"
"  -b, --baud B           pace both directions at B/10 bytes/s\n"
"                         (default 115200, 0 = unlimited)\n"
"  -S, --no-storage-send  +CMGW/+CMSS answer +CMS ERROR: 302\n"
"  -C, --no-chain         answer ERROR to a line chaining commands (;)\n"
"  -D, --send-delay-ms MS network time for each +CMGS/+CMSS (default 0)\n"
"  -s, --storage N        message storage slots (1..%d, default 30)\n"
"  -l, --log FILE         AT trace and events to FILE (\"-\" = stderr)\n"
"  -V, --version          print the version\n"
"  -h, --help             this help\n"
"\n"
"Prints \"ready\" on stdout once all ptys exist.  Control protocol: see\n"
"tests/emu/README.md (or send \"help\" on DIR/ctl).\n",
	    MODEMS_MAX, PUK_CODE, STORAGE_MAX);
}

static long
num_arg(const char *s, long lo, long hi, const char *what)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < lo || v > hi)
		die("bad %s: %s (want %ld..%ld)", what, s, lo, hi);
	return v;
}

static void
run(void)
{
	struct pollfd pfds[1 + CTL_CLIENTS + MODEMS_MAX];
	int	idx_client[CTL_CLIENTS], idx_modem[MODEMS_MAX];
	sigset_t empty;
	struct timespec ts;
	int64_t	now, next, t;
	int	i, n, timeout;
	bool	starved;

	sigemptyset(&empty);
	g.last_credit = now_ms();
	while (!g.quit && got_signal == 0) {
		now = now_ms();
		credits_add(now);
		next = now + 1000;
		starved = false;
		for (i = 0; i < g.nmodems; i++) {
			struct modem *m = &g.modems[i];

			if ((t = m_tick(m, now)) < next)
				next = t;
			if (m->plugged && g.baud > 0 &&
			    ((m->outq.len > 0 && m->out_credit < 1000) ||
			    m->in_credit < 1000))
				starved = true;
		}
		n = 0;
		pfds[n].fd = g.ctl_fd;
		pfds[n++].events = POLLIN;
		for (i = 0; i < CTL_CLIENTS; i++) {
			idx_client[i] = -1;
			if (g.clients[i].fd < 0)
				continue;
			idx_client[i] = n;
			pfds[n].fd = g.clients[i].fd;
			pfds[n++].events = POLLIN;
		}
		for (i = 0; i < g.nmodems; i++) {
			struct modem *m = &g.modems[i];
			short	ev = 0;

			idx_modem[i] = -1;
			if (!m->plugged)
				continue;
			if (m->inq.len < INBUF_MAX &&
			    allowance(m->in_credit, 1) > 0)
				ev |= POLLIN;
			if (m->outq.len > 0 && allowance(m->out_credit, 1) > 0)
				ev |= POLLOUT;
			if (ev == 0)
				continue;
			idx_modem[i] = n;
			pfds[n].fd = m->mfd;
			pfds[n++].events = ev;
		}
		timeout = next <= now ? 0 : (int)(next - now);
		if (starved && timeout > TICK_MS)
			timeout = TICK_MS;
		ts.tv_sec = timeout / 1000;
		ts.tv_nsec = (long)(timeout % 1000) * 1000000;
		if (ppoll(pfds, (nfds_t)n, &ts, &empty) < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		now = now_ms();
		credits_add(now);
		if (pfds[0].revents & POLLIN)
			ctl_accept();
		for (i = 0; i < CTL_CLIENTS; i++)
			if (idx_client[i] >= 0 && g.clients[i].fd >= 0 &&
			    pfds[idx_client[i]].revents != 0)
				ctl_client_read(&g.clients[i]);
		for (i = 0; i < g.nmodems; i++) {
			struct modem *m = &g.modems[i];
			short	re;

			if (idx_modem[i] < 0 || !m->plugged)
				continue;
			re = pfds[idx_modem[i]].revents;
			if (re & POLLIN)
				m_do_read(m);
			if (re & POLLOUT)
				m_do_write(m);
		}
	}
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "modems", required_argument, NULL, 'n' },
		{ "pin", required_argument, NULL, 'p' },
		{ "reg-delay-ms", required_argument, NULL, 'r' },
		{ "baud", required_argument, NULL, 'b' },
		{ "no-storage-send", no_argument, NULL, 'S' },
		{ "no-chain", no_argument, NULL, 'C' },
		{ "send-delay-ms", required_argument, NULL, 'D' },
		{ "storage", required_argument, NULL, 's' },
		{ "log", required_argument, NULL, 'l' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct sigaction sa;
	sigset_t block;
	char	 path[PATH_MAX];
	const char *logpath = NULL;
	FILE	*f;
	int	 ch, i;
	int64_t	 now;

	g.nmodems = 1;
	g.reg_delay_ms = 300;
	g.baud = 115200;
	g.storage = 30;
	g.ctl_fd = -1;
	for (i = 0; i < CTL_CLIENTS; i++)
		g.clients[i].fd = -1;
	while ((ch = getopt_long(argc, argv, "d:n:p:r:b:SCD:s:l:Vh", opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			if (snprintf(g.dir, sizeof(g.dir), "%s", optarg) >=
			    (int)sizeof(g.dir) - 32)
				die("--dir too long");
			break;
		case 'n':
			g.nmodems = (int)num_arg(optarg, 1, MODEMS_MAX,
			    "--modems");
			break;
		case 'p':
			if (*optarg == '\0' || strlen(optarg) > 16)
				die("bad --pin");
			g.pin = optarg;
			break;
		case 'r':
			g.reg_delay_ms = (int)num_arg(optarg, 0, 3600000,
			    "--reg-delay-ms");
			break;
		case 'b':
			g.baud = num_arg(optarg, 0, 100000000, "--baud");
			break;
		case 'S':
			g.no_storage_send = true;
			break;
		case 'C':
			g.no_chain = true;
			break;
		case 'D':
			g.send_delay_ms = (int)num_arg(optarg, 0, 3600000,
			    "--send-delay-ms");
			break;
		case 's':
			g.storage = (int)num_arg(optarg, 1, STORAGE_MAX,
			    "--storage");
			break;
		case 'l':
			logpath = optarg;
			break;
		case 'V':
			printf("atemu %s\n", ATEMU_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || g.dir[0] == '\0') {
		usage(stderr);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	srand((unsigned)getpid());
	if (mkdir(g.dir, 0755) < 0 && errno != EEXIST)
		die("%s: %s", g.dir, strerror(errno));
	if (logpath != NULL) {
		if (strcmp(logpath, "-") == 0)
			g.log = stderr;
		else if ((g.log = fopen(logpath, "a")) == NULL)
			die("%s: %s", logpath, strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/sent.jsonl", g.dir);
	if ((g.sent = fopen(path, "a")) == NULL)
		die("%s: %s", path, strerror(errno));

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	ctl_open();
	now = now_ms();
	for (i = 0; i < g.nmodems; i++) {
		struct modem *m = &g.modems[i];

		m->num = i + 1;
		snprintf(m->name, sizeof(m->name), "m%d", i + 1);
		snprintf(path, sizeof(path), "%s/m%d", g.dir, i + 1);
		memcpy(m->link, path, sizeof(m->link));
		m->mfd = m->sfd = -1;
		m->send_slot = -1;
		buf_init(&m->inq, INBUF_MAX);
		buf_init(&m->outq, OUTQ_MAX);
		buf_init(&m->urcq, URCQ_MAX);
		m->slots = xmalloc_emu(sizeof(*m->slots) * (size_t)g.storage);
		if (m_plug(m, now) < 0) {
			cleanup();
			die("cannot create pty for %s: %s", m->name,
			    strerror(errno));
		}
	}
	snprintf(g.pid_path, sizeof(g.pid_path), "%s/atemu.pid", g.dir);
	if ((f = fopen(g.pid_path, "w")) == NULL) {
		cleanup();
		die("%s: %s", g.pid_path, strerror(errno));
	}
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
	printf("ready\n");
	run();
	logmsg("exiting (%s)", got_signal ? "signal" : "quit");
	cleanup();
	return 0;
}
