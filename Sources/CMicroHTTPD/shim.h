// GNU libmicrohttpd (Debian's libmicrohttpd-dev), plus a shim: MHD_start_daemon and
// MHD_get_daemon_info are variadic, which Swift cannot call, and a request body arrives in chunks
// over several callbacks. The shim starts the daemon (a few polling threads on epoll/poll, idle
// connections cost no thread), gathers each body up to a size limit and hands one complete request
// at a time to a single Swift handler, which may suspend the connection and answer from another thread.
// Also the server process's one malloc setting (glibc only).
#ifndef SAM2_CMICROHTTPD_SHIM_H
#define SAM2_CMICROHTTPD_SHIM_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/socket.h>
#include <microhttpd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

/// Makes every thread allocate from one malloc arena (glibc; elsewhere nothing). A server runs the
/// model on whichever thread takes a request or a tracking job, and glibc would keep each such
/// thread's freed temporaries — hundreds of MB for a full-size model — in an arena of its own.
static inline void sam2_single_malloc_arena(void) {
#if defined(__GLIBC__) && defined(M_ARENA_MAX)
    mallopt(M_ARENA_MAX, 1);
#endif
}

/// One complete request. `body_too_large` is set (and `body` NULL) when the declared or received
/// body exceeds the daemon's limit; the handler must still answer (413).
typedef struct sam2_http_request {
    struct MHD_Connection *connection;
    const char *method;
    const char *path;
    const unsigned char *body;
    size_t body_length;
    int body_too_large;
} sam2_http_request;

/// The handler answers by calling sam2_http_respond exactly once and returns its result, or calls
/// sam2_http_suspend, returns MHD_YES and later, from any thread, calls sam2_http_respond and then
/// sam2_http_resume. Everything in the request is valid only during the call.
typedef enum MHD_Result (*sam2_http_handler)(void *context, const sam2_http_request *request);

typedef struct sam2_http_daemon {
    struct MHD_Daemon *daemon;
    sam2_http_handler handler;
    void *context;
    size_t max_body;
} sam2_http_daemon;

/// Per-request state kept between the callbacks of one request.
typedef struct sam2_http_body {
    unsigned char *data;
    size_t length;
    size_t capacity;
    int too_large;
} sam2_http_body;

/// Queues a response with a body (copied), a content type and an optional extra header.
static inline enum MHD_Result sam2_http_respond(struct MHD_Connection *connection, unsigned int status,
                                                const char *content_type, const void *body, size_t length,
                                                const char *header_name, const char *header_value) {
    struct MHD_Response *response = MHD_create_response_from_buffer(length, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (response == NULL) return MHD_NO;
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
    if (header_name != NULL && header_value != NULL) MHD_add_response_header(response, header_name, header_value);
    enum MHD_Result result = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return result;
}

/// Where sam2_http_values collects names and values.
typedef struct sam2_http_pairs {
    const char **names;
    const char **values;
    size_t capacity;
    size_t count;
} sam2_http_pairs;

static inline enum MHD_Result sam2_http_collect(void *cls, enum MHD_ValueKind kind, const char *name,
                                                const char *value) {
    (void)kind;
    sam2_http_pairs *pairs = (sam2_http_pairs *)cls;
    if (pairs->count < pairs->capacity) {
        pairs->names[pairs->count] = name;
        pairs->values[pairs->count] = value != NULL ? value : "";
    }
    pairs->count++;
    return MHD_YES;
}

/// The request's headers (query == 0) or query arguments (query == 1, URL-decoded by libmicrohttpd)
/// in order, at most `capacity` of them into names/values; returns how many there are (call again with
/// more room when that is more). The strings live as long as the request.
static inline size_t sam2_http_values(struct MHD_Connection *connection, int query, const char **names,
                                      const char **values, size_t capacity) {
    sam2_http_pairs pairs = {names, values, capacity, 0};
    MHD_get_connection_values(connection, query ? MHD_GET_ARGUMENT_KIND : MHD_HEADER_KIND, sam2_http_collect,
                              &pairs);
    return pairs.count;
}

/// MHD_YES (an enum constant that Swift does not import by name).
static inline enum MHD_Result sam2_http_yes(void) {
    return MHD_YES;
}

/// Whether the client of a suspended connection has closed its end or the socket failed (a peek at
/// the socket, without waiting): the work done for it may stop.
static inline int sam2_http_client_gone(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (info == NULL) return 0;
    char byte;
    ssize_t n = recv(info->connect_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/// Takes the connection out of the polling loop until sam2_http_resume (only from the handler).
static inline void sam2_http_suspend(struct MHD_Connection *connection) {
    MHD_suspend_connection(connection);
}

/// Puts a suspended connection back into the polling loop; its queued response is then sent. The
/// connection may be gone as soon as this returns.
static inline void sam2_http_resume(struct MHD_Connection *connection) {
    MHD_resume_connection(connection);
}

static inline enum MHD_Result sam2_http_access(void *cls, struct MHD_Connection *connection, const char *url,
                                               const char *method, const char *version, const char *upload_data,
                                               size_t *upload_data_size, void **con_cls) {
    (void)version;
    sam2_http_daemon *d = (sam2_http_daemon *)cls;
    sam2_http_body *body = (sam2_http_body *)*con_cls;
    if (body == NULL) {
        // First call: headers only. A declared length over the limit is refused before any upload.
        body = (sam2_http_body *)calloc(1, sizeof(sam2_http_body));
        if (body == NULL) return MHD_NO;
        *con_cls = body;
        const char *declared = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (declared != NULL && strtoull(declared, NULL, 10) > d->max_body) {
            body->too_large = 1;
            sam2_http_request request = {connection, method, url, NULL, 0, 1};
            return d->handler(d->context, &request);
        }
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (body->too_large) return MHD_YES;
        if (body->length + n > d->max_body) {
            body->too_large = 1;
            free(body->data);
            body->data = NULL;
            body->length = 0;
            return MHD_YES;
        }
        if (body->length + n > body->capacity) {
            size_t capacity = body->capacity ? body->capacity : 65536;
            while (capacity < body->length + n) capacity *= 2;
            if (capacity > d->max_body) capacity = d->max_body;
            unsigned char *grown = (unsigned char *)realloc(body->data, capacity);
            if (grown == NULL) return MHD_NO;
            body->data = grown;
            body->capacity = capacity;
        }
        memcpy(body->data + body->length, upload_data, n);
        body->length += n;
        return MHD_YES;
    }
    sam2_http_request request = {connection, method, url, body->too_large ? NULL : body->data,
                                 body->too_large ? 0 : body->length, body->too_large};
    return d->handler(d->context, &request);
}

static inline void sam2_http_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                                       enum MHD_RequestTerminationCode toe) {
    (void)cls; (void)connection; (void)toe;
    sam2_http_body *body = (sam2_http_body *)*con_cls;
    if (body != NULL) {
        free(body->data);
        free(body);
        *con_cls = NULL;
    }
}

/// Starts a daemon on `address` (IPv4 or IPv6, port inside; port 0 picks a free one): `threads`
/// polling threads (epoll on Linux) that read requests and write responses, while handlers run on
/// threads of their own through suspend/resume, so that an idle or slow connection holds no thread.
/// At most `connection_limit` connections (`per_address_limit` from one address, 0 for no such
/// limit), each closed after `timeout_seconds` without traffic and given `memory_limit` bytes for its
/// request line and headers. Returns 0, or -1 when libmicrohttpd cannot start (errno tells why).
static inline int sam2_http_start(sam2_http_daemon *d, const struct sockaddr *address, int ipv6,
                                  unsigned int connection_limit, unsigned int per_address_limit,
                                  unsigned int timeout_seconds, unsigned int threads, size_t memory_limit) {
    unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME;
    if (ipv6) flags |= MHD_USE_IPv6;
    d->daemon = MHD_start_daemon(flags, 0, NULL, NULL, sam2_http_access, d,
                                 MHD_OPTION_SOCK_ADDR, address,
                                 MHD_OPTION_THREAD_POOL_SIZE, threads,
                                 MHD_OPTION_CONNECTION_LIMIT, connection_limit,
                                 MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_address_limit,
                                 MHD_OPTION_CONNECTION_TIMEOUT, timeout_seconds,
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, memory_limit,
                                 MHD_OPTION_NOTIFY_COMPLETED, sam2_http_completed, NULL,
                                 MHD_OPTION_END);
    return d->daemon == NULL ? -1 : 0;
}

/// The port the daemon listens on.
static inline int sam2_http_port(sam2_http_daemon *d) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info == NULL ? -1 : (int)info->port;
}

static inline void sam2_http_stop(sam2_http_daemon *d) {
    if (d->daemon != NULL) MHD_stop_daemon(d->daemon);
    d->daemon = NULL;
}

#endif
