/* vraw: a process that holds raw sockets, what a sniffer or a covert
 * channel opens: socket(AF_PACKET, SOCK_RAW) (every frame on every
 * interface) and socket(AF_INET, SOCK_RAW, IPPROTO_ICMP). As root (the
 * initramfs's /init) both open. It prints the descriptors and the TSC
 * right after the second opened (the test measures the IDS's raw-socket
 * report from there), holds them 300 ms of the guest's monotonic time and
 * exits. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

int main(void)
{
    setvbuf(stdout, 0, _IONBF, 0);
    int pk = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    int pk_err = errno;
    int ic = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    int ic_err = errno;
    unsigned long long tsc = __rdtsc();
    if (pk < 0 || ic < 0) {
        printf("VIGIL-PROG vraw failed: packet %d (%s) raw-icmp %d (%s)\n", pk, pk < 0 ? strerror(pk_err) : "ok",
               ic, ic < 0 ? strerror(ic_err) : "ok");
        return 1;
    }
    printf("VIGIL-PROG vraw pid %d holds packet fd %d raw-icmp fd %d tsc %llu\n", (int)getpid(), pk, ic, tsc);
    struct timespec z = { 0, 300000000 };
    nanosleep(&z, 0);
    close(pk);
    close(ic);
    printf("VIGIL-PROG vraw done\n");
    return 0;
}
