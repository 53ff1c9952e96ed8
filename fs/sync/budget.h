/*
 * budget.h - what a full listing costs in calls, and how long the
 * background share of the key's quota (pacer.h) takes to pay for them.
 *
 * A full listing costs one call per page of the profiles the store holds,
 * known in advance; full listings are background calls, which may use
 * background_share percent of each rate window. The scheduler stretches the
 * interval between full listings to what the share pays for, and the
 * status estimates when a running listing ends from what is left of the
 * window. Pure arithmetic on the key's limits: no lock, no call.
 */
#ifndef SPRINKLRFS_FS_SYNC_BUDGET_H
#define SPRINKLRFS_FS_SYNC_BUDGET_H

#include <stddef.h>

#include "auth/api/api.h"
#include "auth/net/pacer.h"

unsigned long budget_full_cost(size_t profiles, int page_size, int partitions);
double budget_share_time(const struct pacer_limits *lim, double calls);
double budget_quota_time(const struct pacer_limits *lim,
			 const struct api_pacing *q, double calls);
double budget_round_up(double x);

#endif
