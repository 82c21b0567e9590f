/*
 * The C ABI refusing what it must refuse: NULL arguments, bytes that are not UTF-8, malformed
 * JSON, a closed engine, and NULL given to the free functions. Each failure returns its code,
 * leaves the out-parameter alone and explains itself in ai_billing_last_error(). Exits 0 only
 * when every check passed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ai_billing.h"
#include "example.h"

/* What an out-parameter holds before a call: a failed call must leave it so. */
static char untouched_text[] = "untouched";
#define UNTOUCHED untouched_text

static int contains(const char *text, const char *part) { return strstr(text, part) != NULL; }

/* Checks the last error's code and that its message holds `part`. */
static void expect_error(const char *code, const char *part) {
    const char *message = ai_billing_last_error();
    CHECK(message != NULL, "the last error is never NULL");
    CHECK(strcmp(ai_billing_last_error_code(), code) == 0, code);
    CHECK(contains(message, part), part);
    printf("  %-14s %s\n", ai_billing_last_error_code(), message);
}

static void preview_inputs(void) {
    char *out = UNTOUCHED;
    /* 0xff is never valid UTF-8: the message names its offset (3). */
    const char not_utf8[] = {'{', '"', 'a', (char)0xff, '"', '}', '\0'};

    puts("preview:");
    CHECK_RESULT(ai_billing_preview(NULL, &out), AI_BILLING_NULL_ARGUMENT);
    CHECK(out == UNTOUCHED, "out_json untouched");
    expect_error("NULL_ARGUMENT", "scenario_json is NULL");

    CHECK_RESULT(ai_billing_preview("{}", NULL), AI_BILLING_NULL_ARGUMENT);
    expect_error("NULL_ARGUMENT", "out_json is NULL");

    CHECK_RESULT(ai_billing_preview(not_utf8, &out), AI_BILLING_INVALID_INPUT);
    CHECK(out == UNTOUCHED, "out_json untouched");
    expect_error("INVALID_INPUT", "offset 3");

    CHECK_RESULT(ai_billing_preview("{\"account\": [1, 2", &out), AI_BILLING_INVALID_INPUT);
    CHECK(out == UNTOUCHED, "out_json untouched");
    expect_error("INVALID_INPUT", "account");

    CHECK_RESULT(ai_billing_preview("", &out), AI_BILLING_INVALID_INPUT);
    expect_error("INVALID_INPUT", "scenario");
}

static void interpret_inputs(void) {
    char *out = UNTOUCHED;

    puts("interpret:");
    CHECK_RESULT(ai_billing_interpret(NULL, NULL, &out), AI_BILLING_NULL_ARGUMENT);
    expect_error("NULL_ARGUMENT", "prompt is NULL");
    CHECK_RESULT(ai_billing_interpret("$9 monthly", "{\"currency\":\"USX\"}", &out),
                 AI_BILLING_INVALID_INPUT);
    expect_error("INVALID_INPUT", "options.currency");
    CHECK_RESULT(ai_billing_interpret("$9 monthly", "{\"colour\":1}", &out),
                 AI_BILLING_INVALID_INPUT);
    expect_error("INVALID_INPUT", "colour");
    CHECK(out == UNTOUCHED, "out_json untouched");

    /* A success clears the last error. */
    out = NULL;
    CHECK_RESULT(ai_billing_interpret("$9 monthly", NULL, &out), AI_BILLING_OK);
    CHECK(strcmp(ai_billing_last_error(), "") == 0, "no error after a success");
    CHECK(strcmp(ai_billing_last_error_code(), "") == 0, "no code after a success");
    CHECK(out != NULL && contains(out, "\"outcome\":\"understood\""), "understood");
    ai_billing_string_free(out);

    /* A refused prompt is an answer, not an error. */
    out = NULL;
    CHECK_RESULT(ai_billing_interpret("Charge whatever seems fair", NULL, &out), AI_BILLING_OK);
    CHECK(out != NULL && contains(out, "\"outcome\":\"refused\""), "refused");
    ai_billing_string_free(out);
}

static void engine_inputs(void) {
    ai_billing_engine *engine = (ai_billing_engine *)UNTOUCHED;
    char *out = UNTOUCHED;

    puts("engine:");
    CHECK_RESULT(ai_billing_engine_open(NULL, &engine), AI_BILLING_NULL_ARGUMENT);
    expect_error("NULL_ARGUMENT", "options_json is NULL");
    CHECK_RESULT(ai_billing_engine_open("{\"databaseUrl\":\"sqlite::memory:\"}", NULL),
                 AI_BILLING_NULL_ARGUMENT);
    expect_error("NULL_ARGUMENT", "out_engine is NULL");
    CHECK_RESULT(ai_billing_engine_open("{\"databaseUrl\":\"mysql://localhost/x\"}", &engine),
                 AI_BILLING_INVALID_INPUT);
    expect_error("INVALID_INPUT", "database url");
    CHECK_RESULT(ai_billing_engine_open("{\"databaseUrl\":", &engine), AI_BILLING_INVALID_INPUT);
    expect_error("INVALID_INPUT", "options");
    CHECK(engine == (ai_billing_engine *)UNTOUCHED, "out_engine untouched");

    CHECK_RESULT(ai_billing_list_invoices(NULL, "{\"account_id\":\"a\"}", &out),
                 AI_BILLING_NULL_ARGUMENT);
    expect_error("NULL_ARGUMENT", "engine is NULL");
    CHECK_RESULT(ai_billing_engine_close(NULL), AI_BILLING_NULL_ARGUMENT);

    engine = NULL;
    CHECK_RESULT(ai_billing_engine_open("{\"databaseUrl\":\"sqlite::memory:\"}", &engine),
                 AI_BILLING_OK);
    if (engine == NULL) {
        return;
    }
    CHECK_RESULT(ai_billing_run_due(engine, NULL, &out), AI_BILLING_NULL_ARGUMENT);
    expect_error("NULL_ARGUMENT", "request_json is NULL");
    CHECK_RESULT(ai_billing_run_due(engine, "{}", NULL), AI_BILLING_NULL_ARGUMENT);
    expect_error("NULL_ARGUMENT", "out_json is NULL");
    CHECK_RESULT(ai_billing_save_account(engine, "{\"account\":{\"id\":\"a\"}}", &out),
                 AI_BILLING_INVALID_INPUT);
    expect_error("INVALID_INPUT", "request.account");
    CHECK_RESULT(ai_billing_get_subscription(
                     engine, "{\"account_id\":\"a\",\"subscription_id\":\"nope\"}", &out),
                 AI_BILLING_NOT_FOUND);
    expect_error("NOT_FOUND", "nope");
    CHECK(out == UNTOUCHED, "out_json untouched");

    /* Closed: every call says so; closing again is fine; the handle is still freed once. */
    CHECK_RESULT(ai_billing_engine_close(engine), AI_BILLING_OK);
    CHECK_RESULT(ai_billing_list_invoices(engine, "{\"account_id\":\"a\"}", &out),
                 AI_BILLING_CLOSED);
    expect_error("CLOSED", "closed");
    CHECK_RESULT(ai_billing_run_due(engine, "not even JSON", &out), AI_BILLING_CLOSED);
    CHECK(out == UNTOUCHED, "out_json untouched");
    CHECK_RESULT(ai_billing_engine_close(engine), AI_BILLING_OK);
    ai_billing_engine_free(engine);
}

int main(void) {
    CHECK(strcmp(ai_billing_last_error(), "") == 0, "no error before any call");
    preview_inputs();
    interpret_inputs();
    engine_inputs();

    /* NULL is a no-op for both frees, and they leave the last error alone. */
    CHECK_RESULT(ai_billing_preview(NULL, NULL), AI_BILLING_NULL_ARGUMENT);
    ai_billing_string_free(NULL);
    ai_billing_engine_free(NULL);
    CHECK(strcmp(ai_billing_last_error_code(), "NULL_ARGUMENT") == 0, "frees keep the error");

    if (example_failures != 0) {
        fprintf(stderr, "%d check(s) failed\n", example_failures);
        return 1;
    }
    puts("all checks passed");
    return 0;
}
