/* VM sizing from OCI configs parsed the real way. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "runtime/resources_map.h"

static const struct resources_defaults defaults = {
  .vcpus = 1, .memory_mib = 512, .max_vcpus = 16, .max_memory_mib = 65536,
  .overhead_mib = 64,
};

/* Parse a config whose "annotations" and "linux" members are given. */
static struct oci_config *
config (const char *annotations, const char *linux_json)
{
  char doc[2048];
  struct oci_config *c = NULL;
  hull_error_t err = NULL;

  snprintf (doc, sizeof doc,
            "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"}%s%s%s%s}",
            annotations ? ", \"annotations\": " : "", annotations ? annotations : "",
            linux_json ? ", \"linux\": " : "", linux_json ? linux_json : "");
  cr_assert_eq (oci_config_parse_data (doc, strlen (doc), &c, &err), 0, "%s: %s", doc,
                hull_error_msg (&err));
  return c;
}

static struct vm_size
map_ok (const char *annotations, const char *linux_json)
{
  struct oci_config *c = config (annotations, linux_json);
  struct vm_size s;
  hull_error_t err = NULL;

  cr_assert_eq (resources_map (c, &defaults, &s, &err), 0, "%s", hull_error_msg (&err));
  oci_config_free (c);
  return s;
}

static char *
map_fails (const char *annotations, const char *linux_json)
{
  struct oci_config *c = config (annotations, linux_json);
  struct vm_size s;
  hull_error_t err = NULL;
  static char msg[512];

  cr_assert_lt (resources_map (c, &defaults, &s, &err), 0);
  snprintf (msg, sizeof msg, "%s", hull_error_msg (&err));
  hull_error_free (&err);
  oci_config_free (c);
  return msg;
}

Test (resources_map, defaults_without_resources)
{
  struct vm_size s = map_ok (NULL, NULL);
  cr_assert_eq (s.vcpus, 1);
  cr_assert_eq (s.memory_mib, 512);
  cr_assert_str_eq (s.vcpus_from, "default");
  cr_assert_str_eq (s.memory_from, "default");
  s = map_ok (NULL, "{\"resources\": {\"cpu\": {\"shares\": 1024}}}");
  cr_assert_eq (s.vcpus, 1, "shares say nothing about parallelism");
}

Test (resources_map, quota_rounds_up)
{
  struct vm_size s = map_ok (NULL, "{\"resources\": {\"cpu\": {\"quota\": 150000, \"period\": 100000}}}");
  cr_assert_eq (s.vcpus, 2);
  cr_assert_str_eq (s.vcpus_from, "linux.resources.cpu");
  s = map_ok (NULL, "{\"resources\": {\"cpu\": {\"quota\": 50000}}}");
  cr_assert_eq (s.vcpus, 1, "period defaults to 100 ms");
  s = map_ok (NULL, "{\"resources\": {\"cpu\": {\"quota\": 300000}}}");
  cr_assert_eq (s.vcpus, 3);
  s = map_ok (NULL, "{\"resources\": {\"cpu\": {\"quota\": -1, \"period\": 100000}}}");
  cr_assert_eq (s.vcpus, 1, "unlimited quota: default");
  cr_assert_str_eq (s.vcpus_from, "default");
}

Test (resources_map, cpuset_and_quota_take_the_smaller)
{
  struct vm_size s = map_ok (NULL, "{\"resources\": {\"cpu\": {\"cpus\": \"0-3,6\"}}}");
  cr_assert_eq (s.vcpus, 5);
  s = map_ok (NULL, "{\"resources\": {\"cpu\": {\"cpus\": \"0-3\", \"quota\": 200000, "
                    "\"period\": 100000}}}");
  cr_assert_eq (s.vcpus, 2);
  s = map_ok (NULL, "{\"resources\": {\"cpu\": {\"cpus\": \"1\", \"quota\": 800000}}}");
  cr_assert_eq (s.vcpus, 1);
}

Test (resources_map, vcpus_clamped_to_max)
{
  struct vm_size s = map_ok (NULL, "{\"resources\": {\"cpu\": {\"quota\": 6400000}}}");
  cr_assert_eq (s.vcpus, 16);
}

Test (resources_map, memory_limit_minus_overhead)
{
  struct vm_size s = map_ok (NULL, "{\"resources\": {\"memory\": {\"limit\": 1073741824}}}");
  cr_assert_eq (s.memory_mib, 1024 - 64);
  cr_assert_str_eq (s.memory_from, "linux.resources.memory.limit");
  cr_assert (!s.memory_over_limit);
  s = map_ok (NULL, "{\"resources\": {\"memory\": {\"limit\": 536870913}}}");
  cr_assert_eq (s.memory_mib, 513 - 64, "rounded up to MiB");
  s = map_ok (NULL, "{\"resources\": {\"memory\": {\"limit\": 67108864}}}");
  cr_assert_eq (s.memory_mib, RESOURCES_MIN_MEMORY_MIB, "floor");
  cr_assert (s.memory_over_limit);
  s = map_ok (NULL, "{\"resources\": {\"memory\": {\"limit\": -1}}}");
  cr_assert_eq (s.memory_mib, 512, "unlimited: default");
}

Test (resources_map, annotations_override)
{
  struct vm_size s = map_ok ("{\"io.hull.vcpus\": \"4\", \"io.hull.memory_mib\": \"2048\"}",
                             "{\"resources\": {\"cpu\": {\"quota\": 100000}, "
                             "\"memory\": {\"limit\": 268435456}}}");
  cr_assert_eq (s.vcpus, 4);
  cr_assert_eq (s.memory_mib, 2048);
  cr_assert_str_eq (s.vcpus_from, "annotation io.hull.vcpus");
  cr_assert_str_eq (s.memory_from, "annotation io.hull.memory_mib");
}

Test (resources_map, bad_annotations_are_named)
{
  const char *bad_vcpus[] = { "0", "17", "-1", "2x", " 2", "", "99999999999999999999999" };
  const char *bad_mem[] = { "64", "0", "1e3", "65537", "abc" };
  char ann[128];

  for (size_t i = 0; i < sizeof bad_vcpus / sizeof *bad_vcpus; i++)
    {
      snprintf (ann, sizeof ann, "{\"io.hull.vcpus\": \"%s\"}", bad_vcpus[i]);
      char *m = map_fails (ann, NULL);
      cr_assert (strstr (m, "io.hull.vcpus"), "%s", m);
      cr_assert (strstr (m, bad_vcpus[i]), "%s", m);
    }
  for (size_t i = 0; i < sizeof bad_mem / sizeof *bad_mem; i++)
    {
      snprintf (ann, sizeof ann, "{\"io.hull.memory_mib\": \"%s\"}", bad_mem[i]);
      char *m = map_fails (ann, NULL);
      cr_assert (strstr (m, "io.hull.memory_mib"), "%s", m);
    }
}

Test (resources_map, bad_cpuset_is_named)
{
  char *m = map_fails (NULL, "{\"resources\": {\"cpu\": {\"cpus\": \"3-1\"}}}");
  cr_assert (strstr (m, "linux.resources.cpu.cpus"), "%s", m);
  cr_assert (strstr (m, "3-1"), "%s", m);
}

Test (resources_map, cpuset_lists)
{
  struct
  {
    const char *list;
    int ok;
    unsigned n;
  } cases[] = {
    { "", 1, 0 },        { "0", 1, 1 },          { "0-3", 1, 4 },     { "0-3,7", 1, 5 },
    { "1,1,1", 1, 1 },   { "0-3,2-5", 1, 6 },    { "8191", 1, 1 },    { "8192", 0, 0 },
    { "3-1", 0, 0 },     { "1,", 0, 0 },         { ",1", 0, 0 },      { "1-", 0, 0 },
    { "a", 0, 0 },       { "1 ,2", 0, 0 },       { "-1", 0, 0 },      { "0-8191", 1, 8192 },
  };

  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    {
      unsigned n = 99;
      hull_error_t err = NULL;
      int r = resources_cpuset_count (cases[i].list, &n, &err);
      cr_assert_eq (r == 0, cases[i].ok, "`%s`: %s", cases[i].list, hull_error_msg (&err));
      if (r == 0)
        cr_assert_eq (n, cases[i].n, "`%s`: %u", cases[i].list, n);
      else
        cr_assert (strstr (hull_error_msg (&err), "cpu list"), "%s", hull_error_msg (&err));
      hull_error_free (&err);
    }
}
