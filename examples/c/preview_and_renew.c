/*
 * The C ABI end to end: preview a scenario, then bill a subscription on an AI plan in a SQLite
 * database, cancel it and list its credit note, and show how an error reads. Exits 0 only when
 * every check passed.
 *
 *   ./preview_and_renew [examples/scenarios/newspaper.json]
 *
 * Built by scripts/test-c.sh with gcc -std=c11 -Wall -Wextra -Werror -pedantic against
 * bindings-c/include/ai_billing.h, and run plainly and under valgrind.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ai_billing.h"
#include "example.h"

/* Previews the scenario file: prints its invoices' totals; checks the newspaper's figures. */
static void preview(const char *path) {
    char *scenario = read_file(path);
    char *report = NULL;
    long totals[16];
    long sum = 0;
    int count, i;

    CHECK(scenario != NULL, "the scenario file can be read");
    if (scenario == NULL) {
        return;
    }
    CHECK_RESULT(ai_billing_preview(scenario, &report), AI_BILLING_OK);
    free(scenario);
    if (report == NULL) {
        return;
    }
    count = amounts_of(report, "total", totals, 16);
    for (i = 0; i < count && i < 16; i++) {
        printf("  invoice %d: total %ld.%02ld\n", i + 1, totals[i] / 100, totals[i] % 100);
        sum += totals[i];
    }
    printf("preview of %s: %d invoice(s), %ld.%02ld in total\n", path, count, sum / 100,
           sum % 100);
    /* Each invoice has one revenue schedule (line bases name periods too). */
    CHECK(count == count_of(report, "\"revenue_schedule\":"), "one total per invoice");
    if (strstr(path, "newspaper.json") != NULL) {
        CHECK(count == 3 && sum == 8985, "the newspaper scenario bills 3 invoices, 89.85");
    }
    ai_billing_string_free(report);
}

/* Calls one engine operation; prints and frees the answer unless `keep` takes it. */
static int call(ai_billing_result (*operation)(const ai_billing_engine *, const char *, char **),
                const char *name, const ai_billing_engine *engine, const char *request,
                char **keep) {
    char *answer = NULL;
    ai_billing_result result = operation(engine, request, &answer);
    if (result != AI_BILLING_OK) {
        fprintf(stderr, "CHECK FAILED: %s returned %d (%s): %s\n", name, (int)result,
                ai_billing_last_error_code(), ai_billing_last_error());
        example_failures++;
        return 0;
    }
    printf("%s: ok\n", name);
    if (keep != NULL) {
        *keep = answer;
    } else {
        ai_billing_string_free(answer);
    }
    return 1;
}

/*
 * Cancels the subscription at once (the next midnight): the unserved days of the period billed in
 * advance are credited, a credit note against that period's invoice, listed afterwards. A
 * cancellation dated before today is refused, naming the field.
 */
static void cancel(const ai_billing_engine *engine) {
    char *answer = NULL;
    long credited[4], listed[4];
    int count;

    {
        char *untouched = NULL;
        ai_billing_result result = ai_billing_cancel_subscription(
            engine,
            "{\"account_id\":\"acct_c\",\"subscription_id\":\"sub_1\","
            "\"effective\":\"2000-01-01\"}",
            &untouched);
        printf("backdated cancel: result %d, code %s, message: %s\n", (int)result,
               ai_billing_last_error_code(), ai_billing_last_error());
        CHECK(result == AI_BILLING_INVALID_INPUT, "a change cannot be backdated");
        CHECK(strstr(ai_billing_last_error(), "cancel.effective") != NULL,
              "the message names the field");
        CHECK(untouched == NULL, "no answer on error");
    }

    if (!call(ai_billing_cancel_subscription, "cancel_subscription", engine,
              "{\"account_id\":\"acct_c\",\"subscription_id\":\"sub_1\","
              "\"effective\":\"immediately\",\"actor\":\"c-example\"}",
              &answer)) {
        return;
    }
    CHECK(strstr(answer, "\"reason\":\"cancel\"") != NULL, "a credit note for the cancel");
    count = amounts_of(answer, "total", credited, 4);
    CHECK(count == 1, "one credit note total");
    /* Some days of the $7 period are unserved, and at least one was served. */
    CHECK(count == 1 && credited[0] > 0 && credited[0] < 700, "part of the $7 is credited");
    ai_billing_string_free(answer);
    answer = NULL;

    if (call(ai_billing_list_credit_notes, "list_credit_notes", engine,
             "{\"account_id\":\"acct_c\",\"subscription_id\":\"sub_1\"}", &answer)) {
        count = amounts_of(answer, "total", listed, 4);
        if (count >= 1) {
            printf("  credit note 1: total %ld.%02ld\n", listed[0] / 100, listed[0] % 100);
        }
        CHECK(count == 1 && count_of(answer, "\"number\":1") == 1, "the credit note is listed");
        CHECK(count == 1 && listed[0] == credited[0], "as the cancel answered it");
        ai_billing_string_free(answer);
        answer = NULL;
    }

    /* The credit note's document: the HTML page itself, each line explained under it. */
    if (call(ai_billing_render_credit_note, "render_credit_note", engine,
             "{\"account_id\":\"acct_c\",\"credit_note_id\":\"cn_sub_1_1\"}", &answer)) {
        printf("  credit note 1: a document of %zu bytes\n", strlen(answer));
        CHECK(strncmp(answer, "<!DOCTYPE html>", 15) == 0, "the document is an HTML page");
        CHECK(strstr(answer, "Credit note") != NULL, "titled as a credit note");
        CHECK(strstr(answer, "Canceled from") != NULL, "its line says why");
        ai_billing_string_free(answer);
        answer = NULL;
    }
}

/* Bills a subscription that started two months ago on "$5, then $1 more each month". */
static void renew(const char *database_url) {
    ai_billing_engine *engine = NULL;
    char request[1024];
    char now[32], start[32];
    char *answer = NULL;
    long totals[8];
    int count;
    time_t clock = time(NULL);
    struct tm today;

    /* The start: two months before today (the day kept at most 28, so it exists in every
     * month), so two renewals are due now besides the first invoice. */
    gmtime_r(&clock, &today);
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &today);
    {
        int month = today.tm_mon - 2, year = today.tm_year + 1900;
        if (month < 0) {
            month += 12;
            year -= 1;
        }
        snprintf(start, sizeof start, "%04d-%02d-%02d", year % 10000, month + 1,
                 today.tm_mday > 28 ? 28 : today.tm_mday);
    }

    snprintf(request, sizeof request, "{\"databaseUrl\":\"%s\"}", database_url);
    CHECK_RESULT(ai_billing_engine_open(request, &engine), AI_BILLING_OK);
    if (engine == NULL) {
        return;
    }
    printf("engine open on %s\n", database_url);

    call(ai_billing_save_account, "save_account", engine,
         "{\"account\":{\"id\":\"acct_c\",\"abstracted\":true,\"timezone\":\"UTC\"},"
         "\"actor\":\"c-example\"}",
         NULL);
    call(ai_billing_save_customer, "save_customer", engine,
         "{\"customer\":{\"account_id\":\"acct_c\",\"id\":\"cus_1\"},\"actor\":\"c-example\"}",
         NULL);
    if (call(ai_billing_create_plan, "create_plan", engine,
             "{\"account_id\":\"acct_c\",\"actor\":\"c-example\",\"plan\":{\"id\":\"plan_ramp\","
             "\"type\":\"ai\",\"nickname\":\"Ramp\",\"currency\":\"USD\",\"interval\":\"month\","
             "\"ai_prompt\":\"Bill $5 for the first month and increase by $1 per month\"}}",
             &answer)) {
        CHECK(strstr(answer, "\"version\":1") != NULL, "the plan's first version");
        ai_billing_string_free(answer);
        answer = NULL;
    }

    /* An error: a prompt the interpreter refuses saves nothing. */
    {
        char *untouched = NULL;
        ai_billing_result result = ai_billing_create_plan(
            engine,
            "{\"account_id\":\"acct_c\",\"plan\":{\"id\":\"plan_vague\",\"type\":\"ai\","
            "\"currency\":\"USD\",\"interval\":\"month\","
            "\"ai_prompt\":\"Charge whatever seems fair\"}}",
            &untouched);
        printf("refused prompt: result %d, code %s, message: %s\n", (int)result,
               ai_billing_last_error_code(), ai_billing_last_error());
        CHECK(result == AI_BILLING_PROMPT_NOT_UNDERSTOOD, "a vague prompt is refused");
        CHECK(strcmp(ai_billing_last_error_code(), "PROMPT_NOT_UNDERSTOOD") == 0,
              "the code names the error");
        CHECK(strstr(ai_billing_last_error(), "not understood") != NULL,
              "the message says what went wrong");
        CHECK(untouched == NULL, "no answer on error");
    }

    snprintf(request, sizeof request,
             "{\"account_id\":\"acct_c\",\"id\":\"sub_1\",\"customer_id\":\"cus_1\","
             "\"plan_id\":\"plan_ramp\",\"quantity\":1,\"start_date\":\"%s\","
             "\"actor\":\"c-example\"}",
             start);
    if (call(ai_billing_create_subscription, "create_subscription", engine, request, &answer)) {
        CHECK(strstr(answer, "\"total\":\"5.00\"") != NULL, "the first invoice is $5 at once");
        ai_billing_string_free(answer);
        answer = NULL;
    }

    snprintf(request, sizeof request, "{\"now\":\"%s\"}", now);
    if (call(ai_billing_run_due, "run_due", engine, request, &answer)) {
        printf("  %s\n", answer);
        CHECK(strstr(answer, "\"issued\":2") != NULL, "two renewals were due");
        CHECK(strstr(answer, "\"failed\":0") != NULL, "no renewal failed");
        ai_billing_string_free(answer);
        answer = NULL;
    }

    if (call(ai_billing_list_invoices, "list_invoices", engine,
             "{\"account_id\":\"acct_c\",\"subscription_id\":\"sub_1\"}", &answer)) {
        int i;
        count = amounts_of(answer, "total", totals, 8);
        for (i = 0; i < count && i < 8; i++) {
            printf("  invoice %d: total %ld.%02ld\n", i + 1, totals[i] / 100, totals[i] % 100);
        }
        CHECK(count == 3, "three invoices: the first and two renewals");
        CHECK(count == 3 && totals[0] == 500 && totals[1] == 600 && totals[2] == 700,
              "$5, $6, $7");
        CHECK(count_of(answer, "\"billing_reason\":\"subscription_cycle\"") == 2,
              "two renewals");
        ai_billing_string_free(answer);
        answer = NULL;
    }

    if (call(ai_billing_preview_next_invoice, "preview_next_invoice", engine,
             "{\"account_id\":\"acct_c\",\"subscription_id\":\"sub_1\"}", &answer)) {
        CHECK(strstr(answer, "\"total\":\"8.00\"") != NULL, "the next renewal bills $8");
        ai_billing_string_free(answer);
        answer = NULL;
    }

    cancel(engine);

    CHECK_RESULT(ai_billing_engine_close(engine), AI_BILLING_OK);
    CHECK_RESULT(ai_billing_list_invoices(engine, "{\"account_id\":\"acct_c\"}", &answer),
                 AI_BILLING_CLOSED);
    CHECK(answer == NULL, "no answer from a closed engine");
    printf("after close: %s (%s)\n", ai_billing_last_error_code(), ai_billing_last_error());
    ai_billing_engine_free(engine);
}

int main(int argc, char **argv) {
    const char *scenario = argc > 1 ? argv[1] : "examples/scenarios/newspaper.json";
    char dir[] = "/tmp/ai-billing-c-XXXXXX";
    char path[256], url[300];
    const char *suffixes[] = {"", "-wal", "-shm", "-journal"};
    size_t i;

    printf("ai-billing %s\n", ai_billing_version());
    preview(scenario);

    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/billing.db", dir);
    snprintf(url, sizeof url, "sqlite://%s", path);
    renew(url);
    for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char file[300];
        snprintf(file, sizeof file, "%s%s", path, suffixes[i]);
        unlink(file);
    }
    if (rmdir(dir) != 0) {
        perror("rmdir");
        example_failures++;
    }

    if (example_failures != 0) {
        fprintf(stderr, "%d check(s) failed\n", example_failures);
        return 1;
    }
    printf("all checks passed\n");
    return 0;
}
