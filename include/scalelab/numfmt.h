/* numfmt: how a number is written for a person to read, defined once. The
 * lab's panels and axes, the figures' tick labels and the editor's previews
 * call this, so the same value reads the same wherever it appears. Files for
 * machines (CSV, JSON) do not: they write full precision in the C locale.
 * Every style writes "-" for NaN and infinities and compacts exponents
 * (1.2e+05 -> 1.2e5, 6.2e-09 -> 6.2e-9). */
#ifndef SCALELAB_NUMFMT_H
#define SCALELAB_NUMFMT_H

#include <stddef.h>

typedef enum {
    SL_NUM_SHORT,  /* a count in a narrow column: 3 significant digits below 1000, 2 above (1.2e5) */
    SL_NUM_PARAM,  /* a fitted parameter: 4 significant digits, 3 when |v| >= 1e4 or < 1e-3 */
    SL_NUM_METRIC, /* a loss or rate: 3 decimals in [0.01, 1000), SL_NUM_SHORT outside */
    SL_NUM_SI,     /* a tick between decades: 3 significant digits with k M G T P E (500k, 2M) */
    SL_NUM_TICK,   /* a terminal axis label: decades 1eK (100, 0.1 and 1 as such), else SL_NUM_SI */
} sl_num_style;

/* Writes v in the style into buf (n bytes, truncated to fit); returns buf. */
char *sl_num_format(char *buf, size_t n, double v, sl_num_style style);

#endif
