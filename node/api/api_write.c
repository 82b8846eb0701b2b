/* api_write.c: answers that wait for a durable write without holding the worker (DESIGN §3).
 *
 * A handler hands its write to api_write_defer() and returns HTTP_DEFERRED. The store's writer
 * thread runs the write in its next group commit and passes the result back through the
 * worker's mailbox: a list under a lock, and an event on the worker's loop. The worker then
 * lets the handler lay out the answer. Meanwhile the worker serves its other connections, and
 * writes from many connections share one commit.
 *
 * The mailbox outlives the worker while writes are in flight (refs): a write that finishes
 * during shutdown finds the mailbox closed and frees its work. A write whose connection went
 * away (deadline, stop, trust withdrawn) still commits; nobody is told. */
#include "api.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>

struct api_mailbox {
	pthread_mutex_t mu;
	int alive;            /* the worker still runs its loop */
	unsigned refs;        /* the worker's, and one per write in flight */
	struct event *ev;
	struct api_write_job *head;
};

struct api_write_job {
	struct api_write_job *next;  /* the mailbox's list */
	struct api_mailbox *mb;
	struct http_deferred *d;     /* NULL once the connection is gone */
	int rc;                      /* the write's result */
	store_write_fn fn;
	api_write_answer_fn answer;
	api_write_free_fn free_fn;
	void *arg;
};

static void job_free(struct api_write_job *j)
{
	if (j->free_fn != NULL)
		j->free_fn(j->arg);
	free(j);
}

static void mailbox_unref(struct api_mailbox *mb)
{
	int last;
	pthread_mutex_lock(&mb->mu);
	last = --mb->refs == 0;
	pthread_mutex_unlock(&mb->mu);
	if (last) {
		pthread_mutex_destroy(&mb->mu);
		free(mb);
	}
}

/* On the worker: answer what was written. */
static void on_mail(evutil_socket_t fd, short what, void *arg)
{
	struct api_mailbox *mb = arg;
	struct api_write_job *list;
	(void)fd;
	(void)what;
	pthread_mutex_lock(&mb->mu);
	list = mb->head;
	mb->head = NULL;
	pthread_mutex_unlock(&mb->mu);
	while (list != NULL) {
		struct api_write_job *j = list;
		list = j->next;
		if (j->d != NULL) {
			const char *why = NULL;
			int rc = j->answer(j->arg, j->rc, http_deferred_body(j->d), &why);
			http_deferred_answer(j->d, rc, NULL, why);
		}
		job_free(j);
	}
}

/* On the writer thread: hand the result to the worker, or drop it if the worker is gone. */
static void written(int rc, void *arg)
{
	struct api_write_job *j = arg;
	struct api_mailbox *mb = j->mb;
	j->rc = rc;
	pthread_mutex_lock(&mb->mu);
	if (mb->alive) {
		j->next = mb->head;
		mb->head = j;
		event_active(mb->ev, EV_TIMEOUT, 0);
		j = NULL;
	}
	pthread_mutex_unlock(&mb->mu);
	if (j != NULL)
		job_free(j);
	mailbox_unref(mb);
}

/* On the writer thread, perhaps more than once (store.h): the handler's write. */
static int job_write(struct store_txn *t, void *arg)
{
	struct api_write_job *j = arg;
	return j->fn(t, j->arg);
}

static void job_cancel(void *arg)
{
	((struct api_write_job *)arg)->d = NULL; /* the write goes on; nobody is told */
}

struct api_worker *api_worker_get(struct http_ctx *ctx)
{
	struct api_worker *w = *ctx->worker_slot;
	struct api_mailbox *mb;
	if (w != NULL)
		return w;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	if ((mb = w->mb = calloc(1, sizeof(*mb))) == NULL ||
	    (mb->ev = event_new(ctx->base, -1, 0, on_mail, mb)) == NULL) {
		free(mb);
		free(w);
		return NULL;
	}
	pthread_mutex_init(&mb->mu, NULL);
	mb->alive = 1;
	mb->refs = 1;
	*ctx->worker_slot = w;
	return w;
}

void api_worker_free(void *slot)
{
	struct api_worker *w = slot;
	struct api_mailbox *mb = w->mb;
	struct api_write_job *list;
	pthread_mutex_lock(&mb->mu);
	mb->alive = 0;
	list = mb->head;
	mb->head = NULL;
	pthread_mutex_unlock(&mb->mu);
	while (list != NULL) { /* finished, never answered: their connections are gone */
		struct api_write_job *next = list->next;
		job_free(list);
		list = next;
	}
	event_free(mb->ev);
	mailbox_unref(mb);
	if (w->local != NULL)
		api_local_state_free(w->local);
	free(w);
}

int api_write_defer(struct http_ctx *ctx, uint64_t timeout_ms, store_write_fn fn,
                    api_write_answer_fn answer, api_write_free_fn free_fn, void *arg)
{
	struct api_worker *w = api_worker_get(ctx);
	struct api_write_job *j;
	int rc;
	if (w == NULL || (j = calloc(1, sizeof(*j))) == NULL) {
		if (free_fn != NULL)
			free_fn(arg);
		return HX_ENOMEM;
	}
	j->mb = w->mb;
	j->fn = fn;
	j->answer = answer;
	j->free_fn = free_fn;
	j->arg = arg;
	pthread_mutex_lock(&w->mb->mu);
	w->mb->refs++;
	pthread_mutex_unlock(&w->mb->mu);
	j->d = http_defer(ctx, timeout_ms, job_cancel, j);
	if ((rc = store_write_submit(ctx->store, job_write, written, j)) != HX_OK) {
		/* Not queued (store closing, read-only, out of memory): done is not called. */
		mailbox_unref(w->mb);
		http_deferred_answer(j->d, rc, NULL, NULL);
		job_free(j);
	}
	return HTTP_DEFERRED;
}
