/*
 * What a call across the C boundary costs: ai_billing_version() (a no-op inside its panic
 * boundary) against a plain C function called through the same kind of pointer, then
 * ai_billing_interpret() calls per second (offline interpreter; each call parses, compiles the
 * prompt, serializes the answer and frees it).
 *
 *   ./bench_noop [noop_calls] [interpret_calls]
 *
 * Build against the release library for real figures (see bindings-c/README.md).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ai_billing.h"

static double seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static const char *c_noop(void) { return "0"; }

/* Through a volatile pointer, so the compiler cannot inline or hoist either call. */
static double time_calls(const char *(*volatile function)(void), long calls) {
    volatile const char *sink = NULL;
    double start = seconds();
    long i;
    for (i = 0; i < calls; i++) {
        sink = function();
    }
    (void)sink;
    return (seconds() - start) / (double)calls;
}

int main(int argc, char **argv) {
    long noop_calls = argc > 1 ? atol(argv[1]) : 10000000L;
    long interpret_calls = argc > 2 ? atol(argv[2]) : 20000L;
    const char *prompt = "Bill $5 for the first month and increase by $1 per month";
    double per_call, start, elapsed;
    long i;

    per_call = time_calls(c_noop, noop_calls);
    printf("plain C no-op:        %8.2f ns/call (%ld calls)\n", per_call * 1e9, noop_calls);
    per_call = time_calls(ai_billing_version, noop_calls);
    printf("ai_billing_version(): %8.2f ns/call (%ld calls)\n", per_call * 1e9, noop_calls);

    start = seconds();
    for (i = 0; i < interpret_calls; i++) {
        char *out = NULL;
        if (ai_billing_interpret(prompt, NULL, &out) != AI_BILLING_OK ||
            strstr(out, "\"outcome\":\"understood\"") == NULL) {
            fprintf(stderr, "interpret failed: %s\n", ai_billing_last_error());
            ai_billing_string_free(out);
            return 1;
        }
        ai_billing_string_free(out);
    }
    elapsed = seconds() - start;
    printf("ai_billing_interpret(): %8.0f calls/s, %7.1f us/call (%ld calls)\n",
           (double)interpret_calls / elapsed, elapsed / (double)interpret_calls * 1e6,
           interpret_calls);
    return 0;
}
