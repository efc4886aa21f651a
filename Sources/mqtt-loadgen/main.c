// mqtt-loadgen: `sink` (the brokers) and `connect` (the clients) of scripts/bench.sh's connection benchmarks.
#include "common.h"

#include <string.h>

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "sink")) return lg_sink_main(argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "connect")) return lg_connect_main(argc - 2, argv + 2);
    fprintf(stderr, "usage: mqtt-loadgen sink --listen HOST:PORT[,...] [--threads N]\n"
                    "       mqtt-loadgen connect --target HOST:PORT[,...] [--label L] [--threads N] [--concurrency N]\n"
                    "                            [--duration S] [--warmup S] [--hold N] [--pid PID] [--protocol-level 4|5]\n");
    return 2;
}
