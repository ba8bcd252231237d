/*
 * spool: visit intake from spool_dir (contract section 3).
 *
 * The appointment system writes a file into spool_dir/tmp/ and renames it
 * into spool_dir/new/.  Every regular file in new/ whose name ends in
 * ".jsonl" is taken, in strcmp() name order; other names, and symlinks,
 * directories or FIFOs whatever their name, are left alone.  A file is
 * read whole and checked here; this module never touches the database:
 * the daemon passes a sink callback that commits all good lines of one
 * file in one transaction.
 *
 * Per file:
 *  1. Read it whole (at most SPOOL_FILE_MAX bytes, SPOOL_LINES_MAX
 *     non-empty lines).  A leading UTF-8 byte order mark is skipped.
 *     Lines end with "\n" ("\r\n" is fine); lines holding only whitespace
 *     are skipped silently.
 *  2. The whole file moves to rejected/NAME (with rejected/NAME.err), and
 *     the sink is not called, when the file is "not UTF-8 JSON lines at
 *     all": any byte sequence in it is not valid UTF-8 (.err lists each
 *     line with invalid bytes), or no line is a JSON object (binary, CSV,
 *     JSON arrays ...; .err lists every line), or it is too big
 *     ("0: reason": line 0 means the whole file).
 *  3. Otherwise the sink gets every good line, visits and cancels in file
 *     order, even when there are none (n = 0).  When it returns 0:
 *     rejected/NAME.err is written (only if there were bad lines) as
 *     "LINE: reason\n" per bad line, 1-based, via a temporary file and
 *     rename(2), then the file is renamed to done/NAME.  When it returns
 *     -1 the file stays in new/, the scan stops there (later files wait
 *     too, so that a cancel is never committed before its visit) and new/
 *     is retried after a backoff (1 s doubling to 60 s); nothing is lost.
 *     A file that cannot be read or moved is retried the same way, but
 *     does not hold up the others.
 *  A name already taken in done/ or rejected/ is never overwritten: the
 *  file gets NAME.1, NAME.2, ... instead.  NAME.err is always the report
 *  of the latest file of that name (an older one is replaced).
 *
 * Crash safety: the order is commit, then .err, then rename.  A crash
 * before the rename leaves the file in new/, so it is read again at the
 * next start and committed again; the sink (the store) is idempotent on
 * visit_id, so nothing is lost and nothing duplicates.  Hence the sink
 * must accept a file it has already committed.
 *
 * Discovery: an initial scan of new/ on the first loop pass, inotify on
 * new/ (IN_MOVED_TO, IN_CLOSE_WRITE: seen at once), and a rescan every
 * SPOOL_RESCAN_MS as a safety net (also at once on IN_Q_OVERFLOW).  A file
 * that inotify has not announced and whose mtime is under a second old
 * may still be being written straight into new/; it is taken one second
 * later.  Without inotify (inotify_init1 failing) new/ is polled every
 * second.
 *
 * One scan takes files for about 200 ms, then yields to the loop and goes
 * on in the next pass, so a backlog does not stall the modems.
 *
 * Logging: "NAME: N visits, M cancels, K bad lines" at info level; never a
 * phone number or field contents.
 */
#ifndef SMSGW_SPOOL_H
#define SMSGW_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ev;
struct spool;

/* Per file: bytes, and non-empty lines. */
#define SPOOL_FILE_MAX		(64u * 1024 * 1024)
#define SPOOL_LINES_MAX		500000u
#define SPOOL_RESCAN_MS		30000u

/* visit_id: 1..64 printable ASCII; unit: 1..64 of [A-Za-z0-9_.-];
 * phone: "+" and at most 15 digits. */
#define SPOOL_ID_MAX		64
#define SPOOL_UNIT_MAX		64
#define SPOOL_PHONE_MAX		16

/*
 * Flag bits; the values equal SAMPLER_FLAG_* (sampler.h) so that flags can
 * be passed on as they are.  Any bit makes the visit ineligible.  A flag
 * name this build does not know sets SPOOL_FLAG_OTHER: a flag the
 * appointment system thought worth sending is taken as a reason not to
 * survey (the safe side), never as a bad line.  Names are matched without
 * regard to case.
 */
#define SPOOL_FLAG_TURVAKIELTO		0x01u
#define SPOOL_FLAG_NO_CONSENT		0x02u
#define SPOOL_FLAG_MULTIPLE_PHONES	0x04u
#define SPOOL_FLAG_DECEASED		0x08u
#define SPOOL_FLAG_SENSITIVE		0x10u
#define SPOOL_FLAG_OTHER		0x80u

enum spool_kind {
	SPOOL_KIND_VISIT = 0,
	SPOOL_KIND_CANCEL	/* {"visit_id":..., "cancel":true} */
};

/*
 * One good line.  For SPOOL_KIND_CANCEL only kind, line and visit_id are
 * set; the rest is zero.
 *
 * phone: E.164, "+358..." ("0401234567", "00358 40 123 4567" and
 * "+358 40-123 4567" all give "+358401234567").  A number that does not
 * normalise, or is not Finnish (+358), is a bad line.  phone_mobile tells
 * whether it is in a Finnish mobile range (+3584x..., +35850...); a
 * landline is a good line but cannot be surveyed (sampler BAD_PHONE).
 * ended_at: epoch seconds UTC (fraction dropped; a leap second :60 counts
 * as the next second).
 * lang: "fi", "sv" or "en".  Missing, null or "" gives "fi"; the primary
 * subtag is used without regard to case ("sv-FI" gives "sv"); any other
 * code gives "en".
 * age: years, 0..150, or -1 when missing or null.
 * Keys the contract does not name are ignored.
 */
struct spool_visit {
	enum spool_kind	 kind;
	unsigned	 line;		/* 1-based, in the file */
	char		 visit_id[SPOOL_ID_MAX + 1];
	char		 unit[SPOOL_UNIT_MAX + 1];
	char		 phone[SPOOL_PHONE_MAX + 1];
	bool		 phone_mobile;
	int64_t		 ended_at;
	char		 lang[3];
	int		 age;
	unsigned	 flags;		/* SPOOL_FLAG_* */
};

/*
 * Validate one line (without its "\n"; it need not be NUL-terminated).
 * Returns true and fills *out (line = 0) for a visit or cancel; returns
 * false with *out untouched otherwise.  On false, err gets a short reason
 * (never a field's contents, never a phone number), e.g.
 * "phone: not a valid phone number", "ended_at: not RFC 3339 with offset",
 * "visit_id missing", "not JSON", "not a JSON object"; err is "" when the
 * line is only whitespace (skipped, not an error).  err may be NULL.
 */
bool	spool_parse_line(const char *line, size_t len,
	    struct spool_visit *out, char *err, size_t errlen);

/* A bad line: reason is a static string. */
struct spool_bad {
	unsigned	 line;
	const char	*reason;
};

/*
 * A parsed file.  reject[0] != '\0' means the whole file goes to
 * rejected/ (reject says why; visits is then empty and bad lists the
 * lines to report, possibly none).  ncancels counts the SPOOL_KIND_CANCEL
 * entries among the nvisits.  Owned by the caller: spool_batch_free().
 */
struct spool_batch {
	struct spool_visit	*visits;
	size_t			 nvisits;
	size_t			 ncancels;
	struct spool_bad	*bad;
	size_t			 nbad;
	char			 reject[96];
};

/*
 * Parse a whole file's contents (buf need not be NUL-terminated) by the
 * rules above: pure, no I/O.  Always fills *b.
 */
void	spool_batch_parse(const char *buf, size_t len,
	    struct spool_batch *b);
/* NULL is fine. */
void	spool_batch_free(struct spool_batch *b);

/*
 * The daemon's commit: all n good lines of the file NAME (visits is
 * borrowed until the call returns) in one transaction, idempotent on
 * visit_id.  nbad is the number of bad lines (already excluded).  Return 0
 * when committed, -1 on failure (the file is retried later).  The sink must
 * not call spool_free().
 */
typedef int (*spool_sink_cb)(void *arg, const char *name,
    const struct spool_visit *visits, size_t n, size_t nbad);

/*
 * Start taking files from spool_dir (its tmp/, new/, done/ and rejected/
 * are created if missing).  The first scan runs on the next ev pass.
 * Returns NULL with errno when the directories cannot be created.
 * spool_dir is copied; ev must outlive the spool.
 */
struct spool	*spool_new(struct ev *ev, const char *spool_dir,
		    spool_sink_cb sink, void *arg);
void		 spool_free(struct spool *sp);	/* NULL is fine */

/*
 * Scan new/ now (reload, tests), cancelling any backoff.  Returns the
 * number of files moved to done/ or rejected/ by this call (a long
 * backlog goes on in later loop passes).
 */
size_t		 spool_scan(struct spool *sp);

/* .jsonl files left in new/ after the last scan (status). */
size_t		 spool_backlog(const struct spool *sp);

/* The RFC 3339 date-time the spool accepts for ended_at (with an
 * offset or Z).  true and *epoch set, or false. */
bool		 spool_parse_time(const char *s, int64_t *epoch);

/*
 * Retention: delete files in done/ and rejected/ last modified before
 * cutoff (epoch seconds).  Returns the number deleted.
 */
size_t		 spool_expire(struct spool *sp, int64_t cutoff);

#endif
