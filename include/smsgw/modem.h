/*
 * modem: one GSM modem's life cycle over a serial port.
 *
 *   ABSENT/BACKOFF -> PROBE -> INIT -> SIM_WAIT -> REG_WAIT -> READY
 *                 ^                                             |
 *                 +---- RESET (AT+CFUN=1,1) <- N timeouts ------+
 *
 * PROBE clears what a previous process left (ESC cancels a pending "> "
 * prompt, then "AT" until OK); INIT sends ATE0, +CMEE=1, +CMGF=0;
 * SIM_WAIT reads +CPIN? and enters the configured PIN once (a wrong PIN is
 * reported and never retried: three wrong PINs lock the SIM); then +CPMS
 * and +CNMI (falling back to modes the modem accepts) and REG_WAIT polls
 * +CREG until the modem is registered.  In READY, signal and operator are
 * polled on a timer.  A port that vanishes (USB re-enumeration) is
 * reopened with backoff (1 s doubling to 60 s); reset_timeouts command
 * timeouts in a row reset the modem.
 *
 * Other modules see states and events; only sms uses modem_chat(), and
 * only while the modem is READY.
 */
#ifndef SMSGW_MODEM_H
#define SMSGW_MODEM_H

#include <stdbool.h>
#include <stdint.h>

struct at_chat;
struct conf_modem;
struct ev;
struct modem;

enum modem_state {
	MODEM_BACKOFF,	/* port absent or just lost: reopen later */
	MODEM_PROBE,
	MODEM_INIT,
	MODEM_SIM_WAIT,
	MODEM_REG_WAIT,
	MODEM_READY,
	MODEM_RESET,
	MODEM_FAILED,	/* needs a person: wrong PIN, PUK, no SIM */
};

struct modem_events {
	/* State changed (also to and from READY). */
	void (*state)(struct modem *m, enum modem_state st, void *arg);
	/* +CMTI: a new SMS stored at index. */
	void (*sms_stored)(struct modem *m, int index, void *arg);
	/* +CMT: an SMS delivered directly (PDU hex, borrowed). */
	void (*sms_direct)(struct modem *m, const char *pdu, void *arg);
	/* +CDS: a status report (PDU hex, borrowed). */
	void (*status_report)(struct modem *m, const char *pdu, void *arg);
	/* +CDSI: a status report stored at index. */
	void (*report_stored)(struct modem *m, int index, void *arg);
};

struct modem_info {
	enum modem_state state;
	bool registered;
	bool roaming;
	int signal_dbm;		/* 0 = unknown */
	char operator_name[64];
	char last_error[128];
	char manufacturer[64];
	char model[64];
	bool cnmi_direct;	/* +CMT routing (needs +CNMA) */
	uint64_t resets, reopens;
};

/* cfg is copied. */
struct modem *modem_new(struct ev *ev, const struct conf_modem *cfg,
    unsigned reset_timeouts, const struct modem_events *evs, void *arg);
void modem_free(struct modem *m);	/* NULL is fine */
void modem_start(struct modem *m);

const char *modem_name(const struct modem *m);
const char *modem_device(const struct modem *m);
bool modem_ready(const struct modem *m);
enum modem_state modem_get_state(const struct modem *m);
bool modem_storage_send(const struct modem *m);
void modem_get_info(const struct modem *m, struct modem_info *info);
const char *modem_state_name(enum modem_state st);
/* The AT channel; NULL unless READY. */
struct at_chat *modem_chat(struct modem *m);
/* Tell the modem a command on its chat timed out (sms does its own
 * commands); may trigger a reset. */
void modem_note_timeout(struct modem *m);
/* Storage-send refused by the modem (+CMS ERROR 302/303...): use +CMGS. */
void modem_disable_storage_send(struct modem *m);

/* Signal strength in dBm from +CSQ rssi (0..31; 99 unknown -> 0). */
int modem_csq_to_dbm(int rssi);

#endif
