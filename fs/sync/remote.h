/*
 * remote.h - one environment's calls to the API, counted.
 *
 * Every call the filesystem makes goes through remote_call(), which counts
 * it by endpoint and status (for .status.json), tells the layer above that
 * the status moved on, and records a failure as the environment's last
 * error, logged once until a different one occurs. remote_try() counts
 * but leaves a failure to its caller (a listing expects an expired cursor),
 * and takes a reader of the answers (api.h; a listing parses its pages
 * once, as they come).
 * `wait` says how a call waits for quota (NULL: a foreground call); one
 * cancelled while it waits fails with ECANCELED, which is no error.
 */
#ifndef SPRINKLRFS_FS_SYNC_REMOTE_H
#define SPRINKLRFS_FS_SYNC_REMOTE_H

#include <glib.h>

#include "auth/api/api.h"
#include "fs/sync/hooks.h"

struct remote;

/* Calls to one endpoint that got one status. */
struct remote_count {
	const char *endpoint;	/* a string constant */
	long status;
	unsigned long count;
};

struct remote *remote_new(struct api *api, const char *env,
			  const struct sync_hooks *hooks);
void remote_free(struct remote *r);
const char *remote_env(const struct remote *r);
int remote_call(struct remote *r, const struct pacer_wait *wait,
		const char *endpoint, const char *method, const char *path,
		const char *body, struct api_reply *reply);
int remote_try(struct remote *r, const struct pacer_wait *wait,
	       const struct api_reader *reader, const char *endpoint,
	       const char *method, const char *path, const char *body,
	       struct api_reply *reply);
void remote_failed(struct remote *r, const char *endpoint,
		   const char *method, int res, const struct api_reply *reply);
void remote_note_error(struct remote *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void remote_changed(struct remote *r);
bool remote_interrupted(struct remote *r);
GArray *remote_counts(struct remote *r);
int remote_pacing(struct remote *r, struct api_pacing *out);
char *remote_last_error(struct remote *r);

#endif
