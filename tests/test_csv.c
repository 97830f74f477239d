/* csv: the RFC 4180 reader and writer. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scalelab/csv.h"

static sl_csv parse_ok(const char *text)
{
    sl_csv t;
    sl_error err = {{0}};
    int rc = sl_csv_parse(text, strlen(text), "t.csv", &t, &err);
    cr_assert_eq(rc, SL_OK, "parse failed: %s", err.msg);
    return t;
}

Test(csv, reads_quoted_fields_with_commas_quotes_and_line_breaks)
{
    sl_csv t = parse_ok("name,\"Model Size\",note\n"
                        "a,1e9,\"x, y\"\n"
                        "\"b \"\"q\"\"\",2,\"two\nlines\"\n");
    cr_assert_eq(t.n_cols, 3);
    cr_assert_eq(t.n_rows, 2);
    cr_assert_str_eq(t.header[1], "Model Size");
    cr_assert_str_eq(sl_csv_cell(&t, 0, 2), "x, y");
    cr_assert_str_eq(sl_csv_cell(&t, 1, 0), "b \"q\"");
    cr_assert_str_eq(sl_csv_cell(&t, 1, 2), "two\nlines");
    cr_assert_eq(sl_csv_column(&t, "note"), 2);
    cr_assert_eq(sl_csv_column(&t, "absent"), -1);
    cr_assert_eq(t.line[1], 3);
    sl_csv_free(&t);
}

Test(csv, accepts_crlf_bom_empty_fields_and_no_final_line_end)
{
    sl_csv t = parse_ok("\xEF\xBB\xBF"
                        "a,b\r\n1,\r\n,4");
    cr_assert_str_eq(t.header[0], "a");
    cr_assert_eq(t.n_rows, 2);
    cr_assert_str_eq(sl_csv_cell(&t, 0, 1), "");
    cr_assert_str_eq(sl_csv_cell(&t, 1, 0), "");
    cr_assert_str_eq(sl_csv_cell(&t, 1, 1), "4");
    sl_csv_free(&t);
}

Test(csv, reports_a_ragged_row_with_its_line)
{
    sl_csv t;
    sl_error err = {{0}};
    const char *text = "a,b,c\n1,2,3\n4,5\n";
    cr_assert_eq(sl_csv_parse(text, strlen(text), "p.csv", &t, &err), SL_EINPUT);
    cr_assert_str_eq(err.msg, "p.csv:line 3: row has 2 fields (expected 3, as the header)");
}

/* a NUL byte would cut a cell short: refused with the line and the column */
Test(csv, reports_a_nul_byte_inside_a_cell)
{
    sl_csv t;
    sl_error err = {{0}};
    const char text[] = "n,loss\n1e6,3.5\n2e6,3.\0" "9\n";
    cr_assert_eq(sl_csv_parse(text, sizeof text - 1, "p.csv", &t, &err), SL_EINPUT);
    cr_assert_str_eq(err.msg, "p.csv:line 3: loss: a NUL byte inside the field (expected text)");
    const char quoted[] = "n,note\n1,\"a\nb\0c\"\n";
    cr_assert_eq(sl_csv_parse(quoted, sizeof quoted - 1, "q.csv", &t, &err), SL_EINPUT);
    cr_assert_str_eq(err.msg, "q.csv:line 3: note: a NUL byte inside the field (expected text)");
    const char header[] = "n,lo\0ss\n1,2\n";
    cr_assert_eq(sl_csv_parse(header, sizeof header - 1, "h.csv", &t, &err), SL_EINPUT);
    cr_assert_str_eq(err.msg, "h.csv:line 1: field 2: a NUL byte inside it (expected text)");
}

Test(csv, reports_an_unterminated_quote)
{
    sl_csv t;
    sl_error err = {{0}};
    const char *text = "a,b\n1,\"open\n";
    cr_assert_eq(sl_csv_parse(text, strlen(text), "p.csv", &t, &err), SL_EINPUT);
    cr_assert(strstr(err.msg, "p.csv:line 2: quoted field is never closed"), "%s", err.msg);
}

Test(csv, rejects_an_empty_table)
{
    sl_csv t;
    sl_error err = {{0}};
    cr_assert_eq(sl_csv_parse("", 0, "e.csv", &t, &err), SL_EINPUT);
    cr_assert(strstr(err.msg, "e.csv: table is empty"), "%s", err.msg);
}

Test(csv, writer_round_trips_text_and_doubles_exactly)
{
    sl_csv_writer w;
    sl_csv_writer_init(&w);
    const double vals[] = {0.1, 1.0 / 3, 6.02214076e23, -2.5e-300};
    sl_csv_field(&w, "label");
    sl_csv_field(&w, "value");
    sl_csv_end_row(&w);
    const char *labels[] = {"plain", "with, comma", "with \"quote\"", "two\nlines"};
    for (int i = 0; i < 4; i++) {
        sl_csv_field(&w, labels[i]);
        sl_csv_field_double(&w, vals[i]);
        sl_csv_end_row(&w);
    }
    sl_csv t = parse_ok(w.data);
    cr_assert_eq(t.n_rows, 4);
    for (int i = 0; i < 4; i++) {
        cr_assert_str_eq(sl_csv_cell(&t, (size_t)i, 0), labels[i]);
        cr_assert_eq(strtod(sl_csv_cell(&t, (size_t)i, 1), NULL), vals[i]);
    }
    sl_csv_free(&t);

    char dir[] = "/tmp/sl_csv_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/out.csv", dir);
    sl_error err = {{0}};
    cr_assert_eq(sl_csv_save(&w, path, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_csv_read(path, &t, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(t.n_rows, 4);
    sl_csv_free(&t);
    sl_csv_writer_free(&w);
    unlink(path);
    rmdir(dir);
}
