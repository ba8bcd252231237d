/* ctl: control socket server, line-framed JSON. */
#include "smsgw/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "smsgw/ev.h"
#include "smsgw/log.h"
#include "smsgw/util.h"

#define CTL_MAX_REQ (64 * 1024)
#define CTL_IDLE_MS 10000
#define CTL_MAX_CLIENTS 16

struct ctl_cmd {
	char *name;
	ctl_handler_cb cb;
	void *arg;
};

struct ctl_client {
	struct ctl *ctl;
	int fd;
	uint32_t io, timer;
	char *in;
	size_t inlen;
	char *out;
	size_t outlen, outoff;
	bool closing;
	bool denied;	/* peer not allowed: answer the request, then close */
};

struct ctl {
	struct ev *ev;
	char *path;
	int fd;
	uint32_t io;
	gid_t gid;
	struct ctl_cmd *cmds;
	size_t ncmds;
	struct ctl_client *clients[CTL_MAX_CLIENTS];
};

static void
client_free(struct ctl_client *c)
{
	size_t i;

	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		if (c->ctl->clients[i] == c)
			c->ctl->clients[i] = NULL;
	ev_io_del(c->ctl->ev, c->io);
	ev_timer_del(c->ctl->ev, c->timer);
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

static void
client_timeout(void *arg)
{
	struct ctl_client *c = arg;

	c->timer = 0;
	log_debug("ctl", "client idle, closing");
	client_free(c);
}

static void
client_queue(struct ctl_client *c, json_object *reply)
{
	const char *s = json_object_to_json_string_ext(reply,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t n = strlen(s);

	c->out = xrealloc(c->out, c->outlen + n + 1);
	memcpy(c->out + c->outlen, s, n);
	c->out[c->outlen + n] = '\n';
	c->outlen += n + 1;
	ev_io_set(c->ctl->ev, c->io, POLLOUT);
}

static void
client_error(struct ctl_client *c, const char *msg)
{
	json_object *r = json_object_new_object();

	json_object_object_add(r, "ok", json_object_new_boolean(false));
	json_object_object_add(r, "error", json_object_new_string(msg));
	client_queue(c, r);
	json_object_put(r);
	c->closing = true;
}

static void
client_request(struct ctl_client *c, const char *line)
{
	struct ctl_reply rep = { NULL, NULL, NULL };
	json_object *req, *cmd = NULL, *args = NULL, *r;
	const char *name;
	size_t i;

	if (c->denied) {
		client_error(c, "permission denied");
		return;
	}
	req = json_tokener_parse(line);
	if (req == NULL || !json_object_is_type(req, json_type_object) ||
	    !json_object_object_get_ex(req, "cmd", &cmd) ||
	    !json_object_is_type(cmd, json_type_string)) {
		client_error(c, "malformed request");
		json_object_put(req);
		return;
	}
	name = json_object_get_string(cmd);
	if (!json_object_object_get_ex(req, "args", &args) ||
	    !json_object_is_type(args, json_type_array))
		args = NULL;
	for (i = 0; i < c->ctl->ncmds; i++)
		if (strcmp(c->ctl->cmds[i].name, name) == 0)
			break;
	if (i == c->ctl->ncmds) {
		client_error(c, "unknown command");
		json_object_put(req);
		return;
	}
	if (args == NULL) {
		args = json_object_new_array();
		json_object_object_add(req, "args", args);
	}
	log_debug("ctl", "request %s", name);
	c->ctl->cmds[i].cb(c->ctl->cmds[i].arg, args, &rep);
	r = json_object_new_object();
	if (rep.error != NULL) {
		json_object_object_add(r, "ok", json_object_new_boolean(false));
		json_object_object_add(r, "error",
		    json_object_new_string(rep.error));
		json_object_put(rep.result);
	} else {
		json_object_object_add(r, "ok", json_object_new_boolean(true));
		json_object_object_add(r, "result", rep.result);
		if (rep.text != NULL)
			json_object_object_add(r, "text",
			    json_object_new_string(rep.text));
	}
	client_queue(c, r);
	json_object_put(r);
	json_object_put(req);
	free(rep.text);
	free(rep.error);
}

static void
client_io(int fd, short revents, void *arg)
{
	struct ctl_client *c = arg;
	char *nl;
	ssize_t r;

	if (revents & POLLOUT) {
		while (c->outoff < c->outlen) {
			r = write(fd, c->out + c->outoff,
			    c->outlen - c->outoff);
			if (r < 0 && errno == EAGAIN)
				return;
			if (r <= 0) {
				client_free(c);
				return;
			}
			c->outoff += (size_t)r;
		}
		c->outoff = c->outlen = 0;
		if (c->closing) {
			client_free(c);
			return;
		}
		ev_io_set(c->ctl->ev, c->io, POLLIN);
		return;
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	if (c->inlen >= CTL_MAX_REQ) {
		client_error(c, "request too long");
		return;
	}
	r = read(fd, c->in + c->inlen, CTL_MAX_REQ - c->inlen);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		client_free(c);
		return;
	}
	c->inlen += (size_t)r;
	c->in[c->inlen] = '\0';
	ev_timer_del(c->ctl->ev, c->timer);
	c->timer = ev_timer_add(c->ctl->ev, CTL_IDLE_MS, client_timeout, c);
	while ((nl = memchr(c->in, '\n', c->inlen)) != NULL) {
		size_t used = (size_t)(nl - c->in) + 1;

		*nl = '\0';
		client_request(c, c->in);
		memmove(c->in, c->in + used, c->inlen - used);
		c->inlen -= used;
		c->in[c->inlen] = '\0';
		if (c->closing)
			break;
	}
	if (c->inlen >= CTL_MAX_REQ)
		client_error(c, "request too long");
}

bool
ctl_peer_allowed(uid_t uid, gid_t pgid, gid_t allowed)
{
	struct passwd *pw;
	gid_t groups[256];
	int n = 256, i;

	if (uid == 0)
		return true;
	if (allowed == (gid_t)-1)
		return false;
	if (pgid == allowed)
		return true;
	pw = getpwuid(uid);
	if (pw == NULL)
		return false;
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) == -1)
		return false;
	for (i = 0; i < n; i++)
		if (groups[i] == allowed)
			return true;
	return false;
}

static void
ctl_accept(int fd, short revents, void *arg)
{
	struct ctl *ctl = arg;
	struct ctl_client *c;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	bool allowed;
	size_t i;
	int cfd;

	(void)revents;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd == -1) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("ctl", "accept");
		return;
	}
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		close(cfd);
		return;
	}
	allowed = ctl_peer_allowed(cred.uid, cred.gid, ctl->gid);
	if (!allowed)
		log_warnx("ctl", "refused control connection from uid %d "
		    "(not root or in the control group)", (int)cred.uid);
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		if (ctl->clients[i] == NULL)
			break;
	if (i == CTL_MAX_CLIENTS) {
		log_warnx("ctl", "too many control clients");
		close(cfd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->ctl = ctl;
	c->fd = cfd;
	c->denied = !allowed;
	c->in = xmalloc(CTL_MAX_REQ + 1);
	c->io = ev_io_add(ctl->ev, cfd, POLLIN, client_io, c);
	c->timer = ev_timer_add(ctl->ev, CTL_IDLE_MS, client_timeout, c);
	ctl->clients[i] = c;
}

struct ctl *
ctl_new(struct ev *ev, const char *path, gid_t gid)
{
	struct sockaddr_un sun;
	struct ctl *ctl;
	char *dir, *sl;
	int fd, e;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy_s(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	dir = xstrdup(path);
	if ((sl = strrchr(dir, '/')) != NULL && sl != dir) {
		*sl = '\0';
		if (util_mkdirs(dir, 0750) == -1) {
			e = errno;
			free(dir);
			errno = e;
			return NULL;
		}
	}
	free(dir);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return NULL;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) == -1) ||
	    chmod(path, 0660) == -1 || listen(fd, 16) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	ctl = xcalloc(1, sizeof(*ctl));
	ctl->ev = ev;
	ctl->path = xstrdup(path);
	ctl->fd = fd;
	ctl->gid = gid;
	ctl->io = ev_io_add(ev, fd, POLLIN, ctl_accept, ctl);
	return ctl;
}

void
ctl_free(struct ctl *ctl)
{
	size_t i;

	if (ctl == NULL)
		return;
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		if (ctl->clients[i] != NULL)
			client_free(ctl->clients[i]);
	ev_io_del(ctl->ev, ctl->io);
	close(ctl->fd);
	unlink(ctl->path);
	for (i = 0; i < ctl->ncmds; i++)
		free(ctl->cmds[i].name);
	free(ctl->cmds);
	free(ctl->path);
	free(ctl);
}

int
ctl_register(struct ctl *ctl, const char *cmd, ctl_handler_cb cb, void *arg)
{
	ctl->cmds = xrealloc(ctl->cmds, (ctl->ncmds + 1) * sizeof(*ctl->cmds));
	ctl->cmds[ctl->ncmds].name = xstrdup(cmd);
	ctl->cmds[ctl->ncmds].cb = cb;
	ctl->cmds[ctl->ncmds].arg = arg;
	ctl->ncmds++;
	return 0;
}

void
ctl_set_group(struct ctl *ctl, gid_t gid)
{
	ctl->gid = gid;
	if (gid != (gid_t)-1 && chown(ctl->path, (uid_t)-1, gid) == -1)
		log_warn("ctl", "chown %s", ctl->path);
}
