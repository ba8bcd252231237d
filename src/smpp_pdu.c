/*
 * smpp_pdu: SMPP 3.4 PDU codec, delivery receipt parser and the GSM 7-bit /
 * UCS-2 text splitter for submit_sm.  Pure: no I/O, no allocation.
 */
#include "smsgw/smpp_pdu.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- writer / reader ---------------------------------------------- */

struct smpp_wr {
	uint8_t *b;
	size_t len;
	size_t off;
	bool err;
};

static void
wr_u8(struct smpp_wr *w, uint8_t v)
{
	if (w->err || w->off + 1 > w->len) {
		w->err = true;
		return;
	}
	w->b[w->off++] = v;
}

static void
wr_u16(struct smpp_wr *w, uint16_t v)
{
	wr_u8(w, (uint8_t)(v >> 8));
	wr_u8(w, (uint8_t)v);
}

static void
wr_u32(struct smpp_wr *w, uint32_t v)
{
	wr_u8(w, (uint8_t)(v >> 24));
	wr_u8(w, (uint8_t)(v >> 16));
	wr_u8(w, (uint8_t)(v >> 8));
	wr_u8(w, (uint8_t)v);
}

static void
wr_bytes(struct smpp_wr *w, const uint8_t *p, size_t n)
{
	if (n == 0)
		return;
	if (w->err || p == NULL || w->off + n > w->len) {
		w->err = true;
		return;
	}
	memcpy(w->b + w->off, p, n);
	w->off += n;
}

/* C-octet string of at most max bytes, NUL included. */
static void
wr_cstr(struct smpp_wr *w, const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	if (n >= max) {
		w->err = true;
		return;
	}
	wr_bytes(w, (const uint8_t *)s, n + 1);
}

struct smpp_rd {
	const uint8_t *b;
	size_t len;
	size_t off;
	bool err;
};

static uint8_t
rd_u8(struct smpp_rd *r)
{
	if (r->err || r->off + 1 > r->len) {
		r->err = true;
		return 0;
	}
	return r->b[r->off++];
}

static uint16_t
rd_u16(struct smpp_rd *r)
{
	uint16_t v = (uint16_t)(rd_u8(r) << 8);

	return (uint16_t)(v | rd_u8(r));
}

static uint32_t
rd_u32_at(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

static void
rd_cstr(struct smpp_rd *r, char *dst, size_t max)
{
	size_t avail, i;

	if (r->err)
		return;
	avail = r->len - r->off;
	if (avail > max)
		avail = max;
	for (i = 0; i < avail; i++)
		if (r->b[r->off + i] == '\0')
			break;
	if (i == avail) {
		r->err = true;
		return;
	}
	memcpy(dst, r->b + r->off, i + 1);
	r->off += i + 1;
}

static const uint8_t *
rd_bytes(struct smpp_rd *r, size_t n)
{
	const uint8_t *p;

	if (r->err || r->off + n > r->len) {
		r->err = true;
		return NULL;
	}
	p = r->b + r->off;
	r->off += n;
	return p;
}

/* ---- PDUs ---------------------------------------------------------- */

void
smpp_pdu_init(struct smpp_pdu *p, uint32_t cmd, uint32_t seq)
{
	memset(p, 0, sizeof(*p));
	p->cmd = cmd;
	p->seq = seq;
	p->message_state = -1;
}

static void
enc_sm(struct smpp_wr *w, const struct smpp_pdu *p)
{
	wr_cstr(w, p->service_type, sizeof(p->service_type));
	wr_u8(w, p->source_ton);
	wr_u8(w, p->source_npi);
	wr_cstr(w, p->source_addr, sizeof(p->source_addr));
	wr_u8(w, p->dest_ton);
	wr_u8(w, p->dest_npi);
	wr_cstr(w, p->dest_addr, sizeof(p->dest_addr));
	wr_u8(w, p->esm_class);
	wr_u8(w, p->protocol_id);
	wr_u8(w, p->priority_flag);
	wr_cstr(w, p->schedule_delivery_time,
	    sizeof(p->schedule_delivery_time));
	wr_cstr(w, p->validity_period, sizeof(p->validity_period));
	wr_u8(w, p->registered_delivery);
	wr_u8(w, p->replace_if_present);
	wr_u8(w, p->data_coding);
	wr_u8(w, p->sm_default_msg_id);
	if (p->sm_length > 254)
		w->err = true;
	wr_u8(w, p->sm_length);
	wr_bytes(w, p->short_message, p->sm_length);
	if (p->receipted_message_id[0] != '\0') {
		size_t n = strnlen(p->receipted_message_id,
		    sizeof(p->receipted_message_id));

		if (n >= sizeof(p->receipted_message_id))
			w->err = true;
		wr_u16(w, SMPP_TLV_RECEIPTED_MSG_ID);
		wr_u16(w, (uint16_t)(n + 1));
		wr_cstr(w, p->receipted_message_id,
		    sizeof(p->receipted_message_id));
	}
	if (p->has_sar) {
		wr_u16(w, SMPP_TLV_SAR_MSG_REF_NUM);
		wr_u16(w, 2);
		wr_u16(w, p->sar_msg_ref_num);
		wr_u16(w, SMPP_TLV_SAR_TOTAL_SEGMENTS);
		wr_u16(w, 1);
		wr_u8(w, p->sar_total_segments);
		wr_u16(w, SMPP_TLV_SAR_SEGMENT_SEQNUM);
		wr_u16(w, 1);
		wr_u8(w, p->sar_segment_seqnum);
	}
	if (p->message_payload != NULL) {
		wr_u16(w, SMPP_TLV_MESSAGE_PAYLOAD);
		wr_u16(w, p->payload_len);
		wr_bytes(w, p->message_payload, p->payload_len);
	}
	if (p->message_state >= 0) {
		if (p->message_state > 255)
			w->err = true;
		wr_u16(w, SMPP_TLV_MESSAGE_STATE);
		wr_u16(w, 1);
		wr_u8(w, (uint8_t)p->message_state);
	}
}

size_t
smpp_pdu_encode(const struct smpp_pdu *p, uint8_t *buf, size_t len)
{
	struct smpp_wr w = { buf, len, 0, false };

	if (len > SMPP_PDU_MAX)
		w.len = SMPP_PDU_MAX;
	wr_u32(&w, 0);		/* patched below */
	wr_u32(&w, p->cmd);
	wr_u32(&w, p->status);
	wr_u32(&w, p->seq);
	switch (p->cmd) {
	case SMPP_BIND_TRANSCEIVER:
		wr_cstr(&w, p->system_id, sizeof(p->system_id));
		wr_cstr(&w, p->password, sizeof(p->password));
		wr_cstr(&w, p->system_type, sizeof(p->system_type));
		wr_u8(&w, p->interface_version);
		wr_u8(&w, p->addr_ton);
		wr_u8(&w, p->addr_npi);
		wr_cstr(&w, p->address_range, sizeof(p->address_range));
		break;
	case SMPP_BIND_TRANSCEIVER_RESP:
		if (p->status == SMPP_ESME_ROK)
			wr_cstr(&w, p->system_id, sizeof(p->system_id));
		break;
	case SMPP_SUBMIT_SM:
	case SMPP_DELIVER_SM:
		enc_sm(&w, p);
		break;
	case SMPP_SUBMIT_SM_RESP:
		if (p->status == SMPP_ESME_ROK)
			wr_cstr(&w, p->message_id, sizeof(p->message_id));
		break;
	case SMPP_DELIVER_SM_RESP:
		wr_u8(&w, 0);
		break;
	case SMPP_GENERIC_NACK:
	case SMPP_UNBIND:
	case SMPP_UNBIND_RESP:
	case SMPP_ENQUIRE_LINK:
	case SMPP_ENQUIRE_LINK_RESP:
		break;
	default:
		return 0;
	}
	if (w.err)
		return 0;
	buf[0] = (uint8_t)(w.off >> 24);
	buf[1] = (uint8_t)(w.off >> 16);
	buf[2] = (uint8_t)(w.off >> 8);
	buf[3] = (uint8_t)w.off;
	return w.off;
}

long
smpp_pdu_frame(const uint8_t *buf, size_t len)
{
	uint32_t n;

	if (len < 4)
		return 0;
	n = rd_u32_at(buf);
	if (n < SMPP_HDR_LEN || n > SMPP_PDU_MAX)
		return -1;
	return (long)n;
}

void
smpp_pdu_peek_hdr(const uint8_t *buf, uint32_t *cmd, uint32_t *status,
    uint32_t *seq)
{
	*cmd = rd_u32_at(buf + 4);
	*status = rd_u32_at(buf + 8);
	*seq = rd_u32_at(buf + 12);
}

static void
dec_tlvs(struct smpp_rd *r, struct smpp_pdu *p)
{
	int sar = 0;

	while (!r->err && r->off < r->len) {
		uint16_t tag = rd_u16(r), n = rd_u16(r);
		const uint8_t *v = rd_bytes(r, n);

		if (v == NULL)
			return;
		switch (tag) {
		case SMPP_TLV_MESSAGE_PAYLOAD:
			p->message_payload = v;
			p->payload_len = n;
			break;
		case SMPP_TLV_RECEIPTED_MSG_ID: {
			size_t i;

			if (n == 0 || n > sizeof(p->receipted_message_id)) {
				r->err = true;
				return;
			}
			for (i = 0; i < n && v[i] != '\0'; i++)
				p->receipted_message_id[i] = (char)v[i];
			/* NUL must be last, if present at all */
			if (i + 1 < n) {
				r->err = true;
				return;
			}
			if (i == sizeof(p->receipted_message_id)) {
				r->err = true;
				return;
			}
			p->receipted_message_id[i] = '\0';
			break;
		}
		case SMPP_TLV_MESSAGE_STATE:
			if (n != 1) {
				r->err = true;
				return;
			}
			p->message_state = v[0];
			break;
		case SMPP_TLV_SAR_MSG_REF_NUM:
			if (n != 2) {
				r->err = true;
				return;
			}
			p->sar_msg_ref_num = (uint16_t)(v[0] << 8 | v[1]);
			sar |= 1;
			break;
		case SMPP_TLV_SAR_TOTAL_SEGMENTS:
		case SMPP_TLV_SAR_SEGMENT_SEQNUM:
			if (n != 1) {
				r->err = true;
				return;
			}
			if (tag == SMPP_TLV_SAR_TOTAL_SEGMENTS) {
				p->sar_total_segments = v[0];
				sar |= 2;
			} else {
				p->sar_segment_seqnum = v[0];
				sar |= 4;
			}
			break;
		default:
			break;	/* unknown optional parameter: skip */
		}
	}
	p->has_sar = (sar == 7);
}

static void
dec_sm(struct smpp_rd *r, struct smpp_pdu *p)
{
	rd_cstr(r, p->service_type, sizeof(p->service_type));
	p->source_ton = rd_u8(r);
	p->source_npi = rd_u8(r);
	rd_cstr(r, p->source_addr, sizeof(p->source_addr));
	p->dest_ton = rd_u8(r);
	p->dest_npi = rd_u8(r);
	rd_cstr(r, p->dest_addr, sizeof(p->dest_addr));
	p->esm_class = rd_u8(r);
	p->protocol_id = rd_u8(r);
	p->priority_flag = rd_u8(r);
	rd_cstr(r, p->schedule_delivery_time,
	    sizeof(p->schedule_delivery_time));
	rd_cstr(r, p->validity_period, sizeof(p->validity_period));
	p->registered_delivery = rd_u8(r);
	p->replace_if_present = rd_u8(r);
	p->data_coding = rd_u8(r);
	p->sm_default_msg_id = rd_u8(r);
	p->sm_length = rd_u8(r);
	if (p->sm_length > 254)
		r->err = true;
	p->short_message = rd_bytes(r, p->sm_length);
	dec_tlvs(r, p);
}

bool
smpp_pdu_decode(const uint8_t *buf, size_t len, struct smpp_pdu *out,
    bool *hdr_ok)
{
	struct smpp_rd r = { buf, len, SMPP_HDR_LEN, false };
	struct smpp_pdu p;

	if (hdr_ok != NULL)
		*hdr_ok = false;
	if (buf == NULL || len < SMPP_HDR_LEN || len > SMPP_PDU_MAX ||
	    rd_u32_at(buf) != len)
		return false;
	smpp_pdu_init(&p, 0, 0);
	smpp_pdu_peek_hdr(buf, &p.cmd, &p.status, &p.seq);
	switch (p.cmd) {
	case SMPP_BIND_TRANSCEIVER:
		rd_cstr(&r, p.system_id, sizeof(p.system_id));
		rd_cstr(&r, p.password, sizeof(p.password));
		rd_cstr(&r, p.system_type, sizeof(p.system_type));
		p.interface_version = rd_u8(&r);
		p.addr_ton = rd_u8(&r);
		p.addr_npi = rd_u8(&r);
		rd_cstr(&r, p.address_range, sizeof(p.address_range));
		break;
	case SMPP_BIND_TRANSCEIVER_RESP:
		/* system_id may be missing when the bind failed */
		if (r.off < len)
			rd_cstr(&r, p.system_id, sizeof(p.system_id));
		/* sc_interface_version TLV and others: checked, ignored */
		dec_tlvs(&r, &p);
		break;
	case SMPP_SUBMIT_SM:
	case SMPP_DELIVER_SM:
		dec_sm(&r, &p);
		break;
	case SMPP_SUBMIT_SM_RESP:
	case SMPP_DELIVER_SM_RESP:
		if (r.off < len)
			rd_cstr(&r, p.message_id, sizeof(p.message_id));
		break;
	case SMPP_GENERIC_NACK:
	case SMPP_UNBIND:
	case SMPP_UNBIND_RESP:
	case SMPP_ENQUIRE_LINK:
	case SMPP_ENQUIRE_LINK_RESP:
		break;
	default:
		if (hdr_ok != NULL)
			*hdr_ok = true;
		return false;
	}
	if (r.err || r.off != len)
		return false;
	*out = p;
	return true;
}

const char *
smpp_cmd_name(uint32_t cmd)
{
	switch (cmd) {
	case SMPP_GENERIC_NACK:		return "generic_nack";
	case SMPP_BIND_TRANSCEIVER:	return "bind_transceiver";
	case SMPP_BIND_TRANSCEIVER_RESP: return "bind_transceiver_resp";
	case SMPP_UNBIND:		return "unbind";
	case SMPP_UNBIND_RESP:		return "unbind_resp";
	case SMPP_ENQUIRE_LINK:		return "enquire_link";
	case SMPP_ENQUIRE_LINK_RESP:	return "enquire_link_resp";
	case SMPP_SUBMIT_SM:		return "submit_sm";
	case SMPP_SUBMIT_SM_RESP:	return "submit_sm_resp";
	case SMPP_DELIVER_SM:		return "deliver_sm";
	case SMPP_DELIVER_SM_RESP:	return "deliver_sm_resp";
	default:			return "unknown";
	}
}

const char *
smpp_status_name(uint32_t status, char *buf, size_t len)
{
	switch (status) {
	case SMPP_ESME_ROK:		return "ESME_ROK";
	case SMPP_ESME_RINVMSGLEN:	return "ESME_RINVMSGLEN";
	case SMPP_ESME_RINVCMDLEN:	return "ESME_RINVCMDLEN";
	case SMPP_ESME_RINVCMDID:	return "ESME_RINVCMDID";
	case SMPP_ESME_RINVBNDSTS:	return "ESME_RINVBNDSTS";
	case SMPP_ESME_RALYBND:		return "ESME_RALYBND";
	case SMPP_ESME_RSYSERR:		return "ESME_RSYSERR";
	case SMPP_ESME_RINVSRCADR:	return "ESME_RINVSRCADR";
	case SMPP_ESME_RINVDSTADR:	return "ESME_RINVDSTADR";
	case SMPP_ESME_RBINDFAIL:	return "ESME_RBINDFAIL";
	case SMPP_ESME_RINVPASWD:	return "ESME_RINVPASWD";
	case SMPP_ESME_RINVSYSID:	return "ESME_RINVSYSID";
	case SMPP_ESME_RMSGQFUL:	return "ESME_RMSGQFUL";
	case SMPP_ESME_RSUBMITFAIL:	return "ESME_RSUBMITFAIL";
	case SMPP_ESME_RTHROTTLED:	return "ESME_RTHROTTLED";
	default:
		snprintf(buf, len, "ESME_0x%08x", (unsigned)status);
		return buf;
	}
}

/* ---- delivery receipts -------------------------------------------- */

static const struct {
	const char *stat;
	int state;
} smpp_stats[] = {
	{ "DELIVRD", SMPP_STATE_DELIVERED },
	{ "EXPIRED", SMPP_STATE_EXPIRED },
	{ "DELETED", SMPP_STATE_DELETED },
	{ "UNDELIV", SMPP_STATE_UNDELIVERABLE },
	{ "ACCEPTD", SMPP_STATE_ACCEPTED },
	{ "UNKNOWN", SMPP_STATE_UNKNOWN },
	{ "REJECTD", SMPP_STATE_REJECTED },
	{ "ENROUTE", SMPP_STATE_ENROUTE },
};

/* Find "key" (case-insensitive) at a word start; returns value offset. */
static bool
rcpt_find(const uint8_t *t, size_t len, const char *key, size_t *val)
{
	size_t k = strlen(key), i;

	for (i = 0; i + k <= len; i++) {
		if (i > 0 && t[i - 1] != ' ')
			continue;
		if (strncasecmp((const char *)t + i, key, k) == 0) {
			*val = i + k;
			return true;
		}
	}
	return false;
}

/* Copy the value up to the next space (or end) into dst. */
static bool
rcpt_word(const uint8_t *t, size_t len, size_t off, char *dst, size_t max)
{
	size_t n = 0;

	while (off + n < len && t[off + n] != ' ' && t[off + n] != '\0') {
		if (!isprint(t[off + n]) || n + 1 >= max)
			return false;
		n++;
	}
	memcpy(dst, t + off, n);
	dst[n] = '\0';
	return true;
}

static int
rcpt_int(const uint8_t *t, size_t len, const char *key)
{
	size_t off;
	char w[8];
	int v = 0;
	size_t i;

	if (!rcpt_find(t, len, key, &off) ||
	    !rcpt_word(t, len, off, w, sizeof(w)) || w[0] == '\0')
		return -1;
	for (i = 0; w[i] != '\0'; i++) {
		if (!isdigit((unsigned char)w[i]))
			return -1;
		v = v * 10 + (w[i] - '0');
	}
	return v;
}

bool
smpp_receipt_parse(const uint8_t *text, size_t len, struct smpp_receipt *out)
{
	struct smpp_receipt r;
	size_t off, i, tlen = len;

	memset(&r, 0, sizeof(r));
	if (text == NULL)
		return false;
	/* do not look into the free "text:" part for keys */
	if (rcpt_find(text, len, "text:", &off))
		tlen = off - 5;
	if (!rcpt_find(text, tlen, "id:", &off) ||
	    !rcpt_word(text, tlen, off, r.id, sizeof(r.id)) || r.id[0] == '\0')
		return false;
	if (!rcpt_find(text, tlen, "stat:", &off) ||
	    !rcpt_word(text, tlen, off, r.stat, sizeof(r.stat)))
		return false;
	r.state = -1;
	for (i = 0; i < sizeof(smpp_stats) / sizeof(smpp_stats[0]); i++)
		if (strcasecmp(r.stat, smpp_stats[i].stat) == 0)
			r.state = smpp_stats[i].state;
	if (r.state < 0)
		return false;
	r.sub = rcpt_int(text, tlen, "sub:");
	r.dlvrd = rcpt_int(text, tlen, "dlvrd:");
	if (rcpt_find(text, tlen, "submit date:", &off) &&
	    !rcpt_word(text, tlen, off, r.submit_date, sizeof(r.submit_date)))
		return false;
	if (rcpt_find(text, tlen, "done date:", &off) &&
	    !rcpt_word(text, tlen, off, r.done_date, sizeof(r.done_date)))
		return false;
	if (rcpt_find(text, tlen, "err:", &off) &&
	    !rcpt_word(text, tlen, off, r.err, sizeof(r.err)))
		return false;
	*out = r;
	return true;
}

int
smpp_state_final(int state)
{
	switch (state) {
	case SMPP_STATE_DELIVERED:
		return 1;
	case SMPP_STATE_ENROUTE:
	case SMPP_STATE_ACCEPTED:
		return -1;
	default:
		return 0;
	}
}

/* ---- text encoding ------------------------------------------------- */

/* GSM 03.38 default alphabet, indexed by septet. */
static const uint16_t gsm_basic[128] = {
	0x0040, 0x00A3, 0x0024, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC,
	0x00F2, 0x00C7, 0x000A, 0x00D8, 0x00F8, 0x000D, 0x00C5, 0x00E5,
	0x0394, 0x005F, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8,
	0x03A3, 0x0398, 0x039E, 0xFFFF, 0x00C6, 0x00E6, 0x00DF, 0x00C9,
	0x0020, 0x0021, 0x0022, 0x0023, 0x00A4, 0x0025, 0x0026, 0x0027,
	0x0028, 0x0029, 0x002A, 0x002B, 0x002C, 0x002D, 0x002E, 0x002F,
	0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037,
	0x0038, 0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x003E, 0x003F,
	0x00A1, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047,
	0x0048, 0x0049, 0x004A, 0x004B, 0x004C, 0x004D, 0x004E, 0x004F,
	0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057,
	0x0058, 0x0059, 0x005A, 0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7,
	0x00BF, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067,
	0x0068, 0x0069, 0x006A, 0x006B, 0x006C, 0x006D, 0x006E, 0x006F,
	0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077,
	0x0078, 0x0079, 0x007A, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0,
};

/* Extension table (after ESC 0x1B). */
static const struct {
	uint8_t code;
	uint16_t cp;
} gsm_ext[] = {
	{ 0x0A, 0x000C }, { 0x14, 0x005E }, { 0x28, 0x007B },
	{ 0x29, 0x007D }, { 0x2F, 0x005C }, { 0x3C, 0x005B },
	{ 0x3D, 0x007E }, { 0x3E, 0x005D }, { 0x40, 0x007C },
	{ 0x65, 0x20AC },
};

#define GSM_ESC	0x1B

/* Septets for cp (1 or 2) with the codes in c[], 0 if not encodable. */
static int
gsm_lookup(uint32_t cp, uint8_t c[2])
{
	size_t i;

	for (i = 0; i < 128; i++)
		if (gsm_basic[i] == cp) {
			c[0] = (uint8_t)i;
			return 1;
		}
	for (i = 0; i < sizeof(gsm_ext) / sizeof(gsm_ext[0]); i++)
		if (gsm_ext[i].cp == cp) {
			c[0] = GSM_ESC;
			c[1] = gsm_ext[i].code;
			return 2;
		}
	return 0;
}

/* Strict UTF-8: 1 and *cp set, 0 at the end, -1 on malformed input. */
static int
utf8_next(const unsigned char **sp, uint32_t *cp)
{
	const unsigned char *s = *sp;
	uint32_t c, min;
	int n, i;

	if (s[0] == '\0')
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		*sp = s + 1;
		return 1;
	}
	if ((s[0] & 0xE0) == 0xC0) {
		n = 1; c = s[0] & 0x1F; min = 0x80;
	} else if ((s[0] & 0xF0) == 0xE0) {
		n = 2; c = s[0] & 0x0F; min = 0x800;
	} else if ((s[0] & 0xF8) == 0xF0) {
		n = 3; c = s[0] & 0x07; min = 0x10000;
	} else
		return -1;
	for (i = 1; i <= n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return -1;	/* also stops at the NUL */
		c = c << 6 | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return -1;
	*cp = c;
	*sp = s + n + 1;
	return 1;
}

bool
smpp_text_is_gsm7(const char *utf8)
{
	const unsigned char *s = (const unsigned char *)utf8;
	uint32_t cp;
	uint8_t c[2];
	int rc;

	while ((rc = utf8_next(&s, &cp)) == 1)
		if (gsm_lookup(cp, c) == 0)
			return false;
	return rc == 0;
}

int
smpp_text_encode(const char *utf8, uint8_t ref, struct smpp_text *out)
{
	const unsigned char *s = (const unsigned char *)utf8;
	struct smpp_text t;
	bool gsm = true;
	size_t total = 0, limit, cur = 0, udh, i;
	uint32_t cp;
	uint8_t c[4];
	int rc, n;

	/* pass 1: validate, pick the alphabet, count units */
	while ((rc = utf8_next(&s, &cp)) == 1) {
		if (gsm && gsm_lookup(cp, c) == 0)
			gsm = false;
	}
	if (rc < 0 || utf8[0] == '\0')
		return -1;
	s = (const unsigned char *)utf8;
	while (utf8_next(&s, &cp) == 1) {
		if (gsm)
			total += (size_t)gsm_lookup(cp, c);
		else
			total += cp >= 0x10000 ? 2 : 1;
	}

	memset(&t, 0, sizeof(t));
	t.data_coding = gsm ? SMPP_DCS_DEFAULT : SMPP_DCS_UCS2;
	if (total <= (gsm ? 160u : 70u)) {
		udh = 0;
		limit = gsm ? 160 : 70;
	} else {
		udh = 6;
		limit = gsm ? 153 : 67;
		t.esm_class = SMPP_ESM_UDHI;
	}

	/* pass 2: emit, opening a new part when a character does not fit */
	t.nparts = 1;
	t.part[0].len = udh;
	s = (const unsigned char *)utf8;
	while (utf8_next(&s, &cp) == 1) {
		if (gsm) {
			n = gsm_lookup(cp, c);
		} else if (cp >= 0x10000) {
			uint32_t v = cp - 0x10000;
			uint16_t hi = (uint16_t)(0xD800 | (v >> 10));
			uint16_t lo = (uint16_t)(0xDC00 | (v & 0x3FF));

			c[0] = (uint8_t)(hi >> 8); c[1] = (uint8_t)hi;
			c[2] = (uint8_t)(lo >> 8); c[3] = (uint8_t)lo;
			n = 2;
		} else {
			c[0] = (uint8_t)(cp >> 8);
			c[1] = (uint8_t)cp;
			n = 1;
		}
		if (cur + (size_t)n > limit) {
			if (t.nparts == SMPP_TEXT_MAX_PARTS)
				return -1;
			t.nparts++;
			t.part[t.nparts - 1].len = udh;
			cur = 0;
		}
		/* octets: one per septet, two per UCS-2 unit */
		memcpy(t.part[t.nparts - 1].data + t.part[t.nparts - 1].len,
		    c, gsm ? (size_t)n : (size_t)n * 2);
		t.part[t.nparts - 1].len += gsm ? (size_t)n : (size_t)n * 2;
		cur += (size_t)n;
	}
	if (udh != 0) {
		for (i = 0; i < t.nparts; i++) {
			uint8_t *d = t.part[i].data;

			d[0] = 0x05;	/* UDHL */
			d[1] = 0x00;	/* IEI: concatenation, 8-bit ref */
			d[2] = 0x03;
			d[3] = ref;
			d[4] = (uint8_t)t.nparts;
			d[5] = (uint8_t)(i + 1);
		}
	}
	*out = t;
	return 0;
}
