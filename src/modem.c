/*
 * modem: the per-modem state machine.  Each state has an entry action
 * (modem_enter) and at most one timer; AT commands are chained through
 * their completion callbacks, never with sleeps.
 */
#include "smsgw/modem.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smsgw/at_chat.h"
#include "smsgw/at_result.h"
#include "smsgw/conf.h"
#include "smsgw/ev.h"
#include "smsgw/log.h"
#include "smsgw/serial.h"
#include "smsgw/util.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000
#define HOTPLUG_SETTLE_MS 200	/* let udev finish the node it made */
#define PROBE_TRIES 5
#define REG_POLL_MS 250
#define REG_GIVEUP_MS 180000
#define HEALTH_POLL_MS 30000
#define SIM_RETRY_MS 2000

/*
 * Vendor noise: unsolicited lines some modems print that carry nothing we
 * use (Huawei ^RSSI/^BOOT/^MODE/^DSFLOWRPT, Quectel/SIMCom status lines).
 * Registered as URCs so they are swallowed quietly instead of logged as
 * unknown.  Data, not scattered ifs: add a prefix here for a new modem.
 */
static const char *const quirk_noise[] = {
	"^RSSI:", "^BOOT:", "^MODE:", "^DSFLOWRPT:", "^SRVST:", "^SIMST:",
	"^HCSQ:", "^CEND:", "^ORIG:", "^CONF:", "+QIND:", "+CPIN:", "SMS DONE",
	"PB DONE", "Call Ready", "RDY", "+CFUN:", "+QUSIM:", "*PSUTTZ:",
	"+CTZV:", "+CIEV:", "+CGREG:", "+CEREG:", "RING", NULL,
};

struct modem {
	struct ev *ev;
	struct conf_modem cfg;
	unsigned reset_timeouts;
	struct modem_events evs;
	void *arg;
	enum modem_state state;
	struct serial *port;
	struct at_chat *chat;
	uint32_t timer;
	unsigned backoff_ms;
	int tries;
	bool pin_sent;
	bool storage_send;
	uint64_t reg_started;
	uint64_t gen;	/* bumps on every (re)open: stale callbacks ignored */
	struct modem_info info;
	bool logged_absent;
	struct serial_watch *watch;	/* while the device is absent */
	uint32_t watch_io;
};

/* Callback context that dies with the chat generation. */
struct mctx {
	struct modem *m;
	uint64_t gen;
};

static void modem_enter(struct modem *m, enum modem_state st);
static void modem_close_port(struct modem *m);

const char *
modem_state_name(enum modem_state st)
{
	static const char *const names[] = { "backoff", "probe", "init",
		"sim_wait", "reg_wait", "ready", "reset", "failed" };

	return (unsigned)st < sizeof(names) / sizeof(names[0]) ?
	    names[st] : "?";
}

int
modem_csq_to_dbm(int rssi)
{
	if (rssi < 0 || rssi > 31)
		return 0;
	return -113 + 2 * rssi;
}

static struct mctx *
mctx_new(struct modem *m)
{
	struct mctx *c = xmalloc(sizeof(*c));

	c->m = m;
	c->gen = m->gen;
	return c;
}

/* The modem behind a callback context, or NULL if it is stale. */
static struct modem *
mctx_modem(void *arg)
{
	struct mctx *c = arg;

	return c->m->gen == c->gen ? c->m : NULL;
}

static void
modem_set_error(struct modem *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
modem_set_error(struct modem *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->info.last_error, sizeof(m->info.last_error), fmt, ap);
	va_end(ap);
}

static uint32_t
modem_cmd(struct modem *m, const char *cmd, const char *const *prefixes,
    unsigned timeout_ms, at_chat_cb cb)
{
	struct mctx *c = mctx_new(m);
	uint32_t id;

	id = at_chat_send(m->chat, cmd, prefixes, timeout_ms, cb, c, free);
	if (id == 0)
		free(c);
	return id;
}

static void
modem_timer_set(struct modem *m, uint64_t ms, ev_timer_cb cb)
{
	ev_timer_del(m->ev, m->timer);
	m->timer = ev_timer_add(m->ev, ms, cb, m);
}

/* A command failed: count timeouts and reset when there are too many. */
static bool
modem_check_timeouts(struct modem *m, const struct at_response *r)
{
	if (r->status != AT_STATUS_TIMEOUT)
		return false;
	if (at_chat_timeouts(m->chat) >= m->reset_timeouts) {
		log_warnx("modem", "%s: %u command timeouts in a row, "
		    "resetting", m->cfg.name, at_chat_timeouts(m->chat));
		modem_set_error(m, "%u timeouts in a row",
		    at_chat_timeouts(m->chat));
		modem_enter(m, MODEM_RESET);
		return true;
	}
	return false;
}

void
modem_note_timeout(struct modem *m)
{
	if (m->chat != NULL && m->state == MODEM_READY &&
	    at_chat_timeouts(m->chat) >= m->reset_timeouts) {
		log_warnx("modem", "%s: %u command timeouts in a row, "
		    "resetting", m->cfg.name, at_chat_timeouts(m->chat));
		modem_set_error(m, "%u timeouts in a row",
		    at_chat_timeouts(m->chat));
		modem_enter(m, MODEM_RESET);
	}
}

/* --- unsolicited results -------------------------------------------- */

static int
urc_index(const char *line, const char *prefix)
{
	struct at_result_iter it;
	const char *mem;
	int idx;

	at_result_iter_init_line(&it, line);
	if (!at_result_iter_next(&it, prefix))
		return -1;
	if (!at_result_iter_next_string(&it, &mem))
		return -1;
	if (!at_result_iter_next_number(&it, &idx))
		return -1;
	return idx;
}

static void
urc_cmti(const char *line, const char *pdu, void *arg)
{
	struct modem *m = mctx_modem(arg);
	int idx;

	(void)pdu;
	if (m == NULL || (idx = urc_index(line, "+CMTI:")) < 0)
		return;
	log_debug("modem", "%s: new SMS at index %d", m->cfg.name, idx);
	if (m->evs.sms_stored != NULL)
		m->evs.sms_stored(m, idx, m->arg);
}

static void
urc_cdsi(const char *line, const char *pdu, void *arg)
{
	struct modem *m = mctx_modem(arg);
	int idx;

	(void)pdu;
	if (m == NULL || (idx = urc_index(line, "+CDSI:")) < 0)
		return;
	if (m->evs.report_stored != NULL)
		m->evs.report_stored(m, idx, m->arg);
}

static void
urc_cmt(const char *line, const char *pdu, void *arg)
{
	struct modem *m = mctx_modem(arg);

	(void)line;
	if (m == NULL || pdu == NULL || pdu[0] == '\0')
		return;
	if (m->evs.sms_direct != NULL)
		m->evs.sms_direct(m, pdu, m->arg);
}

static void
urc_cds(const char *line, const char *pdu, void *arg)
{
	struct modem *m = mctx_modem(arg);

	(void)line;
	if (m == NULL || pdu == NULL || pdu[0] == '\0')
		return;
	if (m->evs.status_report != NULL)
		m->evs.status_report(m, pdu, m->arg);
}

static void
urc_creg(const char *line, const char *pdu, void *arg)
{
	struct modem *m = mctx_modem(arg);
	struct at_result_iter it;
	int stat;

	(void)pdu;
	if (m == NULL)
		return;
	at_result_iter_init_line(&it, line);
	if (!at_result_iter_next(&it, "+CREG:") ||
	    !at_result_iter_next_number(&it, &stat))
		return;
	m->info.registered = stat == 1 || stat == 5;
	m->info.roaming = stat == 5;
	/* Registration announced: no need to wait for the next poll. */
	if (m->info.registered && m->state == MODEM_REG_WAIT)
		modem_enter(m, MODEM_READY);
}

static void
urc_noise(const char *line, const char *pdu, void *arg)
{
	(void)line;
	(void)pdu;
	(void)arg;
}

static void
modem_register_urcs(struct modem *m)
{
	size_t i;

	at_chat_register(m->chat, "+CMTI:", false, urc_cmti, mctx_new(m),
	    free);
	at_chat_register(m->chat, "+CDSI:", false, urc_cdsi, mctx_new(m),
	    free);
	at_chat_register(m->chat, "+CMT:", true, urc_cmt, mctx_new(m), free);
	at_chat_register(m->chat, "+CDS:", true, urc_cds, mctx_new(m), free);
	at_chat_register(m->chat, "+CREG:", false, urc_creg, mctx_new(m),
	    free);
	for (i = 0; quirk_noise[i] != NULL; i++)
		at_chat_register(m->chat, quirk_noise[i], false, urc_noise,
		    NULL, NULL);
}

/* --- port ----------------------------------------------------------- */

static void
on_disconnect(void *arg)
{
	struct modem *m = arg;

	log_warnx("modem", "%s: port %s lost", m->cfg.name, m->cfg.device);
	modem_set_error(m, "port lost");
	m->info.reopens++;
	modem_enter(m, MODEM_BACKOFF);
}

static void
modem_close_port(struct modem *m)
{
	m->gen++;
	if (m->chat != NULL) {
		at_chat_free(m->chat);
		m->chat = NULL;
	}
	serial_close(m->port);
	m->port = NULL;
}

static void backoff_done(void *arg);

static void
watch_stop(struct modem *m)
{
	if (m->watch == NULL)
		return;
	ev_io_del(m->ev, m->watch_io);
	m->watch_io = 0;
	serial_watch_free(m->watch);
	m->watch = NULL;
}

/* Something changed where the device lives: if it is back, try now
 * rather than at the end of the backoff. */
static void
watch_io(int fd, short revents, void *arg)
{
	struct modem *m = arg;

	(void)fd;
	(void)revents;
	if (m->watch == NULL || !serial_watch_check(m->watch) ||
	    m->state != MODEM_BACKOFF || m->port != NULL)
		return;
	log_debug("modem", "%s: %s appeared", m->cfg.name, m->cfg.device);
	m->backoff_ms = BACKOFF_MIN_MS;
	modem_timer_set(m, HOTPLUG_SETTLE_MS, backoff_done);
}

static void
watch_start(struct modem *m)
{
	if (m->watch != NULL)
		return;
	m->watch = serial_watch_new(m->cfg.device);
	if (m->watch == NULL)
		return;
	m->watch_io = ev_io_add(m->ev, serial_watch_fd(m->watch), POLLIN,
	    watch_io, m);
	if (m->watch_io == 0)
		watch_stop(m);
}

static void
backoff_done(void *arg)
{
	struct modem *m = arg;

	m->timer = 0;
	m->port = serial_open(m->cfg.device, m->cfg.baud);
	if (m->port == NULL) {
		watch_start(m);
		if (!m->logged_absent) {
			log_warnx("modem", "%s: cannot open %s: %s; retrying "
			    "with backoff", m->cfg.name, m->cfg.device,
			    strerror(errno));
			m->logged_absent = true;
		}
		modem_set_error(m, "cannot open %s: %s", m->cfg.device,
		    strerror(errno));
		m->backoff_ms = m->backoff_ms * 2 > BACKOFF_MAX_MS ?
		    BACKOFF_MAX_MS : m->backoff_ms * 2;
		modem_timer_set(m, m->backoff_ms, backoff_done);
		return;
	}
	m->logged_absent = false;
	watch_stop(m);
	m->gen++;
	m->chat = at_chat_new(m->ev, serial_fd(m->port));
	at_chat_set_disconnect_cb(m->chat, on_disconnect, m);
	modem_register_urcs(m);
	log_info("modem", "%s: opened %s", m->cfg.name, m->cfg.device);
	modem_enter(m, MODEM_PROBE);
}

/* --- probe and init ------------------------------------------------- */

static void init_step(struct modem *m, int step);
static void sim_check(struct modem *m);
static void reg_poll(void *arg);

static void
probe_done(bool ok, const struct at_response *r, void *arg)
{
	struct modem *m = mctx_modem(arg);

	if (m == NULL)
		return;
	if (ok) {
		modem_enter(m, MODEM_INIT);
		return;
	}
	if (r->status == AT_STATUS_IO_ERROR)
		return;
	if (++m->tries >= PROBE_TRIES) {
		log_warnx("modem", "%s: no answer to AT on %s", m->cfg.name,
		    m->cfg.device);
		modem_set_error(m, "no answer to AT");
		modem_enter(m, MODEM_RESET);
		return;
	}
	modem_cmd(m, "AT", NULL, 1000, probe_done);
}

static const char *const init_cmds[] = {
	"ATE0", "AT+CMEE=1", "AT+CMGF=0", NULL,
};

static void
init_done(bool ok, const struct at_response *r, void *arg)
{
	struct modem *m = mctx_modem(arg);

	if (m == NULL || r->status == AT_STATUS_IO_ERROR)
		return;
	if (!ok) {
		if (modem_check_timeouts(m, r))
			return;
		log_warnx("modem", "%s: %s failed (%s)", m->cfg.name,
		    init_cmds[m->tries], r->final);
		modem_set_error(m, "%s failed", init_cmds[m->tries]);
		if (m->tries == 2) {	/* no PDU mode: useless to us */
			modem_enter(m, MODEM_RESET);
			return;
		}
	}
	init_step(m, m->tries + 1);
}

static void
ident_done(bool ok, const struct at_response *r, void *arg)
{
	struct modem *m = mctx_modem(arg);
	char *dst;

	if (m == NULL || !ok || r->nlines == 0)
		return;
	dst = m->info.manufacturer[0] == '\0' ? m->info.manufacturer :
	    m->info.model;
	strlcpy_s(dst, r->lines[0], sizeof(m->info.model));
}

static void
init_step(struct modem *m, int step)
{
	m->tries = step;
	if (init_cmds[step] == NULL) {
		m->info.manufacturer[0] = m->info.model[0] = '\0';
		modem_cmd(m, "AT+CGMI", NULL, 2000, ident_done);
		modem_cmd(m, "AT+CGMM", NULL, 2000, ident_done);
		modem_enter(m, MODEM_SIM_WAIT);
		return;
	}
	modem_cmd(m, init_cmds[step], NULL, 2000, init_done);
}

/* --- SIM ------------------------------------------------------------ */

static void
sim_retry(void *arg)
{
	struct modem *m = arg;

	m->timer = 0;
	sim_check(m);
}

static void
pin_done(bool ok, const struct at_response *r, void *arg)
{
	struct modem *m = mctx_modem(arg);

	if (m == NULL || r->status == AT_STATUS_IO_ERROR)
		return;
	if (!ok && r->status != AT_STATUS_TIMEOUT) {
		log_warnx("modem", "%s: the SIM refused the configured PIN "
		    "(%s); not retrying, so the SIM is not locked. Fix the "
		    "pin and reload.", m->cfg.name, r->final);
		modem_set_error(m, "wrong PIN");
		modem_enter(m, MODEM_FAILED);
		return;
	}
	if (!ok && modem_check_timeouts(m, r))
		return;
	modem_timer_set(m, ok ? 500 : SIM_RETRY_MS, sim_retry);
}

static void
cpin_done(bool ok, const struct at_response *r, void *arg)
{
	struct modem *m = mctx_modem(arg);
	struct at_result_iter it;
	const char *st;
	char cmd[64];

	if (m == NULL || r->status == AT_STATUS_IO_ERROR)
		return;
	if (!ok) {
		if (modem_check_timeouts(m, r))
			return;
		/* +CME ERROR 10 no SIM, 13 failure, 14 busy: wait */
		if (r->error == 10)
			modem_set_error(m, "no SIM inserted");
		modem_timer_set(m, SIM_RETRY_MS, sim_retry);
		return;
	}
	at_result_iter_init(&it, r);
	if (!at_result_iter_next(&it, "+CPIN:") ||
	    !at_result_iter_next_unquoted_string(&it, &st)) {
		modem_timer_set(m, SIM_RETRY_MS, sim_retry);
		return;
	}
	if (strcmp(st, "READY") == 0) {
		modem_enter(m, MODEM_REG_WAIT);
		return;
	}
	if (strcmp(st, "SIM PIN") == 0) {
		if (m->cfg.pin[0] == '\0') {
			log_warnx("modem", "%s: the SIM needs a PIN and none "
			    "is configured", m->cfg.name);
			modem_set_error(m, "SIM PIN needed");
			modem_enter(m, MODEM_FAILED);
			return;
		}
		if (m->pin_sent) {
			log_warnx("modem", "%s: the SIM still asks for its "
			    "PIN after it was entered; not retrying",
			    m->cfg.name);
			modem_set_error(m, "wrong PIN");
			modem_enter(m, MODEM_FAILED);
			return;
		}
		m->pin_sent = true;
		snprintf(cmd, sizeof(cmd), "AT+CPIN=\"%s\"", m->cfg.pin);
		modem_cmd(m, cmd, NULL, 10000, pin_done);
		return;
	}
	log_warnx("modem", "%s: SIM state %s needs a person", m->cfg.name,
	    st);
	modem_set_error(m, "SIM %s", st);
	modem_enter(m, MODEM_FAILED);
}

static void
sim_check(struct modem *m)
{
	static const char *const pfx[] = { "+CPIN:", NULL };

	modem_cmd(m, "AT+CPIN?", pfx, 5000, cpin_done);
}

/* --- storage, routing, registration --------------------------------- */

static const char *const cpms_cmds[] = {
	"AT+CPMS=\"ME\",\"ME\",\"ME\"", "AT+CPMS=\"SM\",\"SM\",\"SM\"", NULL,
};
static const char *const cnmi_cmds[] = {
	"AT+CNMI=2,1,0,1,0", "AT+CNMI=2,1,0,2,0", "AT+CNMI=1,1,0,1,0",
	"AT+CNMI=2,2,0,1,0", "AT+CNMI=2,1", NULL,
};

static void cnmi_try(struct modem *m, int i);

static void
cnmi_done(bool ok, const struct at_response *r, void *arg)
{
	struct modem *m = mctx_modem(arg);

	if (m == NULL || r->status == AT_STATUS_IO_ERROR)
		return;
	if (ok) {
		m->info.cnmi_direct = strncmp(cnmi_cmds[m->tries],
		    "AT+CNMI=2,2", 11) == 0;
		m->reg_started = ev_now(m->ev);
		modem_cmd(m, "AT+CREG=1", NULL, 2000, NULL);
		reg_poll(m);
		return;
	}
	if (modem_check_timeouts(m, r))
		return;
	cnmi_try(m, m->tries + 1);
}

static void
cnmi_try(struct modem *m, int i)
{
	m->tries = i;
	if (cnmi_cmds[i] == NULL) {
		log_warnx("modem", "%s: refuses every +CNMI mode; incoming "
		    "SMS are polled", m->cfg.name);
		m->reg_started = ev_now(m->ev);
		reg_poll(m);
		return;
	}
	modem_cmd(m, cnmi_cmds[i], NULL, 2000, cnmi_done);
}

static void cpms_try(struct modem *m, int i);

static void
cpms_done(bool ok, const struct at_response *r, void *arg)
{
	struct modem *m = mctx_modem(arg);

	if (m == NULL || r->status == AT_STATUS_IO_ERROR)
		return;
	if (!ok && modem_check_timeouts(m, r))
		return;
	if (!ok) {
		cpms_try(m, m->tries + 1);
		return;
	}
	cnmi_try(m, 0);
}

static void
cpms_try(struct modem *m, int i)
{
	static const char *const pfx[] = { "+CPMS:", NULL };

	m->tries = i;
	if (cpms_cmds[i] == NULL) {
		log_warnx("modem", "%s: no SMS storage accepted; sending "
		    "with +CMGS", m->cfg.name);
		m->storage_send = false;
		cnmi_try(m, 0);
		return;
	}
	modem_cmd(m, cpms_cmds[i], pfx, 5000, cpms_done);
}

static void
creg_done(bool ok, const struct at_response *r, void *arg)
{
	struct modem *m = mctx_modem(arg);
	struct at_result_iter it;
	int n, stat;

	if (m == NULL || r->status == AT_STATUS_IO_ERROR ||
	    m->state != MODEM_REG_WAIT)
		return;	/* (a +CREG URC may have made it READY already) */
	if (!ok) {
		if (modem_check_timeouts(m, r))
			return;
		modem_timer_set(m, REG_POLL_MS, reg_poll);
		return;
	}
	at_result_iter_init(&it, r);
	if (at_result_iter_next(&it, "+CREG:") &&
	    at_result_iter_next_number(&it, &n) &&
	    at_result_iter_next_number(&it, &stat)) {
		m->info.registered = stat == 1 || stat == 5;
		m->info.roaming = stat == 5;
	}
	if (m->info.registered) {
		modem_enter(m, MODEM_READY);
		return;
	}
	if (ev_now(m->ev) - m->reg_started > REG_GIVEUP_MS) {
		log_warnx("modem", "%s: not registered after %d s, resetting",
		    m->cfg.name, REG_GIVEUP_MS / 1000);
		modem_set_error(m, "not registered");
		modem_enter(m, MODEM_RESET);
		return;
	}
	modem_timer_set(m, REG_POLL_MS, reg_poll);
}

static void
reg_poll(void *arg)
{
	static const char *const pfx[] = { "+CREG:", NULL };
	struct modem *m = arg;

	m->timer = 0;
	modem_cmd(m, "AT+CREG?", pfx, 2000, creg_done);
}

/* --- READY: health polling ------------------------------------------ */

static void health_poll(void *arg);

static void
csq_done(bool ok, const struct at_response *r, void *arg)
{
	struct modem *m = mctx_modem(arg);
	struct at_result_iter it;
	int rssi;

	if (m == NULL)
		return;
	if (!ok) {
		modem_check_timeouts(m, r);
		return;
	}
	at_result_iter_init(&it, r);
	if (at_result_iter_next(&it, "+CSQ:") &&
	    at_result_iter_next_number(&it, &rssi))
		m->info.signal_dbm = modem_csq_to_dbm(rssi);
}

static void
cops_done(bool ok, const struct at_response *r, void *arg)
{
	struct modem *m = mctx_modem(arg);
	struct at_result_iter it;
	const char *name;
	int mode, fmt;

	if (m == NULL || !ok)
		return;
	at_result_iter_init(&it, r);
	if (at_result_iter_next(&it, "+COPS:") &&
	    at_result_iter_next_number(&it, &mode) &&
	    at_result_iter_next_number(&it, &fmt) &&
	    at_result_iter_next_string(&it, &name))
		strlcpy_s(m->info.operator_name, name,
		    sizeof(m->info.operator_name));
}

static void
health_poll(void *arg)
{
	static const char *const csq[] = { "+CSQ:", NULL };
	static const char *const cops[] = { "+COPS:", NULL };
	static const char *const creg[] = { "+CREG:", NULL };
	struct modem *m = arg;

	m->timer = ev_timer_add(m->ev, HEALTH_POLL_MS, health_poll, m);
	modem_cmd(m, "AT+CSQ", csq, 2000, csq_done);
	modem_cmd(m, "AT+COPS?", cops, 5000, cops_done);
	modem_cmd(m, "AT+CREG?", creg, 2000, NULL);
	(void)creg;
}

/* --- reset ---------------------------------------------------------- */

static void
reset_done(bool ok, const struct at_response *r, void *arg)
{
	struct modem *m = mctx_modem(arg);

	(void)ok;
	(void)r;
	if (m == NULL)
		return;
	/* The modem reboots (often re-enumerating its USB port). */
	modem_close_port(m);
	m->backoff_ms = 2500;
	modem_timer_set(m, m->backoff_ms, backoff_done);
}

/* --- the state machine ---------------------------------------------- */

static void
modem_enter(struct modem *m, enum modem_state st)
{
	enum modem_state old = m->state;

	ev_timer_del(m->ev, m->timer);
	m->timer = 0;
	m->state = st;
	m->info.state = st;
	if (old != st)
		log_debug("modem", "%s: %s -> %s", m->cfg.name,
		    modem_state_name(old), modem_state_name(st));
	switch (st) {
	case MODEM_BACKOFF:
		modem_close_port(m);
		m->info.registered = false;
		if (m->backoff_ms < BACKOFF_MIN_MS)
			m->backoff_ms = BACKOFF_MIN_MS;
		m->timer = ev_timer_add(m->ev, old == MODEM_BACKOFF ?
		    m->backoff_ms : 0, backoff_done, m);
		if (old != MODEM_BACKOFF)
			m->backoff_ms = BACKOFF_MIN_MS;
		break;
	case MODEM_PROBE: {
		static const char esc[] = "\x1b\r";

		/* Cancel a "> " prompt a previous process left open. */
		(void)!write(serial_fd(m->port), esc, sizeof(esc) - 1);
		m->tries = 0;
		m->pin_sent = false;
		modem_cmd(m, "AT", NULL, 1000, probe_done);
		break;
	}
	case MODEM_INIT:
		init_step(m, 0);
		break;
	case MODEM_SIM_WAIT:
		sim_check(m);
		break;
	case MODEM_REG_WAIT:
		cpms_try(m, 0);
		break;
	case MODEM_READY:
		m->backoff_ms = BACKOFF_MIN_MS;
		m->info.last_error[0] = '\0';
		log_info("modem", "%s: ready on %s", m->cfg.name,
		    m->cfg.device);
		health_poll(m);
		break;
	case MODEM_RESET:
		m->info.resets++;
		m->info.registered = false;
		if (m->chat != NULL && !at_chat_resyncing(m->chat)) {
			m->gen++;	/* callbacks of aborted commands: stale */
			at_chat_abort(m->chat);
			modem_cmd(m, "AT+CFUN=1,1", NULL, 5000, reset_done);
			break;
		}
		modem_close_port(m);
		m->backoff_ms = 5000;
		m->timer = ev_timer_add(m->ev, m->backoff_ms, backoff_done, m);
		break;
	case MODEM_FAILED:
		m->gen++;
		if (m->chat != NULL)
			at_chat_abort(m->chat);
		break;
	}
	if (m->evs.state != NULL && old != st)
		m->evs.state(m, st, m->arg);
}

struct modem *
modem_new(struct ev *ev, const struct conf_modem *cfg,
    unsigned reset_timeouts, const struct modem_events *evs, void *arg)
{
	struct modem *m = xcalloc(1, sizeof(*m));

	m->ev = ev;
	m->cfg.name = xstrdup(cfg->name);
	m->cfg.device = xstrdup(cfg->device);
	m->cfg.pin = xstrdup(cfg->pin != NULL ? cfg->pin : "");
	m->cfg.baud = cfg->baud;
	m->cfg.storage_send = cfg->storage_send;
	m->storage_send = cfg->storage_send;
	m->reset_timeouts = reset_timeouts > 0 ? reset_timeouts : 10;
	if (evs != NULL)
		m->evs = *evs;
	m->arg = arg;
	m->state = MODEM_BACKOFF;
	m->backoff_ms = BACKOFF_MIN_MS;
	return m;
}

void
modem_start(struct modem *m)
{
	m->state = MODEM_BACKOFF;
	m->timer = ev_timer_add(m->ev, 0, backoff_done, m);
}

void
modem_free(struct modem *m)
{
	if (m == NULL)
		return;
	ev_timer_del(m->ev, m->timer);
	watch_stop(m);
	modem_close_port(m);
	free(m->cfg.name);
	free(m->cfg.device);
	free(m->cfg.pin);
	free(m);
}

const char *
modem_name(const struct modem *m)
{
	return m->cfg.name;
}

const char *
modem_device(const struct modem *m)
{
	return m->cfg.device;
}

enum modem_state
modem_get_state(const struct modem *m)
{
	return m->state;
}

bool
modem_ready(const struct modem *m)
{
	return m->state == MODEM_READY;
}

bool
modem_storage_send(const struct modem *m)
{
	return m->storage_send;
}

void
modem_disable_storage_send(struct modem *m)
{
	if (m->storage_send)
		log_warnx("modem", "%s: storage send (+CMGW/+CMSS) refused; "
		    "falling back to +CMGS", m->cfg.name);
	m->storage_send = false;
}

void
modem_get_info(const struct modem *m, struct modem_info *info)
{
	*info = m->info;
	info->state = m->state;
}

struct at_chat *
modem_chat(struct modem *m)
{
	return m->state == MODEM_READY ? m->chat : NULL;
}
