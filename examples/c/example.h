/*
 * Helpers the C examples share: checks that count failures, reading a file, and the few JSON
 * scans the examples need (a real program would use a JSON library such as cJSON or jansson).
 */
#ifndef AI_BILLING_EXAMPLE_H
#define AI_BILLING_EXAMPLE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ai_billing.h"

static int example_failures = 0;

/* Counts a failed check and says where; the program exits 1 when any failed. */
#define CHECK(cond, what)                                                              \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "CHECK FAILED at %s:%d: %s (%s)\n", __FILE__, __LINE__,    \
                    (what), #cond);                                                    \
            example_failures++;                                                        \
        }                                                                              \
    } while (0)

/* Checks that a call returned `expected`; on a mismatch prints the library's last error. */
#define CHECK_RESULT(call, expected)                                                   \
    do {                                                                               \
        ai_billing_result got_ = (call);                                               \
        if (got_ != (expected)) {                                                      \
            fprintf(stderr, "CHECK FAILED at %s:%d: %s returned %d, expected %d: %s\n", \
                    __FILE__, __LINE__, #call, (int)got_, (int)(expected),             \
                    ai_billing_last_error());                                          \
            example_failures++;                                                        \
        }                                                                              \
    } while (0)

/* The whole file as a NUL-terminated string (free it), or NULL. */
static inline char *read_file(const char *path) {
    FILE *file = fopen(path, "rb");
    char *text = NULL;
    long size;
    if (file == NULL) {
        return NULL;
    }
    if (fseek(file, 0, SEEK_END) == 0 && (size = ftell(file)) >= 0 &&
        fseek(file, 0, SEEK_SET) == 0 && (text = malloc((size_t)size + 1)) != NULL) {
        if (fread(text, 1, (size_t)size, file) != (size_t)size) {
            free(text);
            text = NULL;
        } else {
            text[size] = '\0';
        }
    }
    fclose(file);
    return text;
}

/* How many times `needle` occurs in `haystack`. */
static inline int count_of(const char *haystack, const char *needle) {
    int count = 0;
    const char *at = haystack;
    while ((at = strstr(at, needle)) != NULL) {
        count++;
        at += strlen(needle);
    }
    return count;
}

/*
 * The amounts of every `"key":"12.34"` in `json`, in cents, into `cents` (at most `max`); gives
 * how many there were, or -1 when one is not an amount with two decimals.
 */
static inline int amounts_of(const char *json, const char *key, long *cents, int max) {
    char pattern[64];
    const char *at = json;
    int count = 0;
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    while ((at = strstr(at, pattern)) != NULL) {
        char *end = NULL;
        long units;
        at += strlen(pattern);
        units = strtol(at, &end, 10);
        if (end == at || end[0] != '.' || end[1] < '0' || end[1] > '9' || end[2] < '0' ||
            end[2] > '9' || end[3] != '"' || units < 0) {
            return -1;
        }
        if (count < max) {
            cents[count] = units * 100 + (end[1] - '0') * 10 + (end[2] - '0');
        }
        count++;
        at = end + 3;
    }
    return count;
}

#endif /* AI_BILLING_EXAMPLE_H */
