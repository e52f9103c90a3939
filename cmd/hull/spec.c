/* hull spec [--bundle DIR]: write a starting config.json for hull (an
 * interactive sh in ./rootfs).  Refuses to overwrite an existing one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/hull/commands.h"

static const char default_spec[] =
  "{\n"
  "  \"ociVersion\": \"1.2.0\",\n"
  "  \"process\": {\n"
  "    \"terminal\": true,\n"
  "    \"user\": { \"uid\": 0, \"gid\": 0 },\n"
  "    \"args\": [ \"sh\" ],\n"
  "    \"env\": [\n"
  "      \"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\n"
  "      \"TERM=xterm\"\n"
  "    ],\n"
  "    \"cwd\": \"/\",\n"
  "    \"noNewPrivileges\": true\n"
  "  },\n"
  "  \"root\": { \"path\": \"rootfs\", \"readonly\": true },\n"
  "  \"hostname\": \"hull\",\n"
  "  \"mounts\": [\n"
  "    { \"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\" },\n"
  "    { \"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
  "      \"options\": [ \"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\" ] },\n"
  "    { \"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\",\n"
  "      \"options\": [ \"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", "
  "\"mode=0620\" ] },\n"
  "    { \"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\",\n"
  "      \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"ro\" ] }\n"
  "  ],\n"
  "  \"linux\": {\n"
  "    \"resources\": { \"cpu\": { \"quota\": 100000, \"period\": 100000 } },\n"
  "    \"namespaces\": [ { \"type\": \"pid\" }, { \"type\": \"network\" }, { \"type\": \"ipc\" "
  "},\n"
  "                    { \"type\": \"uts\" }, { \"type\": \"mount\" } ]\n"
  "  }\n"
  "}\n";

int
hull_cmd_spec (struct hull_globals *g, int argc, char **argv)
{
  const char *bundle = ".";
  bool rootless = false;
  const struct opt opts[] = { { "bundle", 'b', OPT_VALUE, &bundle },
                              { "rootless", 0, OPT_FLAG, &rootless },
                              { NULL, 0, 0, NULL } };
  hull_error_t err = NULL;
  char *path = NULL;
  int n = opts_parse (argc, argv, opts, &err), fd;
  size_t len = strlen (default_spec);

  if (n < 0)
    return cmd_fail (g, &err, 2);
  if (cmd_positional (g, "spec", argc - n, 0, 0, "no arguments") < 0)
    return 2;
  if (rootless)
    {
      hull_error (&err, 0, "spec: --rootless is not supported by hull");
      return cmd_fail (g, &err, 2);
    }
  if (asprintf (&path, "%s/config.json", bundle) < 0)
    return 1;
  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0 || write (fd, default_spec, len) != (ssize_t) len)
    {
      hull_error (&err, errno, "spec: write `%s`", path);
      if (fd >= 0)
        close (fd);
      free (path);
      return cmd_fail (g, &err, 1);
    }
  close (fd);
  free (path);
  return 0;
}
