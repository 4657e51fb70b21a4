#include <stdlib.h>
#include <string.h>
#include "wordstat.h"

int by_count_desc(const struct entry *a, const struct entry *b)
{
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return by_word(a, b);
}

int by_word(const struct entry *a, const struct entry *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->word, b->word, n);
	if (c)
		return c;
	return (a->len > b->len) - (a->len < b->len);
}

static void insertion(struct entry **v, size_t n, entry_cmp cmp)
{
	for (size_t i = 1; i < n; i++) {
		struct entry *x = v[i];
		size_t j = i;
		while (j > 0 && cmp(v[j - 1], x) > 0) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
}

static void msort(struct entry **v, struct entry **tmp, size_t n, entry_cmp cmp)
{
	if (n <= 16) {
		insertion(v, n, cmp);
		return;
	}
	size_t h = n / 2;
	msort(v, tmp, h, cmp);
	msort(v + h, tmp, n - h, cmp);
	if (cmp(v[h - 1], v[h]) <= 0)
		return;
	memcpy(tmp, v, h * sizeof *v);
	size_t i = 0, j = h, k = 0;
	while (i < h && j < n)
		v[k++] = cmp(v[j], tmp[i]) < 0 ? v[j++] : tmp[i++];
	while (i < h)
		v[k++] = tmp[i++];
}

/* Stable merge sort, so that equal keys keep their first-seen order. */
void sort_entries(struct entry **v, size_t n, entry_cmp cmp)
{
	if (n < 2)
		return;
	struct entry **tmp = malloc((n / 2 + 1) * sizeof *tmp);
	if (!tmp)
		abort();
	msort(v, tmp, n, cmp);
	free(tmp);
}
