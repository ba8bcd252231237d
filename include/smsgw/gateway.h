/*
 * gateway: the composition root of smsgwd.  It owns the event loop, the
 * current config, the store and every running module, brings them up in
 * dependency order, swaps the config on SIGHUP/reload and tears everything
 * down in reverse on SIGTERM/SIGINT.
 */
#ifndef SMSGW_GATEWAY_H
#define SMSGW_GATEWAY_H

#include <stdbool.h>

struct conf;
struct gateway;

/*
 * Take ownership of conf, create directories, open the store and start the
 * modules.  Returns NULL after printing a one-line reason (exit 2).
 * conf_path is kept for reloads.
 */
struct gateway *gateway_new(struct conf *conf, const char *conf_path);
/* Run until SIGTERM/SIGINT; returns the exit status (0 clean). */
int gateway_run(struct gateway *gw);
void gateway_free(struct gateway *gw);

/*
 * Re-read the config file.  On success the new config is in force and 0 is
 * returned; on failure the old one stays, -1 is returned and *errs holds
 * the "FILE:LINE: message" lines (free with conf_errors_free).
 */
int gateway_reload(struct gateway *gw, char ***errs);

#endif
