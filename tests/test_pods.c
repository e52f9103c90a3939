/* Pods, the pure parts (runtime/pod.h): CRI annotations to roles, the pod
 * layout JSON, the protocol's pod attributes, and a pod VM's size from
 * the CRI sandbox annotations (runtime/resources_map.h). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "runtime/pod.h"
#include "runtime/protocol.h"
#include "runtime/resources_map.h"

static struct oci_config *
config_with (const char *annotations)
{
  char doc[2048];
  struct oci_config *c = NULL;
  hull_error_t err = NULL;

  snprintf (doc, sizeof doc,
            "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
            "\"mounts\":[{\"destination\":\"/a\",\"type\":\"bind\",\"source\":\"/x\"},"
            "{\"destination\":\"/b\",\"type\":\"bind\",\"source\":\"/y\"}],"
            "\"annotations\":{%s}}",
            annotations);
  cr_assert_eq (oci_config_parse_data (doc, strlen (doc), &c, &err), 0, "%s",
                hull_error_msg (&err));
  return c;
}

#define TYPE "\"" POD_ANN_CONTAINER_TYPE "\":"
#define SID "\"" POD_ANN_SANDBOX_ID "\":"

static int
role (const char *ann, const char *id, enum pod_role *r, const char **sid, char *msg, size_t len)
{
  struct oci_config *c = config_with (ann);
  hull_error_t err = NULL;
  int ret = pod_role_of (c, id, r, sid, &err);

  snprintf (msg, len, "%s", err ? hull_error_msg (&err) : "");
  hull_error_free (&err);
  if (ret == 0 && *sid != NULL)
    {
      /* Points into the config: copy before freeing it. */
      static char keep[256];
      snprintf (keep, sizeof keep, "%s", *sid);
      *sid = keep;
    }
  oci_config_free (c);
  return ret;
}

Test (pods, roles_from_annotations)
{
  enum pod_role r;
  const char *sid;
  char msg[512];

  cr_assert_eq (role ("\"other\":\"x\"", "c1", &r, &sid, msg, sizeof msg), 0);
  cr_expect_eq (r, POD_NONE);
  cr_expect_null (sid);

  cr_assert_eq (role (TYPE "\"sandbox\"," SID "\"sb1\"", "sb1", &r, &sid, msg, sizeof msg), 0);
  cr_expect_eq (r, POD_SANDBOX);
  cr_expect_str_eq (sid, "sb1");
  /* containerd always sets both; a sandbox without the id is still one. */
  cr_assert_eq (role (TYPE "\"sandbox\"", "sb1", &r, &sid, msg, sizeof msg), 0);
  cr_expect_eq (r, POD_SANDBOX);

  cr_assert_eq (role (TYPE "\"container\"," SID "\"sb1\"", "app", &r, &sid, msg, sizeof msg), 0);
  cr_expect_eq (r, POD_MEMBER);
  cr_expect_str_eq (sid, "sb1");
}

Test (pods, inconsistent_annotations_name_the_annotation)
{
  enum pod_role r;
  const char *sid;
  char msg[512];

  cr_expect_lt (role (TYPE "\"sandbox\"," SID "\"other\"", "sb1", &r, &sid, msg, sizeof msg), 0);
  cr_expect (strstr (msg, POD_ANN_SANDBOX_ID " `other`") != NULL, "%s", msg);

  cr_expect_lt (role (TYPE "\"container\"", "app", &r, &sid, msg, sizeof msg), 0);
  cr_expect (strstr (msg, "annotation " POD_ANN_SANDBOX_ID ": required") != NULL, "%s", msg);

  cr_expect_lt (role (TYPE "\"container\"," SID "\"../x\"", "app", &r, &sid, msg, sizeof msg),
                0);
  cr_expect (strstr (msg, "annotation " POD_ANN_SANDBOX_ID) != NULL, "%s", msg);

  cr_expect_lt (role (TYPE "\"container\"," SID "\"app\"", "app", &r, &sid, msg, sizeof msg), 0);
  cr_expect (strstr (msg, "its own sandbox") != NULL, "%s", msg);

  cr_expect_lt (role (TYPE "\"podvm\"", "app", &r, &sid, msg, sizeof msg), 0);
  cr_expect (strstr (msg, POD_ANN_CONTAINER_TYPE " `podvm`") != NULL, "%s", msg);
}

Test (pods, roles_from_a_record)
{
  char *kv[] = { (char *) "x", (char *) "y", (char *) POD_ANN_CONTAINER_TYPE,
                 (char *) "container", (char *) POD_ANN_SANDBOX_ID, (char *) "sb", NULL };
  char *bad[] = { (char *) POD_ANN_CONTAINER_TYPE, (char *) "container", NULL };
  const char *sid = NULL;

  cr_expect_eq (pod_role_of_annotations (kv, "app", &sid), POD_MEMBER);
  cr_expect_str_eq (sid, "sb");
  cr_expect_eq (pod_role_of_annotations (bad, "app", &sid), POD_NONE);
  cr_expect_null (sid);
  cr_expect_eq (pod_role_of_annotations (NULL, "app", &sid), POD_NONE);
}

Test (pods, layout_round_trip)
{
  struct pod_layout l = { 0 }, back;
  hull_error_t err = NULL;
  char *json = NULL;

  l.bind_dir = pod_guest_dir ("app");
  cr_assert_str_eq (l.bind_dir, POD_GUEST_ROOT "/app");
  cr_assert_eq (pod_layout_add (&l.binds, &l.n_binds, 1, &err), 0);
  cr_assert_eq (pod_layout_add (&l.skips, &l.n_skips, 0, &err), 0);
  l.share_with = strdup ("sb");
  cr_assert_eq (pod_layout_to_json (&l, &json, &err), 0, "%s", hull_error_msg (&err));
  cr_assert_eq (pod_layout_parse (json, 2, &back, &err), 0, "%s", hull_error_msg (&err));
  cr_expect_str_eq (back.bind_dir, "/run/hull/rootfs/app");
  cr_expect_eq (back.n_binds, 1);
  cr_expect_eq (back.binds[0], 1);
  cr_expect_eq (back.n_skips, 1);
  cr_expect_eq (back.skips[0], 0);
  cr_expect_str_eq (back.share_with, "sb");
  pod_layout_free (&back);
  pod_layout_free (&l);
  free (json);
}

static char *
layout_fails (const char *json, size_t n_mounts)
{
  static char msg[512];
  struct pod_layout l;
  hull_error_t err = NULL;

  cr_assert_lt (pod_layout_parse (json, n_mounts, &l, &err), 0, "%s accepted", json);
  snprintf (msg, sizeof msg, "%s", hull_error_msg (&err));
  hull_error_free (&err);
  return msg;
}

Test (pods, bad_layouts)
{
  char *m;

  m = layout_fails ("{\"binds\":[0]}", 2);
  cr_expect (strstr (m, "pod layout") && strstr (m, "bindDir"), "%s", m);
  m = layout_fails ("{\"bindDir\":\"rel\"}", 2);
  cr_expect (strstr (m, "`rel`: not an absolute path") != NULL, "%s", m);
  m = layout_fails ("{\"bindDir\":\"/d\",\"binds\":[2]}", 2);
  cr_expect (strstr (m, "binds[0]") != NULL, "%s", m);
  m = layout_fails ("{\"bindDir\":\"/d\",\"binds\":[1],\"skip\":[1]}", 2);
  cr_expect (strstr (m, "skip[0]") && strstr (m, "listed twice"), "%s", m);
  m = layout_fails ("{\"bindDir\":\"/d\",\"binds\":[0]}", 0);
  cr_expect (strstr (m, "no mounts[0]") != NULL, "%s", m);
  m = layout_fails ("{\"bindDir\":\"/d\",\"binds\":[\"0\"]}", 2);
  cr_expect (strstr (m, "binds[0]") != NULL, "%s", m);
  m = layout_fails ("[1]", 2);
  cr_expect (strstr (m, "pod layout") != NULL, "%s", m);
}

/* ---- the protocol ---- */

static int
decode (struct hull_msgbuf *mb, bool encode_must_fail, char *msg, size_t len)
{
  struct hull_buf out = { 0 };
  struct hull_decoder d;
  struct hull_msg m;
  hull_error_t err = NULL;
  size_t used = 0;
  int r;

  r = hull_proto_encode_msg (&out, mb, &err);
  hull_msgbuf_free (mb);
  if (encode_must_fail)
    {
      cr_expect_lt (r, 0, "the encoder sent it");
      snprintf (msg, len, "%s", err ? hull_error_msg (&err) : "");
      hull_error_free (&err);
      hull_buf_free (&out);
      return -1;
    }
  cr_assert_eq (r, 0, "%s", hull_error_msg (&err));
  hull_decoder_init (&d);
  r = hull_decoder_feed (&d, out.data, out.len, &used, &m, &err);
  snprintf (msg, len, "%s", r == 1 ? (hull_msg_get_str (&m, HULL_ATTR_POD_JSON) ?: "") : "");
  hull_decoder_free (&d);
  hull_buf_free (&out);
  hull_error_free (&err);
  return r;
}

Test (pods, protocol_pod_json_and_delete)
{
  struct hull_msgbuf mb;
  char msg[512];

  hull_msgbuf_init (&mb, HULL_FRAME_REQUEST, HULL_OP_CREATE, 1);
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONTAINER_ID, "app");
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONFIG_JSON, "{}");
  hull_msgbuf_put_str (&mb, HULL_ATTR_POD_JSON, "{\"bindDir\":\"/run/hull/rootfs/app\"}");
  cr_expect_eq (decode (&mb, false, msg, sizeof msg), 1);
  cr_expect_str_eq (msg, "{\"bindDir\":\"/run/hull/rootfs/app\"}");

  /* pod_json must be a JSON object. */
  hull_msgbuf_init (&mb, HULL_FRAME_REQUEST, HULL_OP_CREATE, 2);
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONTAINER_ID, "app");
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONFIG_JSON, "{}");
  hull_msgbuf_put_str (&mb, HULL_ATTR_POD_JSON, "[1]");
  decode (&mb, true, msg, sizeof msg);
  cr_expect (strstr (msg, "not a JSON object") != NULL, "%s", msg);

  /* Only create carries it. */
  hull_msgbuf_init (&mb, HULL_FRAME_REQUEST, HULL_OP_START, 3);
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONTAINER_ID, "app");
  hull_msgbuf_put_str (&mb, HULL_ATTR_POD_JSON, "{}");
  decode (&mb, true, msg, sizeof msg);
  cr_expect (strstr (msg, "unexpected attribute 22") != NULL, "%s", msg);

  hull_msgbuf_init (&mb, HULL_FRAME_REQUEST, HULL_OP_DELETE, 4);
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONTAINER_ID, "app");
  cr_expect_eq (decode (&mb, false, msg, sizeof msg), 1);
  cr_expect_str_eq (hull_op_name (HULL_OP_DELETE), "delete");

  hull_msgbuf_init (&mb, HULL_FRAME_REQUEST, HULL_OP_DELETE, 5);
  decode (&mb, true, msg, sizeof msg);
  cr_expect (strstr (msg, "missing required attribute 1") != NULL, "%s", msg);
}

/* ---- the pod VM's size ---- */

static const struct resources_defaults defaults = {
  .vcpus = 1, .memory_mib = 512, .max_vcpus = 16, .max_memory_mib = 65536, .overhead_mib = 64,
};

static int
size_of (const char *ann, struct vm_size *s, char *msg, size_t len)
{
  struct oci_config *c = config_with (ann);
  hull_error_t err = NULL;
  int r = resources_map (c, &defaults, s, &err);

  snprintf (msg, len, "%s", err ? hull_error_msg (&err) : "");
  hull_error_free (&err);
  oci_config_free (c);
  return r;
}

#define QUOTA "\"" POD_ANN_CPU_QUOTA "\":"
#define PERIOD "\"" POD_ANN_CPU_PERIOD "\":"
#define MEMORY "\"" POD_ANN_MEMORY "\":"

Test (pods, vm_size_from_sandbox_annotations)
{
  struct vm_size s;
  char msg[512];

  cr_assert_eq (size_of (QUOTA "\"250000\"," PERIOD "\"100000\"," MEMORY "\"1073741824\"", &s,
                         msg, sizeof msg),
                0, "%s", msg);
  cr_expect_eq (s.vcpus, 3, "ceil(2.5)");
  cr_expect_str_eq (s.vcpus_from, "annotation " POD_ANN_CPU_QUOTA);
  cr_expect_eq (s.memory_mib, 1024 - 64, "the pod's limit minus the host overhead");
  cr_expect_str_eq (s.memory_from, "annotation " POD_ANN_MEMORY);

  /* Period absent: the CFS default. */
  cr_assert_eq (size_of (QUOTA "\"50000\"", &s, msg, sizeof msg), 0, "%s", msg);
  cr_expect_eq (s.vcpus, 1);
  cr_expect_str_eq (s.vcpus_from, "annotation " POD_ANN_CPU_QUOTA);

  /* No limit (0, -1): the settings' defaults. */
  cr_assert_eq (size_of (QUOTA "\"-1\"," MEMORY "\"0\"", &s, msg, sizeof msg), 0, "%s", msg);
  cr_expect_eq (s.vcpus, 1);
  cr_expect_str_eq (s.vcpus_from, "default");
  cr_expect_eq (s.memory_mib, 512);

  /* More than the host has: clamped, like linux.resources. */
  cr_assert_eq (size_of (QUOTA "\"9000000\"", &s, msg, sizeof msg), 0, "%s", msg);
  cr_expect_eq (s.vcpus, 16);

  /* io.hull annotations still win. */
  cr_assert_eq (size_of ("\"io.hull.vcpus\":\"2\"," QUOTA "\"800000\"", &s, msg, sizeof msg), 0);
  cr_expect_eq (s.vcpus, 2);

  cr_expect_lt (size_of (MEMORY "\"1G\"", &s, msg, sizeof msg), 0);
  cr_expect (strstr (msg, "annotation " POD_ANN_MEMORY ": `1G`") != NULL, "%s", msg);
  cr_expect_lt (size_of (QUOTA "\"1\"," PERIOD "\"x\"", &s, msg, sizeof msg), 0);
  cr_expect (strstr (msg, "annotation " POD_ANN_CPU_PERIOD) != NULL, "%s", msg);
}
