/* http_names.c — tables of the http layer: character classes, error texts
 * and the status codes they map to, method names and reason phrases. */
#include "http_int.h"

#include <string.h>
#include <strings.h>

/* Generated from the RFC 9110 grammar; see the HTTP_C_* bits. */
const uint8_t http_ctype[256] = {
     0,  0,  0,  0,  0,  0,  0,  0,  0, 34,  0,  0,  0,  0,  0,  0,  /* 0x00 */
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  /* 0x10 */
    34, 15,  6,  7, 15, 15, 15, 15, 14, 14, 15, 15, 14, 15, 15,  6,  /* 0x20 */
    31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 14, 14,  6, 14,  6,  6,  /* 0x30 */
     6, 31, 31, 31, 31, 31, 31, 15, 15, 15, 15, 15, 15, 15, 15, 15,  /* 0x40 */
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 14,  6, 14,  7, 15,  /* 0x50 */
     7, 31, 31, 31, 31, 31, 31, 15, 15, 15, 15, 15, 15, 15, 15, 15,  /* 0x60 */
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,  6,  7,  6, 15,  0,  /* 0x70 */
     6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  /* 0x80 */
     6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  /* 0x90 */
     6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  /* 0xa0 */
     6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  /* 0xb0 */
     6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  /* 0xc0 */
     6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  /* 0xd0 */
     6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  /* 0xe0 */
     6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  /* 0xf0 */
};

static const char *const err_text[HTTP_E_COUNT_] = {
    [HTTP_E_OK] = "no error",
    [HTTP_E_BARE_CR] = "bare CR",
    [HTTP_E_BARE_LF] = "bare LF (lines must end in CRLF)",
    [HTTP_E_REQUEST_LINE] = "malformed request line",
    [HTTP_E_METHOD] = "invalid method",
    [HTTP_E_TARGET] = "invalid request target",
    [HTTP_E_VERSION] = "unsupported HTTP version",
    [HTTP_E_STATUS_LINE] = "malformed status line",
    [HTTP_E_LINE_TOO_LONG] = "request or status line too long",
    [HTTP_E_HEAD_TOO_LARGE] = "header section too large",
    [HTTP_E_TOO_MANY_HEADERS] = "too many header fields",
    [HTTP_E_HEADER_NAME] = "invalid header field name",
    [HTTP_E_HEADER_SPACE] = "whitespace before the colon of a header field",
    [HTTP_E_HEADER_VALUE] = "control character in a header field value",
    [HTTP_E_OBS_FOLD] = "obsolete line folding",
    [HTTP_E_HOST_MISSING] = "HTTP/1.1 request without Host",
    [HTTP_E_HOST_DUPLICATE] = "more than one Host field",
    [HTTP_E_HOST_INVALID] = "invalid Host value",
    [HTTP_E_CL_INVALID] = "invalid Content-Length",
    [HTTP_E_CL_MISMATCH] = "conflicting Content-Length values",
    [HTTP_E_CL_AND_TE] = "both Content-Length and Transfer-Encoding",
    [HTTP_E_TE_NOT_CHUNKED] = "Transfer-Encoding does not end in chunked",
    [HTTP_E_TE_UNSUPPORTED] = "unsupported transfer coding",
    [HTTP_E_TE_HTTP10] = "Transfer-Encoding in an HTTP/1.0 message",
    [HTTP_E_BODY_TOO_LARGE] = "body too large",
    [HTTP_E_CHUNK_SIZE] = "invalid chunk size",
    [HTTP_E_CHUNK_LINE_TOO_LONG] = "chunk-size line too long",
    [HTTP_E_CHUNK_EXT] = "invalid chunk extension",
    [HTTP_E_CHUNK_CRLF] = "chunk data not followed by CRLF",
    [HTTP_E_TRAILER] = "malformed trailer field",
    [HTTP_E_TRAILER_TOO_LARGE] = "trailer section too large",
};

const char *http_err_str(int err)
{
    if (err < 0)
        err = -err;
    if (err >= HTTP_E_COUNT_ || !err_text[err])
        return "unknown http error";
    return err_text[err];
}

int http_err_status(int err)
{
    switch (err < 0 ? -err : err) {
    case HTTP_E_LINE_TOO_LONG:
        return 414;
    case HTTP_E_HEAD_TOO_LARGE:
    case HTTP_E_TOO_MANY_HEADERS:
        return 431;
    case HTTP_E_BODY_TOO_LARGE:
        return 413;
    case HTTP_E_TE_UNSUPPORTED:
        return 501;
    case HTTP_E_VERSION:
        return 505;
    default:
        return 400;
    }
}

static const char *const method_names[] = {
    [HTTP_M_OTHER] = NULL,      [HTTP_M_GET] = "GET",         [HTTP_M_HEAD] = "HEAD",
    [HTTP_M_POST] = "POST",     [HTTP_M_PUT] = "PUT",         [HTTP_M_DELETE] = "DELETE",
    [HTTP_M_CONNECT] = "CONNECT", [HTTP_M_OPTIONS] = "OPTIONS", [HTTP_M_TRACE] = "TRACE",
    [HTTP_M_PATCH] = "PATCH",
};

const char *http_method_name(http_method m)
{
    if ((unsigned)m >= sizeof method_names / sizeof method_names[0])
        return NULL;
    return method_names[m];
}

const char *http_status_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

bool http_response_bodiless(int status, bool head_request)
{
    return head_request || (status >= 100 && status < 200) || status == 204 || status == 304;
}

const http_header *http_header_find(const http_header *h, unsigned n, const char *name)
{
    for (unsigned i = 0; i < n; i++)
        if (http_str_ieq(h[i].name, name))
            return &h[i];
    return NULL;
}

bool http_list_next_item(http_str v, size_t *pos, http_str *item)
{
    return http_list_next(v, pos, item);
}

bool http_list_has_token(http_str v, const char *token)
{
    size_t pos = 0;
    http_str item;
    while (http_list_next(v, &pos, &item))
        if (http_str_ieq(item, token))
            return true;
    return false;
}

bool http_path_is(const http_request *h, const char *path)
{
    size_t n = strlen(path), len = h->path.len;
    const char *q = memchr(h->path.p, '?', len);
    if (q)
        len = (size_t)(q - h->path.p);
    return len == n && memcmp(h->path.p, path, n) == 0;
}

void http_limits_fill(http_limits *l)
{
    if (!l->line_max)
        l->line_max = HTTP_LINE_MAX_DEFAULT;
    if (!l->head_max)
        l->head_max = HTTP_HEAD_MAX_DEFAULT;
    if (!l->headers_max)
        l->headers_max = HTTP_HEADERS_MAX_DEFAULT;
    if (!l->body_max)
        l->body_max = HTTP_BODY_MAX_DEFAULT;
    if (!l->chunk_line_max)
        l->chunk_line_max = HTTP_CHUNK_LINE_MAX_DEFAULT;
}
