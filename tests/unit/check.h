/*
 * check.h - the unit tests' check: like assert(), but the expression is
 * always evaluated and checked, whatever NDEBUG says, so a check may hold
 * the very call under test.
 */
#ifndef SPRINKLRFS_TESTS_UNIT_CHECK_H
#define SPRINKLRFS_TESTS_UNIT_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define check(expr) \
	((expr) ? (void)0 : check_failed(#expr, __FILE__, __LINE__))

static inline void check_failed(const char *expr, const char *file, int line)
{
	fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
	abort();
}

#endif
