/*
 * sms_codec: SMS PDU encoding and decoding (3GPP TS 23.040 / 23.038).
 *
 * A pure module: no I/O, no clock, no logging, no global state of its own.
 * It wraps libGammu's PDU primitives (GSM_EncodeSMSFrame,
 * GSM_DecodePDUFrame, GSM_EncodeUDHHeader, UTF-8 helpers) and never uses
 * libGammu's phone state machine.  Every PDU is length-checked by this
 * module before libGammu sees it, so garbage or truncated input is
 * rejected (-1) and never read past its end.
 *
 * Text is UTF-8 on both sides of this interface; UCS-2 and the GSM 7-bit
 * alphabet exist only inside the codec.
 *
 * Naming: the brief's sms_submit_opts / sms_pdu_list / sms_decoded are
 * struct sms_codec_opts / sms_codec_pdus / sms_codec_msg here, to keep the
 * "sms_" namespace free for the sms (pipeline) module.
 */
#ifndef SMSGW_SMS_CODEC_H
#define SMSGW_SMS_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest hex string of one encoded part, NUL included. */
#define SMS_CODEC_HEX_MAX	352
/* Concatenation counts parts in one octet. */
#define SMS_CODEC_MAX_PARTS	255
/* Buffers of struct sms_codec_msg (NUL included). */
#define SMS_CODEC_NUMBER_MAX	48
#define SMS_CODEC_E164_MAX	20
#define SMS_CODEC_TEXT_MAX	704
/* Default country code for national numbers ("0401234567"). */
#define SMS_CODEC_COUNTRY_CODE	"358"

enum sms_codec_encoding {
	SMS_CODEC_ENC_GSM7 = 0,	/* GSM 7-bit default alphabet + extension */
	SMS_CODEC_ENC_UCS2,	/* UTF-16BE, surrogate pairs kept together */
	SMS_CODEC_ENC_8BIT	/* decode only; shown as ISO-8859-1 */
};

enum sms_codec_type {
	SMS_CODEC_DELIVER = 0,
	SMS_CODEC_SUBMIT,
	SMS_CODEC_STATUS_REPORT
};

enum sms_codec_numtype {
	SMS_CODEC_NUM_UNKNOWN = 0,	/* TON unknown: digits as sent */
	SMS_CODEC_NUM_INTERNATIONAL,	/* "+" and digits */
	SMS_CODEC_NUM_NATIONAL,
	SMS_CODEC_NUM_ALPHANUMERIC,	/* sender id such as "Elisa" */
	SMS_CODEC_NUM_OTHER
};

/* Classification of TP-Status (TS 23.040 9.2.3.15). */
enum sms_codec_dlr {
	SMS_CODEC_DLR_DELIVERED = 0,	/* 0x00-0x1f: transaction completed */
	SMS_CODEC_DLR_PENDING,		/* 0x20-0x3f: SC still trying */
	SMS_CODEC_DLR_FAILED		/* 0x40-0x7f, and reserved 0x80-0xff */
};

/*
 * Options for sms_codec_encode_submit().  An all-zero struct (or NULL)
 * means: reference 0, 8-bit reference, no validity period.
 * The status-report-request bit is always set (contract §6).
 */
struct sms_codec_opts {
	/* Concatenation reference, chosen by the caller (0-255, or 0-65535
	 * with ref16); used only when the text needs more than one part. */
	unsigned	ref;
	/* Use the 16-bit reference IE (IEI 0x08) instead of 8-bit (0x00). */
	bool		ref16;
	/* Relative validity period in minutes, rounded up to the next value
	 * TP-VP can express (5 min .. 63 weeks); 0 = no TP-VP field. */
	unsigned	validity_min;
};

/* One encoded part, ready for AT+CMGS=<tpdu_len> / AT+CMGW=<tpdu_len>. */
struct sms_codec_pdu {
	/* Upper-case hex: "00" (no SMSC, the modem uses its own) + TPDU. */
	char		hex[SMS_CODEC_HEX_MAX];
	/* Octets of the TPDU, i.e. strlen(hex) / 2 - 1. */
	unsigned	tpdu_len;
	/* 1-based part number (1 when not concatenated). */
	unsigned	seq;
};

/* Result of sms_codec_encode_submit(); free with sms_codec_pdus_free(). */
struct sms_codec_pdus {
	enum sms_codec_encoding	 encoding;
	size_t			 count;
	struct sms_codec_pdu	*parts;		/* count entries, owned */
};

/*
 * A decoded TPDU.  Plain fixed buffers: the caller owns the struct, there
 * is nothing to free.  Fields that a PDU type does not carry are zero.
 */
struct sms_codec_timestamp {
	bool		valid;		/* false: absent or not a real date */
	int64_t		epoch;		/* seconds since 1970, UTC */
	int		tz_min;		/* sender's offset east of UTC */
};

struct sms_codec_msg {
	enum sms_codec_type	type;
	/* SMSC address when decoded with has_smsc, else "". */
	char			smsc[SMS_CODEC_NUMBER_MAX];
	/* DELIVER: originator; SUBMIT: destination; STATUS: recipient.
	 * As carried ("+358..." when international). */
	char			number[SMS_CODEC_NUMBER_MAX];
	enum sms_codec_numtype	number_type;
	/* number in E.164 ("+358..."), or "" when it cannot be one
	 * (alphanumeric, short codes). */
	char			number_e164[SMS_CODEC_E164_MAX];

	/* DELIVER and SUBMIT only. */
	enum sms_codec_encoding	encoding;
	uint8_t			pid;
	uint8_t			dcs;
	char			text[SMS_CODEC_TEXT_MAX];	/* UTF-8 */
	size_t			text_len;
	bool			has_udh;
	bool			concat;		/* concatenation IE present */
	bool			concat_ref16;
	unsigned		concat_ref;
	unsigned		concat_total;
	unsigned		concat_seq;	/* 1-based */

	/* SUBMIT: status report requested; DELIVER: status report
	 * indication.  */
	bool			srr;
	/* SUBMIT and STATUS_REPORT: TP-MR. */
	uint8_t			mr;
	/* SUBMIT: relative TP-VP octet, or -1 when absent/not relative. */
	int			vp_relative;

	/* DELIVER and STATUS_REPORT: TP-SCTS. */
	struct sms_codec_timestamp scts;
	/* STATUS_REPORT: TP-DT, TP-ST and its classification. */
	struct sms_codec_timestamp discharge;
	uint8_t			status;
	enum sms_codec_dlr	dlr;
};

/*
 * Split and encode a text as SMS-SUBMIT parts.
 * dest: a phone number accepted by sms_codec_normalize_phone().
 * utf8: valid UTF-8 (invalid UTF-8 is an error, never replaced).
 * GSM 7-bit is used when every character fits (extension characters
 * € [ ] { } ~ ^ \ | and form feed count as two septets and are never split
 * from their escape), else UCS-2.  One part holds 160 septets / 70 UCS-2
 * units; concatenated parts 153 / 67 (152 / 66 with ref16).
 * On success fills *out (caller frees with sms_codec_pdus_free()) and
 * returns 0.  Returns -1 with errno EINVAL (bad number, bad UTF-8, bad
 * options), E2BIG (more than SMS_CODEC_MAX_PARTS parts) or EPROTO
 * (libGammu's frame disagrees with the split: a bug); *out untouched.
 */
int	sms_codec_encode_submit(const char *dest, const char *utf8,
	    const struct sms_codec_opts *opts, struct sms_codec_pdus *out);

/* Free the parts of *pdus and zero it.  NULL and zeroed structs are fine. */
void	sms_codec_pdus_free(struct sms_codec_pdus *pdus);

/*
 * How sms_codec_encode_submit() would encode utf8 with an 8-bit reference:
 * its encoding, number of parts and length in septets (GSM7) or UTF-16
 * units (UCS-2).  Any out pointer may be NULL.
 * Returns 0, or -1 with EINVAL on invalid UTF-8 (outputs untouched).
 */
int	sms_codec_count_parts(const char *utf8, enum sms_codec_encoding *enc,
	    unsigned *parts, size_t *units);

/*
 * Decode one PDU given as hex (upper or lower case, nothing else; at most
 * 400 hex digits).  has_smsc: the PDU starts with the SMSC address, as in
 * +CMT, +CMGR, +CMGL and +CDS; false for bare TPDUs.
 * Handles SMS-DELIVER, SMS-SUBMIT and SMS-STATUS-REPORT.  Trailing octets
 * after the user data are ignored.  Returns 0 and fills *out, or -1 with
 * errno EINVAL (bad hex, truncated or inconsistent PDU, unsupported
 * coding such as compressed text); *out is then untouched.
 */
int	sms_codec_decode(const char *hex, bool has_smsc,
	    struct sms_codec_msg *out);

/*
 * Normalise a phone number to E.164 into out: "+358401234567" stays,
 * national "0401234567" becomes "+358401234567", "00..." becomes "+...".
 * Spaces, hyphens, dots and parentheses are dropped.  The result must have
 * 8 to 15 digits.  Returns 0, or -1 with EINVAL (letters, misplaced "+",
 * too short or too long, no "+"/"0" prefix) or ERANGE (outlen too small);
 * out is untouched on error.
 */
int	sms_codec_normalize_phone(const char *in, char *out, size_t outlen);

/* Short name of an encoding: "gsm7", "ucs2", "8bit". */
const char *sms_codec_encoding_name(enum sms_codec_encoding enc);

#endif
