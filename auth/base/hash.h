/*
 * hash.h - FNV-1a, 64 bits: stable across runs and builds, for inode
 * numbers and for telling pages apart. Not for anything an attacker
 * chooses to collide.
 */
#ifndef SPRINKLRFS_HASH_H
#define SPRINKLRFS_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_INIT 14695981039346656037ULL

static inline uint64_t hash_bytes(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

#endif
