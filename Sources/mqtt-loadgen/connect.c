// `mqtt-loadgen connect --target HOST:PORT[,…] [options]`: connection setup rate. Each of `--threads` threads
// keeps its share of `--concurrency` connections in flight: TCP connect, CONNECT, wait for the CONNACK,
// DISCONNECT, close, next. With `--hold N` it first opens N sessions and keeps them open for the whole run
// (the proxy's RSS growth per held session is measured once they are up), so the connect rate is the rate
// while N are held. With `--pid P` the result has that process's CPU time, context switches and RSS from /proc
// over the measured window, per connection. One JSON line on stdout, shaped like mqtt-bench's results.
#include "common.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { SLOT_IDLE, SLOT_CONNECTING, SLOT_WAITING };

typedef struct {
    int fd;
    int state;
    uint64_t started;
    uint32_t got;
    uint8_t reply[8];
} slot;

typedef struct {
    int index;
    int slots;
    int level;
    const lg_targets *targets;
    uint64_t window_start, window_end;
    // Results.
    uint64_t completed, errors, refused, sequence;
    char first_error[128];
    lg_histogram latency;
} worker;

static void note_error(worker *w, const char *what, int code) {
    w->errors++;
    if (!w->first_error[0]) snprintf(w->first_error, sizeof w->first_error, "%s: %s", what, strerror(code));
}

/// Opens the next connection of slot `s`; returns -1 (and counts the error) when the socket call fails.
static int start(worker *w, int epoll, slot *s) {
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) { note_error(w, "socket", errno); s->state = SLOT_IDLE; return -1; }
    const struct sockaddr_in *to = &w->targets->addr[(w->sequence + (uint64_t)w->index) % (uint64_t)w->targets->count];
    s->started = lg_now_ns();
    s->got = 0;
    s->state = SLOT_CONNECTING;
    if (connect(s->fd, (const struct sockaddr *)to, sizeof *to) != 0 && errno != EINPROGRESS) {
        note_error(w, "connect", errno);
        close(s->fd);
        s->state = SLOT_IDLE;
        return -1;
    }
    struct epoll_event event = {.events = EPOLLOUT, .data.ptr = s};
    epoll_ctl(epoll, EPOLL_CTL_ADD, s->fd, &event);
    return 0;
}

static void finish(slot *s) {
    close(s->fd);
    s->fd = -1;
    s->state = SLOT_IDLE;
}

/// Advances slot `s` on an epoll event; returns 1 when its connection is over (success or failure).
static int step(worker *w, int epoll, slot *s, uint32_t events) {
    if (s->state == SLOT_CONNECTING) {
        int error = 0;
        socklen_t length = sizeof error;
        getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error) { note_error(w, "connect", error); return 1; }
        uint8_t packet[128];
        char id[64];
        snprintf(id, sizeof id, "lg-%d-%llu", w->index, (unsigned long long)w->sequence++);
        int size = lg_connect_packet(packet, sizeof packet, id, w->level);
        if (write(s->fd, packet, (size_t)size) != size) { note_error(w, "write CONNECT", errno); return 1; }
        s->state = SLOT_WAITING;
        struct epoll_event event = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = s};
        epoll_ctl(epoll, EPOLL_CTL_MOD, s->fd, &event);
        return 0;
    }
    ssize_t got = read(s->fd, s->reply + s->got, sizeof s->reply - s->got);
    if (got <= 0) {
        if (got < 0 && errno == EAGAIN && !(events & (EPOLLHUP | EPOLLERR))) return 0;
        note_error(w, "closed before CONNACK", got == 0 ? ECONNRESET : errno);
        return 1;
    }
    s->got += (uint32_t)got;
    if (s->got < 4) return 0;
    uint64_t now = lg_now_ns();
    if (s->reply[0] != 0x20 || s->reply[3] != 0) {
        w->refused++;
        if (!w->first_error[0]) snprintf(w->first_error, sizeof w->first_error, "CONNACK code 0x%02x", s->reply[3]);
    } else if (now >= w->window_start && now < w->window_end) {
        w->completed++;
        lg_histogram_record(&w->latency, now - s->started);
    }
    static const uint8_t disconnect[] = {0xE0, 0x00};
    if (write(s->fd, disconnect, sizeof disconnect)) {}
    return 1;
}

static void *run_worker(void *raw) {
    worker *w = raw;
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    slot *slots = calloc((size_t)w->slots, sizeof *slots);
    for (int i = 0; i < w->slots; i++) start(w, epoll, &slots[i]);
    struct epoll_event events[256];
    for (;;) {
        uint64_t now = lg_now_ns();
        int open = 0;
        for (int i = 0; i < w->slots; i++) {
            slot *s = &slots[i];
            if (s->state != SLOT_IDLE && now - s->started > 5000000000ull) {
                note_error(w, "no CONNACK within 5 s", ETIMEDOUT);
                finish(s);
            }
            // Refill slots whose start failed (after a pause, so a refusing target is not a busy loop).
            if (s->state == SLOT_IDLE && now < w->window_end) start(w, epoll, s);
            open += s->state != SLOT_IDLE;
        }
        if (now >= w->window_end && open == 0) break;
        int n = epoll_wait(epoll, events, 256, 10);
        for (int e = 0; e < n; e++) {
            slot *s = events[e].data.ptr;
            if (!step(w, epoll, s, events[e].events)) continue;
            finish(s);
            if (lg_now_ns() < w->window_end) start(w, epoll, s);
        }
        if (n == 0 && w->errors) usleep(1000);
    }
    close(epoll);
    free(slots);
    return NULL;
}

/// Opens `count` sessions (256 at a time) and leaves them open; returns how many got CONNACK 0.
static int hold_sessions(const lg_targets *targets, int count, int level, int **fds_out, int *refused) {
    int *fds = calloc((size_t)count, sizeof *fds);
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    int opened = 0, answered = 0, accepted = 0, in_flight = 0;
    uint64_t deadline = lg_now_ns() + 60000000000ull;
    *refused = 0;
    struct epoll_event events[256];
    while (answered < opened || opened < count) {
        while (opened < count && in_flight < 256) {
            int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            const struct sockaddr_in *to = &targets->addr[opened % targets->count];
            uint8_t packet[128];
            char id[64];
            snprintf(id, sizeof id, "held-%d", opened);
            int size = lg_connect_packet(packet, sizeof packet, id, level);
            if (fd < 0 || connect(fd, (const struct sockaddr *)to, sizeof *to) != 0
                || write(fd, packet, (size_t)size) != size)
            {
                if (fd >= 0) close(fd);
                fds[opened++] = -1;
                answered++;
                continue;
            }
            struct epoll_event event = {.events = EPOLLIN, .data.u32 = (uint32_t)opened};
            epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
            fds[opened++] = fd;
            in_flight++;
        }
        if (lg_now_ns() > deadline) break;
        int n = epoll_wait(epoll, events, 256, 1000);
        for (int e = 0; e < n; e++) {
            int fd = fds[events[e].data.u32];
            uint8_t reply[8];
            ssize_t got = read(fd, reply, sizeof reply);
            epoll_ctl(epoll, EPOLL_CTL_DEL, fd, NULL);
            in_flight--;
            answered++;
            if (got >= 4 && reply[0] == 0x20 && reply[3] == 0) {
                accepted++;
            } else {
                (*refused)++;
                close(fd);
                fds[events[e].data.u32] = -1;
            }
        }
    }
    close(epoll);
    *fds_out = fds;
    return accepted;
}

int lg_connect_main(int argc, char **argv) {
    const char *target = NULL, *label = "target";
    int threads = 2, concurrency = 32, hold = 0, pid = 0, level = 4;
    double duration = 4, warmup = 1;
    for (int i = 0; i + 1 < argc; i++) {
        if (!strcmp(argv[i], "--target")) target = argv[++i];
        else if (!strcmp(argv[i], "--label")) label = argv[++i];
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--concurrency")) concurrency = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--hold")) hold = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--pid")) pid = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--protocol-level")) level = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--duration")) duration = atof(argv[++i]);
        else if (!strcmp(argv[i], "--warmup")) warmup = atof(argv[++i]);
    }
    lg_targets targets;
    if (!target || lg_parse_targets(target, &targets) != 0 || threads < 1 || concurrency < threads) {
        fprintf(stderr, "usage: mqtt-loadgen connect --target HOST:PORT[,...] [--label L] [--threads N] "
                        "[--concurrency N] [--duration S] [--warmup S] [--hold N] [--pid PID] [--protocol-level 4|5]\n");
        return 2;
    }
    lg_raise_nofile();
    lg_proc_sample before_hold = {0}, after_hold = {0}, before = {0}, after = {0};
    int *held = NULL, refused_held = 0, held_count = 0;
    if (hold > 0) {
        if (pid) lg_sample(pid, &before_hold);
        held_count = hold_sessions(&targets, hold, level, &held, &refused_held);
        usleep(1000000); // let the proxy settle (its allocator, its sweeps) before reading its RSS
        if (pid) lg_sample(pid, &after_hold);
    }
    worker *workers = calloc((size_t)threads, sizeof *workers);
    pthread_t *ids = calloc((size_t)threads, sizeof *ids);
    uint64_t start = lg_now_ns();
    uint64_t window_start = start + (uint64_t)(warmup * 1e9), window_end = window_start + (uint64_t)(duration * 1e9);
    for (int t = 0; t < threads; t++) {
        worker *w = &workers[t];
        w->index = t;
        w->slots = concurrency / threads + (t < concurrency % threads);
        w->level = level;
        w->targets = &targets;
        w->window_start = window_start;
        w->window_end = window_end;
        lg_histogram_init(&w->latency);
        pthread_create(&ids[t], NULL, run_worker, w);
    }
    while (lg_now_ns() < window_start) usleep(1000);
    if (pid) lg_sample(pid, &before);
    double self_before = lg_self_cpu();
    while (lg_now_ns() < window_end) usleep(1000);
    if (pid) lg_sample(pid, &after);
    double self_after = lg_self_cpu();
    uint64_t completed = 0, errors = 0, refused = 0;
    const char *first_error = "";
    lg_histogram all;
    lg_histogram_init(&all);
    for (int t = 0; t < threads; t++) {
        pthread_join(ids[t], NULL);
        completed += workers[t].completed;
        errors += workers[t].errors;
        refused += workers[t].refused;
        if (!first_error[0]) first_error = workers[t].first_error;
        lg_histogram_merge(&all, &workers[t].latency);
    }
    lg_json_begin(stdout, hold > 0 ? "connect-held" : "connect", label);
    lg_json_metric(stdout, "rate", (double)completed / duration);
    lg_json_metric(stdout, "completed", (double)completed);
    lg_json_metric(stdout, "errors", (double)errors);
    lg_json_metric(stdout, "refused", (double)refused);
    lg_json_metric(stdout, "p50_us", lg_histogram_percentile(&all, 0.50));
    lg_json_metric(stdout, "p99_us", lg_histogram_percentile(&all, 0.99));
    lg_json_metric(stdout, "p999_us", lg_histogram_percentile(&all, 0.999));
    lg_json_metric(stdout, "bench_cpu_cores", (self_after - self_before) / duration);
    if (pid && completed > 0) {
        lg_json_metric(stdout, "target_cpu_cores", (after.cpu_seconds - before.cpu_seconds) / duration);
        lg_json_metric(stdout, "target_cpu_us_per_conn", (after.cpu_seconds - before.cpu_seconds) * 1e6 / (double)completed);
        lg_json_metric(stdout, "target_ctxsw_per_conn",
                       (after.context_switches - before.context_switches) / (double)completed);
    }
    if (hold > 0) {
        lg_json_metric(stdout, "held", held_count);
        lg_json_metric(stdout, "held_refused", refused_held);
        if (pid && held_count > 0)
            lg_json_metric(stdout, "rss_per_held_bytes", (after_hold.rss_bytes - before_hold.rss_bytes) / held_count);
    }
    lg_json_settings(stdout);
    char text[64];
    snprintf(text, sizeof text, "%d", concurrency);
    lg_json_setting(stdout, "parallel", text);
    snprintf(text, sizeof text, "%d", threads);
    lg_json_setting(stdout, "threads", text);
    snprintf(text, sizeof text, "%d", hold);
    lg_json_setting(stdout, "hold", text);
    snprintf(text, sizeof text, "%d", level);
    lg_json_setting(stdout, "protocol_level", text);
    if (first_error[0]) lg_json_setting(stdout, "first_error", first_error);
    lg_json_end(stdout);
    for (int i = 0; i < hold; i++) if (held && held[i] >= 0) close(held[i]);
    return 0;
}
