/* wordstat: count words in text and report statistics about them. */
#ifndef WORDSTAT_H
#define WORDSTAT_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* arena.c: a bump allocator for strings and nodes */
struct arena {
	struct arena_block *head;
	size_t used_total;
};
void arena_init(struct arena *a);
void *arena_alloc(struct arena *a, size_t n);
char *arena_strndup(struct arena *a, const char *s, size_t n);
void arena_free(struct arena *a);

/* hash.c: an open-addressing hash table from word to count */
struct entry {
	const char *word;
	size_t len;
	uint64_t hash;
	long count;
	long first_line;
};
struct table {
	struct entry *slots;
	size_t cap, len;
	struct arena *arena;
};
uint64_t hash_bytes(const void *p, size_t n);
void table_init(struct table *t, struct arena *a);
struct entry *table_add(struct table *t, const char *w, size_t n, long line);
struct entry *table_find(const struct table *t, const char *w, size_t n);
void table_free(struct table *t);

/* tokenize.c: split text into lower-case words */
typedef void (*word_fn)(void *ctx, const char *w, size_t n, long line);
long tokenize(const char *text, size_t n, char *scratch, word_fn fn, void *ctx);

/* sort.c: a merge sort over entry pointers */
typedef int (*entry_cmp)(const struct entry *a, const struct entry *b);
void sort_entries(struct entry **v, size_t n, entry_cmp cmp);
int by_count_desc(const struct entry *a, const struct entry *b);
int by_word(const struct entry *a, const struct entry *b);

/* stats.c: summary statistics of the distribution of counts */
struct stats {
	long words, distinct, lines;
	double mean, stddev, median, entropy;
	long hapax; /* words seen once */
	long len_hist[16];
};
void stats_compute(struct stats *s, struct entry **v, size_t n, long lines);

/* report.c and json.c: output */
void report_text(FILE *out, const struct stats *s, struct entry **v, size_t n, size_t top);
void report_json(FILE *out, const struct stats *s, struct entry **v, size_t n, size_t top);
void json_string(FILE *out, const char *s, size_t n);

/* selftest.c */
int selftest(void);

#endif
