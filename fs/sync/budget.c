/*
 * budget.c - calls of a full listing and the time the share takes (see
 * budget.h).
 */
#include <stdint.h>

#include "fs/sync/budget.h"

/*
 * What a full listing of `profiles` costs: one call per page; with K
 * partitions at most a probe and a partial page more per partition.
 */
unsigned long budget_full_cost(size_t profiles, int page_size, int partitions)
{
	/* the size the searches ask for; never 0, which would divide by it */
	unsigned long page = page_size > 0 ? (unsigned long)page_size : 1;
	unsigned long pages = (profiles + page - 1) / page;

	if (pages == 0)
		pages = 1;
	return partitions > 1 ? pages + (unsigned long)partitions : pages;
}

/* The least whole number not below x (x >= 0): seconds, windows. */
double budget_round_up(double x)
{
	double whole = (double)(int64_t)x;

	return whole < x ? whole + 1 : whole;
}

/* Seconds the background share takes to pay for `calls`, in the long run. */
double budget_share_time(const struct pacer_limits *lim, double calls)
{
	unsigned long window = pacer_background_cap(lim->per_window,
						    lim->background_share);
	unsigned long second = pacer_background_cap(lim->per_second,
						    lim->background_share);
	double t = window ? calls / window * lim->window_s : 0;

	if (second && calls / second > t)
		t = calls / second;
	return t;
}

/*
 * Seconds the background share needs for `calls` from now, the window
 * being as q says (NULL: unknown): what is left of this window, then a
 * window per share.
 */
double budget_quota_time(const struct pacer_limits *lim,
			 const struct api_pacing *q, double calls)
{
	unsigned long cap = pacer_background_cap(lim->per_window,
						 lim->background_share);
	unsigned long second = pacer_background_cap(lim->per_second,
						    lim->background_share);
	double room;

	if (!q)
		return budget_share_time(lim, calls);
	if (cap) {
		room = q->background_calls < cap ?
		       (double)(cap - q->background_calls) : 0;
		if (calls > room)
			return budget_round_up((calls - room) / cap) *
			       lim->window_s;
	}
	return second ? calls / second : 0;
}
