/* JSON input: reading files with a size cap, refusing hostile documents
 * before yajl_tree builds them, and parsing.  The typed, path-tracking
 * accessors are in json_get.c. */
#include "runtime/json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/cleanup.h"

/* Scanner state for json_prescan: just enough lexing to know whether a
 * byte is inside a string. */
struct prescan
{
  size_t depth;
  size_t values;
  size_t entries[HULL_JSON_MAX_DEPTH + 1]; /* commas seen per open level */
};

/* Skips the string starting after the opening quote at data[*i];
 * rejects the \u0000 escape because C strings would silently truncate it
 * (an argv entry could otherwise hide a suffix). */
static int
prescan_string (const char *data, size_t len, size_t *i, hull_error_t *err)
{
  size_t p = *i + 1;

  while (p < len && data[p] != '"')
    {
      if (data[p] == '\\')
        {
          if (p + 1 < len && data[p + 1] == 'u' && p + 6 <= len
              && memcmp (data + p + 2, "0000", 4) == 0)
            return hull_error (err, 0,
                               "invalid JSON: string contains \\u0000 at "
                               "byte %zu",
                               p);
          p++; /* the escaped character is never a closing quote */
        }
      p++;
    }
  *i = p; /* at the closing quote, or len: yajl reports the syntax error */
  return 0;
}

static int
prescan_open (struct prescan *s, size_t at, hull_error_t *err)
{
  if (s->depth >= HULL_JSON_MAX_DEPTH)
    return hull_error (err, 0,
                       "invalid JSON: nesting deeper than %d levels at byte "
                       "%zu",
                       HULL_JSON_MAX_DEPTH, at);
  s->depth++;
  s->entries[s->depth] = 0;
  s->values++;
  return 0;
}

static int
prescan_comma (struct prescan *s, size_t at, hull_error_t *err)
{
  s->values++;
  if (s->depth > 0 && ++s->entries[s->depth] >= HULL_JSON_MAX_ENTRIES)
    return hull_error (err, 0,
                       "invalid JSON: more than %d entries in one array or "
                       "object at byte %zu",
                       HULL_JSON_MAX_ENTRIES, at);
  return 0;
}

/* Limits yajl cannot enforce itself.  Syntax errors are left to yajl. */
static int
json_prescan (const char *data, size_t len, hull_error_t *err)
{
  struct prescan s = { 0 };
  size_t i;

  for (i = 0; i < len; i++)
    {
      int r = 0;

      switch (data[i])
        {
        case '\0':
          return hull_error (err, 0, "invalid JSON: NUL byte at byte %zu", i);
        case '"':
          r = prescan_string (data, len, &i, err);
          break;
        case '/':
          /* yajl_tree enables comments; JSON has none, and a comment
           * could hide brackets from this scan. */
          return hull_error (err, 0,
                             "invalid JSON: comments are not allowed (byte "
                             "%zu)",
                             i);
        case '{':
        case '[':
          r = prescan_open (&s, i, err);
          break;
        case '}':
        case ']':
          if (s.depth > 0)
            s.depth--;
          break;
        case ',':
          r = prescan_comma (&s, i, err);
          break;
        default:
          break;
        }
      if (r < 0)
        return r;
      if (s.values > HULL_JSON_MAX_VALUES)
        return hull_error (err, 0, "invalid JSON: more than %u values",
                           HULL_JSON_MAX_VALUES);
    }
  return 0;
}

static bool
all_space (const char *data, size_t len)
{
  size_t i;

  for (i = 0; i < len; i++)
    if (data[i] != ' ' && data[i] != '\t' && data[i] != '\n'
        && data[i] != '\r')
      return false;
  return true;
}

int
json_parse (const char *data, size_t len, yajl_val *out, hull_error_t *err)
{
  cleanup_free char *copy = NULL;
  char msg[256] = "";
  yajl_val v;
  char *nl;

  if (len > HULL_JSON_MAX_INPUT)
    return hull_error (err, 0, "invalid JSON: document larger than %u bytes",
                       HULL_JSON_MAX_INPUT);
  if (data == NULL || all_space (data, len))
    return hull_error (err, 0, "invalid JSON: empty document");
  if (json_prescan (data, len, err) < 0)
    return -1;

  /* yajl_tree_parse wants a NUL-terminated string. */
  copy = malloc (len + 1);
  if (copy == NULL)
    return hull_error (err, ENOMEM, "invalid JSON");
  memcpy (copy, data, len);
  copy[len] = '\0';

  v = yajl_tree_parse (copy, msg, sizeof (msg));
  if (v == NULL)
    {
      /* yajl's message continues with an excerpt of the input, which may
       * be binary garbage; the first line is the useful part. */
      nl = strchr (msg, '\n');
      if (nl != NULL)
        *nl = '\0';
      return hull_error (err, 0, "invalid JSON: %s",
                         msg[0] ? msg : "parse error");
    }
  *out = v;
  return 0;
}

void
json_free (yajl_val v)
{
  if (v != NULL)
    yajl_tree_free (v);
}

static int
read_all (int fd, const char *path, char **data, size_t *len,
          hull_error_t *err)
{
  size_t cap = 4096, used = 0;
  cleanup_free char *buf = malloc (cap + 1);

  if (buf == NULL)
    return hull_error (err, ENOMEM, "read `%s`", path);
  for (;;)
    {
      ssize_t r;

      if (used == cap)
        {
          char *nb;

          if (cap > HULL_JSON_MAX_INPUT)
            return hull_error (err, EFBIG,
                               "read `%s`: larger than %u bytes", path,
                               HULL_JSON_MAX_INPUT);
          cap *= 2;
          nb = realloc (buf, cap + 1);
          if (nb == NULL)
            return hull_error (err, ENOMEM, "read `%s`", path);
          buf = nb;
        }
      r = read (fd, buf + used, cap - used);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return hull_error (err, errno, "read `%s`", path);
      if (r == 0)
        break;
      used += (size_t) r;
    }
  if (used > HULL_JSON_MAX_INPUT)
    return hull_error (err, EFBIG, "read `%s`: larger than %u bytes", path,
                       HULL_JSON_MAX_INPUT);
  buf[used] = '\0';
  *len = used;
  *data = hull_steal_ptr (&buf);
  return 0;
}

int
json_read_file (const char *path, char **data, size_t *len,
                hull_error_t *err)
{
  cleanup_close int fd = -1;
  struct stat st;

  /* containerd's runc shim runs `update --resources -` with the JSON on
   * stdin; "-" reads standard input (which stays open). */
  if (strcmp (path, "-") == 0)
    return read_all (STDIN_FILENO, "stdin", data, len, err);
  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return hull_error (err, errno, "open `%s`", path);
  if (fstat (fd, &st) < 0)
    return hull_error (err, errno, "stat `%s`", path);
  if (S_ISDIR (st.st_mode))
    return hull_error (err, EISDIR, "read `%s`", path);
  /* Fail early on big regular files; pipes are capped while reading. */
  if (S_ISREG (st.st_mode) && (uint64_t) st.st_size > HULL_JSON_MAX_INPUT)
    return hull_error (err, EFBIG, "read `%s`: larger than %u bytes", path,
                       HULL_JSON_MAX_INPUT);
  return read_all (fd, path, data, len, err);
}
