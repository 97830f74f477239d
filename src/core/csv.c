/* csv: see include/scalelab/csv.h */
#include "scalelab/csv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char **v;
    size_t n, cap;
} ptr_vec;

static void ptr_push(ptr_vec *p, char *s)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 64;
        char **nv = realloc(p->v, p->cap * sizeof *nv);
        if (!nv)
            abort();
        p->v = nv;
    }
    p->v[p->n++] = s;
}

static int is_blank_row(char **fields, size_t n) { return n == 1 && fields[0][0] == 0; }

int sl_csv_parse(const char *text, size_t len, const char *name, sl_csv *out, sl_error *err)
{
    memset(out, 0, sizeof *out);
    if (len >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB &&
        (unsigned char)text[2] == 0xBF) {
        text += 3;
        len -= 3;
    }
    /* Every field ends in one NUL, so the copy never needs more than twice the input. */
    char *buf = sl_xmalloc(2 * len + 2);
    char *o = buf;
    ptr_vec cells = {0}, row = {0};
    size_t *lines = NULL, n_rows = 0, lines_cap = 0, n_cols = 0;
    size_t line = 1, row_line = 1;
    size_t i = 0;
    int rc = SL_OK;
    const char *z = len ? memchr(text, 0, len) : NULL;
    size_t nul = z ? (size_t)(z - text) : len;

    for (;;) {
        /* One field. A NUL byte inside it would cut the cell short (cells are
         * C strings): it is refused, naming the line and the column. */
        char *field = o;
        size_t start = i;
        if (i < len && text[i] == '"') {
            size_t open_line = line;
            i++;
            for (;;) {
                if (i >= len) {
                    rc = sl_fail(err, SL_EINPUT,
                                 "%s:line %zu: quoted field is never closed (expected a closing \")",
                                 name, open_line);
                    goto fail;
                }
                if (text[i] == '"') {
                    if (i + 1 < len && text[i + 1] == '"') {
                        *o++ = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                if (text[i] == '\n')
                    line++;
                *o++ = text[i++];
            }
            if (i < len && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
                rc = sl_fail(err, SL_EINPUT,
                             "%s:line %zu: text after a closing quote (expected , or a line end)",
                             name, line);
                goto fail;
            }
        } else {
            while (i < len && text[i] != ',' && text[i] != '\n' &&
                   !(text[i] == '\r' && i + 1 < len && text[i + 1] == '\n') &&
                   !(text[i] == '\r' && i + 1 == len))
                *o++ = text[i++];
        }
        if (nul >= start && nul < i) {
            size_t nl = line;
            for (size_t k = nul; k < i; k++)
                nl -= text[k] == '\n';
            if (n_cols > 0 && row.n < n_cols)
                rc = sl_fail(err, SL_EINPUT, "%s:line %zu: %s: a NUL byte inside the field (expected text)",
                             name, nl, cells.v[row.n]);
            else
                rc = sl_fail(err, SL_EINPUT, "%s:line %zu: field %zu: a NUL byte inside it (expected text)",
                             name, nl, row.n + 1);
            goto fail;
        }
        *o++ = 0;
        ptr_push(&row, field);

        if (i < len && text[i] == ',') {
            i++;
            continue;
        }
        /* End of a row: a line end or the end of the text. */
        if (i < len && text[i] == '\r')
            i++;
        if (i < len && text[i] == '\n')
            i++;
        int at_end = i >= len;
        if (!is_blank_row(row.v, row.n)) {
            if (n_cols == 0) {
                n_cols = row.n;
            } else if (row.n != n_cols) {
                rc = sl_fail(err, SL_EINPUT,
                             "%s:line %zu: row has %zu fields (expected %zu, as the header)", name,
                             row_line, row.n, n_cols);
                goto fail;
            } else {
                if (n_rows == lines_cap) {
                    lines_cap = lines_cap ? 2 * lines_cap : 64;
                    size_t *nl = realloc(lines, lines_cap * sizeof *nl);
                    if (!nl)
                        abort();
                    lines = nl;
                }
                lines[n_rows++] = row_line;
            }
            for (size_t k = 0; k < row.n; k++)
                ptr_push(&cells, row.v[k]);
        }
        row.n = 0;
        line++;
        row_line = line;
        if (at_end)
            break;
    }
    if (n_cols == 0) {
        rc = sl_fail(err, SL_EINPUT, "%s: table is empty (expected a header row)", name);
        goto fail;
    }
    free(row.v);
    out->n_cols = n_cols;
    out->n_rows = n_rows;
    out->header = cells.v;
    out->cells = cells.v + n_cols;
    out->line = lines;
    out->buf = buf;
    return SL_OK;
fail:
    free(row.v);
    free(cells.v);
    free(lines);
    free(buf);
    return rc;
}

int sl_csv_read(const char *path, sl_csv *out, sl_error *err)
{
    char *data = NULL;
    size_t len = 0;
    memset(out, 0, sizeof *out);
    int rc = sl_read_file(path, &data, &len, err);
    if (rc != SL_OK)
        return rc;
    rc = sl_csv_parse(data, len, path, out, err);
    free(data);
    return rc;
}

void sl_csv_free(sl_csv *t)
{
    free(t->header);
    free(t->line);
    free(t->buf);
    memset(t, 0, sizeof *t);
}

int sl_csv_column(const sl_csv *t, const char *name)
{
    for (size_t j = 0; j < t->n_cols; j++)
        if (!strcmp(t->header[j], name))
            return (int)j;
    return -1;
}

void sl_csv_writer_init(sl_csv_writer *w)
{
    memset(w, 0, sizeof *w);
    w->at_row_start = 1;
}

static void put(sl_csv_writer *w, const char *s, size_t n)
{
    if (w->len + n + 1 > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n + 1)
            cap *= 2;
        char *d = realloc(w->data, cap);
        if (!d)
            abort();
        w->data = d;
        w->cap = cap;
    }
    memcpy(w->data + w->len, s, n);
    w->len += n;
    w->data[w->len] = 0;
}

void sl_csv_field(sl_csv_writer *w, const char *s)
{
    if (!w->at_row_start)
        put(w, ",", 1);
    w->at_row_start = 0;
    if (!s)
        s = "";
    if (!strpbrk(s, ",\"\r\n")) {
        put(w, s, strlen(s));
        return;
    }
    put(w, "\"", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            put(w, "\"", 1);
        put(w, p, 1);
    }
    put(w, "\"", 1);
}

void sl_csv_field_double(sl_csv_writer *w, double v)
{
    char b[40];
    if (isnan(v)) {
        sl_csv_field(w, "nan");
        return;
    }
    /* The shortest %g that round-trips keeps files readable and exact. */
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(b, sizeof b, "%.*g", prec, v);
        if (strtod(b, NULL) == v)
            break;
    }
    sl_csv_field(w, b);
}

void sl_csv_field_long(sl_csv_writer *w, long v)
{
    char b[32];
    snprintf(b, sizeof b, "%ld", v);
    sl_csv_field(w, b);
}

void sl_csv_end_row(sl_csv_writer *w)
{
    put(w, "\n", 1);
    w->at_row_start = 1;
}

int sl_csv_save(const sl_csv_writer *w, const char *path, sl_error *err)
{
    return sl_write_atomic(path, w->data ? w->data : "", w->len, err);
}

void sl_csv_writer_free(sl_csv_writer *w)
{
    free(w->data);
    memset(w, 0, sizeof *w);
}
