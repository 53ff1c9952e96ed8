/*
 * answer.h - what a Sprinklr answer means (API §3.1): the one place that
 * tells a throttling answer, a transient failure and a refusal apart, and
 * that turns an HTTP outcome into an errno. The body is only looked at for
 * the `Developer Over Qps|Rate` text of a throttling 403 and the `Developer
 * Inactive` of a refusing one.
 */
#ifndef SPRINKLRFS_NET_ANSWER_H
#define SPRINKLRFS_NET_ANSWER_H

#include <stdbool.h>
#include <stddef.h>

bool answer_throttled(long status, const char *body);
const char *answer_refusal_note(long status, const char *body);
bool answer_transient(long status, const char *body, size_t len);
int answer_errno(long status, const char *body);
int answer_token_errno(long status, const char *body);

#endif
