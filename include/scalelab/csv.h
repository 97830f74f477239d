/* csv: RFC 4180 tables, read whole into memory and written through a buffer.
 * Used by the fit module's CLI (point tables, fits and predictions) and by exports.
 * Reading checks the shape (every row as wide as the header); writing is atomic. */
#ifndef SCALELAB_CSV_H
#define SCALELAB_CSV_H

#include <stddef.h>

#include "scalelab/util.h"

/* A parsed table: the header row names the columns; cells are NUL-terminated
 * strings owned by the table, row-major, n_rows * n_cols of them. */
typedef struct {
    size_t n_rows, n_cols;
    char **header;
    char **cells;
    size_t *line; /* the 1-based line each data row starts on, for messages */
    char *buf;
} sl_csv;

/* Parses text (len bytes; need not be NUL-terminated). name is the file name
 * used in messages. Accepts LF or CRLF line ends, quoted fields with "" escapes
 * and embedded line breaks; a missing final line end; a UTF-8 BOM. Fails on an
 * empty table, a ragged row, or an unterminated quote. */
int sl_csv_parse(const char *text, size_t len, const char *name, sl_csv *out, sl_error *err);
int sl_csv_read(const char *path, sl_csv *out, sl_error *err);
void sl_csv_free(sl_csv *t);

/* Index of the column with this exact header name, or -1. */
int sl_csv_column(const sl_csv *t, const char *name);
static inline const char *sl_csv_cell(const sl_csv *t, size_t row, size_t col)
{
    return t->cells[row * t->n_cols + col];
}

/* Writer: fields are quoted only when they hold a comma, quote or line break. */
typedef struct {
    char *data;
    size_t len, cap;
    int at_row_start;
} sl_csv_writer;

void sl_csv_writer_init(sl_csv_writer *w);
void sl_csv_field(sl_csv_writer *w, const char *s);
/* Shortest text that reads back to the same double; "nan" for NaN. */
void sl_csv_field_double(sl_csv_writer *w, double v);
void sl_csv_field_long(sl_csv_writer *w, long v);
void sl_csv_end_row(sl_csv_writer *w);
/* Writes the buffer to path through sl_write_atomic. */
int sl_csv_save(const sl_csv_writer *w, const char *path, sl_error *err);
void sl_csv_writer_free(sl_csv_writer *w);

#endif
