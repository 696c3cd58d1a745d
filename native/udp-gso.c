/*
 * UDP segmentation offload (Linux UDP_SEGMENT, kernel >= 4.18) for the
 * network worker: one sendmmsg() hands the kernel a run of equal-size packets
 * (the last may be shorter) for every destination at once, where node:dgram
 * makes one sendmsg() per packet per destination. The packets stay whole UDP
 * datagrams on the wire; only the syscalls are batched.
 *
 * sendSegments(fd, segmentBytes, parts, destinations) -> number
 *   fd            the dgram socket's file descriptor (non-blocking)
 *   segmentBytes  bytes of every packet but the last (the UDP_SEGMENT size)
 *   parts         Uint8Array[]: the packets' bytes back to back, as views
 *   destinations  Uint32Array [ipv4 (host order), port, ipv4, port, ...]
 * Returns how many destinations were sent the whole run (0..n), or -errno
 * when the first one failed (EAGAIN: the send buffer is full; EIO/EINVAL: the
 * kernel or device refuses GSO). The caller sends the rest another way.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>
#include <node_api.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

#define PARTS_MAX 512
#define DESTINATIONS_MAX 64

static napi_value fail(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static napi_value send_segments(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4) return fail(env, "sendSegments(fd, segmentBytes, parts, destinations)");
  int32_t fd, segment;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) return fail(env, "fd: a file descriptor");
  if (napi_get_value_int32(env, argv[1], &segment) != napi_ok || segment <= 0 || segment > 65507) return fail(env, "segmentBytes: 1..65507");

  uint32_t count;
  if (napi_get_array_length(env, argv[2], &count) != napi_ok || count == 0 || count > PARTS_MAX) return fail(env, "parts: an array of 1..512 Uint8Arrays");
  struct iovec iov[PARTS_MAX];
  size_t total = 0;
  for (uint32_t i = 0; i < count; i++) {
    napi_value part;
    napi_typedarray_type type;
    size_t length;
    void *data;
    napi_value buffer;
    size_t offset;
    if (napi_get_element(env, argv[2], i, &part) != napi_ok
        || napi_get_typedarray_info(env, part, &type, &length, &data, &buffer, &offset) != napi_ok
        || type != napi_uint8_array) return fail(env, "parts: Uint8Arrays only");
    iov[i].iov_base = data;
    iov[i].iov_len = length;
    total += length;
  }
  if (total > 65507) return fail(env, "parts: at most 65507 bytes in all (one UDP payload)");

  napi_typedarray_type type;
  size_t length;
  void *data;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, argv[3], &type, &length, &data, &buffer, &offset) != napi_ok
      || type != napi_uint32_array || length == 0 || length % 2 != 0 || length / 2 > DESTINATIONS_MAX) {
    return fail(env, "destinations: a Uint32Array of 1..64 (ipv4, port) pairs");
  }
  const uint32_t *pairs = data;
  size_t destinations = length / 2;

  struct sockaddr_in addrs[DESTINATIONS_MAX];
  struct mmsghdr messages[DESTINATIONS_MAX];
  union { char buf[CMSG_SPACE(sizeof(uint16_t))]; struct cmsghdr align; } control[DESTINATIONS_MAX];
  memset(messages, 0, sizeof(struct mmsghdr) * destinations);
  for (size_t d = 0; d < destinations; d++) {
    memset(&addrs[d], 0, sizeof addrs[d]);
    addrs[d].sin_family = AF_INET;
    addrs[d].sin_addr.s_addr = htonl(pairs[2 * d]);
    addrs[d].sin_port = htons((uint16_t)pairs[2 * d + 1]);
    struct msghdr *m = &messages[d].msg_hdr;
    m->msg_name = &addrs[d];
    m->msg_namelen = sizeof addrs[d];
    m->msg_iov = iov;
    m->msg_iovlen = count;
    if (total > (size_t)segment) {
      memset(&control[d], 0, sizeof control[d]);
      m->msg_control = control[d].buf;
      m->msg_controllen = sizeof control[d].buf;
      struct cmsghdr *c = CMSG_FIRSTHDR(m);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      uint16_t size = (uint16_t)segment;
      memcpy(CMSG_DATA(c), &size, sizeof size);
    }
  }
  int sent;
  do sent = sendmmsg(fd, messages, (unsigned)destinations, MSG_DONTWAIT);
  while (sent < 0 && errno == EINTR);
  napi_value result;
  napi_create_int32(env, sent < 0 ? -errno : sent, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "sendSegments", NAPI_AUTO_LENGTH, send_segments, NULL, &fn);
  napi_set_named_property(env, exports, "sendSegments", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
