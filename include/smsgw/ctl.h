/*
 * ctl: the control socket.  An AF_UNIX stream socket; each request is one
 * JSON line {"cmd":"status","args":[...]} and gets one JSON line back:
 * {"ok":true,"result":...,"text":"..."} or {"ok":false,"error":"..."}.
 * Peers are checked with SO_PEERCRED: root and members of the control
 * group only.  Clients have a buffer cap and an idle timeout, and the
 * daemon never blocks on them (replies are written non-blocking).
 */
#ifndef SMSGW_CTL_H
#define SMSGW_CTL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <sys/types.h>

struct ev;
struct ctl;

/* What a command handler hands back.  result (owned, may be NULL) is the
 * JSON document; text (owned, optional) is the human rendering; error
 * (owned) makes the request refused (smsgwctl exits 1). */
struct ctl_reply {
	json_object *result;
	char *text;
	char *error;
};

/* args is borrowed: a JSON array of strings. */
typedef void (*ctl_handler_cb)(void *arg, json_object *args,
    struct ctl_reply *reply);

/*
 * Listen on path (an existing stale socket is replaced), owned by group
 * gid (-1 = leave) with mode 0660.  Returns NULL with errno set.
 */
struct ctl *ctl_new(struct ev *ev, const char *path, gid_t gid);
void ctl_free(struct ctl *ctl);	/* unlinks the socket */
int ctl_register(struct ctl *ctl, const char *cmd, ctl_handler_cb cb,
    void *arg);
/* Change the group allowed in (reload). */
void ctl_set_group(struct ctl *ctl, gid_t gid);

/* Is uid (with primary gid) allowed: root or a member of gid.  Exposed for
 * tests. */
bool ctl_peer_allowed(uid_t uid, gid_t pgid, gid_t allowed);

#endif
