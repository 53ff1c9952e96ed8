/*
 * test_budget.c - what a full listing costs, and how long the background
 * share takes to pay for it.
 */
#include "check.h"
#include "fs/sync/budget.h"

/* Sprinklr's default key, with the default share: 800 calls an hour. */
static const struct pacer_limits key = { .per_second = 10,
					 .per_window = 1000,
					 .window_s = 3600,
					 .background_share = 80 };

static const struct pacer_limits per_second_only = { .per_second = 10,
						     .background_share = 80 };

static void test_full_cost(void)
{
	check(budget_full_cost(0, 100, 1) == 1);	/* an empty listing */
	check(budget_full_cost(1000000, 100, 1) == 10000);
	check(budget_full_cost(1001, 100, 1) == 11);
	check(budget_full_cost(1000, 100, 4) == 14);	/* probe, partial pages */
	check(budget_full_cost(10, 0, 1) == 10);	/* never divides by 0 */
}

static void test_share_time(void)
{
	/* 10,000 calls at 800 an hour: 12.5 hours */
	check(budget_share_time(&key, 10000) == 45000);
	/* in the long run, even 8 calls take their part of the window */
	check(budget_share_time(&key, 8) == 36);
	/* without an hourly limit, 8 calls a second */
	check(budget_share_time(&per_second_only, 80) == 10);
	check(budget_round_up(36) == 36 && budget_round_up(36.2) == 37);
}

static void test_quota_time(void)
{
	struct api_pacing q = { .background_calls = 790 };

	/* within what is left of the window: at 8 calls a second */
	check(budget_quota_time(&key, &q, 8) == 1);
	/* beyond it: a window per 800 calls */
	check(budget_quota_time(&key, &q, 11) == 3600);
	check(budget_quota_time(&key, &q, 1610) == 2 * 3600);
	/* the window unknown: in the long run */
	check(budget_quota_time(&key, NULL, 800) == 3600);
}

int main(void)
{
	test_full_cost();
	test_share_time();
	test_quota_time();
	return 0;
}
