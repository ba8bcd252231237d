/*
 * emu_pdu.h - tiny, self-contained SMS PDU codec for the atemu test modem.
 *
 * Independent of the daemon's sms_codec on purpose: the emulator must not
 * share bugs with the code it tests.  All functions are pure (no I/O); the
 * time for service-centre time stamps is passed in.
 *
 * Hex strings are upper case, NUL terminated, and always start with the
 * SMSC information octets as a modem shows them in PDU mode.
 */
#ifndef EMU_PDU_H
#define EMU_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Buffer size for one PDU in hex, SMSC included, plus NUL. */
#define EMU_PDU_HEX_MAX 512
/* Largest decoded text of one part in UTF-8 (160 septets * 3 bytes). */
#define EMU_PDU_TEXT_MAX 700
/* Longest address we handle (digits or alphanumeric), plus NUL. */
#define EMU_PDU_ADDR_MAX 40

/* A decoded SMS-SUBMIT. */
struct emu_submit {
	int	mr;			/* TP-MR as sent by the host */
	bool	srr;			/* status report requested */
	int	dcs;
	char	to[EMU_PDU_ADDR_MAX];	/* "+358..." or national digits */
	char	text[EMU_PDU_TEXT_MAX];	/* UTF-8 */
	bool	has_udh;		/* concatenation IE found */
	int	ref, seq, total;	/* valid when has_udh */
	int	tpdu_len;		/* octets after the SMSC part */
};

/*
 * Length in octets of the TPDU in hex (the octets after the SMSC part), as
 * used in +CMGS=<len>, +CMGL and +CMTI listings; -1 when hex is malformed.
 */
int	emu_pdu_tpdu_len(const char *hex);

/*
 * Decode an SMS-SUBMIT given in hex (SMSC part included).  GSM 7-bit with
 * the extension table, 8-bit (bytes shown as U+00xx) and UCS-2 with
 * surrogate pairs.  Returns false and leaves out untouched when malformed.
 */
bool	emu_pdu_decode_submit(const char *hex, struct emu_submit *out);

/* One part of an outgoing (to the host) SMS-DELIVER, in hex. */
struct emu_part {
	char	hex[EMU_PDU_HEX_MAX];
};

/*
 * Build the SMS-DELIVER PDUs for a UTF-8 text from "from" (digits with an
 * optional '+', or an alphanumeric sender of at most 11 characters).  GSM
 * 7-bit is used when every character is in the default alphabet or its
 * extension table, else UCS-2.  Texts longer than one part are split into
 * concatenated parts (8-bit reference ref).  Returns the number of parts
 * written to parts (at most maxparts), or -1 on invalid UTF-8, an invalid
 * sender, or a text needing more than maxparts parts.
 */
int	emu_pdu_build_deliver(const char *from, const char *utf8, int ref,
	    time_t ts, struct emu_part *parts, int maxparts);

/*
 * Build one part of a concatenated SMS-DELIVER carrying the given header
 * values; utf8 must fit in one part.  Returns false when it does not or the
 * input is invalid.
 */
bool	emu_pdu_build_deliver_part(const char *from, const char *utf8,
	    int ref, int total, int seq, time_t ts, struct emu_part *part);

/*
 * Build an SMS-STATUS-REPORT for message reference mr sent to "to".
 * st is the TP-ST octet (0x00 delivered, 0x20 pending, 0x41 failed).
 */
bool	emu_pdu_build_status_report(int mr, const char *to, int st, time_t ts,
	    struct emu_part *part);

#endif /* EMU_PDU_H */
