#include "common.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

uint64_t lg_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int lg_parse_targets(const char *list, lg_targets *out) {
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", list);
    out->count = 0;
    for (char *save = NULL, *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *colon = strrchr(item, ':');
        if (!colon || out->count == LG_MAX_TARGETS) return -1;
        *colon = 0;
        struct sockaddr_in *addr = &out->addr[out->count];
        memset(addr, 0, sizeof *addr);
        addr->sin_family = AF_INET;
        addr->sin_port = htons((uint16_t)atoi(colon + 1));
        if (inet_pton(AF_INET, item, &addr->sin_addr) != 1) return -1;
        out->count++;
    }
    return out->count > 0 ? 0 : -1;
}

long lg_raise_nofile(void) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
    return (long)limit.rlim_cur;
}

/// Reads "Name: value" from a /proc status file.
static double status_field(const char *path, const char *name) {
    FILE *file = fopen(path, "r");
    if (!file) return 0;
    char line[256];
    size_t length = strlen(name);
    double value = 0;
    while (fgets(line, sizeof line, file)) {
        if (strncmp(line, name, length) == 0 && line[length] == ':') {
            value = strtod(line + length + 1, NULL);
            break;
        }
    }
    fclose(file);
    return value;
}

int lg_sample(int pid, lg_proc_sample *out) {
    char path[128];
    if (pid == 0) pid = getpid();
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *file = fopen(path, "r");
    if (!file) return -1;
    char text[1024];
    size_t n = fread(text, 1, sizeof text - 1, file);
    fclose(file);
    text[n] = 0;
    // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th
    // and 13th after the closing parenthesis.
    char *rest = strrchr(text, ')');
    if (!rest) return -1;
    unsigned long long utime = 0, stime = 0;
    if (sscanf(rest + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2) return -1;
    out->cpu_seconds = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    out->rss_bytes = status_field(path, "VmRSS") * 1024;
    out->context_switches = 0;
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *tasks = opendir(path);
    if (tasks) {
        for (struct dirent *entry; (entry = readdir(tasks));) {
            if (entry->d_name[0] == '.') continue;
            char status[300];
            snprintf(status, sizeof status, "/proc/%d/task/%s/status", pid, entry->d_name);
            out->context_switches += status_field(status, "voluntary_ctxt_switches")
                + status_field(status, "nonvoluntary_ctxt_switches");
        }
        closedir(tasks);
    }
    return 0;
}

double lg_self_cpu(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + (double)usage.ru_stime.tv_sec
        + usage.ru_stime.tv_usec / 1e6;
}

void lg_histogram_init(lg_histogram *h) {
    h->counts = calloc(LG_BUCKETS, sizeof *h->counts);
    h->total = 0;
}

void lg_histogram_record(lg_histogram *h, uint64_t nanoseconds) {
    uint64_t micros = nanoseconds / 1000;
    h->counts[micros < LG_BUCKETS - 1 ? micros : LG_BUCKETS - 1]++;
    h->total++;
}

void lg_histogram_merge(lg_histogram *into, const lg_histogram *from) {
    for (int i = 0; i < LG_BUCKETS; i++) into->counts[i] += from->counts[i];
    into->total += from->total;
}

double lg_histogram_percentile(const lg_histogram *h, double fraction) {
    if (h->total == 0) return 0;
    uint64_t wanted = (uint64_t)(fraction * (double)h->total);
    uint64_t seen = 0;
    for (int i = 0; i < LG_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen > wanted) return i;
    }
    return LG_BUCKETS - 1;
}

int lg_connect_packet(uint8_t *out, int capacity, const char *client_id, int level) {
    int id_length = (int)strlen(client_id);
    // Variable header: protocol name, level, flags (clean session), keep-alive; MQTT 5 adds a property length 0.
    int variable = 2 + 4 + 1 + 1 + 2 + (level == 5 ? 1 : 0);
    int remaining = variable + 2 + id_length;
    if (remaining > 127 || remaining + 2 > capacity) return -1;
    int i = 0;
    out[i++] = 0x10;
    out[i++] = (uint8_t)remaining;
    out[i++] = 0;
    out[i++] = 4;
    memcpy(out + i, "MQTT", 4);
    i += 4;
    out[i++] = (uint8_t)level;
    out[i++] = 0x02;
    out[i++] = 0;
    out[i++] = 60;
    if (level == 5) out[i++] = 0;
    out[i++] = (uint8_t)(id_length >> 8);
    out[i++] = (uint8_t)id_length;
    memcpy(out + i, client_id, (size_t)id_length);
    return i + id_length;
}

static int json_first;

void lg_json_begin(FILE *out, const char *scenario, const char *label) {
    fprintf(out, "{\"scenario\":\"%s\",\"label\":\"%s\",\"metrics\":{", scenario, label);
    json_first = 1;
}

void lg_json_metric(FILE *out, const char *name, double value) {
    fprintf(out, "%s\"%s\":%.3f", json_first ? "" : ",", name, value);
    json_first = 0;
}

void lg_json_settings(FILE *out) {
    fprintf(out, "},\"settings\":{");
    json_first = 1;
}

void lg_json_setting(FILE *out, const char *name, const char *value) {
    fprintf(out, "%s\"%s\":\"", json_first ? "" : ",", name);
    for (const char *c = value; *c; c++) {
        if (*c == '"' || *c == '\\') fputc('\\', out);
        fputc((unsigned char)*c < 0x20 ? ' ' : *c, out);
    }
    fputc('"', out);
    json_first = 0;
}

void lg_json_end(FILE *out) {
    fprintf(out, "}}\n");
    fflush(out);
}
