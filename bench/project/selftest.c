#include <string.h>
#include "wordstat.h"

struct collect {
	struct table *t;
};

static void add(void *ctx, const char *w, size_t n, long line)
{
	struct collect *c = ctx;
	table_add(c->t, w, n, line);
}

#define CHECK(cond)                                                                   \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "selftest: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			return 1;                                                     \
		}                                                                     \
	} while (0)

int selftest(void)
{
	static const char text[] = "The cat's hat.\nthe CAT and the well-known hat -- the end\n";
	struct arena a;
	struct table t;
	char scratch[256];
	arena_init(&a);
	table_init(&t, &a);
	struct collect c = {&t};
	long lines = tokenize(text, sizeof text - 1, scratch, add, &c);
	CHECK(lines == 3);
	CHECK(table_find(&t, "the", 3)->count == 4);
	CHECK(table_find(&t, "cat's", 5)->count == 1);
	CHECK(table_find(&t, "well-known", 10) != NULL);
	CHECK(table_find(&t, "dog", 3) == NULL);
	struct entry *v[64];
	size_t n = 0;
	for (size_t i = 0; i < t.cap; i++)
		if (t.slots[i].word)
			v[n++] = &t.slots[i];
	sort_entries(v, n, by_count_desc);
	CHECK(strcmp(v[0]->word, "the") == 0);
	CHECK(strcmp(v[1]->word, "hat") == 0);
	struct stats s;
	stats_compute(&s, v, n, lines);
	CHECK(s.words == 11 && s.distinct == (long)n);
	table_free(&t);
	arena_free(&a);
	printf("selftest: ok\n");
	return 0;
}
