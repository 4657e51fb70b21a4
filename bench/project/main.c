#include <stdlib.h>
#include <string.h>
#include "wordstat.h"

static void usage(void)
{
	fprintf(stderr, "usage: wordstat [--json] [--top N] [FILE...] | wordstat --selftest\n");
	exit(2);
}

static void add(void *ctx, const char *w, size_t n, long line)
{
	table_add(ctx, w, n, line);
}

static char *slurp(FILE *f, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	size_t r;
	if (!buf)
		abort();
	while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
	}
	*len = n;
	return buf;
}

int main(int argc, char **argv)
{
	int json = 0;
	size_t top = 10;
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--selftest"))
			return selftest();
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--top") && i + 1 < argc)
			top = (size_t)atol(argv[++i]);
		else
			usage();
	}
	struct arena a;
	struct table t;
	char scratch[256];
	long lines = 0;
	arena_init(&a);
	table_init(&t, &a);
	do {
		FILE *f = i < argc && strcmp(argv[i], "-") ? fopen(argv[i], "r") : stdin;
		if (!f) {
			perror(argv[i]);
			return 1;
		}
		size_t len;
		char *text = slurp(f, &len);
		lines += tokenize(text, len, scratch, add, &t);
		free(text);
		if (f != stdin)
			fclose(f);
	} while (++i < argc);
	struct entry **v = malloc((t.len + 1) * sizeof *v);
	size_t n = 0;
	for (size_t k = 0; k < t.cap; k++)
		if (t.slots[k].word)
			v[n++] = &t.slots[k];
	sort_entries(v, n, by_count_desc);
	struct stats s;
	stats_compute(&s, v, n, lines);
	if (json)
		report_json(stdout, &s, v, n, top);
	else
		report_text(stdout, &s, v, n, top);
	free(v);
	table_free(&t);
	arena_free(&a);
	return 0;
}
