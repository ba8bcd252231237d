/*
 * at_chat: AT command queue and unsolicited result (URC) registry over a
 * non-blocking fd (a tty or a socketpair owned by the caller).
 *
 * Commands run one at a time, in FIFO order.  Each modem line is
 * classified as follows (the gatchat rule):
 *   1. a line starting with "AT" is command echo and is dropped;
 *   2. while a command is in flight and fully written, a final result
 *      (OK, CONNECT, ERROR, NO CARRIER, BUSY, NO ANSWER, NO DIALTONE,
 *      +CME ERROR:, +CMS ERROR:, +EXT ERROR:, COMMAND NOT SUPPORT)
 *      completes it, and a line starting with one of its prefixes is kept
 *      as its response (prefixes NULL: every line is kept, except lines
 *      a URC handler is registered for);
 *   3. any other line goes to the URC handlers registered for its prefix;
 *   4. a line nobody claims is logged at debug level and dropped.
 * So an unsolicited "+CMTI:" can never become the answer of "AT+CSQ".
 *
 * Timeouts: when a command times out its callback gets AT_STATUS_TIMEOUT,
 * the consecutive timeout counter grows, and the chat resyncs: it ignores
 * input (URC handlers still run) until the line has been quiet for
 * quiet_ms (default 500), then sends "AT" (preceded by ESC if a PDU
 * command was pending) and waits for "OK" before running the next
 * command.  If that "AT" gets no OK within 2 s, the counter grows again,
 * every queued command fails with AT_STATUS_TIMEOUT and the resync
 * starts over.  Any final result of a caller's command resets the
 * counter; the owner decides when to reset the modem.
 *
 * When the fd reports EOF, EIO or a hangup, every queued command fails
 * with AT_STATUS_IO_ERROR, then the disconnect callback runs; afterwards
 * the chat accepts no more commands (free it and make a new one).
 *
 * Callbacks may send, cancel, abort, register, unregister and free the
 * chat.  Callbacks only run from the event loop or at_chat_abort(), never
 * from inside at_chat_send(), at_chat_cancel() or at_chat_register().
 * Ownership: every (cb, arg, arg_free) triple gets arg_free(arg) called
 * exactly once, after the last callback, on completion, cancel,
 * unregister or at_chat_free().
 *
 * The AT trace is logged with log_debug("at"); PDUs (and hex lines that
 * look like echoed PDUs) appear only when "sms" debug is on as well
 * (through log_pii), and AT+CPIN=/AT+CPWD= arguments never appear.
 */
#ifndef SMSGW_AT_CHAT_H
#define SMSGW_AT_CHAT_H

#include <stdbool.h>
#include <stdint.h>

#include "smsgw/at_result.h"
#include "smsgw/ev.h"

#define AT_CHAT_DEFAULT_TIMEOUT_MS 5000

struct at_chat;

/*
 * Command completion.  ok is resp->status == AT_STATUS_OK.  resp and all
 * the strings it points to are borrowed until the callback returns.
 */
typedef void (*at_chat_cb)(bool ok, const struct at_response *resp, void *arg);
/*
 * Unsolicited result.  line is the URC line; pdu is the following PDU
 * line for handlers registered with expect_pdu (NULL if the modem sent
 * something else or the line was overlong), else NULL.  Borrowed.
 */
typedef void (*at_notify_cb)(const char *line, const char *pdu, void *arg);
typedef void (*at_chat_disconnect_cb)(void *arg);

/*
 * Watch fd on ev; fd must be non-blocking and stays owned by the caller
 * (close it after at_chat_free()).  Returns NULL on error.
 */
struct at_chat *at_chat_new(struct ev *ev, int fd);
/*
 * Stop and release everything: pending commands and URC handlers get
 * arg_free (their callbacks are NOT called).  NULL is fine.  Safe inside
 * any at_chat callback (the release is deferred until it returns).
 */
void at_chat_free(struct at_chat *chat);

/*
 * Queue cmd (without "\r").  prefixes is a NULL-terminated array of
 * response line prefixes (copied), or NULL to accept every line but those
 * claimed by a registered URC handler.
 * timeout_ms 0 means AT_CHAT_DEFAULT_TIMEOUT_MS; the timer starts when
 * the command is written.  Returns an id, or 0 if cmd is empty or holds
 * '\r'/'\n', or the chat is disconnected or being freed (then arg is
 * left to the caller).
 */
uint32_t at_chat_send(struct at_chat *chat, const char *cmd,
    const char *const *prefixes, unsigned timeout_ms, at_chat_cb cb, void *arg,
    void (*arg_free)(void *));
/*
 * For AT+CMGS=<len> / AT+CMGW=<len>: write "cmd\r", wait for the "> "
 * prompt, then write pdu_hex and Ctrl-Z.  pdu_hex must be non-empty hex.
 * If a final result comes instead of the prompt, the PDU is not sent.
 */
uint32_t at_chat_send_pdu(struct at_chat *chat, const char *cmd,
    const char *pdu_hex, const char *const *prefixes, unsigned timeout_ms,
    at_chat_cb cb, void *arg, void (*arg_free)(void *));
/*
 * Drop a command: its callback will not run; arg_free runs now.  A
 * command already written still occupies the line until its final result
 * (or timeout), so its answer is never credited to another command.
 * Returns 0, or -1 if id is unknown or already completed.
 */
int at_chat_cancel(struct at_chat *chat, uint32_t id);
/*
 * Fail the in-flight and every queued command with AT_STATUS_CANCELLED
 * (callbacks run), then resync if a command was in flight.
 */
void at_chat_abort(struct at_chat *chat);

/*
 * URC handler for lines starting with prefix (include the ':', e.g.
 * "+CMTI:", "+CMT:", "^RSSI:").  With expect_pdu the next line is taken
 * as the URC's PDU.  Every matching handler runs, in registration order.
 * Returns an id, or 0 on error.
 */
uint32_t at_chat_register(struct at_chat *chat, const char *prefix,
    bool expect_pdu, at_notify_cb cb, void *arg, void (*arg_free)(void *));
/* Returns 0, or -1 if id is unknown. */
int at_chat_unregister(struct at_chat *chat, uint32_t id);

void at_chat_set_disconnect_cb(
    struct at_chat *chat, at_chat_disconnect_cb cb, void *arg);
/* Quiet period before a resync "AT" (default 500 ms). */
void at_chat_set_quiet_ms(struct at_chat *chat, unsigned ms);
/* Command timeouts in a row (resync failures included). */
unsigned at_chat_timeouts(const struct at_chat *chat);
/* Commands queued or in flight (resync "AT" not counted). */
unsigned at_chat_pending(const struct at_chat *chat);
/* True while a resync is under way. */
bool at_chat_resyncing(const struct at_chat *chat);

#endif
