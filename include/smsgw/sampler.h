/*
 * sampler: who gets an invitation.  Pure decisions: no I/O, no clock
 * ("now" is passed in), no stored state.  Storing a decision once it has
 * been made is the caller's job (the store), so that a visit is decided
 * exactly once.
 *
 * The keyed hashes use libgcrypt (HMAC-SHA256).  The first call
 * initialises libgcrypt if nobody has yet (gcry_check_version, secure
 * memory off, initialisation finished); a program that initialises
 * libgcrypt itself should do so before calling into this module.
 */
#ifndef SMSGW_SAMPLER_H
#define SMSGW_SAMPLER_H

#include <stdbool.h>
#include <stdint.h>

#define SAMPLER_KEY_LEN		32
#define SAMPLER_HMAC_HEX_LEN	64	/* plus NUL */

/* Visit flags from the spool (contract §3); any flag makes it ineligible. */
#define SAMPLER_FLAG_TURVAKIELTO	0x01u
#define SAMPLER_FLAG_NO_CONSENT		0x02u
#define SAMPLER_FLAG_MULTIPLE_PHONES	0x04u
#define SAMPLER_FLAG_DECEASED		0x08u
#define SAMPLER_FLAG_SENSITIVE		0x10u

enum sampler_verdict {
	SAMPLER_ELIGIBLE = 0,
	SAMPLER_UNDERAGE,	/* age known and below min_age */
	SAMPLER_FLAGGED,	/* any exclusion flag */
	SAMPLER_BAD_PHONE,	/* no usable mobile number */
	SAMPLER_OPTED_OUT,	/* phone on the suppression list */
	SAMPLER_PERSON_CAP,	/* invited within person_cap_days */
	SAMPLER_UNIT_CAP	/* unit's daily invitation cap reached */
};

/* What is known about the visit itself. */
struct sampler_visit {
	int		 age;		/* years; negative = unknown */
	unsigned	 flags;		/* SAMPLER_FLAG_* */
	bool		 phone_valid;	/* E.164 mobile number present */
};

/* Per-unit policy from the config (0 = no cap). */
struct sampler_policy {
	int		 min_age;	/* e.g. 18; 0 = no limit */
	unsigned	 person_cap_days;
	unsigned	 unit_daily_cap;
};

/* History looked up by the caller (by phone HMAC and unit). */
struct sampler_history {
	bool		 opted_out;
	int64_t		 last_invited;	/* epoch s of last invite, 0 never */
	unsigned	 unit_invited_today;
};

/*
 * Flag bit for a spool flag name ("turvakielto", "no_consent",
 * "multiple_phones", "deceased", "sensitive"); 0 for an unknown name.
 */
unsigned	 sampler_flag_from_name(const char *name);

/*
 * Uniform value in [0, 1) with 53 random bits, derived from
 * HMAC-SHA256(key, visit_id): the same key and id always give the same
 * value, and without the key the value cannot be predicted.
 */
double		 sampler_uniform(const uint8_t key[SAMPLER_KEY_LEN],
		    const char *visit_id);

/*
 * Is the visit in the sample at this rate?  sampler_uniform() < rate;
 * rate <= 0 (or NaN) is never, rate >= 1 always.
 */
bool		 sampler_decide(const uint8_t key[SAMPLER_KEY_LEN],
		    const char *visit_id, double rate);

/*
 * Eligibility, checked in this order (the first failing rule is the
 * verdict): FLAGGED, UNDERAGE, BAD_PHONE, OPTED_OUT, PERSON_CAP,
 * UNIT_CAP.  An unknown age (negative) does not exclude: age is optional
 * in the spool (contract §3), and a visit that must not be surveyed is
 * expected to carry a flag.  PERSON_CAP applies when
 * last_invited > 0 and now - last_invited < person_cap_days days (a
 * last_invited in the future also counts as within the cap).  UNIT_CAP
 * applies when unit_invited_today >= unit_daily_cap.  now is epoch s.
 */
enum sampler_verdict sampler_eligible(const struct sampler_visit *v,
		    const struct sampler_policy *p,
		    const struct sampler_history *h, int64_t now);

/* "eligible", "underage", "flagged", "bad_phone", "opted_out",
 * "person_cap", "unit_cap"; "unknown" for other values.  Static string. */
const char	*sampler_verdict_name(enum sampler_verdict v);

/*
 * HMAC-SHA256(key, e164) as 64 lowercase hex digits plus NUL into out,
 * the pseudonym used for suppression and caps.  Returns 0, or -1 (out
 * untouched) when e164 is NULL or empty.
 */
int		 sampler_phone_hmac(const uint8_t key[SAMPLER_KEY_LEN],
		    const char *e164, char out_hex[SAMPLER_HMAC_HEX_LEN + 1]);

#endif
