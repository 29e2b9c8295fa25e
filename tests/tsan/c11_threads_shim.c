/* glibc's C11 threads (thrd_create, mtx_*, cnd_*) routed through the pthread calls that GCC 12's
 * ThreadSanitizer intercepts (README.md). glibc implements C11 threads over the same objects
 * (thrd_t is a pthread_t, mtx_t and cnd_t have the layout of pthread_mutex_t and
 * pthread_cond_t), so a library calling these, librdkafka here, gets the same behaviour, and its
 * threads and locks become visible to TSan. An experiment, not linked into cep. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

struct start {
  thrd_start_t func;
  void *arg;
};

static void *trampoline(void *p) {
  struct start s = *(struct start *)p;
  free(p);
  return (void *)(intptr_t)s.func(s.arg);
}

static int result(int rc) { return rc == 0 ? thrd_success : thrd_error; }

int thrd_create(thrd_t *thr, thrd_start_t func, void *arg) {
  struct start *s = malloc(sizeof *s);
  if (s == NULL) {
    return thrd_nomem;
  }
  s->func = func;
  s->arg = arg;
  int rc = pthread_create((pthread_t *)thr, NULL, trampoline, s);
  if (rc != 0) {
    free(s);
    return rc == EAGAIN ? thrd_nomem : thrd_error;
  }
  return thrd_success;
}

int thrd_join(thrd_t thr, int *res) {
  void *r = NULL;
  if (pthread_join((pthread_t)thr, &r) != 0) {
    return thrd_error;
  }
  if (res != NULL) {
    *res = (int)(intptr_t)r;
  }
  return thrd_success;
}

int mtx_init(mtx_t *m, int type) {
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  if (type & mtx_recursive) {
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
  }
  int rc = pthread_mutex_init((pthread_mutex_t *)m, &a);
  pthread_mutexattr_destroy(&a);
  return result(rc);
}
void mtx_destroy(mtx_t *m) { pthread_mutex_destroy((pthread_mutex_t *)m); }
int mtx_lock(mtx_t *m) { return result(pthread_mutex_lock((pthread_mutex_t *)m)); }
int mtx_unlock(mtx_t *m) { return result(pthread_mutex_unlock((pthread_mutex_t *)m)); }

int cnd_init(cnd_t *c) { return result(pthread_cond_init((pthread_cond_t *)c, NULL)); }
void cnd_destroy(cnd_t *c) { pthread_cond_destroy((pthread_cond_t *)c); }
int cnd_signal(cnd_t *c) { return result(pthread_cond_signal((pthread_cond_t *)c)); }
int cnd_broadcast(cnd_t *c) { return result(pthread_cond_broadcast((pthread_cond_t *)c)); }
int cnd_wait(cnd_t *c, mtx_t *m) {
  return result(pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m));
}
int cnd_timedwait(cnd_t *c, mtx_t *m, const struct timespec *t) {
  int rc = pthread_cond_timedwait((pthread_cond_t *)c, (pthread_mutex_t *)m, t);
  return rc == ETIMEDOUT ? thrd_timedout : result(rc);
}
