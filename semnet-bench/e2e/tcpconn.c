/*
 * TCP connection-rate client and server for semnet-bench/e2e/run.sh (compiled at run time with
 * gcc, so every path is measured by the same binary).
 *
 *   tcpconn server PORT
 *   tcpconn client HOST PORT SECONDS [THREADS] [WARMUP_SECONDS]
 *
 * One connection = connect, the server accepts and writes one byte, the client reads it and
 * closes with SO_LINGER 0 (an RST: no TIME_WAIT on either side, so the ephemeral ports never run
 * out and no path pays for TIME_WAIT differently). The server sets SO_LINGER 0 as well and closes
 * its side when the client's RST (or EOF) arrives. The client counts connections that completed
 * the whole exchange inside the measured window (after WARMUP_SECONDS, default 1) and prints
 *
 *   conn_per_s=<rate> connections=<n> errors=<n> seconds=<s>
 *
 * An error (refused, timed out after 2 s, reset before the byte) is counted and the thread moves on.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void linger0(int fd) {
  struct linger l = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

static int server(int port) {
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  linger0(ls);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
  if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 4096)) {
    perror("tcpconn server");
    return 1;
  }
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  struct epoll_event evs[256];
  char buf[64];
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == ls) {
        int c;
        while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          linger0(c);
          if (write(c, "x", 1) != 1) {
            close(c);
            continue;
          }
          struct epoll_event ce = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
        }
      } else {
        /* The client closes first (RST or FIN): drain and close; anything else is ignored. */
        ssize_t r = read(fd, buf, sizeof buf);
        if (r <= 0 && !(r < 0 && errno == EAGAIN)) {
          close(fd); /* closing removes it from the epoll set */
        }
      }
    }
  }
}

static struct sockaddr_in target;
static double start, measure_from, until;
static atomic_long done, errors;

static void *client_thread(void *arg) {
  (void)arg;
  struct timeval tmo = {2, 0};
  char b;
  while (now() < until) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
      atomic_fetch_add(&errors, 1);
      usleep(1000);
      continue;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof tmo);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof tmo);
    linger0(fd);
    int ok = connect(fd, (struct sockaddr *)&target, sizeof target) == 0 && read(fd, &b, 1) == 1;
    close(fd);
    double t = now();
    if (t >= measure_from && t < until) {
      atomic_fetch_add(ok ? &done : &errors, 1);
    }
  }
  return NULL;
}

static int client(const char *host, int port, double secs, int threads, double warmup) {
  target.sin_family = AF_INET;
  target.sin_port = htons(port);
  if (inet_pton(AF_INET, host, &target.sin_addr) != 1) {
    fprintf(stderr, "tcpconn: bad IPv4 address %s\n", host);
    return 2;
  }
  start = now();
  measure_from = start + warmup;
  until = measure_from + secs;
  pthread_t t[64];
  if (threads < 1 || threads > 64) {
    threads = 4;
  }
  for (int i = 0; i < threads; i++) {
    pthread_create(&t[i], NULL, client_thread, NULL);
  }
  for (int i = 0; i < threads; i++) {
    pthread_join(t[i], NULL);
  }
  long n = atomic_load(&done);
  printf("conn_per_s=%.1f connections=%ld errors=%ld seconds=%.3f\n", n / secs, n, atomic_load(&errors), secs);
  return n > 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  if (argc == 3 && !strcmp(argv[1], "server")) {
    return server(atoi(argv[2]));
  }
  if (argc >= 5 && !strcmp(argv[1], "client")) {
    return client(argv[2], atoi(argv[3]), atof(argv[4]), argc > 5 ? atoi(argv[5]) : 4,
                  argc > 6 ? atof(argv[6]) : 1.0);
  }
  fprintf(stderr, "usage: tcpconn server PORT | tcpconn client HOST PORT SECONDS [THREADS] [WARMUP]\n");
  return 2;
}
