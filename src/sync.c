/*
 * sync: the upstream uploader.  libcurl's multi interface runs inside ev:
 * curl tells us which sockets to watch (sync_curl_socket) and when to call
 * it back (sync_curl_timer); ev tells curl when a socket is ready.  At most
 * one easy handle exists at a time, which keeps batches in order.
 */
#include "smsgw/sync.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <gcrypt.h>

#include "smsgw/ev.h"
#include "smsgw/log.h"
#include "smsgw/util.h"

#define SYNC_TOKEN_MAX	4096
#define SYNC_KEY_LEN	64	/* hex SHA-256 */

struct sync {
	struct ev *ev;
	const struct sync_source *src;
	void *src_arg;

	/* config (owned copies) */
	char *url;
	size_t batch;
	unsigned timeout_s;
	char *token_file;
	char *ca_file;
	unsigned backoff_min_ms;
	unsigned backoff_max_ms;

	enum sync_state state;
	CURLM *multi;
	CURL *easy;			/* the request in flight */
	struct curl_slist *headers;
	uint32_t curl_timer;		/* curl's timeout */
	uint32_t retry_timer;		/* backoff */
	uint32_t start_timer;		/* deferred start */
	uint32_t *watches;		/* ev ids of curl's sockets */
	size_t nwatches;
	char errbuf[CURL_ERROR_SIZE];
	long retry_after_s;		/* from the answer, -1 none */

	/* the held batch: kept until accepted or parked */
	bool held;
	int64_t *ids;
	size_t nids;
	char *body;
	size_t body_len;
	char key[SYNC_KEY_LEN + 1];

	uint64_t rng;

	long last_http_status;
	char last_error[256];
	unsigned failures;
	uint64_t posted_batches, posted_records;
	uint64_t parked_batches, parked_records;
};

static void sync_start(struct sync *s);
static void sync_process_done(struct sync *s);

const char *
sync_state_name(enum sync_state state)
{
	switch (state) {
	case SYNC_STATE_DISABLED:
		return "disabled";
	case SYNC_STATE_IDLE:
		return "idle";
	case SYNC_STATE_POSTING:
		return "posting";
	case SYNC_STATE_BACKOFF:
		return "backoff";
	}
	return "unknown";
}

static void
sync_crypto_init(void)
{
	if (gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P))
		return;
	if (gcry_check_version(GCRYPT_VERSION) == NULL)
		fatalx("sync", "libgcrypt is older than %s", GCRYPT_VERSION);
	gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
	gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
}

/* libcurl's global state is set up once and kept for the process life. */
static int
sync_curl_global(void)
{
	static bool done;
	CURLcode rc;

	if (done)
		return 0;
	if ((rc = curl_global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK) {
		log_warnx("sync", "curl_global_init: %s",
		    curl_easy_strerror(rc));
		return -1;
	}
	done = true;
	return 0;
}

static uint64_t
sync_rand(struct sync *s)
{
	/* xorshift64*: jitter only, no need for anything stronger */
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * UINT64_C(2685821657736338717);
}

static void
sync_set_error(struct sync *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sync_set_error(struct sync *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->last_error, sizeof(s->last_error), fmt, ap);
	va_end(ap);
}

static char *
sync_dup_opt(const char *v)
{
	return (v == NULL || *v == '\0') ? NULL : xstrdup(v);
}

static void
sync_config_apply(struct sync *s, const struct sync_config *cfg)
{
	free(s->url);
	free(s->token_file);
	free(s->ca_file);
	s->url = sync_dup_opt(cfg->url);
	s->token_file = sync_dup_opt(cfg->token_file);
	s->ca_file = sync_dup_opt(cfg->ca_file);
	s->batch = cfg->batch ? cfg->batch : SYNC_DEFAULT_BATCH;
	s->timeout_s = cfg->timeout_s ? cfg->timeout_s :
	    SYNC_DEFAULT_TIMEOUT_S;
	s->backoff_min_ms = cfg->backoff_min_ms ? cfg->backoff_min_ms :
	    SYNC_DEFAULT_BACKOFF_MIN_MS;
	s->backoff_max_ms = cfg->backoff_max_ms ? cfg->backoff_max_ms :
	    SYNC_DEFAULT_BACKOFF_MAX_MS;
	if (s->backoff_max_ms < s->backoff_min_ms)
		s->backoff_max_ms = s->backoff_min_ms;
}

static void
sync_drop_held(struct sync *s)
{
	free(s->ids);
	free(s->body);
	s->ids = NULL;
	s->body = NULL;
	s->nids = 0;
	s->body_len = 0;
	s->key[0] = '\0';
	s->held = false;
}

/* Copy the source's records into the held batch and derive its key. */
static void
sync_hold(struct sync *s, const struct sync_record *recs, size_t n)
{
	gcry_md_hd_t md;
	unsigned char *dig;
	size_t i, len = 2, off = 0;
	char hdr[64];
	int hl;

	sync_drop_held(s);
	for (i = 0; i < n; i++)
		len += strlen(recs[i].body) + 1;
	s->ids = xcalloc(n, sizeof(*s->ids));
	s->body = xmalloc(len + 1);
	if (gcry_md_open(&md, GCRY_MD_SHA256, 0) != 0)
		fatalx("sync", "gcry_md_open(SHA256) failed");
	gcry_md_write(md, "smsgwd-sync-1\n", 14);
	s->body[off++] = '[';
	for (i = 0; i < n; i++) {
		size_t bl = strlen(recs[i].body);

		s->ids[i] = recs[i].id;
		if (i > 0)
			s->body[off++] = ',';
		memcpy(s->body + off, recs[i].body, bl);
		off += bl;
		hl = snprintf(hdr, sizeof(hdr), "%" PRId64 ":%zu:",
		    recs[i].id, bl);
		gcry_md_write(md, hdr, (size_t)hl);
		gcry_md_write(md, recs[i].body, bl);
		gcry_md_write(md, "\n", 1);
	}
	s->body[off++] = ']';
	s->body[off] = '\0';
	s->body_len = off;
	s->nids = n;
	dig = gcry_md_read(md, GCRY_MD_SHA256);
	for (i = 0; i < SYNC_KEY_LEN / 2; i++)
		snprintf(s->key + 2 * i, 3, "%02x", dig[i]);
	gcry_md_close(md);
	s->held = true;
}

/*
 * Read the bearer token: the whole file, leading and trailing white space
 * trimmed.  Returns a fresh string, or NULL with last_error set.
 */
static char *
sync_read_token(struct sync *s)
{
	FILE *fp;
	char buf[SYNC_TOKEN_MAX + 1];
	size_t n, i;
	char *p, *e;

	if ((fp = fopen(s->token_file, "re")) == NULL) {
		sync_set_error(s, "token_file: %s", strerror(errno));
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf), fp);
	if (ferror(fp)) {
		sync_set_error(s, "token_file: read error");
		fclose(fp);
		return NULL;
	}
	fclose(fp);
	if (n > SYNC_TOKEN_MAX) {
		sync_set_error(s, "token_file: longer than %d bytes",
		    SYNC_TOKEN_MAX);
		return NULL;
	}
	buf[n] = '\0';
	p = buf;
	while (*p != '\0' && isspace((unsigned char)*p))
		p++;
	e = p + strlen(p);
	while (e > p && isspace((unsigned char)e[-1]))
		*--e = '\0';
	for (i = 0; p[i] != '\0'; i++)
		if ((unsigned char)p[i] < 0x21 || p[i] == 0x7f) {
			sync_set_error(s, "token_file: token has white "
			    "space or control characters");
			return NULL;
		}
	if (*p == '\0') {
		sync_set_error(s, "token_file: empty");
		return NULL;
	}
	return xstrdup(p);
}

/* ---- libcurl <-> ev glue ---- */

static void
sync_curl_kick(struct sync *s, curl_socket_t fd, int flags)
{
	int running;

	curl_multi_socket_action(s->multi, fd, flags, &running);
	sync_process_done(s);
}

static void
sync_on_io(int fd, short revents, void *arg)
{
	struct sync *s = arg;
	int flags = 0;

	if (revents & POLLIN)
		flags |= CURL_CSELECT_IN;
	if (revents & POLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (revents & (POLLERR | POLLHUP | POLLNVAL))
		flags |= CURL_CSELECT_ERR;
	sync_curl_kick(s, fd, flags);
}

static void
sync_on_curl_timer(void *arg)
{
	struct sync *s = arg;

	s->curl_timer = 0;
	sync_curl_kick(s, CURL_SOCKET_TIMEOUT, 0);
}

static void
sync_watch_forget(struct sync *s, uint32_t id)
{
	size_t i;

	for (i = 0; i < s->nwatches; i++)
		if (s->watches[i] == id) {
			s->watches[i] = s->watches[--s->nwatches];
			break;
		}
	ev_io_del(s->ev, id);
}

static int
sync_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp,
    void *socketp)
{
	struct sync *s = userp;
	uint32_t id = (uint32_t)(uintptr_t)socketp;
	short events = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (id != 0)
			sync_watch_forget(s, id);
		curl_multi_assign(s->multi, fd, NULL);
		return 0;
	}
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		events |= POLLIN;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		events |= POLLOUT;
	if (id != 0) {
		ev_io_set(s->ev, id, events);
		return 0;
	}
	id = ev_io_add(s->ev, fd, events, sync_on_io, s);
	if (id == 0) {
		log_warnx("sync", "cannot watch socket %d", (int)fd);
		return -1;
	}
	s->watches = xrealloc(s->watches,
	    (s->nwatches + 1) * sizeof(*s->watches));
	s->watches[s->nwatches++] = id;
	curl_multi_assign(s->multi, fd, (void *)(uintptr_t)id);
	return 0;
}

static int
sync_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct sync *s = userp;

	(void)multi;
	ev_timer_del(s->ev, s->curl_timer);
	s->curl_timer = 0;
	if (timeout_ms < 0)
		return 0;
	s->curl_timer = ev_timer_add(s->ev, (uint64_t)timeout_ms,
	    sync_on_curl_timer, s);
	return s->curl_timer == 0 ? -1 : 0;
}

/* The answer's body is not used. */
static size_t
sync_curl_write(char *ptr, size_t size, size_t nmemb, void *userp)
{
	(void)ptr;
	(void)userp;
	return size * nmemb;
}

/* Pick up "Retry-After: SECONDS" (the HTTP-date form is ignored). */
static size_t
sync_curl_header(char *buf, size_t size, size_t nitems, void *userp)
{
	struct sync *s = userp;
	size_t len = size * nitems, i;
	static const char name[] = "retry-after:";
	long v = 0;

	if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0)
		s->retry_after_s = -1;	/* a new response starts */
	if (len <= sizeof(name) - 1 ||
	    strncasecmp(buf, name, sizeof(name) - 1) != 0)
		return len;
	i = sizeof(name) - 1;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
		i++;
	if (i == len || !isdigit((unsigned char)buf[i]))
		return len;
	for (; i < len && isdigit((unsigned char)buf[i]); i++) {
		if (v > 100000000)
			break;
		v = v * 10 + (buf[i] - '0');
	}
	s->retry_after_s = v;
	return len;
}

static int
sync_multi_setup(struct sync *s)
{
	if (s->multi != NULL)
		return 0;
	if (sync_curl_global() == -1)
		return -1;
	if ((s->multi = curl_multi_init()) == NULL) {
		log_warnx("sync", "curl_multi_init failed");
		return -1;
	}
	curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, sync_curl_socket);
	curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
	curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, sync_curl_timer);
	curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
	return 0;
}

/* Abandon the request in flight, if any. */
static void
sync_abort_request(struct sync *s)
{
	if (s->easy != NULL) {
		curl_multi_remove_handle(s->multi, s->easy);
		curl_easy_cleanup(s->easy);
		s->easy = NULL;
	}
	curl_slist_free_all(s->headers);
	s->headers = NULL;
}

static void
sync_multi_teardown(struct sync *s)
{
	sync_abort_request(s);
	if (s->multi != NULL) {
		curl_multi_cleanup(s->multi);
		s->multi = NULL;
	}
	/* Whatever curl did not take back itself. */
	while (s->nwatches > 0)
		ev_io_del(s->ev, s->watches[--s->nwatches]);
	free(s->watches);
	s->watches = NULL;
	ev_timer_del(s->ev, s->curl_timer);
	s->curl_timer = 0;
}

/* ---- the state machine ---- */

static void
sync_on_retry(void *arg)
{
	struct sync *s = arg;

	s->retry_timer = 0;
	s->state = SYNC_STATE_IDLE;
	sync_start(s);
}

static void
sync_backoff(struct sync *s, bool honour_retry_after)
{
	uint64_t base, delay, span;
	unsigned shift;

	s->failures++;
	shift = s->failures - 1 > 30 ? 30 : s->failures - 1;
	base = (uint64_t)s->backoff_min_ms << shift;
	if (base > s->backoff_max_ms)
		base = s->backoff_max_ms;
	/*
	 * +-20% jitter: base * [0.8, 1.2), or max * [0.8, 1.0) once capped,
	 * so that many daemons at the cap still spread out.
	 */
	span = base >= s->backoff_max_ms ? base * 2 / 10 : base * 4 / 10;
	delay = base * 8 / 10 + (span > 0 ? sync_rand(s) % span : 0);
	if (honour_retry_after && s->retry_after_s > 0)
		delay = (uint64_t)s->retry_after_s * 1000;
	if (delay > s->backoff_max_ms)
		delay = s->backoff_max_ms;
	if (delay == 0)
		delay = 1;
	log_warnx("sync", "post failed (%s), retry %u in %" PRIu64 " ms",
	    s->last_error, s->failures, delay);
	s->state = SYNC_STATE_BACKOFF;
	ev_timer_del(s->ev, s->retry_timer);
	s->retry_timer = ev_timer_add(s->ev, delay, sync_on_retry, s);
}

static int
sync_post(struct sync *s)
{
	char *tok = NULL, *h;
	CURL *e;

	if (s->token_file != NULL && (tok = sync_read_token(s)) == NULL)
		return -1;
	if ((e = curl_easy_init()) == NULL) {
		free(tok);
		sync_set_error(s, "curl_easy_init failed");
		return -1;
	}
	s->headers = curl_slist_append(NULL, "Content-Type: application/json");
	s->headers = curl_slist_append(s->headers, "Expect:");
	h = xasprintf("Idempotency-Key: %s", s->key);
	s->headers = curl_slist_append(s->headers, h);
	free(h);
	if (tok != NULL) {
		h = xasprintf("Authorization: Bearer %s", tok);
		s->headers = curl_slist_append(s->headers, h);
		explicit_bzero(h, strlen(h));
		free(h);
		explicit_bzero(tok, strlen(tok));
		free(tok);
	}
	if (s->headers == NULL) {
		curl_easy_cleanup(e);
		sync_set_error(s, "curl_slist_append failed");
		return -1;
	}
	s->errbuf[0] = '\0';
	s->retry_after_s = -1;
	curl_easy_setopt(e, CURLOPT_URL, s->url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(e, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, s->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)s->body_len);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->headers);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "smsgwd-sync");
	curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)s->timeout_s);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (s->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, s->ca_file);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sync_curl_write);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, sync_curl_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(e, CURLOPT_PRIVATE, s);
	s->easy = e;
	s->state = SYNC_STATE_POSTING;
	if (curl_multi_add_handle(s->multi, e) != CURLM_OK) {
		sync_abort_request(s);
		sync_set_error(s, "curl_multi_add_handle failed");
		return -1;
	}
	log_debug("sync", "posting %zu records, key %s", s->nids, s->key);
	return 0;
}

/*
 * Post the held batch, or take the next one from the source.  Called only
 * when idle (no request, no backoff).
 */
static void
sync_start(struct sync *s)
{
	const struct sync_record *recs = NULL;
	int n;

	if (s->state != SYNC_STATE_IDLE || s->multi == NULL)
		return;
	if (!s->held) {
		/* Not idle while the source runs: sync_kick() is a no-op. */
		s->state = SYNC_STATE_POSTING;
		n = s->src->next_batch(s->src_arg, s->batch, &recs);
		s->state = SYNC_STATE_IDLE;
		if (n < 0) {
			sync_set_error(s, "source error");
			sync_backoff(s, false);
			return;
		}
		if (n == 0)
			return;
		if ((size_t)n > s->batch)
			n = (int)s->batch;
		sync_hold(s, recs, (size_t)n);
	}
	if (sync_post(s) == -1) {
		s->state = SYNC_STATE_IDLE;
		sync_backoff(s, false);
	}
}

static void
sync_on_start(void *arg)
{
	struct sync *s = arg;

	s->start_timer = 0;
	sync_start(s);
}

static bool
sync_retryable(long code)
{
	return code == 408 || code == 429 || code < 400 || code >= 500;
}

static void
sync_finish(struct sync *s, CURLcode rc, long code)
{
	char reason[32];

	/* The state stays POSTING while the source's callbacks run. */
	if (rc != CURLE_OK) {
		sync_set_error(s, "%s", s->errbuf[0] != '\0' ? s->errbuf :
		    curl_easy_strerror(rc));
		sync_backoff(s, false);
		return;
	}
	s->last_http_status = code;
	if (code >= 200 && code < 300) {
		if (s->src->mark_synced(s->src_arg, s->ids, s->nids,
		    s->key) == -1) {
			/* Fetch afresh later: at-least-once, same key. */
			sync_drop_held(s);
			sync_set_error(s, "source: mark_synced failed");
			sync_backoff(s, false);
			return;
		}
		log_info("sync", "posted %zu records (HTTP %ld)", s->nids,
		    code);
		s->posted_batches++;
		s->posted_records += s->nids;
		s->failures = 0;
		s->last_error[0] = '\0';
		sync_drop_held(s);
		s->state = SYNC_STATE_IDLE;
		sync_start(s);
		return;
	}
	sync_set_error(s, "HTTP %ld", code);
	if (sync_retryable(code)) {
		sync_backoff(s, code == 429 || code == 503);
		return;
	}
	snprintf(reason, sizeof(reason), "HTTP %ld", code);
	if (s->src->mark_failed(s->src_arg, s->ids, s->nids, reason) == -1) {
		sync_drop_held(s);
		sync_set_error(s, "source: mark_failed failed");
		sync_backoff(s, false);
		return;
	}
	log_warnx("sync", "upstream refused %zu records (%s); parked until "
	    "reload", s->nids, reason);
	s->parked_batches++;
	s->parked_records += s->nids;
	s->failures = 0;
	sync_drop_held(s);
	s->state = SYNC_STATE_IDLE;
	sync_start(s);
}

static void
sync_process_done(struct sync *s)
{
	CURLMsg *m;
	int left;

	while (s->multi != NULL &&
	    (m = curl_multi_info_read(s->multi, &left)) != NULL) {
		CURLcode rc;
		long code = 0;

		if (m->msg != CURLMSG_DONE || m->easy_handle != s->easy)
			continue;
		rc = m->data.result;
		curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
		sync_abort_request(s);	/* m is invalid from here */
		sync_finish(s, rc, code);
	}
}

/* ---- public ---- */

static void
sync_reset(struct sync *s)
{
	ev_timer_del(s->ev, s->retry_timer);
	ev_timer_del(s->ev, s->start_timer);
	s->retry_timer = s->start_timer = 0;
	sync_abort_request(s);
	sync_drop_held(s);
	s->failures = 0;
}

static int
sync_enable(struct sync *s)
{
	if (s->url == NULL) {
		sync_multi_teardown(s);
		s->state = SYNC_STATE_DISABLED;
		return 0;
	}
	if (sync_multi_setup(s) == -1) {
		s->state = SYNC_STATE_DISABLED;
		sync_set_error(s, "libcurl setup failed");
		return -1;
	}
	s->state = SYNC_STATE_IDLE;
	s->start_timer = ev_timer_add(s->ev, 0, sync_on_start, s);
	return 0;
}

struct sync *
sync_new(struct ev *ev, const struct sync_config *cfg,
    const struct sync_source *src, void *arg)
{
	struct sync *s = xcalloc(1, sizeof(*s));

	sync_crypto_init();
	s->ev = ev;
	s->src = src;
	s->src_arg = arg;
	s->rng = util_mono_ms() ^ ((uint64_t)getpid() << 32) ^
	    (uint64_t)(uintptr_t)s;
	if (s->rng == 0)
		s->rng = 1;
	sync_config_apply(s, cfg);
	if (sync_enable(s) == -1) {
		sync_free(s);
		return NULL;
	}
	return s;
}

void
sync_free(struct sync *s)
{
	if (s == NULL)
		return;
	sync_reset(s);
	sync_multi_teardown(s);
	free(s->url);
	free(s->token_file);
	free(s->ca_file);
	free(s);
}

void
sync_kick(struct sync *s)
{
	if (s != NULL && s->state == SYNC_STATE_IDLE)
		sync_start(s);
}

int
sync_reconfigure(struct sync *s, const struct sync_config *cfg)
{
	sync_reset(s);
	sync_config_apply(s, cfg);
	return sync_enable(s);
}

void
sync_get_status(struct sync *s, struct sync_status *st)
{
	memset(st, 0, sizeof(*st));
	st->state = s->state;
	st->last_http_status = s->last_http_status;
	strlcpy_s(st->last_error, s->last_error, sizeof(st->last_error));
	st->consecutive_failures = s->failures;
	st->next_retry_in_ms = -1;
	if (s->state == SYNC_STATE_BACKOFF)
		st->next_retry_in_ms = ev_timer_remaining(s->ev,
		    s->retry_timer);
	st->posted_batches = s->posted_batches;
	st->posted_records = s->posted_records;
	st->parked_batches = s->parked_batches;
	st->parked_records = s->parked_records;
}
