/*
 * prompt.h - read a secret: a prompt without echo on a terminal, else one line
 * of standard input. Secrets never come from argv.
 */
#ifndef SPRINKLRFS_OAUTH_PROMPT_H
#define SPRINKLRFS_OAUTH_PROMPT_H

int prompt_secret(const char *label, char **out);

#endif
