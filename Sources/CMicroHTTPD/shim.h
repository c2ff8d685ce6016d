// GNU libmicrohttpd (Debian's libmicrohttpd-dev), plus a shim: MHD_start_daemon and
// MHD_get_daemon_info are variadic, which Swift cannot call, and a request body arrives in chunks
// over several callbacks. The shim starts the daemon (a thread per connection), gathers each body
// up to a size limit and hands one complete request at a time to a single Swift handler.
#ifndef SAM2_CMICROHTTPD_SHIM_H
#define SAM2_CMICROHTTPD_SHIM_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <microhttpd.h>

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

/// The handler answers by calling sam2_http_respond exactly once and returns its result.
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

/// A request header or a query argument (already URL-decoded by libmicrohttpd), or NULL.
static inline const char *sam2_http_header(struct MHD_Connection *connection, const char *name) {
    return MHD_lookup_connection_value(connection, MHD_HEADER_KIND, name);
}

static inline const char *sam2_http_query(struct MHD_Connection *connection, const char *name) {
    return MHD_lookup_connection_value(connection, MHD_GET_ARGUMENT_KIND, name);
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

/// Starts a daemon on `address` (IPv4 or IPv6, port inside; port 0 picks a free one) with a thread
/// per connection. Returns 0, or -1 when libmicrohttpd cannot bind (errno tells why).
static inline int sam2_http_start(sam2_http_daemon *d, const struct sockaddr *address, int ipv6,
                                  unsigned int connection_limit, unsigned int timeout_seconds) {
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
    if (ipv6) flags |= MHD_USE_IPv6;
    d->daemon = MHD_start_daemon(flags, 0, NULL, NULL, sam2_http_access, d,
                                 MHD_OPTION_SOCK_ADDR, address,
                                 MHD_OPTION_CONNECTION_LIMIT, connection_limit,
                                 MHD_OPTION_CONNECTION_TIMEOUT, timeout_seconds,
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
