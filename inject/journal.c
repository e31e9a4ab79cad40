// SPDX-License-Identifier: GPL-2.0-only
/* Write-ahead journal: fsync'd records of runs, faults and labs; status and recover read them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <sys/stat.h>

#include "inject/injector.h"
#include "inject/journal.h"
#include "inject/log.h"
#include "inject/target.h"

static char *state_dir_override;

struct fl_journal {
	char *dir;
	char *run_id;
	json_t *run;
	int lockfd;
};

void fl_state_dir_set(const char *dir)
{
	free(state_dir_override);
	state_dir_override = dir ? strdup(dir) : NULL;
}

const char *fl_state_dir(void)
{
	const char *e;

	if (state_dir_override)
		return state_dir_override;
	e = getenv("FAULTLINE_STATE_DIR");
	if (e && *e)
		return e;
	return FL_STATE_DIR_DEFAULT;
}

int fl_state_dir_prepare(char **ret_reason)
{
	_cleanup_free_ char *runs = NULL, *probe = NULL;
	const char *dir = fl_state_dir();
	int r;

	if (asprintf(&runs, "%s/runs", dir) < 0)
		return -ENOMEM;
	r = fl_mkdir_p(runs, 0700);
	if (r < 0)
		goto fail;
	if (asprintf(&probe, "%s/.write-test", runs) < 0)
		return -ENOMEM;
	r = fl_write_file_atomic(probe, "", 0, 0600);
	if (r < 0)
		goto fail;
	unlink(probe);
	return 0;
fail:
	if (asprintf(ret_reason, "state directory '%s' is not writable: %s", dir, strerror(-r)) < 0)
		*ret_reason = NULL;
	return r;
}

static int write_json(const char *dir, const char *file, json_t *obj)
{
	_cleanup_free_ char *path = NULL, *text = NULL;

	if (asprintf(&path, "%s/%s", dir, file) < 0)
		return -ENOMEM;
	text = json_dumps(obj, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text)
		return -ENOMEM;
	return fl_write_file_atomic(path, text, strlen(text), 0600);
}

static json_t *read_json(const char *dir, const char *file)
{
	_cleanup_free_ char *path = NULL;
	json_error_t err;

	if (asprintf(&path, "%s/%s", dir, file) < 0)
		return NULL;
	return json_load_file(path, 0, &err);
}

int fl_journal_create(const char *run_id, const char *kind, const char *scenario,
		      const char *name, struct fl_journal **ret)
{
	_cleanup_free_ char *lock = NULL;
	struct fl_journal *j;
	uint64_t st = 0;
	int r;

	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->lockfd = -1;
	if (asprintf(&j->dir, "%s/runs/%s", fl_state_dir(), run_id) < 0 ||
	    !(j->run_id = strdup(run_id))) {
		r = -ENOMEM;
		goto fail;
	}
	r = fl_mkdir_p(j->dir, 0700);
	if (r < 0)
		goto fail;
	if (asprintf(&lock, "%s/lock", j->dir) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	/* the owner holds this lock for as long as it lives: liveness without pid games */
	j->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (j->lockfd < 0 || flock(j->lockfd, LOCK_EX | LOCK_NB) < 0) {
		r = -errno;
		goto fail;
	}
	fl_proc_starttime(getpid(), &st);
	j->run = json_pack("{s:s, s:s, s:s?, s:s?, s:i, s:I, s:I}", "id", run_id, "kind", kind,
			   "scenario", scenario, "name", name, "owner", (int)getpid(),
			   "owner_starttime", (json_int_t)st, "started",
			   (json_int_t)fl_realtime_ns());
	if (!j->run) {
		r = -ENOMEM;
		goto fail;
	}
	r = write_json(j->dir, "run.json", j->run);
	if (r < 0)
		goto fail;
	*ret = j;
	return 0;
fail:
	fl_journal_close(j);
	return r;
}

struct fl_journal *fl_journal_close(struct fl_journal *j)
{
	if (!j)
		return NULL;
	if (j->lockfd >= 0)
		close(j->lockfd);
	json_decref(j->run);
	free(j->dir);
	free(j->run_id);
	free(j);
	return NULL;
}

int fl_journal_finish(struct fl_journal *j)
{
	int r = fl_rm_rf(j->dir);

	fl_journal_close(j);
	return r;
}

const char *fl_journal_dir(const struct fl_journal *j)
{
	return j->dir;
}

const char *fl_journal_run_id(const struct fl_journal *j)
{
	return j->run_id;
}

int fl_journal_set_run(struct fl_journal *j, const char *key, json_t *value)
{
	json_object_set_new(j->run, key, value);
	return write_json(j->dir, "run.json", j->run);
}

static int fault_file(const char *fault_id, char *buf, size_t len)
{
	/* fault ids are our own [a-z0-9.-] names, never user paths */
	if (strchr(fault_id, '/'))
		return -EINVAL;
	snprintf(buf, len, "fault-%s.json", fault_id);
	return 0;
}

int fl_journal_fault_plan(struct fl_journal *j, const char *fault_id, const char *fault_name,
			  const char *kind, const char *backend, json_t *objects,
			  uint64_t lease_expiry_ns)
{
	char file[256];
	json_t *rec;
	int r = fault_file(fault_id, file, sizeof(file));

	if (r < 0)
		return r;
	rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:s, s:I, s:I}", "run", j->run_id, "id",
			fault_id, "name", fault_name, "kind", kind, "backend", backend, "objects",
			objects, "state", "planned", "lease_expiry", (json_int_t)lease_expiry_ns,
			"planned_at", (json_int_t)fl_realtime_ns());
	if (!rec)
		return -ENOMEM;
	r = write_json(j->dir, file, rec);
	json_decref(rec);
	return r;
}

int fl_journal_fault_state(struct fl_journal *j, const char *fault_id, const char *state,
			   json_t *extra)
{
	char file[256];
	json_t *rec;
	int r = fault_file(fault_id, file, sizeof(file));

	if (r < 0) {
		json_decref(extra);
		return r;
	}
	rec = read_json(j->dir, file);
	if (!rec) {
		json_decref(extra);
		return -ENOENT;
	}
	json_object_set_new(rec, "state", json_string(state));
	if (extra)
		json_object_update(rec, extra);
	json_decref(extra);
	r = write_json(j->dir, file, rec);
	json_decref(rec);
	return r;
}

int fl_journal_lab(struct fl_journal *j, json_t *lab)
{
	int r = write_json(j->dir, "lab.json", lab);

	json_decref(lab);
	return r;
}

/* --- reading ------------------------------------------------------------------------------ */

static bool run_alive(const char *dir)
{
	_cleanup_free_ char *lock = NULL;
	_cleanup_close_ int fd = -1;

	if (asprintf(&lock, "%s/lock", dir) < 0)
		return false;
	fd = open(lock, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK;
	return false;
}

static void run_info_clear(struct fl_run_info *i);

static int cmp_fault(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_run(const char *runs, const char *id, struct fl_run_info *info)
{
	_cleanup_free_ char *dir = NULL;
	char **names = NULL;
	size_t n = 0;
	DIR *d;
	struct dirent *de;

	if (asprintf(&dir, "%s/%s", runs, id) < 0)
		return -ENOMEM;
	*info = (struct fl_run_info){ 0 };
	info->run = read_json(dir, "run.json");
	if (!info->run)
		return -ENOENT;
	info->id = strdup(id);
	info->faults = json_array();
	info->lab = read_json(dir, "lab.json");
	info->alive = run_alive(dir);
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (strncmp(de->d_name, "fault-", 6) != 0 || l < 11 ||
		    strcmp(de->d_name + l - 5, ".json") != 0)
			continue;
		if (fl_strv_push(&names, de->d_name) < 0)
			break;
		n++;
	}
	closedir(d);
	if (names)
		qsort(names, n, sizeof(char *), cmp_fault);
	for (size_t i = 0; i < n; i++) {
		json_t *f = read_json(dir, names[i]);
		if (f)
			json_array_append_new(info->faults, f);
	}
	fl_strv_free(names);
	return 0;
}

int fl_journal_list(struct fl_run_info **ret, size_t *ret_n)
{
	_cleanup_free_ char *runs = NULL;
	struct fl_run_info *v = NULL;
	size_t n = 0;
	DIR *d;
	struct dirent *de;

	if (asprintf(&runs, "%s/runs", fl_state_dir()) < 0)
		return -ENOMEM;
	d = opendir(runs);
	if (!d) {
		*ret = NULL;
		*ret_n = 0;
		return errno == ENOENT ? 0 : -errno;
	}
	while ((de = readdir(d))) {
		struct fl_run_info info;
		if (de->d_name[0] == '.')
			continue;
		if (load_run(runs, de->d_name, &info) < 0) {
			run_info_clear(&info);
			continue;
		}
		struct fl_run_info *nv = realloc(v, (n + 1) * sizeof(*nv));
		if (!nv) {
			run_info_clear(&info);
			break;
		}
		v = nv;
		v[n++] = info;
	}
	closedir(d);
	*ret = v;
	*ret_n = n;
	return 0;
}

static void run_info_clear(struct fl_run_info *i)
{
	free(i->id);
	json_decref(i->run);
	json_decref(i->faults);
	json_decref(i->lab);
}

void fl_run_info_free(struct fl_run_info *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		run_info_clear(&v[i]);
	free(v);
}

/* --- recover ------------------------------------------------------------------------------ */

static void report_add(json_t *report, const char *object, const char *error)
{
	json_array_append_new(report, json_pack("{s:s, s:s}", "object", object, "error", error));
}

/* Ask a live owner to stop and wait (on its pidfd) until it exits or grace runs out. */
static void stop_owner(json_t *run, uint64_t grace_ns)
{
	pid_t pid = (pid_t)json_integer_value(json_object_get(run, "owner"));
	uint64_t st = (uint64_t)json_integer_value(json_object_get(run, "owner_starttime"));
	_cleanup_close_ int fd = -1;
	struct pollfd pfd;

	if (pid <= 1 || pid == getpid())
		return;
	fd = fl_pidfd_open_verified(pid, st);
	if (fd < 0)
		return;
	if (pidfd_send_signal(fd, SIGTERM, NULL, 0) < 0)
		return;
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&pfd, 1, (int)(grace_ns / NSEC_PER_MSEC)) == 0)
		log_warn("run owner pid %d did not stop within the grace period, taking over", pid);
}

static int revert_fault_record(const char *dir, json_t *f, json_t *report)
{
	const char *state = json_string_value(json_object_get(f, "state"));
	const char *kind = json_string_value(json_object_get(f, "kind"));
	const char *bname = json_string_value(json_object_get(f, "backend"));
	const char *id = json_string_value(json_object_get(f, "id"));
	const struct fl_backend *b;
	_cleanup_free_ char *reason = NULL;
	char file[256], obj[300];
	int r;

	if (!id || (state && strcmp(state, "reverted") == 0))
		return 0;
	snprintf(obj, sizeof(obj), "fault %s", id);
	b = fl_backend_find_named(kind, bname);
	if (!b) {
		report_add(report, obj, "no such backend in this faultline build");
		return -ENOENT;
	}
	r = b->revert(json_object_get(f, "objects"), &reason);
	if (r < 0) {
		report_add(report, obj, reason ? reason : strerror(-r));
		return r;
	}
	json_object_set_new(f, "state", json_string("reverted"));
	json_object_set_new(f, "reverted_by", json_string("recover"));
	if (fault_file(id, file, sizeof(file)) == 0)
		write_json(dir, file, f);
	return 0;
}

static int recover_run(const char *runs, const char *id, const char *only_fault, uint64_t grace_ns,
		       json_t *report)
{
	_cleanup_free_ char *dir = NULL, *lock = NULL;
	_cleanup_close_ int lockfd = -1;
	struct fl_run_info info;
	json_t *f;
	size_t i;
	int r = 0, k;

	if (asprintf(&dir, "%s/%s", runs, id) < 0 || asprintf(&lock, "%s/lock", dir) < 0)
		return -ENOMEM;
	k = load_run(runs, id, &info);
	if (k < 0) {
		run_info_clear(&info);
		/* a directory without run.json: a run that died while being created */
		return fl_rm_rf(dir);
	}
	if (info.alive && !only_fault) {
		stop_owner(info.run, grace_ns);
		run_info_clear(&info);
		if (access(dir, F_OK) < 0)
			return 0; /* the owner reverted everything and removed its records */
		k = load_run(runs, id, &info);
		if (k < 0) {
			run_info_clear(&info);
			return fl_rm_rf(dir);
		}
	}
	lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (!only_fault && (lockfd < 0 || flock(lockfd, LOCK_EX | LOCK_NB) < 0)) {
		report_add(report, id, "the run is still alive and holds its lock");
		run_info_clear(&info);
		return -EBUSY;
	}
	json_array_foreach(info.faults, i, f) {
		const char *name = json_string_value(json_object_get(f, "name"));
		const char *fid = json_string_value(json_object_get(f, "id"));
		if (only_fault && !(name && strcmp(name, only_fault) == 0) &&
		    !(fid && strcmp(fid, only_fault) == 0))
			continue;
		k = revert_fault_record(dir, f, report);
		if (k < 0 && !r)
			r = k;
	}
	if (!only_fault) {
		if (info.lab) {
			k = fl_lab_destroy_recorded(info.lab, report);
			if (k < 0 && !r)
				r = k;
		}
		if (r == 0)
			r = fl_rm_rf(dir);
	}
	run_info_clear(&info);
	return r;
}

int fl_journal_recover(const char *run_or_fault_id, uint64_t grace_ns, json_t **ret_report)
{
	_cleanup_free_ char *runs = NULL, *id = NULL;
	json_auto_t *report = json_array();
	const char *fault = NULL;
	int r = 0;

	if (asprintf(&runs, "%s/runs", fl_state_dir()) < 0)
		return -ENOMEM;
	if (run_or_fault_id) {
		char *slash;
		id = strdup(run_or_fault_id);
		if (!id)
			return -ENOMEM;
		slash = strchr(id, '/');
		if (slash) {
			*slash = '\0';
			fault = slash + 1;
		}
		if (!*id || strchr(fault ? fault : "", '/') || id[0] == '.')
			return -EINVAL;
		{
			_cleanup_free_ char *dir = NULL;
			if (asprintf(&dir, "%s/%s", runs, id) < 0)
				return -ENOMEM;
			if (access(dir, F_OK) < 0)
				return -ENOENT;
		}
		r = recover_run(runs, id, fault, grace_ns, report);
	} else {
		DIR *d = opendir(runs);
		struct dirent *de;
		if (d) {
			while ((de = readdir(d))) {
				if (de->d_name[0] == '.')
					continue;
				int k = recover_run(runs, de->d_name, NULL, grace_ns, report);
				if (k < 0 && !r)
					r = k;
			}
			closedir(d);
		}
	}
	if (ret_report)
		*ret_report = json_incref(report);
	return r;
}
