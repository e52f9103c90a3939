/* Environment, working directory and execve of an OCI process.  The
 * program is looked up with the container's PATH, not the agent's, and
 * relative to the container root (the caller has already pivoted). */
#include "runtime/process_setup.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/cleanup.h"

const char *
process_env_get (char *const *env, const char *name)
{
  size_t n = strlen (name);

  for (; env != NULL && *env != NULL; env++)
    if (strncmp (*env, name, n) == 0 && (*env)[n] == '=')
      return *env + n + 1;
  return NULL;
}

static bool
is_executable_file (const char *path, int *why)
{
  struct stat st;

  if (stat (path, &st) < 0)
    {
      *why = errno;
      return false;
    }
  if (!S_ISREG (st.st_mode))
    {
      *why = EACCES;
      return false;
    }
  if (access (path, X_OK) < 0)
    {
      *why = errno;
      return false;
    }
  return true;
}

int
process_env_resolve (const char *file, char *const *env, char **out,
                     hull_error_t *err)
{
  const char *path, *p;
  int first_denied = 0, why = ENOENT;

  if (file == NULL || *file == '\0')
    return hull_error (err, EINVAL, "process.args[0] is empty");
  if (strchr (file, '/') != NULL)
    {
      if (!is_executable_file (file, &why))
        return hull_error (err, why, "process.args[0] `%s`", file);
      *out = strdup (file);
      return *out ? 0 : hull_error (err, errno, "strdup");
    }
  path = process_env_get (env, "PATH");
  if (path == NULL)
    path = PROCESS_DEFAULT_PATH;
  for (p = path;; p++)
    {
      const char *end = strchrnul (p, ':');
      cleanup_free char *cand = NULL;

      /* An empty PATH element means the current directory. */
      if (asprintf (&cand, "%.*s%s%s", (int) (end - p), p, end == p ? "" : "/", file) < 0)
        return hull_error (err, errno, "asprintf");
      if (is_executable_file (cand, &why))
        {
          *out = hull_steal_ptr (&cand);
          return 0;
        }
      /* Like execvp: "permission denied" beats "not found" when some
         candidate existed but could not run. */
      if (why == EACCES && first_denied == 0)
        first_denied = EACCES;
      p = end;
      if (*p == '\0')
        break;
    }
  return hull_error (err, first_denied ? first_denied : ENOENT,
                     "process.args[0] `%s` not found in PATH `%s`", file, path);
}

static char *
home_of (uid_t uid, const char *passwd_path)
{
  cleanup_fclose FILE *f = fopen (passwd_path, "re");
  struct passwd pw, *found = NULL;
  char buf[4096];

  /* fgetpwent_r parses the file itself: no NSS, which a static agent and
   * a container's own user database both need. */
  while (f != NULL && fgetpwent_r (f, &pw, buf, sizeof buf, &found) == 0)
    if (found->pw_uid == uid && found->pw_dir != NULL && found->pw_dir[0] != '\0')
      return strdup (found->pw_dir);
  return strdup ("/");
}

int
process_env_with_home (char *const *env, uid_t uid, const char *passwd_path, char ***out,
                       hull_error_t *err)
{
  cleanup_free char *home = NULL;
  size_t n = 0;

  *out = NULL;
  if (process_env_get (env, "HOME") != NULL)
    return 0;
  while (env != NULL && env[n] != NULL)
    n++;
  home = home_of (uid, passwd_path);
  *out = calloc (n + 2, sizeof (char *));
  if (home == NULL || *out == NULL || asprintf (&(*out)[n], "HOME=%s", home) < 0)
    {
      free (*out);
      *out = NULL;
      return hull_error (err, ENOMEM, "process.env: HOME");
    }
  if (n > 0)
    memcpy (*out, env, n * sizeof (char *));
  return 0;
}

int
process_env_exec (const struct oci_process *p, char *const *env, hull_error_t *err)
{
  cleanup_free char *prog = NULL;

  if (p->args.n == 0)
    return hull_error (err, EINVAL, "process.args is empty");
  if (chdir (p->cwd) < 0)
    return hull_error (err, errno, "process.cwd `%s`", p->cwd);
  if (env == NULL)
    env = p->env.v;
  if (process_env_resolve (p->args.v[0], env, &prog, err) < 0)
    return -1;
  execve (prog, p->args.v, env ? env : (char *[]){ NULL });
  return hull_error (err, errno, "exec `%s`", prog);
}

int
process_oom_score_adj_apply (int value, hull_error_t *err)
{
  cleanup_close int fd = open ("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  char buf[16];
  int n = snprintf (buf, sizeof buf, "%d", value);

  if (fd < 0)
    return hull_error (err, errno, "open /proc/self/oom_score_adj");
  if (write (fd, buf, (size_t) n) != n)
    return hull_error (err, errno, "process.oomScoreAdj: write %d", value);
  return 0;
}
