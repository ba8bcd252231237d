/*
 * check_redact: free-text redaction (redact.h).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "smsgw/redact.h"

static void
expect(const char *in, const char *want)
{
	static char got[512];
	char *out = redact_text(in);

	ck_assert_ptr_nonnull(out);
	strncpy(got, out, sizeof(got) - 1);
	free(out);
	ck_assert_msg(strcmp(got, want) == 0, "redact(\"%s\") = \"%s\", "
	    "want \"%s\"", in, got, want);
}

START_TEST(test_phones)
{
	expect("soita 0401234567", "soita [phone]");
	expect("soita +358401234567 kiitos", "soita [phone] kiitos");
	expect("+358 40 123 4567", "[phone]");
	expect("numero 040-123 4567.", "numero [phone].");
	expect("040 1234 567, kiitos", "[phone], kiitos");
	expect("puh. 050-1234567", "puh. [phone]");
	expect("+358 (0)40 1234567", "[phone]");
	expect("(09) 123 4567 tai 09 1234 5678", "[phone] tai [phone]");
	expect("Ring 0046 8 123 456 78", "Ring [phone]");
	expect("+1 212 555 0199", "[phone]");
	expect("1234567", "[phone]");
	expect("nro:0401234567", "nro:[phone]");
	/* neighbouring score stays */
	expect("9 0401234567", "9 [phone]");
	expect("0401234567 9", "[phone] 9");
	expect("10, soita 040 123 4567!", "10, soita [phone]!");
}
END_TEST

START_TEST(test_not_phones)
{
	expect("9", "9");
	expect("8/10", "8/10");
	expect("10/10 hyvä", "10/10 hyvä");
	expect("Odotin 2 tuntia... 8", "Odotin 2 tuntia... 8");
	expect("klo 10:15 24.11.2026", "klo 10:15 24.11.2026");
	expect("123456", "123456");
	expect("1 2 3 4 5 6 7 8 9 10", "1 2 3 4 5 6 7 8 9 10");
	expect("vuosina 2019-2025", "vuosina 2019-2025");
	expect("käynti 2026-11-24", "käynti 2026-11-24");
	expect("9,5 / 10", "9,5 / 10");
	expect("+12", "+12");
	expect("", "");
}
END_TEST

START_TEST(test_emails)
{
	expect("matti.meikalainen@example.fi", "[email]");
	expect("laita viestiä: Matti_M+nps@posti.hyvaks.fi, kiitos",
	    "laita viestiä: [email], kiitos");
	expect("a@b.co", "[email]");
	expect("mail: pääkäyttäjä@esimerkki.fi.", "mail: [email].");
	expect("(maija@example.com)", "([email])");
	expect("m.virtanen2@x.org ja 0401234567", "[email] ja [phone]");
	expect("0401234567@sms.example.com", "[email]");
	/* not addresses */
	expect("@home", "@home");
	expect("sähköposti @ ei", "sähköposti @ ei");
	expect("nimi@localhost", "nimi@localhost");
	expect("a@b.c", "a@b.c");
	expect("x@.fi", "x@.fi");
}
END_TEST

START_TEST(test_hetu_valid)
{
	/* 1900s with '-' */
	ck_assert(redact_is_hetu("131052-308T", 11));
	/* the 2023 signs: Y X W V U for 1900s, B C D E F for 2000s */
	ck_assert(redact_is_hetu("010594Y9032", 11));
	ck_assert(redact_is_hetu("311299U456X", 11));
	ck_assert(redact_is_hetu("101085X555B", 11));
	ck_assert(redact_is_hetu("121212W321V", 11));
	ck_assert(redact_is_hetu("010203V6544", 11));
	ck_assert(redact_is_hetu("020502E902X", 11));
	ck_assert(redact_is_hetu("240224B111V", 11));
	ck_assert(redact_is_hetu("010203C6544", 11));
	ck_assert(redact_is_hetu("010203D6544", 11));
	ck_assert(redact_is_hetu("050607F789A", 11));
	/* 2000s with 'A', 1800s with '+' */
	ck_assert(redact_is_hetu("150399A123L", 11));
	ck_assert(redact_is_hetu("010101+2348", 11));
	/* 29 February 2000 exists */
	ck_assert(redact_is_hetu("290200A2457", 11));
	/* lower case letters */
	ck_assert(redact_is_hetu("131052-308t", 11));

	expect("hetu 131052-308T", "hetu [hetu]");
	expect("hetuni on 010594Y9032.", "hetuni on [hetu].");
	expect("020502E902X,240224B111V", "[hetu],[hetu]");
	expect("010101+2348 ja 150399A123L", "[hetu] ja [hetu]");
	expect("lapsen 050607f789a", "lapsen [hetu]");
}
END_TEST

START_TEST(test_hetu_invalid)
{
	/* wrong check character */
	ck_assert(!redact_is_hetu("131052-308U", 11));
	ck_assert(!redact_is_hetu("010594Y9033", 11));
	/* impossible dates, right check character */
	ck_assert(!redact_is_hetu("290201A245F", 11));
	ck_assert(!redact_is_hetu("320100A000E", 11));
	/* bad layout */
	ck_assert(!redact_is_hetu("131052G308T", 11));
	ck_assert(!redact_is_hetu("131052-308G", 11));	/* G not used */
	ck_assert(!redact_is_hetu("131052-308T", 10));
	ck_assert(!redact_is_hetu("131052-308TX", 12));
	ck_assert(!redact_is_hetu(NULL, 11));

	/* lookalikes with a letter are left alone */
	expect("koodi 131052-308U", "koodi 131052-308U");
	expect("koodi 010594Y9033 ok", "koodi 010594Y9033 ok");
	expect("290201A245F", "290201A245F");
	/* a digits-only lookalike is a phone number */
	expect("040123-4567", "[phone]");
	/* glued to a word: still redacted */
	expect("131052-308Tabc", "[hetu]abc");
}
END_TEST

START_TEST(test_utf8)
{
	expect("Hoitaja oli ihana ❤️ soita 0401234567 😊 kiitos",
	    "Hoitaja oli ihana ❤️ soita [phone] 😊 kiitos");
	expect("ääö0401234567åÅ", "ääö[phone]åÅ");
	expect("Jätä viesti: jönssi@exämple.fi ✓",
	    "Jätä viesti: [email] ✓");
	expect("€131052-308T€", "€[hetu]€");
	expect("Erittäin hyvä palvelu, 10!", "Erittäin hyvä palvelu, 10!");
	ck_assert_ptr_null(redact_text(NULL));
}
END_TEST

START_TEST(test_mixed)
{
	expect("0401234567 131052-308T", "[phone] [hetu]");
	expect("040 123 4567 131052-308U", "[phone] 131052-308U");
	expect("9 Lääkäri soitti 040 123 4567, hetu 131052-308T, "
	    "maili matti@example.fi",
	    "9 Lääkäri soitti [phone], hetu [hetu], maili [email]");
}
END_TEST

static Suite *
redact_suite(void)
{
	Suite *s = suite_create("redact");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_phones);
	tcase_add_test(tc, test_not_phones);
	tcase_add_test(tc, test_emails);
	tcase_add_test(tc, test_hetu_valid);
	tcase_add_test(tc, test_hetu_invalid);
	tcase_add_test(tc, test_utf8);
	tcase_add_test(tc, test_mixed);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(redact_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
