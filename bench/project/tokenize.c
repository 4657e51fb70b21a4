#include <ctype.h>
#include "wordstat.h"

/* A word is a run of letters, digits, apostrophes inside letters, and hyphens
 * inside letters; it is reported in lower case. Returns the number of lines. */
long tokenize(const char *text, size_t n, char *scratch, word_fn fn, void *ctx)
{
	long line = 1;
	size_t i = 0;
	while (i < n) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\n')
			line++;
		if (!isalnum(c)) {
			i++;
			continue;
		}
		size_t len = 0;
		while (i < n) {
			c = (unsigned char)text[i];
			if (isalnum(c)) {
				scratch[len++] = (char)tolower(c);
				i++;
			} else if ((c == '\'' || c == '-') && len > 0 && i + 1 < n &&
				   isalpha((unsigned char)text[i + 1])) {
				scratch[len++] = (char)c;
				i++;
			} else {
				break;
			}
			if (len == 255)
				break;
		}
		fn(ctx, scratch, len, line);
	}
	return line;
}
