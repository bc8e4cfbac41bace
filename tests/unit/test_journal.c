#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "journal.h"

static char dir[64];

static void setup(void)
{
	strcpy(dir, "/tmp/okxj.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(journal, .init = setup, .fini = teardown);

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);
	size_t n;

	cr_assert_not_null(f);
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

Test(journal, rfc3339_microseconds)
{
	struct timespec t = { .tv_sec = 1795837260, .tv_nsec = 17123999 };
	char buf[RFC3339_LEN];

	cr_expect_str_eq(rfc3339_us(&t, buf, sizeof(buf)), "2026-11-28T03:41:00.017123Z");
	t.tv_sec = 0, t.tv_nsec = 0;
	cr_expect_str_eq(rfc3339_us(&t, buf, sizeof(buf)), "1970-01-01T00:00:00.000000Z");
}

Test(journal, creates_parents_and_writes_ordered_lines)
{
	char path[128];
	struct journal *j = NULL;
	struct stamp at = { .real = { 1795837260, 17123000 }, .mono = { 12345, 678 } };
	cJSON *f = cJSON_CreateObject();
	char *text, *nl;
	cJSON *line;

	snprintf(path, sizeof(path), "%s/a/b/drill.jsonl", dir);
	cr_assert_eq(journal_open(&j, path), 0);
	cJSON_AddStringToObject(f, "outcome", "completed");
	json_add_u64(f, "big", 18446744073709551615ull);
	cr_assert_eq(journal_write(j, "end", &at, f), 0);
	cr_assert_eq(journal_write(j, "start", &at, NULL), 0);
	journal_close(j);

	text = slurp(path);
	nl = strchr(text, '\n');
	cr_assert_not_null(nl);
	*nl = '\0';
	/* key order: event, ts, mono_ns, then the fields */
	cr_expect_str_eq(text, "{\"event\":\"end\",\"ts\":\"2026-11-28T03:41:00.017123Z\",\"mono_ns\":12345000000678,"
			       "\"outcome\":\"completed\",\"big\":18446744073709551615}");
	line = cJSON_Parse(nl + 1);
	cr_assert_not_null(line);
	cr_expect_str_eq(cJSON_GetObjectItem(line, "event")->valuestring, "start");
	cJSON_Delete(line);
	free(text);
}

Test(journal, unwritable_path_is_an_error)
{
	struct journal *j = NULL;
	char path[128];

	/* a regular file where a directory is needed */
	snprintf(path, sizeof(path), "%s/file", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/file/sub/j.jsonl", dir);
	cr_expect_lt(journal_open(&j, path), 0);
	cr_expect_null(j);
}

Test(journal, default_path)
{
	struct timespec t = { .tv_sec = 1795837260 };
	char *p = journal_default_path("c2_3_degradation", &t);

	cr_expect_str_eq(p, "/var/lib/okx-faultd/c2_3_degradation-20261128T034100Z.jsonl");
	free(p);
}
