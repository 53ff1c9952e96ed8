/*
 * profiles.h - a generated profile shaped like the fake's (two channels, a
 * partner list, a workspace, custom fields; about 2.4 KB rendered) for the
 * store's tests and its benchmark. profile_text(i, modified) gives profile
 * i's JSON text, its id unique per i; free() it.
 */
#ifndef SPRINKLRFS_TESTS_UNIT_PROFILES_H
#define SPRINKLRFS_TESTS_UNIT_PROFILES_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"

#define TEMPLATE \
	"{\"id\":\"%s\",\"contact\":{\"firstName\":\"Ol\xc3\xbawaseun\"," \
	"\"lastName\":\"Nowak\",\"fullName\":\"Ol\xc3\xbawaseun Nowak\"," \
	"\"email\":\"oluwaseun.nowak%d@example.com\",\"phoneNo\":\"+1555%07d\"," \
	"\"address\":{\"city\":\"Osaka\",\"country\":\"JP\"}}," \
	"\"demographics\":{\"location\":\"apac\",\"gender\":\"F\",\"language\":\"en\"}," \
	"\"profiles\":[" CHANNEL("INSTAGRAM", "1") "," CHANNEL("FACEBOOK", "2") "]," \
	"\"profileWorkflow\":{\"profileLists\":[1]," \
	"\"customProperties\":{\"_c_c3a9c69c78a6ccb84882546f\":[\"value 535\"]," \
	"\"_c_e38d0d99261683911e6ab731\":[\"Sports\"]," \
	"\"_c_ce135d0c081f0e9e838af624\":[\"S\"]}," \
	"\"profileSpaceWorkflows\":[{\"spaceId\":\"5547\",\"profileLists\":[]," \
	"\"customProperties\":{}}]}," \
	"\"createdTime\":1629021796238,\"modifiedTime\":%" PRId64 "}"
#define CHANNEL(type, n) \
	"{\"name\":\"Ol\xc3\xbawaseun Nowak\",\"channelType\":\"" type "\"," \
	"\"channelId\":\"" n "%012d\",\"username\":\"oluwaseunnowak7\"," \
	"\"permalink\":\"https://social.example.com/x/" n "%012d\"," \
	"\"avatarUrl\":\"https://img.example.com/a/" n "%012d.png\"," \
	"\"followers\":32910,\"following\":475,\"verified\":false,\"deleted\":false," \
	"\"snCreatedTime\":0,\"snModifiedTime\":1641052922486," \
	"\"accountSpecificInfos\":[{\"accountId\":1000136639}]," \
	"\"bio\":\"\xc3\x9cn\xc3\xaf\x63\xc3\xb6\x64\xc3\xa9 fan\"}"

static inline char *profile_text(int i, int64_t modified)
{
	char id[32], *text;
	size_t size = sizeof(TEMPLATE) + 256;

	snprintf(id, sizeof(id), "%016x%08x", (unsigned)(i * 2654435761u), i);
	text = malloc(size);
	check(text);
	snprintf(text, size, TEMPLATE, id, i, i, i, i, i, i, i, i, modified);
	return text;
}

#endif
