/* numfmt: the one formatter the lab's panels and axes and the figures' ticks
 * share; each style on the values it meets. */
#include <math.h>

#include "scalelab/numfmt.h"
#include "testutil.h"

static void expect(double v, sl_num_style s, const char *want)
{
    char b[32];
    sl_num_format(b, sizeof b, v, s);
    cr_expect_str_eq(b, want, "%.17g in style %d: '%s', expected '%s'", v, (int)s, b, want);
}

Test(numfmt, short_counts_keep_three_digits_and_compact_exponents)
{
    expect(12345, SL_NUM_SHORT, "1.2e4");
    expect(3.07e5, SL_NUM_SHORT, "3.1e5");
    expect(999, SL_NUM_SHORT, "999");
    expect(2.4437, SL_NUM_SHORT, "2.44");
    expect(6.2e-9, SL_NUM_SHORT, "6.2e-9");
    expect(NAN, SL_NUM_SHORT, "-");
    expect(INFINITY, SL_NUM_SHORT, "-");
}

Test(numfmt, parameters_keep_four_digits)
{
    expect(0.0763, SL_NUM_PARAM, "0.0763");
    expect(1.6732, SL_NUM_PARAM, "1.673");
    expect(8.8e13, SL_NUM_PARAM, "8.8e13");
    expect(2.5e-14, SL_NUM_PARAM, "2.5e-14");
    expect(-75.25, SL_NUM_PARAM, "-75.25");
}

Test(numfmt, metrics_have_three_decimals_where_losses_live)
{
    expect(2.44371, SL_NUM_METRIC, "2.444");
    expect(0.001, SL_NUM_METRIC, "0.001");
    expect(0.0005, SL_NUM_METRIC, "0.0005");
    expect(1.5e6, SL_NUM_METRIC, "1.5e6");
}

Test(numfmt, ticks_label_decades_and_si_between)
{
    expect(1e3, SL_NUM_TICK, "1e3");
    expect(1e-2, SL_NUM_TICK, "1e-2");
    expect(100, SL_NUM_TICK, "100");
    expect(0.1, SL_NUM_TICK, "0.1");
    expect(300, SL_NUM_TICK, "300");
    expect(2e4, SL_NUM_TICK, "20k");
    expect(5e5, SL_NUM_SI, "500k");
    expect(2e6, SL_NUM_SI, "2M");
    expect(2e11, SL_NUM_SI, "200G");
    expect(-3e3, SL_NUM_SI, "-3k");
    expect(5e-3, SL_NUM_SI, "0.005");
    expect(2e-5, SL_NUM_SI, "2e-5");
    /* a tick between decades is written the same by the lab's axes and the figures */
    char lab[32], fig[32];
    for (double v = 2e2; v < 1e7; v *= 2.5) {
        if (fabs(log10(v) - round(log10(v))) < 1e-9)
            continue;
        cr_expect_str_eq(sl_num_format(lab, sizeof lab, v, SL_NUM_TICK),
                         sl_num_format(fig, sizeof fig, v, SL_NUM_SI), "%g", v);
    }
}

Test(numfmt, a_small_buffer_is_truncated_and_terminated)
{
    char b[4];
    sl_num_format(b, sizeof b, 123456.0, SL_NUM_PARAM);
    cr_expect_str_eq(b, "1.2");
}
