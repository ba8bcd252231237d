/*
 * sampler: sampling and eligibility decisions (see sampler.h).
 */
#include <math.h>
#include <string.h>

#include <gcrypt.h>

#include "smsgw/log.h"
#include "smsgw/sampler.h"

static void
crypto_init(void)
{
	if (gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P))
		return;
	if (gcry_check_version(GCRYPT_VERSION) == NULL)
		fatalx("sampler", "libgcrypt is older than %s", GCRYPT_VERSION);
	gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
	gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
}

/* HMAC-SHA256 of a NUL-terminated string; fatal only if libgcrypt is
 * broken (SHA-256 HMAC always exists), which is an invariant. */
static void
hmac_sha256(const uint8_t key[SAMPLER_KEY_LEN], const char *msg,
    uint8_t out[32])
{
	gcry_md_hd_t hd;
	gcry_error_t err;
	const unsigned char *dig;

	crypto_init();
	err = gcry_md_open(&hd, GCRY_MD_SHA256, GCRY_MD_FLAG_HMAC);
	if (err)
		fatalx("sampler", "gcry_md_open: %s", gcry_strerror(err));
	err = gcry_md_setkey(hd, key, SAMPLER_KEY_LEN);
	if (err)
		fatalx("sampler", "gcry_md_setkey: %s", gcry_strerror(err));
	gcry_md_write(hd, msg, strlen(msg));
	if ((dig = gcry_md_read(hd, GCRY_MD_SHA256)) == NULL)
		fatalx("sampler", "gcry_md_read failed");
	memcpy(out, dig, 32);
	gcry_md_close(hd);
}

unsigned
sampler_flag_from_name(const char *name)
{
	static const struct {
		const char	*name;
		unsigned	 bit;
	} tab[] = {
		{ "turvakielto", SAMPLER_FLAG_TURVAKIELTO },
		{ "no_consent", SAMPLER_FLAG_NO_CONSENT },
		{ "multiple_phones", SAMPLER_FLAG_MULTIPLE_PHONES },
		{ "deceased", SAMPLER_FLAG_DECEASED },
		{ "sensitive", SAMPLER_FLAG_SENSITIVE },
	};
	size_t i;

	if (name == NULL)
		return 0;
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(name, tab[i].name) == 0)
			return tab[i].bit;
	return 0;
}

double
sampler_uniform(const uint8_t key[SAMPLER_KEY_LEN], const char *visit_id)
{
	uint8_t mac[32];
	uint64_t v = 0;
	int i;

	hmac_sha256(key, visit_id != NULL ? visit_id : "", mac);
	for (i = 0; i < 8; i++)
		v = (v << 8) | mac[i];
	v >>= 11;			/* top 53 bits */
	return (double)v / 9007199254740992.0;	/* 2^53 */
}

bool
sampler_decide(const uint8_t key[SAMPLER_KEY_LEN], const char *visit_id,
    double rate)
{
	if (isnan(rate) || rate <= 0.0)
		return false;
	if (rate >= 1.0)
		return true;
	return sampler_uniform(key, visit_id) < rate;
}

enum sampler_verdict
sampler_eligible(const struct sampler_visit *v, const struct sampler_policy *p,
    const struct sampler_history *h, int64_t now)
{
	int64_t cap_s;

	if (v->flags != 0)
		return SAMPLER_FLAGGED;
	if (v->age >= 0 && v->age < p->min_age)
		return SAMPLER_UNDERAGE;
	if (!v->phone_valid)
		return SAMPLER_BAD_PHONE;
	if (h->opted_out)
		return SAMPLER_OPTED_OUT;
	if (p->person_cap_days > 0 && h->last_invited > 0) {
		cap_s = (int64_t)p->person_cap_days * 86400;
		if (now - h->last_invited < cap_s)
			return SAMPLER_PERSON_CAP;
	}
	if (p->unit_daily_cap > 0 && h->unit_invited_today >= p->unit_daily_cap)
		return SAMPLER_UNIT_CAP;
	return SAMPLER_ELIGIBLE;
}

const char *
sampler_verdict_name(enum sampler_verdict v)
{
	switch (v) {
	case SAMPLER_ELIGIBLE:
		return "eligible";
	case SAMPLER_UNDERAGE:
		return "underage";
	case SAMPLER_FLAGGED:
		return "flagged";
	case SAMPLER_BAD_PHONE:
		return "bad_phone";
	case SAMPLER_OPTED_OUT:
		return "opted_out";
	case SAMPLER_PERSON_CAP:
		return "person_cap";
	case SAMPLER_UNIT_CAP:
		return "unit_cap";
	}
	return "unknown";
}

int
sampler_phone_hmac(const uint8_t key[SAMPLER_KEY_LEN], const char *e164,
    char out_hex[SAMPLER_HMAC_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t mac[32];
	int i;

	if (e164 == NULL || *e164 == '\0')
		return -1;
	hmac_sha256(key, e164, mac);
	for (i = 0; i < 32; i++) {
		out_hex[2 * i] = hex[mac[i] >> 4];
		out_hex[2 * i + 1] = hex[mac[i] & 0x0f];
	}
	out_hex[64] = '\0';
	return 0;
}
