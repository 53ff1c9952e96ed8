/*
 * prompt.c - secrets from the terminal or from standard input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth/oauth/prompt.h"

static ssize_t read_line(char **line, size_t *cap)
{
	ssize_t len = getline(line, cap, stdin);

	while (len > 0 && ((*line)[len - 1] == '\n' || (*line)[len - 1] == '\r'))
		(*line)[--len] = '\0';
	return len;
}

static ssize_t read_hidden(const char *label, char **line, size_t *cap)
{
	struct termios saved, quiet;
	ssize_t len;

	fprintf(stderr, "%s: ", label);
	fflush(stderr);
	if (tcgetattr(STDIN_FILENO, &saved) != 0)
		return read_line(line, cap);
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	len = read_line(line, cap);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	fputc('\n', stderr);
	return len;
}

/* Returns 0 with a heap string, or -ENODATA for an empty line or EOF. */
int prompt_secret(const char *label, char **out)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	if (isatty(STDIN_FILENO))
		len = read_hidden(label, &line, &cap);
	else
		len = read_line(&line, &cap);
	if (len <= 0) {
		if (line)
			explicit_bzero(line, cap);
		free(line);
		return -ENODATA;
	}
	*out = line;
	return 0;
}
