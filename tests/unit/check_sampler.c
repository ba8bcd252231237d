/*
 * check_sampler: sampling and eligibility decisions (sampler.h).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smsgw/sampler.h"

#define NVISITS	100000

static uint8_t key1[SAMPLER_KEY_LEN];
static uint8_t key2[SAMPLER_KEY_LEN];

static void
setup(void)
{
	int i;

	for (i = 0; i < SAMPLER_KEY_LEN; i++) {
		key1[i] = (uint8_t)(i * 7 + 1);
		key2[i] = (uint8_t)(i * 7 + 1);
	}
	key2[31] ^= 0x01;	/* differs in one bit */
}

static void
visit_id(char *buf, size_t len, int i)
{
	snprintf(buf, len, "V-2026-%06d", i);
}

/* Count of sampled visits out of NVISITS at rate. */
static int
count_sampled(const uint8_t *key, double rate)
{
	char id[32];
	int i, n = 0;

	for (i = 0; i < NVISITS; i++) {
		visit_id(id, sizeof(id), i);
		if (sampler_decide(key, id, rate))
			n++;
	}
	return n;
}

START_TEST(test_rate_edges)
{
	ck_assert_int_eq(count_sampled(key1, 0.0), 0);
	ck_assert_int_eq(count_sampled(key1, 1.0), NVISITS);
	ck_assert(!sampler_decide(key1, "V1", -0.5));
	ck_assert(!sampler_decide(key1, "V1", NAN));
	ck_assert(sampler_decide(key1, "V1", 1.5));
}
END_TEST

START_TEST(test_rate_binomial)
{
	static const double rates[] = { 0.3, 0.1, 0.5 };
	double p, mean, sigma;
	size_t i;
	int n;

	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		p = rates[i];
		mean = NVISITS * p;
		sigma = sqrt(NVISITS * p * (1 - p));
		n = count_sampled(key1, p);
		ck_assert_msg(fabs(n - mean) <= 5 * sigma,
		    "rate %.2f: %d sampled, expected %.0f +- %.0f", p, n, mean,
		    5 * sigma);
	}
}
END_TEST

START_TEST(test_uniform_range)
{
	char id[32];
	double u, min = 1, max = 0, sum = 0;
	int i, bins[10] = { 0 };

	for (i = 0; i < NVISITS; i++) {
		visit_id(id, sizeof(id), i);
		u = sampler_uniform(key1, id);
		ck_assert(u >= 0.0 && u < 1.0);
		if (u < min)
			min = u;
		if (u > max)
			max = u;
		sum += u;
		bins[(int)(u * 10)]++;
	}
	ck_assert(min < 0.001);
	ck_assert(max > 0.999);
	/* each decile within 5 sigma of 10 000 (sigma ~ 95) */
	for (i = 0; i < 10; i++)
		ck_assert_msg(fabs(bins[i] - 10000.0) < 5 * 95,
		    "decile %d has %d", i, bins[i]);
	ck_assert(fabs(sum / NVISITS - 0.5) < 0.005);
}
END_TEST

START_TEST(test_deterministic)
{
	char id[32];
	int i, same = 0;
	double a, b;

	for (i = 0; i < 1000; i++) {
		visit_id(id, sizeof(id), i);
		a = sampler_uniform(key1, id);
		ck_assert(a == sampler_uniform(key1, id));
		ck_assert(sampler_decide(key1, id, 0.3) ==
		    sampler_decide(key1, id, 0.3));
		/* monotone in the rate */
		if (sampler_decide(key1, id, 0.2))
			ck_assert(sampler_decide(key1, id, 0.3));
		b = sampler_uniform(key2, id);
		if (a == b)
			same++;
	}
	/* a one-bit key change gives unrelated values */
	ck_assert_int_eq(same, 0);
	ck_assert(sampler_uniform(key1, "V-1") != sampler_uniform(key1, "V-2"));
}
END_TEST

START_TEST(test_keys_differ)
{
	int a = 0, both = 0, i;
	char id[32];
	bool d1, d2;

	/* with rate 0.5, two independent keys agree about half the time */
	for (i = 0; i < 10000; i++) {
		visit_id(id, sizeof(id), i);
		d1 = sampler_decide(key1, id, 0.5);
		d2 = sampler_decide(key2, id, 0.5);
		a += d1;
		both += d1 && d2;
	}
	ck_assert(abs(both - 2500) < 5 * 44);
	ck_assert(abs(a - 5000) < 5 * 50);
}
END_TEST

START_TEST(test_phone_hmac)
{
	char h1[SAMPLER_HMAC_HEX_LEN + 1], h2[SAMPLER_HMAC_HEX_LEN + 1];
	char h3[SAMPLER_HMAC_HEX_LEN + 1];
	static const uint8_t zero[SAMPLER_KEY_LEN];
	size_t i;

	ck_assert_int_eq(sampler_phone_hmac(key1, "+358401234567", h1), 0);
	ck_assert_int_eq(strlen(h1), 64);
	for (i = 0; i < 64; i++)
		ck_assert(strchr("0123456789abcdef", h1[i]) != NULL);
	ck_assert_int_eq(sampler_phone_hmac(key1, "+358401234567", h2), 0);
	ck_assert_str_eq(h1, h2);
	ck_assert_int_eq(sampler_phone_hmac(key2, "+358401234567", h2), 0);
	ck_assert_str_ne(h1, h2);
	ck_assert_int_eq(sampler_phone_hmac(key1, "+358401234568", h3), 0);
	ck_assert_str_ne(h1, h3);
	/*
	 * Known answer: HMAC-SHA256 with a 32-byte zero key of "+358401234567"
	 * (python3: hmac.new(bytes(32), b"+358401234567", "sha256")).
	 */
	ck_assert_int_eq(sampler_phone_hmac(zero, "+358401234567", h3), 0);
	ck_assert_str_eq(h3, "e160b323805063ec97d86216b2a6b1d8"
	    "30a2f743e8853708ecfb6cd6194c910c");

	strcpy(h2, "untouched");
	ck_assert_int_eq(sampler_phone_hmac(key1, "", h2), -1);
	ck_assert_int_eq(sampler_phone_hmac(key1, NULL, h2), -1);
	ck_assert_str_eq(h2, "untouched");
}
END_TEST

static const struct sampler_policy policy = {
	.min_age = 18, .person_cap_days = 30, .unit_daily_cap = 50
};

#define NOW	1795000000LL
#define DAY	86400LL

START_TEST(test_eligible)
{
	struct sampler_visit v = { .age = 34, .flags = 0, .phone_valid = true };
	struct sampler_history h = { .opted_out = false, .last_invited = 0,
	    .unit_invited_today = 0 };
	struct sampler_policy p = policy;

	ck_assert_int_eq(sampler_eligible(&v, &p, &h, NOW), SAMPLER_ELIGIBLE);
	/* age: boundary and unknown */
	v.age = 18;
	ck_assert_int_eq(sampler_eligible(&v, &p, &h, NOW), SAMPLER_ELIGIBLE);
	v.age = 17;
	ck_assert_int_eq(sampler_eligible(&v, &p, &h, NOW), SAMPLER_UNDERAGE);
	v.age = -1;
	ck_assert_int_eq(sampler_eligible(&v, &p, &h, NOW), SAMPLER_ELIGIBLE);
	v.age = 0;
	ck_assert_int_eq(sampler_eligible(&v, &p, &h, NOW), SAMPLER_UNDERAGE);
	p.min_age = 0;
	ck_assert_int_eq(sampler_eligible(&v, &p, &h, NOW), SAMPLER_ELIGIBLE);
}
END_TEST

START_TEST(test_verdicts)
{
	struct sampler_visit v = { .age = 40, .flags = 0, .phone_valid = true };
	struct sampler_history h = { 0 };
	struct sampler_policy p = policy;
	unsigned f;

	/* every flag on its own excludes */
	for (f = SAMPLER_FLAG_TURVAKIELTO; f <= SAMPLER_FLAG_SENSITIVE;
	    f <<= 1) {
		v.flags = f;
		ck_assert_int_eq(sampler_eligible(&v, &p, &h, NOW),
		    SAMPLER_FLAGGED);
	}
	v.flags = 0;

	v.phone_valid = false;
	ck_assert_int_eq(sampler_eligible(&v, &p, &h, NOW), SAMPLER_BAD_PHONE);
	v.phone_valid = true;

	h.opted_out = true;
	ck_assert_int_eq(sampler_eligible(&v, &p, &h, NOW), SAMPLER_OPTED_OUT);
	h.opted_out = false;

	/* person cap: 29 days ago capped, exactly 30 days ago fine */
	h.last_invited = NOW - 29 * DAY;
	ck_assert_int_eq(sampler_eligible(&v, &p, &h, NOW),
	    SAMPLER_PERSON_CAP);
	h.last_invited = NOW - 30 * DAY + 1;
	ck_assert_int_eq(sampler_eligible(&v, &p, &h, NOW),
	    SAMPLER_PERSON_CAP);
	h.last_invited = NOW - 30 * DAY;
	ck_assert_int_eq(sampler_eligible(&v, &p, &h, NOW), SAMPLER_ELIGIBLE);
	h.last_invited = NOW - DAY;
	p.person_cap_days = 0;
	ck_assert_int_eq(sampler_eligible(&v, &p, &h, NOW), SAMPLER_ELIGIBLE);
	p.person_cap_days = 30;
	h.last_invited = 0;

	/* unit cap */
	h.unit_invited_today = 49;
	ck_assert_int_eq(sampler_eligible(&v, &p, &h, NOW), SAMPLER_ELIGIBLE);
	h.unit_invited_today = 50;
	ck_assert_int_eq(sampler_eligible(&v, &p, &h, NOW), SAMPLER_UNIT_CAP);
	p.unit_daily_cap = 0;
	ck_assert_int_eq(sampler_eligible(&v, &p, &h, NOW), SAMPLER_ELIGIBLE);
	p.unit_daily_cap = 50;

	/* order: flags before age before phone before opt-out before caps */
	v.flags = SAMPLER_FLAG_DECEASED;
	v.age = 10;
	v.phone_valid = false;
	h.opted_out = true;
	h.last_invited = NOW - DAY;
	ck_assert_int_eq(sampler_eligible(&v, &p, &h, NOW), SAMPLER_FLAGGED);
	v.flags = 0;
	ck_assert_int_eq(sampler_eligible(&v, &p, &h, NOW), SAMPLER_UNDERAGE);
	v.age = 40;
	ck_assert_int_eq(sampler_eligible(&v, &p, &h, NOW), SAMPLER_BAD_PHONE);
	v.phone_valid = true;
	ck_assert_int_eq(sampler_eligible(&v, &p, &h, NOW), SAMPLER_OPTED_OUT);
	h.opted_out = false;
	h.unit_invited_today = 99;
	ck_assert_int_eq(sampler_eligible(&v, &p, &h, NOW),
	    SAMPLER_PERSON_CAP);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(sampler_verdict_name(SAMPLER_ELIGIBLE), "eligible");
	ck_assert_str_eq(sampler_verdict_name(SAMPLER_UNDERAGE), "underage");
	ck_assert_str_eq(sampler_verdict_name(SAMPLER_FLAGGED), "flagged");
	ck_assert_str_eq(sampler_verdict_name(SAMPLER_BAD_PHONE), "bad_phone");
	ck_assert_str_eq(sampler_verdict_name(SAMPLER_OPTED_OUT), "opted_out");
	ck_assert_str_eq(sampler_verdict_name(SAMPLER_PERSON_CAP),
	    "person_cap");
	ck_assert_str_eq(sampler_verdict_name(SAMPLER_UNIT_CAP), "unit_cap");
	ck_assert_str_eq(sampler_verdict_name((enum sampler_verdict)99),
	    "unknown");

	ck_assert_uint_eq(sampler_flag_from_name("turvakielto"),
	    SAMPLER_FLAG_TURVAKIELTO);
	ck_assert_uint_eq(sampler_flag_from_name("no_consent"),
	    SAMPLER_FLAG_NO_CONSENT);
	ck_assert_uint_eq(sampler_flag_from_name("multiple_phones"),
	    SAMPLER_FLAG_MULTIPLE_PHONES);
	ck_assert_uint_eq(sampler_flag_from_name("deceased"),
	    SAMPLER_FLAG_DECEASED);
	ck_assert_uint_eq(sampler_flag_from_name("sensitive"),
	    SAMPLER_FLAG_SENSITIVE);
	ck_assert_uint_eq(sampler_flag_from_name("vip"), 0);
	ck_assert_uint_eq(sampler_flag_from_name(NULL), 0);
}
END_TEST

static Suite *
sampler_suite(void)
{
	Suite *s = suite_create("sampler");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_rate_edges);
	tcase_add_test(tc, test_rate_binomial);
	tcase_add_test(tc, test_uniform_range);
	tcase_add_test(tc, test_deterministic);
	tcase_add_test(tc, test_keys_differ);
	tcase_add_test(tc, test_phone_hmac);
	tcase_add_test(tc, test_eligible);
	tcase_add_test(tc, test_verdicts);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(sampler_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
