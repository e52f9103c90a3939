/* Small blocking fd helpers shared by the CLI-side relays and the
 * supervisor. */
#ifndef HULL_FDIO_H
#define HULL_FDIO_H

#include <stdbool.h>

/* Copy what one read() of `from` returns to `to`, all of it; false at EOF
 * or on an error of either side (EINTR is retried / reported as "go on"). */
bool fdio_copy_once (int from, int to);

/* Point fds 0-2 at /dev/null, so this process no longer holds a caller's
 * pipes or terminal open. */
void fdio_stdio_to_devnull (void);

#endif
