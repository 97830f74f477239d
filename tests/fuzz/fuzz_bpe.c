/* Fuzzes the BPE tokenizer cache reader, twice per input: as it is, and with
 * its trailing checksum made right so that the checks behind it are reached.
 * A loaded tokenizer must decode what it encodes to the same bytes. The rest
 * of the input also trains a tokenizer, with the same round trip.
 * SCALELAB_FUZZ_WRITE_SEED=FILE writes a cache trained on a short text (the
 * seed in corpus/bpe) and exits. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "scalelab/bpe.h"

static uint32_t get32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

static void round_trip(sl_bpe *b, const uint8_t *text, size_t n)
{
    uint16_t *tok = malloc((n ? n : 1) * sizeof *tok);
    uint8_t *back = malloc(n ? n : 1);
    size_t nt = 0;
    sl_error err = {{0}};
    int rc = sl_bpe_encode(b, text, n, tok, &nt, &err);
    FZ_CHECK(rc == SL_OK, "encode: %s", err.msg);
    FZ_CHECK(nt <= n, "%zu tokens for %zu bytes", nt, n);
    size_t m = sl_bpe_decode(b, tok, nt, back, n);
    FZ_CHECK(m == n && (n == 0 || !memcmp(back, text, n)), "decode(encode(x)) != x (%zu bytes, %zu back)",
             n, m);
    free(tok);
    free(back);
}

static const uint8_t sample[] = "In the beginning God created the heaven and the earth.\n\n  x1 2;";

static void load(const uint8_t *data, size_t size)
{
    char path[512];
    fz_path(path, sizeof path, "fuzz.bpe");
    fz_write(path, data, size);
    /* vocab and key from the header, so that the reader goes past them */
    int vocab = size >= 12 ? (int)(get32(data + 8) & 0xffff) : 512;
    uint64_t key = size >= 24 ? get64(data + 16) : 0;
    sl_bpe *b = NULL;
    sl_error err = {{0}};
    int rc = sl_bpe_load(path, vocab, key, &b, &err);
    fz_check_message(rc, &err);
    if (rc)
        return;
    FZ_CHECK(sl_bpe_vocab(b) == vocab, "vocab");
    round_trip(b, sample, sizeof sample - 1);
    round_trip(b, data, size < 512 ? size : 512);
    sl_bpe_free(b);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *seed = getenv("SCALELAB_FUZZ_WRITE_SEED");
    if (seed && *seed) {
        sl_bpe *b;
        sl_error err = {{0}};
        if (sl_bpe_train(sample, sizeof sample - 1, 300, &b, &err) ||
            sl_bpe_save(b, seed, 0x5eed5eed5eed5eedULL, &err)) {
            fprintf(stderr, "scalelab-fuzz: %s\n", err.msg);
            exit(1);
        }
        sl_bpe_free(b);
        exit(0);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    load(data, size);
    if (size >= 8) {
        uint8_t *fixed = malloc(size);
        memcpy(fixed, data, size);
        uint64_t sum = sl_fnv1a(SL_FNV_INIT, fixed, size - 8);
        for (int i = 0; i < 8; i++)
            fixed[size - 8 + i] = (uint8_t)(sum >> (8 * i));
        load(fixed, size);
        free(fixed);
    }
    if (size >= 1 && size <= 4096) {
        sl_bpe *b = NULL;
        sl_error err = {{0}};
        int rc = sl_bpe_train(data + 1, size - 1, 257 + data[0], &b, &err);
        fz_check_message(rc, &err);
        if (rc == SL_OK) {
            round_trip(b, data + 1, size - 1);
            round_trip(b, sample, sizeof sample - 1);
            sl_bpe_free(b);
        }
    }
    return 0;
}
