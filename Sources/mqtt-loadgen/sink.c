// `mqtt-loadgen sink --listen HOST:PORT[,HOST:PORT…] [--threads N]`: the brokers of a benchmark. Answers every
#define _GNU_SOURCE
// CONNECT with a CONNACK (MQTT 3.1.1 or 5, after an optional PROXY v1/v2 header), PINGREQ with PINGRESP, drops
// everything else, and holds each connection until its peer closes it or sends DISCONNECT. Runs until killed.
#include "common.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
    int fd;
    int proxy_header_done;
    uint32_t skip;   // bytes of a packet too big to buffer that are still to come
    uint32_t length; // bytes in buf
    uint8_t buf[512];
} sink_conn;

typedef struct {
    lg_targets *listen;
} sink_thread_args;

static const uint8_t proxy_v2_signature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

/// Consumes a PROXY header at the start; returns 1 when done (or none), 0 when more bytes are needed.
static int skip_proxy_header(sink_conn *c, uint32_t *offset) {
    if (c->length >= 1 && c->buf[0] == 'P') {
        uint8_t *end = memmem(c->buf, c->length, "\r\n", 2);
        if (!end) return c->length < 108 ? 0 : 1;
        *offset = (uint32_t)(end - c->buf) + 2;
        return 1;
    }
    if (c->length >= 1 && c->buf[0] == 0x0D) {
        if (c->length < 16) return 0;
        if (memcmp(c->buf, proxy_v2_signature, 12) != 0) return 1;
        uint32_t total = 16u + ((uint32_t)c->buf[14] << 8 | c->buf[15]);
        if (c->length < total) return 0;
        *offset = total;
    }
    return 1;
}

/// Handles the whole packets in the buffer; returns -1 when the connection is to be closed.
static int handle(sink_conn *c) {
    uint32_t at = 0;
    if (!c->proxy_header_done) {
        if (!skip_proxy_header(c, &at)) return 0;
        c->proxy_header_done = 1;
    }
    while (at < c->length) {
        uint32_t remaining = 0, header = 1;
        int complete_length = 0;
        for (int shift = 0; at + header < c->length && header <= 4; shift += 7) {
            uint8_t byte = c->buf[at + header++];
            remaining |= (uint32_t)(byte & 0x7F) << shift;
            if (!(byte & 0x80)) { complete_length = 1; break; }
        }
        if (!complete_length) {
            if (header > 4) return -1;
            break;
        }
        uint32_t total = header + remaining;
        uint8_t type = c->buf[at] & 0xF0;
        if (at + total > c->length) {
            if (total <= sizeof c->buf) break;    // wait for the rest
            c->skip = at + total - c->length;      // too big to keep: drop it as it comes
            c->length = 0;
            return 0;
        }
        if (type == 0x10) {
            // CONNECT: the protocol level follows the protocol name.
            uint32_t name = at + header;
            uint32_t name_length = (uint32_t)c->buf[name] << 8 | c->buf[name + 1];
            uint8_t level = name + 2 + name_length < c->length ? c->buf[name + 2 + name_length] : 4;
            static const uint8_t v4[] = {0x20, 0x02, 0x00, 0x00}, v5[] = {0x20, 0x03, 0x00, 0x00, 0x00};
            if (level == 5 ? write(c->fd, v5, sizeof v5) : write(c->fd, v4, sizeof v4)) {}
        } else if (type == 0xC0) {
            static const uint8_t pong[] = {0xD0, 0x00};
            if (write(c->fd, pong, sizeof pong)) {}
        } else if (type == 0xE0) {
            return -1;
        }
        at += total;
    }
    memmove(c->buf, c->buf + at, c->length - at);
    c->length -= at;
    return 0;
}

static int listen_on(const struct sockaddr_in *addr) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)addr, sizeof *addr) != 0 || listen(fd, 4096) != 0) {
        perror("mqtt-loadgen sink: bind/listen");
        exit(1);
    }
    return fd;
}

static void *sink_thread(void *raw) {
    sink_thread_args *args = raw;
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    int listeners[LG_MAX_TARGETS];
    for (int i = 0; i < args->listen->count; i++) {
        listeners[i] = listen_on(&args->listen->addr[i]);
        // A listener's event data is a small integer; connections' are pointers.
        struct epoll_event event = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
        epoll_ctl(epoll, EPOLL_CTL_ADD, listeners[i], &event);
    }
    struct epoll_event events[256];
    for (;;) {
        int n = epoll_wait(epoll, events, 256, -1);
        for (int e = 0; e < n; e++) {
            if (events[e].data.u64 < LG_MAX_TARGETS) {
                int listener = listeners[events[e].data.u64];
                for (int k = 0; k < 64; k++) {
                    int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0) break;
                    sink_conn *c = calloc(1, sizeof *c);
                    c->fd = fd;
                    struct epoll_event event = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
                    epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
                }
                continue;
            }
            sink_conn *c = events[e].data.ptr;
            int close_it = 0;
            for (;;) {
                ssize_t got = read(c->fd, c->buf + c->length, sizeof c->buf - c->length);
                if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) { close_it = 1; break; }
                if (got < 0) break;
                uint32_t fresh = (uint32_t)got;
                if (c->skip) {
                    uint32_t dropped = fresh < c->skip ? fresh : c->skip;
                    c->skip -= dropped;
                    memmove(c->buf + c->length, c->buf + c->length + dropped, fresh - dropped);
                    fresh -= dropped;
                }
                c->length += fresh;
                if (handle(c) != 0) { close_it = 1; break; }
                if ((size_t)got < sizeof c->buf) break;
            }
            if (close_it) {
                close(c->fd); // also removes it from the epoll set
                free(c);
            }
        }
    }
    return NULL;
}

int lg_sink_main(int argc, char **argv) {
    const char *listen = NULL;
    int threads = 1;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--listen") && i + 1 < argc) listen = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    }
    lg_targets addresses;
    if (!listen || lg_parse_targets(listen, &addresses) != 0 || threads < 1) {
        fprintf(stderr, "usage: mqtt-loadgen sink --listen HOST:PORT[,HOST:PORT...] [--threads N]\n");
        return 2;
    }
    lg_raise_nofile();
    sink_thread_args args = {.listen = &addresses};
    pthread_t ids[64];
    for (int t = 0; t < threads && t < 64; t++) pthread_create(&ids[t], NULL, sink_thread, &args);
    fprintf(stderr, "mqtt-loadgen sink: listening on %s (%d threads)\n", listen, threads);
    pthread_join(ids[0], NULL);
    return 0;
}
