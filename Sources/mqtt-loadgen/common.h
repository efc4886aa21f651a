// mqtt-loadgen: a load generator and broker sink in C, so the tool measuring a proxy costs far less than the
// proxy (scripts/bench.sh reports the generator's own CPU next to the proxy's to show the headroom).
#ifndef MQTT_LOADGEN_COMMON_H
#define MQTT_LOADGEN_COMMON_H

#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>

#define LG_MAX_TARGETS 16

/// host:port pairs from a comma-separated list.
typedef struct {
    struct sockaddr_in addr[LG_MAX_TARGETS];
    int count;
} lg_targets;

/// What /proc says about a process: CPU time, context switches of all its threads, resident memory.
typedef struct {
    double cpu_seconds;
    double context_switches;
    double rss_bytes;
} lg_proc_sample;

/// Latency histogram: 1 µs buckets up to 100 ms, one overflow bucket.
#define LG_BUCKETS 100001
typedef struct {
    uint32_t *counts;
    uint64_t total;
} lg_histogram;

uint64_t lg_now_ns(void);
int lg_parse_targets(const char *list, lg_targets *out);
/// Raises the open-file soft limit to the hard limit; returns the new soft limit.
long lg_raise_nofile(void);
/// Samples `pid` (0: this process); returns 0 on success.
int lg_sample(int pid, lg_proc_sample *out);
/// CPU seconds this process has used (all threads).
double lg_self_cpu(void);

void lg_histogram_init(lg_histogram *h);
void lg_histogram_record(lg_histogram *h, uint64_t nanoseconds);
void lg_histogram_merge(lg_histogram *into, const lg_histogram *from);
/// The value in µs below which `fraction` of the samples fall.
double lg_histogram_percentile(const lg_histogram *h, double fraction);

/// Writes an MQTT CONNECT (clean session, keep-alive 60 s) with `client_id` for `level` 4 or 5; returns its size.
int lg_connect_packet(uint8_t *out, int capacity, const char *client_id, int level);

/// Starts the JSON line of a result (same shape as mqtt-bench's: scenario, label, metrics, settings).
void lg_json_begin(FILE *out, const char *scenario, const char *label);
void lg_json_metric(FILE *out, const char *name, double value);
void lg_json_settings(FILE *out);
void lg_json_setting(FILE *out, const char *name, const char *value);
void lg_json_end(FILE *out);

int lg_sink_main(int argc, char **argv);
int lg_connect_main(int argc, char **argv);

#endif
