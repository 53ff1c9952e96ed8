/*
 * retry.c - the pauses between attempts (see retry.h).
 */
#include <glib.h>

#include "auth/base/clock.h"
#include "auth/base/retry.h"

/*
 * After a failed attempt: the pause before the next one, or -1 when no
 * attempt is left or the pause would end past the deadline. Counts the
 * attempt and grows the next pause.
 */
double retry_pause(struct retry *r)
{
	double pause = r->pause;

	if (r->jitter)
		pause *= g_random_double_range(0.5, 1.5);
	if (r->left == 0 || (r->deadline > 0 && clock_now() + pause > r->deadline))
		return -1;
	r->left--;
	r->pause *= r->factor;
	if (r->cap > 0 && r->pause > r->cap)
		r->pause = r->cap;
	return pause;
}
