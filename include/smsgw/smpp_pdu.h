/*
 * smpp_pdu: SMPP 3.4 PDU codec and submit_sm text encoding.
 *
 * A pure module: no I/O, no clock, no logging, no global state.  It knows
 * the PDUs an ESME transceiver needs (bind_transceiver, unbind,
 * enquire_link, submit_sm, deliver_sm, their responses and generic_nack),
 * the TLVs message_payload, receipted_message_id, message_state and the
 * sar_* triple, delivery receipt text and the GSM 7-bit / UCS-2 split of a
 * UTF-8 text into concatenated parts.
 *
 * Decoding is strict: every length is checked against the buffer, every
 * C-octet string must be NUL-terminated within its SMPP maximum, a PDU
 * must be consumed exactly (mandatory body + whole TLVs), so truncated or
 * garbage input is rejected and never read past its end.
 */
#ifndef SMSGW_SMPP_PDU_H
#define SMSGW_SMPP_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMPP_HDR_LEN		16
/* Largest PDU we accept or build (a full 64 KiB message_payload fits). */
#define SMPP_PDU_MAX		70000
#define SMPP_VERSION_34		0x34

/* command_id values. */
#define SMPP_GENERIC_NACK		0x80000000u
#define SMPP_BIND_TRANSCEIVER		0x00000009u
#define SMPP_BIND_TRANSCEIVER_RESP	0x80000009u
#define SMPP_UNBIND			0x00000006u
#define SMPP_UNBIND_RESP		0x80000006u
#define SMPP_ENQUIRE_LINK		0x00000015u
#define SMPP_ENQUIRE_LINK_RESP		0x80000015u
#define SMPP_SUBMIT_SM			0x00000004u
#define SMPP_SUBMIT_SM_RESP		0x80000004u
#define SMPP_DELIVER_SM			0x00000005u
#define SMPP_DELIVER_SM_RESP		0x80000005u
#define SMPP_IS_RESP(cmd)		(((cmd) & 0x80000000u) != 0)

/* command_status values used by smsgwd. */
#define SMPP_ESME_ROK		0x00000000u
#define SMPP_ESME_RINVMSGLEN	0x00000001u
#define SMPP_ESME_RINVCMDLEN	0x00000002u
#define SMPP_ESME_RINVCMDID	0x00000003u
#define SMPP_ESME_RINVBNDSTS	0x00000004u
#define SMPP_ESME_RALYBND	0x00000005u
#define SMPP_ESME_RSYSERR	0x00000008u
#define SMPP_ESME_RINVSRCADR	0x0000000Au
#define SMPP_ESME_RINVDSTADR	0x0000000Bu
#define SMPP_ESME_RBINDFAIL	0x0000000Du
#define SMPP_ESME_RINVPASWD	0x0000000Eu
#define SMPP_ESME_RINVSYSID	0x0000000Fu
#define SMPP_ESME_RMSGQFUL	0x00000014u
#define SMPP_ESME_RSUBMITFAIL	0x00000045u
#define SMPP_ESME_RTHROTTLED	0x00000058u

/* TON / NPI. */
#define SMPP_TON_UNKNOWN	0
#define SMPP_TON_INTERNATIONAL	1
#define SMPP_TON_ALPHANUMERIC	5
#define SMPP_NPI_UNKNOWN	0
#define SMPP_NPI_E164		1

/* esm_class bits. */
#define SMPP_ESM_UDHI		0x40	/* short_message starts with UDH */
#define SMPP_ESM_RECEIPT	0x04	/* deliver_sm is a receipt */

/* data_coding. */
#define SMPP_DCS_DEFAULT	0x00	/* GSM 7-bit, septet per octet */
#define SMPP_DCS_UCS2		0x08	/* UTF-16BE */

/* TLV tags. */
#define SMPP_TLV_RECEIPTED_MSG_ID	0x001E
#define SMPP_TLV_SAR_MSG_REF_NUM	0x020C
#define SMPP_TLV_SAR_TOTAL_SEGMENTS	0x020E
#define SMPP_TLV_SAR_SEGMENT_SEQNUM	0x020F
#define SMPP_TLV_MESSAGE_PAYLOAD	0x0424
#define SMPP_TLV_MESSAGE_STATE		0x0427

/* message_state values (SMPP 3.4 5.2.28). */
#define SMPP_STATE_ENROUTE		1
#define SMPP_STATE_DELIVERED		2
#define SMPP_STATE_EXPIRED		3
#define SMPP_STATE_DELETED		4
#define SMPP_STATE_UNDELIVERABLE	5
#define SMPP_STATE_ACCEPTED		6
#define SMPP_STATE_UNKNOWN		7
#define SMPP_STATE_REJECTED		8

/*
 * One PDU, flattened: the fields of every supported command live side by
 * side and each command uses its own subset (SMPP 3.4 section 4):
 *   bind_transceiver: system_id, password, system_type, interface_version,
 *     addr_ton, addr_npi, address_range;
 *   bind_transceiver_resp: system_id (absent when status != 0);
 *   submit_sm / deliver_sm: service_type .. short_message and TLVs;
 *   submit_sm_resp: message_id (absent when status != 0);
 *   deliver_sm_resp: message_id (always empty);
 *   unbind, enquire_link, their resps, generic_nack: header only.
 * String sizes include the NUL (the SMPP maximum for that field).
 * short_message and message_payload point at borrowed bytes: into the
 * decoded buffer after smpp_pdu_decode(), into caller memory for encode.
 */
struct smpp_pdu {
	uint32_t cmd;
	uint32_t status;
	uint32_t seq;

	char system_id[16];
	char password[9];
	char system_type[13];
	uint8_t interface_version;
	uint8_t addr_ton;
	uint8_t addr_npi;
	char address_range[41];

	char service_type[6];
	uint8_t source_ton;
	uint8_t source_npi;
	char source_addr[21];
	uint8_t dest_ton;
	uint8_t dest_npi;
	char dest_addr[21];
	uint8_t esm_class;
	uint8_t protocol_id;
	uint8_t priority_flag;
	char schedule_delivery_time[17];
	char validity_period[17];
	uint8_t registered_delivery;
	uint8_t replace_if_present;
	uint8_t data_coding;
	uint8_t sm_default_msg_id;
	const uint8_t *short_message;	/* sm_length bytes */
	uint8_t sm_length;

	char message_id[65];

	/* Optional TLVs (submit_sm, deliver_sm). */
	const uint8_t *message_payload;	/* NULL = absent */
	uint16_t payload_len;
	char receipted_message_id[65];	/* "" = absent */
	int message_state;		/* -1 = absent */
	bool has_sar;
	uint16_t sar_msg_ref_num;
	uint8_t sar_total_segments;
	uint8_t sar_segment_seqnum;
};

/* Zero p and set cmd, seq, message_state = -1. */
void smpp_pdu_init(struct smpp_pdu *p, uint32_t cmd, uint32_t seq);

/*
 * Encode p into buf (len bytes).  Returns the PDU length, or 0 when the
 * command is unsupported, a string is too long for its field or buf is
 * too small.
 */
size_t smpp_pdu_encode(const struct smpp_pdu *p, uint8_t *buf, size_t len);

/*
 * Framing: look at the first bytes of a stream.  Returns 0 when fewer than
 * 4 bytes are there, the whole PDU length (16..SMPP_PDU_MAX) otherwise, or
 * -1 when command_length is impossible (the stream cannot be resynced).
 */
long smpp_pdu_frame(const uint8_t *buf, size_t len);

/*
 * Decode exactly one PDU of len bytes.  Returns false (p untouched) on any
 * malformation or an unsupported command_id; for an unsupported command
 * with a sane header, *hdr_ok (if not NULL) is set true so the caller can
 * answer generic_nack with the sequence number from smpp_pdu_peek_hdr().
 */
bool smpp_pdu_decode(const uint8_t *buf, size_t len, struct smpp_pdu *p,
    bool *hdr_ok);
/* Header fields of a buffer with at least 16 bytes. */
void smpp_pdu_peek_hdr(const uint8_t *buf, uint32_t *cmd, uint32_t *status,
    uint32_t *seq);

const char *smpp_cmd_name(uint32_t cmd);
/* "ESME_RTHROTTLED" etc., or "ESME_0x000000nn" in buf for others. */
const char *smpp_status_name(uint32_t status, char *buf, size_t len);

/*
 * Delivery receipt text (SMPP 3.4 appendix B):
 * "id:IIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm
 *  stat:DDDDDDD err:E text:..."  Fields are matched case-insensitively;
 * id and stat are required, the others are optional.
 */
struct smpp_receipt {
	char id[65];
	int sub;		/* -1 = absent */
	int dlvrd;		/* -1 = absent */
	char submit_date[13];
	char done_date[13];
	char stat[8];		/* DELIVRD, UNDELIV, ... */
	char err[8];
	int state;		/* SMPP_STATE_* derived from stat */
};
bool smpp_receipt_parse(const uint8_t *text, size_t len,
    struct smpp_receipt *r);
/* 1 = delivered, 0 = failed for good, -1 = not final (ENROUTE/ACCEPTD). */
int smpp_state_final(int state);

/*
 * Text encoding for submit_sm.  The text goes as GSM 7-bit unpacked
 * (data_coding 0, one septet per octet, extension characters as ESC+code)
 * when every character is in the GSM default alphabet or its extension
 * table, else as UCS-2 / UTF-16BE (data_coding 8, astral characters as
 * surrogate pairs).  A text longer than one SMS (160 septets / 70 units) is
 * split into parts of at most 153 septets / 67 units, never splitting an
 * escape sequence or a surrogate pair, each part starting with a 6-octet
 * UDH (05 00 03 ref total seq) and sent with esm_class 0x40.
 */
#define SMPP_TEXT_MAX_PARTS	16
#define SMPP_TEXT_PART_MAX	160

struct smpp_text {
	uint8_t data_coding;
	uint8_t esm_class;	/* 0 or SMPP_ESM_UDHI */
	size_t nparts;
	struct {
		uint8_t data[SMPP_TEXT_PART_MAX];
		size_t len;	/* octets, UDH included */
	} part[SMPP_TEXT_MAX_PARTS];
};

/*
 * Encode utf8 (NUL-terminated) into out with concatenation reference ref.
 * Returns 0, or -1 when the text is not valid UTF-8, is empty, contains
 * NUL-equivalent garbage, or needs more than SMPP_TEXT_MAX_PARTS parts.
 */
int smpp_text_encode(const char *utf8, uint8_t ref, struct smpp_text *out);
/* True when every character of utf8 is GSM 7-bit encodable. */
bool smpp_text_is_gsm7(const char *utf8);

#endif
