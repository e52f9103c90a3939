/* OCI process.scheduler, process.ioPriority and linux.personality: the
 * remaining per-process kernel settings of the process spec. */
#include "runtime/process_setup.h"

#include <errno.h>
#include <linux/sched/types.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_CLASS_SHIFT 13

int
process_sched_apply (const struct oci_scheduler *s, hull_error_t *err)
{
  struct sched_attr attr = { .size = sizeof attr };

  if (s == NULL)
    return 0;
  attr.sched_policy = (uint32_t) s->policy;
  attr.sched_flags = s->flags;
  attr.sched_nice = s->has_nice ? s->nice : 0;
  attr.sched_priority = s->has_priority ? (uint32_t) s->priority : 0;
  attr.sched_runtime = s->has_runtime ? s->runtime : 0;
  attr.sched_deadline = s->has_deadline ? s->deadline : 0;
  attr.sched_period = s->has_period ? s->period : 0;
  if (syscall (SYS_sched_setattr, 0, &attr, 0) < 0)
    return hull_error (err, errno, "process.scheduler: sched_setattr (policy %d)", s->policy);
  return 0;
}

int
process_ioprio_apply (const struct oci_io_priority *p, hull_error_t *err)
{
  if (p == NULL)
    return 0;
  if (syscall (SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0,
               (p->class_ << IOPRIO_CLASS_SHIFT) | p->priority) < 0)
    return hull_error (err, errno, "process.ioPriority: ioprio_set class %d priority %d",
                       p->class_, p->priority);
  return 0;
}

int
process_personality_apply (const struct oci_personality *p, hull_error_t *err)
{
  if (p == NULL)
    return 0;
  if (personality (p->domain) < 0)
    return hull_error (err, errno, "linux.personality: domain %lu", p->domain);
  return 0;
}
