/* `hull update` on a microVM: what changes live, what is refused (naming
 * the field), and the JSON the guest gets. */
#include <criterion/criterion.h>
#include <string.h>

#include "runtime/resources_map.h"

static const struct vm_size vm = { .vcpus = 2, .memory_mib = 224 };

static struct oci_linux_resources *
res (const char *json)
{
  struct oci_linux_resources *r = NULL;
  hull_error_t err = NULL;

  cr_assert_eq (oci_resources_parse_data (json, strlen (json), &r, &err), 0, "%s: %s", json,
                hull_error_msg (&err));
  return r;
}

static void
check_ok (const char *json)
{
  struct oci_linux_resources *r = res (json);
  hull_error_t err = NULL;

  cr_assert_eq (resources_update_check (&vm, r, &err), 0, "%s: %s", json, hull_error_msg (&err));
  oci_resources_free (r);
}

static void
check_refused (const char *json, const char *field)
{
  struct oci_linux_resources *r = res (json);
  hull_error_t err = NULL;

  cr_assert_lt (resources_update_check (&vm, r, &err), 0, "%s accepted", json);
  cr_assert (strstr (hull_error_msg (&err), field) != NULL, "%s: `%s` does not name %s", json,
             hull_error_msg (&err), field);
  hull_error_free (&err);
  oci_resources_free (r);
}

Test (resources_update, live_and_refused)
{
  check_ok ("{\"pids\": {\"limit\": 10}}");
  check_ok ("{\"memory\": {\"limit\": 268435456}}"); /* 224 + 32 MiB: what it was sized for */
  check_ok ("{\"memory\": {\"limit\": 67108864}}");
  check_ok ("{\"memory\": {\"limit\": -1}}");
  check_ok ("{\"cpu\": {\"quota\": 200000, \"period\": 100000, \"shares\": 512}}");
  check_ok ("{\"cpu\": {\"cpus\": \"4-5\"}}");
  check_ok ("{\"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 0}]}");
  check_refused ("{\"memory\": {\"limit\": 268435457}}", "linux.resources.memory.limit");
  check_refused ("{\"cpu\": {\"quota\": 200001, \"period\": 100000}}", "linux.resources.cpu");
  check_refused ("{\"cpu\": {\"cpus\": \"0-2\"}}", "vCPUs");
  check_refused ("{\"blockIO\": {\"weight\": 100}}", "linux.resources.blockIO");
  check_refused ("{\"unified\": {\"io.weight\": \"100\"}}", "linux.resources.unified");
}

Test (resources_update, live_json)
{
  struct oci_linux_resources *r
      = res ("{\"memory\": {\"limit\": 1048576, \"reservation\": 5}, \"cpu\": {\"shares\": 2, "
             "\"cpus\": \"0\"}, \"pids\": {\"limit\": 7}, \"hugepageLimits\": []}");
  hull_error_t err = NULL;
  char *json = NULL;

  cr_assert_eq (resources_live_json (r, &json, &err), 0, "%s", hull_error_msg (&err));
  cr_assert_str_eq (json, "{\"memory\":{\"limit\":1048576},\"cpu\":{\"shares\":2},"
                          "\"pids\":{\"limit\":7}}");
  free (json);
  oci_resources_free (r);
}
