// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test helper: print a PNG's width, height and number of distinct colours (is a screenshot
 * blank?); with RRGGBB arguments, exit 1 unless each of those colours is in the picture.
 * Usage: pngstat FILE.png [RRGGBB...]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int cmp32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	unsigned char *file = NULL, *idat = NULL, *raw = NULL, hdr[13] = { 0 };
	size_t flen = 0, ilen = 0, cap = 0, pos = 8, stride, bpp, ncol = 0;
	uint32_t *cols;
	uLongf rlen;
	FILE *f;

	if (argc < 2 || !(f = fopen(argv[1], "rb"))) {
		fprintf(stderr, "usage: pngstat FILE.png [RRGGBB...]\n");
		return 2;
	}
	for (size_t n;
	     (file = realloc(file, flen + 65536)) && (n = fread(file + flen, 1, 65536, f)) > 0;)
		flen += n;
	fclose(f);
	if (!file || flen < 8 || memcmp(file, "\x89PNG\r\n\x1a\n", 8) != 0) {
		fprintf(stderr, "%s: not a PNG\n", argv[1]);
		return 1;
	}
	while (pos + 12 <= flen) {
		uint32_t n = be32(file + pos);
		const unsigned char *kind = file + pos + 4, *body = file + pos + 8;

		if (pos + 12 + (size_t)n > flen)
			break;
		if (memcmp(kind, "IHDR", 4) == 0 && n == 13)
			memcpy(hdr, body, 13);
		if (memcmp(kind, "IDAT", 4) == 0) {
			if (ilen + n > cap && !(idat = realloc(idat, cap = 2 * (ilen + n))))
				return 1;
			memcpy(idat + ilen, body, n);
			ilen += n;
		}
		pos += 12 + n;
	}
	uint32_t w = be32(hdr), h = be32(hdr + 4);
	if (!w || !h || hdr[8] != 8 || (hdr[9] != 2 && hdr[9] != 6) || hdr[12]) {
		fprintf(stderr, "%s: unsupported PNG\n", argv[1]);
		return 1;
	}
	bpp = hdr[9] == 2 ? 3 : 4;
	stride = (size_t)w * bpp;
	rlen = (stride + 1) * h;
	raw = malloc(rlen);
	cols = malloc(sizeof(*cols) * (size_t)w * h);
	if (!raw || !cols || uncompress(raw, &rlen, idat, ilen) != Z_OK ||
	    rlen != (stride + 1) * h) {
		fprintf(stderr, "%s: corrupt image data\n", argv[1]);
		return 1;
	}
	for (uint32_t y = 0; y < h; y++) {
		unsigned char *line = raw + y * (stride + 1) + 1, ft = line[-1];
		const unsigned char *prev = y ? raw + (y - 1) * (stride + 1) + 1 : NULL;

		for (size_t x = 0; x < stride; x++) {
			int a = x >= bpp ? line[x - bpp] : 0, b = prev ? prev[x] : 0;
			int c = prev && x >= bpp ? prev[x - bpp] : 0, p, pa, pb, pc;

			switch (ft) {
			case 1:
				line[x] += a;
				break;
			case 2:
				line[x] += b;
				break;
			case 3:
				line[x] += (a + b) / 2;
				break;
			case 4:
				p = a + b - c;
				pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
				line[x] += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
				break;
			}
		}
		for (uint32_t x = 0; x < w; x++)
			cols[ncol++] = (uint32_t)line[x * bpp] << 16 | line[x * bpp + 1] << 8 |
				       line[x * bpp + 2];
	}
	qsort(cols, ncol, sizeof(*cols), cmp32);
	size_t distinct = ncol ? 1 : 0;
	for (size_t i = 1; i < ncol; i++)
		distinct += cols[i] != cols[i - 1];
	printf("%u %u %zu\n", w, h, distinct);
	int missing = 0;
	for (int i = 2; i < argc; i++) {
		uint32_t want = (uint32_t)strtoul(argv[i], NULL, 16);
		if (!bsearch(&want, cols, ncol, sizeof(*cols), cmp32)) {
			printf("missing colour %s\n", argv[i]);
			missing = 1;
		}
	}
	return missing;
}
