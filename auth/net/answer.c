/*
 * answer.c - Sprinklr's answers classified, and their errno tables.
 */
#include <errno.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "auth/net/answer.h"

#define ANSWER_OVER "Developer Over"
#define ANSWER_INACTIVE "Developer Inactive"

/* 429, or 403 "Developer Over Qps" / "Developer Over Rate". */
bool answer_throttled(long status, const char *body)
{
	if (status == 429)
		return true;
	return status == 403 && body &&
	       strncmp(body, ANSWER_OVER, strlen(ANSWER_OVER)) == 0;
}

/*
 * What people need to know of a refusal besides its status, to follow it:
 * for 403 "Developer Inactive" (an unknown key, or one not active yet: the
 * setup guide has people wait half an hour after creating the application)
 * ": Developer Inactive; ...", else "".
 */
const char *answer_refusal_note(long status, const char *body)
{
	if (status == 403 && body &&
	    strncmp(body, ANSWER_INACTIVE, strlen(ANSWER_INACTIVE)) == 0)
		return ": " ANSWER_INACTIVE "; a newly created application's key "
		       "becomes active only about 30 minutes after it is created";
	return "";
}

/* A 2xx whose body is not JSON: a proxy's page, a cut transfer. */
static bool answer_unreadable(long status, const char *body, size_t len)
{
	cJSON *root;

	if (status < 200 || status >= 300)
		return false;
	root = cJSON_ParseWithLength(body, len);
	cJSON_Delete(root);
	return root == NULL;
}

/* Worth asking again: a 5xx, or a 2xx that is not JSON. */
bool answer_transient(long status, const char *body, size_t len)
{
	return status >= 500 || answer_unreadable(status, body, len);
}

/* The one table from an API answer to an errno; the default is EIO. */
int answer_errno(long status, const char *body)
{
	if (status >= 200 && status < 300)
		return 0;
	if (answer_throttled(status, body))
		return -EAGAIN;
	switch (status) {
	case 401:
	case 403:
	case 421:
		return -EACCES;
	case 404:
		return -ENOENT;
	default:
		return -EIO;
	}
}

/*
 * The token endpoint's answer (API §2.2): 0 for 200; -EAGAIN when it
 * throttled us; -EACCES when it rejected the grant (any other 4xx: a login
 * is needed); -EIO otherwise, which leaves every token as it was.
 */
int answer_token_errno(long status, const char *body)
{
	if (status == 200)
		return 0;
	if (answer_throttled(status, body))
		return -EAGAIN;
	if (status >= 400 && status < 500)
		return -EACCES;
	return -EIO;
}
